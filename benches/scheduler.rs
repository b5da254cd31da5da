//! The scheduler with many open incidents: the cost of a tick against the number of planned
//! jobs (1,000 and 10,000 open incidents, each with a reminder) and of due ones (0 to 1,000),
//! next to a baseline measured in the same run (the bare indexed query for due jobs); and the
//! lateness of due jobs fired by the running scheduler on the wall clock under load.
//! Run: `cargo bench --bench scheduler`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use runroom::engine::clock::{Clock, ManualClock, SystemClock};
use runroom::engine::incident::{Actor, Incident, Severity};
use runroom::engine::plan::JobPayload;
use runroom::engine::room::{Platform, Room, RoomRole};
use runroom::engine::{Engine, EngineSettings};
use runroom::i18n::{I18n, Lang};
use runroom::scheduler::{Scheduler, SchedulerConfig};
use runroom::store::Store;
use runroom::store::sqlite::SqliteStore;

fn console() -> Room {
    Room {
        id: "console".into(),
        platform: Platform::Console,
        chat: "console".into(),
        language: Lang::En,
        timezone: chrono_tz::UTC,
        role: RoomRole::WarRoom,
        members: Vec::new(),
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    scheduler: Scheduler,
    next: i64,
}

/// A fresh database with `open` incidents, each with its update reminder planned at `due(i)`.
async fn setup(open: usize, clock: Arc<dyn Clock>, due: impl Fn(usize) -> DateTime<Utc>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = Arc::new(SqliteStore::connect(&url).await.unwrap());
    store.migrate().await.unwrap();
    let mut setup = Setup {
        _dir: dir,
        store: store.clone(),
        scheduler: Scheduler::new(
            Arc::new(Engine::new(
                store,
                Arc::new(I18n::new().unwrap()),
                clock.clone(),
                EngineSettings {
                    rooms: vec![console()],
                    ..Default::default()
                },
            )),
            SchedulerConfig::default(),
            "bench",
        ),
        next: 0,
    };
    plan(&mut setup, open, clock.now(), due).await;
    setup
}

/// Declares `n` incidents whose reminders fall due at `due(i)`.
async fn plan(
    setup: &mut Setup,
    n: usize,
    now: DateTime<Utc>,
    due: impl Fn(usize) -> DateTime<Utc>,
) {
    let actor = Actor {
        name: "bench".into(),
        room: "console".into(),
    };
    let mut tx = setup.store.begin().await.unwrap();
    for i in 0..n {
        setup.next += 1;
        let title = format!("Incident {}", setup.next);
        let (mut incident, _) = Incident::declare(title, Severity::Sev1, None, &actor, now);
        let at = due(i);
        incident.update_due_at = Some(at);
        let number = tx.insert_incident(&incident).await.unwrap();
        let job = JobPayload::Reminder { incident: number }.at(at);
        tx.schedule_jobs(&[job], now).await.unwrap();
    }
    tx.commit().await.unwrap();
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// The bare query a tick cannot do without: the due jobs, by the same index.
async fn baseline(store: &SqliteStore, now: DateTime<Utc>) -> Duration {
    let started = Instant::now();
    let _: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM jobs WHERE state = 'pending' AND run_after <= $1 ORDER BY run_after LIMIT 50",
    )
    .bind(now.timestamp_millis())
    .fetch_all(store.pool())
    .await
    .unwrap();
    started.elapsed()
}

/// Per open-incident count: an idle tick (nothing due) against the bare query, then the time to
/// fire `due` jobs (a drain) per job.
async fn curve(open: usize) -> Vec<(usize, Duration, Duration)> {
    let start = DateTime::from_timestamp(1_772_456_400, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let hour = chrono::Duration::hours(1);
    let mut s = setup(open, clock.clone(), |_| start + hour * 24).await;
    let mut rows = Vec::new();
    let mut idle = Vec::new();
    let mut bare = Vec::new();
    for _ in 0..200 {
        let t = Instant::now();
        s.scheduler.tick().await.unwrap();
        idle.push(t.elapsed());
        bare.push(baseline(&s.store, clock.now()).await);
    }
    rows.push((0, median(idle), median(bare)));
    for due in [10, 100, 1_000] {
        clock.advance(chrono::Duration::minutes(1));
        let now = clock.now();
        plan(&mut s, due, now, |_| now).await;
        let t = Instant::now();
        let tick = s.scheduler.drain().await.unwrap();
        assert_eq!(tick.fired, due);
        rows.push((due, t.elapsed(), t.elapsed() / u32::try_from(due).unwrap()));
    }
    rows
}

/// The running scheduler on the wall clock: `due` reminders falling due over `spread` among
/// `open` planned ones; how late each fired.
async fn lateness(open: usize, due: usize, spread: Duration) -> Vec<i64> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let first = Utc::now() + chrono::Duration::seconds(2);
    let step = chrono::Duration::from_std(spread).unwrap() / i32::try_from(due).unwrap();
    let far = Utc::now() + chrono::Duration::days(1);
    let s = setup(open, clock, |i| {
        if i < due {
            first + step * i32::try_from(i).unwrap()
        } else {
            far
        }
    })
    .await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let scheduler = s.scheduler;
    let running = tokio::spawn(async move { scheduler.run(stopped).await });
    let deadline = Instant::now() + spread + Duration::from_secs(60);
    loop {
        let done = s.store.jobs_in_state("done", 100_000).await.unwrap();
        if done.len() >= due {
            let _ = stop.send(true);
            running.await.unwrap();
            let mut late: Vec<i64> = done
                .iter()
                .filter_map(|j| Some((j.fired_at? - j.due_at).num_milliseconds()))
                .collect();
            late.sort();
            return late;
        }
        assert!(Instant::now() < deadline, "the jobs did not fire");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() {
    println!("## Scheduler: cost per tick (SQLite, manual clock)\n");
    println!(
        "| open incidents | due jobs | tick (drain) | per fired job | idle tick / bare due-jobs query |"
    );
    println!("|---:|---:|---:|---:|---:|");
    let mut idle = Vec::new();
    for open in [1_000, 10_000] {
        for (due, total, per) in curve(open).await {
            if due == 0 {
                idle.push(total);
                let ratio = total.as_secs_f64() / per.as_secs_f64();
                println!("| {open} | 0 | {} | — | {ratio:.1}× |", ms(total));
            } else {
                println!("| {open} | {due} | {} | {} | — |", ms(total), ms(per));
            }
        }
    }
    let growth = idle[1].as_secs_f64() / idle[0].as_secs_f64();
    println!("\nIdle tick at 10,000 open incidents / at 1,000: **{growth:.2}×**\n");

    println!("## Scheduler: lateness under load (wall clock)\n");
    let late = lateness(10_000, 2_000, Duration::from_secs(4)).await;
    let pick = |q: f64| late[((late.len() - 1) as f64 * q) as usize];
    println!("| open incidents | due over 4 s | fired | p50 | p99 | max |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| 10000 | 2000 | {} | {} ms | {} ms | {} ms |",
        late.len(),
        pick(0.5),
        pick(0.99),
        late.last().copied().unwrap_or(0)
    );
}
