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
