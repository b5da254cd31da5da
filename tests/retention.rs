//! Bounded growth: the scheduler's claim and idle read are index range scans whatever the jobs
//! table holds, and the retention job deletes sent messages, inbound dedupe keys, finished jobs,
//! delivery reports and resolved alerts older than `[retention] days` (in chunks), while
//! incidents, timelines, firing alerts and dead messages stay. On a hand-moved clock, on SQLite and Postgres.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{TestStore, backends, start_time};
use runroom::alerts::SourceRules;
use runroom::alerts::model::{Alert, AlertStatus};
use runroom::config::Config;
use runroom::engine::clock::{Clock, ManualClock};
use runroom::engine::policy::Policies;
use runroom::engine::retention::PRUNE_CHUNK;
use runroom::engine::room::Platform;
use runroom::engine::{Engine, EngineSettings, Outcome};
use runroom::i18n::{I18n, Lang};
use runroom::scheduler::{Scheduler, SchedulerConfig};
use runroom::store::jobs::hot_statements;
use runroom::store::{Completion, DeliveryReport, DeliveryStatus, JobKind, JobState};

struct Bot {
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    scheduler: Scheduler,
    backend: &'static str,
}

/// The shared rooms, reminders at their defaults, and a retention of `days`.
fn bot(store: &TestStore, days: i64) -> Bot {
    let clock = Arc::new(ManualClock::new(start_time()));
    let engine = Arc::new(Engine::new(
        store.store.clone(),
        Arc::new(I18n::new().expect("locales")),
        clock.clone(),
        EngineSettings {
            rooms: common::rooms(),
            extra_roles: Vec::new(),
            policies: Policies {
                retention: Duration::days(days),
                ..Policies::default()
            },
            reaches: runroom::platforms::reaches(),
            ..Default::default()
        },
    ));
    let scheduler = Scheduler::new(engine.clone(), SchedulerConfig::default(), "test-worker");
    Bot {
        engine,
        clock,
        scheduler,
        backend: store.name,
    }
}

impl Bot {
    /// An alert `key` of the source `checks` in `status`.
    async fn alert(&self, key: &str, status: AlertStatus) {
        let alert = Alert {
            key: key.into(),
            status,
            group_key: key.into(),
            labels: Default::default(),
            title: key.into(),
            links: Vec::new(),
            starts_at: None,
            ends_at: None,
            acknowledge: false,
        };
        self.engine
            .take_alerts(&SourceRules::new("checks"), &[alert])
            .await
            .expect("alert taken");
    }

    async fn say(&self, event: &str, text: &str) -> Outcome {
        let inbound = common::inbound("console", "ana", text, event.into(), self.clock.now());
        self.engine
            .handle(&inbound)
            .await
            .unwrap_or_else(|e| panic!("[{}] {text}: {e}", self.backend))
    }

    async fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.scheduler.drain().await.expect("drain");
    }

    /// Sends every queued message now, as a worker would; returns their ids.
    async fn deliver_all(&self) -> Vec<i64> {
        let store = self.engine.store();
        let mut ids = Vec::new();
        for platform in [
            Platform::Console,
            Platform::Slack,
            Platform::Whatsapp,
            Platform::Telegram,
        ] {
            let rows = store
                .claim_outbox(
                    platform,
                    "w",
                    self.clock.now(),
                    std::time::Duration::from_secs(60),
                    1_000,
                )
                .await
                .expect("claim");
            for row in rows {
                let sent = Completion::Sent {
                    platform_message_id: Some(format!("wamid.{}", row.id)),
                };
                assert!(
                    store
                        .finish_outbox(row.id, "w", &sent, self.clock.now())
                        .await
                        .expect("finish")
                );
                ids.push(row.id);
            }
        }
        ids
    }
}

#[tokio::test]
async fn old_messages_keys_jobs_and_reports_go_incidents_timelines_and_young_rows_stay() {
    for backend in backends().await {
        let bot = bot(&backend, 7);
        let store = bot.engine.store();
        let t0 = start_time();
        bot.engine.plan_retention().await.expect("plan");

        // Day 0: an incident is declared, reminded once (a done job), resolved (its next
        // reminder cancelled); its messages are sent, one more dies, WhatsApp reports on one.
        bot.say("old-declare", "inc declare sev2 Old outage").await;
        bot.advance(Duration::minutes(30)).await;
        bot.say("old-resolve", "inc resolve fixed").await;
        let old_sent = bot.deliver_all().await;
        assert!(old_sent.len() >= 3, "[{}] {old_sent:?}", bot.backend);
        let report = DeliveryReport {
            platform_message_id: "wamid.old".into(),
            status: DeliveryStatus::Delivered,
            error_code: None,
            error: None,
            at: bot.clock.now(),
            outbox_id: None,
        };
        store
            .record_delivery(Platform::Whatsapp, &report)
            .await
            .expect("report");
        bot.say("old-note", "inc note INC-1 a note after the fact")
            .await;
        let claimed = store
            .claim_outbox(
                Platform::Console,
                "w",
                bot.clock.now(),
                std::time::Duration::from_secs(60),
                10,
            )
            .await
            .expect("claim");
        let dead = claimed[0].id;
        let gave_up = Completion::Dead {
            reason: "test".into(),
        };
        store
            .finish_outbox(dead, "w", &gave_up, bot.clock.now())
            .await
            .expect("dead");
        let mut old_jobs = Vec::new();
        for state in [JobState::Done, JobState::Cancelled] {
            let jobs = store.jobs_in_state(state, 100).await.expect("jobs");
            old_jobs.extend(
                jobs.into_iter()
                    .filter(|j| j.kind == JobKind::Reminder)
                    .map(|j| j.key),
            );
        }
        assert!(old_jobs.len() >= 2, "[{}] {old_jobs:?}", bot.backend);
        // Alerts: one fires and resolves on day 0, another fires and keeps firing.
        bot.alert("old-resolved", AlertStatus::Firing).await;
        bot.alert("old-resolved", AlertStatus::Resolved).await;
        bot.alert("old-firing", AlertStatus::Firing).await;

        // Day 2: another incident, still open; its messages are sent.
        bot.advance(Duration::days(2)).await;
        assert!(matches!(
            bot.say("young-declare", "inc declare sev4 Young outage")
                .await,
            Outcome::Handled { ok: true, .. }
        ));
        let young_sent = bot.deliver_all().await;
        bot.alert("young-resolved", AlertStatus::Firing).await;
        bot.alert("young-resolved", AlertStatus::Resolved).await;

        // Day 8: past the 7-day retention for day 0, not for day 2.
        bot.clock.advance(Duration::days(6));
        bot.advance(Duration::hours(1)).await;
        assert!(bot.clock.now() - t0 > Duration::days(8));

        for id in &old_sent {
            assert_eq!(
                store.outbox_row(*id).await.expect("row"),
                None,
                "[{}] sent on day 0",
                bot.backend
            );
        }
        for id in &young_sent {
            assert!(
                store.outbox_row(*id).await.expect("row").is_some(),
                "[{}] sent on day 2",
                bot.backend
            );
        }
        assert!(
            store.outbox_row(dead).await.expect("row").is_some(),
            "[{}] a dead message stays for the operators",
            bot.backend
        );
        for key in &old_jobs {
            assert_eq!(
                store.job(key).await.expect("job"),
                None,
                "[{}]",
                bot.backend
            );
        }
        assert_eq!(
            store
                .delivery_report(Platform::Whatsapp, "wamid.old")
                .await
                .expect("report"),
            None
        );
        let alerts: Vec<String> = store
            .recent_alerts(false, 10)
            .await
            .expect("alerts")
            .items
            .into_iter()
            .map(|a| a.key)
            .collect();
        assert!(
            !alerts.contains(&"old-resolved".to_string())
                && alerts.contains(&"old-firing".to_string())
                && alerts.contains(&"young-resolved".to_string()),
            "[{}] a resolved alert goes with the retention, a firing one stays: {alerts:?}",
            bot.backend
        );
        let old = store.incident(1).await.expect("incident").expect("kept");
        assert_eq!(old.title, "Old outage");
        let timeline = store.timeline(1, 100).await.expect("timeline");
        assert!(timeline.len() >= 3, "[{}] {timeline:?}", bot.backend);
        assert!(store.incident(2).await.expect("incident").is_some());
        // Its postmortem is still written from all of it, the note after the fact included.
        let (incident, timeline) = runroom::postmortem::load(store.as_ref(), 1)
            .await
            .expect("load")
            .expect("kept");
        let draft = runroom::postmortem::write(
            (&incident, &timeline),
            &Policies::default(),
            &I18n::new().expect("locales"),
            (runroom::postmortem::Format::Md, Lang::En, chrono_tz::UTC),
            bot.clock.now(),
        );
        assert!(
            draft.contains("Old outage") && draft.contains("a note after the fact"),
            "[{}] {draft}",
            bot.backend
        );

        // A redelivery of the 6-day-old command is still recognised; the 8-day-old one, past
        // the retention, no longer is (why `[retention] days` may not go below 7).
        assert!(
            matches!(
                bot.say("young-declare", "inc declare sev4 Young outage")
                    .await,
                Outcome::Duplicate
            ),
            "[{}]",
            bot.backend
        );
        assert!(matches!(
            bot.say("old-note", "inc note INC-1 a note after the fact")
                .await,
            Outcome::Handled { .. }
        ));

        // The next run is planned for the next full hour.
        let pending: Vec<_> = store
            .jobs_in_state(JobState::Pending, 100)
            .await
            .expect("jobs")
            .into_iter()
            .filter(|j| j.kind == JobKind::Prune)
            .collect();
        assert_eq!(pending.len(), 1, "[{}] {pending:?}", bot.backend);
        assert!(pending[0].due_at > bot.clock.now());
        assert!(pending[0].due_at <= bot.clock.now() + Duration::hours(1));
    }
}

#[tokio::test]
async fn a_large_backlog_is_deleted_in_chunks_one_transaction_each() {
    for backend in backends().await {
        let bot = bot(&backend, 7);
        let store = bot.engine.store();
        let backlog = 2 * PRUNE_CHUNK + 100;
        let mut tx = store.begin().await.expect("begin");
        for i in 0..backlog {
            assert!(
                tx.record_inbound(&format!("slack:Ev{i}"), bot.clock.now())
                    .await
                    .expect("record")
            );
        }
        tx.commit().await.expect("commit");
        bot.engine.plan_retention().await.expect("plan");

        bot.clock.advance(Duration::days(8));
        let tick = bot.scheduler.drain().await.expect("drain");
        assert_eq!(
            tick.fired, 3,
            "[{}] {PRUNE_CHUNK}, {PRUNE_CHUNK}, then 100 and done",
            bot.backend
        );
        let mut tx = store.begin().await.expect("begin");
        for i in [0, PRUNE_CHUNK, backlog - 1] {
            assert!(
                tx.record_inbound(&format!("slack:Ev{i}"), bot.clock.now())
                    .await
                    .expect("record"),
                "[{}] key {i} was pruned",
                bot.backend
            );
        }
        drop(tx);
        let next: Vec<_> = store
            .jobs_in_state(JobState::Pending, 100)
            .await
            .expect("jobs")
            .into_iter()
            .filter(|j| j.kind == JobKind::Prune)
            .collect();
        assert_eq!(next.len(), 1, "[{}] {next:?}", bot.backend);
        assert!(
            next[0].due_at > bot.clock.now(),
            "the next run is in an hour"
        );
    }
}

#[test]
fn a_retention_shorter_than_platform_redelivery_is_refused() {
    let error = Config::parse("[retention]\ndays = 3\n", "test", &[])
        .expect_err("3 days is too short")
        .to_string();
    assert!(error.contains("retention.days"), "{error}");
    assert!(error.contains("7 days"), "{error}");
    let config = Config::parse("[retention]\ndays = 7\n", "test", &[]).expect("7 days");
    assert_eq!(config.retention.days, 7);
    assert_eq!(Config::defaults(&[]).expect("defaults").retention.days, 30);
    let unknown = Config::parse("[retention]\nhours = 3\n", "test", &[]);
    assert!(unknown.is_err(), "unknown keys are refused");
}

/// Fills the jobs table the way a long-running deployment does (many finished jobs, some
/// pending, a few running), with the statements' parameters written in.
fn with_values(statement: &str) -> String {
    statement
        .replace("$1", "'w'")
        .replace("$2", "2000")
        .replace("$3", "1000")
        .replace("$4", "250")
}

const FILL: &str = "INSERT INTO jobs (kind, key, subject, due_at, run_after, payload, state, \
                    created_at, lease_until) \
                    SELECT 'reminder', 'k' || n, 's' || n, n, n, '{}', \
                    CASE WHEN n % 11 = 0 THEN 'pending' WHEN n % 997 = 0 THEN 'running' \
                    ELSE 'done' END, n, CASE WHEN n % 997 = 0 THEN n END FROM ";

#[tokio::test]
async fn the_claim_and_the_idle_read_are_index_range_scans_on_sqlite() {
    let backend = common::sqlite().await;
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(backend.url())
        .await
        .expect("a second connection");
    let fill = format!(
        "{FILL}(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000) \
         SELECT n FROM s)"
    );
    sqlx::query(sqlx::AssertSqlSafe(fill))
        .execute(&pool)
        .await
        .expect("fill");
    sqlx::query("ANALYZE")
        .execute(&pool)
        .await
        .expect("analyze");
    for statement in hot_statements("sqlite") {
        assert_index_range(&pool, statement, &with_values(statement)).await;
    }
    // As the store runs them: its connections plan a statement once, whatever is bound later,
    // so the plan with the parameters left open is the plan every claim uses.
    let store = runroom::store::sqlite::SqliteStore::connect(backend.url())
        .await
        .expect("the store");
    for statement in hot_statements("sqlite") {
        assert_index_range(store.pool(), statement, statement).await;
    }
}

/// `planned` (`statement` as it is planned) walks a jobs index and sorts nothing.
async fn assert_index_range(pool: &sqlx::SqlitePool, statement: &str, planned: &str) {
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {planned}")))
            .fetch_all(pool)
            .await
            .expect("plan");
    let text = plan.into_iter().map(|r| r.3).collect::<Vec<_>>().join("; ");
    assert!(!text.contains("TEMP B-TREE"), "sorts: {text}\n{statement}");
    assert!(!text.contains("SCAN jobs"), "reads every job: {text}");
    assert!(
        text.contains("INDEX jobs_due") || text.contains("INDEX jobs_lease"),
        "{text}"
    );
}

#[tokio::test]
async fn the_claim_and_the_idle_read_are_index_range_scans_on_postgres() {
    let Some(backend) = common::postgres().await else {
        return;
    };
    let (_, pool) = backend.schema.as_ref().expect("a schema");
    let fill = format!("{FILL}generate_series(1, 100000) AS n");
    sqlx::query(sqlx::AssertSqlSafe(fill))
        .execute(pool)
        .await
        .expect("fill");
    sqlx::query("ANALYZE jobs")
        .execute(pool)
        .await
        .expect("analyze");
    for statement in hot_statements("postgres") {
        let plan: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "EXPLAIN {}",
            with_values(statement)
        )))
        .fetch_all(pool)
        .await
        .expect("plan");
        let text: Vec<String> = plan.into_iter().map(|r| r.0).collect();
        let text = text.join("\n");
        assert!(!text.contains("Seq Scan on jobs"), "{text}");
        assert!(!text.contains("Sort"), "{text}");
        assert!(
            text.contains("jobs_due") || text.contains("jobs_lease"),
            "{text}"
        );
    }
}
