# Reminders, escalations, schedules, checklists, on-call rotations and handoffs.

incident-snoozed = ⏰ { $id }: the next update reminder is put off to { $time } (in { $in }).
incident-paged =
    📟 { $id } · { $severity } · { $title } is unacknowledged: paging { $who } (step { $step } of { $of }).
    `inc ack { $id }` stops the escalation.
incident-escalated =
    📟 { $id } · { $severity } · { $title } escalated by { $actor }: paging { $who } (step { $step } of { $of }).
page-nobody = nobody (no one holds that role now)
page-direct =
    📟 You are paged for { $id } · { $severity } · { $title } (escalation step { $step } of { $of }).
    Tap Ack or reply `inc ack { $id }` to take it.
reminder-update-due =
    ⏰ {"["}{ $time }] { $id } · { $severity } · { $title }: an update is due (last one { $since } ago). { $who }, please post one:
    { $template }
reminder-no-commander = Commander (nobody assigned yet: `inc assign commander @you`)
reminder-template = `inc update { $id } impact="…" actions="…" next=15m blockers="…"`
reminder-snooze-hint = Need more time? `inc snooze { $id } 30m`
job-late = (Late: this was due at { $due }; runroom was not running then.)
event-snoozed = next update reminder put off by { $in }
event-paged = paged { $who } (escalation step { $step } of { $of })
event-escalated = escalated by hand: paged { $who } (step { $step } of { $of })
role-oncall = on call

checklist-item-open = ☐ { $number }. { $text }
checklist-item-done = ☑ { $number }. { $text } ({ $actor }, { $time })
checklist-posted =
    📋 { $title } · { $time }
    { $items }
    Tick items with `inc check 1 2 …`; `inc check` shows the list.
checklist-state =
    📋 { $title }: { $done } of { $total } done
    { $items }
schedule-posted = 🗓 { $title } · { $time }

oncall-none = No on-call rotation is configured (add [[rotations]] to the configuration).
oncall = { $rotations }
oncall-rotation =
    🧑‍🚒 { $rotation } — on call now, until { $until }:
    { $now }
    Next:
    { $next }
oncall-holder = • { $person } ({ $role })
oncall-holder-override = • { $person } ({ $role }, override until { $until }, set by { $actor })
oncall-override-set = 🔁 { $person } is on call for { $rotation } until { $until } (override set by { $actor }).
handoff-note-added = 📝 Noted for the next { $rotation } handoff.

handoff-heading = 🔄 On-call handoff · { $rotation } · { $time }
handoff-preview-heading = 🔄 Handoff preview · { $rotation } · due { $time }
handoff-summary =
    { $heading }
    From:
    { $from }
    To:
    { $to }
    Active incidents:
    { $active }
    Declared this shift:
    { $declared }
    Resolved this shift:
    { $resolved }
    Open follow-ups:
    { $follow_ups }
    Postmortems due:
    { $postmortems }
    Upcoming:
    { $upcoming }
    Notes:
    { $notes }
handoff-none = • none
handoff-incident = • { $id } · { $severity } · { $status } · { $title } (open { $age })
handoff-declared = • { $id } · { $severity } · { $title } ({ $time })
handoff-resolved = • { $id } · { $title } (took { $duration })
handoff-follow-up = • { $id } #{ $number }: { $text }
handoff-upcoming = • { $time }: { $title }
handoff-next = • { $time }: next { $rotation } handoff
handoff-note = • { $actor }: { $text } ({ $time })

usage-snooze = inc snooze [INC-n] 30m
usage-escalate = inc escalate [INC-n]
usage-check = inc check [N …] [INC-n]
usage-oncall = inc oncall | inc oncall override [rotation] @person 2h
usage-handoff = inc handoff preview [rotation] | inc handoff note [rotation] text
about-snooze = Puts off the next update reminder (it comes back after that long).
about-escalate = Pages the next escalation step now, without waiting for its timer.
about-check = Ticks items of an incident's checklist (its playbooks' first actions: INC-n, or the one open incident with one), else of the latest checklist posted to this room; alone, shows it.
about-oncall = Who is on call now and next, in this room's time zone; `override` hands the first role to someone for a while.
about-handoff = Shows the summary the next handoff will post, or leaves a note for it.

error-missing-duration = `{ $verb }` needs a duration such as 30m or 2h. Usage: { $usage }
error-bad-item = “{ $got }” is not an item number: use `inc check 2` or `inc check 1 3`.
error-unknown-subcommand = `{ $verb }` has no “{ $got }”. Usage: { $usage }
error-no-escalation-policy = { $id } is { $severity }, which has no escalation policy: nobody to page. Raise the severity, or add [[escalation]] to the configuration.
error-no-escalation-step = { $id } has already paged all { $of } escalation steps.
error-no-checklist = No checklist has been posted to this room yet.
error-no-checklist-item = The checklist has { $count } items: there is no item { $item }.
error-unknown-rotation = “{ $got }” is not a rotation. Rotations: { $rotations }.
error-which-rotation = Several rotations are configured: name one ({ $rotations }).
handoff-postmortem = • { $id } · { $title }: postmortem due { $time }
handoff-postmortem-overdue = • { $id } · { $title }: postmortem overdue since { $time }
