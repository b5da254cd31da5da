# Lembretes, escalonamentos, agendas, checklists, plantões e passagens de turno.

incident-snoozed = ⏰ { $id }: o próximo lembrete de atualização fica para { $time } (daqui a { $in }).
incident-paged =
    📟 { $id } · { $severity } · { $title } está sem confirmação: acionando { $who } (etapa { $step } de { $of }).
    `inc ciente { $id }` interrompe o escalonamento.
incident-escalated =
    📟 { $id } · { $severity } · { $title } escalonado por { $actor }: acionando { $who } (etapa { $step } de { $of }).
page-nobody = ninguém (ninguém está nesse papel agora)
page-direct =
    📟 Você foi acionado para { $id } · { $severity } · { $title } (etapa { $step } de { $of } do escalonamento).
    Toque em Ciente ou responda `inc ciente { $id }` para assumir.
reminder-update-due =
    ⏰ {"["}{ $time }] { $id } · { $severity } · { $title }: está na hora de uma atualização (a última foi há { $since }). { $who }, por favor publique:
    { $template }
reminder-no-commander = Comandante (ninguém atribuído ainda: `inc atribuir comandante @você`)
reminder-template = `inc atualizar { $id } impacto="…" ações="…" próxima=15m bloqueios="…"`
reminder-snooze-hint = Precisa de mais tempo? `inc adiar { $id } 30m`
job-late = (Atrasado: era para { $due }; o runroom não estava rodando.)
event-snoozed = próximo lembrete de atualização adiado em { $in }
event-paged = acionou { $who } (etapa { $step } de { $of } do escalonamento)
event-escalated = escalonado manualmente: acionou { $who } (etapa { $step } de { $of })
role-oncall = de plantão

checklist-item-open = ☐ { $number }. { $text }
checklist-item-done = ☑ { $number }. { $text } ({ $actor }, { $time })
checklist-posted =
    📋 { $title } · { $time }
    { $items }
    Marque os itens com `inc marcar 1 2 …`; `inc marcar` mostra a lista.
checklist-state =
    📋 { $title }: { $done } de { $total } feitos
    { $items }
schedule-posted = 🗓 { $title } · { $time }

oncall-none = Nenhum plantão configurado (adicione [[rotations]] à configuração).
oncall = { $rotations }
oncall-rotation =
    🧑‍🚒 { $rotation } — de plantão agora, até { $until }:
    { $now }
    Próximo:
    { $next }
oncall-holder = • { $person } ({ $role })
oncall-holder-override = • { $person } ({ $role }, substituição até { $until }, definida por { $actor })
oncall-override-set = 🔁 { $person } está de plantão em { $rotation } até { $until } (substituição definida por { $actor }).
handoff-note-added = 📝 Anotado para a próxima passagem de turno de { $rotation }.

handoff-heading = 🔄 Passagem de plantão · { $rotation } · { $time }
handoff-preview-heading = 🔄 Prévia da passagem · { $rotation } · prevista para { $time }
handoff-summary =
    { $heading }
    De:
    { $from }
    Para:
    { $to }
    Incidentes ativos:
    { $active }
    Declarados neste turno:
    { $declared }
    Resolvidos neste turno:
    { $resolved }
    Pendências abertas:
    { $follow_ups }
    Pós-incidentes pendentes:
    { $postmortems }
    Próximos:
    { $upcoming }
    Notas:
    { $notes }
handoff-none = • nenhum
handoff-incident = • { $id } · { $severity } · { $status } · { $title } (aberto há { $age })
handoff-declared = • { $id } · { $severity } · { $title } ({ $time })
handoff-resolved = • { $id } · { $title } (levou { $duration })
handoff-follow-up = • { $id } #{ $number }: { $text }
handoff-upcoming = • { $time }: { $title }
handoff-next = • { $time }: próxima passagem de { $rotation }
handoff-note = • { $actor }: { $text } ({ $time })

usage-snooze = inc adiar [INC-n] 30m
usage-escalate = inc escalar [INC-n]
usage-check = inc marcar [N …] [INC-n]
usage-oncall = inc plantao | inc plantao substituir [plantão] @pessoa 2h
usage-handoff = inc passagem previa [plantão] | inc passagem nota [plantão] texto
about-snooze = Adia o próximo lembrete de atualização (ele volta depois desse tempo).
about-escalate = Aciona agora a próxima etapa do escalonamento, sem esperar o tempo dela.
about-check = Marca itens do checklist de um incidente (as primeiras ações dos seus playbooks: INC-n, ou o único incidente aberto que tenha um); senão, do último checklist enviado a esta sala; sozinho, mostra o checklist.
about-oncall = Quem está de plantão agora e no próximo turno, no fuso desta sala; `substituir` passa o primeiro papel a alguém por um tempo.
about-handoff = Mostra o resumo que a próxima passagem vai publicar, ou deixa uma nota para ela.

error-missing-duration = `{ $verb }` precisa de uma duração como 30m ou 2h. Uso: { $usage }
error-bad-item = “{ $got }” não é um número de item: use `inc marcar 2` ou `inc marcar 1 3`.
error-unknown-subcommand = `{ $verb }` não tem “{ $got }”. Uso: { $usage }
error-no-escalation-policy = { $id } é { $severity }, que não tem política de escalonamento: não há quem acionar. Aumente a severidade ou adicione [[escalation]] à configuração.
error-no-escalation-step = { $id } já acionou todas as { $of } etapas do escalonamento.
error-no-checklist = Nenhum checklist foi enviado a esta sala ainda.
error-no-checklist-item = O checklist tem { $count } itens: não existe o item { $item }.
error-unknown-rotation = “{ $got }” não é um plantão. Plantões: { $rotations }.
error-which-rotation = Há vários plantões configurados: diga qual ({ $rotations }).
handoff-postmortem = • { $id } · { $title }: pós-incidente para { $time }
handoff-postmortem-overdue = • { $id } · { $title }: pós-incidente atrasado desde { $time }
