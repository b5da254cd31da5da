//! Slack end to end: signed requests to runroom's webhooks, the outbox worker delivering to a
//! fake Slack Web API on loopback, and Socket Mode over a fake WebSocket.

mod common;
mod fakes;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{TestStore, backends};
use fakes::slack::{FakeSlack, Reply};
use runroom::app::{App, Secrets};
use runroom::config::Config;
use runroom::engine::clock::{Clock, ManualClock, SystemClock};
use runroom::engine::room::Platform;
use runroom::i18n::Lang;
use runroom::outbox::{OutboxConfig, PlatformLimits};
use runroom::platforms::slack;
use runroom::store::MessageKind;
use runroom::store::OutboxState;
use runroom::store::{NewOutbound, Store};
use serde_json::{Value, json};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
const WAR_ROOM: &str = "C0RUNROOM";
const STATUS_ROOM: &str = "C0STATUS";

/// Pacing out of the way for the flow tests (the storm test sets its own).
fn unpaced() -> OutboxConfig {
    let mut config = OutboxConfig::default();
    config
        .limits
        .insert("slack".into(), PlatformLimits::unlimited());
    config
}

/// The rooms as `runroom.toml` lists them.
const ROOMS: &str = r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "C0RUNROOM"
timezone = "America/New_York"

[[rooms]]
id = "status"
platform = "slack"
chat = "C0STATUS"
timezone = "America/New_York"
role = "announce"

[[rooms]]
id = "console"
platform = "console"
chat = "console"
language = "pt-BR"
"#;

/// runroom's Slack side on loopback, built as `serve` builds it, against a fake Slack.
struct Harness {
    fake: FakeSlack,
    app: App,
    base: String,
    http: reqwest::Client,
}

impl Harness {
    async fn start(backend: &TestStore, outbox: OutboxConfig) -> Harness {
        Harness::start_in(backend, outbox, "http").await
    }

    /// With `[slack] mode` set to `mode` (`http` or `socket`), or `mode` then more `[slack]`
    /// keys on the lines after it.
    async fn start_in(backend: &TestStore, outbox: OutboxConfig, mode: &str) -> Harness {
        // Real time: Slack's signatures and Retry-After are checked against it.
        Harness::start_with(backend, outbox, mode, Arc::new(SystemClock)).await
    }

    /// Over HTTP, with the engine on `clock` (signatures are still checked in real time).
    async fn start_with(
        backend: &TestStore,
        outbox: OutboxConfig,
        mode: &str,
        clock: Arc<dyn Clock>,
    ) -> Harness {
        let fake = FakeSlack::start().await;
        fake.add_user("U0ANA", "Ana");
        fake.add_user("U0BEN", "Ben");
        let (mode, more) = mode.split_once('\n').unwrap_or((mode, ""));
        let text = format!(
            "{ROOMS}\n[slack]\napi_url = \"{}\"\nmode = \"{mode}\"\n{more}\n",
            fake.api_url
        );
        let mut config = Config::parse(&text, "slack test", &[]).expect("config");
        config.outbox = outbox;
        let secrets = Secrets::from_pairs([
            (slack::BOT_TOKEN_ENV, fake.bot_token.clone()),
            (slack::SIGNING_SECRET_ENV, SECRET.to_string()),
            (slack::APP_TOKEN_ENV, fake.app_token.clone()),
        ]);
        let store = backend.store.clone();
        let (app, base) = common::loopback::serve_app(config, store, clock, secrets).await;
        Harness {
            fake,
            app,
            base,
            http: reqwest::Client::new(),
        }
    }

    /// Posts a body signed as Slack signs it, `age` seconds in the past.
    async fn signed(
        &self,
        path: &str,
        content_type: &str,
        body: String,
        secret: &str,
        age: i64,
        retry: Option<u32>,
    ) -> (u16, String, Duration) {
        let timestamp = (chrono::Utc::now().timestamp() - age).to_string();
        let mut request = self
            .http
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .header("x-slack-request-timestamp", &timestamp)
            .header("x-slack-signature", sign(secret, &timestamp, &body));
        if let Some(retry) = retry {
            request = request
                .header("x-slack-retry-num", retry.to_string())
                .header("x-slack-retry-reason", "http_timeout");
        }
        let started = Instant::now();
        let response = request
            .body(body)
            .send()
            .await
            .expect("request reaches runroom");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, text, started.elapsed())
    }

    async fn slash(&self, user: &str, text: &str, trigger: &str) -> (u16, String, Duration) {
        self.signed(
            "/webhooks/slack/commands",
            "application/x-www-form-urlencoded",
            slash_body(user, text, trigger),
            SECRET,
            0,
            None,
        )
        .await
    }

    async fn event(&self, event: &Value, retry: Option<u32>) -> u16 {
        self.signed(
            "/webhooks/slack/events",
            "application/json",
            event.to_string(),
            SECRET,
            0,
            retry,
        )
        .await
        .0
    }

    async fn press(&self, user: &str, action: &str, trigger: &str, card_ts: &str) -> u16 {
        let payload = json!({
            "type": "block_actions",
            "team": { "id": "T0RUNROOM", "domain": "acme" },
            "user": { "id": user, "username": "ben", "name": "ben", "team_id": "T0RUNROOM" },
            "api_app_id": "A0RUNROOM",
            "token": "legacy-verification-token",
            "container": { "type": "message", "message_ts": card_ts, "channel_id": WAR_ROOM, "is_ephemeral": false },
            "trigger_id": trigger,
            "channel": { "id": WAR_ROOM, "name": "runroom" },
            "response_url": "https://hooks.slack.com/actions/T0RUNROOM/1/abc",
            "actions": [{
                "type": "button",
                "action_id": action,
                "block_id": "b1",
                "text": { "type": "plain_text", "text": "Ack" },
                "value": action,
                "action_ts": "1700000100.000200"
            }]
        });
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).expect("form");
        self.signed(
            "/webhooks/slack/interactions",
            "application/x-www-form-urlencoded",
            body,
            SECRET,
            0,
            None,
        )
        .await
        .0
    }

    async fn drain(&self) {
        self.app.worker.drain().await.expect("outbox drains");
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.app.engine.store()
    }

    /// Waits until the name of a Slack user id is remembered in the database.
    async fn name_known(&self, user: &str) -> String {
        let store = self.store().clone();
        common::poll_async(
            &format!("the name of {user}"),
            Duration::from_secs(10),
            async || {
                store
                    .person_name(Platform::Slack, user)
                    .await
                    .expect("people")
            },
        )
        .await
    }

    /// Waits until no inbound work or name lookup is running.
    async fn settled(&self) {
        let engine = self.app.engine.clone();
        common::poll("inbound work to settle", Duration::from_secs(10), || {
            engine.in_flight().is_empty().then_some(())
        })
        .await;
    }

    /// Every outbox row in a state, oldest first.
    async fn rows(&self, state: OutboxState) -> Vec<runroom::store::OutboxRow> {
        common::outbox_rows(self.store(), state).await
    }

    /// The console room's messages, in the order they were queued (sent or not yet).
    async fn console_texts(&self) -> Vec<String> {
        let store = self.store();
        let mut rows = store
            .pending_outbox(Platform::Console, 100)
            .await
            .expect("outbox");
        rows.extend(
            store
                .outbox_in_state(OutboxState::Sent, 100)
                .await
                .expect("outbox"),
        );
        rows.retain(|r| r.message.platform == Platform::Console);
        rows.sort_by_key(|r| r.id);
        rows.into_iter().map(|r| r.message.text).collect()
    }
}

fn sign(secret: &str, timestamp: &str, body: &str) -> String {
    fakes::slack::signature(secret, timestamp, body)
}

fn slash_body(user: &str, text: &str, trigger: &str) -> String {
    serde_urlencoded::to_string([
        ("token", "legacy-verification-token"),
        ("team_id", "T0RUNROOM"),
        ("team_domain", "acme"),
        ("channel_id", WAR_ROOM),
        ("channel_name", "runroom"),
        ("user_id", user),
        ("user_name", "ana"),
        ("command", "/inc"),
        ("text", text),
        ("api_app_id", "A0RUNROOM"),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0RUNROOM/1/xyz",
        ),
        ("trigger_id", trigger),
    ])
    .expect("form")
}

fn message_event(event_id: &str, user: &str, text: &str, ts: &str) -> Value {
    json!({
        "token": "legacy-verification-token",
        "team_id": "T0RUNROOM",
        "api_app_id": "A0RUNROOM",
        "event": {
            "type": "message",
            "channel": WAR_ROOM,
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": ts,
            "client_msg_id": "5f1c2a5e-0000-4000-8000-000000000001"
        },
        "type": "event_callback",
        "event_id": event_id,
        "event_time": 1700000000
    })
}

fn mention_event(event_id: &str, user: &str, text: &str, ts: &str) -> Value {
    let mut event = message_event(event_id, user, text, ts);
    event["event"]["type"] = json!("app_mention");
    event
}

fn header_text(card: &fakes::slack::Posted) -> String {
    card.blocks.as_ref().expect("a card has blocks")[0]["text"]["text"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn button_ids(card: &fakes::slack::Posted) -> Vec<String> {
    card.blocks
        .as_ref()
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["action_id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_slash_declare_posts_a_pinned_card_and_broadcasts() {
    for backend in backends().await {
        let h = Harness::start(&backend, unpaced()).await;
        let (status, body, _) = h.slash("U0ANA", "declare sev1 Checkout down", "T1").await;
        assert_eq!((status, body.as_str()), (200, ""), "{}", backend.name);
        h.drain().await;

        let cards = h.fake.cards(WAR_ROOM);
        assert_eq!(cards.len(), 1, "{}: one card in the war room", backend.name);
        let card = &cards[0];
        assert!(
            header_text(card).contains("Checkout down"),
            "{}",
            header_text(card)
        );
        assert!(header_text(card).contains("SEV1"), "{}", header_text(card));
        assert_eq!(
            button_ids(card),
            ["ack:1", "update:1", "escalate:1", "resolve:1"]
        );
        assert_eq!(h.fake.pins(), vec![(WAR_ROOM.to_string(), card.ts.clone())]);
        let thread = h.fake.thread(WAR_ROOM, &card.ts);
        assert_eq!(
            thread.len(),
            1,
            "the declaration is the first timeline reply"
        );
        assert!(thread[0].text.contains("<@U0ANA>"), "{}", thread[0].text);

        // The announce channel gets the customer-safe message, without card or buttons.
        let status_room = h.fake.messages(STATUS_ROOM);
        assert_eq!(status_room.len(), 1);
        assert!(status_room[0].blocks.is_none());
        assert!(!status_room[0].text.contains("U0ANA"));

        // Other platforms see the Slack user by id while the name is unknown (it is looked up
        // after the commit), then by name, in their own language.
        let console = h.console_texts().await;
        assert_eq!(console.len(), 1, "{console:?}");
        assert!(console[0].contains("@U0ANA"), "{}", console[0]);
        assert!(!console[0].contains("<@"), "{}", console[0]);
        h.name_known("U0ANA").await;
        h.slash("U0ANA", "update 1 rolling back", "T2").await;
        h.drain().await;
        let console = h.console_texts().await;
        assert_eq!(console.len(), 2, "{console:?}");
        assert!(console[1].contains("@Ana"), "{}", console[1]);
    }
}

#[tokio::test]
async fn a_button_press_updates_the_card_in_place() {
    for backend in backends().await {
        let h = Harness::start(&backend, unpaced()).await;
        h.slash("U0ANA", "declare sev2 Payments slow", "T1").await;
        h.drain().await;
        let card_ts = h.fake.cards(WAR_ROOM)[0].ts.clone();

        assert_eq!(h.press("U0BEN", "ack:1", "T2", &card_ts).await, 200);
        h.drain().await;
        let cards = h.fake.cards(WAR_ROOM);
        assert_eq!(cards.len(), 1, "{}: no second card", backend.name);
        assert_eq!(cards[0].ts, card_ts);
        assert_eq!(cards[0].edits, 1, "chat.update once");
        assert!(!button_ids(&cards[0]).contains(&"ack:1".to_string()));
        let fields = cards[0].blocks.as_ref().unwrap().to_string();
        assert!(fields.contains("<@U0BEN>"), "{fields}");
        assert_eq!(
            h.fake.thread(WAR_ROOM, &card_ts).len(),
            2,
            "the ack joins the thread"
        );
        assert_eq!(h.fake.pins().len(), 1, "pinned once");

        // Resolve from the card: the card loses its buttons.
        assert_eq!(h.press("U0BEN", "resolve:1", "T3", &card_ts).await, 200);
        h.drain().await;
        let cards = h.fake.cards(WAR_ROOM);
        assert_eq!((cards.len(), cards[0].edits), (1, 2));
        assert!(button_ids(&cards[0]).is_empty());
        assert!(h.store().open_incidents().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_retried_event_acts_once() {
    for backend in backends().await {
        let h = Harness::start(&backend, unpaced()).await;
        let first = message_event(
            "Ev01",
            "U0ANA",
            "inc declare sev2 Queue backlog",
            "1700000001.000100",
        );
        assert_eq!(h.event(&first, None).await, 200);
        assert_eq!(h.event(&first, Some(1)).await, 200);
        assert_eq!(h.event(&first, Some(2)).await, 200);
        // Slack also sends app_mention for a message that mentions the bot: same message, once.
        let mention = mention_event(
            "Ev02",
            "U0ANA",
            "inc declare sev2 Queue backlog",
            "1700000001.000100",
        );
        assert_eq!(h.event(&mention, None).await, 200);
        h.drain().await;
        let incidents = h.store().recent_incidents(10).await.unwrap();
        assert_eq!(incidents.len(), 1, "{}", backend.name);
        assert_eq!(h.fake.cards(WAR_ROOM).len(), 1);

        // Bot messages and edits are not commands, whatever they say.
        let mut bot = message_event(
            "Ev03",
            "U0ANA",
            "inc declare sev1 Loop",
            "1700000002.000100",
        );
        bot["event"]["bot_id"] = json!("B0OTHER");
        let mut edit = message_event(
            "Ev04",
            "U0ANA",
            "inc declare sev1 Edit",
            "1700000003.000100",
        );
        edit["event"]["subtype"] = json!("message_changed");
        assert_eq!(h.event(&bot, None).await, 200);
        assert_eq!(h.event(&edit, None).await, 200);
        // A mention with no prefix is a command: "@runroom resolve 1".
        let resolve = mention_event(
            "Ev05",
            "U0BEN",
            "<@U0RUNROOM> resolve 1",
            "1700000004.000100",
        );
        assert_eq!(h.event(&resolve, None).await, 200);
        assert_eq!(h.store().recent_incidents(10).await.unwrap().len(), 1);
        assert!(h.store().open_incidents().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_bad_or_stale_signature_gets_401_and_nothing_happens() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend, unpaced()).await;
    let body = slash_body("U0ANA", "declare sev1 Forged", "T9");
    let form = "application/x-www-form-urlencoded";
    let path = "/webhooks/slack/commands";
    let wrong = h
        .signed(path, form, body.clone(), "not-the-secret", 0, None)
        .await;
    let stale = h.signed(path, form, body.clone(), SECRET, 301, None).await;
    let future = h.signed(path, form, body.clone(), SECRET, -400, None).await;
    assert_eq!((wrong.0, stale.0, future.0), (401, 401, 401));
    let unsigned = h
        .http
        .post(format!("{}{path}", h.base))
        .header("content-type", form)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let event = message_event(
        "Ev01",
        "U0ANA",
        "inc declare sev1 Forged",
        "1700000001.000100",
    );
    let forged = h
        .signed(
            "/webhooks/slack/events",
            "application/json",
            event.to_string(),
            "nope",
            0,
            None,
        )
        .await;
    assert_eq!(forged.0, 401);
    assert!(h.store().recent_incidents(10).await.unwrap().is_empty());
    assert!(h.store().outbox_stats().await.unwrap().is_empty());

    // Slack's URL check is answered with the challenge once signed.
    let check = json!({ "token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification" });
    let (status, body, _) = h
        .signed(
            "/webhooks/slack/events",
            "application/json",
            check.to_string(),
            SECRET,
            0,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
}

#[tokio::test]
async fn errors_and_slash_answers_are_ephemeral_to_the_person() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend, unpaced()).await;
    h.slash("U0ANA", "sev INC-99 sev1", "T1").await;
    h.slash("U0BEN", "help", "T2").await;
    let typo = message_event("Ev01", "U0ANA", "inc resolv 1", "1700000001.000100");
    h.event(&typo, None).await;
    h.drain().await;
    let ephemeral = h.fake.ephemeral();
    assert_eq!(ephemeral.len(), 3, "{ephemeral:?}");
    assert_eq!(
        (ephemeral[0].0.as_str(), ephemeral[0].1.as_str()),
        (WAR_ROOM, "U0ANA")
    );
    assert!(ephemeral[0].2.contains("INC-99"), "{}", ephemeral[0].2);
    assert_eq!(ephemeral[1].1, "U0BEN");
    assert!(
        ephemeral[2].2.contains("resolve"),
        "did you mean: {}",
        ephemeral[2].2
    );
    assert!(
        h.fake.messages(WAR_ROOM).is_empty(),
        "nothing in the channel"
    );
}

#[tokio::test]
async fn a_rate_limit_storm_is_paced() {
    let backend = common::sqlite().await;
    // Slack's own pacing (1/s per channel, bursts of 3), against a fake that enforces it too
    // and also answers the first two calls with 429 Retry-After: 1.
    let h = Harness::start(&backend, OutboxConfig::default()).await;
    h.fake.limit("chat.postMessage", 3, 1.0);
    h.fake.script([
        Reply::RateLimited { retry_after: 1 },
        Reply::RateLimited { retry_after: 1 },
    ]);
    let messages: Vec<NewOutbound> = (0..6)
        .map(|i| NewOutbound {
            idempotency_key: format!("storm-{i}"),
            room_id: "runroom".into(),
            platform: Platform::Slack,
            chat: WAR_ROOM.into(),
            thread: None,
            kind: MessageKind::Broadcast,
            language: Lang::En,
            text: format!("update {i}"),
            rich: None,
            incident: None,
            priority: 2,
            created_at: chrono::Utc::now(),
            recipient: None,
            topic: None,
        })
        .collect();
    common::enqueue(&backend.store, &messages).await;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = h.app.worker.sibling("storm");
    let running = tokio::spawn(async move { worker.run(stopped).await });
    h.fake
        .wait_until("6 messages posted", Duration::from_secs(60), |f| {
            f.messages(WAR_ROOM).len() >= 6
        })
        .await;
    let _ = stop.send(true);
    let _ = running.await;

    let mut texts: Vec<String> = h
        .fake
        .messages(WAR_ROOM)
        .into_iter()
        .map(|m| m.text)
        .collect();
    texts.sort();
    let expected: Vec<String> = (0..6).map(|i| format!("update {i}")).collect();
    assert_eq!(texts, expected, "each message exactly once");
    let calls = h.fake.calls();
    let limited = h.fake.count_status(429);
    assert!(
        (2..=3).contains(&limited),
        "paced below the limit: {limited} 429s"
    );
    // Each message refused with Retry-After: 1 was tried again only after that second.
    for refused in calls.iter().filter(|c| c.status == 429) {
        let retry = calls
            .iter()
            .find(|c| c.at > refused.at && c.body["text"] == refused.body["text"])
            .expect("a refused message is retried");
        let waited = retry.at.duration_since(refused.at);
        assert!(
            waited >= Duration::from_millis(950),
            "retried after {waited:?}"
        );
    }
}

#[tokio::test]
async fn a_slash_command_is_acknowledged_in_time_while_the_database_is_locked() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend, unpaced()).await;

    // Another writer holds SQLite's write lock.
    let lock = common::SqliteLock::take(backend.url()).await;

    let (status, _, took) = h.slash("U0ANA", "declare sev1 Database stuck", "T1").await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "acknowledged after {took:?}");

    // The lock goes away; the command the ack promised is carried out.
    lock.release().await;
    let store = h.store();
    common::poll_async(
        "the acknowledged command",
        Duration::from_secs(20),
        async || {
            let declared = store.recent_incidents(10).await.unwrap();
            (!declared.is_empty()).then_some(())
        },
    )
    .await;
    h.drain().await;
    assert_eq!(h.fake.cards(WAR_ROOM).len(), 1);
}

#[tokio::test]
async fn a_command_from_another_workspace_is_refused_and_changes_nothing() {
    let backend = common::sqlite().await;
    let h = Harness::start_in(&backend, unpaced(), "http\nteam_id = \"T0RUNROOM\"").await;

    // A slash command from another team: refused in Slack's answer itself, nothing stored.
    let body = slash_body("U0GUEST", "declare sev1 Not ours", "T9")
        .replace("team_id=T0RUNROOM", "team_id=T0OTHER");
    let (status, answer, _) = h
        .signed(
            "/webhooks/slack/commands",
            "application/x-www-form-urlencoded",
            body,
            SECRET,
            0,
            None,
        )
        .await;
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&answer).expect("an ephemeral answer");
    assert_eq!(answer["response_type"], "ephemeral");
    assert!(
        answer["text"]
            .as_str()
            .is_some_and(|t| t.contains("own Slack workspace")),
        "{answer}"
    );

    // A Slack Connect guest in the shared war room: told privately, nothing else.
    let mut guest = message_event(
        "EvGuest",
        "U0GUEST",
        "inc declare sev1 Guest",
        "1700000002.000100",
    );
    guest["event"]["user_team"] = json!("T0GUEST");
    assert_eq!(h.event(&guest, None).await, 200);
    h.drain().await;
    assert!(h.store().recent_incidents(10).await.unwrap().is_empty());
    let told = h.fake.ephemeral();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0].1, "U0GUEST");
    assert!(told[0].2.contains("own Slack workspace"), "{told:?}");

    // Runroom's own workspace still commands.
    let (status, _, _) = h.slash("U0ANA", "declare sev2 Ours", "T10").await;
    assert_eq!(status, 200);
    assert_eq!(h.store().recent_incidents(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn socket_mode_takes_commands_and_acknowledges_them() {
    let backend = common::sqlite().await;
    let mut h = Harness::start_in(&backend, unpaced(), "socket").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut running = h.app.start(&stopped);
    let envelope = h.fake.push_envelope(
        "slash_commands",
        json!({
            "token": "legacy-verification-token",
            "team_id": "T0RUNROOM",
            "team_domain": "acme",
            "channel_id": WAR_ROOM,
            "channel_name": "runroom",
            "user_id": "U0ANA",
            "user_name": "ana",
            "command": "/inc",
            "text": "declare sev2 Socket check",
            "api_app_id": "A0RUNROOM",
            "response_url": "https://hooks.slack.com/commands/T0RUNROOM/1/xyz",
            "trigger_id": "T1"
        }),
    );
    h.fake
        .wait_until("the envelope acknowledged", Duration::from_secs(20), |f| {
            f.socket_acks()
                .iter()
                .any(|a| a["envelope_id"] == envelope.as_str())
        })
        .await;
    let event = h.fake.push_envelope(
        "events_api",
        message_event("Ev01", "U0BEN", "inc ack", "1700000001.000100"),
    );
    h.fake
        .wait_until("the event acknowledged", Duration::from_secs(20), |f| {
            f.socket_acks()
                .iter()
                .any(|a| a["envelope_id"] == event.as_str())
        })
        .await;
    let _ = stop.send(true);
    while running.join_next().await.is_some() {}
    h.drain().await;
    let incidents = h.store().recent_incidents(10).await.unwrap();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].acked_by.as_deref(), Some("<@U0BEN>"));
    let cards = h.fake.cards(WAR_ROOM);
    assert_eq!((cards.len(), cards[0].edits), (1, 1));
}

/// `runroom serve` as deployed: a config file, the secrets in the environment.
fn serve_with_slack(
    dir: &std::path::Path,
    fake: &FakeSlack,
    mode: &str,
) -> (std::process::Child, String) {
    common::process::spawn_serve(&mut slack_serve(dir, fake, mode))
}

/// [`serve_with_slack`], its logs going to `logs`.
fn serve_with_slack_logging(
    dir: &std::path::Path,
    fake: &FakeSlack,
    mode: &str,
    logs: impl Into<std::process::Stdio>,
) -> (std::process::Child, String) {
    common::process::spawn_serve_logging(&mut slack_serve(dir, fake, mode), logs)
}

/// The `runroom serve` command of [`serve_with_slack`], not started yet.
fn slack_serve(dir: &std::path::Path, fake: &FakeSlack, mode: &str) -> std::process::Command {
    slack_serve_with(dir, &common::sqlite_url(dir), fake, mode, "")
}

/// [`slack_serve`] on the database at `database_url`, with more of the config file (`extra`,
/// after the rest).
fn slack_serve_with(
    dir: &std::path::Path,
    database_url: &str,
    fake: &FakeSlack,
    mode: &str,
    extra: &str,
) -> std::process::Command {
    let rest = format!(
        r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "{WAR_ROOM}"
timezone = "America/Sao_Paulo"

[slack]
api_url = "{api}"
mode = "{mode}"
{extra}
"#,
        api = fake.api_url,
    );
    let config = common::process::serve_config(dir, database_url, &rest);
    let mut command = common::process::serve_command(&config);
    command
        .env("RUNROOM_SLACK_BOT_TOKEN", &fake.bot_token)
        .env("RUNROOM_SLACK_SIGNING_SECRET", SECRET)
        .env("RUNROOM_SLACK_APP_TOKEN", &fake.app_token);
    command
}

/// A signed slash command to a running `serve`: its status and how long the answer took.
async fn slash_to(url: &str, text: &str, trigger: &str) -> (u16, Duration) {
    let client = reqwest::Client::new();
    let started = Instant::now();
    let response = fakes::slack::signed_slash(&client, url, SECRET, ("U0ANA", text, trigger))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), started.elapsed())
}

/// The incidents in a stopped or running `serve`'s SQLite file.
async fn incidents_in(dir: &std::path::Path) -> Vec<runroom::engine::incident::Incident> {
    let store = runroom::store::connect(&common::sqlite_url(dir))
        .await
        .unwrap();
    store.recent_incidents(10).await.unwrap()
}

#[tokio::test]
async fn a_command_acknowledged_while_the_database_is_locked_survives_a_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let (mut child, url) = serve_with_slack(dir.path(), &fake, "http");

    // Another process holds SQLite's write lock: the command cannot commit within the ack
    // budget, so Slack is answered first, and the command is journaled before that answer.
    let lock = common::SqliteLock::take(&common::sqlite_url(dir.path())).await;
    let (status, took) = slash_to(&url, "declare sev1 Locked then killed", "T1").await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "acknowledged after {took:?}");
    let journal = dir.path().join("runroom.db.inbound");
    assert!(
        std::fs::metadata(&journal).unwrap().len() > 0,
        "journaled before the answer"
    );

    // Killed while the lock is still held: nothing of the command was stored.
    child.kill().unwrap();
    child.wait().unwrap();
    lock.release().await;
    assert!(incidents_in(dir.path()).await.is_empty());
    assert!(fake.cards(WAR_ROOM).is_empty());

    // The restart replays it: carried out once.
    let (mut child, _url) = serve_with_slack(dir.path(), &fake, "http");
    fake.wait_until(
        "the acknowledged command's card",
        Duration::from_secs(20),
        |f| f.cards(WAR_ROOM).len() == 1,
    )
    .await;
    common::poll("the journal emptied", Duration::from_secs(20), || {
        (std::fs::metadata(&journal).ok()?.len() == 0).then_some(())
    })
    .await;
    assert!(common::process::terminate(&mut child).await.success());
    let incidents = incidents_in(dir.path()).await;
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].title, "Locked then killed");

    // A second restart finds nothing left to do.
    let (mut child, _url) = serve_with_slack(dir.path(), &fake, "http");
    assert!(common::process::terminate(&mut child).await.success());
    assert_eq!(incidents_in(dir.path()).await.len(), 1);
    assert_eq!(fake.cards(WAR_ROOM).len(), 1);
}

/// Whether every outbox row of a stopped `serve` is sent.
async fn all_sent(dir: &std::path::Path) -> bool {
    let store = runroom::store::connect(&common::sqlite_url(dir))
        .await
        .unwrap();
    let stats = store.outbox_stats().await.unwrap();
    stats
        .iter()
        .all(|s| s.state == OutboxState::Sent || s.count == 0)
}

/// A post Slack accepted whose answer never came back (`serve` was killed first) has an unknown
/// outcome. After the restart it is looked up by the outbox id in its metadata rather than
/// posted again: the card once (recorded and pinned as its answer would have done), then the
/// thread reply once, for a declaration and for an update.
#[tokio::test]
async fn a_post_accepted_before_a_sigkill_is_found_not_posted_again() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let serve = || {
        let mut command = slack_serve(dir.path(), &fake, "http");
        // A dead worker's claim passes to the next process quickly.
        command.env("RUNROOM_OUTBOX_LEASE_SECONDS", "1");
        common::process::spawn_serve(&mut command)
    };

    // The card is posted, and its answer never arrives.
    fake.withhold_posts_after(0);
    let (mut child, url) = serve();
    assert_eq!(
        slash_to(&url, "declare sev1 Accepted then killed", "T1")
            .await
            .0,
        200
    );
    fake.wait_until("the card posted", Duration::from_secs(20), |f| {
        f.cards(WAR_ROOM).len() == 1
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    fake.answer_posts();
    // The channel is busy: more messages since the card than one page of the lookup holds.
    fake.chatter(WAR_ROOM, 250);
    // The first lookup is refused (429): the row waits, still in doubt, rather than posting.
    fake.script([Reply::RateLimited { retry_after: 1 }]);
    let (mut child, url) = serve();
    let card = fake.cards(WAR_ROOM)[0].ts.clone();
    fake.wait_until(
        "the declaration in the card's thread",
        Duration::from_secs(20),
        |f| f.thread(WAR_ROOM, &card).len() == 1,
    )
    .await;
    let lookups: Vec<(u16, bool)> = fake
        .calls()
        .iter()
        .filter(|c| c.method == "conversations.history")
        .map(|c| (c.status, c.body.get("cursor").is_some()))
        .collect();
    assert_eq!(
        lookups,
        [(429, false), (200, false), (200, true)],
        "looked up again after the 429, then on the next page"
    );

    // An update: the card is edited, the reply posted, and that answer never arrives.
    fake.withhold_posts_after(0);
    assert_eq!(
        slash_to(&url, "update rolled back the deploy", "T2")
            .await
            .0,
        200
    );
    fake.wait_until("the update's reply posted", Duration::from_secs(20), |f| {
        f.thread(WAR_ROOM, &card).len() == 2
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    fake.answer_posts();
    let (mut child, _url) = serve();
    common::poll_async("every message sent", Duration::from_secs(20), async || {
        all_sent(dir.path()).await.then_some(())
    })
    .await;
    assert!(common::process::terminate(&mut child).await.success());
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.method == "conversations.replies"),
        "the reply was looked up in the card's thread"
    );
    assert_eq!(fake.cards(WAR_ROOM).len(), 1, "one card");
    assert_eq!(fake.pins().len(), 1, "pinned once");
    let replies: Vec<String> = fake
        .thread(WAR_ROOM, &card)
        .into_iter()
        .map(|m| m.text)
        .collect();
    assert_eq!(replies.len(), 2, "each reply once: {replies:?}");
}

/// The crash the reliability work set out from: a `serve` killed in the middle of a burst of
/// declarations, with sends in flight that Slack accepted but whose answers never came back.
/// One process on SQLite, restarted after the kill.
#[tokio::test(flavor = "multi_thread")]
async fn a_burst_killed_mid_flight_leaves_no_duplicate_post() {
    let dir = tempfile::tempdir().unwrap();
    burst_with_a_kill(dir.path(), &common::sqlite_url(dir.path()), 1).await;
}

/// [`a_burst_killed_mid_flight_leaves_no_duplicate_post`] with two replicas on one Postgres,
/// the burst shared between them, and one killed: the other takes over the dead one's sends
/// after their lease, having posted many more messages since.
#[tokio::test(flavor = "multi_thread")]
async fn two_replicas_one_killed_mid_burst_leave_no_duplicate_post() {
    let Some(pg) = common::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    burst_with_a_kill(dir.path(), pg.url(), 2).await;
}

/// The outbox rows the process `pid` is sending (its workers' ids start with its pid).
async fn sending_rows_of(database_url: &str, pid: u32) -> Vec<i64> {
    let sql = "SELECT id FROM outbox WHERE state = 'sending' AND claimed_by LIKE $1";
    let owner = format!("{pid}-%");
    let rows = if database_url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
        let rows = sqlx::query_scalar(sql).bind(owner).fetch_all(&pool).await;
        pool.close().await;
        rows
    } else {
        let pool = sqlx::PgPool::connect(database_url).await.unwrap();
        let rows = sqlx::query_scalar(sql).bind(owner).fetch_all(&pool).await;
        pool.close().await;
        rows
    };
    rows.unwrap()
}

/// Declarations at concurrency 16, spread over `replicas` processes of `serve` on
/// `database_url`. Slack answers the first posts, then accepts posts without answering; the
/// first process is SIGKILLed with those posts in flight, Slack answers again, and a process
/// is (re)started if none is left. Once every message is sent: every acknowledged command is
/// one incident, and no incident has a second card, pin or reply.
async fn burst_with_a_kill(dir: &std::path::Path, database_url: &str, replicas: usize) {
    const COMMANDS: usize = 400;
    const ANSWERED: usize = 100;
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    // Slack's pacing would take minutes over this many cards; the lease is short so another
    // process reclaims the dead worker's rows quickly.
    let extra = r#"
[outbox]
lease_seconds = 1

[outbox.limits.slack]
rate = 10000.0
burst = 10000
per_chat_rate = 10000.0
per_chat_burst = 10000
"#;
    let serve = |name: usize| {
        let mut command = slack_serve_with(dir, database_url, &fake, "http", extra);
        common::process::replica(&mut command, dir, &name.to_string());
        common::process::spawn_serve(&mut command)
    };
    let title = |i: usize| format!("burst-{i:04}-end");

    fake.withhold_posts_after(ANSWERED);
    let mut processes: Vec<_> = (0..replicas).map(serve).collect();
    let urls: Vec<String> = processes.iter().map(|(_, url)| url.clone()).collect();
    let burst = tokio::spawn(async move {
        use futures_util::StreamExt;
        futures_util::stream::iter(0..COMMANDS)
            .map(|i| {
                let url = urls[i % urls.len()].clone();
                async move {
                    let client = reqwest::Client::new();
                    let text = format!("declare sev3 {}", title(i));
                    let answer = fakes::slack::signed_slash(
                        &client,
                        &url,
                        SECRET,
                        ("U0ANA", &text, &format!("B{i}")),
                    )
                    .send()
                    .await;
                    (i, answer.map(|r| r.status().as_u16()).ok())
                }
            })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await
    });
    // Killed once Slack holds a post of its that it accepted: a send of unknown outcome.
    let pid = processes[0].0.id();
    common::poll_async(
        "a post of the first process accepted and left unanswered",
        Duration::from_secs(60),
        async || {
            let sending = sending_rows_of(database_url, pid).await;
            let accepted = fake.withheld_posts().iter().any(|post| {
                post["metadata"]["event_payload"]["outbox_id"]
                    .as_str()
                    .and_then(|id| id.parse::<i64>().ok())
                    .is_some_and(|id| sending.contains(&id))
            });
            accepted.then_some(())
        },
    )
    .await;
    let (mut killed, _) = processes.remove(0);
    killed.kill().unwrap();
    killed.wait().unwrap();
    fake.answer_posts();
    let acknowledged: Vec<usize> = burst
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, status)| *status == Some(200))
        .map(|(i, _)| i)
        .collect();
    assert!(
        acknowledged.len() < COMMANDS,
        "the killed process took no more commands"
    );

    if processes.is_empty() {
        processes.push(serve(0));
    }
    let store = runroom::store::connect(database_url).await.unwrap();
    common::poll_async("every message sent", Duration::from_secs(60), async || {
        let stats = store.outbox_stats().await.unwrap();
        stats
            .iter()
            .all(|s| s.state == OutboxState::Sent || s.count == 0)
            .then_some(())
    })
    .await;
    for (mut child, _) in processes {
        assert!(common::process::terminate(&mut child).await.success());
    }

    let incidents = store.recent_incidents(2 * COMMANDS as i64).await.unwrap();
    for i in &acknowledged {
        let stored = incidents
            .iter()
            .filter(|inc| inc.title == title(*i))
            .count();
        assert_eq!(
            stored,
            1,
            "acknowledged {:?} stored {stored} times",
            title(*i)
        );
    }
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.method.starts_with("conversations.")),
        "sends of unknown outcome were looked up"
    );
    let cards = fake.cards(WAR_ROOM);
    let mut duplicated = Vec::new();
    for incident in &incidents {
        let its: Vec<_> = cards
            .iter()
            .filter(|c| header_text(c).contains(&incident.title))
            .collect();
        let replies = its
            .first()
            .map(|card| fake.thread(WAR_ROOM, &card.ts).len())
            .unwrap_or_default();
        if its.len() != 1 || replies != 1 {
            duplicated.push((incident.title.clone(), its.len(), replies));
        }
    }
    assert!(
        duplicated.is_empty(),
        "(title, cards, replies): {duplicated:?}"
    );
    assert_eq!(cards.len(), incidents.len(), "one card an incident");
    assert_eq!(fake.pins().len(), incidents.len(), "one pin an incident");
}

#[tokio::test]
async fn acknowledged_work_that_failed_is_retried_without_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let logs = dir.path().join("serve.log");
    let (mut child, url) = serve_with_slack_logging(
        dir.path(),
        &fake,
        "http",
        std::fs::File::create(&logs).unwrap(),
    );
    let lock = common::SqliteLock::take(&common::sqlite_url(dir.path())).await;
    let (status, _) = slash_to(&url, "declare sev2 Lock outlived the wait", "T1").await;
    assert_eq!(status, 200);
    // The engine gives up on the lock (SQLite's busy timeout) after the answer went out.
    common::poll(
        "the work failed after the answer",
        Duration::from_secs(30),
        || {
            std::fs::read_to_string(&logs)
                .ok()?
                .contains("journaled inbound work failed")
                .then_some(())
        },
    )
    .await;
    lock.release().await;
    fake.wait_until("the retried command's card", Duration::from_secs(20), |f| {
        f.cards(WAR_ROOM).len() == 1
    })
    .await;
    assert!(common::process::terminate(&mut child).await.success());
    let incidents = incidents_in(dir.path()).await;
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].title, "Lock outlived the wait");
}

#[tokio::test]
async fn runroom_serve_takes_slack_over_http_and_over_socket_mode() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let (mut child, url) = serve_with_slack(dir.path(), &fake, "http");
    let (status, _) = slash_to(&url, "declare sev1 Over HTTP", "T1").await;
    assert_eq!(status, 200);
    fake.wait_until("a card posted by serve", Duration::from_secs(20), |f| {
        f.cards(WAR_ROOM).len() == 1 && f.pins().len() == 1
    })
    .await;
    assert!(common::process::terminate(&mut child).await.success());

    // The same database in Socket Mode: no HTTP endpoint, commands over the WebSocket.
    let (mut child, url) = serve_with_slack(dir.path(), &fake, "socket");
    let unmounted = reqwest::Client::new()
        .post(format!("{url}/webhooks/slack/commands"))
        .send()
        .await
        .unwrap();
    assert_eq!(unmounted.status().as_u16(), 404);
    fake.push_envelope(
        "events_api",
        message_event("Ev01", "U0ANA", "inc resolve", "1700000001.000100"),
    );
    fake.wait_until(
        "the card resolved over Socket Mode",
        Duration::from_secs(20),
        |f| {
            f.cards(WAR_ROOM)
                .first()
                .is_some_and(|card| card.edits == 1 && button_ids(card).is_empty())
        },
    )
    .await;
    assert!(common::process::terminate(&mut child).await.success());
}

/// About `chars` characters: accents, emoji with skin tones, a mention, `&` and `<` (which Slack
/// counts escaped), and a line break now and then.
fn long_text(chars: usize) -> String {
    common::long_text("ação & <rollback> 👍🏽 <@U0BEN> ok; ", 6, chars)
}

#[tokio::test]
async fn long_messages_reach_slack_within_its_limits() {
    for backend in backends().await {
        let h = Harness::start(&backend, unpaced()).await;
        h.slash("U0ANA", "declare sev1 Checkout down", "T1").await;
        let long = long_text(1900);
        h.slash(
            "U0ANA",
            &format!("update 1 \"{long}\" impact=\"{long}\""),
            "T2",
        )
        .await;
        for i in 0..25 {
            h.slash("U0BEN", &format!("note 1 {i}: {long}"), &format!("N{i}"))
                .await;
        }
        h.slash("U0ANA", "timeline INC-1", "T3").await;
        common::insert_open_incidents(h.store(), 10_000, chrono::Utc::now()).await;
        h.slash("U0ANA", "list", "T4").await;
        h.drain().await;

        // Slack refused nothing (the fake answers msg_too_long and invalid_blocks as Slack
        // does), nothing is dead, and every row as queued fits: split ones numbered.
        let refused: Vec<_> = h
            .fake
            .calls()
            .into_iter()
            .filter(|c| !c.ok && c.method != "users.info")
            .map(|c| (c.method, c.body["text"].as_str().map(|t| t.chars().count())))
            .collect();
        assert!(
            refused.is_empty(),
            "[{}] refused: {refused:?}",
            backend.name
        );
        assert!(
            h.rows(OutboxState::Dead).await.is_empty(),
            "[{}]",
            backend.name
        );
        let sent: Vec<NewOutbound> = h
            .rows(OutboxState::Sent)
            .await
            .into_iter()
            .map(|r| r.message)
            .collect();
        common::assert_fits(&sent);
        // The timeline and the list reached Ana whole: every part, in order.
        for trigger in ["T3", "T4"] {
            let key = format!("slack:cmd:{trigger}");
            let rows: Vec<&NewOutbound> = sent
                .iter()
                .filter(|m| m.idempotency_key.starts_with(&key))
                .collect();
            assert!(!rows.is_empty(), "[{}] {trigger}", backend.name);
            let ephemeral = h.fake.ephemeral();
            let texts: Vec<&str> = ephemeral
                .iter()
                .filter(|(_, user, _)| user == "U0ANA")
                .map(|(_, _, text)| text.as_str())
                .filter(|text| rows.iter().any(|r| blocks_escape(&r.text) == *text))
                .collect();
            assert_eq!(texts.len(), rows.len(), "[{}] {trigger}", backend.name);
        }
        // The card's impact is trimmed to Block Kit's field and points to the whole text.
        let card = &h.fake.cards(WAR_ROOM)[0];
        let fields = card.blocks.as_ref().unwrap()[1]["fields"].clone();
        let impact = fields
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["text"].as_str())
            .find(|t| t.starts_with("*Impact*"))
            .expect("the impact field")
            .to_string();
        assert!(impact.ends_with("… (full text: inc show 1)"), "{impact}");
    }
}

fn blocks_escape(text: &str) -> String {
    slack::blocks::escape(text)
}

#[tokio::test]
async fn a_name_lookup_never_delays_a_command_and_a_failure_is_not_retried_at_once() {
    let backend = common::sqlite().await;
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let h = Harness::start_with(&backend, unpaced(), "http", clock.clone()).await;
    // U0CAT is not in the workspace directory yet, and Slack is slow to say so.
    h.fake.hold_users_info();
    let (status, _, took) = h.slash("U0CAT", "declare sev1 Checkout down", "T1").await;
    assert_eq!(status, 200);
    // The command committed without waiting for users.info, which is asked after the commit.
    assert!(
        h.store().incident(1).await.unwrap().is_some(),
        "declared within the ack budget ({took:?})"
    );
    common::poll("the lookup of U0CAT", Duration::from_secs(10), || {
        (h.fake.users_info_asked() == 1).then_some(())
    })
    .await;
    h.drain().await;
    let console = h.console_texts().await;
    assert!(console[0].contains("@U0CAT"), "{}", console[0]);
    h.fake.release_users_info();
    h.settled().await;

    // Within ten minutes, the failure is remembered: no second users.info.
    clock.advance(chrono::Duration::minutes(9));
    h.slash("U0CAT", "update 1 rolling back", "T2").await;
    h.settled().await;
    assert_eq!(h.fake.users_info_asked(), 1);

    // Past them, the next command asks again; now Slack knows the name, and later messages in
    // other rooms use it.
    h.fake.add_user("U0CAT", "Cat");
    clock.advance(chrono::Duration::minutes(2));
    h.slash("U0CAT", "update 1 still rolling back", "T3").await;
    assert_eq!(h.name_known("U0CAT").await, "Cat");
    assert_eq!(h.fake.users_info_asked(), 2);
    h.slash("U0CAT", "update 1 rolled back", "T4").await;
    h.drain().await;
    let console = h.console_texts().await;
    let last = console.last().unwrap();
    assert!(last.contains("@Cat"), "{last}");
}

/// A message queued for `chat` (an ephemeral one when `recipient` is given).
fn queued(key: &str, chat: &str, recipient: Option<&str>) -> NewOutbound {
    NewOutbound {
        idempotency_key: key.into(),
        room_id: "runroom".into(),
        platform: Platform::Slack,
        chat: chat.into(),
        thread: None,
        kind: MessageKind::Broadcast,
        language: Lang::En,
        text: key.into(),
        rich: None,
        incident: None,
        priority: 2,
        created_at: chrono::Utc::now(),
        recipient: recipient.map(str::to_string),
        topic: None,
    }
}

#[tokio::test]
async fn a_rate_limit_on_one_channel_pauses_only_that_channels_posts() {
    let backend = common::sqlite().await;
    let mut outbox = unpaced();
    // One send at a time, in queue order: the first request is the one refused.
    outbox.in_flight = 1;
    let h = Harness::start(&backend, outbox).await;
    // Slack limits chat.postMessage per channel: the war room's first post is refused for 30 s.
    h.fake.script([Reply::RateLimited { retry_after: 30 }]);
    common::enqueue(
        &backend.store,
        &[
            queued("war 1", WAR_ROOM, None),
            queued("war 2", WAR_ROOM, None),
            queued("status 1", STATUS_ROOM, None),
            queued("only you", WAR_ROOM, Some("U0ANA")),
            queued("status 2", STATUS_ROOM, None),
        ],
    )
    .await;
    h.drain().await;

    let texts = |channel| -> Vec<String> {
        h.fake
            .messages(channel)
            .into_iter()
            .map(|m| m.text)
            .collect()
    };
    assert_eq!(
        texts(STATUS_ROOM),
        ["status 1", "status 2"],
        "another channel is delivered meanwhile"
    );
    assert_eq!(
        h.fake.ephemeral().len(),
        1,
        "another method to the same channel is delivered meanwhile"
    );
    assert!(texts(WAR_ROOM).is_empty());
    let to_war_room = h
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "chat.postMessage" && c.body["channel"] == WAR_ROOM)
        .count();
    assert_eq!(
        to_war_room, 1,
        "no second post to the channel during its pause"
    );
    let waiting = backend
        .store
        .pending_outbox(Platform::Slack, 10)
        .await
        .unwrap();
    let soon = chrono::Utc::now() + chrono::Duration::seconds(25);
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting.iter().all(|r| r.next_attempt_at > soon),
        "both wait for the channel's Retry-After"
    );
}
