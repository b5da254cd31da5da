//! Command handling end to end (parse → decide → one SQLite transaction) against a baseline that
//! writes the same rows with bare SQL in one transaction per command, measured in the same run;
//! plus the resident memory of an idle `runroom serve`. Run: `cargo bench --bench engine`.

use std::io::BufRead;
use std::sync::Arc;
use std::time::{Duration, Instant};

use runroom::engine::clock::SystemClock;
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef, RoomRole};
use runroom::engine::{Engine, EngineSettings, Outcome};
use runroom::i18n::{I18n, Lang};
use runroom::store::sqlite::SqliteStore;

const INCIDENTS: usize = 400;

fn rooms() -> Vec<Room> {
    let room = |id: &str, platform, chat: &str, language| Room {
        id: id.into(),
        platform,
        chat: chat.into(),
        language,
        timezone: chrono_tz::America::Sao_Paulo,
        role: RoomRole::WarRoom,
        members: Vec::new(),
    };
    vec![
        room("console", Platform::Console, "console", Lang::En),
        room("runroom", Platform::Slack, "C0123456", Lang::En),
        room("campo", Platform::Whatsapp, "1203@g.us", Lang::PtBr),
    ]
}

/// Five commands per incident: declare, note, structured update, ack, resolve.
fn script() -> Vec<String> {
    let mut lines = Vec::new();
    for i in 1..=INCIDENTS {
        lines.push(format!(
            "inc declare sev2 \"Checkout latency {i}\" impact=\"card payments slow\""
        ));
        lines.push(format!(
            "inc note INC-{i} \"DB failover started on replica {i}\""
        ));
        lines.push(format!(
            "inc update INC-{i} impact=\"30% of orders\" actions=\"rollback\" next=15m blockers=none"
        ));
        lines.push(format!("inc ack INC-{i}"));
        lines.push(format!("inc resolve INC-{i} rollback done"));
    }
    lines
}

struct Stats {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn stats(mut samples: Vec<Duration>, total: Duration) -> Stats {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Stats {
        per_second: samples.len() as f64 / total.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

async fn store_in(dir: &tempfile::TempDir, name: &str) -> SqliteStore {
    let url = format!("sqlite://{}", dir.path().join(name).display());
    let store = SqliteStore::connect(&url).await.unwrap();
    runroom::store::Store::migrate(&store).await.unwrap();
    store
}

/// The engine: returns latencies and, per command, how many outbox rows it wrote.
async fn run_engine(dir: &tempfile::TempDir) -> (Stats, Vec<usize>) {
    let store = Arc::new(store_in(dir, "engine.db").await);
    let engine = Engine::new(
        store,
        Arc::new(I18n::new().unwrap()),
        Arc::new(SystemClock),
        EngineSettings {
            rooms: rooms(),
            extra_roles: vec![],
            ..Default::default()
        },
    );
    let mut samples = Vec::new();
    let mut rows = Vec::new();
    let started = Instant::now();
    for (n, text) in script().into_iter().enumerate() {
        let inbound = Inbound {
            event_id: format!("bench-{n}"),
            origin: Origin {
                room: RoomRef {
                    platform: Platform::Console,
                    chat: "console".into(),
                    thread: None,
                },
                author: Author {
                    handle: None,
                    id: "U1".into(),
                    name: "joana".into(),
                },
                private_replies: false,
            },
            input: Input::Text(text),
            received_at: chrono::Utc::now(),
        };
        let t = Instant::now();
        let outcome = engine.handle(&inbound).await.unwrap();
        samples.push(t.elapsed());
        match outcome {
            Outcome::Handled {
                ok: true, messages, ..
            } => rows.push(messages.len()),
            other => panic!("bench command failed: {other:?}"),
        }
    }
    (stats(samples, started.elapsed()), rows)
}

/// The baseline: the same rows (inbound key, incident upsert, timeline entry, outbox rows) with
/// bare statements (the outbox rows as one multi-row INSERT, as the store writes them) in one
/// `BEGIN IMMEDIATE` transaction per command.
async fn run_baseline(dir: &tempfile::TempDir, outbox_rows: &[usize]) -> Stats {
    let store = store_in(dir, "baseline.db").await;
    let pool = store.pool();
    let state = "x".repeat(600); // about the size of an incident's JSON state
    let text = "y".repeat(180); // about the size of a rendered message
    let mut samples = Vec::new();
    let started = Instant::now();
    for (n, rows) in outbox_rows.iter().enumerate() {
        let incident = (n / 5 + 1) as i64;
        let t = Instant::now();
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.unwrap();
        sqlx::query("INSERT INTO inbound_events (event_key, received_at) VALUES ($1, $2)")
            .bind(format!("console:bench-{n}"))
            .bind(0i64)
            .execute(&mut *tx)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO incidents (number, title, severity, status, declared_at, updated_at, resolved_at, state) \
             VALUES ($1, 't', 2, 'investigating', 0, 0, NULL, $2) \
             ON CONFLICT (number) DO UPDATE SET state = $2, updated_at = 1",
        )
        .bind(incident)
        .bind(&state)
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query("INSERT INTO timeline (incident, at, actor, room, kind, detail) VALUES ($1, 0, 'joana', 'console', 'note', $2)")
            .bind(incident)
            .bind(&text)
            .execute(&mut *tx)
            .await
            .unwrap();
        if *rows > 0 {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO outbox (idempotency_key, room_id, platform, chat, kind, language, text, priority, \
                 next_attempt_at, created_at) ",
            );
            insert.push_values(0..*rows, |mut row, r| {
                row.push_bind(format!("bench-{n}#{r}"))
                    .push_bind("r")
                    .push_bind("slack")
                    .push_bind("c")
                    .push_bind("broadcast")
                    .push_bind("en")
                    .push_bind(text.clone())
                    .push_bind(1i64)
                    .push_bind(0i64)
                    .push_bind(0i64);
            });
            insert.build().execute(&mut *tx).await.unwrap();
        }
        tx.commit().await.unwrap();
        samples.push(t.elapsed());
    }
    stats(samples, started.elapsed())
}

/// VmRSS of an idle `runroom serve` (after start-up and one /healthz).
fn idle_serve_rss_kib() -> Option<u64> {
    let dir = tempfile::tempdir().ok()?;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_runroom"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env_remove("RUNROOM_CONFIG")
        .env_remove("RUNROOM_DATABASE_URL")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take()?)
        .read_line(&mut line)
        .ok()?;
    let addr = line
        .trim()
        .strip_prefix("runroom listening on http://")?
        .to_string();
    let mut stream = std::net::TcpStream::connect(&addr).ok()?;
    use std::io::{Read, Write};
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id())).ok()?;
    let _ = child.kill();
    let _ = child.wait();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn show(name: &str, s: &Stats) {
    println!(
        "{name:<28} {:>9.0} cmd/s   p50 {:>8.3} ms   p99 {:>8.3} ms",
        s.per_second,
        s.p50.as_secs_f64() * 1e3,
        s.p99.as_secs_f64() * 1e3
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        // Warm up both paths (page cache, statement caches) on throwaway databases.
        let warm = tempfile::tempdir().unwrap();
        let (_, rows) = run_engine(&warm).await;
        run_baseline(&warm, &rows).await;

        let (engine, rows) = run_engine(&dir).await;
        let baseline = run_baseline(&dir, &rows).await;
        println!(
            "{} commands, {} outbox rows (SQLite, WAL, synchronous=FULL)",
            rows.len(),
            rows.iter().sum::<usize>()
        );
        show("engine (parse→decide→commit)", &engine);
        show("baseline (bare inserts)", &baseline);
        println!(
            "engine / baseline: throughput cost {:.2}×, p50 {:.2}×, p99 {:.2}×",
            baseline.per_second / engine.per_second,
            engine.p50.as_secs_f64() / baseline.p50.as_secs_f64(),
            engine.p99.as_secs_f64() / baseline.p99.as_secs_f64()
        );
    });
    match idle_serve_rss_kib() {
        Some(kib) => println!("idle `runroom serve` RSS: {:.1} MiB", kib as f64 / 1024.0),
        None => println!("idle `runroom serve` RSS: could not be measured"),
    }
}
