# Playbooks: first actions, customer messages, `inc playbook`.
playbook-started =
    📋 { $id }: playbook “{ $playbook }” — first actions
    { $items }
    Tick them with `inc check { $first } { $id }`; `inc check { $id }` shows the checklist.
playbook-checklist =
    📋 { $id }: { $done } of { $total } done
    { $items }
playbook-list-none = No playbook is configured (add [[playbooks]] to the configuration).
playbook-list =
    📚 Playbooks — start one with `inc playbook run ID [INC-n]` or `inc declare … playbook=ID`
    { $items }
playbook-list-item = • { $playbook }: { $title } ({ $steps } first actions)
playbook-show =
    📘 { $playbook }: { $title }
    { $details }
playbook-severity = Severity: { $severity }
playbook-cadence = Updates every { $every }
playbook-escalation = Escalation policy: { $policy }
incident-playbook-started = 📋 { $id }: playbook { $playbook } started ({ $steps } first actions)
incident-steps-done = ☑ { $id }: checklist items { $items } done
event-playbook-started = playbook { $playbook } started ({ $steps } first actions)
event-steps-done = checklist items { $items } done
announce-playbook = 📣 { $text } ({ $id })
card-checklist = Checklist
card-progress = { $done }/{ $total }
usage-playbook = inc playbook [list] | inc playbook show ID | inc playbook run ID [INC-n]
about-playbook = The team's playbooks: what to do for each kind of incident. `run` starts one on an open incident (its first actions join the checklist).
error-missing-playbook = Which playbook? { $usage }
error-no-playbooks = There is no playbook { $got }: none is configured (add [[playbooks]] to the configuration).
error-unknown-playbook = There is no playbook { $got }. Playbooks: { $known }.
error-playbook-running = Playbook { $playbook } already runs on { $id }.
error-no-steps = { $id } has no checklist: start a playbook with `inc playbook run ID { $id }`.
error-no-step = { $id }'s checklist has { $count } items, not { $item }.
