# Playbooks (guiones): primeras acciones, mensajes a clientes, `inc guion`.
playbook-started =
    📋 { $id }: guion “{ $playbook }” — primeras acciones
    { $items }
    Márcalas con `inc marcar { $first } { $id }`; `inc marcar { $id }` muestra el checklist.
playbook-checklist =
    📋 { $id }: { $done } de { $total } hechos
    { $items }
playbook-list-none = No hay guiones configurados (agrega [[playbooks]] a la configuración).
playbook-list =
    📚 Guiones — inicia uno con `inc guion ejecutar ID [INC-n]` o `inc declarar … guion=ID`
    { $items }
playbook-list-item = • { $playbook }: { $title } ({ $steps } primeras acciones)
playbook-show =
    📘 { $playbook }: { $title }
    { $details }
playbook-severity = Severidad: { $severity }
playbook-cadence = Actualizaciones cada { $every }
playbook-escalation = Política de escalamiento: { $policy }
incident-playbook-started = 📋 { $id }: guion { $playbook } iniciado ({ $steps } primeras acciones)
incident-steps-done = ☑ { $id }: ítems { $items } del checklist hechos
event-playbook-started = guion { $playbook } iniciado ({ $steps } primeras acciones)
event-steps-done = ítems { $items } del checklist hechos
announce-playbook = 📣 { $text } ({ $id })
card-checklist = Checklist
card-progress = { $done }/{ $total }
usage-playbook = inc guion [listar] | inc guion mostrar ID | inc guion ejecutar ID [INC-n]
about-playbook = Los guiones del equipo: qué hacer en cada tipo de incidente. `ejecutar` inicia uno en un incidente abierto (sus primeras acciones entran en el checklist).
error-missing-playbook = ¿Qué guion? { $usage }
error-no-playbooks = No existe el guion { $got }: no hay ninguno configurado (agrega [[playbooks]] a la configuración).
error-unknown-playbook = No existe el guion { $got }. Guiones: { $known }.
error-playbook-running = El guion { $playbook } ya se ejecuta en { $id }.
error-no-steps = { $id } no tiene checklist: inicia un guion con `inc guion ejecutar ID { $id }`.
error-no-step = El checklist de { $id } tiene { $count } ítems, no { $item }.
