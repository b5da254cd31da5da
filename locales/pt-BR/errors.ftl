# O que deu errado num comando — português do Brasil.

field-message = A mensagem
field-title = O título
field-text = O texto

error-no-verb = O que devo fazer? Digite `inc ajuda` para ver os comandos.
error-unknown-verb = Não conheço o comando “{ $got }”. Digite `inc ajuda`.
error-unknown-verb-suggest = Não conheço o comando “{ $got }” — você quis dizer `inc { $suggestion }`?
error-unterminated-quote = Faltou fechar as aspas: coloque " no fim do texto.
error-control-character = A mensagem tem caracteres de controle; digite de novo como texto simples.
error-too-long = { $field } está longo demais: { $got } caracteres, o máximo é { $max }. Encurte, por favor.
error-missing-title = Todo incidente precisa de um título, por exemplo `inc declarar sev2 "Checkout lento"`.
error-bad-severity = “{ $got }” não é uma severidade. Use sev1 (crítico), sev2 (alto), sev3 (médio) ou sev4 (baixo); P1–P4 também valem.
error-missing-severity = Qual severidade? Por exemplo `inc severidade sev2`.
error-bad-status = “{ $got }” não é um estado. Use investigando, identificado, monitorando ou resolvido.
error-missing-status = Qual estado? Por exemplo `inc estado identificado`.
error-missing-role = Qual papel? Por exemplo `inc atribuir comandante @joana`.
error-missing-person = Quem fica com o papel? Por exemplo `inc atribuir comandante @joana`.
error-missing-text = `{ $verb }` precisa de um texto. Uso: { $usage }
error-unknown-option = `{ $verb }` não tem a opção “{ $key }”. Uso: { $usage }
error-unexpected-argument = `{ $verb }` não aceita “{ $got }”. Uso: { $usage }
error-bad-duration = “{ $got }” não é uma duração: use 15m, 1h ou 1h30m (até 24h).
error-bad-language = Ainda não falo “{ $got }”: escolha en, pt-BR ou es.
error-missing-language = Qual idioma? `inc idioma en`, `inc idioma pt-BR` ou `inc idioma es`.
error-no-open-incident = Não há nenhum incidente aberto. Declare um com `inc declarar sev2 "título"`.
error-ambiguous-incident = Há { $count } incidentes abertos ({ $ids }): diga qual, por exemplo `inc { $verb } { $example } …`. `inc listar` mostra todos.
ids-and-more = { $more ->
        [0] { $ids }
       *[other] { $ids } e mais { $more }
    }
error-no-such-page = Não existe a página { $page }: os { $count } incidentes abertos que correspondem ocupam { $pages ->
        [one] 1 página
       *[other] { $pages } páginas
    }.
error-bad-list-filter = “{ $got }” não é um filtro da lista. Uso: { $usage }
error-bad-page = “{ $got }” não é um número de página: as páginas começam em 1, por exemplo `inc listar pagina 2`.
error-missing-page = Qual página? Por exemplo `inc listar pagina 2`.
error-unknown-incident = Não existe o incidente { $id }. `inc listar` mostra os abertos.
error-which-incident = Qual incidente? Uso: { $usage }
error-unknown-role = “{ $got }” não é um papel aqui. Papéis: { $roles }.
error-already-resolved = O { $id } já está resolvido. Para retomar: `inc reabrir { $id }`.
error-not-resolved = O { $id } não está resolvido, então não há o que reabrir.
error-same-severity = O { $id } já está como { $severity }.
error-same-status = O { $id } já está { $status }.
error-already-acked = { $actor } já tinha confirmado o { $id }.
error-same-role-holder = { $person } já é { $role } do { $id }.
error-internal = Algo deu errado do meu lado e nada foi alterado. Tente de novo daqui a pouco.
