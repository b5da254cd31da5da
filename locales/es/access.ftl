# Quién puede hacer qué ([access]), y chats que no son salas vinculadas.

access-member = miembro
access-responder = respondedor
access-admin = administrador
error-forbidden = No puedes usar `{ $verb }` aquí: requiere un { $role }. Pídeselo a un respondedor, o a un administrador que te añada al `[access]` de runroom.
error-unlinked-room = Este chat no está vinculado a runroom, así que `{ $verb }` no hace nada aquí: usa la sala de guerra. Aquí puedes declarar un incidente y consultar (`listar`, `mostrar`, `ayuda`).
unlinked-declared = { $id } ({ $severity }) declarado: { $title }. Las salas de guerra tienen el incidente y su tarjeta; síguelo allí.
incident-refused = A { $actor } se le negó `{ $verb }` en { $id }.
event-refused = `{ $verb }` denegado: requiere un { $role }
error-foreign-workspace = runroom solo acepta comandos de su propio espacio de trabajo de Slack: no se hizo nada.
