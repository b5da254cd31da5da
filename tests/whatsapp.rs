//! WhatsApp end to end: deliveries signed as Meta signs them posted to runroom's webhook, the
//! outbox worker delivering to a fake Graph API, a fake Slack and a fake Evolution gateway on
//! loopback, all on a hand-moved clock (the 24-hour window is counted on it).

mod common;
mod fakes;

use std::sync::Arc;

use chrono::Duration;
use common::{TestStore, backends, start_time};
use fakes::evolution::{self, FakeEvolution};
use fakes::graph::{self, FakeGraph, Reply};
use fakes::slack::FakeSlack;
use runroom::app::{App, Secrets, assemble};
use runroom::config::Config;
use runroom::engine::Engine;
use runroom::engine::clock::{Clock, ManualClock};
use runroom::engine::room::Platform;
use runroom::i18n::Lang;
use runroom::outbox::{OutboxConfig, PlatformLimits};
use runroom::platforms::{slack, whatsapp};
use runroom::store::{DeliveryStatus, MessageKind, NewOutbound, OutboxRow, OutboxState, Store};
use serde_json::{Value, json};

const APP_SECRET: &str = "meta-app-secret-0123456789abcdef";
const VERIFY_TOKEN: &str = "runroom-verify-token";
const EVOLUTION_KEY: &str = "evolution-instance-key";
const PHONE_NUMBER_ID: &str = "106540352242922";

/// The field team's roster: numbers as configured (E.164) and as WhatsApp sends them (`wa_id`).
const ANA: &str = "+5511987654321";
const ANA_WA: &str = "5511987654321";
const BRUNO: &str = "+5511912345678";
const BRUNO_WA: &str = "5511912345678";
const CARLA: &str = "+5521998765432";
const CARLA_WA: &str = "5521998765432";
const WAR_ROOM: &str = "C0RUNROOM";
const GROUP: &str = "120363099999999999";
const EVOLUTION_GROUP: &str = "120363025246125486@g.us";

/// Pacing out of the way: these tests are about what is sent, not when.
fn unpaced() -> OutboxConfig {
    let mut config = OutboxConfig::default();
    for platform in ["whatsapp", "slack"] {
        config
            .limits
            .insert(platform.into(), PlatformLimits::unlimited());
    }
    // Retries far in the future and no breaker: the error-path test looks at one attempt of
    // each message, and a retried row must not take the next scripted answer.
    config.backoff_base_ms = 600_000;
    config.backoff_cap_seconds = 3600;
    config.breaker_threshold = 1000;
    config
}

/// The rooms as `runroom.toml` lists them: a roster, a Slack war room, a Cloud API group and an
/// Evolution group.
fn rooms() -> String {
    format!(
        r#"
[[rooms]]
id = "campo"
platform = "whatsapp"
members = ["{ANA}", "{BRUNO}", "{CARLA}"]
language = "pt-BR"
timezone = "America/Sao_Paulo"

[[rooms]]
id = "runroom"
platform = "slack"
chat = "{WAR_ROOM}"
timezone = "America/New_York"

[[rooms]]
id = "bodega"
platform = "whatsapp"
kind = "group"
chat = "{GROUP}"
language = "es"
timezone = "America/Bogota"

[[rooms]]
id = "loja"
platform = "whatsapp"
kind = "evolution"
chat = "{EVOLUTION_GROUP}"
language = "pt-BR"
timezone = "America/Sao_Paulo"
"#
    )
}

/// runroom's WhatsApp side on loopback, built as `serve` builds it, against fake Graph, Slack
/// and Evolution servers.
struct Harness {
    graph: FakeGraph,
    slack: FakeSlack,
    evolution: FakeEvolution,
    app: App,
    store: Arc<dyn Store>,
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    base: String,
    http: reqwest::Client,
    next_wamid: std::sync::atomic::AtomicU64,
}

impl Harness {
    async fn start(backend: &TestStore) -> Harness {
        Harness::start_with(backend, "").await
    }

    /// With more configuration (people, escalation, rotations).
    async fn start_with(backend: &TestStore, more: &str) -> Harness {
        let graph = FakeGraph::start().await;
        let slack = FakeSlack::start().await;
        let evolution = FakeEvolution::start(EVOLUTION_KEY).await;
        // The ack budget is long enough that every delivery is processed before its 200: no
        // polling needed.
        let text = format!(
            r#"{rooms}
[whatsapp]
api_url = "{graph}"
phone_number_id = "{PHONE_NUMBER_ID}"
ack_budget_ms = 10000

[evolution]
api_url = "{evolution}"
instance = "{instance}"
timeout_seconds = 5

[slack]
api_url = "{slack}"
{more}"#,
            rooms = rooms(),
            graph = graph.url,
            evolution = evolution.url,
            instance = evolution.instance,
            slack = slack.api_url,
        );
        let mut config = Config::parse(&text, "whatsapp test", &[]).expect("config");
        config.outbox = unpaced();
        let secrets = Secrets::from_pairs([
            (whatsapp::TOKEN_ENV, graph.token.clone()),
            (whatsapp::APP_SECRET_ENV, APP_SECRET.to_string()),
            (whatsapp::VERIFY_TOKEN_ENV, VERIFY_TOKEN.to_string()),
            (whatsapp::EVOLUTION_APIKEY_ENV, EVOLUTION_KEY.to_string()),
            (slack::BOT_TOKEN_ENV, slack.bot_token.clone()),
        ]);
        let clock = Arc::new(ManualClock::new(start_time()));
        let app = assemble(config, backend.store.clone(), clock.clone(), secrets)
            .expect("runroom builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind runroom");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let router = app.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Harness {
            graph,
            slack,
            evolution,
            store: backend.store.clone(),
            engine: app.engine.clone(),
            app,
            clock,
            base,
            http: reqwest::Client::new(),
            next_wamid: std::sync::atomic::AtomicU64::new(1),
        }
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn wamid(&self) -> String {
        let n = self
            .next_wamid
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        format!("wamid.HBgNNTUxMTk4NzY1NDMyMRUCABIYFjNFQjA{n:06}")
    }

    /// Posts a delivery signed with `secret`; returns the HTTP status.
    async fn post_signed(&self, body: &Value, secret: &str) -> u16 {
        let body = body.to_string();
        self.http
            .post(format!("{}/webhooks/whatsapp", self.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", graph::sign(secret, body.as_bytes()))
            .body(body)
            .send()
            .await
            .expect("request reaches runroom")
            .status()
            .as_u16()
    }

    async fn post(&self, body: &Value) -> u16 {
        self.post_signed(body, APP_SECRET).await
    }

    /// A text from a roster member, now on the test clock; returns its wamid.
    async fn text(&self, wa_id: &str, name: &str, body: &str) -> String {
        let wamid = self.wamid();
        let status = self
            .post(&graph::text_message(
                wa_id,
                name,
                &wamid,
                self.now_secs(),
                body,
            ))
            .await;
        assert_eq!(status, 200, "{body}");
        wamid
    }

    async fn drain(&self) {
        self.app.worker.drain().await.expect("outbox round");
    }

    async fn rows(&self, state: OutboxState) -> Vec<OutboxRow> {
        self.store
            .outbox_in_state(state, 1000)
            .await
            .expect("outbox rows")
    }
}

fn kinds_of(received: &[graph::Received]) -> Vec<&str> {
    received.iter().map(|r| r.kind.as_str()).collect()
}

#[tokio::test]
async fn the_webhook_url_is_verified_only_with_our_token() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let get = |token: &str| {
        h.http
            .get(format!("{}/webhooks/whatsapp", h.base))
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ])
            .send()
    };
    let ok = get(VERIFY_TOKEN).await.expect("verify");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = get("guess").await.expect("verify");
    assert_eq!(wrong.status().as_u16(), 403);
}

#[tokio::test]
async fn a_bad_signature_gets_401_and_stores_nothing() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.forged",
        h.now_secs(),
        "inc declarar sev1 falso",
    );
    assert_eq!(h.post_signed(&body, "not-the-app-secret").await, 401);
    // No signature at all.
    let unsigned = h
        .http
        .post(format!("{}/webhooks/whatsapp", h.base))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(unsigned.status().as_u16(), 401);
    // Signed, then altered on the way.
    let signature = graph::sign(APP_SECRET, body.to_string().as_bytes());
    let tampered = body.to_string().replace("sev1", "sev2");
    let altered = h
        .http
        .post(format!("{}/webhooks/whatsapp", h.base))
        .header("x-hub-signature-256", signature)
        .body(tampered)
        .send()
        .await
        .expect("request");
    assert_eq!(altered.status().as_u16(), 401);

    assert!(h.store.open_incidents().await.unwrap().is_empty());
    assert!(h.store.outbox_stats().await.unwrap().is_empty());
    assert_eq!(
        h.store.contact(Platform::Whatsapp, ANA).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_portuguese_declaration_from_the_roster_reaches_slack_and_every_member() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        // Bruno wrote yesterday evening (his window is open); Carla has never written.
        h.clock.advance(-Duration::hours(20));
        h.text(BRUNO_WA, "Bruno", "bom dia, alguém no CD?").await;
        h.clock.advance(Duration::hours(20));
        h.drain().await;
        let before = h.graph.accepted().len();

        h.text(
            ANA_WA,
            "Ana",
            "incidente declarar sev1 Pix fora do ar para lojistas",
        )
        .await;
        let incident = h.store.incident(1).await.unwrap().expect("declared");
        assert_eq!(incident.declared_by, "Ana", "[{}]", backend.name);
        h.drain().await;

        // Slack's war room: a card, in English.
        let cards = h.slack.cards(WAR_ROOM);
        assert_eq!(cards.len(), 1, "[{}] one card", backend.name);
        assert!(cards[0].text.contains("INC-1"), "{}", cards[0].text);

        let sent: Vec<graph::Received> = h.graph.accepted()[before..].to_vec();
        let to = |number: &str| -> Vec<graph::Received> {
            sent.iter().filter(|r| r.to == number).cloned().collect()
        };
        // Ana (window open: she just wrote) gets the declaration with reply buttons.
        let to_ana = to(ANA_WA);
        assert_eq!(kinds_of(&to_ana), ["interactive"], "[{}]", backend.name);
        assert!(to_ana[0].body.contains("INC-1"), "{}", to_ana[0].body);
        assert!(
            to_ana[0].body.contains("declarado"),
            "pt-BR: {}",
            to_ana[0].body
        );
        let ids: Vec<&str> = to_ana[0].json["interactive"]["action"]["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["reply"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["ack:1", "update:1", "resolve:1"]);
        // Bruno: Ana's words relayed with her name, then the declaration (window open).
        let to_bruno = to(BRUNO_WA);
        assert_eq!(to_bruno.len(), 2, "[{}] {to_bruno:?}", backend.name);
        assert!(to_bruno.iter().any(|r| r.kind == "text"
            && r.body == "*Ana*: incidente declarar sev1 Pix fora do ar para lojistas"));
        assert!(to_bruno.iter().any(|r| r.kind == "interactive"));
        // Carla never wrote: templates, in pt_BR, the alert with its Ack quick reply.
        let to_carla = to(CARLA_WA);
        assert_eq!(kinds_of(&to_carla), ["template", "template"]);
        let alert = to_carla
            .iter()
            .find(|r| r.json["template"]["name"] == "runroom_incident_alert")
            .expect("the alert template");
        assert_eq!(alert.json["template"]["language"]["code"], "pt_BR");
        assert!(alert.body.contains("INC-1"), "{}", alert.body);
        assert_eq!(
            alert.json["template"]["components"][1]["parameters"][0]["payload"],
            "ack:1"
        );
        // The Cloud API group: Spanish text, as a group message, no buttons.
        let to_group = to(GROUP);
        assert_eq!(to_group.len(), 1);
        assert!(to_group[0].group, "recipient_type group");
        assert_eq!(
            to_group[0].kind, "template",
            "no window recorded for the group yet"
        );
        // The Evolution group: pt-BR text through the gateway.
        let evo = h.evolution.accepted();
        assert_eq!(evo.len(), 1, "[{}]", backend.name);
        assert_eq!(evo[0].number, EVOLUTION_GROUP);
        assert!(evo[0].text.contains("INC-1"), "{}", evo[0].text);
        assert!(
            h.rows(OutboxState::Dead).await.is_empty(),
            "[{}]",
            backend.name
        );
    }
}

#[tokio::test]
async fn roster_chatter_is_relayed_and_mirrored_into_the_incident_thread() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "inc declare sev2 Couriers cannot check in")
        .await;
    h.drain().await;
    let card = h.slack.cards(WAR_ROOM).pop().expect("the card");
    let before = h.graph.accepted().len();

    h.text(BRUNO_WA, "Bruno", "chegando no CD agora, fila de 40 motos")
        .await;
    h.drain().await;
    let relayed: Vec<graph::Received> = h.graph.accepted()[before..].to_vec();
    let to: Vec<&str> = relayed.iter().map(|r| r.to.as_str()).collect();
    assert!(to.contains(&ANA_WA) && to.contains(&CARLA_WA), "{to:?}");
    assert!(
        !to.contains(&BRUNO_WA),
        "Bruno does not get his own words back"
    );
    let to_ana = relayed.iter().find(|r| r.to == ANA_WA).unwrap();
    assert_eq!(
        to_ana.body,
        "*Bruno*: chegando no CD agora, fila de 40 motos"
    );
    // Outside her window Carla gets the update template carrying the same words.
    let to_carla = relayed.iter().find(|r| r.to == CARLA_WA).unwrap();
    assert_eq!(to_carla.json["template"]["name"], "runroom_incident_update");
    assert!(
        to_carla.body.contains("chegando no CD agora"),
        "{}",
        to_carla.body
    );

    let thread = h.slack.thread(WAR_ROOM, &card.ts);
    assert!(
        thread
            .iter()
            .any(|m| m.text == "Bruno in campo (WhatsApp): chegando no CD agora, fila de 40 motos"),
        "{thread:?}"
    );
    // The mirror never shows a number.
    assert!(thread.iter().all(|m| !m.text.contains("5511")));
}

#[tokio::test]
async fn a_reply_button_tap_acknowledges() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "inc declare sev1 Payments down")
        .await;
    h.drain().await;
    let tap = graph::button_reply(CARLA_WA, "Carla", &h.wamid(), h.now_secs(), "ack:1");
    assert_eq!(h.post(&tap).await, 200);
    let incident = h.store.incident(1).await.unwrap().unwrap();
    assert_eq!(incident.acked_by.as_deref(), Some("Carla"));
    // The tap opened Carla's window: the acknowledgement reaches her as free-form text.
    h.drain().await;
    let to_carla = h.graph.accepted_to(CARLA_WA);
    let last = to_carla.last().unwrap();
    assert_ne!(last.kind, "template", "{last:?}");
    assert!(last.body.contains("INC-1"), "{}", last.body);
}

#[tokio::test]
async fn a_paged_person_on_no_roster_gets_the_page_template_and_acks_from_it() {
    const DIEGO_WA: &str = "5531999998888";
    let backend = common::sqlite().await;
    let people = r#"
[[people]]
id = "diego"
name = "Diego"
whatsapp = "+5531999998888"
language = "es"
timezone = "America/Bogota"

[[escalation]]
severities = ["sev1"]
steps = [{ after = "0m", notify = ["diego"] }]
"#;
    let h = Harness::start_with(&backend, people).await;
    h.text(ANA_WA, "Ana", "inc declarar sev1 Pagamentos fora")
        .await;
    assert_eq!(h.app.scheduler.drain().await.unwrap().fired, 1);
    h.drain().await;
    // Diego never wrote: the page template, in Spanish, with its Ack quick reply.
    let to_diego = h.graph.accepted_to(DIEGO_WA);
    assert_eq!(kinds_of(&to_diego), ["template"]);
    assert_eq!(to_diego[0].json["template"]["name"], "runroom_page");
    assert_eq!(to_diego[0].json["template"]["language"]["code"], "es");
    assert!(to_diego[0].body.contains("INC-1"), "{}", to_diego[0].body);

    // His tap comes back from his own chat, which runroom takes although he is on no roster.
    let tap = graph::button_reply(DIEGO_WA, "Diego", &h.wamid(), h.now_secs(), "ack:1");
    assert_eq!(h.post(&tap).await, 200);
    let incident = h.store.incident(1).await.unwrap().unwrap();
    assert_eq!(incident.acked_by.as_deref(), Some("Diego"));
    h.drain().await;
    let answer = h.graph.accepted_to(DIEGO_WA);
    let last = answer.last().unwrap();
    assert_ne!(last.kind, "template", "his window is open now: {last:?}");
    // In his language and zone.
    assert!(
        last.body
            .contains("Diego tomó el INC-1 (02/03/2026 08:00 -05)"),
        "{}",
        last.body
    );
    // A stranger still gets nothing.
    let before = h.store.incident(1).await.unwrap();
    h.text("5531900000000", "Eve", "inc resolve").await;
    assert_eq!(h.store.incident(1).await.unwrap(), before);
}

#[tokio::test]
async fn the_window_decides_between_free_text_and_a_template() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "oi").await;
    h.clock.advance(Duration::hours(23));
    h.engine
        .handle(&inbound_from_slack("inc declare sev3 Slow dashboards"))
        .await
        .unwrap();
    h.drain().await;
    let first = h.graph.accepted_to(ANA_WA);
    assert_eq!(kinds_of(&first), ["interactive"], "23 h after her message");

    h.clock.advance(Duration::hours(2));
    h.engine
        .handle(&inbound_from_slack("inc status identified"))
        .await
        .unwrap();
    h.drain().await;
    let second = h.graph.accepted_to(ANA_WA);
    assert_eq!(kinds_of(&second), ["interactive", "template"], "25 h after");
    assert_eq!(
        second[1].json["template"]["name"],
        "runroom_incident_update"
    );

    // Meta says the window is closed although our record says open (she wrote from another
    // device, say): the same attempt falls back to the template.
    h.text(BRUNO_WA, "Bruno", "oi").await;
    h.drain().await;
    h.graph.close_window(BRUNO_WA);
    let before = h.graph.received().len();
    h.engine
        .handle(&inbound_from_slack("inc status monitoring"))
        .await
        .unwrap();
    h.drain().await;
    let to_bruno: Vec<graph::Received> = h.graph.received()[before..]
        .iter()
        .filter(|r| r.to == BRUNO_WA)
        .cloned()
        .collect();
    assert_eq!(
        to_bruno
            .iter()
            .map(|r| (r.kind.as_str(), r.status))
            .collect::<Vec<_>>(),
        [("interactive", 400), ("template", 200)]
    );
    assert!(h.rows(OutboxState::Dead).await.is_empty());
}

/// A command typed in the Slack war room.
fn inbound_from_slack(text: &str) -> runroom::engine::room::Inbound {
    use runroom::engine::room::{Author, Inbound, Input, Origin, RoomRef};
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Inbound {
        event_id: format!("Ev{}", N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)),
        origin: Origin {
            room: RoomRef {
                platform: Platform::Slack,
                chat: WAR_ROOM.into(),
                thread: None,
            },
            author: Author {
                id: "U0BEN".into(),
                name: "Ben".into(),
            },
            private_replies: false,
        },
        input: Input::Text(text.into()),
        received_at: start_time(),
    }
}

#[tokio::test]
async fn a_failed_status_131047_sends_the_template_once() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        h.text(ANA_WA, "Ana", "inc declare sev2 Labels not printing")
            .await;
        h.drain().await;
        let sent = h.graph.accepted_to(ANA_WA);
        let wamid = sent[0].wamid.clone().expect("a wamid");
        let row = h
            .rows(OutboxState::Sent)
            .await
            .into_iter()
            .find(|r| r.platform_message_id.as_deref() == Some(wamid.as_str()))
            .expect("the row Meta accepted");

        let failed = graph::status(&wamid, "failed", h.now_secs(), ANA_WA, Some(131047));
        assert_eq!(h.post(&failed).await, 200);
        // Meta redelivers the same status.
        assert_eq!(h.post(&failed).await, 200);
        h.drain().await;
        let after = h.graph.accepted_to(ANA_WA);
        assert_eq!(
            kinds_of(&after),
            ["interactive", "template"],
            "[{}] one template, however often the status came",
            backend.name
        );
        assert_eq!(after[1].json["template"]["name"], "runroom_incident_alert");
        let stored = h.store.outbox_row(row.id).await.unwrap().unwrap();
        assert_eq!(stored.delivery_status, Some(DeliveryStatus::Failed));
        let error = stored.delivery_error.unwrap();
        assert!(error.starts_with("131047"), "{error}");
        assert!(!error.contains(ANA_WA), "the reason is redacted: {error}");
    }
}

#[tokio::test]
async fn statuses_move_forward_only() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        h.text(ANA_WA, "Ana", "inc declare sev4 Typo on the status page")
            .await;
        h.drain().await;
        let wamid = h.graph.accepted_to(ANA_WA)[0].wamid.clone().unwrap();
        let id = h
            .rows(OutboxState::Sent)
            .await
            .into_iter()
            .find(|r| r.platform_message_id.as_deref() == Some(wamid.as_str()))
            .unwrap()
            .id;
        let status_of = |s: &'static str| graph::status(&wamid, s, 1_772_000_000, ANA_WA, None);
        for s in ["sent", "read", "delivered", "sent"] {
            assert_eq!(h.post(&status_of(s)).await, 200);
        }
        let row = h.store.outbox_row(id).await.unwrap().unwrap();
        assert_eq!(
            row.delivery_status,
            Some(DeliveryStatus::Read),
            "[{}]",
            backend.name
        );
        assert_eq!(row.delivery_error, None);
        // A status about a message runroom never sent changes nothing and is still 200.
        let stray = graph::status("wamid.unknown", "delivered", 1_772_000_000, ANA_WA, None);
        assert_eq!(h.post(&stray).await, 200);
    }
}

#[tokio::test]
async fn a_redelivered_message_acts_once() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.same",
        h.now_secs(),
        "inc declare sev2 Couriers offline",
    );
    assert_eq!(h.post(&body).await, 200);
    assert_eq!(h.post(&body).await, 200);
    h.drain().await;
    assert_eq!(h.store.recent_incidents(10).await.unwrap().len(), 1);
    let relays = h
        .graph
        .accepted()
        .into_iter()
        .filter(|r| r.body.starts_with("*Ana*:"))
        .count();
    assert_eq!(relays, 2, "relayed once to each other member");
    assert_eq!(h.slack.cards(WAR_ROOM).len(), 1);
}

/// A message to Ana in the roster room.
fn to_ana(h: &Harness, key: &str) -> NewOutbound {
    NewOutbound {
        idempotency_key: key.into(),
        room_id: "campo".into(),
        platform: Platform::Whatsapp,
        chat: ANA.into(),
        thread: None,
        kind: MessageKind::Reply,
        language: Lang::PtBr,
        text: format!("mensagem {key}"),
        rich: None,
        incident: None,
        priority: 0,
        created_at: h.clock.now(),
        recipient: None,
        topic: None,
    }
}

async fn enqueue(h: &Harness, message: NewOutbound) {
    let mut tx = h.store.begin().await.unwrap();
    tx.enqueue(&[message]).await.unwrap();
    tx.commit().await.unwrap();
}

/// Queues one message to Ana (window open) and sends it against a scripted answer.
async fn send_scripted(h: &Harness, key: &str, reply: Reply) -> OutboxRow {
    h.graph.script([reply]);
    enqueue(h, to_ana(h, key)).await;
    h.app.worker.run_once().await.unwrap();
    let rows = h
        .store
        .outbox_in_state(OutboxState::Dead, 100)
        .await
        .unwrap();
    let mut all = rows;
    all.extend(
        h.store
            .outbox_in_state(OutboxState::Failed, 100)
            .await
            .unwrap(),
    );
    all.extend(
        h.store
            .outbox_in_state(OutboxState::Sent, 100)
            .await
            .unwrap(),
    );
    all.into_iter()
        .find(|r| r.message.idempotency_key == key)
        .expect("the row")
}

#[tokio::test]
async fn each_error_code_takes_its_documented_path() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "oi").await;
    h.drain().await;
    let retried = [
        (
            "pair-rate",
            Reply::Error {
                status: 400,
                code: 131056,
            },
        ),
        // Meta's code decides, not the HTTP status (these come as 400s).
        (
            "temporary",
            Reply::Error {
                status: 400,
                code: 1,
            },
        ),
        (
            "unknown",
            Reply::Error {
                status: 400,
                code: 2,
            },
        ),
        (
            "throughput-code",
            Reply::Error {
                status: 400,
                code: 130429,
            },
        ),
        ("server", Reply::ServerError),
    ];
    for (key, reply) in retried {
        let row = send_scripted(&h, key, reply).await;
        assert_eq!(row.state, OutboxState::Failed, "{key}: retried later");
    }
    let never = [131026, 131048, 131049, 132000, 132001];
    for code in never {
        // Final even when it comes with a 5xx.
        for status in [400, 500] {
            let key = format!("code-{code}-{status}");
            let row = send_scripted(&h, &key, Reply::Error { status, code }).await;
            assert_eq!(
                row.state,
                OutboxState::Dead,
                "{code} (HTTP {status}): never retried blindly"
            );
            let reason = row.last_error.unwrap();
            assert!(reason.contains(&code.to_string()), "{reason}");
        }
    }
    // Last: a 429 pauses the whole number for its Retry-After.
    let row = send_scripted(&h, "throughput", Reply::RateLimited { retry_after: 30 }).await;
    assert_eq!(row.state, OutboxState::Failed);
    let retry_in = row.next_attempt_at - h.clock.now();
    assert!(
        retry_in >= Duration::seconds(30),
        "honours Retry-After: {retry_in}"
    );
}

#[tokio::test]
async fn a_cloud_api_group_takes_commands_and_gets_plain_text() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let message = graph::delivery(json!({
        "contacts": [{ "profile": { "name": "Diego" }, "wa_id": "573001234567" }],
        "messages": [{
            "from": "573001234567", "id": h.wamid(), "timestamp": h.now_secs().to_string(),
            "group_id": GROUP, "type": "text", "text": { "body": "inc declarar sev2 Bodega sin conexión" }
        }]
    }));
    // The same from a group nobody configured (anyone can add the business number to one).
    let elsewhere = graph::delivery(json!({
        "contacts": [{ "profile": { "name": "Mallory" }, "wa_id": "573009999999" }],
        "messages": [{
            "from": "573009999999", "id": h.wamid(), "timestamp": h.now_secs().to_string(),
            "group_id": "120363000000000666", "type": "text", "text": { "body": "inc declarar sev1 broma" }
        }]
    }));
    assert_eq!(h.post(&elsewhere).await, 200);
    assert!(h.store.open_incidents().await.unwrap().is_empty());
    assert_eq!(h.post(&message).await, 200);
    assert_eq!(
        h.store.incident(1).await.unwrap().unwrap().declared_by,
        "Diego"
    );
    h.drain().await;
    let to_group = h.graph.accepted_to(GROUP);
    assert_eq!(to_group.len(), 1);
    assert!(to_group[0].group);
    assert_eq!(to_group[0].kind, "text", "groups take no buttons");
    assert!(to_group[0].body.contains("INC-1"), "{}", to_group[0].body);
    assert!(
        to_group[0].body.contains("declarado"),
        "es: {}",
        to_group[0].body
    );
}

#[tokio::test]
async fn an_evolution_group_takes_commands_and_gets_text() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let post = |body: Value| {
        h.http
            .post(format!("{}/webhooks/evolution", h.base))
            .json(&body)
            .send()
    };
    let forged = evolution::messages_upsert(
        "wrong-key",
        "runroom",
        EVOLUTION_GROUP,
        "5511955554444@s.whatsapp.net",
        "Eva",
        "3EB0FORGED",
        "incidente declarar sev1 falso",
    );
    assert_eq!(post(forged).await.unwrap().status().as_u16(), 401);
    assert!(h.store.open_incidents().await.unwrap().is_empty());

    let real = evolution::messages_upsert(
        EVOLUTION_KEY,
        "runroom",
        EVOLUTION_GROUP,
        "5511955554444@s.whatsapp.net",
        "Eva",
        "3EB0C0FFEE",
        "incidente declarar sev1 Loja sem sistema",
    );
    assert_eq!(post(real.clone()).await.unwrap().status().as_u16(), 200);
    assert_eq!(post(real).await.unwrap().status().as_u16(), 200);
    assert_eq!(h.store.recent_incidents(10).await.unwrap().len(), 1);
    h.drain().await;
    let sent = h.evolution.accepted();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].number, EVOLUTION_GROUP);
    assert!(
        sent[0].text.contains("INC-1") && sent[0].text.contains("Eva"),
        "{}",
        sent[0].text
    );

    // The gateway's errors: a 5xx is retried, a 4xx (an unknown group, say) is not.
    h.evolution.script([
        evolution::Reply::ServerError,
        evolution::Reply::Error { status: 400 },
    ]);
    h.engine
        .handle(&inbound_from_slack("inc status identified"))
        .await
        .unwrap();
    h.drain().await;
    let on_evolution = |rows: Vec<OutboxRow>| -> Vec<String> {
        rows.into_iter()
            .filter(|r| r.message.room_id == "loja")
            .map(|r| r.last_error.unwrap_or_default())
            .collect()
    };
    let failed = on_evolution(h.rows(OutboxState::Failed).await);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("HTTP 500"), "{failed:?}");
    assert!(on_evolution(h.rows(OutboxState::Dead).await).is_empty());
    h.clock.advance(Duration::hours(2));
    h.drain().await;
    let dead = on_evolution(h.rows(OutboxState::Dead).await);
    assert_eq!(dead.len(), 1, "the retry got the 400");
    assert!(dead[0].contains("HTTP 400"), "{dead:?}");
}

/// A writer the test can read back: everything the logs said during a flow.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_phone_number_reaches_the_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("runroom=trace,info"))
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    // The test runtime runs every task on this thread, the server's too.
    let _guard = tracing::subscriber::set_default(subscriber);

    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "inc declare sev1 Couriers cannot log in")
        .await;
    // A stranger writes to the business number; a member's message fails permanently with
    // a reason that names the number; a status fails with the number in its details.
    h.text("5548999990000", "Stranger", "inc resolve").await;
    h.graph.script([Reply::Error {
        status: 400,
        code: 131026,
    }]);
    h.drain().await;
    let wamid = h.graph.accepted()[0].wamid.clone().unwrap();
    h.post(&graph::status(
        &wamid,
        "failed",
        h.now_secs(),
        ANA_WA,
        Some(131047),
    ))
    .await;
    h.post_signed(&graph::text_message(ANA_WA, "Ana", "x", 1, "x"), "wrong")
        .await;
    h.drain().await;

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("WhatsApp"), "the flow was logged: {logs}");
    for number in [ANA_WA, BRUNO_WA, CARLA_WA, "5548999990000", "48999990000"] {
        assert!(!logs.contains(number), "{number} in the logs:\n{logs}");
    }
}

/// `runroom serve` with a roster (Ana, Bruno) against `fake`, secrets in the environment and its
/// logs at `RUNROOM_LOG` level in `serve.log`; `extra` goes into `[whatsapp]`.
fn serve_roster(
    dir: &std::path::Path,
    fake: &FakeGraph,
    extra: &str,
    level: &str,
) -> (std::process::Child, String, std::path::PathBuf) {
    let config = format!(
        r#"
[server]
listen = "127.0.0.1:0"

[database]
url = "sqlite://{db}"

[[rooms]]
id = "campo"
platform = "whatsapp"
kind = "roster"
members = ["+55 11 98765-4321", "+55 (11) 91234-5678"]
language = "pt-BR"
timezone = "America/Sao_Paulo"

[whatsapp]
api_url = "{api}"
phone_number_id = "{PHONE_NUMBER_ID}"
{extra}
"#,
        db = dir.join("runroom.db").display(),
        api = fake.url,
    );
    let path = dir.join("runroom.toml");
    std::fs::write(&path, config).unwrap();
    let log_path = dir.join("serve.log");
    let logs = std::fs::File::create(&log_path).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_runroom"));
    command
        .args(["--config", &path.display().to_string(), "serve"])
        .env("RUNROOM_WHATSAPP_TOKEN", &fake.token)
        .env("RUNROOM_WHATSAPP_APP_SECRET", APP_SECRET)
        .env("RUNROOM_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("RUNROOM_LOG", level)
        .env_remove("RUNROOM_DATABASE_URL")
        .env_remove("RUNROOM_CONFIG");
    let (child, url) = common::process::spawn_serve_logging(&mut command, logs);
    (child, url, log_path)
}

/// `runroom serve` as deployed: a config file with a roster, secrets from the environment, debug
/// logs to a file, Meta's deliveries over HTTP and the fake Graph API receiving what it sends.
#[tokio::test]
async fn runroom_serve_runs_a_roster_and_logs_no_number() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGraph::start().await;
    let (mut child, url, log_path) = serve_roster(dir.path(), &fake, "", "debug");
    let http = reqwest::Client::new();

    let challenge = http
        .get(format!("{url}/webhooks/whatsapp"))
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", VERIFY_TOKEN),
            ("hub.challenge", "42"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(challenge.text().await.unwrap(), "42");

    let post = |body: Value| {
        let body = body.to_string();
        http.post(format!("{url}/webhooks/whatsapp"))
            .header(
                "x-hub-signature-256",
                graph::sign(APP_SECRET, body.as_bytes()),
            )
            .body(body)
            .send()
    };
    let now = chrono::Utc::now().timestamp();
    let declare = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.serve1",
        now,
        "incidente declarar sev1 Roteirização parada",
    );
    assert_eq!(post(declare).await.unwrap().status().as_u16(), 200);
    // To Bruno: Ana's words relayed, and the declaration (both templates: he never wrote); to
    // Ana: the declaration with buttons.
    let accepted = fake
        .wait_for_accepted(3, std::time::Duration::from_secs(20))
        .await;
    assert_eq!(kinds_of(&fake.accepted_to(ANA_WA)), ["interactive"]);
    assert_eq!(
        kinds_of(&fake.accepted_to(BRUNO_WA)),
        ["template", "template"]
    );
    let wamid = accepted[0].wamid.clone().unwrap();
    let failed = graph::status(&wamid, "failed", now, BRUNO_WA, Some(131026));
    assert_eq!(post(failed).await.unwrap().status().as_u16(), 200);
    // A stranger is not answered.
    let stranger = graph::text_message("5548999990000", "?", "wamid.serve2", now, "inc list");
    assert_eq!(post(stranger).await.unwrap().status().as_u16(), 200);
    assert!(common::process::terminate(&mut child).success());

    assert_eq!(fake.accepted().len(), 3, "nothing more was sent");
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        logs.contains("ignored a WhatsApp message from a number on no roster")
            && logs.contains("WhatsApp could not deliver a message"),
        "the stranger and the failure were logged: {logs}"
    );
    for number in [ANA_WA, BRUNO_WA, "987654321", "912345678", "5548999990000"] {
        assert!(!logs.contains(number), "{number} in the logs:\n{logs}");
    }
}

#[tokio::test]
async fn a_mistyped_command_is_explained_only_to_the_member_who_typed_it() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(BRUNO_WA, "Bruno", "oi").await;
    h.drain().await;
    let before = h.graph.accepted().len();
    h.text(ANA_WA, "Ana", "/inc sev 9").await;
    h.drain().await;
    let sent: Vec<graph::Received> = h.graph.accepted()[before..].to_vec();
    let to_ana: Vec<&graph::Received> = sent.iter().filter(|r| r.to == ANA_WA).collect();
    assert_eq!(to_ana.len(), 1, "{sent:?}");
    assert_eq!(to_ana[0].kind, "text");
    assert!(
        to_ana[0].body.contains("sev"),
        "a localized explanation: {}",
        to_ana[0].body
    );
    // The others see what she typed, as in a group, but not the error.
    let to_bruno: Vec<&str> = sent
        .iter()
        .filter(|r| r.to == BRUNO_WA)
        .map(|r| r.body.as_str())
        .collect();
    assert_eq!(to_bruno, ["*Ana*: /inc sev 9"]);
}

/// The wamid the fake Graph API gives the next message it accepts.
fn next_wamid(fake: &FakeGraph) -> String {
    format!("wamid.HBgL{:08}", fake.accepted().len() + 1)
}

#[tokio::test]
async fn a_status_that_overtakes_the_send_is_applied_once_the_wamid_is_known() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        h.text(ANA_WA, "Ana", "oi").await;
        h.drain().await;
        enqueue(&h, to_ana(&h, "early")).await;
        // Meta's `failed` for the next message arrives before the worker has even sent it.
        let wamid = next_wamid(&h.graph);
        let early = graph::status(&wamid, "failed", h.now_secs(), ANA_WA, Some(131047));
        assert_eq!(h.post(&early).await, 200);
        h.drain().await;
        let to = h.graph.accepted_to(ANA_WA);
        assert_eq!(to[0].wamid.as_deref(), Some(wamid.as_str()));
        assert_eq!(
            kinds_of(&to),
            ["text", "template"],
            "[{}] the early report sent the template",
            backend.name
        );
        assert_eq!(to[1].body, "mensagem early | —");
        let row = h
            .rows(OutboxState::Sent)
            .await
            .into_iter()
            .find(|r| r.platform_message_id.as_deref() == Some(wamid.as_str()))
            .unwrap();
        assert_eq!(row.delivery_status, Some(DeliveryStatus::Failed));
        // Meta said her window is closed: the next message goes straight to the template.
        enqueue(&h, to_ana(&h, "after")).await;
        h.drain().await;
        let to: Vec<graph::Received> = h
            .graph
            .received()
            .into_iter()
            .filter(|r| r.to == ANA_WA)
            .collect();
        assert_eq!(to.len(), 3, "{to:?}");
        assert_eq!((to[2].kind.as_str(), to[2].status), ("template", 200));
    }
}

/// A delivery answered before the engine could commit (another writer held SQLite's lock past
/// the ack budget) is still carried out when `runroom serve` is stopped meanwhile: Meta would
/// not send it again.
#[tokio::test]
async fn a_stopping_serve_finishes_deliveries_it_already_answered() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGraph::start().await;
    let (mut child, url, log_path) = serve_roster(dir.path(), &fake, "ack_budget_ms = 50", "info");
    let db = format!("sqlite://{}", dir.path().join("runroom.db").display());
    let lock = common::SqliteLock::take(&db).await;

    let body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.stopping",
        chrono::Utc::now().timestamp(),
        "incidente declarar sev2 Antes de parar",
    )
    .to_string();
    let answered = reqwest::Client::new()
        .post(format!("{url}/webhooks/whatsapp"))
        .header(
            "x-hub-signature-256",
            graph::sign(APP_SECRET, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        answered.status().as_u16(),
        200,
        "answered within the budget"
    );

    let term = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    fakes::poll(
        "serve waiting for the answered delivery",
        std::time::Duration::from_secs(10),
        || {
            std::fs::read_to_string(&log_path)
                .ok()
                .filter(|logs| logs.contains("waiting for inbound work in flight"))
        },
    )
    .await;
    lock.release().await;

    let status = fakes::poll("serve to exit", std::time::Duration::from_secs(20), || {
        child.try_wait().ok().flatten()
    })
    .await;
    assert!(status.success());
    let logs = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        !logs.contains("stopped with inbound work unfinished"),
        "it waited for the work: {logs}"
    );
    let store = runroom::store::connect(&db).await.unwrap();
    let incident = store
        .incident(1)
        .await
        .unwrap()
        .expect("declared before stopping");
    assert_eq!(incident.declared_by, "Ana");
}
