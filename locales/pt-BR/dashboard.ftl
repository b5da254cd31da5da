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
dashboard-delivery-heading = Entrega
dashboard-mode-heading = Modo de envio
dashboard-mode-name = { $mode ->
    [live] Ativo: as mensagens são enviadas
    [dry-run] Simulação: as mensagens são registradas, não enviadas
   *[off] Desligado: as mensagens esperam, nada é enviado
}
dashboard-mode-switch = Mudar para
dashboard-mode-live = Ativo
dashboard-mode-dry-run = Simulação
dashboard-mode-off = Desligado
dashboard-mode-confirm = Entendo que isto muda o que todas as salas recebem
dashboard-mode-apply = Mudar
dashboard-mode-unconfirmed = Marque a confirmação para mudar o modo de envio.
dashboard-mode-unknown = Esse não é um modo de envio.
dashboard-mode-set = O modo de envio agora é { $mode }.
dashboard-depth-heading = Mensagens por estado
dashboard-none-queued = Nenhuma mensagem ainda.
dashboard-col-platform = Plataforma
dashboard-col-state = Estado
dashboard-col-count = Mensagens
dashboard-state-name = { $state ->
    [pending] aguardando
    [sending] sendo enviada
    [sent] enviada
    [failed] a tentar de novo
    [dead] morta
   *[dry_run] registrada (simulação)
}
dashboard-dead-heading = Mensagens mortas
dashboard-none-dead = Nenhuma mensagem morta.
dashboard-col-room = Sala
dashboard-col-queued = Enfileirada
dashboard-col-message = Mensagem
dashboard-col-reason = Por que falhou
dashboard-retry = Tentar de novo
dashboard-retried = A mensagem { $id } voltou para a fila.
dashboard-not-dead = A mensagem { $id } não está morta: nada a tentar de novo.
