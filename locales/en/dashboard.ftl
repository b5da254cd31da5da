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
