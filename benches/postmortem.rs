//! The postmortem draft and the report at size, against reading the same rows with a bare query
//! in the same run, on the same SQLite file.
//!
//! 1. One incident with 10,000 timeline entries (updates, notes, pages, severity and status
//!    changes): the whole Markdown draft (`postmortem::load` + `postmortem::write`) against
//!    `SELECT state FROM incidents` and `SELECT * FROM timeline` for it, rows read as strings.
//! 2. The report over 10,000 incidents declared in the period, acknowledged and resolved, some
//!    with postmortems recorded (`declared_since` + `report::report`) against `SELECT state
//!    FROM incidents WHERE declared_at >= ?`, rows read as strings.
//!
//! Each: the median of several runs, and the peak heap each allocated above where it started
//! (a counting allocator wraps the system one in this binary).
//!
//! Run: `cargo bench --bench postmortem` (`-- --quick`: fewer rows and runs).

#[path = "../tests/common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use runroom::engine::incident::{Actor, Event, Incident, Severity, TimelineEntry, UpdateFields};
use runroom::engine::policy::Policies;
use runroom::i18n::{I18n, Lang};
use runroom::postmortem::{Format, report};
use runroom::store::Store;
use sqlx::Row;

/// The system allocator, counting the bytes in use and the peak since the last reset.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is passed on unchanged to the system allocator.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `work` `runs` times; the median time and the largest peak above the starting heap.
async fn measure<F, Fut>(runs: usize, mut work: F) -> (Duration, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let mut times = Vec::new();
    let mut peak = 0;
    for _ in 0..runs {
        let start_heap = IN_USE.load(Ordering::Relaxed);
        PEAK.store(start_heap, Ordering::Relaxed);
        let started = Instant::now();
        let produced = work().await;
        times.push(started.elapsed());
        peak = peak.max(PEAK.load(Ordering::Relaxed).saturating_sub(start_heap));
        assert!(produced > 0);
    }
    times.sort();
    (times[times.len() / 2], peak)
}

/// One table row: runroom's and the bare query's median time and peak heap, and the ratios.
fn row(what: &str, (ours, ours_peak): (Duration, usize), (bare, bare_peak): (Duration, usize)) {
    let mib = |bytes: usize| bytes as f64 / 1_048_576.0;
    println!(
        "| {what} | {:.1} ms | {:.1} ms | {:.2}× | {:.1} MiB | {:.1} MiB | {:.2}× |",
        ours.as_secs_f64() * 1e3,
        bare.as_secs_f64() * 1e3,
        ours.as_secs_f64() / bare.as_secs_f64(),
        mib(ours_peak),
        mib(bare_peak),
        ours_peak as f64 / bare_peak.max(1) as f64,
    );
}

fn actor() -> Actor {
    Actor {
        name: "<@U01ANA|ana>".into(),
        room: "runroom".into(),
    }
}

/// Entry `i` of the long timeline.
fn event(i: usize) -> Event {
    match i % 10 {
        0 => Event::Note {
            text: format!(
                "courier queue at {i} orders, still climbing in zone {}",
                i % 7
            ),
        },
        1..=3 => Event::Updated(UpdateFields {
            text: Some(format!("update {i}: gateway retries at {}%", i % 100)),
            impact: (i % 50 == 1)
                .then(|| format!("card payments failing for {}% of users", i % 40)),
            ..UpdateFields::default()
        }),
        4 => Event::Acknowledged,
        5 => Event::SeverityChanged {
            from: Severity::Sev2,
            to: Severity::Sev1,
        },
        6 => Event::Paged {
            step: 1,
            of: 2,
            people: vec!["lead".into()],
            who: vec!["<@U02LEAD|lead>".into()],
            manual: false,
        },
        _ => Event::FollowUpAdded {
            number: u32::try_from(i).unwrap_or(0),
            text: format!("add an alarm for case {i}"),
        },
    }
}

async fn draft(store: &Arc<dyn Store>, url: &str, entries: usize, runs: usize) {
    let now = Utc::now();
    let start = now - chrono::Duration::days(1);
    let (mut incident, _) = Incident::declare(
        "Checkout down".into(),
        Severity::Sev2,
        None,
        &actor(),
        start,
    );
    let mut tx = store.begin().await.unwrap();
    incident.number = tx.insert_incident(&incident).await.unwrap();
    let timeline: Vec<TimelineEntry> = (0..entries)
        .map(|i| TimelineEntry {
            incident: incident.number,
            at: start + chrono::Duration::seconds(i as i64),
            actor: actor().name,
            room: "runroom".into(),
            event: event(i),
        })
        .collect();
    for chunk in timeline.chunks(1000) {
        tx.append_timeline(chunk).await.unwrap();
    }
    let (resolved, _) = incident
        .resolve(Some("gateway restarted".into()), now)
        .unwrap();
    tx.update_incident(&resolved, Some(&incident))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let number = incident.number;
    let (bare, bare_peak) = measure(runs, || {
        let pool = pool.clone();
        async move {
            let state: (String,) = sqlx::query_as("SELECT state FROM incidents WHERE number = ?")
                .bind(number)
                .fetch_one(&pool)
                .await
                .unwrap();
            let rows = sqlx::query(
                "SELECT at, actor, room, kind, detail FROM timeline WHERE incident = ? ORDER BY id",
            )
            .bind(number)
            .fetch_all(&pool)
            .await
            .unwrap();
            let texts: Vec<(i64, String, String, String, String)> = rows
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
                .collect();
            state.0.len() + texts.len()
        }
    })
    .await;
    let i18n = I18n::new().unwrap();
    let policies = Policies::default();
    let (ours, ours_peak) = measure(runs, || {
        let store = store.clone();
        let i18n = &i18n;
        let policies = &policies;
        async move {
            let (incident, timeline) = runroom::postmortem::load(store.as_ref(), number)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(timeline.len(), entries);
            let text = runroom::postmortem::write(
                (&incident, &timeline),
                policies,
                i18n,
                (Format::Md, Lang::PtBr, chrono_tz::America::Sao_Paulo),
                Utc::now(),
            );
            text.len()
        }
    })
    .await;
    row(
        &format!("draft of {entries} entries"),
        (ours, ours_peak),
        (bare, bare_peak),
    );
}

async fn report_over(store: &Arc<dyn Store>, url: &str, incidents: usize, runs: usize) {
    let now = Utc::now();
    let since = now - chrono::Duration::days(30);
    let severities = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];
    let mut tx = store.begin().await.unwrap();
    for i in 0..incidents {
        let at = since + chrono::Duration::seconds((i * 200) as i64);
        let (incident, _) =
            Incident::declare(format!("Case {i}"), severities[i % 4], None, &actor(), at);
        let mut incident = incident;
        incident.acked_at = Some(at + chrono::Duration::seconds(60 + (i % 600) as i64));
        incident.acked_by = Some("ana".into());
        incident.number = tx.insert_incident(&incident).await.unwrap();
        let (resolved, _) = incident
            .resolve(
                None,
                at + chrono::Duration::seconds(600 + (i % 3600) as i64),
            )
            .unwrap();
        tx.update_incident(&resolved, Some(&incident))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let pool = sqlx::SqlitePool::connect(url).await.unwrap();
    let (bare, bare_peak) = measure(runs, || {
        let pool = pool.clone();
        async move {
            let rows: Vec<(String,)> =
                sqlx::query_as("SELECT state FROM incidents WHERE declared_at >= ?")
                    .bind(since.timestamp_millis())
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            rows.len()
        }
    })
    .await;
    let (ours, ours_peak) = measure(runs, || {
        let store = store.clone();
        async move {
            let read = store
                .declared_since(since, report::MAX_INCIDENTS)
                .await
                .unwrap();
            let figures = report::report(&read, since, Utc::now());
            assert_eq!(
                figures
                    .severities
                    .iter()
                    .map(|f| f.incidents)
                    .sum::<usize>(),
                incidents
            );
            read.len()
        }
    })
    .await;
    row(
        &format!("report over {incidents} incidents"),
        (ours, ours_peak),
        (bare, bare_peak),
    );
}

#[tokio::main]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (size, runs) = if quick { (1_000, 3) } else { (10_000, 9) };
    println!(
        "| what | runroom (median of {runs}) | bare query | time ratio | runroom peak heap | bare peak heap | memory ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    let dir = tempfile::tempdir().unwrap();
    let url = common::sqlite_url(dir.path());
    let store = runroom::store::connect(&url).await.unwrap();
    draft(&store, &url, size, runs).await;
    let dir = tempfile::tempdir().unwrap();
    let url = common::sqlite_url(dir.path());
    let store = runroom::store::connect(&url).await.unwrap();
    report_over(&store, &url, size, runs).await;
}
