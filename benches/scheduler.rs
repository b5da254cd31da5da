//! The scheduler with many open incidents: the cost of a tick (a `drain` of everything due)
//! against the number of open incidents with a planned reminder (1,000 and 10,000) and of due
//! jobs among them (0 to 1,000), with the bare indexed due-jobs query on the same file as the
//! baseline of the same run; the idle tick and a declare with 100,000 finished and 10,000
//! pending jobs in the table against an empty one; the lateness of due jobs fired by the running
//! scheduler on the wall clock, spread out and in one burst; and the bytes on disk per typical
//! incident before and after the retention job. Run: `cargo bench --bench scheduler`
//! (`-- --quick` for a short run at a tenth of the size that only checks it works).

#[path = "../tests/common/mod.rs"]
mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use runroom::engine::clock::{Clock, ManualClock, SystemClock};
use runroom::engine::incident::{Actor, Incident, Severity};
use runroom::engine::plan::{JobPayload, incident_subject};
use runroom::engine::{Engine, EngineSettings};
use runroom::i18n::I18n;
use runroom::scheduler::{Scheduler, SchedulerConfig};
use runroom::store::prelude::*;
use runroom::store::sqlite::SqliteStore;
use runroom::store::{JobKind, JobState};

/// How much of everything: the full run, or `-- --quick` (a short run that only checks it works;
/// its numbers are not results).
struct Sizes {
    /// Open incidents of the two cost curves, the smaller first.
    open: [usize; 2],
    /// Due jobs per drain along each curve.
    due: &'static [usize],
    /// Drains timed per point at most.
    repetitions: usize,
    /// Open incidents, due jobs among them, and the time they fall due over, of the lateness
    /// runs.
    lateness: &'static [(usize, usize, u64)],
    /// Finished and pending jobs in the loaded table, and the idle ticks and declares timed on
    /// each table.
    table: (usize, usize, usize, usize),
    /// Typical incidents written for the bytes-on-disk figure.
    incidents: usize,
}

const FULL: Sizes = Sizes {
    open: [1_000, 10_000],
    due: &[0, 1, 10, 100, 1_000],
    repetitions: 200,
    lateness: &[(10_000, 2_000, 5), (20_000, 10_000, 0)],
    table: (100_000, 10_000, 2_000, 500),
    incidents: 1_000,
};

const QUICK: Sizes = Sizes {
    open: [100, 1_000],
    due: &[0, 1, 10],
    repetitions: 5,
    lateness: &[(1_000, 100, 5), (2_000, 1_000, 0)],
    table: (10_000, 1_000, 100, 50),
    incidents: 50,
};
/// The claim's own filter, as the bare baseline runs it.
const DUE_QUERY: &str = "SELECT id FROM jobs WHERE state = 'pending' AND run_after <= $1 \
                         ORDER BY run_after LIMIT 50";

struct Bench {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    engine: Arc<Engine>,
    scheduler: Scheduler,
}

/// A fresh SQLite file, an engine with one console war room, and a scheduler (default config).
async fn bench(clock: Arc<dyn Clock>) -> Bench {
    bench_with(clock, vec![common::console_room()]).await
}

async fn bench_with(clock: Arc<dyn Clock>, rooms: Vec<runroom::engine::room::Room>) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(SqliteStore::connect(&url).await.unwrap());
    store.migrate().await.unwrap();
    let settings = EngineSettings {
        rooms,
        ..Default::default()
    };
    let engine = Arc::new(Engine::new(
        store.clone(),
        Arc::new(I18n::new().unwrap()),
        clock,
        settings,
    ));
    let scheduler = Scheduler::new(engine.clone(), SchedulerConfig::default(), "bench");
    Bench {
        dir,
        store,
        engine,
        scheduler,
    }
}

/// Declares `n` open SEV1 incidents whose update reminders fall due at `due(i)` (1,000 per
/// transaction); returns their numbers.
async fn declare(
    store: &SqliteStore,
    n: usize,
    now: DateTime<Utc>,
    due: impl Fn(usize) -> DateTime<Utc>,
) -> Vec<i64> {
    let actor = Actor {
        name: "bench".into(),
        room: "console".into(),
    };
    let mut numbers = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(1_000) {
        let mut tx = store.begin().await.unwrap();
        for &i in chunk {
            let title = format!("Incident {i}");
            let (mut incident, _) = Incident::declare(title, Severity::Sev1, None, &actor, now);
            incident.update_due_at = Some(due(i));
            let number = tx.insert_incident(&incident).await.unwrap();
            let job = JobPayload::Reminder { incident: number }.at(due(i));
            tx.schedule_jobs(&[job], now).await.unwrap();
            numbers.push(number);
        }
        tx.commit().await.unwrap();
    }
    numbers
}

/// Moves the reminders of `numbers` to `now` as a re-plan does (cancel the pending one, plan the
/// new one), so each incident keeps exactly one pending reminder.
async fn make_due(store: &SqliteStore, numbers: &[i64], now: DateTime<Utc>) {
    let mut tx = store.begin().await.unwrap();
    for &number in numbers {
        tx.cancel_jobs(&incident_subject(number), JobKind::Reminder)
            .await
            .unwrap();
        let before = tx.incident(number).await.unwrap().unwrap();
        let incident = Incident {
            update_due_at: Some(now),
            ..before.clone()
        };
        tx.update_incident(&incident, Some(&before)).await.unwrap();
        let job = JobPayload::Reminder { incident: number }.at(now);
        tx.schedule_jobs(&[job], now).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// The baseline: the bare indexed query for due jobs, on the same file.
async fn bare_query(store: &SqliteStore, now: DateTime<Utc>) -> Duration {
    let started = Instant::now();
    let _: Vec<(i64,)> = sqlx::query_as(DUE_QUERY)
        .bind(now.timestamp_millis())
        .fetch_all(store.pool())
        .await
        .unwrap();
    started.elapsed()
}

/// How SQLite runs the claims and the idle tick's read (to show each walks one index).
async fn claim_plan(store: &SqliteStore) -> String {
    let mut plans = Vec::new();
    for statement in runroom::store::jobs::hot_statements("sqlite") {
        let sql = statement
            .replace("$1", "'w'")
            .replace("$2", "0")
            .replace("$3", "0")
            .replace("$4", "250");
        let rows: Vec<(i64, i64, i64, String)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}")))
                .fetch_all(store.pool())
                .await
                .unwrap();
        plans.push(rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join(", "));
    }
    plans.join("; ")
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Fewer repetitions where one drain is long.
fn repetitions(due: usize) -> usize {
    (2_000 / due.max(10)).clamp(5, 200)
}

struct Row {
    open: usize,
    due: usize,
    samples: usize,
    drain: Duration,
    bare: Duration,
}

/// For `open` incidents: per due-job count, the median time of a `drain` that fires them (for
/// 0, one tick that claims nothing) and of the bare due-jobs query just before it.
async fn curve(sizes: &Sizes, open: usize) -> (Vec<Row>, String) {
    let start = DateTime::from_timestamp(1_772_456_400, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let b = bench(clock.clone()).await;
    let numbers = declare(&b.store, open, start, |_| start + chrono::Duration::days(1)).await;
    for _ in 0..20 {
        b.scheduler.tick().await.unwrap(); // warm-up: statement caches, pages
    }
    let mut rows = Vec::new();
    for &due in sizes.due {
        let (mut drains, mut bares) = (Vec::new(), Vec::new());
        for _ in 0..repetitions(due).min(sizes.repetitions) {
            // 100 ms per step keeps the next reminders (15 min after firing) out of the way.
            clock.advance(chrono::Duration::milliseconds(100));
            let now = clock.now();
            make_due(&b.store, &numbers[..due], now).await;
            bares.push(bare_query(&b.store, now).await);
            let started = Instant::now();
            let tick = b.scheduler.drain().await.unwrap();
            drains.push(started.elapsed());
            assert_eq!(
                (tick.fired, tick.messages),
                (due, due),
                "every due reminder sends"
            );
        }
        rows.push(Row {
            open,
            due,
            samples: drains.len(),
            drain: median(drains),
            bare: median(bares),
        });
    }
    (rows, claim_plan(&b.store).await)
}

/// The running scheduler on the wall clock: `open` incidents, `due` of whose reminders fall due
/// evenly over `spread` (all at once for zero), starting once they are planned (1 s, plus 0.5 ms
/// per due job to plan them); how late each fired (`fired_at − due_at` as stored), sorted, in
/// milliseconds.
async fn lateness(open: usize, due: usize, spread: Duration) -> Vec<i64> {
    let b = bench(Arc::new(SystemClock)).await;
    let far = Utc::now() + chrono::Duration::days(1);
    declare(&b.store, open - due, Utc::now(), |_| far).await;
    let lead = chrono::Duration::seconds(1)
        + chrono::Duration::microseconds(500 * i64::try_from(due).unwrap());
    let first = Utc::now() + lead;
    let step = chrono::Duration::from_std(spread).unwrap() / i32::try_from(due).unwrap();
    let at = |i: usize| first + step * i32::try_from(i).unwrap();
    declare(&b.store, due, Utc::now(), at).await;
    assert!(Utc::now() < first, "planning took longer than its lead");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let scheduler = b.scheduler;
    let running = tokio::spawn(async move { scheduler.run(stopped).await });
    let deadline = Instant::now() + spread + Duration::from_secs(120);
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let done = b
            .store
            .jobs_in_state(JobState::Done, 100_000)
            .await
            .unwrap();
        if done.len() >= due {
            stop.send(true).unwrap();
            running.await.unwrap();
            let mut late: Vec<i64> = done
                .iter()
                .filter_map(|j| Some((j.fired_at? - j.due_at).num_milliseconds()))
                .collect();
            late.sort_unstable();
            return late;
        }
        assert!(Instant::now() < deadline, "the due jobs did not fire");
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[i64], q: f64) -> i64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print_curve(sizes: &Sizes, rows: &[Row]) {
    println!(
        "| open incidents | due jobs | drains timed | drain (median) | per fired job \
         | drain / idle tick | bare due-jobs query | drain / bare query |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let idle = rows
            .iter()
            .find(|r| r.open == row.open && r.due == 0)
            .unwrap();
        let per_job = match row.due {
            0 => "—".to_string(),
            n => ms(row.drain / u32::try_from(n).unwrap()),
        };
        println!(
            "| {} | {} | {} | {} | {per_job} | {:.1}× | {} | {:.1}× |",
            row.open,
            row.due,
            row.samples,
            ms(row.drain),
            ratio(row.drain, idle.drain),
            ms(row.bare),
            ratio(row.drain, row.bare)
        );
    }
    let [small, large] = sizes.open;
    println!("\n| due jobs | drain: {large} open / {small} open | bare query: {large} / {small} |");
    println!("|---:|---:|---:|");
    for &due in sizes.due {
        let at = |open| {
            rows.iter()
                .find(|r| r.open == open && r.due == due)
                .unwrap()
        };
        let (small, large) = (at(small), at(large));
        println!(
            "| {due} | **{:.2}×** | {:.2}× |",
            ratio(large.drain, small.drain),
            ratio(large.bare, small.bare)
        );
    }
}

/// Writes `finished` done jobs (due in the past) and `pending` ones (due in a year) straight into
/// the table, in one transaction, as a long-running deployment accumulates them.
async fn fill_jobs(store: &SqliteStore, finished: usize, pending: usize, now: DateTime<Utc>) {
    let now = now.timestamp_millis();
    let year = chrono::Duration::days(365).num_milliseconds();
    let fill = format!(
        "INSERT INTO jobs (kind, key, subject, due_at, run_after, payload, state, created_at, fired_at) \
         WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {total}) \
         SELECT 'reminder', 'fill:' || n, 'incident:' || (1000000 + n), \
         CASE WHEN n <= {finished} THEN {now} - 1000 * n ELSE {now} + {year} + n END, \
         CASE WHEN n <= {finished} THEN {now} - 1000 * n ELSE {now} + {year} + n END, \
         '{{\"reminder\":{{\"incident\":1}}}}', \
         CASE WHEN n <= {finished} THEN 'done' ELSE 'pending' END, {now}, \
         CASE WHEN n <= {finished} THEN {now} - 1000 * n END FROM s",
        total = finished + pending,
    );
    sqlx::query(sqlx::AssertSqlSafe(fill))
        .execute(store.pool())
        .await
        .unwrap();
}

/// One idle tick as `Scheduler::run` does it: a claim that finds nothing, then the read of
/// when the next job falls due.
async fn idle_tick(b: &Bench) -> Duration {
    let started = Instant::now();
    let tick = b.scheduler.tick().await.unwrap();
    assert_eq!(tick.fired, 0);
    b.store.next_job_at().await.unwrap();
    started.elapsed()
}

/// A declaration through the engine (parse, decide, commit with its reminder job).
async fn declare_one(b: &Bench, clock: &ManualClock, i: usize) -> Duration {
    let inbound = common::inbound(
        "console",
        "ana",
        &format!("inc declare sev3 Table bench {i}"),
        format!("table-{i}"),
        clock.now(),
    );
    let started = Instant::now();
    b.engine.handle(&inbound).await.unwrap();
    started.elapsed()
}

/// The idle tick and a declare on an empty jobs table and on one holding `finished` done and
/// `pending` planned jobs, interleaved (one of each on each table, in turn) so both see the
/// same machine; medians.
async fn table_size(sizes: &Sizes) -> [(Duration, Duration); 2] {
    let (finished, pending, ticks, declares) = sizes.table;
    let start = DateTime::from_timestamp(1_772_456_400, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let empty = bench(clock.clone()).await;
    let loaded = bench(clock.clone()).await;
    fill_jobs(&loaded.store, finished, pending, start).await;
    for b in [&empty, &loaded] {
        for i in 0..20 {
            idle_tick(b).await;
            declare_one(b, &clock, 1_000_000 + i).await; // warm-up
        }
    }
    let mut samples: [(Vec<Duration>, Vec<Duration>); 2] = Default::default();
    for i in 0..ticks.max(declares) {
        for (b, (tick, declare)) in [&empty, &loaded].into_iter().zip(samples.iter_mut()) {
            if i < ticks {
                tick.push(idle_tick(b).await);
            }
            if i < declares {
                declare.push(declare_one(b, &clock, i).await);
            }
        }
    }
    samples.map(|(tick, declare)| (median(tick), median(declare)))
}

/// A typical incident, as commands in the console: declared, five updates, resolved.
const TYPICAL: [&str; 7] = [
    "inc declare sev2 Checkout errors for card payments",
    "inc update INC-{n} Investigating: error rate at 12% on the payment gateway",
    "inc update INC-{n} Identified: a certificate expired on the card processor's side",
    "inc update INC-{n} Mitigating: traffic moved to the secondary processor",
    "inc update INC-{n} Monitoring: error rate back under 0.1%",
    "inc update INC-{n} Certificate renewed, primary processor back in service",
    "inc resolve INC-{n} An expired certificate at the card processor",
];

/// The file's size and the bytes its used pages hold (page size × (pages − free pages)), after
/// checkpointing the WAL into it.
async fn disk(store: &SqliteStore, path: &std::path::Path) -> (u64, u64) {
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(store.pool())
        .await
        .unwrap();
    let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let (free,): (i64,) = sqlx::query_as("PRAGMA freelist_count")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let (size,): (i64,) = sqlx::query_as("PRAGMA page_size")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let file = std::fs::metadata(path).unwrap().len();
    (file, u64::try_from((pages - free) * size).unwrap())
}

/// `n` typical incidents through the engine with three war rooms (console, Slack, WhatsApp),
/// every message then marked sent; bytes on disk per incident, then again after the retention
/// job ran `[retention] days` (30) later, then after a `VACUUM`.
async fn bytes_per_incident(n: usize) -> [(u64, u64); 3] {
    let start = DateTime::from_timestamp(1_772_456_400, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let rooms = common::rooms().into_iter().take(3).collect();
    let b = bench_with(clock.clone(), rooms).await;
    b.engine.plan_retention().await.unwrap();
    for i in 0..n {
        let number = i + 1;
        for (step, command) in TYPICAL.iter().enumerate() {
            let text = command.replace("{n}", &number.to_string());
            let inbound = common::inbound(
                "console",
                "ana",
                &text,
                format!("typical-{i}-{step}"),
                clock.now(),
            );
            b.engine.handle(&inbound).await.unwrap();
            clock.advance(chrono::Duration::seconds(10));
        }
    }
    // What a worker records once each message went.
    sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = created_at, platform_message_id = 'm' || id",
    )
    .execute(b.store.pool())
    .await
    .unwrap();
    let path = b.dir.path().join("bench.db");
    let before = disk(&b.store, &path).await;
    clock.advance(chrono::Duration::days(31));
    b.scheduler.drain().await.unwrap();
    let after = disk(&b.store, &path).await;
    sqlx::query("VACUUM").execute(b.store.pool()).await.unwrap();
    let vacuumed = disk(&b.store, &path).await;
    let (open,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM incidents")
        .fetch_one(b.store.pool())
        .await
        .unwrap();
    assert_eq!(open, i64::try_from(n).unwrap(), "incidents are kept");
    let per = |(file, used): (u64, u64)| (file / n as u64, used / n as u64);
    [per(before), per(after), per(vacuumed)]
}

#[tokio::main]
async fn main() {
    let sizes = if std::env::args().any(|a| a == "--quick") {
        &QUICK
    } else {
        &FULL
    };
    println!("## Scheduler: cost per tick (SQLite, manual clock, batch 250)\n");
    let mut rows = Vec::new();
    let mut plan = String::new();
    for open in sizes.open {
        let (r, p) = curve(sizes, open).await;
        rows.extend(r);
        plan = p;
    }
    print_curve(sizes, &rows);
    println!("\nPlans (expired-lease claim; due claim; idle read): `{plan}`\n");

    let (finished, pending, ticks, declares) = sizes.table;
    println!(
        "## Scheduler: a full jobs table ({finished} done + {pending} pending) against an empty one\n"
    );
    let [(empty_tick, empty_declare), (full_tick, full_declare)] = table_size(sizes).await;
    println!("| | empty table | full table | full / empty |");
    println!("|---|---:|---:|---:|");
    println!(
        "| idle tick (claim + next due), median of {ticks} | {} | {} | **{:.2}×** |",
        ms(empty_tick),
        ms(full_tick),
        ratio(full_tick, empty_tick)
    );
    println!(
        "| declare through the engine, median of {declares} | {} | {} | **{:.2}×** |\n",
        ms(empty_declare),
        ms(full_declare),
        ratio(full_declare, empty_declare)
    );

    println!("## Scheduler: lateness under load (wall clock, `Scheduler::run`)\n");
    println!("| open incidents | due jobs | due over | fired | p50 | p99 | max | p99 < 1 s |");
    println!("|---:|---:|---:|---:|---:|---:|---:|:---:|");
    for &(open, due, spread) in sizes.lateness {
        let late = lateness(open, due, Duration::from_secs(spread)).await;
        let p99 = percentile(&late, 0.99);
        println!(
            "| {open} | {due} | {spread} s | {} | {} ms | {} ms | {} ms | {} |",
            late.len(),
            percentile(&late, 0.5),
            p99,
            late.last().copied().unwrap_or(0),
            if p99 < 1_000 { "yes" } else { "**no**" }
        );
    }

    let n = sizes.incidents;
    println!("\n## Retention: bytes on disk per incident ({n} typical incidents, 3 rooms)\n");
    let [before, after, vacuumed] = bytes_per_incident(n).await;
    println!("| | file / incident | used pages / incident |");
    println!("|---|---:|---:|");
    for (label, (file, used)) in [
        ("everything kept (WAL checkpointed)", before),
        ("after the retention job (31 days later)", after),
        ("after the retention job and `VACUUM`", vacuumed),
    ] {
        println!("| {label} | {file} B | {used} B |");
    }
}
