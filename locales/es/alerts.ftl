# Alertas de las fuentes de alertas (Alertmanager, Grafana, Datadog, eventos).
incident-alert-fired =
    🔔 { $id }: alerta disparada — { $alert } ({ $source })
    { $links }
incident-alert-back =
    🔔 { $id } { $title }: una alerta volvió a dispararse — { $alert } ({ $source })
    { $links }
incident-alert-resolved = 🟢 { $id }: alerta resuelta — { $alert } ({ $source })
incident-alerts-cleared =
    🟢 { $id } { $title }: todas las alertas de { $source } se resolvieron.
    { $details }
incident-alerts-cleared-hint = Si el servicio está sano, ciérralo con `inc resolver { $id }`.
incident-alert-flapping = 〰️ { $id }: { $alert } ({ $source }) está oscilando — se disparó { $fires } veces en { $within }. Sus cambios quedan en la línea de tiempo, sin aviso, hasta que se estabilice.
alert-link = 🔗 { $url }
alert-storm-title = Tormenta de alertas de { $source }
event-alert-fired = alerta disparada: { $alert } ({ $source }) { $links }
event-alert-back = alerta disparada de nuevo: { $alert } ({ $source }) { $links }
event-alert-resolved = alerta resuelta: { $alert } ({ $source })
event-alerts-cleared = todas las alertas de { $source } se resolvieron
event-alert-flapping = { $alert } está oscilando: { $fires } veces en { $within }
alert-notice-firing =
    ℹ️ Alerta { $severity } de { $source }: { $alert }
    { $links }
alert-notice-resolved = ✔️ Alerta resuelta de { $source }: { $alert }
heartbeat-missed-title = Sin señal de vida de { $heartbeat }
heartbeats-none = No hay heartbeats configurados (agrega [[heartbeats]] a la configuración).
heartbeats =
    💓 Heartbeats
    { $lines }
heartbeat-ok = ✅ { $id }: última señal hace { $ago }, a las { $time } (se espera cada { $every })
heartbeat-missed = 🔴 { $id }: perdido — sin señal desde { $time }, hace { $ago } (se espera cada { $every })
heartbeat-never = ⚪ { $id }: ninguna señal todavía (se espera cada { $every })
usage-heartbeats = inc latidos
about-heartbeats = Cada heartbeat que runroom vigila (la señal regular de un servicio), con su última señal; uno perdido abre un incidente.
