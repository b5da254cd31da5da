//! Telegram end to end, against a fake Bot API on loopback that speaks its wire format: updates
//! posted to runroom's webhook (or fetched by long polling), the outbox worker delivering to the
//! fake. This file is the harness; each module holds the tests of one topic.

#[path = "../common/mod.rs"]
mod common;
#[path = "../fakes/mod.rs"]
mod fakes;

mod cards;
mod commands;
mod limits;
mod pages;

use std::sync::Arc;

use fakes::telegram::FakeTelegram;
use runroom::app::{App, Secrets};
use runroom::config::Config;
use runroom::engine::clock::SystemClock;
use serde_json::Value;

const GUARDIA: i64 = -1001234567890;
const OTRA: i64 = -1009998887776;
const SECRET: &str = "telegram-webhook-secret";

/// Telegram's pacing out of the way, for tests about what is sent rather than when (it goes
/// where `[telegram]`'s keys end).
const UNPACED: &str = r#"
[outbox.limits.telegram]
rate = 1000.0
burst = 1000
per_chat_rate = 1000.0
per_chat_burst = 1000
"#;

struct Harness {
    app: App,
    url: String,
    fake: FakeTelegram,
    _store: common::TestStore,
}

async fn start(public_url: bool) -> Harness {
    start_with(if public_url {
        "public_url = \"https://runroom.example\"\n"
    } else {
        ""
    })
    .await
}

/// runroom with two Telegram rooms, `[telegram]` ending with `more`.
async fn start_with(more: &str) -> Harness {
    start_in("", more).await
}

/// [`start_with`], with `rooms` (TOML) configured before the two Telegram rooms.
async fn start_in(rooms: &str, more: &str) -> Harness {
    start_full(rooms, more, "", Vec::new()).await
}

/// runroom with `rooms` and the two Telegram rooms, `[telegram]` ending with `more`, then
/// `rest` (other sections) and `secrets` besides Telegram's.
async fn start_full(rooms: &str, more: &str, rest: &str, secrets: Vec<(&str, String)>) -> Harness {
    let store = common::sqlite().await;
    let fake = FakeTelegram::start().await;
    let text = format!(
        r#"{rooms}
[[rooms]]
id = "guardia"
platform = "telegram"
chat = "{GUARDIA}"
language = "es"

[[rooms]]
id = "otra"
platform = "telegram"
chat = "{OTRA}"

[telegram]
api_url = "{api}"
bot_username = "RunroomBot"
{more}
[outbox]
mode = "live"
{rest}"#,
        api = fake.url,
    );
    let config = Config::parse(&text, "test", &[]).expect("config");
    let mut pairs = vec![
        ("RUNROOM_TELEGRAM_TOKEN", fake.token.clone()),
        ("RUNROOM_TELEGRAM_WEBHOOK_SECRET", SECRET.to_string()),
    ];
    pairs.extend(secrets);
    let secrets = Secrets::from_pairs(pairs);
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
