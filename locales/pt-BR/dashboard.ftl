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

dashboard-matching-heading = Encontrados
dashboard-none-matching = Nenhum incidente encontrado.
dashboard-filter-status = Status
dashboard-filter-open = Abertos (qualquer status, menos resolvido)
dashboard-filter-all = Todos
dashboard-filter-any = Qualquer
dashboard-filter-text = Título ou número
dashboard-filter-apply = Filtrar
dashboard-col-next-update = Próxima atualização
dashboard-col-checklist = Checklist
dashboard-col-playbook = Roteiro
dashboard-overdue = Atrasada
dashboard-checklist-heading = Checklist
dashboard-checklist-progress = { $done } de { $total } feitos
dashboard-checklist-done = feito por { $person } às { $time }
dashboard-follow-ups-heading = Pendências
dashboard-follow-up-done = feita
dashboard-alerts-heading = Alertas
dashboard-col-alert = Alerta
dashboard-col-source = Origem
dashboard-col-changed = Mudou
dashboard-alert-status = { $status ->
    [firing] Disparando
   *[resolved] Resolvido
}
dashboard-rooms-heading = Entrega por sala
dashboard-none-sent = Nenhuma mensagem deste incidente ainda.
dashboard-col-delivered = Entregues
dashboard-col-waiting = Aguardando
dashboard-col-dead = Mortas
dashboard-postmortem-heading = Rascunho do pós-incidente
dashboard-postmortem-download = Baixar o rascunho (Markdown)
dashboard-postmortem-after = O rascunho aparece aqui quando o incidente for resolvido.
dashboard-oncall-heading = Plantão
dashboard-none-rotations = Nenhuma escala configurada.
dashboard-next-handoff = Próxima passagem de turno
dashboard-col-role = Papel
dashboard-col-now = Agora
dashboard-col-after-handoff = Depois da passagem
dashboard-oncall-override = substituição até { $until }, definida por { $person }
dashboard-overrides-heading = Substituições
dashboard-none-overrides = Nenhuma substituição em curso ou marcada.
dashboard-col-rotation = Escala
dashboard-col-person = Pessoa
dashboard-col-from = De
dashboard-col-until = Até
dashboard-col-set-by = Marcada por
dashboard-schedules-heading = Agendamentos
dashboard-none-schedules = Nenhum agendamento configurado.
dashboard-col-schedule = Agendamento
dashboard-col-next-run = Próxima vez
dashboard-col-rooms = Salas
dashboard-report-nav = Relatório
dashboard-report-heading = Relatório: os últimos { $days } dias
dashboard-report-period = Período
dashboard-report-days = { $days } dias
dashboard-report-none = Nenhum incidente foi declarado neste período.
dashboard-report-chart = Tempo mediano até o reconhecimento e até a resolução, por severidade
dashboard-report-ack = Tempo até o reconhecimento (mediana)
dashboard-report-resolve = Tempo até a resolução (mediana)
dashboard-report-ack-bar = reconhecido em { $time }
dashboard-report-resolve-bar = resolvido em { $time }
dashboard-report-table = Por severidade: a mediana (p50) e o percentil 90 (p90)
dashboard-col-incidents = Incidentes
dashboard-col-ack-p50 = Reconhecimento p50
dashboard-col-ack-p90 = Reconhecimento p90
dashboard-col-resolve-p50 = Resolução p50
dashboard-col-resolve-p90 = Resolução p90
dashboard-postmortem-long = O rascunho é longo demais para mostrar aqui: baixe-o.
