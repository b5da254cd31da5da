## O painel web (`/dashboard`).

dashboard-language = Idioma
dashboard-sign-in-heading = Entrar
dashboard-token-label = Token de acesso
dashboard-sign-in-button = Entrar
dashboard-sign-in-failed = Esse token não dá acesso a este painel.
dashboard-sign-in-limited = Tentativas de acesso demais a partir daqui. Tente de novo em { $seconds } s.
dashboard-sign-out = Sair
dashboard-signed-in-as = { $role ->
    [admin] Conectado como administrador
   *[viewer] Conectado como leitor
}
dashboard-refused-heading = Não permitido
dashboard-refused-body = Este pedido foi recusado: não veio de uma página desta sessão, ou seu acesso não o permite.
dashboard-incidents-heading = Incidentes
dashboard-open-heading = Abertos
dashboard-none-open = Nenhum incidente aberto.
dashboard-recent-heading = Resolvidos recentemente
dashboard-none-recent = Nada resolvido ainda.
dashboard-col-incident = Incidente
dashboard-col-severity = Severidade
dashboard-col-status = Status
dashboard-col-title = Título
dashboard-col-commander = Comandante
dashboard-col-age = Duração
dashboard-page-of = Página { $page } de { $pages }
dashboard-previous = Anterior
dashboard-next = Próxima

dashboard-timeline-heading = Linha do tempo
dashboard-timeline-cut = Os { $shown } registros mais recentes de { $total }.
dashboard-missing-heading = Incidente não encontrado
