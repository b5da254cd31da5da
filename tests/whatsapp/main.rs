//! WhatsApp end to end: deliveries signed as Meta signs them posted to runroom's webhook, the
//! outbox worker delivering to a fake Graph API, a fake Slack and a fake Evolution gateway on
//! loopback, all on a hand-moved clock (the 24-hour window is counted on it). This file is the
//! harness; each module holds the tests of one topic.

#[path = "../common/mod.rs"]
mod common;
#[path = "../fakes/mod.rs"]
mod fakes;

mod groups;
mod limits;
mod logs;
mod paging;
mod processes;
mod roster;
mod send_errors;
mod statuses;
mod webhook;
mod window;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use common::{TestStore, start_time};
use fakes::evolution::FakeEvolution;
use fakes::graph::{self, FakeGraph, PHONE_NUMBER_ID};
use fakes::slack::FakeSlack;
use runroom::app::{App, Secrets};
use runroom::config::Config;
use runroom::engine::Engine;
use runroom::engine::clock::{Clock, ManualClock};
use runroom::engine::room::Inbound;
use runroom::outbox::{OutboxConfig, PlatformLimits};
use runroom::platforms::{slack, whatsapp};
use runroom::store::{MessageKind, OutboxState};
use runroom::store::{NewOutbound, OutboxRow, Store};
use serde_json::Value;

const APP_SECRET: &str = "meta-app-secret-0123456789abcdef";
const VERIFY_TOKEN: &str = "runroom-verify-token";
const EVOLUTION_KEY: &str = "evolution-instance-key";

/// The field team's roster: numbers as configured (E.164) and as WhatsApp sends them (`wa_id`).
const ANA: &str = "+5511987654321";
const ANA_WA: &str = "5511987654321";
const BRUNO: &str = "+5511912345678";
const BRUNO_WA: &str = "5511912345678";
const CARLA: &str = "+5521998765432";
const CARLA_WA: &str = "5521998765432";
const WAR_ROOM: &str = common::SLACK_WAR_ROOM;
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
    next_wamid: AtomicU64,
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
        let (app, base) =
            common::loopback::serve_app(config, backend.store.clone(), clock.clone(), secrets)
                .await;
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
            next_wamid: AtomicU64::new(1),
        }
    }

    fn now_secs(&self) -> i64 {
        self.clock.now().timestamp()
    }

    fn wamid(&self) -> String {
        let n = self.next_wamid.fetch_add(1, Ordering::SeqCst);
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

/// A command typed in the Slack war room.
fn inbound_from_slack(text: &str) -> Inbound {
    static N: AtomicU64 = AtomicU64::new(1);
    let event_id = format!("Ev{}", N.fetch_add(1, Ordering::SeqCst));
    common::from_slack(event_id, text, start_time())
}

/// A message to Ana in the roster room.
fn to_ana(h: &Harness, key: &str) -> NewOutbound {
    NewOutbound {
        kind: MessageKind::Reply,
        priority: 0,
        ..common::whatsapp_message(key, ANA, h.clock.now())
    }
}

async fn enqueue(h: &Harness, message: NewOutbound) {
    common::enqueue(&h.store, &[message]).await;
}
