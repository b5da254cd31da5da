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
