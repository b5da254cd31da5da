## El panel web (`/dashboard`).

dashboard-language = Idioma
dashboard-sign-in-heading = Iniciar sesión
dashboard-token-label = Token de acceso
dashboard-sign-in-button = Entrar
dashboard-sign-in-failed = Ese token no da acceso a este panel.
dashboard-sign-in-limited = Demasiados intentos fallidos desde aquí. Vuelve a intentarlo en { $seconds } s.
dashboard-sign-out = Cerrar sesión
dashboard-signed-in-as = { $role ->
    [admin] Sesión de administrador
   *[viewer] Sesión de lectura
}
dashboard-refused-heading = No permitido
dashboard-refused-body = Se rechazó esta solicitud: no vino de una página de esta sesión, o tu acceso no la permite.
dashboard-incidents-heading = Incidentes
dashboard-open-heading = Abiertos
dashboard-none-open = No hay incidentes abiertos.
dashboard-recent-heading = Resueltos recientemente
dashboard-none-recent = Todavía no se resolvió nada.
dashboard-col-incident = Incidente
dashboard-col-severity = Severidad
dashboard-col-status = Estado
dashboard-col-title = Título
dashboard-col-commander = Comandante
dashboard-col-age = Duración
dashboard-page-of = Página { $page } de { $pages }
dashboard-previous = Anterior
dashboard-next = Siguiente

dashboard-timeline-heading = Cronología
dashboard-timeline-cut = Las { $shown } entradas más recientes de { $total }.
dashboard-missing-heading = No existe ese incidente
dashboard-delivery-heading = Entrega
dashboard-mode-heading = Modo de envío
dashboard-mode-name = { $mode ->
    [live] Activo: los mensajes se envían
    [dry-run] Simulación: los mensajes se registran, no se envían
   *[off] Apagado: los mensajes esperan, no se envía nada
}
dashboard-mode-switch = Cambiar a
dashboard-mode-live = Activo
dashboard-mode-dry-run = Simulación
dashboard-mode-off = Apagado
dashboard-mode-confirm = Entiendo que esto cambia lo que reciben todas las salas
dashboard-mode-apply = Cambiar
dashboard-mode-unconfirmed = Marca la confirmación para cambiar el modo de envío.
dashboard-mode-unknown = Ese no es un modo de envío.
dashboard-mode-set = El modo de envío ahora es { $mode }.
dashboard-depth-heading = Mensajes por estado
dashboard-none-queued = Todavía no hay mensajes.
dashboard-col-platform = Plataforma
dashboard-col-state = Estado
dashboard-col-count = Mensajes
dashboard-state-name = { $state ->
    [pending] en espera
    [sending] enviándose
    [sent] enviado
    [failed] por reintentar
    [dead] muerto
   *[dry_run] registrado (simulación)
}
dashboard-dead-heading = Mensajes muertos
dashboard-none-dead = No hay mensajes muertos.
dashboard-col-room = Sala
dashboard-col-queued = En cola desde
dashboard-col-message = Mensaje
dashboard-col-reason = Por qué falló
dashboard-retry = Reintentar
dashboard-retried = El mensaje { $id } volvió a la cola.
dashboard-not-dead = El mensaje { $id } no está muerto: no hay nada que reintentar.
