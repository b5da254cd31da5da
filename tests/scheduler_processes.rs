//! The scheduler across real `runroom serve` processes: two of them on one Postgres fire every
//! due reminder exactly once, as seen by a fake WhatsApp Cloud API.

mod common;
mod fakes;

use std::time::Duration;

use chrono::Utc;
use fakes::graph::{FakeGraph, assert_each_once};
use runroom::engine::incident::{Actor, Incident, Severity};
use runroom::engine::plan::JobPayload;

const JOBS: usize = 60;

fn config_file(dir: &std::path::Path, database_url: &str, fake: &FakeGraph) -> String {
    let rest = format!(
        r#"
[scheduler]
batch = 4
poll_ms = 100

[outbox]
poll_ms = 50
breaker_threshold = 1000
{whatsapp}
[[rooms]]
id = "campo"
platform = "whatsapp"
kind = "roster"
members = ["+5511900000001"]
language = "pt-BR"
"#,
        whatsapp = fake.serve_config(),
    );
    common::process::serve_config(dir, database_url, &rest)
}

#[tokio::test]
async fn two_processes_on_one_postgres_fire_each_reminder_once() {
    let Some(pg) = common::postgres().await else {
        return;
    };
    let (_, pool) = pg.schema.clone().expect("a schema");
    // Open incidents whose update reminders all fall due in two seconds.
    let now = Utc::now();
    let due = now + chrono::Duration::seconds(2);
    let actor = Actor {
        name: "joana".into(),
        room: "campo".into(),
    };
    let mut tx = pg.store.begin().await.unwrap();
    for i in 0..JOBS {
        let (mut incident, _) =
            Incident::declare(format!("Rastreio {i}"), Severity::Sev2, None, &actor, now);
        incident.update_due_at = Some(due);
        let number = tx.insert_incident(&incident).await.unwrap();
        let job = JobPayload::Reminder { incident: number }.at(due);
        tx.schedule_jobs(&[job], now).await.unwrap();
    }
    tx.commit().await.unwrap();

    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(dir.path(), pg.url(), &fake);
    let serve = |name: &str| {
        let mut command = common::process::serve_command(&config);
        command.env("RUNROOM_WHATSAPP_TOKEN", &fake.token);
        common::process::replica(&mut command, dir.path(), name);
        common::process::spawn_serve(&mut command).0
    };
    let mut a = serve("a");
    let mut b = serve("b");
    let accepted = fake.wait_for_accepted(JOBS, Duration::from_secs(60)).await;
    for child in [&mut a, &mut b] {
        let status = common::process::terminate(child).await;
        assert!(status.success(), "serve stops cleanly: {status}");
    }
    assert_each_once(&accepted, JOBS);
    assert!(
        accepted.iter().all(|r| r.body.contains("Rastreio")),
        "{accepted:#?}"
    );
    // Every job fired once (one claim each), and both processes took part.
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT state, claimed_by, attempts FROM jobs WHERE kind = 'reminder' AND key LIKE 'reminder:%' AND due_at = $1")
            .bind(due.timestamp_millis())
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(rows.len(), JOBS);
    assert!(
        rows.iter()
            .all(|(state, _, attempts)| state == "done" && *attempts == 1),
        "{rows:?}"
    );
    let processes: std::collections::BTreeSet<&str> = rows
        .iter()
        .filter_map(|(_, by, _)| by.strip_prefix("scheduler-")?.split('-').next())
        .collect();
    assert_eq!(processes.len(), 2, "both processes fired jobs: {rows:?}");
}
