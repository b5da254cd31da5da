# Recordatorios, escalamientos, agendas, checklists, guardias y traspasos de turno.

incident-snoozed = ⏰ { $id }: el próximo recordatorio de actualización queda para las { $time } (en { $in }).
incident-paged =
    📟 { $id } · { $severity } · { $title } sigue sin confirmar: avisando a { $who } (paso { $step } de { $of }).
    `inc recibido { $id }` detiene el escalamiento.
incident-escalated =
    📟 { $id } · { $severity } · { $title } escalado por { $actor }: avisando a { $who } (paso { $step } de { $of }).
page-nobody = nadie (nadie tiene ese rol ahora)
page-direct =
    📟 Te avisan por { $id } · { $severity } · { $title } (paso { $step } de { $of } del escalamiento).
    Toca Recibido o responde `inc recibido { $id }` para tomarlo.
reminder-update-due =
    ⏰ {"["}{ $time }] { $id } · { $severity } · { $title }: toca una actualización (la última fue hace { $since }). { $who }, por favor publica una:
    { $template }
reminder-no-commander = Comandante (nadie asignado aún: `inc asignar comandante @tú`)
reminder-template = `inc actualizar { $id } impacto="…" acciones="…" siguiente=15m bloqueos="…"`
reminder-snooze-hint = ¿Necesitas más tiempo? `inc posponer { $id } 30m`
job-late = (Con retraso: tocaba a las { $due }; runroom no estaba en marcha.)
event-snoozed = próximo recordatorio de actualización pospuesto { $in }
event-paged = avisó a { $who } (paso { $step } de { $of } del escalamiento)
event-escalated = escalado a mano: avisó a { $who } (paso { $step } de { $of })
role-oncall = de guardia

checklist-item-open = ☐ { $number }. { $text }
checklist-item-done = ☑ { $number }. { $text } ({ $actor }, { $time })
checklist-posted =
    📋 { $title } · { $time }
    { $items }
    Marca los ítems con `inc marcar 1 2 …`; `inc marcar` muestra la lista.
checklist-state =
    📋 { $title }: { $done } de { $total } hechos
    { $items }
schedule-posted = 🗓 { $title } · { $time }

oncall-none = No hay guardias configuradas (añade [[rotations]] a la configuración).
oncall = { $rotations }
oncall-rotation =
    🧑‍🚒 { $rotation } — de guardia ahora, hasta { $until }:
    { $now }
    Siguiente:
    { $next }
oncall-holder = • { $person } ({ $role })
oncall-holder-override = • { $person } ({ $role }, reemplazo hasta { $until }, puesto por { $actor })
oncall-override-set = 🔁 { $person } está de guardia en { $rotation } hasta { $until } (reemplazo puesto por { $actor }).
handoff-note-added = 📝 Anotado para el próximo traspaso de { $rotation }.

handoff-heading = 🔄 Traspaso de guardia · { $rotation } · { $time }
handoff-preview-heading = 🔄 Vista previa del traspaso · { $rotation } · previsto para { $time }
handoff-summary =
    { $heading }
    De:
    { $from }
    Para:
    { $to }
    Incidentes activos:
    { $active }
    Declarados en este turno:
    { $declared }
    Resueltos en este turno:
    { $resolved }
    Seguimientos abiertos:
    { $follow_ups }
    Postmortems pendientes:
    { $postmortems }
    Próximamente:
    { $upcoming }
    Notas:
    { $notes }
handoff-none = • ninguno
handoff-incident = • { $id } · { $severity } · { $status } · { $title } (abierto hace { $age })
handoff-declared = • { $id } · { $severity } · { $title } ({ $time })
handoff-resolved = • { $id } · { $title } (duró { $duration })
handoff-follow-up = • { $id } #{ $number }: { $text }
handoff-upcoming = • { $time }: { $title }
handoff-next = • { $time }: próximo traspaso de { $rotation }
handoff-note = • { $actor }: { $text } ({ $time })

usage-snooze = inc posponer [INC-n] 30m
usage-escalate = inc escalar [INC-n]
usage-check = inc marcar [N …] [INC-n]
usage-oncall = inc guardia | inc guardia reemplazar [guardia] @persona 2h
usage-handoff = inc traspaso previa [guardia] | inc traspaso nota [guardia] texto
about-snooze = Pospone el próximo recordatorio de actualización (vuelve pasado ese tiempo).
about-escalate = Avisa ya al siguiente paso del escalamiento, sin esperar su temporizador.
about-check = Marca ítems del checklist de un incidente (las primeras acciones de sus playbooks: INC-n, o el único incidente abierto que tenga uno); si no, del último checklist enviado a esta sala; solo, lo muestra.
about-oncall = Quién está de guardia ahora y en el siguiente turno, en la zona horaria de esta sala; `reemplazar` pasa el primer rol a alguien por un tiempo.
about-handoff = Muestra el resumen que publicará el próximo traspaso, o deja una nota para él.

error-missing-duration = `{ $verb }` necesita una duración como 30m o 2h. Uso: { $usage }
error-bad-item = “{ $got }” no es un número de ítem: usa `inc marcar 2` o `inc marcar 1 3`.
error-unknown-subcommand = `{ $verb }` no tiene “{ $got }”. Uso: { $usage }
error-no-escalation-policy = { $id } es { $severity }, que no tiene política de escalamiento: no hay a quién avisar. Sube la severidad o añade [[escalation]] a la configuración.
error-no-escalation-step = { $id } ya avisó a los { $of } pasos del escalamiento.
error-no-checklist = Aún no se ha enviado ningún checklist a esta sala.
error-no-checklist-item = El checklist tiene { $count } ítems: no existe el ítem { $item }.
error-unknown-rotation = “{ $got }” no es una guardia. Guardias: { $rotations }.
error-which-rotation = Hay varias guardias configuradas: indica cuál ({ $rotations }).
handoff-postmortem = • { $id } · { $title }: postmortem para el { $time }
handoff-postmortem-overdue = • { $id } · { $title }: postmortem atrasado desde el { $time }
