# Who may do what ([access]), and chats that are no linked room.

access-member = member
access-responder = responder
access-admin = admin
error-forbidden = You can't `{ $verb }` this: it takes a { $role }. Ask a responder, or an admin to add you to runroom's `[access]`.
error-unlinked-room = This chat isn't linked to runroom, so `{ $verb }` does nothing here: use the war room. Here you can declare an incident and ask (`list`, `show`, `help`).
unlinked-declared = { $id } ({ $severity }) declared: { $title }. The war rooms have it and its card; follow it there.
incident-refused = { $actor } was refused `{ $verb }` on { $id }.
event-refused = `{ $verb }` refused: it takes a { $role }
error-foreign-workspace = runroom takes commands only from its own Slack workspace: nothing was done.
