# Quem pode fazer o quê ([access]), e conversas que não são salas vinculadas.

access-member = membro
access-responder = respondente
access-admin = administrador
error-forbidden = Você não pode usar `{ $verb }` aqui: isso exige um { $role }. Peça a um respondente, ou a um administrador que inclua você no `[access]` do runroom.
error-unlinked-room = Esta conversa não está vinculada ao runroom, então `{ $verb }` não faz nada aqui: use a sala de guerra. Aqui você pode declarar um incidente e consultar (`listar`, `mostrar`, `ajuda`).
unlinked-declared = { $id } ({ $severity }) declarado: { $title }. As salas de guerra têm o incidente e o cartão; acompanhe por lá.
incident-refused = { $actor } não teve permissão para `{ $verb }` no { $id }.
event-refused = `{ $verb }` recusado: exige um { $role }
error-foreign-workspace = O runroom só aceita comandos do próprio workspace do Slack: nada foi feito.
