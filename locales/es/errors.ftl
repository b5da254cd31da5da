# Qué salió mal en un comando — español.

field-message = El mensaje
field-title = El título
field-text = El texto

error-no-verb = ¿Qué hago? Escribe `inc ayuda` para ver los comandos.
error-unknown-verb = No conozco el comando “{ $got }”. Escribe `inc ayuda`.
error-unknown-verb-suggest = No conozco el comando “{ $got }” — ¿quisiste decir `inc { $suggestion }`?
error-unterminated-quote = Falta cerrar las comillas: pon " al final del texto.
error-control-character = El mensaje tiene caracteres de control; escríbelo de nuevo como texto simple.
error-too-long = { $field } es demasiado largo: { $got } caracteres, el máximo es { $max }. Acórtalo, por favor.
error-missing-title = Todo incidente necesita un título, por ejemplo `inc declarar sev2 "Checkout lento"`.
error-bad-severity = “{ $got }” no es una severidad. Usa sev1 (crítico), sev2 (alto), sev3 (medio) o sev4 (bajo); P1–P4 también sirven.
error-missing-severity = ¿Qué severidad? Por ejemplo `inc severidad sev2`.
error-bad-status = “{ $got }” no es un estado. Usa investigando, identificado, monitoreando o resuelto.
error-missing-status = ¿Qué estado? Por ejemplo `inc estado identificado`.
error-missing-role = ¿Qué rol? Por ejemplo `inc asignar comandante @joana`.
error-missing-person = ¿Quién toma el rol? Por ejemplo `inc asignar comandante @joana`.
error-missing-text = `{ $verb }` necesita un texto. Uso: { $usage }
error-unknown-option = `{ $verb }` no tiene la opción “{ $key }”. Uso: { $usage }
error-unexpected-argument = `{ $verb }` no acepta “{ $got }”. Uso: { $usage }
error-bad-duration = “{ $got }” no es una duración: usa 15m, 1h o 1h30m (hasta 24h).
error-bad-language = Todavía no hablo “{ $got }”: elige en, pt-BR o es.
error-missing-language = ¿Qué idioma? `inc idioma en`, `inc idioma pt-BR` o `inc idioma es`.
error-no-open-incident = No hay ningún incidente abierto. Declara uno con `inc declarar sev2 "título"`.
error-ambiguous-incident = Hay { $count } incidentes abiertos ({ $ids }): di cuál, por ejemplo `inc { $verb } { $example } …`. `inc listar` los muestra.
ids-and-more = { $more ->
        [0] { $ids }
       *[other] { $ids } y { $more } más
    }
error-no-such-page = No existe la página { $page }: los { $count } incidentes abiertos que coinciden ocupan { $pages ->
        [one] 1 página
       *[other] { $pages } páginas
    }.
error-bad-list-filter = “{ $got }” no es un filtro de la lista. Uso: { $usage }
error-bad-page = “{ $got }” no es un número de página: las páginas empiezan en 1, por ejemplo `inc listar pagina 2`.
error-missing-page = ¿Qué página? Por ejemplo `inc listar pagina 2`.
error-unknown-incident = No existe el incidente { $id }. `inc listar` muestra los abiertos.
error-which-incident = ¿Qué incidente? Uso: { $usage }
error-unknown-role = “{ $got }” no es un rol aquí. Roles: { $roles }.
error-already-resolved = El { $id } ya está resuelto. Para retomarlo: `inc reabrir { $id }`.
error-not-resolved = El { $id } no está resuelto, así que no hay nada que reabrir.
error-same-severity = El { $id } ya es { $severity }.
error-same-status = El { $id } ya está { $status }.
error-already-acked = { $actor } ya había tomado el { $id }.
error-same-role-holder = { $person } ya es { $role } del { $id }.
error-internal = Algo falló de mi lado y no se cambió nada. Inténtalo de nuevo en un momento.
