//! Signed slash commands against runroom's Slack endpoint, at concurrency 1 and 32: requests per
//! second and p50/p99 time to Slack's ack, against a bare axum handler that answers 200 on the
//! same path as the baseline (same client, same loopback, same run). Each command declares an
//! incident on SQLite, so the ack includes the engine's whole transaction (it finishes well
//! inside the ack budget). Run: `cargo bench --bench slack`.

#[path = "../tests/fakes/mod.rs"]
mod fakes;
mod load;

use std::sync::Arc;

use fakes::slack::FakeSlack;
use runroom::engine::clock::{Clock, SystemClock};
use runroom::engine::room::{Platform, Room, RoomRole};
use runroom::engine::{Engine, EngineSettings};
use runroom::i18n::{I18n, Lang};
use runroom::platforms::slack::signature::Verifier;
use runroom::platforms::slack::webhooks::{self, SlackHttp};
use runroom::platforms::slack::{self, SlackApp, SlackConfig};

const SECRET: &str = "bench-signing-secret";
const PATH: &str = "/webhooks/slack/commands";

fn sign(timestamp: &str, body: &str) -> String {
    fakes::slack::signature(SECRET, timestamp, body)
}

fn command(i: usize, tag: &str) -> String {
    serde_urlencoded::to_string([
        ("team_id", "T0RUNROOM"),
        ("channel_id", "C0RUNROOM"),
        ("user_id", "U0ANA"),
        ("command", "/inc"),
        ("text", &format!("declare sev3 Bench {tag} {i}")),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0RUNROOM/1/xyz",
        ),
        ("trigger_id", &format!("{tag}.{i}")),
    ])
    .expect("form")
}

async fn runroom(dir: &tempfile::TempDir, fake: &FakeSlack) -> String {
    let url = format!("sqlite://{}", dir.path().join("runroom.db").display());
    let store = runroom::store::connect(&url).await.unwrap();
    let config = SlackConfig {
        api_url: fake.api_url.clone(),
        ..SlackConfig::default()
    };
    let app = SlackApp {
        client: slack::client(&config).unwrap(),
        bot_token: slack::token(fake.bot_token.clone()),
        config,
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let engine = Arc::new(Engine::new(
        store,
        Arc::new(I18n::new().unwrap()),
        clock.clone(),
        EngineSettings {
            rooms: vec![Room {
                id: "runroom".into(),
                platform: Platform::Slack,
                chat: "C0RUNROOM".into(),
                language: Lang::En,
                timezone: chrono_tz::UTC,
                role: RoomRole::WarRoom,
                members: Vec::new(),
            }],
            extra_roles: Vec::new(),
            ..Default::default()
        },
    ));
    load::serve(
        webhooks::router(SlackHttp {
            verifier: Arc::new(Verifier::new(SECRET)),
            inbox: app.inbox(engine),
            clock,
        }),
        PATH,
    )
    .await
}

/// The i-th slash command, signed as Slack signs it.
fn slash(client: &reqwest::Client, url: &str, i: usize, tag: &str) -> reqwest::RequestBuilder {
    let body = command(i, tag);
    let timestamp = chrono::Utc::now().timestamp().to_string();
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-signature", sign(&timestamp, &body))
        .header("x-slack-request-timestamp", timestamp)
        .body(body)
}

async fn run(url: &str, n: usize, concurrency: usize, tag: &str) -> load::Run {
    load::run(n, concurrency, |client, i| slash(client, url, i, tag)).await
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fake = FakeSlack::start().await;
        fake.add_user("U0ANA", "Ana");
        let base = load::baseline(PATH).await;
        let warm = tempfile::tempdir().unwrap();
        let warm_url = runroom(&warm, &fake).await;
        run(&warm_url, 200, 8, "warm").await;
        run(&base, 200, 8, "warm").await;

        println!("| concurrency | runroom req/s | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 |");
        println!("|---|---|---|---|---|---|");
        for (concurrency, n) in [(1usize, 500usize), (32, 2000)] {
            let dir = tempfile::tempdir().unwrap();
            let url = runroom(&dir, &fake).await;
            let ours = run(&url, n, concurrency, &format!("c{concurrency}")).await;
            let bare = run(&base, n, concurrency, &format!("c{concurrency}")).await;
            println!("| {concurrency} | {} |", load::compared(&ours, &bare));
        }
    });
}
