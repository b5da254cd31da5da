//! Signed slash commands against runroom's Slack endpoint, at concurrency 1 and 32: requests per
//! second and p50/p99 time to Slack's ack, against a bare axum handler that answers 200 on the
//! same path as the baseline (same client, same loopback, same run). runroom is assembled from
//! its configuration as `runroom serve` assembles it (no worker runs: the outbox rows only
//! queue). Each command declares an incident on SQLite, so the ack includes the engine's whole
//! transaction (it finishes well inside the ack budget). Run: `cargo bench --bench slack`
//! (`-- --quick` for a short run that only checks it works).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fakes/mod.rs"]
mod fakes;
mod load;

use std::path::Path;
use std::sync::Arc;

use fakes::slack::FakeSlack;
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::engine::clock::SystemClock;
use runroom::platforms::slack;

const SECRET: &str = "bench-signing-secret";
const PATH: &str = "/webhooks/slack/commands";

fn sign(timestamp: &str, body: &str) -> String {
    fakes::slack::signature(SECRET, timestamp, body)
}

fn command(i: usize, tag: &str) -> String {
    serde_urlencoded::to_string([
        ("team_id", "T0RUNROOM"),
        ("channel_id", common::SLACK_WAR_ROOM),
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

/// runroom with one Slack war room (English, UTC) talking to `fake`, on a fresh SQLite file in
/// `dir`; returns the URL of its slash-command endpoint.
async fn runroom(dir: &Path, fake: &FakeSlack) -> String {
    let text = format!(
        r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "{war_room}"

[slack]
api_url = "{api}"
"#,
        war_room = common::SLACK_WAR_ROOM,
        api = fake.api_url,
    );
    let config = Config::parse(&text, "slack bench", &[]).unwrap();
    let secrets = Secrets::from_pairs([
        (slack::BOT_TOKEN_ENV, fake.bot_token.clone()),
        (slack::SIGNING_SECRET_ENV, SECRET.to_string()),
    ]);
    let store = runroom::store::connect(&common::sqlite_url(dir))
        .await
        .unwrap();
    let (_app, base) =
        common::loopback::serve_app(config, store, Arc::new(SystemClock), secrets).await;
    format!("{base}{PATH}")
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

#[tokio::main]
async fn main() {
    // (warm-up requests, then requests at concurrency 1 and at 32)
    let (warm_up, sizes) = if load::quick() {
        (20, [(1usize, 50usize), (32, 200)])
    } else {
        (200, [(1, 500), (32, 2000)])
    };
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let base = load::baseline(PATH).await;
    let warm = tempfile::tempdir().unwrap();
    let warm_url = runroom(warm.path(), &fake).await;
    run(&warm_url, warm_up, 8, "warm").await;
    run(&base, warm_up, 8, "warm").await;

    println!(
        "| concurrency | runroom req/s | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 |"
    );
    println!("|---|---|---|---|---|---|");
    for (concurrency, n) in sizes {
        let dir = tempfile::tempdir().unwrap();
        let url = runroom(dir.path(), &fake).await;
        let ours = run(&url, n, concurrency, &format!("c{concurrency}")).await;
        let bare = run(&base, n, concurrency, &format!("c{concurrency}")).await;
        println!("| {concurrency} | {} |", load::compared(&ours, &bare));
    }
}
