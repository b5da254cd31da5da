//! Outbox delivery to the fake WhatsApp Cloud API on loopback: 1,000 messages against a platform
//! that enforces 80 messages/s (rate achieved, 429s, duplicates), with bursts of 80 and with a
//! bucket of one (burst 1), and throughput against an
//! unlimited fake on SQLite and on Postgres (when `RUNROOM_TEST_POSTGRES_URL` is set).
//! Run: `cargo bench --bench outbox` (`-- --quick` for 200 messages each, to check it works).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fakes/mod.rs"]
mod fakes;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fakes::graph::FakeGraph;
use runroom::engine::clock::SystemClock;
use runroom::outbox::{OutboxConfig, PlatformLimits, Worker};
use runroom::store::{NewOutbound, Store};

/// `n` roster broadcasts, one recipient each (only the number's limit binds).
fn messages(n: usize, tag: &str) -> Vec<NewOutbound> {
    (0..n)
        .map(|i| NewOutbound {
            room_id: "roster".into(),
            text: format!("🚨 INC-1 declarado — SEV1 (crítico): Checkout fora do ar ({tag} {i})"),
            incident: Some(1),
            priority: 1,
            ..common::whatsapp_message(&format!("{tag}-{i}"), &format!("55119{i:08}"), Utc::now())
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
    let tag = format!("run{}", Utc::now().timestamp_micros());
    common::enqueue(&store, &messages(n, &tag)).await;
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

#[tokio::main]
async fn main() {
    // (messages to the paced fake, messages to the unlimited one)
    let (paced_n, n) = if std::env::args().any(|a| a == "--quick") {
        (200, 200)
    } else {
        (1000, 2000)
    };

    // 1. A platform that enforces 80 messages/s (bursts of 80 borrow, as Meta's number limit).
    let fake = FakeGraph::start().await;
    fake.limit(80, 80.0);
    let paced = common::sqlite().await;
    let (span, accepted) = deliver(paced.store.clone(), &fake, paced_n, config(80.0, 80), 2).await;
    let overall = accepted.len() as f64 / span.as_secs_f64();
    // After the opening burst the bucket is empty: the steady rate is the platform's limit.
    let steady_from = accepted[100].at;
    let steady = (accepted.len() - 101) as f64
        / accepted
            .last()
            .unwrap()
            .at
            .duration_since(steady_from)
            .as_secs_f64();
    println!("paced: {paced_n} messages to a fake enforcing 80/s (burst 80)");
    println!("  first→last accepted        {:>8.2} s", span.as_secs_f64());
    println!(
        "  rate, whole run            {:>8.1} msg/s ({:.1}% of 80/s, the opening burst included)",
        overall,
        overall / 0.8
    );
    println!(
        "  rate, steady (after 100)   {:>8.1} msg/s ({:.1}% of 80/s)",
        steady,
        steady / 0.8
    );
    println!("  429s                       {:>8}", fake.count_status(429));
    println!("  duplicates                 {:>8}", duplicates(&accepted));

    // 1b. The same limit with no burst at all: a bucket of one, and the outbox told burst 1.
    let fake = FakeGraph::start().await;
    fake.limit(1, 80.0);
    let strict = common::sqlite().await;
    let (span, accepted) = deliver(strict.store.clone(), &fake, paced_n, config(80.0, 1), 2).await;
    let rate = (accepted.len() - 1) as f64 / span.as_secs_f64();
    println!("burst 1: {paced_n} messages to a fake enforcing 80/s with a bucket of one");
    println!("  first→last accepted        {:>8.2} s", span.as_secs_f64());
    println!(
        "  rate                       {:>8.1} msg/s ({:.1}% of 80/s)",
        rate,
        rate / 0.8
    );
    println!("  429s                       {:>8}", fake.count_status(429));
    println!("  duplicates                 {:>8}", duplicates(&accepted));

    // 2. Throughput against an unlimited fake.
    let unlimited = config(1_000_000.0, 1_000_000);
    let fake = FakeGraph::start().await;
    let fast = common::sqlite().await;
    let (span, accepted) = deliver(fast.store.clone(), &fake, n, unlimited.clone(), 2).await;
    println!("unlimited fake, {n} messages, 2 workers × 32 in flight");
    println!(
        "  SQLite                     {:>8.0} msg/s (duplicates {})",
        n as f64 / span.as_secs_f64(),
        duplicates(&accepted)
    );
    match common::postgres().await {
        Some(pg) => {
            let (span, accepted) = deliver(pg.store.clone(), &fake, n, unlimited, 2).await;
            println!(
                "  Postgres                   {:>8.0} msg/s (duplicates {})",
                n as f64 / span.as_secs_f64(),
                duplicates(&accepted)
            );
        }
        None => println!("  Postgres                   skipped (set RUNROOM_TEST_POSTGRES_URL)"),
    }
}
