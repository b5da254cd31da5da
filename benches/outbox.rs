//! Outbox delivery to the fake WhatsApp Cloud API on loopback: 1,000 messages against a platform
//! that enforces 80 messages/s (rate achieved, 429s, duplicates), and throughput against an
//! unlimited fake on SQLite and on Postgres (when `RUNROOM_TEST_POSTGRES_URL` is set).
//! Run: `cargo bench --bench outbox`.

#[path = "../tests/fakes/mod.rs"]
mod fakes;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fakes::graph::FakeGraph;
use runroom::engine::clock::SystemClock;
use runroom::engine::room::Platform;
use runroom::i18n::Lang;
use runroom::outbox::{OutboxConfig, PlatformLimits, Worker};
use runroom::store::{MessageKind, NewOutbound, Store};

fn messages(n: usize, tag: &str) -> Vec<NewOutbound> {
    (0..n)
        .map(|i| NewOutbound {
            idempotency_key: format!("{tag}-{i}"),
            room_id: "roster".into(),
            platform: Platform::Whatsapp,
            // One recipient each, as a roster fan-out: only the number's limit binds.
            chat: format!("55119{i:08}"),
            thread: None,
            kind: MessageKind::Broadcast,
            language: Lang::PtBr,
            text: format!("🚨 INC-1 declarado — SEV1 (crítico): Checkout fora do ar ({tag} {i})"),
            rich: None,
            incident: Some(1),
            priority: 1,
            created_at: Utc::now(),
            recipient: None,
            topic: None,
        })
        .collect()
}

fn config(rate: f64, burst: u32) -> OutboxConfig {
    let mut config = OutboxConfig {
        batch: 500,
        in_flight: 32,
        poll_ms: 20,
        ..OutboxConfig::default()
    };
    config.limits.insert(
        "whatsapp".into(),
        PlatformLimits {
            rate,
            burst,
            per_chat_rate: 1.0 / 6.0,
            per_chat_burst: 5,
            ..PlatformLimits::default()
        },
    );
    config
}

/// Enqueues `n` messages, runs the workers until the fake accepted them all, and returns the
/// wall time from the first to the last accepted request and the accepted requests.
async fn deliver(
    store: Arc<dyn Store>,
    fake: &FakeGraph,
    n: usize,
    config: OutboxConfig,
    workers: usize,
) -> (Duration, Vec<fakes::graph::Received>) {
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(&messages(
        n,
        &format!("run{}", Utc::now().timestamp_micros()),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let sender = Arc::new(fake.sender(store.clone(), Arc::new(SystemClock), 10));
    let first = Worker::new(
        store,
        vec![sender],
        Arc::new(SystemClock),
        config,
        "bench-0",
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = Vec::new();
    let siblings: Vec<Worker> = (1..workers)
        .map(|i| first.sibling(format!("bench-{i}")))
        .collect();
    for w in std::iter::once(first).chain(siblings) {
        let stopped = stopped.clone();
        tasks.push(tokio::spawn(async move { w.run(stopped).await }));
    }
    let before = fake.accepted().len();
    let accepted = fake
        .wait_for_accepted(before + n, Duration::from_secs(120))
        .await;
    stop.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let run: Vec<_> = accepted[before..].to_vec();
    let span = run.last().unwrap().at.duration_since(run[0].at);
    (span, run)
}

fn duplicates(accepted: &[fakes::graph::Received]) -> usize {
    let mut bodies: Vec<&str> = accepted.iter().map(|r| r.body.as_str()).collect();
    bodies.sort();
    let total = bodies.len();
    bodies.dedup();
    total - bodies.len()
}

async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Arc<dyn Store> {
    runroom::store::connect(&format!("sqlite://{}", dir.path().join(name).display()))
        .await
        .unwrap()
}

async fn postgres() -> Option<Arc<dyn Store>> {
    let url = std::env::var("RUNROOM_TEST_POSTGRES_URL").ok()?;
    let schema = format!("runroom_bench_{}", Utc::now().timestamp_micros());
    let admin = sqlx::PgPool::connect(&url).await.ok()?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .ok()?;
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .ok()?
        .options([("search_path", schema.as_str())]);
    let store = runroom::store::postgres::PgStore::connect_with(options)
        .await
        .ok()?;
    store.migrate().await.ok()?;
    Some(Arc::new(store))
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();

        // 1. A platform that enforces 80 messages/s (bursts of 80 borrow, as Meta's number limit).
        let fake = FakeGraph::start().await;
        fake.limit(80, 80.0);
        let store = sqlite(&dir, "paced.db").await;
        let (span, accepted) = deliver(store, &fake, 1000, config(80.0, 80), 2).await;
        let overall = accepted.len() as f64 / span.as_secs_f64();
        // After the opening burst the bucket is empty: the steady rate is the platform's limit.
        let steady_from = accepted[100].at;
        let steady = (accepted.len() - 101) as f64 / accepted.last().unwrap().at.duration_since(steady_from).as_secs_f64();
        println!("paced: 1000 messages to a fake enforcing 80/s (burst 80)");
        println!("  first→last accepted        {:>8.2} s", span.as_secs_f64());
        println!("  rate, whole run            {:>8.1} msg/s ({:.1}% of 80/s, the opening burst included)", overall, overall / 0.8);
        println!("  rate, steady (after 100)   {:>8.1} msg/s ({:.1}% of 80/s)", steady, steady / 0.8);
        println!("  429s                       {:>8}", fake.count_status(429));
        println!("  duplicates                 {:>8}", duplicates(&accepted));

        // 2. Throughput against an unlimited fake.
        let unlimited = config(1_000_000.0, 1_000_000);
        let fake = FakeGraph::start().await;
        let n = 2000;
        let store = sqlite(&dir, "fast.db").await;
        let (span, accepted) = deliver(store, &fake, n, unlimited.clone(), 2).await;
        println!("unlimited fake, {n} messages, 2 workers × 32 in flight");
        println!(
            "  SQLite                     {:>8.0} msg/s (duplicates {})",
            n as f64 / span.as_secs_f64(),
            duplicates(&accepted)
        );
        match postgres().await {
            Some(store) => {
                let (span, accepted) = deliver(store, &fake, n, unlimited, 2).await;
                println!(
                    "  Postgres                   {:>8.0} msg/s (duplicates {})",
                    n as f64 / span.as_secs_f64(),
                    duplicates(&accepted)
                );
            }
            None => println!("  Postgres                   skipped (set RUNROOM_TEST_POSTGRES_URL)"),
        }
    });
}
