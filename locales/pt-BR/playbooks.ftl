# Playbooks (roteiros): primeiras ações, mensagens a clientes, `inc roteiro`.
playbook-started =
    📋 { $id }: roteiro “{ $playbook }” — primeiras ações
    { $items }
    Marque com `inc marcar { $first } { $id }`; `inc marcar { $id }` mostra o checklist.
playbook-checklist =
    📋 { $id }: { $done } de { $total } feitos
    { $items }
playbook-list-none = Nenhum roteiro configurado (adicione [[playbooks]] à configuração).
playbook-list =
    📚 Roteiros — inicie um com `inc roteiro rodar ID [INC-n]` ou `inc declarar … roteiro=ID`
    { $items }
playbook-list-item = • { $playbook }: { $title } ({ $steps } primeiras ações)
playbook-show =
    📘 { $playbook }: { $title }
    { $details }
playbook-severity = Severidade: { $severity }
playbook-cadence = Atualizações a cada { $every }
playbook-escalation = Política de escalonamento: { $policy }
incident-playbook-started = 📋 { $id }: roteiro { $playbook } iniciado ({ $steps } primeiras ações)
incident-steps-done = ☑ { $id }: itens { $items } do checklist feitos
event-playbook-started = roteiro { $playbook } iniciado ({ $steps } primeiras ações)
event-steps-done = itens { $items } do checklist feitos
announce-playbook = 📣 { $text } ({ $id })
card-checklist = Checklist
card-progress = { $done }/{ $total }
usage-playbook = inc roteiro [listar] | inc roteiro mostrar ID | inc roteiro rodar ID [INC-n]
about-playbook = Os roteiros da equipe: o que fazer em cada tipo de incidente. `rodar` inicia um num incidente aberto (as primeiras ações entram no checklist).
error-missing-playbook = Qual roteiro? { $usage }
error-no-playbooks = Não existe o roteiro { $got }: nenhum está configurado (adicione [[playbooks]] à configuração).
error-unknown-playbook = Não existe o roteiro { $got }. Roteiros: { $known }.
error-playbook-running = O roteiro { $playbook } já está rodando em { $id }.
error-no-steps = { $id } não tem checklist: inicie um roteiro com `inc roteiro rodar ID { $id }`.
error-no-step = O checklist de { $id } tem { $count } itens, não { $item }.
