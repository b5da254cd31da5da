//! Delivery across real `runroom serve` processes: killed with messages in flight and restarted,
//! and two processes sharing one Postgres — every message reaches the fake platform once.

mod common;
mod fakes;

use std::process::Child;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use fakes::graph::{FakeGraph, assert_each_once};
use runroom::engine::room::Platform;
use runroom::store::OutboxState;
use runroom::store::{NewOutbound, Store};

fn config_file(dir: &std::path::Path, database_url: &str, fake: &FakeGraph, batch: u32) -> String {
    let rest = format!(
        r#"
[outbox]
lease_seconds = 2
poll_ms = 50
batch = {batch}
breaker_threshold = 1000
{whatsapp}timeout_seconds = 60
"#,
        whatsapp = fake.serve_config(),
    );
    common::process::serve_config(dir, database_url, &rest)
}

fn serve(config: &str, fake: &FakeGraph) -> Child {
    serve_replica(config, fake, None)
}

/// [`serve`] as the replica `name` of several on one config (each with its own journal).
fn serve_replica(config: &str, fake: &FakeGraph, name: Option<&str>) -> Child {
    let mut command = common::process::serve_command(config);
    command.env("RUNROOM_WHATSAPP_TOKEN", &fake.token);
    if let Some(name) = name {
        let dir = std::path::Path::new(config)
            .parent()
            .expect("the config's directory");
        common::process::replica(&mut command, dir, name);
    }
    common::process::spawn_serve(&mut command).0
}

async fn stop(mut child: Child) {
    let status = common::process::terminate(&mut child).await;
    assert!(
        status.success(),
        "serve stops cleanly on SIGTERM, got {status}"
    );
}

/// `n` messages, each to its own recipient.
async fn enqueue(store: &Arc<dyn Store>, n: usize) {
    let messages: Vec<NewOutbound> = (0..n)
        .map(|i| {
            common::whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), Utc::now())
        })
        .collect();
    common::enqueue(store, &messages).await;
}

#[tokio::test]
async fn a_killed_process_loses_nothing_and_sends_nothing_twice() {
    let backend = common::sqlite().await;
    let store = backend.store.clone();
    enqueue(&store, 20).await;
    let fake = FakeGraph::start().await;
    fake.hang_after(8);
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), backend.url(), &fake, 200);

    let mut first = serve(&config, &fake);
    // Eight delivered and recorded as sent; the other twelve hang in flight. Kill only once every
    // message has reached the fake: a request still on its way would be accepted after
    // `stop_hanging` and then sent again by the next process (a real platform would get it twice
    // too: the crash window that at-least-once delivery cannot close).
    common::poll_async("8 messages sent", Duration::from_secs(30), async || {
        let sent = store.outbox_in_state(OutboxState::Sent, 100).await.unwrap();
        (sent.len() == 8 && fake.received().len() == 20).then_some(())
    })
    .await;
    first.kill().unwrap(); // SIGKILL: no chance to clean up
    first.wait().unwrap();
    assert_eq!(fake.accepted().len(), 8);

    fake.stop_hanging();
    let second = serve(&config, &fake);
    let accepted = fake.wait_for_accepted(20, Duration::from_secs(30)).await;
    stop(second).await;
    assert_each_once(&accepted, 20);
    assert_eq!(
        store
            .outbox_in_state(OutboxState::Sent, 100)
            .await
            .unwrap()
            .len(),
        20
    );
    assert!(
        store
            .pending_outbox(Platform::Whatsapp, 100)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn two_processes_on_one_postgres_send_each_message_once() {
    let Some(pg) = common::postgres().await else {
        return;
    };
    let (_, pool) = pg
        .schema
        .clone()
        .expect("a Postgres test store has a schema");
    enqueue(&pg.store, 300).await;
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), pg.url(), &fake, 10);
    let a = serve_replica(&config, &fake, Some("a"));
    let b = serve_replica(&config, &fake, Some("b"));
    let accepted = fake.wait_for_accepted(300, Duration::from_secs(60)).await;
    stop(a).await;
    stop(b).await;
    assert_each_once(&accepted, 300);
    assert_eq!(
        pg.store
            .outbox_in_state(OutboxState::Sent, 1000)
            .await
            .unwrap()
            .len(),
        300
    );
    // Both processes took part (worker ids start with the process id).
    let claimers: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT claimed_by FROM outbox")
        .fetch_all(&pool)
        .await
        .unwrap();
    let processes: std::collections::BTreeSet<&str> = claimers
        .iter()
        .filter_map(|(w,)| w.split('-').next())
        .collect();
    assert_eq!(processes.len(), 2, "both processes sent: {claimers:?}");
}
