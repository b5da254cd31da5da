## The web dashboard (`/dashboard`).

dashboard-language = Language
dashboard-sign-in-heading = Sign in
dashboard-token-label = Access token
dashboard-sign-in-button = Sign in
dashboard-sign-in-failed = That token does not sign in to this dashboard.
dashboard-sign-in-limited = Too many failed sign-ins from here. Try again in { $seconds } s.
dashboard-sign-out = Sign out
dashboard-signed-in-as = { $role ->
    [admin] Signed in as admin
   *[viewer] Signed in as viewer
}
dashboard-refused-heading = Not allowed
dashboard-refused-body = This request was refused: it did not come from a page of this session, or your sign-in does not allow it.
dashboard-incidents-heading = Incidents
dashboard-open-heading = Open
dashboard-none-open = No open incidents.
dashboard-recent-heading = Recently resolved
dashboard-none-recent = Nothing resolved yet.
dashboard-col-incident = Incident
dashboard-col-severity = Severity
dashboard-col-status = Status
dashboard-col-title = Title
dashboard-col-commander = Commander
dashboard-col-age = Age
dashboard-page-of = Page { $page } of { $pages }
dashboard-previous = Previous
dashboard-next = Next

dashboard-timeline-heading = Timeline
dashboard-timeline-cut = The latest { $shown } of { $total } entries.
dashboard-missing-heading = No such incident
dashboard-delivery-heading = Delivery
dashboard-mode-heading = Sending mode
dashboard-mode-name = { $mode ->
    [live] Live: messages are sent
    [dry-run] Dry run: messages are recorded, not sent
   *[off] Off: messages wait, nothing is sent
}
dashboard-mode-switch = Switch to
dashboard-mode-live = Live
dashboard-mode-dry-run = Dry run
dashboard-mode-off = Off
dashboard-mode-confirm = I understand this changes what every room receives
dashboard-mode-apply = Switch
dashboard-mode-unconfirmed = Tick the confirmation to switch the sending mode.
dashboard-mode-unknown = That is not a sending mode.
dashboard-mode-set = The sending mode is now { $mode }.
dashboard-depth-heading = Messages by state
dashboard-none-queued = No messages yet.
dashboard-col-platform = Platform
dashboard-col-state = State
dashboard-col-count = Messages
dashboard-state-name = { $state ->
    [pending] waiting
    [sending] being sent
    [sent] sent
    [failed] to retry
    [dead] dead
   *[dry_run] recorded (dry run)
}
dashboard-dead-heading = Dead messages
dashboard-none-dead = No dead messages.
dashboard-col-room = Room
dashboard-col-queued = Queued
dashboard-col-message = Message
dashboard-col-reason = Why it failed
dashboard-retry = Retry
dashboard-retried = Message { $id } is queued again.
dashboard-not-dead = Message { $id } is not dead: nothing to retry.

dashboard-matching-heading = Matching
dashboard-none-matching = No incident matches.
dashboard-filter-status = Status
dashboard-filter-open = Open (any status but resolved)
dashboard-filter-all = All
dashboard-filter-any = Any
dashboard-filter-text = Title or number
dashboard-filter-apply = Filter
dashboard-col-next-update = Next update
dashboard-col-checklist = Checklist
dashboard-col-playbook = Playbook
dashboard-overdue = Overdue
dashboard-checklist-heading = Checklist
dashboard-checklist-progress = { $done } of { $total } done
dashboard-checklist-done = done by { $person } at { $time }
dashboard-follow-ups-heading = Follow-ups
dashboard-follow-up-done = done
dashboard-alerts-heading = Alerts
dashboard-col-alert = Alert
dashboard-col-source = Source
dashboard-col-changed = Changed
dashboard-alert-status = { $status ->
    [firing] Firing
   *[resolved] Resolved
}
dashboard-rooms-heading = Delivery by room
dashboard-none-sent = No messages for this incident yet.
dashboard-col-delivered = Delivered
dashboard-col-waiting = Waiting
dashboard-col-dead = Dead
dashboard-postmortem-heading = Postmortem draft
dashboard-postmortem-download = Download the draft (Markdown)
dashboard-postmortem-after = The draft is shown here once the incident is resolved.
dashboard-oncall-heading = On call
dashboard-none-rotations = No rotations are configured.
dashboard-next-handoff = Next handoff
dashboard-col-role = Role
dashboard-col-now = Now
dashboard-col-after-handoff = After the handoff
dashboard-oncall-override = override until { $until }, set by { $person }
dashboard-overrides-heading = Overrides
dashboard-none-overrides = No overrides running or to come.
dashboard-col-rotation = Rotation
dashboard-col-person = Person
dashboard-col-from = From
dashboard-col-until = Until
dashboard-col-set-by = Set by
dashboard-schedules-heading = Schedules
dashboard-none-schedules = No schedules are configured.
dashboard-col-schedule = Schedule
dashboard-col-next-run = Next run
dashboard-col-rooms = Rooms
dashboard-report-nav = Report
dashboard-report-heading = Report: the last { $days } days
dashboard-report-period = Period
dashboard-report-days = { $days } days
dashboard-report-none = No incidents were declared in this period.
dashboard-report-chart = Median time to acknowledge and to resolve, per severity
dashboard-report-ack = Time to acknowledge (median)
dashboard-report-resolve = Time to resolve (median)
dashboard-report-ack-bar = acknowledged in { $time }
dashboard-report-resolve-bar = resolved in { $time }
dashboard-report-table = Per severity: the median (p50) and the 90th percentile (p90)
dashboard-col-incidents = Incidents
dashboard-col-ack-p50 = Acknowledge p50
dashboard-col-ack-p90 = Acknowledge p90
dashboard-col-resolve-p50 = Resolve p50
dashboard-col-resolve-p90 = Resolve p90
dashboard-postmortem-long = The draft is too long to show here: download it.
