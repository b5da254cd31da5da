//! The dashboard at size, and what open pages cost the commands.
//!
//! 1. With 10,000 incidents (half open) and one incident with a 2,000-entry timeline, on one
//!    SQLite file: the incident list (`GET /dashboard`) and that incident's page, over HTTP with
//!    a signed-in session, one request at a time, p50/p99, against the bare queries that read
//!    the same rows (the list's count, page and latest resolved; the incident's row, its latest
//!    200 entries, their count, its alerts and its delivery), run on the same file in the same
//!    run.
//! 2. Signed Slack slash declares at concurrency 32, with no dashboard page open and with 100
//!    live pages open (50 lists, 50 incident pages, each reading its Server-Sent Events), runs
//!    interleaved: throughput and p50/p99 to Slack's ack, and the ratio (goal ≥ 0.9).
//!
//! Run: `cargo bench --bench dashboard` (`-- --quick`: fewer rows and requests).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fakes/mod.rs"]
mod fakes;
mod load;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fakes::slack::FakeSlack;
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::dashboard::VIEWER_TOKEN_ENV;
use runroom::engine::clock::SystemClock;
use runroom::engine::incident::{Actor, Event, Incident, Severity, Status, TimelineEntry};
use runroom::platforms::slack;
use runroom::store::Store;

const SECRET: &str = "bench-signing-secret";
const VIEWER: &str = "bench-viewer-token";
const SLASH: &str = "/webhooks/slack/commands";

/// runroom with one Slack war room and the dashboard, on the SQLite file in `dir`: its base URL.
async fn runroom(dir: &Path, fake: &FakeSlack) -> (runroom::app::App, String) {
    let text = format!(
        "[[rooms]]\nid = \"runroom\"\nplatform = \"slack\"\nchat = \"{}\"\n\n[slack]\napi_url = \"{}\"\n",
        common::SLACK_WAR_ROOM,
        fake.api_url
    );
    let config = Config::parse(&text, "dashboard bench", &[]).unwrap();
    let secrets = Secrets::from_pairs([
        (slack::BOT_TOKEN_ENV, fake.bot_token.clone()),
        (slack::SIGNING_SECRET_ENV, SECRET.to_string()),
        (VIEWER_TOKEN_ENV, VIEWER.to_string()),
    ]);
    let store = runroom::store::connect(&common::sqlite_url(dir))
        .await
        .unwrap();
    common::loopback::serve_app(config, store, Arc::new(SystemClock), secrets).await
}

/// `n` incidents, every other one resolved, and incident 1 with `entries` notes.
async fn seed(store: &dyn Store, n: usize, entries: usize) {
    let actor = Actor {
        name: "seed".into(),
        room: "runroom".into(),
    };
    let start = chrono::Utc::now() - chrono::Duration::days(20);
    let mut tx = store.begin().await.unwrap();
    for i in 0..n {
        let at = start + chrono::Duration::minutes(i as i64);
        let severity = [Severity::Sev1, Severity::Sev2, Severity::Sev3][i % 3];
        let (mut incident, _) = Incident::declare(
            format!("Checkout latency above 2s in region sa-east-1, shard {i:05}"),
            severity,
            None,
            &actor,
            at,
        );
        incident
            .roles
            .insert("commander".into(), "<@U0ANA|Ana>".into());
        if i % 2 == 1 && i > 0 {
            incident.status = Status::Resolved;
            incident.resolved_at = Some(at + chrono::Duration::minutes(45));
        }
        tx.insert_incident(&incident).await.unwrap();
    }
    let timeline: Vec<TimelineEntry> = (0..entries)
        .map(|i| TimelineEntry {
            incident: 1,
            at: start + chrono::Duration::seconds(i as i64),
            actor: "<@U0ANA|Ana>".into(),
            room: "runroom".into(),
            event: Event::Note {
                text: format!("step {i}: restarted the payment workers and watched the queue"),
            },
        })
        .collect();
    for chunk in timeline.chunks(1000) {
        tx.append_timeline(chunk).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The session cookie (`name=value`) for the viewer's token.
async fn session(base: &str) -> String {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = client
        .post(format!("{base}/dashboard/sign-in"))
        .form(&[("token", VIEWER)])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 303);
    let line = answer.headers()["set-cookie"].to_str().unwrap();
    line.split(';').next().unwrap().to_string()
}

/// p50 and p99 of `n` sequential runs of `work`.
async fn timed<F, Fut>(n: usize, mut work: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        work().await;
        times.push(started.elapsed());
    }
    times.sort();
    (times[n / 2], times[(n * 99 / 100).min(n - 1)])
}

/// The rows the list page shows, read bare, each through its index: its count (the counts
/// row), its page of 25, the latest 10 resolved.
async fn list_queries(pool: &sqlx::SqlitePool) {
    let (open,): (i64,) = sqlx::query_as("SELECT SUM(open) FROM open_counts")
        .fetch_one(pool)
        .await
        .unwrap();
    let page: Vec<(String,)> = sqlx::query_as(
        "SELECT state FROM incidents WHERE status <> 'resolved' \
         ORDER BY severity, declared_at, number LIMIT 25",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let resolved: Vec<(String,)> = sqlx::query_as(
        "SELECT state FROM incidents WHERE resolved_at IS NOT NULL ORDER BY resolved_at DESC LIMIT 10",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(open > 0 && page.len() == 25 && resolved.len() == 10);
}

/// The rows an incident's page shows, read bare.
async fn incident_queries(pool: &sqlx::SqlitePool, number: i64) {
    let (state,): (String,) = sqlx::query_as("SELECT state FROM incidents WHERE number = ?")
        .bind(number)
        .fetch_one(pool)
        .await
        .unwrap();
    let entries: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT at, actor, room, detail FROM timeline WHERE incident = ? ORDER BY id DESC LIMIT 200",
    )
    .bind(number)
    .fetch_all(pool)
    .await
    .unwrap();
    let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM timeline WHERE incident = ?")
        .bind(number)
        .fetch_one(pool)
        .await
        .unwrap();
    let alerts: Vec<(String,)> = sqlx::query_as("SELECT title FROM alerts WHERE incident = ?")
        .bind(number)
        .fetch_all(pool)
        .await
        .unwrap();
    let delivery: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT room_id, state, COUNT(*) FROM outbox WHERE incident = ? GROUP BY room_id, state",
    )
    .bind(number)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(!state.is_empty() && entries.len() == 200 && total >= 200);
    let _ = (alerts, delivery);
}

/// Keeps `n` live pages open (every other one the list, the rest incident pages), reading
/// their streams; dropped, they close.
struct LivePages {
    tasks: tokio::task::JoinSet<()>,
    bytes: Arc<std::sync::atomic::AtomicUsize>,
    /// How many have received their first render.
    ready: Arc<std::sync::atomic::AtomicUsize>,
}

impl LivePages {
    async fn open(base: &str, cookie: &str, n: usize) -> LivePages {
        let client = reqwest::Client::new();
        let bytes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let ready = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..n {
            let path = if i % 2 == 0 {
                "/dashboard/live".to_string()
            } else {
                format!("/dashboard/incidents/{}/live", 1 + (i as i64 % 40) * 2)
            };
            let mut response = client
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 200);
            let (bytes, ready) = (bytes.clone(), ready.clone());
            tasks.spawn(async move {
                let mut first = true;
                while let Ok(Some(chunk)) = response.chunk().await {
                    bytes.fetch_add(chunk.len(), std::sync::atomic::Ordering::Relaxed);
                    if first {
                        first = false;
                        ready.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            });
        }
        // Each page's first render is what opening it costs, not what it costs the commands
        // while it is open: the run starts once all have had it.
        let deadline = Instant::now() + Duration::from_secs(30);
        while ready.load(std::sync::atomic::Ordering::Relaxed) < n {
            assert!(
                Instant::now() < deadline,
                "the live pages did not all render"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        bytes.store(0, std::sync::atomic::Ordering::Relaxed);
        LivePages {
            tasks,
            bytes,
            ready,
        }
    }
}

fn declare(client: &reqwest::Client, url: &str, i: usize, tag: &str) -> reqwest::RequestBuilder {
    let body = serde_urlencoded::to_string([
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
    .unwrap();
    let timestamp = chrono::Utc::now().timestamp().to_string();
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "x-slack-signature",
            fakes::slack::signature(SECRET, &timestamp, &body),
        )
        .header("x-slack-request-timestamp", timestamp)
        .body(body)
}

#[tokio::main]
async fn main() {
    let quick = load::quick();
    let (incidents, entries, renders, declares, rounds) = if quick {
        (1_000, 400, 20, 200, 1)
    } else {
        (10_000, 2_000, 300, 2_000, 2)
    };
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let dir = tempfile::tempdir().unwrap();
    let (app, base) = runroom(dir.path(), &fake).await;
    seed(app.engine.store().as_ref(), incidents, entries).await;
    let pool = sqlx::SqlitePool::connect(&common::sqlite_url(dir.path()))
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let cookie = session(&base).await;
    let get = |path: String| {
        let (client, cookie) = (client.clone(), cookie.clone());
        async move {
            let page = client
                .get(path)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(page.status().as_u16(), 200);
            assert!(!page.text().await.unwrap().is_empty());
        }
    };
    // Warm both paths.
    for _ in 0..10 {
        get(format!("{base}/dashboard")).await;
        get(format!("{base}/dashboard/incidents/1")).await;
        list_queries(&pool).await;
        incident_queries(&pool, 1).await;
    }

    println!("| page | runroom p50 / p99 | bare queries p50 / p99 | ratio p50 / p99 |");
    println!("|---|---|---|---|");
    for round in 0..rounds {
        let list = timed(renders, || get(format!("{base}/dashboard"))).await;
        let bare_list = timed(renders, || list_queries(&pool)).await;
        let page = timed(renders, || get(format!("{base}/dashboard/incidents/1"))).await;
        let bare_page = timed(renders, || incident_queries(&pool, 1)).await;
        for (name, ours, bare) in [
            (
                format!("list, {incidents} incidents (round {})", round + 1),
                list,
                bare_list,
            ),
            (
                format!("incident, {entries}-entry timeline (round {})", round + 1),
                page,
                bare_page,
            ),
        ] {
            println!(
                "| {name} | {} / {} | {} / {} | {:.1}× / {:.1}× |",
                load::ms(ours.0),
                load::ms(ours.1),
                load::ms(bare.0),
                load::ms(bare.1),
                ours.0.as_secs_f64() / bare.0.as_secs_f64(),
                ours.1.as_secs_f64() / bare.1.as_secs_f64(),
            );
        }
    }

    let url = format!("{base}{SLASH}");
    let bare = load::baseline(SLASH).await;
    println!(
        "\n| live pages open | runroom declares/s (c=32) | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 | live bytes received |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut rates = [Vec::new(), Vec::new()];
    for round in 0..rounds * 2 {
        // Interleaved: none, 100, none, 100 …, so drift in the machine falls on both.
        let open = if round % 2 == 0 { 0 } else { 100 };
        let pages = LivePages::open(&base, &cookie, open).await;
        let tag = format!("r{round}");
        let ours = load::run(declares, 32, |c, i| declare(c, &url, i, &tag)).await;
        let baseline = load::run(declares, 32, |c, i| declare(c, &bare, i, &tag)).await;
        let received = pages.bytes.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!(pages.ready.load(std::sync::atomic::Ordering::Relaxed), open);
        drop(pages.tasks);
        println!(
            "| {open} | {} | {received} |",
            load::compared(&ours, &baseline)
        );
        rates[round % 2].push(ours.per_second);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    println!(
        "\ndeclares with 100 live pages / with none: {:.2} (goal ≥ 0.9)",
        mean(&rates[1]) / mean(&rates[0])
    );
}
