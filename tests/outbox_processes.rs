//! Delivery across real `runroom serve` processes: killed with messages in flight and restarted,
//! and two processes sharing one Postgres — every message reaches the fake platform once.

mod common;
mod fakes;

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use fakes::graph::{FakeGraph, assert_each_once};
use runroom::engine::room::Platform;
use runroom::i18n::Lang;
use runroom::store::{MessageKind, NewOutbound, OutboxState, Store};

fn config_file(dir: &std::path::Path, database_url: &str, fake: &FakeGraph, batch: u32) -> String {
    let text = format!(
        r#"
[server]
listen = "127.0.0.1:0"

[database]
url = "{database_url}"

[outbox]
lease_seconds = 2
poll_ms = 50
batch = {batch}
breaker_threshold = 1000

[outbox.limits.whatsapp]
rate = 1000.0
burst = 1000
per_chat_rate = 1000.0
per_chat_burst = 1000

[whatsapp]
api_url = "{url}"
phone_number_id = "1098765"
timeout_seconds = 60
"#,
        url = fake.url
    );
    let path = dir.join("runroom.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn serve(config: &str, fake: &FakeGraph) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_runroom"));
    command
        .args(["--config", config, "serve"])
        .env("RUNROOM_WHATSAPP_TOKEN", &fake.token)
        .env_remove("RUNROOM_DATABASE_URL")
        .env_remove("RUNROOM_CONFIG");
    common::process::spawn_serve(&mut command).0
}

fn stop(mut child: Child) {
    let status = common::process::terminate(&mut child);
    assert!(
        status.success(),
        "serve stops cleanly on SIGTERM, got {status}"
    );
}

fn messages(n: usize) -> Vec<NewOutbound> {
    (0..n)
        .map(|i| NewOutbound {
            idempotency_key: format!("m{i}"),
            room_id: "campo".into(),
            platform: Platform::Whatsapp,
            chat: format!("551190000{i:04}"),
            thread: None,
            kind: MessageKind::Broadcast,
            language: Lang::PtBr,
            text: format!("mensagem {i}"),
            rich: None,
            incident: None,
            priority: 2,
            created_at: Utc::now(),
            recipient: None,
            topic: None,
        })
        .collect()
}

async fn enqueue(store: &Arc<dyn Store>, n: usize) {
    let mut tx = store.begin().await.unwrap();
    tx.enqueue(&messages(n)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn wait_until<F: AsyncFnMut() -> bool>(within: Duration, what: &str, mut check: F) {
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_killed_process_loses_nothing_and_sends_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("runroom.db").display());
    let store = runroom::store::connect(&url).await.unwrap();
    enqueue(&store, 20).await;
    let fake = FakeGraph::start().await;
    fake.hang_after(8);
    let config = config_file(dir.path(), &url, &fake, 200);

    let mut first = serve(&config, &fake);
    // Eight delivered and recorded as sent; the other twelve hang in flight. Kill only once every
    // message has reached the fake: a request still on its way would be accepted after
    // `stop_hanging` and then sent again by the next process (a real platform would get it twice
    // too: the crash window that at-least-once delivery cannot close).
    wait_until(Duration::from_secs(30), "8 messages sent", async || {
        store
            .outbox_in_state(OutboxState::Sent, 100)
            .await
            .unwrap()
            .len()
            == 8
            && fake.received().len() == 20
    })
    .await;
    first.kill().unwrap(); // SIGKILL: no chance to clean up
    first.wait().unwrap();
    assert_eq!(fake.accepted().len(), 8);

    fake.stop_hanging();
    let second = serve(&config, &fake);
    let accepted = fake.wait_for_accepted(20, Duration::from_secs(30)).await;
    stop(second);
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
    let base = std::env::var("RUNROOM_TEST_POSTGRES_URL").unwrap();
    let (schema, pool) = pg
        .schema
        .clone()
        .expect("a Postgres test store has a schema");
    enqueue(&pg.store, 300).await;
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let config = config_file(dir.path(), &url, &fake, 10);
    let a = serve(&config, &fake);
    let b = serve(&config, &fake);
    let accepted = fake.wait_for_accepted(300, Duration::from_secs(60)).await;
    stop(a);
    stop(b);
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
