//! Alerts into incidents. The engine's part on a hand-moved clock (grouping, repeats, resolves,
//! flapping, storms, acknowledgements, three languages) on both backends, and the webhook as
//! `serve` builds it: credentials, formats, answers that follow the senders' retry rules.

mod common;

use std::sync::Arc;

use chrono::Utc;
use runroom::alerts::auth::{basic_credentials, grafana_signature};
use runroom::alerts::model::Alert;
use runroom::alerts::{Format, SourceRules};
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::engine::Outbound;
use runroom::engine::clock::SystemClock;
use runroom::engine::incident::{Severity, Status};
use runroom::engine::room::{Platform, Room};
use runroom::i18n::Lang;
use serde_json::{Value, json};

/// War rooms in the three languages.
fn rooms() -> Vec<Room> {
    vec![
        common::war_room("console", Platform::Console, "console", Lang::En),
        common::war_room(
            "campo",
            Platform::Whatsapp,
            "120363025246125486@g.us",
            Lang::PtBr,
        ),
        common::war_room("soporte", Platform::Telegram, "-1001234567890", Lang::Es),
    ]
}

struct Alerts {
    t: common::TestEngine,
    _store: common::TestStore,
}

impl std::ops::Deref for Alerts {
    type Target = common::TestEngine;
    fn deref(&self) -> &common::TestEngine {
        &self.t
    }
}

fn engine(store: common::TestStore) -> Alerts {
    Alerts {
        t: common::engine_with_rooms(&store, rooms()),
        _store: store,
    }
}

impl Alerts {
    async fn take(
        &self,
        rules: &SourceRules,
        alerts: &[Alert],
    ) -> (runroom::engine::alerts::Intake, Vec<Outbound>) {
        let done = self
            .engine
            .take_alerts(rules, alerts)
            .await
            .expect("alerts taken");
        (done.value, done.messages)
    }

    async fn timeline(&self, number: i64) -> Vec<&'static str> {
        let entries = self
            .engine
            .store()
            .timeline(number, 100)
            .await
            .expect("timeline");
        entries.iter().map(|e| e.event.kind()).collect()
    }

    async fn incident(&self, number: i64) -> runroom::engine::incident::Incident {
        self.engine
            .store()
            .incident(number)
            .await
            .expect("read")
            .expect("the incident")
    }

    fn later(&self, minutes: i64) {
        self.clock.advance(chrono::Duration::minutes(minutes));
    }
}

/// An Alertmanager notification of group `group`: (fingerprint, status, severity) per alert.
fn am(group: &str, alerts: &[(&str, &str, &str)]) -> Vec<Alert> {
    let alerts: Vec<Value> = alerts
        .iter()
        .map(|(fp, status, severity)| {
            json!({
                "status": status,
                "labels": {"alertname": "PixLatencyHigh", "instance": fp, "severity": severity, "group": group, "service": group},
                "annotations": {"summary": format!("PIX latency high on {fp}")},
                "startsAt": "2026-11-29T12:00:00Z",
                "endsAt": if *status == "resolved" { "2026-11-29T12:05:00Z" } else { "0001-01-01T00:00:00Z" },
                "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
                "fingerprint": fp,
            })
        })
        .collect();
    let body = json!({
        "version": "4",
        "groupKey": format!("{{}}:{{group=\"{group}\"}}"),
        "status": "firing",
        "receiver": "runroom",
        "groupLabels": {"group": group},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.example:9093",
        "alerts": alerts,
    });
    Format::Alertmanager
        .parse(body.to_string().as_bytes())
        .expect("a notification")
}

/// The texts queued for one room.
fn texts_for<'m>(messages: &'m [Outbound], room: &str) -> Vec<&'m str> {
    messages
        .iter()
        .filter(|m| m.room_id == room)
        .map(|m| m.text.as_str())
        .collect()
}

#[tokio::test]
async fn alerts_group_into_one_incident_and_repeats_change_nothing() {
    for backend in common::backends().await {
        let name = backend.name;
        let t = engine(backend);
        let rules = SourceRules::new("prometheus");

        let (first, messages) = t
            .take(
                &rules,
                &am(
                    "pix",
                    &[("f1", "firing", "warning"), ("f2", "firing", "critical")],
                ),
            )
            .await;
        assert_eq!(first.opened.len(), 1, "[{name}] one group, one incident");
        let n = first.opened[0];
        let incident = t.incident(n).await;
        assert_eq!(
            incident.severity,
            Severity::Sev1,
            "[{name}] the group's worst severity"
        );
        assert_eq!(incident.title, "PIX latency high on f1");
        assert_eq!(incident.declared_by, "prometheus");
        assert_eq!(
            t.timeline(n).await,
            ["declared", "alert_fired", "alert_fired"]
        );
        for room in ["console", "campo", "soporte"] {
            assert_eq!(
                texts_for(&messages, room).len(),
                1,
                "[{name}] {room} hears the declaration"
            );
        }

        // Alertmanager's repeat_interval, or a retry: the same notification again.
        let (again, messages) = t
            .take(
                &rules,
                &am(
                    "pix",
                    &[("f1", "firing", "warning"), ("f2", "firing", "critical")],
                ),
            )
            .await;
        assert_eq!((again.changed, again.duplicates), (0, 2), "[{name}]");
        assert!(again.opened.is_empty() && again.touched.is_empty());
        assert!(messages.is_empty(), "[{name}] a repeat says nothing");

        // A third alert of the group joins the open incident, on the timeline only.
        let (joined, messages) = t
            .take(&rules, &am("pix", &[("f3", "firing", "critical")]))
            .await;
        assert_eq!(joined.touched, [n], "[{name}]");
        assert!(joined.opened.is_empty());
        assert!(
            messages.is_empty(),
            "[{name}] a joining alert is not announced"
        );
        assert_eq!(t.timeline(n).await.len(), 4);

        // Another group opens its own incident; the same alert twice in one delivery is one.
        let (other, _) = t
            .take(
                &rules,
                &am(
                    "db",
                    &[("d1", "firing", "warning"), ("d1", "firing", "warning")],
                ),
            )
            .await;
        assert_eq!(other.opened.len(), 1);
        assert_ne!(other.opened[0], n);
        assert_eq!((other.changed, other.duplicates), (1, 1));

        // Grouping by labels instead: both groups' alerts share an alertname.
        let by_name = SourceRules {
            group_by: vec!["alertname".into()],
            ..SourceRules::new("grafana")
        };
        let (grouped, _) = t
            .take(&by_name, &am("x", &[("g1", "firing", "info")]))
            .await;
        let (same, _) = t
            .take(&by_name, &am("y", &[("g2", "firing", "info")]))
            .await;
        assert_eq!(
            same.touched, grouped.opened,
            "[{name}] grouped by alertname"
        );
        let page = t
            .engine
            .store()
            .recent_alerts(true, 10)
            .await
            .expect("alerts");
        assert_eq!(page.total, 6, "[{name}] f1 f2 f3 d1 g1 g2 are firing");
    }
}

#[tokio::test]
async fn resolving_every_alert_is_said_in_each_language_and_auto_resolve_closes() {
    for backend in common::backends().await {
        let name = backend.name;
        let t = engine(backend);
        let rules = SourceRules::new("prometheus");
        let (first, _) = t
            .take(
                &rules,
                &am(
                    "pix",
                    &[("f1", "firing", "critical"), ("f2", "firing", "critical")],
                ),
            )
            .await;
        let n = first.opened[0];

        t.later(1);
        let (one, messages) = t
            .take(&rules, &am("pix", &[("f1", "resolved", "critical")]))
            .await;
        assert_eq!(one.touched, [n]);
        assert!(
            messages.is_empty(),
            "[{name}] one alert of two resolved: timeline only"
        );

        t.later(1);
        let (_, messages) = t
            .take(&rules, &am("pix", &[("f2", "resolved", "critical")]))
            .await;
        let id = format!("INC-{n}");
        for (room, words) in [
            ("console", "every alert from prometheus has resolved"),
            ("campo", "todos os alertas de prometheus normalizaram"),
            ("soporte", "todas las alertas de prometheus se resolvieron"),
        ] {
            let texts = texts_for(&messages, room);
            assert_eq!(texts.len(), 1, "[{name}] {room}: {texts:?}");
            assert!(
                texts[0].contains(words) && texts[0].contains(&id),
                "[{name}] {room}: {}",
                texts[0]
            );
        }
        assert_eq!(
            t.incident(n).await.status,
            Status::Investigating,
            "[{name}] the commander decides"
        );

        // It fires again while the incident is open: announced, in the same incident.
        t.later(1);
        let (back, messages) = t
            .take(&rules, &am("pix", &[("f1", "firing", "critical")]))
            .await;
        assert_eq!(back.touched, [n]);
        for (room, words) in [
            ("console", "an alert is firing again"),
            ("campo", "um alerta disparou de novo"),
            ("soporte", "una alerta volvió a dispararse"),
        ] {
            let texts = texts_for(&messages, room);
            assert!(
                texts.len() == 1 && texts[0].contains(words),
                "[{name}] {room}: {texts:?}"
            );
        }

        // With auto_resolve the incident closes when its alerts do, and the next alert of the
        // group opens a new one.
        let auto = SourceRules {
            auto_resolve: true,
            ..SourceRules::new("datadog")
        };
        let (opened, _) = t
            .take(&auto, &am("api", &[("a1", "firing", "warning")]))
            .await;
        let m = opened.opened[0];
        t.later(1);
        let (_, messages) = t
            .take(&auto, &am("api", &[("a1", "resolved", "warning")]))
            .await;
        let closed = t.incident(m).await;
        assert_eq!(closed.status, Status::Resolved, "[{name}]");
        assert_eq!(
            t.timeline(m).await,
            [
                "declared",
                "alert_fired",
                "alert_resolved",
                "alerts_cleared",
                "resolved"
            ]
        );
        assert!(
            texts_for(&messages, "console")
                .iter()
                .any(|t| t.contains("resolved by datadog"))
        );
        t.later(1);
        let (reopened, _) = t
            .take(&auto, &am("api", &[("a1", "firing", "warning")]))
            .await;
        assert_eq!(
            reopened.opened.len(),
            1,
            "[{name}] a new incident after the resolve"
        );
        assert_ne!(reopened.opened[0], m);
    }
}

#[tokio::test]
async fn a_flapping_alert_is_said_once_not_each_time() {
    for backend in common::backends().await {
        let name = backend.name;
        let t = engine(backend);
        let rules = SourceRules {
            flap_threshold: 2,
            flap_minutes: 30,
            ..SourceRules::new("prometheus")
        };
        let (first, _) = t
            .take(&rules, &am("pix", &[("f1", "firing", "critical")]))
            .await;
        let n = first.opened[0];
        let mut said = Vec::new();
        for round in 0..6 {
            t.later(2);
            let (_, resolved) = t
                .take(&rules, &am("pix", &[("f1", "resolved", "critical")]))
                .await;
            t.later(2);
            let (_, fired) = t
                .take(&rules, &am("pix", &[("f1", "firing", "critical")]))
                .await;
            said.push((
                round,
                texts_for(&resolved, "console").len(),
                texts_for(&fired, "console").len(),
            ));
        }
        // Fires 2 and 3 are announced with the clears before them; the third fire passes the
        // threshold (2): flapping is said once, and nothing more is announced.
        assert_eq!(
            said,
            [
                (0, 1, 1),
                (1, 1, 1),
                (2, 0, 0),
                (3, 0, 0),
                (4, 0, 0),
                (5, 0, 0)
            ],
            "[{name}] (round, clears said, fires said)"
        );
        let kinds = t.timeline(n).await;
        assert_eq!(
            kinds.iter().filter(|k| **k == "alert_flapping").count(),
            1,
            "[{name}] {kinds:?}"
        );
        assert_eq!(kinds.iter().filter(|k| **k == "alert_fired").count(), 7);
        assert_eq!(kinds.iter().filter(|k| **k == "alert_resolved").count(), 6);
        // The flapping message itself reached the rooms: find it in the outbox.
        let pending = t
            .engine
            .store()
            .pending_outbox(Platform::Whatsapp, 100)
            .await
            .expect("outbox");
        let flapping: Vec<_> = pending
            .iter()
            .filter(|m| m.message.text.contains("está oscilando"))
            .collect();
        assert_eq!(flapping.len(), 1, "[{name}]");

        // After a window without flaps, its changes are announced again.
        t.later(31);
        let (_, resolved) = t
            .take(&rules, &am("pix", &[("f1", "resolved", "critical")]))
            .await;
        assert_eq!(
            texts_for(&resolved, "console").len(),
            1,
            "[{name}] steady for a window, then cleared"
        );
        t.later(1);
        let (_, fired) = t
            .take(&rules, &am("pix", &[("f1", "firing", "critical")]))
            .await;
        assert_eq!(
            texts_for(&fired, "console").len(),
            1,
            "[{name}] a new window: announced again"
        );
    }
}

#[tokio::test]
async fn past_the_limit_new_groups_join_one_storm_incident() {
    for backend in common::backends().await {
        let name = backend.name;
        let t = engine(backend);
        let rules = SourceRules {
            max_new_incidents_per_minute: 2,
            ..SourceRules::new("prometheus")
        };
        let mut opened = Vec::new();
        let mut stormed = 0;
        for (i, severity) in ["warning", "warning", "warning", "warning", "critical"]
            .iter()
            .enumerate()
        {
            let fp = format!("s{i}");
            let (intake, _) = t
                .take(
                    &rules,
                    &am(&format!("g{i}"), &[(fp.as_str(), "firing", severity)]),
                )
                .await;
            opened.extend(intake.opened);
            stormed += intake.stormed;
        }
        assert_eq!(opened.len(), 3, "[{name}] two incidents, then the storm's");
        assert_eq!(stormed, 3, "[{name}]");
        let storm = t.incident(opened[2]).await;
        assert_eq!(storm.title, "Alert storm from prometheus");
        assert_eq!(
            storm.severity,
            Severity::Sev1,
            "[{name}] raised by the critical group"
        );
        let kinds = t.timeline(opened[2]).await;
        assert_eq!(
            kinds.iter().filter(|k| **k == "alert_fired").count(),
            3,
            "[{name}] {kinds:?}"
        );

        // A later alert of a stormed group joins the storm incident too.
        let (late, _) = t
            .take(&rules, &am("g3", &[("s3b", "firing", "warning")]))
            .await;
        assert_eq!(late.touched, [opened[2]], "[{name}]");
        // A minute on, groups open incidents of their own again.
        t.later(2);
        let (calm, _) = t
            .take(&rules, &am("g9", &[("s9", "firing", "warning")]))
            .await;
        assert_eq!((calm.opened.len(), calm.stormed), (1, 0), "[{name}]");
    }
}

#[tokio::test]
async fn events_trigger_acknowledge_and_resolve() {
    for backend in common::backends().await {
        let name = backend.name;
        let t = engine(backend);
        let rules = SourceRules::new("checks");
        let trigger = Format::Events
            .parse(include_bytes!("../src/alerts/fixtures/events.json"))
            .expect("an event");
        let (opened, _) = t.take(&rules, &trigger).await;
        let n = opened.opened[0];
        assert_eq!(t.incident(n).await.severity, Severity::Sev1);
        let ack = Format::Events
            .parse(br#"{"event_action":"acknowledge","dedup_key":"mcp-heartbeat/prod"}"#)
            .expect("an event");
        t.take(&rules, &ack).await;
        assert_eq!(
            t.incident(n).await.acked_by.as_deref(),
            Some("checks"),
            "[{name}]"
        );
        let resolve = Format::Events
            .parse(br#"{"event_action":"resolve","dedup_key":"mcp-heartbeat/prod"}"#)
            .expect("an event");
        let (_, messages) = t.take(&rules, &resolve).await;
        assert!(!messages.is_empty(), "[{name}] cleared is said");
        let kinds = t.timeline(n).await;
        assert_eq!(
            kinds,
            [
                "declared",
                "alert_fired",
                "acknowledged",
                "alert_resolved",
                "alerts_cleared"
            ]
        );
        // The same resolve again changes nothing.
        let (again, messages) = t.take(&rules, &resolve).await;
        assert_eq!(
            (again.changed, again.duplicates, messages.len()),
            (0, 1, 0),
            "[{name}]"
        );
    }
}

/// Rooms in three languages, a SEV1 escalation policy, and the seeds' routing: info alerts are a
/// notice in #monitoring (here the Spanish room), the API and PIX services' alerts go to the
/// console room alone without paging and resolve with their alerts, everything else is SEV1.
const ROUTED: &str = r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"

[[rooms]]
id = "campo"
platform = "whatsapp"
chat = "120363025246125486@g.us"
language = "pt-BR"

[[rooms]]
id = "soporte"
platform = "telegram"
chat = "-1001234567890"
language = "es"

[[people]]
id = "lead"
name = "Lia"
slack = "U0LEAD"

[[escalation]]
severities = ["sev1"]
steps = [{ after = "5m", notify = ["lead"] }]

[[alert_sources]]
id = "prometheus"
format = "alertmanager"

[[alert_routes]]
matchers = ['severity = "info"']
notice = true
rooms = ["soporte"]

[[alert_routes]]
matchers = ['service =~ "api|pix"']
severity_map = { critical = "sev2", warning = "sev3" }
rooms = ["console"]
page = false
auto_resolve = true

[[alert_routes]]
severity = "sev1"
"#;

#[tokio::test]
async fn routes_set_severity_rooms_paging_and_notices() {
    for backend in common::backends().await {
        let name = backend.name;
        let config = Config::parse(ROUTED, "test", &[]).expect("config");
        let rooms = config.rooms().expect("rooms");
        let engine = runroom::engine::Engine::new(
            backend.store.clone(),
            Arc::new(runroom::i18n::I18n::new().expect("locales")),
            Arc::new(runroom::engine::clock::ManualClock::new(
                common::start_time(),
            )),
            runroom::engine::EngineSettings {
                policies: config.policies(&rooms).expect("policies"),
                rooms,
                reaches: runroom::platforms::reaches(),
                ..Default::default()
            },
        );
        let rules = SourceRules {
            routes: config.alert_routes().expect("routes"),
            ..SourceRules::new("prometheus")
        };
        let take = async |alerts: Vec<Alert>| {
            let done = engine.take_alerts(&rules, &alerts).await.expect("taken");
            (done.value, done.messages)
        };
        let escalations = async |n: i64| {
            let jobs = engine
                .store()
                .jobs_in_state(runroom::store::JobState::Pending, 100)
                .await
                .expect("jobs");
            jobs.iter()
                .filter(|j| {
                    j.kind == runroom::store::JobKind::Escalation
                        && j.subject == format!("incident:{n}")
                })
                .count()
        };

        // Info: a notice in one room, no incident; a repeat says nothing; the resolve is said.
        let (info, messages) = take(am("disk", &[("i1", "firing", "info")])).await;
        assert!(info.opened.is_empty(), "[{name}]");
        let rooms: Vec<&str> = messages.iter().map(|m| m.room_id.as_str()).collect();
        assert_eq!(rooms, ["soporte"], "[{name}]");
        assert!(
            messages[0].text.contains("PIX latency high on i1"),
            "{}",
            messages[0].text
        );
        let (_, again) = take(am("disk", &[("i1", "firing", "info")])).await;
        assert!(again.is_empty(), "[{name}]");
        let (_, resolved) = take(am("disk", &[("i1", "resolved", "info")])).await;
        assert!(
            resolved.len() == 1 && resolved[0].text.contains("Alerta resuelta"),
            "[{name}] {resolved:?}"
        );

        // PIX: mapped severity, one room, no paging.
        let (pix, messages) = take(am("pix", &[("p1", "firing", "critical")])).await;
        let p = pix.opened[0];
        let incident = engine
            .store()
            .incident(p)
            .await
            .expect("read")
            .expect("incident");
        assert_eq!(
            (
                incident.severity,
                incident.rooms.clone(),
                incident.no_paging
            ),
            (Severity::Sev2, vec!["console".to_string()], true)
        );
        let rooms: Vec<&str> = messages.iter().map(|m| m.room_id.as_str()).collect();
        assert_eq!(rooms, ["console"], "[{name}]");
        assert_eq!(escalations(p).await, 0, "[{name}] no page planned");

        // Anything else: SEV1 everywhere, paged by the policy.
        let (db, messages) = take(am("db", &[("d1", "firing", "warning")])).await;
        let d = db.opened[0];
        assert_eq!(
            engine
                .store()
                .incident(d)
                .await
                .expect("read")
                .expect("incident")
                .severity,
            Severity::Sev1
        );
        assert_eq!(messages.len(), 3, "[{name}] every room");
        assert_eq!(
            escalations(d).await,
            1,
            "[{name}] the SEV1 policy's first step"
        );

        // The PIX route resolves with its alerts; the other waits for the commander.
        take(am("pix", &[("p1", "resolved", "critical")])).await;
        take(am("db", &[("d1", "resolved", "warning")])).await;
        let engine = &engine;
        let status = |n| async move {
            engine
                .store()
                .incident(n)
                .await
                .expect("read")
                .expect("incident")
                .status
        };
        assert_eq!(status(p).await, Status::Resolved, "[{name}]");
        assert_eq!(status(d).await, Status::Investigating, "[{name}]");
    }
}

// ---------------------------------------------------------------------------------------------
// The webhook, as `serve` builds it.

const SOURCES: &str = r#"
[[alert_sources]]
id = "prometheus"
format = "alertmanager"

[[alert_sources]]
id = "am-basic"
format = "alertmanager"
username = "alertmanager"

[[alert_sources]]
id = "grafana"
format = "grafana"
timestamp_header = "X-Grafana-Alerting-Signature-Timestamp"

[[alert_sources]]
id = "datadog"
format = "datadog"

[[alert_sources]]
id = "checks"
format = "events"
"#;

fn secrets() -> Secrets {
    Secrets::from_pairs([
        ("RUNROOM_ALERT_TOKEN_PROMETHEUS", "prom-token"),
        ("RUNROOM_ALERT_PASSWORD_AM_BASIC", "am-password"),
        ("RUNROOM_ALERT_HMAC_GRAFANA", "grafana-secret"),
        ("RUNROOM_ALERT_TOKEN_DATADOG", "dd-token"),
        ("RUNROOM_ALERT_TOKEN_CHECKS", "checks-token"),
        ("RUNROOM_ADMIN_TOKEN", "admin-token"),
    ])
}

async fn serve(store: &common::TestStore) -> String {
    let config = Config::parse(SOURCES, "test", &[]).expect("config");
    let (_app, url) = common::loopback::serve_app(
        config,
        store.store.clone(),
        Arc::new(SystemClock),
        secrets(),
    )
    .await;
    url
}

async fn post(
    url: &str,
    path: &str,
    headers: &[(&str, String)],
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let client = reqwest::Client::new();
    let mut request = client.post(format!("{url}{path}")).body(body);
    for (k, v) in headers {
        request = request.header(*k, v);
    }
    let response = request.send().await.expect("the webhook answers");
    let status = response.status().as_u16();
    let body = response.text().await.expect("a body");
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {token}"))]
}

#[tokio::test]
async fn the_webhook_stores_nothing_it_refuses_and_answers_as_senders_retry() {
    let backend = common::sqlite().await;
    let url = serve(&backend).await;
    let am = include_str!("../src/alerts/fixtures/alertmanager.json");
    let path = "/webhooks/alerts/prometheus";

    // Refused: no credentials, wrong ones, another source's, basic where bearer is expected.
    for headers in [
        vec![],
        bearer("wrong"),
        bearer("dd-token"),
        vec![(
            "authorization",
            format!("Basic {}", basic_credentials("x", "prom-token")),
        )],
    ] {
        let (status, _) = post(&url, path, &headers, am).await;
        assert_eq!(status, 401, "{headers:?}");
    }
    let (status, _) = post(&url, "/webhooks/alerts/nagios", &bearer("prom-token"), am).await;
    assert_eq!(status, 404);
    let (status, _) = post(&url, path, &bearer("prom-token"), "{\"not\": \"alerts\"}").await;
    assert_eq!(status, 400, "a body that can never be read");
    let huge = vec![b' '; runroom::alerts::webhook::BODY_LIMIT + 1];
    let (status, _) = post(&url, path, &bearer("prom-token"), huge).await;
    assert_eq!(status, 413);
    let store = &backend.store;
    assert_eq!(
        store.recent_alerts(false, 10).await.expect("alerts").total,
        0,
        "nothing refused was stored"
    );
    assert!(
        store
            .recent_incidents(10)
            .await
            .expect("incidents")
            .is_empty()
    );

    // Accepted once, deduplicated after.
    let (status, answer) = post(&url, path, &bearer("prom-token"), am).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["opened"], json!([1]));
    assert_eq!(answer["changed"], 2);
    let (status, answer) = post(&url, path, &bearer("prom-token"), am).await;
    assert_eq!(
        (
            status,
            answer["duplicates"].clone(),
            answer["opened"].clone()
        ),
        (200, json!(2), json!([]))
    );

    // Basic auth, as Alertmanager's basic_auth sends it.
    let basic = vec![(
        "authorization",
        format!("Basic {}", basic_credentials("alertmanager", "am-password")),
    )];
    let (status, _) = post(&url, "/webhooks/alerts/am-basic", &basic, am).await;
    assert_eq!(status, 200);

    // Grafana signs `timestamp:body`.
    let grafana = include_str!("../src/alerts/fixtures/grafana.json");
    let stamp = Utc::now().timestamp().to_string();
    let signed = vec![
        (
            "X-Grafana-Alerting-Signature",
            grafana_signature("grafana-secret", Some(&stamp), grafana.as_bytes()),
        ),
        ("X-Grafana-Alerting-Signature-Timestamp", stamp.clone()),
    ];
    let (status, _) = post(&url, "/webhooks/alerts/grafana", &signed, grafana).await;
    assert_eq!(status, 200);
    let forged = vec![
        (
            "X-Grafana-Alerting-Signature",
            grafana_signature("guess", Some(&stamp), grafana.as_bytes()),
        ),
        ("X-Grafana-Alerting-Signature-Timestamp", stamp),
    ];
    let (status, _) = post(&url, "/webhooks/alerts/grafana", &forged, grafana).await;
    assert_eq!(status, 401);

    // Datadog's template and an event.
    let datadog = include_str!("../src/alerts/fixtures/datadog.json");
    let (status, answer) = post(
        &url,
        "/webhooks/alerts/datadog",
        &bearer("dd-token"),
        datadog,
    )
    .await;
    assert_eq!(
        (status, answer["opened"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let event = include_str!("../src/alerts/fixtures/events.json");
    let (status, answer) = post(
        &url,
        "/webhooks/alerts/checks",
        &bearer("checks-token"),
        event,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["dedup_key"], "mcp-heartbeat/prod",
        "as PagerDuty answers"
    );

    let stored = store.recent_alerts(false, 10).await.expect("alerts");
    assert_eq!(stored.total, 2 + 2 + 1 + 1 + 1);
    let grafana_alert = stored
        .items
        .iter()
        .find(|a| a.source == "grafana")
        .expect("grafana's alert");
    assert_eq!(grafana_alert.links.len(), 4);
    assert_eq!(grafana_alert.severity, Severity::Sev3);

    // Operators see them: the admin API and `runroom alerts`.
    let client = reqwest::Client::new();
    let firing = client
        .get(format!("{url}/api/alerts?firing=true"))
        .bearer_auth("admin-token")
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(firing.status(), 200);
    assert_eq!(firing.headers()["x-total-count"], "5");
    let body: Value = firing.json().await.expect("JSON");
    let sources: Vec<&str> = body
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|a| a["source"].as_str())
        .collect();
    assert_eq!(sources.len(), 5);
    assert!(
        body.as_array()
            .expect("an array")
            .iter()
            .all(|a| a["status"] == "firing")
    );
    let bad = client
        .get(format!("{url}/api/alerts?limit=0"))
        .bearer_auth("admin-token")
        .send()
        .await
        .expect("the admin API answers");
    assert_eq!(bad.status(), 400);

    let metrics = client
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for line in [
        r#"runroom_alerts_received_total{source="prometheus",status="firing"}"#,
        r#"runroom_alerts_deduplicated_total{source="prometheus"}"#,
        r#"runroom_inbound_rejected_total{platform="alerts"}"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from /metrics");
    }

    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_runroom"))
            .args(args)
            .env_remove("RUNROOM_CONFIG")
            .env("RUNROOM_DATABASE_URL", backend.url())
            .output()
            .expect("runroom runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let listed = cli(&["alerts", "--firing"]);
    assert_eq!(listed.lines().count(), 1 + 5, "{listed}");
    let pix = listed
        .lines()
        .find(|l| l.contains("PIX p99 latency above 2s") && l.contains("prometheus"))
        .expect(&listed);
    assert!(
        pix.contains("firing") && pix.contains("INC-1") && pix.contains("SEV1"),
        "{pix}"
    );
    let everything = cli(&["alerts", "--limit", "2"]);
    assert!(
        everything.contains("(2 of 7; --limit shows more)"),
        "{everything}"
    );
}

#[tokio::test]
async fn a_source_without_its_secret_stops_the_start() {
    let backend = common::sqlite().await;
    let config = Config::parse(SOURCES, "test", &[]).expect("config");
    let partial = Secrets::from_pairs([("RUNROOM_ALERT_TOKEN_PROMETHEUS", "prom-token")]);
    let error = runroom::app::assemble(
        config,
        backend.store.clone(),
        Arc::new(SystemClock),
        partial,
    )
    .err()
    .expect("refused");
    assert!(
        error
            .to_string()
            .contains("RUNROOM_ALERT_PASSWORD_AM_BASIC"),
        "{error}"
    );
}

#[tokio::test]
async fn a_locked_database_answers_503_and_the_retry_lands_once() {
    let backend = common::sqlite().await;
    let url = serve(&backend).await;
    let am = include_str!("../src/alerts/fixtures/alertmanager.json");
    let path = "/webhooks/alerts/prometheus";

    let lock = common::SqliteLock::take(backend.url()).await;
    let (status, _) = post(&url, path, &bearer("prom-token"), am).await;
    assert_eq!(status, 503, "Alertmanager retries a 5xx (and drops a 4xx)");
    lock.release().await;
    assert_eq!(
        backend
            .store
            .recent_alerts(false, 10)
            .await
            .expect("alerts")
            .total,
        0
    );

    let (status, answer) = post(&url, path, &bearer("prom-token"), am).await;
    assert_eq!((status, answer["opened"].clone()), (200, json!([1])));
    let (status, answer) = post(&url, path, &bearer("prom-token"), am).await;
    assert_eq!((status, answer["opened"].clone()), (200, json!([])));
    assert_eq!(
        backend
            .store
            .recent_incidents(10)
            .await
            .expect("incidents")
            .len(),
        1
    );
}

const HEARTBEATS: &str = r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"

[[rooms]]
id = "campo"
platform = "whatsapp"
chat = "120363025246125486@g.us"
language = "pt-BR"

[[heartbeats]]
id = "mcp"
every = "1m"
grace = "2m"
title = "MCP executor offline"
severity = "sev1"

[[heartbeats]]
id = "nightly-cron"
every = "60m"
"#;

/// An engine on `store` with the heartbeats' config, on `clock`, and its scheduler.
fn heartbeat_bot(
    store: &common::TestStore,
    clock: &Arc<runroom::engine::clock::ManualClock>,
    worker: &str,
) -> (Arc<runroom::engine::Engine>, runroom::scheduler::Scheduler) {
    let config = Config::parse(HEARTBEATS, "test", &[]).expect("config");
    let rooms = config.rooms().expect("rooms");
    let engine = Arc::new(runroom::engine::Engine::new(
        store.store.clone(),
        Arc::new(runroom::i18n::I18n::new().expect("locales")),
        clock.clone(),
        runroom::engine::EngineSettings {
            policies: config.policies(&rooms).expect("policies"),
            heartbeats: config.heartbeats().expect("heartbeats"),
            rooms,
            reaches: runroom::platforms::reaches(),
            ..Default::default()
        },
    ));
    let scheduler = runroom::scheduler::Scheduler::new(engine.clone(), Default::default(), worker);
    (engine, scheduler)
}

#[tokio::test]
async fn a_missed_heartbeat_opens_one_incident_and_pings_resuming_resolve_it() {
    for backend in common::backends().await {
        let name = backend.name;
        let clock = Arc::new(runroom::engine::clock::ManualClock::new(
            common::start_time(),
        ));
        // Two replicas on one database, each with its scheduler.
        let (one, first) = heartbeat_bot(&backend, &clock, "w1");
        let (two, second) = heartbeat_bot(&backend, &clock, "w2");
        one.plan_recurring().await.expect("planned");
        two.plan_recurring().await.expect("planned");
        let store = backend.store.clone();
        let checks = async || {
            store
                .jobs_in_state(runroom::store::JobState::Pending, 100)
                .await
                .expect("jobs")
                .into_iter()
                .filter(|j| j.kind == runroom::store::JobKind::Heartbeat)
                .map(|j| j.subject)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            checks().await.len(),
            2,
            "[{name}] one check per heartbeat, planned once"
        );
        let drain = async || {
            first.drain().await.expect("drained");
            second.drain().await.expect("drained");
        };
        let mcp = one.heartbeat("mcp").expect("configured").clone();

        // Pings in time: nothing happens.
        let pinged = one.ping(&mcp).await.expect("ping");
        assert!(!pinged.value && pinged.messages.is_empty(), "[{name}]");
        for _ in 0..3 {
            clock.advance(chrono::Duration::seconds(150));
            drain().await;
            one.ping(&mcp).await.expect("ping");
        }
        assert!(
            store.open_incidents().await.expect("open").is_empty(),
            "[{name}]"
        );
        assert_eq!(
            checks()
                .await
                .iter()
                .filter(|s| *s == "heartbeat:mcp")
                .count(),
            1,
            "[{name}] each ping replaces the check"
        );

        // Silence past every + grace: one incident, whichever replica fires, however often.
        clock.advance(chrono::Duration::minutes(3));
        drain().await;
        clock.advance(chrono::Duration::minutes(10));
        drain().await;
        let open = store.open_incidents().await.expect("open");
        assert_eq!(open.len(), 1, "[{name}] {open:?}");
        assert_eq!(
            (open[0].title.as_str(), open[0].severity),
            ("MCP executor offline", Severity::Sev1)
        );
        assert_eq!(open[0].declared_by, "heartbeat:mcp");

        // `inc heartbeats` tells which is missed and which never pinged.
        let inbound = common::inbound(
            "console",
            "ana",
            "inc heartbeats",
            "hb-1".into(),
            clock_now(&clock),
        );
        let runroom::engine::Outcome::Handled { messages, .. } =
            one.handle(&inbound).await.expect("handled")
        else {
            panic!("[{name}] not handled");
        };
        let text = &messages[0].text;
        assert!(
            text.contains("mcp: missed") && text.contains("nightly-cron: no ping yet"),
            "[{name}] {text}"
        );

        // Pings resume: said, and resolved.
        let resumed = one.ping(&mcp).await.expect("ping");
        assert!(resumed.value, "[{name}]");
        assert!(
            resumed
                .messages
                .iter()
                .any(|m| m.room_id == "campo" && m.text.contains("normalizaram")),
            "[{name}] {:?}",
            resumed.messages
        );
        let incident = store
            .incident(open[0].number)
            .await
            .expect("read")
            .expect("incident");
        assert_eq!(incident.status, Status::Resolved, "[{name}]");

        // A restart plans nothing twice.
        let (three, _) = heartbeat_bot(&backend, &clock, "w3");
        three.plan_recurring().await.expect("planned");
        assert_eq!(checks().await.len(), 2, "[{name}] {:?}", checks().await);
    }
}

fn clock_now(clock: &runroom::engine::clock::ManualClock) -> chrono::DateTime<Utc> {
    use runroom::engine::clock::Clock;
    clock.now()
}

#[tokio::test]
async fn the_heartbeat_webhook_wants_its_token() {
    let backend = common::sqlite().await;
    let config = Config::parse(HEARTBEATS, "test", &[]).expect("config");
    let missing = runroom::app::assemble(
        config.clone(),
        backend.store.clone(),
        Arc::new(SystemClock),
        Secrets::from_pairs([("RUNROOM_HEARTBEAT_TOKEN_MCP", "mcp-token")]),
    )
    .err()
    .expect("refused");
    assert!(
        missing
            .to_string()
            .contains("RUNROOM_HEARTBEAT_TOKEN_NIGHTLY_CRON"),
        "{missing}"
    );

    let secrets = Secrets::from_pairs([
        ("RUNROOM_HEARTBEAT_TOKEN_MCP", "mcp-token"),
        ("RUNROOM_HEARTBEAT_TOKEN_NIGHTLY_CRON", "cron-token"),
    ]);
    let (_app, url) = common::loopback::serve_app(
        config,
        backend.store.clone(),
        Arc::new(SystemClock),
        secrets,
    )
    .await;
    let (status, _) = post(&url, "/webhooks/heartbeat/mcp", &bearer("cron-token"), "").await;
    assert_eq!(status, 401, "another heartbeat's token");
    let (status, _) = post(
        &url,
        "/webhooks/heartbeat/unknown",
        &bearer("mcp-token"),
        "",
    )
    .await;
    assert_eq!(status, 404);
    let (status, answer) = post(&url, "/webhooks/heartbeat/mcp", &bearer("mcp-token"), "").await;
    assert_eq!((status, answer["resumed"].clone()), (200, json!(false)));
    let mut tx = backend.store.begin().await.expect("tx");
    let pings = tx.last_pings().await.expect("pings");
    assert_eq!(pings.len(), 1);
    assert_eq!(pings[0].0, "mcp");
}

#[tokio::test]
async fn two_replicas_taking_the_same_notifications_open_each_group_once() {
    for backend in common::backends().await {
        let name = backend.name;
        // Two processes' engines (each with its own writer) on one database.
        let one = common::engine_with_rooms(&backend, rooms());
        let two = common::engine_with_rooms(&backend, rooms());
        let rules = SourceRules {
            max_new_incidents_per_minute: 1_000,
            ..SourceRules::new("prometheus")
        };
        for g in 0..20 {
            let group = format!("g{g}");
            let alerts = am(
                &group,
                &[("a", "firing", "critical"), ("b", "firing", "warning")],
            )
            .into_iter()
            .map(|mut a| {
                a.key = format!("{group}-{}", a.key);
                a
            })
            .collect::<Vec<_>>();
            let (first, second) = tokio::join!(
                one.engine.take_alerts(&rules, &alerts),
                two.engine.take_alerts(&rules, &alerts)
            );
            let opened = first.expect("taken").value.opened.len()
                + second.expect("taken").value.opened.len();
            assert_eq!(opened, 1, "[{name}] group {group} opened once");
        }
        let open = backend.store.open_incidents().await.expect("open");
        assert_eq!(open.len(), 20, "[{name}]");
        for incident in &open {
            let timeline = backend
                .store
                .timeline(incident.number, 50)
                .await
                .expect("timeline");
            let fired = timeline
                .iter()
                .filter(|e| e.event.kind() == "alert_fired")
                .count();
            assert_eq!(
                fired, 2,
                "[{name}] INC-{}: each alert joined once",
                incident.number
            );
        }
    }
}
