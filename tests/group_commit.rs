//! Group commit: units of work that arrive together commit in one transaction, each in its own
//! savepoint. Each caller is answered once its batch committed, what was acknowledged is on disk
//! (read back through a second connection to the database), a failing unit is undone alone, a
//! duplicate key inside one batch is a Duplicate, and a failed commit fails every unit of the
//! batch and stores none of them. Failures are the database's own: a trigger that refuses a row
//! (at once, or at commit as a deferred constraint).
//!
//! The units are started together with `join_all` on the test's single-threaded runtime, so all
//! of them are queued before the writer runs and the batch is exactly them.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{TestStore, backends};
use futures_util::future::join_all;
use runroom::engine::clock::ManualClock;
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef, RoomRole};
use runroom::engine::writer::{WriterConfig, WriterStats};
use runroom::engine::{Engine, EngineError, EngineSettings, Outcome};
use runroom::i18n::{I18n, Lang};
use runroom::scheduler::{Scheduler, SchedulerConfig};
use runroom::store::{JobState, Store};

const ROSTER_CHAT: &str = "120363000000000001@g.us";

/// The shared rooms, plus a WhatsApp roster whose members hear each other.
fn rooms() -> Vec<Room> {
    let mut rooms = common::rooms();
    rooms.push(Room {
        id: "roster".into(),
        platform: Platform::Whatsapp,
        chat: ROSTER_CHAT.into(),
        language: Lang::PtBr,
        timezone: chrono_tz::America::Sao_Paulo,
        role: RoomRole::WarRoom,
        members: vec!["5511900000001".into(), "5511900000002".into()],
    });
    rooms
}

fn engine(store: &TestStore, clock: Arc<ManualClock>) -> Engine {
    Engine::new(
        store.store.clone(),
        Arc::new(I18n::new().expect("locales")),
        clock,
        EngineSettings {
            rooms: rooms(),
            reaches: runroom::platforms::reaches(),
            ..Default::default()
        },
    )
    .with_writers(WriterConfig {
        writers: 1,
        batch: 64,
        linger: std::time::Duration::ZERO,
    })
}

/// A declaration typed in the Slack war room as event `event`.
fn declare(engine: &Engine, event: &str, title: &str) -> Inbound {
    common::inbound(
        "runroom",
        "ana",
        &format!("inc declare sev3 {title}"),
        event.to_string(),
        engine.clock().now(),
    )
}

/// The store as a second connection sees it (a fresh pool on the same database).
async fn reopened(store: &TestStore) -> Arc<dyn Store> {
    runroom::store::connect(store.url())
        .await
        .expect("the database opens again")
}

async fn incident_titles(store: &TestStore) -> Vec<String> {
    let mut titles: Vec<String> = reopened(store)
        .await
        .open_incidents()
        .await
        .expect("open incidents")
        .into_iter()
        .map(|i| i.title)
        .collect();
    titles.sort();
    titles
}

/// Runs raw SQL on the test's database (a trigger to make the database refuse something).
async fn execute(store: &TestStore, sqlite: &str, postgres: &str) {
    match &store.schema {
        Some((_, pool)) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(postgres.to_string()))
                .execute(pool)
                .await
                .expect("postgres setup");
        }
        None => {
            let pool = sqlx::SqlitePool::connect(store.url())
                .await
                .expect("sqlite connection");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_string()))
                .execute(&pool)
                .await
                .expect("sqlite setup");
            pool.close().await;
        }
    }
}

/// Inserting an incident whose title says "poison" fails at once.
async fn refuse_poison(store: &TestStore) {
    execute(
        store,
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON incidents \
         WHEN NEW.title LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned incident'); END;",
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'poisoned incident'; END $$; \
         CREATE TRIGGER refuse_poison BEFORE INSERT ON incidents FOR EACH ROW \
         WHEN (NEW.title LIKE '%poison%') EXECUTE FUNCTION refuse_poison();",
    )
    .await;
}

async fn allow_poison(store: &TestStore) {
    execute(
        store,
        "DROP TRIGGER refuse_poison;",
        "DROP TRIGGER refuse_poison ON incidents;",
    )
    .await;
}

/// Inserting an incident whose title says "doomed" succeeds, but the transaction that holds it
/// cannot commit (a deferred constraint).
async fn doom_commits(store: &TestStore) {
    execute(
        store,
        "CREATE TABLE doom_parent (id INTEGER PRIMARY KEY); \
         CREATE TABLE doom_marks (incident INTEGER REFERENCES doom_parent (id) \
           DEFERRABLE INITIALLY DEFERRED); \
         CREATE TRIGGER doom AFTER INSERT ON incidents WHEN NEW.title LIKE '%doomed%' \
           BEGIN INSERT INTO doom_marks VALUES (NEW.number); END;",
        "CREATE FUNCTION doom() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN RAISE EXCEPTION 'doomed batch'; END $$; \
         CREATE CONSTRAINT TRIGGER doom AFTER INSERT ON incidents \
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW \
         WHEN (NEW.title LIKE '%doomed%') EXECUTE FUNCTION doom();",
    )
    .await;
}

async fn undoom(store: &TestStore) {
    execute(
        store,
        "DROP TRIGGER doom;",
        "DROP TRIGGER doom ON incidents;",
    )
    .await;
}

fn handled(out: &Result<Outcome, EngineError>) -> bool {
    matches!(out, Ok(Outcome::Handled { ok: true, .. }))
}

fn subject(incident: i64) -> String {
    runroom::engine::plan::incident_subject(incident)
}

fn since(before: WriterStats, after: WriterStats) -> (u64, u64) {
    (after.batches - before.batches, after.units - before.units)
}

#[tokio::test]
async fn concurrent_commands_commit_in_one_batch_and_are_on_disk_when_answered() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let inbounds: Vec<Inbound> = (0..24)
            .map(|i| declare(&engine, &format!("evt-{i}"), &format!("Outage {i:02}")))
            .collect();
        let outcomes = join_all(inbounds.iter().map(|i| engine.handle(i))).await;
        for (i, out) in outcomes.iter().enumerate() {
            assert!(handled(out), "[{}] command {i}: {out:?}", store.name);
        }
        assert_eq!(
            engine.writer_stats(),
            WriterStats {
                batches: 1,
                units: 24
            },
            "[{}] one transaction for all of them",
            store.name
        );
        let expected: Vec<String> = (0..24).map(|i| format!("Outage {i:02}")).collect();
        assert_eq!(incident_titles(&store).await, expected, "[{}]", store.name);
        // Numbered one after another inside the batch, each with its own broadcast rows.
        let mut numbers: Vec<i64> = outcomes
            .iter()
            .filter_map(|o| match o {
                Ok(Outcome::Handled { incident, .. }) => *incident,
                _ => None,
            })
            .collect();
        numbers.sort();
        assert_eq!(numbers, (1..=24).collect::<Vec<_>>(), "[{}]", store.name);
    }
}

#[tokio::test]
async fn a_failing_decision_is_undone_alone_and_can_be_redelivered() {
    for store in backends().await {
        refuse_poison(&store).await;
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let titles = [
            "Checkout slow",
            "Search poison pill",
            "Login errors",
            "Queue backlog",
        ];
        let inbounds: Vec<Inbound> = titles
            .iter()
            .enumerate()
            .map(|(i, t)| declare(&engine, &format!("evt-{i}"), t))
            .collect();
        let outcomes = join_all(inbounds.iter().map(|i| engine.handle(i))).await;
        assert!(handled(&outcomes[0]), "[{}] {:?}", store.name, outcomes[0]);
        assert!(
            matches!(&outcomes[1], Err(EngineError::Store(_))),
            "[{}] the refused one fails: {:?}",
            store.name,
            outcomes[1]
        );
        assert!(handled(&outcomes[2]), "[{}] {:?}", store.name, outcomes[2]);
        assert!(handled(&outcomes[3]), "[{}] {:?}", store.name, outcomes[3]);
        assert_eq!(
            engine.writer_stats(),
            WriterStats {
                batches: 1,
                units: 3
            },
            "[{}] the others committed together",
            store.name
        );
        assert_eq!(
            incident_titles(&store).await,
            ["Checkout slow", "Login errors", "Queue backlog"],
            "[{}]",
            store.name
        );
        // Nothing of it was kept, its dedupe key included: the redelivery is handled afresh.
        allow_poison(&store).await;
        let again = engine.handle(&inbounds[1]).await;
        assert!(handled(&again), "[{}] {again:?}", store.name);
        assert_eq!(incident_titles(&store).await.len(), 4, "[{}]", store.name);
    }
}

#[tokio::test]
async fn the_same_event_twice_in_one_batch_is_done_once() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let first = declare(&engine, "evt-1", "Payments down");
        let other = declare(&engine, "evt-2", "Email delayed");
        let batch = [first.clone(), other, first];
        let outcomes = join_all(batch.iter().map(|i| engine.handle(i))).await;
        assert!(handled(&outcomes[0]), "[{}] {:?}", store.name, outcomes[0]);
        assert!(handled(&outcomes[1]), "[{}] {:?}", store.name, outcomes[1]);
        assert!(
            matches!(outcomes[2], Ok(Outcome::Duplicate)),
            "[{}] the repeat inside the batch: {:?}",
            store.name,
            outcomes[2]
        );
        assert_eq!(engine.writer_stats().batches, 1, "[{}]", store.name);
        assert_eq!(
            incident_titles(&store).await,
            ["Email delayed", "Payments down"],
            "[{}]",
            store.name
        );
    }
}

#[tokio::test]
async fn a_failed_commit_fails_every_unit_of_the_batch_and_stores_none() {
    for store in backends().await {
        doom_commits(&store).await;
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let titles = ["Checkout slow", "The doomed one", "Login errors"];
        let inbounds: Vec<Inbound> = titles
            .iter()
            .enumerate()
            .map(|(i, t)| declare(&engine, &format!("evt-{i}"), t))
            .collect();
        let outcomes = join_all(inbounds.iter().map(|i| engine.handle(i))).await;
        for (i, out) in outcomes.iter().enumerate() {
            assert!(
                matches!(out, Err(EngineError::Batch(_))),
                "[{}] unit {i} is told its batch failed: {out:?}",
                store.name
            );
        }
        assert_eq!(engine.writer_stats().batches, 0, "[{}]", store.name);
        assert!(incident_titles(&store).await.is_empty(), "[{}]", store.name);
        let queued = reopened(&store)
            .await
            .outbox_stats()
            .await
            .expect("outbox stats");
        assert!(
            queued.iter().all(|s| s.count == 0),
            "[{}] no message queued: {queued:?}",
            store.name
        );
        // Nothing was recorded, dedupe keys included: every redelivery is handled.
        undoom(&store).await;
        let again = join_all(inbounds.iter().map(|i| engine.handle(i))).await;
        assert!(again.iter().all(handled), "[{}] {again:?}", store.name);
        assert_eq!(incident_titles(&store).await.len(), 3, "[{}]", store.name);
    }
}

#[tokio::test]
async fn a_relay_commits_in_the_same_batch_as_the_commands_beside_it() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let chatter = Inbound {
            event_id: "wamid-1".into(),
            origin: Origin {
                room: RoomRef {
                    platform: Platform::Whatsapp,
                    chat: ROSTER_CHAT.into(),
                    thread: None,
                },
                author: Author {
                    id: "5511900000001".into(),
                    name: "Bruno".into(),
                },
                private_replies: false,
            },
            input: Input::Text("caminhão parado na doca 3".into()),
            received_at: engine.clock().now(),
        };
        let command = declare(&engine, "evt-1", "Dock 3 blocked");
        let before = engine.writer_stats();
        let (relayed, declared) =
            tokio::join!(engine.relay(&chatter, false), engine.handle(&command));
        assert_eq!(
            relayed.expect("relayed"),
            1,
            "[{}] to the other member",
            store.name
        );
        assert!(handled(&declared), "[{}] {declared:?}", store.name);
        assert_eq!(
            since(before, engine.writer_stats()),
            (1, 2),
            "[{}] one transaction",
            store.name
        );
        // Relayed once: the same webhook again relays nothing.
        let again = engine.relay(&chatter, false).await.expect("relay");
        assert_eq!(again, 0, "[{}]", store.name);
    }
}

#[tokio::test]
async fn jobs_claimed_together_fire_in_one_transaction_and_a_failing_one_is_retried_alone() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = Arc::new(engine(&store, clock.clone()));
        let scheduler = Scheduler::new(engine.clone(), SchedulerConfig::default(), "test-worker");
        // Each declaration plans its update reminder.
        let inbounds: Vec<Inbound> = (0..6)
            .map(|i| declare(&engine, &format!("evt-{i}"), &format!("Outage {i}")))
            .collect();
        for inbound in &inbounds {
            assert!(handled(&engine.handle(inbound).await), "[{}]", store.name);
        }
        // Incident 4's reminder will fail: the database refuses the incident's update.
        execute(
            &store,
            "CREATE TRIGGER refuse_four BEFORE UPDATE ON incidents WHEN NEW.number = 4 \
             BEGIN SELECT RAISE(ABORT, 'incident 4 is locked'); END;",
            "CREATE FUNCTION refuse_four() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'incident 4 is locked'; END $$; \
             CREATE TRIGGER refuse_four BEFORE UPDATE ON incidents FOR EACH ROW \
             WHEN (NEW.number = 4) EXECUTE FUNCTION refuse_four();",
        )
        .await;
        clock.advance(Duration::hours(2));
        let before = engine.writer_stats();
        let tick = scheduler.tick().await.expect("tick");
        assert_eq!(
            (tick.fired, tick.failed),
            (5, 1),
            "[{}] {tick:?}",
            store.name
        );
        assert_eq!(
            since(before, engine.writer_stats()),
            (1, 5),
            "[{}] the five fired in one transaction",
            store.name
        );
        let jobs = store
            .store
            .jobs_in_state(JobState::Pending, 100)
            .await
            .expect("jobs");
        let failed = jobs
            .iter()
            .find(|j| j.subject == subject(4) && j.attempts == 1)
            .unwrap_or_else(|| {
                panic!(
                    "[{}] the failed reminder waits to retry: {jobs:?}",
                    store.name
                )
            });
        assert!(failed.last_error.is_some(), "[{}]", store.name);

        // Once the incident can be written again, the retry fires it, alone.
        execute(
            &store,
            "DROP TRIGGER refuse_four;",
            "DROP TRIGGER refuse_four ON incidents;",
        )
        .await;
        clock.advance(Duration::minutes(1));
        let tick = scheduler.drain().await.expect("drain");
        assert_eq!(tick.fired, 1, "[{}] {tick:?}", store.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_writers_and_small_batches_still_commit_each_command_once() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        // Three writers where the backend allows it (SQLite keeps one), eight units a batch.
        let engine = Arc::new(engine(&store, clock).with_writers(WriterConfig {
            writers: 3,
            batch: 8,
            linger: std::time::Duration::from_micros(200),
        }));
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let engine = engine.clone();
                let inbound = declare(&engine, &format!("evt-{i}"), &format!("Outage {i:03}"));
                tokio::spawn(async move { engine.handle(&inbound).await })
            })
            .collect();
        for (i, task) in join_all(tasks).await.into_iter().enumerate() {
            let out = task.expect("task");
            assert!(handled(&out), "[{}] command {i}: {out:?}", store.name);
        }
        let stats = engine.writer_stats();
        assert_eq!(stats.units, 100, "[{}] {stats:?}", store.name);
        assert!(
            stats.batches >= 13,
            "[{}] at most 8 a batch: {stats:?}",
            store.name
        );
        let expected: Vec<String> = (0..100).map(|i| format!("Outage {i:03}")).collect();
        assert_eq!(incident_titles(&store).await, expected, "[{}]", store.name);
    }
}
