//! Telegram through its Bot API webhook and `sendMessage`, against a fake Bot API on loopback:
//! a Spanish `/inc@RunroomBot` command declares and every room hears it (the Telegram room as
//! HTML), another bot's command is ignored, a redelivered `update_id` acts once, a wrong secret
//! token is refused with nothing stored, a 429 pauses that chat while another flows, and `serve`
//! registers the webhook with its secret.

mod common;
mod fakes;

use std::sync::Arc;
use std::time::Duration;

use fakes::telegram::{FakeTelegram, text_update};
use runroom::app::{App, Secrets};
use runroom::config::Config;
use runroom::engine::clock::SystemClock;
use serde_json::Value;

const GUARDIA: i64 = -1001234567890;
const OTRA: i64 = -1009998887776;
const SECRET: &str = "telegram-webhook-secret";

struct Harness {
    app: App,
    url: String,
    fake: FakeTelegram,
    _store: common::TestStore,
}

async fn start(public_url: bool) -> Harness {
    let store = common::sqlite().await;
    let fake = FakeTelegram::start().await;
    let public = if public_url {
        "public_url = \"https://runroom.example\"\n"
    } else {
        ""
    };
    let text = format!(
        r#"
[[rooms]]
id = "guardia"
platform = "telegram"
chat = "{GUARDIA}"
language = "es"

[[rooms]]
id = "otra"
platform = "telegram"
chat = "{OTRA}"

[[rooms]]
id = "console"
platform = "console"
chat = "console"

[telegram]
api_url = "{api}"
bot_username = "RunroomBot"
{public}
[outbox]
mode = "live"
"#,
        api = fake.url,
    );
    let config = Config::parse(&text, "test", &[]).expect("config");
    let secrets = Secrets::from_pairs([
        ("RUNROOM_TELEGRAM_TOKEN", fake.token.as_str()),
        ("RUNROOM_TELEGRAM_WEBHOOK_SECRET", SECRET),
    ]);
    let (app, url) =
        common::loopback::serve_app(config, store.store.clone(), Arc::new(SystemClock), secrets)
            .await;
    Harness {
        app,
        url,
        fake,
        _store: store,
    }
}

impl Harness {
    async fn post(&self, secret: Option<&str>, update: &Value) -> u16 {
        let mut request = reqwest::Client::new()
            .post(format!("{}/webhooks/telegram", self.url))
            .json(update);
        if let Some(secret) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", secret);
        }
        request.send().await.expect("answered").status().as_u16()
    }

    async fn incidents(&self) -> usize {
        self.app
            .engine
            .store()
            .recent_incidents(10)
            .await
            .expect("incidents")
            .len()
    }
}

#[tokio::test]
async fn a_spanish_command_declares_once_and_every_telegram_room_hears_it() {
    let h = start(false).await;
    let declare = text_update(
        1001,
        GUARDIA,
        (42, "ana_ops"),
        r#"/inc@RunroomBot declarar sev1 "Caída del checkout" impacto="pagos <5%""#,
    );

    // A wrong or missing secret: refused, nothing stored.
    assert_eq!(h.post(Some("guess"), &declare).await, 401);
    assert_eq!(h.post(None, &declare).await, 401);
    assert_eq!(h.incidents().await, 0);

    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    // Telegram redelivers until it gets a 2xx: the same update_id acts once.
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    // Another bot's command is not runroom's.
    let other_bot = text_update(
        1002,
        GUARDIA,
        (42, "ana_ops"),
        "/inc@OtherBot declarar sev2 Otra",
    );
    assert_eq!(h.post(Some(SECRET), &other_bot).await, 200);
    assert_eq!(h.incidents().await, 1);
    let incident = h
        .app
        .engine
        .store()
        .incident(1)
        .await
        .expect("read")
        .expect("declared");
    assert_eq!(incident.title, "Caída del checkout");
    assert!(
        incident.declared_by.contains("telegram:42"),
        "{}",
        incident.declared_by
    );

    h.app.worker.drain().await.expect("drained");
    let guardia = h.fake.sent_to(GUARDIA);
    assert_eq!(guardia.len(), 1, "{guardia:?}");
    let text = guardia[0]["text"].as_str().expect("text");
    assert!(
        text.contains("INC-1") && text.contains("declarado"),
        "{text}"
    );
    assert!(text.contains("pagos &lt;5%"), "HTML-escaped: {text}");
    assert_eq!(guardia[0]["parse_mode"], "HTML");
    let otra = h.fake.sent_to(OTRA);
    assert!(
        otra.len() == 1
            && otra[0]["text"]
                .as_str()
                .is_some_and(|t| t.contains("declared")),
        "{otra:?}"
    );
}

#[tokio::test]
async fn a_429_pauses_its_chat_while_the_other_flows() {
    let h = start(false).await;
    h.fake.limit(GUARDIA, 1);
    let declare = text_update(2001, OTRA, (7, "marcos"), "/inc declare sev2 Queue backlog");
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    h.app.worker.drain().await.expect("drained");
    assert_eq!(h.fake.sent_to(OTRA).len(), 1, "the other chat is not held");
    assert!(h.fake.sent_to(GUARDIA).is_empty(), "refused with 429 once");
    let refused = h
        .fake
        .calls()
        .into_iter()
        .find(|c| c.status == 429)
        .expect("a 429");
    let sent = common::poll_async(
        "the paused chat's retry",
        Duration::from_secs(10),
        async || {
            h.app.worker.run_once().await.ok()?;
            let sent = h
                .fake
                .calls()
                .into_iter()
                .find(|c| c.status == 200 && c.body["chat_id"] == GUARDIA)?;
            Some(sent)
        },
    )
    .await;
    assert!(
        sent.at.duration_since(refused.at) >= Duration::from_millis(950),
        "retried only after retry_after"
    );
}

#[tokio::test]
async fn serve_registers_the_webhook_with_its_secret() {
    let mut h = start(true).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = h.app.start(&stopped);
    let call = common::poll("setWebhook", Duration::from_secs(10), || {
        h.fake
            .calls()
            .into_iter()
            .find(|c| c.method.eq_ignore_ascii_case("setWebhook"))
    })
    .await;
    assert_eq!(
        call.body["url"],
        "https://runroom.example/webhooks/telegram"
    );
    assert_eq!(call.body["secret_token"], SECRET);
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
}

#[tokio::test]
async fn a_token_without_a_webhook_secret_stops_the_start() {
    let store = common::sqlite().await;
    let config =
        Config::parse("[telegram]\nbot_username = \"RunroomBot\"\n", "test", &[]).expect("config");
    let error = runroom::app::assemble(
        config,
        store.store.clone(),
        Arc::new(SystemClock),
        Secrets::from_pairs([("RUNROOM_TELEGRAM_TOKEN", "123:abc")]),
    )
    .err()
    .expect("refused");
    assert!(
        error
            .to_string()
            .contains("RUNROOM_TELEGRAM_WEBHOOK_SECRET")
            || format!("{error:#}").contains("RUNROOM_TELEGRAM_WEBHOOK_SECRET"),
        "{error:#}"
    );
}
