# Incident changes, broadcasts and queries — English (the fallback and master list of ids).

format-datetime = %Y-%m-%d %H:%M %Z
format-time = %H:%M

severity-1 = SEV1 (critical)
severity-2 = SEV2 (high)
severity-3 = SEV3 (medium)
severity-4 = SEV4 (low)

status-investigating = investigating
status-identified = identified
status-monitoring = monitoring
status-resolved = resolved

role-commander = incident commander
role-comms = comms lead
role-scribe = scribe
role-custom = { $role }

duration-minutes = { $minutes } min
duration-hours = { $hours } h { $minutes } min
duration-days = { $days } d { $hours } h

incident-declared =
    🚨 { $id } declared — { $severity }: { $title }
    { $details }
incident-declared-status = Status: { $status } · declared by { $actor } at { $time }
incident-declared-next = Next: `inc assign commander @name`, `inc ack`, `inc update …`
incident-impact = Impact: { $impact }
incident-severity-changed = ⚠️ { $id } severity { $from } → { $to } by { $actor } ({ $title })
incident-status-changed = 🔎 { $id } is now { $to } (was { $from }) — by { $actor } ({ $title })
incident-role-assigned = 👤 { $id }: { $person } is the { $role } (set by { $actor })
incident-acknowledged = 👍 { $id } acknowledged by { $actor } at { $time }
incident-update = {"["}{ $time }] { $id } — update from { $actor } · { $severity } · { $status }
    { $details }
update-text = { $text }
update-impact = Impact: { $impact }
update-actions = Actions: { $actions }
update-next-check = Next check: { $time } (in { $in })
update-blockers = Blockers: { $blockers }
incident-note-added = 📝 Note added to { $id }.
incident-follow-up-added = 📌 Follow-up #{ $number } added to { $id }: { $text }
incident-resolved =
    ✅ { $id } resolved by { $actor } after { $duration }: { $title }
    { $details }
incident-summary = Summary: { $summary }
incident-open-follow-ups = { $count ->
    [one] 1 follow-up is still open: `inc show { $id }`
   *[other] { $count } follow-ups are still open: `inc show { $id }`
}
incident-reopened =
    ♻️ { $id } reopened by { $actor }: { $title }
    { $details }
incident-reason = Reason: { $reason }

incident-list-empty = No open incidents. 🎉
incident-list =
    { $heading }
    { $items }
    { $footer }
incident-list-heading = { $count }{ $filter }, most severe first{ $page }:
list-count = { $count ->
        [one] 1 open incident
       *[other] { $count } open incidents
    }
list-filter-all = {""}
list-filter-severity = {" "}at { $severity }
list-filter-mine = {" "}where you hold a role
list-filter-severity-mine = {" "}at { $severity } where you hold a role
list-page-only = {""}
list-page-of = {" "}(page { $page } of { $pages })
incident-list-more = …and { $more } more. Next page: `{ $next }`
list-next = inc list { $severity }{ $mine ->
        [yes] mine{" "}
       *[no] {""}
    }page { $page }
incident-list-empty-filtered = No open incidents{ $filter }.
incident-list-all =
    { $count ->
        [one] 1 open incident:
       *[other] { $count } open incidents:
    }
    { $items }
more-items = …and { $count } more
incidents-list-next = …and { $more } more. Next page: runroom incidents list --page { $page }
incident-list-item = • { $id } · { $severity } · { $status } · { $title } · open for { $age }

show =
    { $id } — { $title }
    { $lines }
show-state = { $severity } · { $status } · declared { $time } by { $actor } ({ $age } ago)
show-no-roles = No roles assigned yet: `inc assign commander @name`
show-role = { $role }: { $person }
show-acked = Acknowledged by { $actor } at { $time }
show-not-acked = Not acknowledged yet: `inc ack`
show-next-check = Next check due: { $time }
show-resolved = Resolved at { $time }
show-follow-up = Follow-up #{ $number }: { $text }
show-latest = Latest on the timeline:

timeline =
    Timeline of { $id } — { $title }
    { $entries }
    { $footer }
timeline-earlier = …and { $count } earlier entries. The whole timeline: `runroom incidents show { $id }` on the server.
timeline-entry = { $time } · { $actor } ({ $room }) · { $what }
event-declared = declared { $severity }: { $title }
event-severity-changed = severity { $from } → { $to }
event-status-changed = status { $from } → { $to }
event-role-assigned = { $role }: { $person }
event-acknowledged = acknowledged
event-updated = update: { $summary }
event-note = note: { $text }
event-follow-up-added = follow-up #{ $number }: { $text }
event-resolved = resolved
event-resolved-with = resolved: { $summary }
event-reopened = reopened
event-reopened-with = reopened: { $reason }

lang-set = 🌐 This room now speaks English ({ $lang }).

console-welcome = runroom console — room “{ $room }”. Type `inc help` for the commands; Ctrl-D quits.
console-not-a-command = (Not a command: start with `inc`, e.g. `inc help`.)
console-undecodable = (That line is not UTF-8 text: it was skipped. Check the terminal's encoding.)
console-other-room = ↪ to { $room } ({ $platform }, { $language }):

card-title = { $id } · { $severity } · { $title }
card-status = Status
card-commander = Commander
card-acknowledged = Acknowledged by
card-impact = Impact
card-next-update = Next update due
card-nobody = nobody yet
card-person = { $person }
card-time = { $time }
button-ack = Ack
button-update = Update
button-escalate = Escalate
button-resolve = Resolve

announce-declared = ⚠️ We are investigating a problem affecting { $what } ({ $id }). Updates will follow here.
announce-severity = ⚠️ Update on { $id }: the problem affecting { $what } is now rated { $severity }.
announce-update =
    🔄 Update on { $id } ({ $what }): we are working on it.
    { $details }
announce-next = Next update around { $time }.
announce-resolved = ✅ The problem affecting { $what } ({ $id }) is resolved. Thank you for your patience.

## A message too long for its platform: the part marker, and the pointer after a trimmed card field.
fit-part = ({ $part }/{ $parts })
fit-trimmed = … (full text: inc show { $number })
