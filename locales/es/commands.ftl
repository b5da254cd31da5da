# Ayuda de los comandos — español.

help =
    Comandos de runroom (también `/inc …` o `!inc …`; las palabras en inglés y portugués también funcionan):
    { $verbs }
    El número del incidente (INC-3) es opcional cuando hay un solo incidente abierto. `inc ayuda <comando>` explica uno.
help-verb =
    { $usage }
    { $about }

usage-declare = inc declarar [sev1–sev4] "título" [impacto="…"]
usage-sev = inc severidad [INC-n] sev1–sev4
usage-status = inc estado [INC-n] investigando|identificado|monitoreando|resuelto
usage-assign = inc asignar [INC-n] comandante|comunicaciones|escriba @persona
usage-ack = inc entendido [INC-n]
usage-update = inc actualizar [INC-n] impacto="…" acciones="…" siguiente=15m bloqueos="…" (o texto libre)
usage-note = inc nota [INC-n] texto
usage-follow-up = inc seguimiento [INC-n] texto
usage-resolve = inc resolver [INC-n] [resumen]
usage-reopen = inc reabrir INC-n [motivo]
usage-list = inc listar [sev1…sev4] [mios] [pagina N]
usage-show = inc mostrar [INC-n]
usage-timeline = inc historial [INC-n]
usage-help = inc ayuda [comando]
usage-lang = inc idioma en|pt-BR|es

about-declare = Abre un incidente nuevo y avisa a todas las salas vinculadas. La severidad por defecto es SEV3; sev1, P1, crítico/alto/medio/bajo también sirven.
about-sev = Cambia la severidad; todas las salas vinculadas se enteran.
about-status = Mueve el incidente entre investigando, identificado y monitoreando; `resuelto` lo resuelve.
about-assign = Le da un rol a alguien: comandante, comunicaciones o escriba, además de los roles que configuró el equipo.
about-ack = Confirma que alguien ya está atendiendo el incidente.
about-update = Publica una actualización estructurada — impacto, acciones, próxima revisión, bloqueos — en todas las salas vinculadas.
about-note = Agrega una nota a la cronología (solo se avisa a esta sala).
about-follow-up = Registra una acción de seguimiento para después del incidente.
about-resolve = Resuelve el incidente, con un resumen opcional.
about-reopen = Reabre un incidente resuelto.
about-list = Lista los incidentes abiertos, 20 por página, los más graves y luego los más antiguos primero. `sev1` deja una severidad, `mios` los incidentes en los que tienes un rol, `pagina 2` muestra la página siguiente; se combinan (`inc listar sev2 mios pagina 3`).
about-show = Muestra un incidente: estado, roles, seguimientos y lo último de su cronología.
about-timeline = Muestra lo último de la cronología del incidente (la completa: `runroom incidents show INC-n` en el servidor).
about-help = Lista los comandos o explica uno.
about-lang = Define el idioma en que se responde en esta sala.
telegram-menu-inc = Incidentes: declarar, entendido, actualizar, resolver, listar… (/inc ayuda)
telegram-start-linked = ¡Hola, @{ $username }! runroom te avisará aquí cuando una escalación te nombre: conserva este chat. Cada aviso trae un botón Tomar.
telegram-start-no-username = ¡Hola! Tu id de usuario de Telegram es { $id }. Para recibir avisos aquí, define un nombre de usuario en Telegram o añade telegram = "{ $id }" a tu entrada en [[people]] de runroom.
