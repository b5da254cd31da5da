# Alertas das fontes de alerta (Alertmanager, Grafana, Datadog, eventos).
incident-alert-fired =
    🔔 { $id }: alerta disparado — { $alert } ({ $source })
    { $links }
incident-alert-back =
    🔔 { $id } { $title }: um alerta disparou de novo — { $alert } ({ $source })
    { $links }
incident-alert-resolved = 🟢 { $id }: alerta normalizado — { $alert } ({ $source })
incident-alerts-cleared =
    🟢 { $id } { $title }: todos os alertas de { $source } normalizaram.
    { $details }
incident-alerts-cleared-hint = Se o serviço estiver saudável, encerre com `inc resolver { $id }`.
incident-alert-flapping = 〰️ { $id }: { $alert } ({ $source }) está oscilando — disparou { $fires } vezes em { $within }. As mudanças dele ficam na linha do tempo, sem aviso, até estabilizar.
alert-link = 🔗 { $url }
alert-storm-title = Tempestade de alertas de { $source }
event-alert-fired = alerta disparado: { $alert } ({ $source }) { $links }
event-alert-back = alerta disparou de novo: { $alert } ({ $source }) { $links }
event-alert-resolved = alerta normalizado: { $alert } ({ $source })
event-alerts-cleared = todos os alertas de { $source } normalizaram
event-alert-flapping = { $alert } está oscilando: { $fires } vezes em { $within }
alert-notice-firing =
    ℹ️ Alerta { $severity } de { $source }: { $alert }
    { $links }
alert-notice-resolved = ✔️ Alerta normalizado de { $source }: { $alert }
heartbeat-missed-title = Sem sinal de vida de { $heartbeat }
heartbeats-none = Nenhum heartbeat configurado (adicione [[heartbeats]] à configuração).
heartbeats =
    💓 Heartbeats
    { $lines }
heartbeat-ok = ✅ { $id }: último sinal há { $ago }, às { $time } (esperado a cada { $every })
heartbeat-missed = 🔴 { $id }: perdido — sem sinal desde { $time }, há { $ago } (esperado a cada { $every })
heartbeat-never = ⚪ { $id }: nenhum sinal ainda (esperado a cada { $every })
usage-heartbeats = inc batimentos
about-heartbeats = Cada heartbeat que o runroom acompanha (o sinal regular de um serviço), com o último sinal; um perdido abre um incidente.
