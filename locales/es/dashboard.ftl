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

dashboard-matching-heading = Coincidencias
dashboard-none-matching = Ningún incidente coincide.
dashboard-filter-status = Estado
dashboard-filter-open = Abiertos (cualquier estado salvo resuelto)
dashboard-filter-all = Todos
dashboard-filter-any = Cualquiera
dashboard-filter-text = Título o número
dashboard-filter-apply = Filtrar
dashboard-col-next-update = Próxima actualización
dashboard-col-checklist = Checklist
dashboard-col-playbook = Guion
dashboard-overdue = Atrasada
dashboard-checklist-heading = Checklist
dashboard-checklist-progress = { $done } de { $total } hechos
dashboard-checklist-done = hecho por { $person } a las { $time }
dashboard-follow-ups-heading = Seguimientos
dashboard-follow-up-done = hecho
dashboard-alerts-heading = Alertas
dashboard-col-alert = Alerta
dashboard-col-source = Origen
dashboard-col-changed = Cambió
dashboard-alert-status = { $status ->
    [firing] Disparando
   *[resolved] Resuelta
}
dashboard-rooms-heading = Entrega por sala
dashboard-none-sent = Aún no hay mensajes de este incidente.
dashboard-col-delivered = Entregados
dashboard-col-waiting = En espera
dashboard-col-dead = Muertos
dashboard-postmortem-heading = Borrador del postmortem
dashboard-postmortem-download = Descargar el borrador (Markdown)
dashboard-postmortem-after = El borrador aparece aquí cuando el incidente se resuelva.
dashboard-oncall-heading = Guardia
dashboard-none-rotations = No hay rotaciones configuradas.
dashboard-next-handoff = Próximo traspaso
dashboard-col-role = Rol
dashboard-col-now = Ahora
dashboard-col-after-handoff = Tras el traspaso
dashboard-oncall-override = reemplazo hasta { $until }, puesto por { $person }
dashboard-overrides-heading = Reemplazos
dashboard-none-overrides = No hay reemplazos en curso ni previstos.
dashboard-col-rotation = Rotación
dashboard-col-person = Persona
dashboard-col-from = Desde
dashboard-col-until = Hasta
dashboard-col-set-by = Puesto por
dashboard-schedules-heading = Programaciones
dashboard-none-schedules = No hay programaciones configuradas.
dashboard-col-schedule = Programación
dashboard-col-next-run = Próxima vez
dashboard-col-rooms = Salas
dashboard-report-nav = Informe
dashboard-report-heading = Informe: los últimos { $days } días
dashboard-report-period = Periodo
dashboard-report-days = { $days } días
dashboard-report-none = No se declararon incidentes en este periodo.
dashboard-report-chart = Tiempo mediano hasta el reconocimiento y hasta la resolución, por severidad
dashboard-report-ack = Tiempo hasta el reconocimiento (mediana)
dashboard-report-resolve = Tiempo hasta la resolución (mediana)
dashboard-report-ack-bar = reconocido en { $time }
dashboard-report-resolve-bar = resuelto en { $time }
dashboard-report-table = Por severidad: la mediana (p50) y el percentil 90 (p90)
dashboard-col-incidents = Incidentes
dashboard-col-ack-p50 = Reconocimiento p50
dashboard-col-ack-p90 = Reconocimiento p90
dashboard-col-resolve-p50 = Resolución p50
dashboard-col-resolve-p90 = Resolución p90
dashboard-postmortem-long = El borrador es demasiado largo para mostrarlo aquí: descárgalo.
