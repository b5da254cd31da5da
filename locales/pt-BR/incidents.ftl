# Mudanças de incidente, avisos e consultas — português do Brasil.

format-datetime = %d/%m/%Y %H:%M %Z
format-time = %H:%M

severity-1 = SEV1 (crítico)
severity-2 = SEV2 (alto)
severity-3 = SEV3 (médio)
severity-4 = SEV4 (baixo)

status-investigating = investigando
status-identified = identificado
status-monitoring = monitorando
status-resolved = resolvido

role-commander = comandante do incidente
role-comms = responsável pela comunicação
role-scribe = escriba
role-custom = { $role }

duration-minutes = { $minutes } min
duration-hours = { $hours } h { $minutes } min
duration-days = { $days } d { $hours } h

incident-declared =
    🚨 { $id } declarado — { $severity }: { $title }
    { $details }
incident-declared-status = Estado: { $status } · declarado por { $actor } em { $time }
incident-declared-next = Próximos passos: `inc atribuir comandante @nome`, `inc ciente`, `inc atualizar …`
incident-impact = Impacto: { $impact }
incident-severity-changed = ⚠️ { $id } mudou de severidade: { $from } → { $to }, por { $actor } ({ $title })
incident-status-changed = 🔎 { $id } agora está { $to } (antes: { $from }) — por { $actor } ({ $title })
incident-role-assigned = 👤 { $id }: { $person } é { $role } (definido por { $actor })
incident-acknowledged = 👍 { $actor } está ciente do { $id } ({ $time })
incident-update = {"["}{ $time }] { $id } — atualização de { $actor } · { $severity } · { $status }
    { $details }
update-text = { $text }
update-impact = Impacto: { $impact }
update-actions = Ações: { $actions }
update-next-check = Próxima verificação: { $time } (em { $in })
update-blockers = Bloqueios: { $blockers }
incident-note-added = 📝 Nota registrada no { $id }.
incident-follow-up-added = 📌 Pendência #{ $number } registrada no { $id }: { $text }
incident-resolved =
    ✅ { $id } resolvido por { $actor } após { $duration }: { $title }
    { $details }
incident-summary = Resumo: { $summary }
incident-open-follow-ups = { $count ->
    [one] 1 pendência continua aberta: `inc mostrar { $id }`
   *[other] { $count } pendências continuam abertas: `inc mostrar { $id }`
}
incident-reopened =
    ♻️ { $id } reaberto por { $actor }: { $title }
    { $details }
incident-reason = Motivo: { $reason }

incident-list-empty = Nenhum incidente aberto. 🎉
incident-list =
    { $heading }
    { $items }
    { $footer }
incident-list-heading = { $count }{ $filter }, os mais graves primeiro{ $page }:
list-count = { $count ->
        [one] 1 incidente aberto
       *[other] { $count } incidentes abertos
    }
list-filter-all = {""}
list-filter-severity = {" "}de { $severity }
list-filter-mine = {" "}em que você tem um papel
list-filter-severity-mine = {" "}de { $severity } em que você tem um papel
list-page-only = {""}
list-page-of = {" "}(página { $page } de { $pages })
incident-list-more = …e mais { $more }. Próxima página: `{ $next }`
list-next = inc listar { $severity }{ $mine ->
        [yes] minhas{" "}
       *[no] {""}
    }pagina { $page }
incident-list-empty-filtered = Nenhum incidente aberto{ $filter }.
incident-list-all =
    { $count ->
        [one] 1 incidente aberto:
       *[other] { $count } incidentes abertos:
    }
    { $items }
more-items = …e mais { $count }
incidents-list-next = …e mais { $more }. Próxima página: runroom incidents list --page { $page }
incident-list-item = • { $id } · { $severity } · { $status } · { $title } · aberto há { $age }

show =
    { $id } — { $title }
    { $lines }
show-state = { $severity } · { $status } · declarado em { $time } por { $actor } (há { $age })
show-no-roles = Ninguém com papel definido ainda: `inc atribuir comandante @nome`
show-role = { $role }: { $person }
show-acked = { $actor } ficou ciente em { $time }
show-not-acked = Ninguém confirmou ainda: `inc ciente`
show-next-check = Próxima verificação: { $time }
show-resolved = Resolvido em { $time }
show-follow-up = Pendência #{ $number }: { $text }
show-latest = Últimos registros da linha do tempo:

timeline =
    Linha do tempo do { $id } — { $title }
    { $entries }
    { $footer }
timeline-earlier = …e mais { $count } registros anteriores. A linha do tempo completa: `runroom incidents show { $id }` no servidor.
timeline-entry = { $time } · { $actor } ({ $room }) · { $what }
event-declared = declarado { $severity }: { $title }
event-severity-changed = severidade { $from } → { $to }
event-status-changed = estado { $from } → { $to }
event-role-assigned = { $role }: { $person }
event-acknowledged = ciente
event-updated = atualização: { $summary }
event-note = nota: { $text }
event-follow-up-added = pendência #{ $number }: { $text }
event-resolved = resolvido
event-resolved-with = resolvido: { $summary }
event-reopened = reaberto
event-reopened-with = reaberto: { $reason }

lang-set = 🌐 Esta sala agora fala português ({ $lang }).

console-welcome = console do runroom — sala “{ $room }”. Digite `inc ajuda` para ver os comandos; Ctrl-D sai.
console-not-a-command = (Isso não é um comando: comece com `inc`, por exemplo `inc ajuda`.)
console-undecodable = (Essa linha não é texto UTF-8: foi ignorada. Verifique a codificação do terminal.)
console-other-room = ↪ para { $room } ({ $platform }, { $language }):

card-title = { $id } · { $severity } · { $title }
card-status = Estado
card-commander = Comandante
card-acknowledged = Ciente
card-impact = Impacto
card-next-update = Próxima atualização
card-nobody = ninguém ainda
card-person = { $person }
card-time = { $time }
button-ack = Ciente
button-update = Atualizar
button-escalate = Escalar
button-resolve = Resolver

announce-declared = ⚠️ Estamos investigando um problema que afeta { $what } ({ $id }). Novas atualizações virão por aqui.
announce-severity = ⚠️ Atualização do { $id }: o problema que afeta { $what } agora está classificado como { $severity }.
announce-update =
    🔄 Atualização do { $id } ({ $what }): seguimos trabalhando na solução.
    { $details }
announce-next = Próxima atualização por volta das { $time }.
announce-resolved = ✅ O problema que afetava { $what } ({ $id }) foi resolvido. Obrigado pela paciência.

## A message too long for its platform: the part marker, and the pointer after a trimmed card field.
fit-part = ({ $part }/{ $parts })
fit-trimmed = … (texto completo: inc mostrar { $number })
