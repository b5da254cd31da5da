# What went wrong with a command — English.

field-message = The message
field-title = The title
field-text = The text

error-no-verb = What should I do? Try `inc help` for the list of commands.
error-unknown-verb = I don't know the command “{ $got }”. Try `inc help`.
error-unknown-verb-suggest = I don't know the command “{ $got }” — did you mean `inc { $suggestion }`?
error-unterminated-quote = A quote is not closed: put a closing " after the text.
error-control-character = The message contains control characters; please retype it as plain text.
error-too-long = { $field } is too long: { $got } characters, at most { $max }. Please shorten it.
error-missing-title = An incident needs a title, e.g. `inc declare sev2 "Checkout slow"`.
error-bad-severity = “{ $got }” is not a severity. Use sev1 (critical), sev2 (high), sev3 (medium) or sev4 (low); P1–P4 work too.
error-missing-severity = Which severity? e.g. `inc sev sev2`.
error-bad-status = “{ $got }” is not a status. Use investigating, identified, monitoring or resolved.
error-missing-status = Which status? e.g. `inc status identified`.
error-missing-role = Which role? e.g. `inc assign commander @joana`.
error-missing-person = Who gets the role? e.g. `inc assign commander @joana`.
error-missing-text = `{ $verb }` needs some text. Usage: { $usage }
error-unknown-option = `{ $verb }` has no option “{ $key }”. Usage: { $usage }
error-unexpected-argument = `{ $verb }` does not take “{ $got }”. Usage: { $usage }
error-bad-duration = “{ $got }” is not a duration: use 15m, 1h or 1h30m (up to 24h).
error-bad-language = I don't speak “{ $got }” yet: choose en, pt-BR or es.
error-missing-language = Which language? `inc lang en`, `inc lang pt-BR` or `inc lang es`.
error-no-open-incident = There is no open incident. Declare one with `inc declare sev2 "title"`.
error-ambiguous-incident = { $count } incidents are open ({ $ids }): say which one, e.g. `inc { $verb } { $example } …`. `inc list` shows them.
ids-and-more = { $more ->
        [0] { $ids }
       *[other] { $ids } and { $more } more
    }
error-no-such-page = There is no page { $page }: the { $count } matching open incidents fill { $pages ->
        [one] 1 page
       *[other] { $pages } pages
    }.
error-bad-list-filter = “{ $got }” is not a list filter. Usage: { $usage }
error-bad-page = “{ $got }” is not a page number: pages start at 1, e.g. `inc list page 2`.
error-missing-page = Which page? For example `inc list page 2`.
error-unknown-incident = There is no incident { $id }. `inc list` shows the open ones.
error-which-incident = Which incident? Usage: { $usage }
error-unknown-role = “{ $got }” is not a role here. Roles: { $roles }.
error-already-resolved = { $id } is already resolved. To work on it again: `inc reopen { $id }`.
error-not-resolved = { $id } is not resolved, so there is nothing to reopen.
error-same-severity = { $id } is already { $severity }.
error-same-status = { $id } is already { $status }.
error-already-acked = { $id } was already acknowledged by { $actor }.
error-same-role-holder = { $person } is already the { $role } of { $id }.
error-internal = Something went wrong on my side and nothing was changed. Please try again in a moment.
