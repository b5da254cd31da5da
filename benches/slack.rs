//! Signed slash commands against runroom's Slack endpoint: declares at concurrency 1 and 32 and
//! `inc list` at 32, each on an empty database and on one with 10,000 open incidents: requests
//! per second and p50/p99 time to Slack's ack, against a bare axum handler that answers 200 on
//! the same path as the baseline (same client, same loopback, same run). runroom is assembled
//! from its configuration as `runroom serve` assembles it (no worker runs: the outbox rows only
//! queue). Each command runs the engine on SQLite, so the ack includes its whole transaction
//! (when it finishes inside the ack budget). Then the same declares and lists against an
//! in-memory bot written with Slack Bolt (`benches/bolt`, run by Node when `npm ci` was run
//! there): the level the issue on scale set for durable declares. Run: `cargo bench --bench
//! slack` (`-- --quick` for a short run that only checks it works; `-- --only declare` for one
//! verb's rows, `-- --concurrency 32` for the rows at that concurrency, `-- --requests N` for N
//! requests in each row and `-- --open N` for the size of the large database, as when
//! profiling; `-- --postgres` runs runroom on Postgres, `RUNROOM_TEST_POSTGRES_URL`).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fakes/mod.rs"]
mod fakes;
mod load;

use std::path::Path;
use std::sync::Arc;

use fakes::slack::FakeSlack;
use runroom::app::Secrets;
use runroom::config::Config;
use runroom::engine::clock::SystemClock;
use runroom::engine::incident::{Actor, Incident, Severity};
use runroom::platforms::slack;
use runroom::store::Store;

const SECRET: &str = "bench-signing-secret";
const PATH: &str = "/webhooks/slack/commands";

fn sign(timestamp: &str, body: &str) -> String {
    fakes::slack::signature(SECRET, timestamp, body)
}

fn command(i: usize, tag: &str, text: &str) -> String {
    serde_urlencoded::to_string([
        ("team_id", "T0RUNROOM"),
        ("channel_id", common::SLACK_WAR_ROOM),
        ("user_id", "U0ANA"),
        ("command", "/inc"),
        ("text", text),
        (
            "response_url",
            "https://hooks.slack.com/commands/T0RUNROOM/1/xyz",
        ),
        ("trigger_id", &format!("{tag}.{i}")),
    ])
    .expect("form")
}

/// runroom with one Slack war room (English, UTC) talking to `fake`, on a fresh SQLite file in
/// `dir` (or a fresh Postgres schema, with `--postgres`) holding `open` open incidents; returns the URL of its slash-command endpoint.
async fn runroom(dir: &Path, fake: &FakeSlack, open: usize) -> String {
    let text = format!(
        r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "{war_room}"

[slack]
api_url = "{api}"
"#,
        war_room = common::SLACK_WAR_ROOM,
        api = fake.api_url,
    );
    let config = Config::parse(&text, "slack bench", &[]).unwrap();
    let secrets = Secrets::from_pairs([
        (slack::BOT_TOKEN_ENV, fake.bot_token.clone()),
        (slack::SIGNING_SECRET_ENV, SECRET.to_string()),
    ]);
    let store = if on_postgres() {
        // A schema of its own in the test database, as each test gets.
        common::postgres()
            .await
            .expect("--postgres needs RUNROOM_TEST_POSTGRES_URL")
            .store
    } else {
        runroom::store::connect(&common::sqlite_url(dir))
            .await
            .unwrap()
    };
    seed(store.as_ref(), open).await;
    let (_app, base) =
        common::loopback::serve_app(config, store, Arc::new(SystemClock), secrets).await;
    format!("{base}{PATH}")
}

/// `-- --postgres`: runroom's store is Postgres (`RUNROOM_TEST_POSTGRES_URL`) instead of an
/// embedded SQLite file.
fn on_postgres() -> bool {
    std::env::args().any(|a| a == "--postgres")
}

/// `n` open incidents written straight through the store in one transaction (a database that
/// grew so, not 10,000 requests).
async fn seed(store: &dyn Store, n: usize) {
    let actor = Actor {
        name: "seed".into(),
        room: "runroom".into(),
    };
    let now = chrono::Utc::now() - chrono::Duration::days(1);
    let mut tx = store.begin().await.unwrap();
    for i in 0..n {
        let severity = [Severity::Sev1, Severity::Sev2, Severity::Sev3][i % 3];
        let (incident, _) = Incident::declare(format!("Seeded {i}"), severity, None, &actor, now);
        tx.insert_incident(&incident).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// What a run sends: a declaration (a new incident each) or the list of open incidents.
#[derive(Clone, Copy)]
enum Verb {
    Declare,
    List,
}

impl Verb {
    fn name(self) -> &'static str {
        match self {
            Verb::Declare => "declare",
            Verb::List => "list",
        }
    }
}

/// The i-th slash command, signed as Slack signs it.
fn slash(
    client: &reqwest::Client,
    url: &str,
    i: usize,
    tag: &str,
    verb: Verb,
) -> reqwest::RequestBuilder {
    let text = match verb {
        Verb::Declare => format!("declare sev3 Bench {tag} {i}"),
        Verb::List => "list".to_string(),
    };
    let body = command(i, tag, &text);
    let timestamp = chrono::Utc::now().timestamp().to_string();
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-signature", sign(&timestamp, &body))
        .header("x-slack-request-timestamp", timestamp)
        .body(body)
}

async fn run(url: &str, n: usize, concurrency: usize, tag: &str, verb: Verb) -> load::Run {
    load::run(n, concurrency, |client, i| slash(client, url, i, tag, verb)).await
}

#[tokio::main]
async fn main() {
    // (warm-up requests; open incidents of the second database; per verb and concurrency, the
    // requests sent)
    let (warm_up, open, sizes) = if load::quick() {
        (
            20,
            1_000,
            [
                (Verb::Declare, 1usize, 50usize),
                (Verb::Declare, 32, 200),
                (Verb::List, 32, 40),
            ],
        )
    } else {
        (
            200,
            10_000,
            [
                (Verb::Declare, 1, 500),
                (Verb::Declare, 32, 6000),
                (Verb::List, 32, 10_000),
            ],
        )
    };
    let args: Vec<String> = std::env::args().collect();
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let only = value_of("--only");
    let concurrency: Option<usize> = value_of("--concurrency").and_then(|n| n.parse().ok());
    let requests: Option<usize> = value_of("--requests").and_then(|n| n.parse().ok());
    let open: usize = value_of("--open")
        .and_then(|n| n.parse().ok())
        .unwrap_or(open);
    let sizes: Vec<(Verb, usize, usize)> = sizes
        .into_iter()
        .filter(|(verb, c, _)| {
            only.as_deref().is_none_or(|name| verb.name() == name)
                && concurrency.is_none_or(|wanted| *c == wanted)
        })
        .map(|(verb, concurrency, n)| (verb, concurrency, requests.unwrap_or(n)))
        .collect();
    let fake = FakeSlack::start().await;
    fake.add_user("U0ANA", "Ana");
    let base = load::baseline(PATH).await;
    let warm = tempfile::tempdir().unwrap();
    let warm_url = runroom(warm.path(), &fake, 0).await;
    run(&warm_url, warm_up, 8, "warm", Verb::Declare).await;
    run(&base, warm_up, 8, "warm", Verb::Declare).await;

    println!(
        "| open incidents | command | concurrency | runroom req/s | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 | CPU per request: runroom / baseline |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let mut lists = Vec::new();
    // 100 open incidents fill a list page as 10,000 do: the pair shows what the size of the
    // database costs, apart from rendering a longer answer than the empty list's one line.
    for seeded in [0, 100, open] {
        for &(verb, concurrency, n) in &sizes {
            let dir = tempfile::tempdir().unwrap();
            let url = runroom(dir.path(), &fake, seeded).await;
            let tag = format!("o{seeded}c{concurrency}");
            let ours = run(&url, n, concurrency, &tag, verb).await;
            let bare = run(&base, n, concurrency, &tag, verb).await;
            let name = verb.name();
            println!(
                "| {seeded} | {name} | {concurrency} | {} | {:.0} / {:.0} µs |",
                load::compared(&ours, &bare),
                ours.cpu.as_secs_f64() * 1e6,
                bare.cpu.as_secs_f64() * 1e6,
            );
            if matches!(verb, Verb::List) {
                lists.push(ours);
            }
        }
    }
    against_bolt(&fake, &sizes).await;
    if let [empty, page, full] = lists.as_slice() {
        for (label, from) in [("an empty database", empty), ("100 open", page)] {
            println!(
                "\nlist at {open} open / list on {label}: {:.2}× the time per request \
                 (req/s {:.0} → {:.0}), p50 {:.2}×, p99 {:.2}×; {:.2}× the CPU per request \
                 ({:.0} → {:.0} µs, the whole process: client and server)",
                from.per_second / full.per_second,
                from.per_second,
                full.per_second,
                full.p50.as_secs_f64() / from.p50.as_secs_f64(),
                full.p99.as_secs_f64() / from.p99.as_secs_f64(),
                full.cpu.as_secs_f64() / from.cpu.as_secs_f64().max(1e-9),
                from.cpu.as_secs_f64() * 1e6,
                full.cpu.as_secs_f64() * 1e6,
            );
        }
    }
}

/// The Slack Bolt app of `benches/bolt` (an in-memory bot: it verifies the signature, keeps
/// incidents in an array and answers in the ack), started with Node on a free port. `None`
/// when Node or the app's packages (`npm ci` in `benches/bolt`) are not installed.
fn bolt() -> Option<(BoltApp, String)> {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/bolt");
    if !app.join("node_modules/@slack/bolt").is_dir() {
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let mut child = std::process::Command::new("node")
        .arg("app.js")
        .current_dir(&app)
        .env("SLACK_SIGNING_SECRET", SECRET)
        .env("PORT", port.to_string())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let mut line = String::new();
    let stdout = child.stdout.take()?;
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).ok()?;
    (line.trim() == "listening").then(|| {
        (
            BoltApp(child),
            format!("http://127.0.0.1:{port}/slack/events"),
        )
    })
}

/// The Node process of [`bolt`], stopped when dropped.
struct BoltApp(std::process::Child);

impl Drop for BoltApp {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The same declares and lists against the in-memory Bolt bot, and runroom's rate over its
/// rate, in this run. Each side keeps one store across the rows, so each list is over the
/// incidents its own declares opened (the same number on both sides).
async fn against_bolt(fake: &FakeSlack, sizes: &[(Verb, usize, usize)]) {
    let Some((_app, bolt_url)) = bolt() else {
        println!("\nSKIPPED the in-memory Bolt bot: run `npm ci` in benches/bolt (needs Node).");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let url = runroom(dir.path(), fake, 0).await;
    // Node compiles a hot function again and again as it runs: 200 requests left Bolt at about
    // half the rate it reaches after a few thousand.
    let warm_up = if load::quick() { 20 } else { 3_000 };
    run(&url, warm_up, 8, "bolt-warm", Verb::Declare).await;
    run(&bolt_url, warm_up, 8, "bolt-warm", Verb::Declare).await;
    println!(
        "\n| command | concurrency | runroom req/s | Bolt (in memory) req/s | runroom / Bolt | runroom p50 / p99 | Bolt p50 / p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &(verb, concurrency, n) in sizes {
        let tag = format!("bolt{concurrency}");
        let ours = run(&url, n, concurrency, &tag, verb).await;
        let theirs = run(&bolt_url, n, concurrency, &tag, verb).await;
        let name = verb.name();
        println!(
            "| {name} | {concurrency} | {:.0} | {:.0} | {:.2} | {} / {} | {} / {} |",
            ours.per_second,
            theirs.per_second,
            ours.per_second / theirs.per_second,
            load::ms(ours.p50),
            load::ms(ours.p99),
            load::ms(theirs.p50),
            load::ms(theirs.p99),
        );
    }
}
