# Command help — English.

help =
    runroom commands (also `/inc …` or `!inc …`; Portuguese and Spanish words work too):
    { $verbs }
    An incident id (INC-3) is optional when exactly one incident is open. `inc help <command>` explains one.
help-verb =
    { $usage }
    { $about }

usage-declare = inc declare [sev1–sev4] "title" [impact="…"]
usage-sev = inc sev [INC-n] sev1–sev4
usage-status = inc status [INC-n] investigating|identified|monitoring|resolved
usage-assign = inc assign [INC-n] commander|comms|scribe @person
usage-ack = inc ack [INC-n]
usage-update = inc update [INC-n] impact="…" actions="…" next=15m blockers="…" (or free text)
usage-note = inc note [INC-n] text
usage-follow-up = inc follow-up [INC-n] text
usage-resolve = inc resolve [INC-n] [summary]
usage-reopen = inc reopen INC-n [reason]
usage-list = inc list [sev1…sev4] [mine] [page N]
usage-show = inc show [INC-n]
usage-timeline = inc timeline [INC-n]
usage-help = inc help [command]
usage-lang = inc lang en|pt-BR|es

about-declare = Opens a new incident and tells every linked room. Severity defaults to SEV3; sev1, P1, critical/high/medium/low all work.
about-sev = Changes the severity; every linked room hears about it.
about-status = Moves the incident between investigating, identified and monitoring; `resolved` resolves it.
about-assign = Gives someone a role: commander (IC), comms or scribe, plus any role your team configured.
about-ack = Acknowledges the incident: someone is on it.
about-update = Posts a structured update — impact, actions, next check, blockers — to every linked room.
about-note = Adds a note to the timeline (only this room is told).
about-follow-up = Records a follow-up action for after the incident.
about-resolve = Resolves the incident, with an optional summary.
about-reopen = Reopens a resolved incident.
about-list = Lists the open incidents, 20 a page, most severe first then oldest. `sev1` keeps one severity, `mine` the incidents where you hold a role, `page 2` shows the next page; they combine (`inc list sev2 mine page 3`).
about-show = Shows one incident: state, roles, follow-ups and its latest timeline.
about-timeline = Shows the incident's latest timeline entries (the whole timeline: `runroom incidents show INC-n` on the server).
about-help = Lists the commands, or explains one.
about-lang = Sets the language this room is answered in.
telegram-menu-inc = Incidents: declare, ack, update, resolve, list… (/inc help)
telegram-start-linked = Hello @{ $username }! runroom will page you here when an escalation names you: keep this chat. Each page has an Ack button.
telegram-start-no-username = Hello! Your Telegram user id is { $id }. To get pages here, set a Telegram username or add telegram = "{ $id }" to your entry in runroom's [[people]].
