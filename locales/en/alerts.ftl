# Alerts from the alert sources (Alertmanager, Grafana, Datadog, events).
incident-alert-fired =
    🔔 { $id }: alert firing — { $alert } ({ $source })
    { $links }
incident-alert-back =
    🔔 { $id } { $title }: an alert is firing again — { $alert } ({ $source })
    { $links }
incident-alert-resolved = 🟢 { $id }: alert resolved — { $alert } ({ $source })
incident-alerts-cleared =
    🟢 { $id } { $title }: every alert from { $source } has resolved.
    { $details }
incident-alerts-cleared-hint = If the service is healthy, close it with `inc resolve { $id }`.
incident-alert-flapping = 〰️ { $id }: { $alert } ({ $source }) is flapping — it fired { $fires } times within { $within }. Its changes stay on the timeline without being announced until it settles.
alert-link = 🔗 { $url }
alert-storm-title = Alert storm from { $source }
event-alert-fired = alert firing: { $alert } ({ $source }) { $links }
event-alert-back = alert firing again: { $alert } ({ $source }) { $links }
event-alert-resolved = alert resolved: { $alert } ({ $source })
event-alerts-cleared = every alert from { $source } resolved
event-alert-flapping = { $alert } is flapping: { $fires } times within { $within }
alert-notice-firing =
    ℹ️ { $severity } alert from { $source }: { $alert }
    { $links }
alert-notice-resolved = ✔️ Resolved alert from { $source }: { $alert }
heartbeat-missed-title = No heartbeat from { $heartbeat }
heartbeats-none = No heartbeat is configured (add [[heartbeats]] to the configuration).
heartbeats =
    💓 Heartbeats
    { $lines }
heartbeat-ok = ✅ { $id }: last ping { $ago } ago, at { $time } (expected every { $every })
heartbeat-missed = 🔴 { $id }: missed — no ping since { $time }, { $ago } ago (expected every { $every })
heartbeat-never = ⚪ { $id }: no ping yet (expected every { $every })
usage-heartbeats = inc heartbeats
about-heartbeats = Each heartbeat runroom watches (a service's regular ping), with its last ping; a missed one opens an incident.
