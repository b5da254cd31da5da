# Ajuda dos comandos — português do Brasil.

help =
    Comandos do runroom (também `/inc …` ou `!inc …`; palavras em inglês e espanhol também funcionam):
    { $verbs }
    O número do incidente (INC-3) é opcional quando só há um incidente aberto. `inc ajuda <comando>` explica um comando.
help-verb =
    { $usage }
    { $about }

usage-declare = inc declarar [sev1–sev4] "título" [impacto="…"]
usage-sev = inc severidade [INC-n] sev1–sev4
usage-status = inc estado [INC-n] investigando|identificado|monitorando|resolvido
usage-assign = inc atribuir [INC-n] comandante|comunicação|escriba @pessoa
usage-ack = inc ciente [INC-n]
usage-update = inc atualizar [INC-n] impacto="…" ações="…" próxima=15m bloqueios="…" (ou texto livre)
usage-note = inc nota [INC-n] texto
usage-follow-up = inc pendencia [INC-n] texto
usage-resolve = inc resolver [INC-n] [resumo]
usage-reopen = inc reabrir INC-n [motivo]
usage-list = inc listar [sev1…sev4] [minhas] [pagina N]
usage-show = inc mostrar [INC-n]
usage-timeline = inc historico [INC-n]
usage-help = inc ajuda [comando]
usage-lang = inc idioma en|pt-BR|es

about-declare = Abre um novo incidente e avisa todas as salas vinculadas. A severidade padrão é SEV3; sev1, P1, crítico/alto/médio/baixo também funcionam.
about-sev = Muda a severidade; todas as salas vinculadas ficam sabendo.
about-status = Muda o estado entre investigando, identificado e monitorando; `resolvido` resolve o incidente.
about-assign = Dá um papel a alguém: comandante, comunicação ou escriba, além dos papéis que o time configurou.
about-ack = Confirma que alguém já está cuidando do incidente.
about-update = Publica uma atualização estruturada — impacto, ações, próxima verificação, bloqueios — em todas as salas vinculadas.
about-note = Registra uma nota na linha do tempo (só esta sala é avisada).
about-follow-up = Registra uma pendência para depois do incidente.
about-resolve = Resolve o incidente, com um resumo opcional.
about-reopen = Reabre um incidente resolvido.
about-list = Lista os incidentes abertos, 20 por página, os mais graves e depois os mais antigos primeiro. `sev1` mantém uma severidade, `minhas` os incidentes em que você tem um papel, `pagina 2` mostra a próxima página; dá para combinar (`inc listar sev2 minhas pagina 3`).
about-show = Mostra um incidente: estado, papéis, pendências e os últimos registros.
about-timeline = Mostra os últimos registros da linha do tempo do incidente (a completa: `runroom incidents show INC-n` no servidor).
about-help = Lista os comandos ou explica um deles.
about-lang = Define o idioma em que esta sala recebe as respostas.
telegram-menu-inc = Incidentes: declarar, ciente, atualizar, resolver, listar… (/inc ajuda)
telegram-start-linked = Olá, @{ $username }! O runroom vai te acionar aqui quando uma escalação te chamar: mantenha esta conversa. Cada acionamento tem um botão Ciente.
telegram-start-no-username = Olá! Seu id de usuário no Telegram é { $id }. Para receber acionamentos aqui, defina um nome de usuário no Telegram ou adicione telegram = "{ $id }" à sua entrada em [[people]] do runroom.
