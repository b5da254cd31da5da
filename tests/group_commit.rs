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
use runroom::engine::jobs::Fired;
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef, RoomRole};
use runroom::engine::writer::{WriterConfig, WriterStats};
use runroom::engine::{Engine, EngineError, EngineSettings, Outcome};
use runroom::i18n::{I18n, Lang};
use runroom::scheduler::{Scheduler, SchedulerConfig};
use runroom::store::{JobKind, JobState, OutboxState, Store};

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
        // The units each test starts together are one batch (the first would otherwise run
        // alone, on its own task: `a_lone_command_commits_on_its_own_task_and_a_failed_one_gives_its_slot_back`).
        inline: false,
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
    let mut titles: Vec<String> = numbered_titles(store)
        .await
        .into_iter()
        .map(|(_, title)| title)
        .collect();
    titles.sort();
    titles
}

/// The open incidents' numbers and titles, in number order.
async fn numbered_titles(store: &TestStore) -> Vec<(i64, String)> {
    let mut numbered: Vec<(i64, String)> = reopened(store)
        .await
        .open_incidents()
        .await
        .expect("open incidents")
        .into_iter()
        .map(|i| (i.number, i.title))
        .collect();
    numbered.sort();
    numbered
}

/// Runs raw SQL on the test's database (a trigger to make the database refuse something).
async fn execute(store: &TestStore, sqlite: &str, postgres: &str) {
    common::raw_sql(store, sqlite, postgres).await;
}

/// A trigger `name` that refuses at once every row inserted into `table` whose `column` is
/// LIKE `pattern`.
async fn refuse_rows(store: &TestStore, name: &str, table: &str, column: &str, pattern: &str) {
    execute(
        store,
        &format!(
            "CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN NEW.{column} LIKE '{pattern}' \
             BEGIN SELECT RAISE(ABORT, '{name}'); END;"
        ),
        &format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION '{name}'; END $$; \
             CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW \
             WHEN (NEW.{column} LIKE '{pattern}') EXECUTE FUNCTION {name}();"
        ),
    )
    .await;
}

/// Inserting an incident whose title says "poison" fails at once.
async fn refuse_poison(store: &TestStore) {
    refuse_rows(store, "refuse_poison", "incidents", "title", "%poison%").await;
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

/// `n` declarations (`Outage 00`…) started together; each is handled.
async fn declare_together(
    store: &TestStore,
    engine: &Engine,
    n: usize,
) -> Vec<Result<Outcome, EngineError>> {
    let inbounds: Vec<Inbound> = (0..n)
        .map(|i| declare(engine, &format!("evt-{i}"), &format!("Outage {i:02}")))
        .collect();
    let outcomes = join_all(inbounds.iter().map(|i| engine.handle(i))).await;
    for (i, out) in outcomes.iter().enumerate() {
        assert!(handled(out), "[{}] command {i}: {out:?}", store.name);
    }
    outcomes
}

fn since(before: WriterStats, after: WriterStats) -> (u64, u64) {
    (after.batches - before.batches, after.units - before.units)
}

#[tokio::test]
async fn concurrent_commands_commit_in_one_batch_and_are_on_disk_when_answered() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let outcomes = declare_together(&store, &engine, 24).await;
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
async fn a_lone_command_commits_on_its_own_task_and_a_failed_one_gives_its_slot_back() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock).with_writers(WriterConfig::default());
        // Alone, with nothing queued: its own transaction, committed before it is answered.
        let first = declare(&engine, "evt-alone", "Alone");
        assert!(handled(&engine.handle(&first).await), "[{}]", store.name);
        assert_eq!(
            engine.writer_stats(),
            WriterStats {
                batches: 1,
                units: 1
            },
            "[{}]",
            store.name
        );
        assert_eq!(incident_titles(&store).await, ["Alone"], "[{}]", store.name);
        // A redelivery is still a duplicate.
        assert!(
            matches!(engine.handle(&first).await, Ok(Outcome::Duplicate)),
            "[{}]",
            store.name
        );
        // One that fails alone stores nothing, gives its slot back, and can be redelivered.
        refuse_poison(&store).await;
        let poisoned = declare(&engine, "evt-poison", "A poison pill");
        assert!(engine.handle(&poisoned).await.is_err(), "[{}]", store.name);
        allow_poison(&store).await;
        assert!(handled(&engine.handle(&poisoned).await), "[{}]", store.name);
        assert_eq!(
            incident_titles(&store).await,
            ["A poison pill", "Alone"],
            "[{}]",
            store.name
        );
        // A burst: whoever finds the writer idle runs on its own task, the others queue and
        // commit in its batches (which ones goes by timing: `writer.rs` tests the rule).
        let before = engine.writer_stats();
        declare_together(&store, &engine, 10).await;
        assert_eq!(
            since(before, engine.writer_stats()).1,
            10,
            "[{}]",
            store.name
        );
        assert_eq!(incident_titles(&store).await.len(), 12, "[{}]", store.name);
    }
}

#[tokio::test]
async fn a_language_chosen_in_a_batch_is_spoken_by_the_units_after_it() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        // One batch: the Slack room switches to Spanish, then an incident is declared there.
        let switch = common::inbound(
            "runroom",
            "ana",
            "inc lang es",
            "evt-lang".into(),
            engine.clock().now(),
        );
        let declared = declare(&engine, "evt-declare", "Checkout slow");
        let outcomes = join_all([engine.handle(&switch), engine.handle(&declared)]).await;
        for out in &outcomes {
            assert!(handled(out), "[{}] {out:?}", store.name);
        }
        assert_eq!(
            engine.writer_stats(),
            WriterStats {
                batches: 1,
                units: 2
            },
            "[{}]",
            store.name
        );
        let Ok(Outcome::Handled { messages, .. }) = &outcomes[1] else {
            panic!("[{}] {:?}", store.name, outcomes[1]);
        };
        let slack = messages
            .iter()
            .find(|m| m.room_id == "runroom")
            .expect("the Slack room hears the declaration");
        assert_eq!(slack.language, Lang::Es, "[{}] {}", store.name, slack.text);
        assert!(
            slack.text.contains("declarado"),
            "[{}] {}",
            store.name,
            slack.text
        );
    }
}

/// A unit whose writes the database refuses (on SQLite when its gathered writes are sent with
/// those of the units after it) fails alone, wherever it stands in the batch: between others,
/// last before the commit, or followed by a duplicate of the unit before it.
///
/// The units after it keep the numbers they announced. On SQLite, where a refused unit's
/// writes are sent after the units behind it have decided, its number then goes unused (the
/// first batch); where a unit behind it reads first, that read shows the refusal and the
/// numbers follow on (the third).
#[tokio::test]
async fn a_failing_decision_is_undone_alone_and_can_be_redelivered() {
    const POISON: &str = "Search poison pill";
    // Each batch (event and title, in order), and the numbers the others and then the
    // redelivered poison get on SQLite.
    type Batch = &'static [(usize, &'static str)];
    let batches: [(Batch, [i64; 4]); 3] = [
        (
            &[
                (0, "Checkout slow"),
                (1, POISON),
                (2, "Login errors"),
                (3, "Queue backlog"),
            ],
            [1, 3, 4, 5],
        ),
        (
            &[
                (0, "Checkout slow"),
                (2, "Login errors"),
                (3, "Queue backlog"),
                (1, POISON),
            ],
            [1, 2, 3, 4],
        ),
        (
            &[
                (0, "Checkout slow"),
                (1, POISON),
                (0, "Checkout slow"),
                (2, "Login errors"),
                (3, "Queue backlog"),
            ],
            [1, 2, 3, 4],
        ),
    ];
    for (batch, on_sqlite) in batches {
        for store in backends().await {
            refuse_poison(&store).await;
            let clock = Arc::new(ManualClock::new(common::start_time()));
            let engine = engine(&store, clock);
            let inbounds: Vec<Inbound> = batch
                .iter()
                .map(|(event, title)| declare(&engine, &format!("evt-{event}"), title))
                .collect();
            let outcomes = join_all(inbounds.iter().map(|i| engine.handle(i))).await;
            let mut seen = std::collections::HashSet::new();
            for ((event, title), outcome) in batch.iter().zip(&outcomes) {
                let case = format!("[{}] {batch:?}: {title}: {outcome:?}", store.name);
                if *title == POISON {
                    assert!(
                        matches!(outcome, Err(EngineError::Store(_))),
                        "{case}: refused"
                    );
                } else if !seen.insert(*event) {
                    assert!(
                        matches!(outcome, Ok(Outcome::Duplicate)),
                        "{case}: a duplicate"
                    );
                } else {
                    assert!(handled(outcome), "{case}");
                }
            }
            assert_eq!(
                engine.writer_stats(),
                // A duplicate keeps its (empty) unit, like the unit that did the work.
                WriterStats {
                    batches: 1,
                    units: batch.len() as u64 - 1
                },
                "[{}] {batch:?}: the others committed together",
                store.name
            );
            // Nothing of it was kept, its dedupe key included: the redelivery is handled afresh,
            // with the next number. Postgres runs each write at once, so the refusal comes
            // before the units behind it decide: the numbers follow on.
            allow_poison(&store).await;
            let poisoned = batch
                .iter()
                .position(|(_, t)| *t == POISON)
                .expect("poison");
            let again = engine.handle(&inbounds[poisoned]).await;
            assert!(handled(&again), "[{}] {again:?}", store.name);
            let numbers = if store.name == "sqlite" {
                on_sqlite
            } else {
                [1, 2, 3, 4]
            };
            let numbered: Vec<(i64, &str)> = numbers
                .into_iter()
                .zip(["Checkout slow", "Login errors", "Queue backlog", POISON])
                .collect();
            let stored = numbered_titles(&store).await;
            let stored: Vec<(i64, &str)> = stored.iter().map(|(n, t)| (*n, t.as_str())).collect();
            assert_eq!(stored, numbered, "[{}] {batch:?}", store.name);
        }
    }
}

/// The database refuses one of a batch's dedupe keys: the writer's claim of them all fails,
/// and each unit records its own in its turn. On SQLite a unit's writes go to the database with
/// the next unit's first statement (that insert); when it is the one refused, the unit before
/// is kept and only the next one fails: the mark its statements start with says whose it was.
#[tokio::test]
async fn a_refused_dedupe_key_fails_its_own_unit_not_the_one_whose_writes_went_with_it() {
    for store in backends().await {
        refuse_rows(
            &store,
            "refuse_key",
            "inbound_events",
            "event_key",
            "%evt-refused%",
        )
        .await;
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let batch = [
            declare(&engine, "evt-0", "Checkout slow"),
            declare(&engine, "evt-refused", "Never stored"),
            declare(&engine, "evt-2", "Login errors"),
        ];
        let outcomes = join_all(batch.iter().map(|i| engine.handle(i))).await;
        assert!(handled(&outcomes[0]), "[{}] {:?}", store.name, outcomes[0]);
        assert!(
            matches!(outcomes[1], Err(EngineError::Store(_))),
            "[{}] its own key was refused: {:?}",
            store.name,
            outcomes[1]
        );
        assert!(handled(&outcomes[2]), "[{}] {:?}", store.name, outcomes[2]);
        let stats = engine.writer_stats();
        let batch = (stats.batches, stats.units);
        assert_eq!(batch, (1, 2), "[{}] one batch kept two", store.name);
        let stored = numbered_titles(&store).await;
        let stored: Vec<(i64, &str)> = stored.iter().map(|(n, t)| (*n, t.as_str())).collect();
        assert_eq!(
            stored,
            [(1, "Checkout slow"), (2, "Login errors")],
            "[{}]",
            store.name
        );
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
                    handle: None,
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
            "[{}] after the claim failed as one unit, the five fired each in its own, in one transaction",
            store.name
        );
        let jobs = pending_jobs(&store).await;
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

async fn pending_jobs(store: &TestStore) -> Vec<runroom::store::JobRow> {
    store
        .store
        .jobs_in_state(JobState::Pending, 100)
        .await
        .expect("jobs")
}

/// The outbox rows of reminder jobs, by key.
async fn reminder_rows(store: &TestStore) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = store
        .store
        .outbox_in_state(OutboxState::Pending, 1_000)
        .await
        .expect("outbox")
        .into_iter()
        .filter(|r| r.message.idempotency_key.starts_with("reminder:"))
        .map(|r| (r.message.idempotency_key, r.message.room_id))
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn a_claims_reminders_fire_as_one_unit_with_the_keys_they_would_have_alone() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = Arc::new(engine(&store, clock.clone()));
        for i in 0..8 {
            let inbound = declare(&engine, &format!("evt-{i}"), &format!("Outage {i}"));
            assert!(handled(&engine.handle(&inbound).await), "[{}]", store.name);
        }
        clock.advance(Duration::hours(2));
        let now = engine.clock().now();
        let lease = std::time::Duration::from_secs(60);
        let jobs = store
            .store
            .claim_jobs("worker-a", now, lease, 100)
            .await
            .expect("claim");
        let reminders: Vec<_> = jobs
            .iter()
            .filter(|j| j.kind == JobKind::Reminder)
            .cloned()
            .collect();
        assert_eq!(reminders.len(), 8, "[{}] {jobs:?}", store.name);
        // Another worker took incident 3's reminder over (this worker's lease had ended).
        let taken = reminders
            .iter()
            .find(|j| j.subject == subject(3))
            .expect("incident 3's reminder");
        execute(
            &store,
            &format!(
                "UPDATE jobs SET claimed_by = 'worker-b' WHERE id = {}",
                taken.id
            ),
            &format!(
                "UPDATE jobs SET claimed_by = 'worker-b' WHERE id = {}",
                taken.id
            ),
        )
        .await;

        let before = engine.writer_stats();
        let fired = engine.fire_jobs(&reminders, "worker-a").await;
        assert_eq!(
            since(before, engine.writer_stats()),
            (1, 1),
            "[{}] the claim was one unit of one transaction",
            store.name
        );
        let mut done = 0;
        for (job, fired) in reminders.iter().zip(&fired) {
            match fired {
                Ok(Fired::Lost) => assert_eq!(job.id, taken.id, "[{}]", store.name),
                // Every war room hears each reminder: the console, Slack, the WhatsApp group,
                // and each of the roster's two members.
                Ok(Fired::Done { messages, .. }) => {
                    assert_eq!(*messages, 5, "[{}] {}", store.name, job.key);
                    done += 1;
                }
                Err(error) => panic!("[{}] {error}", store.name),
            }
        }
        assert_eq!(done, 7, "[{}]", store.name);

        // Each message is keyed by its own job, as firing it alone would have keyed it, and
        // the taken-over job wrote nothing.
        let rows = reminder_rows(&store).await;
        assert_eq!(rows.len(), 35, "[{}] {rows:?}", store.name);
        for job in &reminders {
            let own = rows
                .iter()
                .filter(|(key, _)| key.starts_with(&format!("{}#", job.key)))
                .count();
            assert_eq!(
                own,
                if job.id == taken.id { 0 } else { 5 },
                "[{}] {}",
                store.name,
                job.key
            );
        }
        // Each fired reminder planned the next one and moved its incident's next update.
        let pending = pending_jobs(&store).await;
        for job in reminders.iter().filter(|j| j.id != taken.id) {
            assert!(
                pending.iter().any(|p| p.subject == job.subject
                    && p.kind == JobKind::Reminder
                    && p.due_at > now),
                "[{}] the next reminder of {} is planned: {pending:?}",
                store.name,
                job.subject
            );
            let number: i64 = job
                .subject
                .trim_start_matches("incident:")
                .parse()
                .expect("number");
            let incident = store
                .store
                .incident(number)
                .await
                .expect("read")
                .expect("incident");
            assert!(
                incident.update_due_at.is_some_and(|at| at > now),
                "[{}] {number}",
                store.name
            );
        }
        assert_eq!(
            store
                .store
                .job(&taken.key)
                .await
                .expect("job")
                .map(|j| j.state),
            Some(JobState::Running),
            "[{}] the taken-over job is still the other worker's",
            store.name
        );
        // Firing the same claim again changes nothing: the jobs are done.
        let again = engine.fire_jobs(&reminders, "worker-a").await;
        assert!(
            again.iter().all(|f| matches!(f, Ok(Fired::Lost))),
            "[{}] {again:?}",
            store.name
        );
        assert_eq!(reminder_rows(&store).await.len(), 35, "[{}]", store.name);
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
            inline: true,
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

/// A flood of commands from one room cannot starve another: the flood has at most its share in
/// the writer's queue at once, so a command from a quiet room, started after a hundred of the
/// flood's, commits in the first batch.
#[tokio::test]
async fn a_flood_from_one_room_does_not_starve_another() {
    for store in backends().await {
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = engine(&store, clock);
        let mut units: Vec<Inbound> = (0..100)
            .map(|i| declare(&engine, &format!("flood-{i}"), &format!("Flood {i}")))
            .collect();
        units.push(common::inbound(
            "console",
            "joana",
            "inc declare sev2 Quiet room",
            "quiet-1".to_string(),
            engine.clock().now(),
        ));
        let outcomes = join_all(units.iter().map(|inbound| engine.handle(inbound))).await;
        assert!(
            outcomes
                .iter()
                .all(|o| matches!(o, Ok(Outcome::Handled { .. }))),
            "[{}] every command is carried out",
            store.name
        );
        let quiet = store
            .store
            .search_incidents(
                &runroom::store::IncidentSearch {
                    text: Some("Quiet room".into()),
                    ..Default::default()
                },
                0,
                1,
            )
            .await
            .expect("search")
            .items
            .pop()
            .expect("the quiet room's incident");
        assert!(
            quiet.number <= 33,
            "[{}] committed with the flood's first share, not after its hundred: INC-{}",
            store.name,
            quiet.number
        );
        let stats = engine.writer_stats();
        assert_eq!(stats.units, 101, "[{}]", store.name);
    }
}
