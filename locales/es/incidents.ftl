# Cambios de incidente, avisos y consultas — español.

format-datetime = %d/%m/%Y %H:%M %Z
format-time = %H:%M

severity-1 = SEV1 (crítico)
severity-2 = SEV2 (alto)
severity-3 = SEV3 (medio)
severity-4 = SEV4 (bajo)

status-investigating = investigando
status-identified = identificado
status-monitoring = monitoreando
status-resolved = resuelto

role-commander = comandante del incidente
role-comms = responsable de comunicaciones
role-scribe = escriba
role-custom = { $role }

duration-minutes = { $minutes } min
duration-hours = { $hours } h { $minutes } min
duration-days = { $days } d { $hours } h

incident-declared =
    🚨 { $id } declarado — { $severity }: { $title }
    { $details }
incident-declared-status = Estado: { $status } · declarado por { $actor } el { $time }
incident-declared-next = Siguientes pasos: `inc asignar comandante @nombre`, `inc entendido`, `inc actualizar …`
incident-impact = Impacto: { $impact }
incident-severity-changed = ⚠️ { $id } cambió de severidad: { $from } → { $to }, por { $actor } ({ $title })
incident-status-changed = 🔎 { $id } ahora está { $to } (antes: { $from }) — por { $actor } ({ $title })
incident-role-assigned = 👤 { $id }: { $person } es { $role } (asignado por { $actor })
incident-acknowledged = 👍 { $actor } tomó el { $id } ({ $time })
incident-update = {"["}{ $time }] { $id } — actualización de { $actor } · { $severity } · { $status }
    { $details }
update-text = { $text }
update-impact = Impacto: { $impact }
update-actions = Acciones: { $actions }
update-next-check = Próxima revisión: { $time } (en { $in })
update-blockers = Bloqueos: { $blockers }
incident-note-added = 📝 Nota agregada al { $id }.
incident-follow-up-added = 📌 Seguimiento #{ $number } agregado al { $id }: { $text }
incident-resolved =
    ✅ { $id } resuelto por { $actor } después de { $duration }: { $title }
    { $details }
incident-summary = Resumen: { $summary }
incident-open-follow-ups = { $count ->
    [one] Queda 1 seguimiento abierto: `inc mostrar { $id }`
   *[other] Quedan { $count } seguimientos abiertos: `inc mostrar { $id }`
}
incident-reopened =
    ♻️ { $id } reabierto por { $actor }: { $title }
    { $details }
incident-reason = Motivo: { $reason }

incident-list-empty = No hay incidentes abiertos. 🎉
incident-list =
    { $heading }
    { $items }
    { $footer }
incident-list-heading = { $count }{ $filter }, los más graves primero{ $page }:
list-count = { $count ->
        [one] 1 incidente abierto
       *[other] { $count } incidentes abiertos
    }
list-filter-all = {""}
list-filter-severity = {" "}de { $severity }
list-filter-mine = {" "}en los que tienes un rol
list-filter-severity-mine = {" "}de { $severity } en los que tienes un rol
list-page-only = {""}
list-page-of = {" "}(página { $page } de { $pages })
incident-list-more = …y { $more } más. Página siguiente: `{ $next }`
list-next = inc listar { $severity }{ $mine ->
        [yes] mios{" "}
       *[no] {""}
    }pagina { $page }
incident-list-empty-filtered = No hay incidentes abiertos{ $filter }.
incident-list-all =
    { $count ->
        [one] 1 incidente abierto:
       *[other] { $count } incidentes abiertos:
    }
    { $items }
more-items = …y { $count } más
incidents-list-next = …y { $more } más. Página siguiente: runroom incidents list --page { $page }
incident-list-item = • { $id } · { $severity } · { $status } · { $title } · abierto hace { $age }

show =
    { $id } — { $title }
    { $lines }
show-state = { $severity } · { $status } · declarado el { $time } por { $actor } (hace { $age })
show-no-roles = Todavía nadie tiene un rol: `inc asignar comandante @nombre`
show-role = { $role }: { $person }
show-acked = { $actor } lo tomó el { $time }
show-not-acked = Nadie lo ha tomado todavía: `inc entendido`
show-next-check = Próxima revisión: { $time }
show-resolved = Resuelto el { $time }
show-follow-up = Seguimiento #{ $number }: { $text }
show-latest = Lo último en la cronología:

timeline =
    Cronología del { $id } — { $title }
    { $entries }
    { $footer }
timeline-earlier = …y { $count } entradas anteriores. La cronología completa: `runroom incidents show { $id }` en el servidor.
timeline-entry = { $time } · { $actor } ({ $room }) · { $what }
event-declared = declarado { $severity }: { $title }
event-severity-changed = severidad { $from } → { $to }
event-status-changed = estado { $from } → { $to }
event-role-assigned = { $role }: { $person }
event-acknowledged = tomado
event-updated = actualización: { $summary }
event-note = nota: { $text }
event-follow-up-added = seguimiento #{ $number }: { $text }
event-resolved = resuelto
event-resolved-with = resuelto: { $summary }
event-reopened = reabierto
event-reopened-with = reabierto: { $reason }

lang-set = 🌐 Esta sala ahora habla español ({ $lang }).

console-welcome = consola de runroom — sala “{ $room }”. Escribe `inc ayuda` para ver los comandos; Ctrl-D para salir.
console-not-a-command = (Eso no es un comando: empieza con `inc`, por ejemplo `inc ayuda`.)
console-undecodable = (Esa línea no es texto UTF-8: se omitió. Revisa la codificación de la terminal.)
console-other-room = ↪ para { $room } ({ $platform }, { $language }):

card-title = { $id } · { $severity } · { $title }
card-status = Estado
card-commander = Comandante
card-acknowledged = Tomado por
card-impact = Impacto
card-next-update = Próxima actualización
card-nobody = nadie todavía
card-person = { $person }
card-time = { $time }
button-ack = Tomar
button-update = Actualizar
button-escalate = Escalar
button-resolve = Resolver

announce-declared = ⚠️ Estamos investigando un problema que afecta { $what } ({ $id }). Publicaremos novedades aquí.
announce-severity = ⚠️ Novedades del { $id }: el problema que afecta { $what } ahora se clasifica como { $severity }.
announce-update =
    🔄 Novedades del { $id } ({ $what }): seguimos trabajando en la solución.
    { $details }
announce-next = Próxima actualización alrededor de las { $time }.
announce-resolved = ✅ El problema que afectaba { $what } ({ $id }) está resuelto. Gracias por su paciencia.

## A message too long for its platform: the part marker, and the pointer after a trimmed card field.
fit-part = ({ $part }/{ $parts })
fit-trimmed = … (texto completo: inc ver { $number })
