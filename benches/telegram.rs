//! Telegram, both directions, against baselines measured in the same run.
//!
//! 1. Bot API updates posted to `/webhooks/telegram` with the secret token, at concurrency 1 and
//!    32: requests per second and p50/p99 time to the ack, against a bare axum handler that
//!    answers 200 on the same path (same client, same loopback, same run). Every update is a
//!    command, `/inc note …` on the incident declared first, from a forum topic of the war room:
//!    the secret token checked, the update read and placed, the note carried out by the engine
//!    (its timeline entry and its messages queued). SQLite on a temp file, `SystemClock`, no
//!    outbox worker running (the rows only queue). runroom is assembled from its configuration
//!    as `runroom serve` assembles it.
//! 2. A burst of 100 incident changes (a declaration, then 99 updates, committed as fast as the
//!    webhook takes them) to one forum supergroup, delivered by the outbox workers as
//!    `runroom serve` starts them to the fake Bot API, which refuses with 429 a group's 21st call
//!    (messages, edits, pins, topics alike) in any window. Telegram's window is a minute; here it
//!    is 3 s, and runroom's per-group pace is scaled with it (its default 19.5 a minute becomes
//!    19.5 per 3 s), so a run takes seconds. Reported: every change delivered, the calls made
//!    (the edits the burst coalesced into included), the 429s, and the time from the group's
//!    first call to its last as a ratio of the minimum that 20 calls a window allows for the
//!    calls actually made ((calls − 1) × window / 20).
//!
//! Run: `cargo bench --bench telegram` (`-- --quick` for a short run that only checks it works).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fakes/mod.rs"]
mod fakes;
mod load;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fakes::telegram::{FakeTelegram, text_update, threaded_update};
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::engine::Engine;
use runroom::engine::clock::SystemClock;
use runroom::outbox::PlatformLimits;
use runroom::platforms::telegram;
use runroom::store::Store;

const SECRET: &str = "bench-telegram-secret";
const PATH: &str = "/webhooks/telegram";
const GROUP: i64 = -1001234567890;
const TOPIC: i64 = 1001;
/// Telegram's limit on a group's calls in one window, and the window here (a minute there).
const PER_WINDOW: usize = 20;
const WINDOW: Duration = Duration::from_secs(3);
/// runroom's default pace a group, as a share of the limit (19.5 a minute).
const PACE: f64 = 19.5;
/// A burst still short this long after its first commit is reported as not finished.
const GIVE_UP: Duration = Duration::from_secs(60);

/// runroom with the war room as a Telegram forum group, talking to `api`, and `more`.
fn config(api: &str, more: &str) -> Config {
    let text = format!(
        r#"
[[rooms]]
id = "guardia"
platform = "telegram"
chat = "{GROUP}"
language = "pt-BR"
timezone = "America/Sao_Paulo"

[telegram]
api_url = "{api}"
bot_username = "RunroomBot"
{more}"#
    );
    Config::parse(&text, "telegram bench", &[]).unwrap()
}

fn secrets(token: &str) -> Secrets {
    Secrets::from_pairs([
        (telegram::TOKEN_ENV, token),
        (telegram::WEBHOOK_SECRET_ENV, SECRET),
    ])
}

async fn sqlite(dir: &Path) -> Arc<dyn Store> {
    runroom::store::connect(&common::sqlite_url(dir))
        .await
        .unwrap()
}

// ---- 1. Webhook updates ----

/// runroom's Telegram webhook on a fresh SQLite file, with one incident open (the notes need
/// it). The fake is never called: no worker runs.
async fn runroom(dir: &Path, fake: &FakeTelegram) -> (String, Arc<Engine>) {
    let store = sqlite(dir).await;
    let (app, base) = common::loopback::serve_app(
        // Long enough that every command is carried out before its 200.
        config(&fake.url, "ack_budget_ms = 10000\n"),
        store,
        Arc::new(SystemClock),
        secrets(&fake.token),
    )
    .await;
    let declare = text_update(1, GROUP, (42, "ana_ops"), "/inc declarar sev2 Fila no CD");
    let client = reqwest::Client::new();
    let answered = client
        .post(format!("{base}{PATH}"))
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .json(&declare)
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status().as_u16(), 200);
    (format!("{base}{PATH}"), app.engine)
}

/// Update `i`: a note from the incident's topic, with a unique `update_id`.
fn update(client: &reqwest::Client, url: &str, i: usize, run: usize) -> reqwest::RequestBuilder {
    let id = (run * 1_000_000 + i + 10) as i64;
    let text = format!("/inc note fila com {i} motos");
    // Eight people, each with their own username (learned once).
    let who = i % 8;
    let username = format!("ops_{who}");
    let body = threaded_update(id, GROUP, (42 + who as i64, &username), &text, TOPIC, true);
    client
        .post(url)
        .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
        .json(&body)
}

async fn webhooks(quick: bool) {
    let (warm_up, sizes) = if quick {
        (20, [(1usize, 50usize), (32, 200)])
    } else {
        (200, [(1, 500), (32, 2000)])
    };
    let fake = FakeTelegram::start().await;
    let base = load::baseline(PATH).await;
    let warm = tempfile::tempdir().unwrap();
    let (warm_url, _) = runroom(warm.path(), &fake).await;
    load::run(warm_up, 8, |c, i| update(c, &warm_url, i, 0)).await;
    load::run(warm_up, 8, |c, i| update(c, &base, i, 0)).await;

    println!("Telegram updates with the secret token, every one a command (`/inc note`)");
    println!(
        "| concurrency | runroom req/s | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (run, (concurrency, n)) in sizes.into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let (url, engine) = runroom(dir.path(), &fake).await;
        let ours = load::run(n, concurrency, |c, i| update(c, &url, i, run + 1)).await;
        let bare = load::run(n, concurrency, |c, i| update(c, &base, i, run + 1)).await;
        // Every note was carried out (the ack budget is long enough for all of them).
        let timeline = engine.store().timeline(1, 1_000_000).await.unwrap();
        assert_eq!(timeline.len(), 1 + n, "every command was carried out");
        println!(
            "| {concurrency} | {} | {:.1}× |",
            load::compared(&ours, &bare),
            ours.p99.as_secs_f64() / bare.p99.as_secs_f64(),
        );
    }
}

// ---- 2. A burst of changes to one forum group ----

struct Burst {
    /// Changes whose message reached the group.
    delivered: usize,
    /// The group's calls (all but 429s), and how many were card edits.
    calls: usize,
    edits: usize,
    rate_limited: usize,
    /// From the group's first call to its last.
    span: Option<Duration>,
}

async fn burst(changes: usize) -> Burst {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let fake = FakeTelegram::start().await;
    fake.forum(GROUP);
    fake.limit_per_chat(PER_WINDOW, WINDOW);
    let mut config = config(&fake.url, "");
    config.outbox.limits.insert(
        "telegram".into(),
        PlatformLimits {
            per_chat_rate: PACE / WINDOW.as_secs_f64(),
            ..PlatformLimits::default_for("telegram")
        },
    );
    let (mut app, base) =
        common::loopback::serve_app(config, store, Arc::new(SystemClock), secrets(&fake.token))
            .await;
    let client = reqwest::Client::new();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = app.start(&stopped);
    // The workers are idle, as in a quiet war room, when the burst comes.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    for i in 0..changes {
        let text = if i == 0 {
            "/inc declarar sev1 Pix fora do ar".to_string()
        } else {
            format!("/inc update passo {i}: tráfego movido para a região B")
        };
        let update = text_update(i as i64 + 1, GROUP, (42, "ana_ops"), &text);
        let answered = client
            .post(format!("{base}{PATH}"))
            .header("X-Telegram-Bot-Api-Secret-Token", SECRET)
            .json(&update)
            .send()
            .await
            .unwrap();
        assert_eq!(answered.status().as_u16(), 200);
    }
    let deadline = started + GIVE_UP;
    let delivered = loop {
        let delivered = fake.said_to(GROUP).len();
        if delivered >= changes || Instant::now() >= deadline {
            break delivered;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The card's last edit may follow the last message.
    tokio::time::sleep(WINDOW / 4).await;
    stop.send(true).unwrap();
    while let Some(task) = tasks.join_next().await {
        task.unwrap();
    }
    let calls: Vec<_> = fake
        .calls()
        .into_iter()
        // A call refused as "not modified" counts against the limit all the same.
        .filter(|c| c.status != 429 && c.body["chat_id"] == GROUP)
        .collect();
    let span = (delivered >= changes).then(|| {
        let first = calls.iter().map(|c| c.at).min().unwrap();
        let last = calls.iter().map(|c| c.at).max().unwrap();
        last - first
    });
    Burst {
        delivered,
        calls: calls.len(),
        edits: calls
            .iter()
            .filter(|c| c.method == "EditMessageText")
            .count(),
        rate_limited: fake.refused_429(GROUP),
        span,
    }
}

async fn bursts(quick: bool) {
    let (changes, repetitions) = if quick { (20, 1) } else { (100, 2) };
    println!();
    println!(
        "{changes} incident changes to one forum group; the fake refuses a 21st call in any {} s, \
         runroom paces {PACE} per {} s",
        WINDOW.as_secs(),
        WINDOW.as_secs()
    );
    println!(
        "| run | delivered | calls (edits) | 429s | first call → last | minimum for those calls | measured / minimum |"
    );
    println!("|---|---|---|---|---|---|---|");
    for run in 0..repetitions {
        let b = burst(changes).await;
        let minimum = WINDOW.as_secs_f64() * (b.calls.saturating_sub(1)) as f64 / PER_WINDOW as f64;
        let (span, ratio) = match b.span {
            Some(span) => (
                format!("{:.2} s", span.as_secs_f64()),
                format!("**{:.3}**", span.as_secs_f64() / minimum),
            ),
            None => (format!("not in {} s", GIVE_UP.as_secs()), "—".into()),
        };
        println!(
            "| {} | {} of {changes} | {} ({}) | {} | {span} | {minimum:.2} s | {ratio} |",
            run + 1,
            b.delivered,
            b.calls,
            b.edits,
            b.rate_limited,
        );
        assert_eq!(b.delivered, changes, "every change delivered");
        assert_eq!(b.rate_limited, 0, "no 429");
    }
}

#[tokio::main]
async fn main() {
    let quick = load::quick();
    webhooks(quick).await;
    bursts(quick).await;
}
