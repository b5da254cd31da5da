//! WhatsApp, both directions, against baselines measured in the same run.
//!
//! 1. Signed Meta webhook deliveries (`messages`, X-Hub-Signature-256) from members of an
//!    8-member roster room posted to `/webhooks/whatsapp`, at concurrency 1 and 32: requests per
//!    second and p50/p99 time to the ack, against a bare axum handler that answers 200 on the
//!    same path (same client, same loopback, same run). Nine in ten deliveries are chatter
//!    (signature check, parsing, the writer's 24-hour window recorded, relayed to the other
//!    members and mirrored into the open incident's Slack thread); every tenth is an
//!    `inc note …` on the incident declared first, which also goes through the engine. SQLite
//!    on a temp file, `SystemClock`, no outbox worker running (the rows only queue).
//!    runroom is assembled from its configuration as `runroom serve` assembles it.
//! 2. One declaration fanned out to a 200-member roster (every window open) by the outbox
//!    workers as `runroom serve` starts them (`App::start`, woken by the engine's commit) to
//!    the fake Graph API enforcing 80 messages/s: time from the commit until the fake has
//!    accepted all 200, as a ratio of the minimum the limit allows, and the 429s it answered.
//!    The outbox's WhatsApp burst and the fake's bucket are set to the same size: 1 (no burst,
//!    minimum 200/80 = 2.5 s), 2 (the same pacing: the outbox keeps one of a burst in hand;
//!    minimum 2.5 s) and 80, the defaults ((200 - 80)/80 = 1.5 s). Three repetitions each, a
//!    fresh store and fake each; a run still short of 200 after 10 s is reported as such.
//!
//! Run: `cargo bench --bench whatsapp` (`-- --quick` for a short run that only checks it works:
//! fewer deliveries, one fan-out of each setting that completes).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/fakes/mod.rs"]
mod fakes;
mod load;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fakes::graph::{FakeGraph, PHONE_NUMBER_ID};
use runroom::app::{Secrets, assemble};
use runroom::config::Config;
use runroom::engine::Engine;
use runroom::engine::clock::SystemClock;
use runroom::engine::room::Inbound;
use runroom::engine::room::Platform;
use runroom::outbox::PlatformLimits;
use runroom::platforms::whatsapp;
use runroom::store::Store;

const APP_SECRET: &str = "bench-meta-app-secret";
const VERIFY_TOKEN: &str = "bench-verify-token";
const PATH: &str = "/webhooks/whatsapp";
/// The roster that writes in part 1.
const TEAM: usize = 8;
/// The roster that hears the declaration in part 2.
const ROSTER: usize = 200;
/// WhatsApp's default number-wide limit (messages per second).
const RATE: f64 = 80.0;
const REPETITIONS: usize = 3;
/// A fan-out still short of 200 this long after the commit is reported as not finished.
const GIVE_UP: Duration = Duration::from_secs(10);

/// Member `i` in E.164, as configured.
fn member(i: usize) -> String {
    format!("+{}", 5_511_900_000_000u64 + i as u64)
}

/// runroom's configuration: a roster room of `members` (pt-BR, São Paulo), the Slack war room,
/// and `more` (`[whatsapp]`, say).
fn config(members: usize, more: &str) -> Config {
    let members: Vec<String> = (0..members).map(member).collect();
    let text = format!(
        r#"
[[rooms]]
id = "campo"
platform = "whatsapp"
members = {members:?}
language = "pt-BR"
timezone = "America/Sao_Paulo"

[[rooms]]
id = "runroom"
platform = "slack"
chat = "{war_room}"
timezone = "America/Sao_Paulo"
{more}"#,
        war_room = common::SLACK_WAR_ROOM,
    );
    Config::parse(&text, "whatsapp bench", &[]).unwrap()
}

async fn sqlite(dir: &Path) -> Arc<dyn Store> {
    runroom::store::connect(&common::sqlite_url(dir))
        .await
        .unwrap()
}

/// A command typed in the Slack war room.
fn from_slack(id: &str, text: &str) -> Inbound {
    common::from_slack(id.into(), text, chrono::Utc::now())
}

// ---- 1. Signed webhook deliveries ----

/// Delivery `i`: from a roster member in turn, a unique wamid; every tenth a command.
fn delivery(i: usize, tag: &str) -> String {
    let from = member(i % TEAM);
    let text = if i % 10 == 9 {
        format!("inc note bench {tag} {i}: courier queue back to normal")
    } else {
        format!("chegando no CD agora, fila de {i} motos ({tag})")
    };
    fakes::graph::text_message(
        from.trim_start_matches('+'),
        &format!("Membro {}", i % TEAM),
        &format!("wamid.HBgNbench{tag}{i:08}"),
        chrono::Utc::now().timestamp(),
        &text,
    )
    .to_string()
}

/// runroom's WhatsApp webhook on a fresh SQLite file, with one incident open (the notes need it).
/// No Graph token: nothing is sent.
async fn runroom(dir: &Path) -> (String, Arc<Engine>) {
    let secrets = Secrets::from_pairs([
        (whatsapp::APP_SECRET_ENV, APP_SECRET),
        (whatsapp::VERIFY_TOKEN_ENV, VERIFY_TOKEN),
    ]);
    let store = sqlite(dir).await;
    let config = config(TEAM, "");
    let (app, base) =
        common::loopback::serve_app(config, store, Arc::new(SystemClock), secrets).await;
    app.engine
        .handle(&from_slack(
            "Ev0",
            "inc declare sev2 Couriers cannot check in",
        ))
        .await
        .unwrap();
    (format!("{base}{PATH}"), app.engine)
}

/// The i-th delivery, signed as Meta signs it.
fn signed(client: &reqwest::Client, url: &str, i: usize, tag: &str) -> reqwest::RequestBuilder {
    let body = delivery(i, tag);
    client
        .post(url)
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            fakes::graph::sign(APP_SECRET, body.as_bytes()),
        )
        .body(body)
}

async fn run(url: &str, n: usize, concurrency: usize, tag: &str) -> load::Run {
    load::run(n, concurrency, |client, i| signed(client, url, i, tag)).await
}

async fn webhooks(quick: bool) {
    // (warm-up requests, then requests at concurrency 1 and at 32)
    let (warm_up, sizes) = if quick {
        (20, [(1usize, 50usize), (32, 200)])
    } else {
        (200, [(1, 500), (32, 2000)])
    };
    let base = load::baseline(PATH).await;
    let warm = tempfile::tempdir().unwrap();
    let (warm_url, _) = runroom(warm.path()).await;
    run(&warm_url, warm_up, 8, "warm").await;
    run(&base, warm_up, 8, "warm").await;

    println!(
        "signed deliveries from an {TEAM}-member roster (9 in 10 chatter, 1 in 10 `inc note`)"
    );
    println!(
        "| concurrency | runroom req/s | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (concurrency, n) in sizes {
        let dir = tempfile::tempdir().unwrap();
        let (url, engine) = runroom(dir.path()).await;
        let ours = run(&url, n, concurrency, &format!("c{concurrency}")).await;
        let bare = run(&base, n, concurrency, &format!("c{concurrency}")).await;
        // Every note reached the engine: the declaration plus one timeline entry per note.
        let timeline = engine.store().timeline(1, 1_000_000).await.unwrap();
        assert_eq!(timeline.len(), 1 + n / 10, "every command was carried out");
        println!(
            "| {concurrency} | {} | {:.1}× |",
            load::compared(&ours, &bare),
            ours.p99.as_secs_f64() / bare.p99.as_secs_f64(),
        );
    }
}

// ---- 2. Fan-out to a 200-member roster at 80/s ----

struct FanOut {
    /// How many of the 200 the fake accepted (all of them, unless the run gave up).
    accepted: usize,
    /// From the commit until the fake accepted the last of the 200.
    completion: Option<Duration>,
    /// From the commit until the fake accepted the first.
    first: Duration,
    rate_limited: usize,
    /// The first 429: when, from the commit, and how many had been accepted before it.
    first_429: Option<(Duration, usize)>,
    /// Sent as free-form (reply buttons) rather than templates: every window was open.
    free_form: usize,
}

/// One declaration from Slack, fanned out to the roster by `runroom serve`'s two workers, with
/// the outbox's WhatsApp burst at `burst` and the fake's bucket at `capacity`.
async fn fan_out(burst: u32, capacity: u32, run: usize) -> FanOut {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    let now = chrono::Utc::now();
    let mut tx = store.begin().await.unwrap();
    for i in 0..ROSTER {
        let number = member(i);
        tx.record_contact(Platform::Whatsapp, &number, &number, now)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let fake = FakeGraph::start().await;
    fake.limit(capacity, RATE);
    let graph = format!(
        "[whatsapp]\napi_url = \"{}\"\nphone_number_id = \"{PHONE_NUMBER_ID}\"\n",
        fake.url
    );
    let mut config = config(ROSTER, &graph);
    config.outbox.limits.insert(
        "whatsapp".into(),
        PlatformLimits {
            burst,
            ..PlatformLimits::default_for("whatsapp")
        },
    );
    let secrets = Secrets::from_pairs([(whatsapp::TOKEN_ENV, fake.token.clone())]);
    let mut app = assemble(config, store, Arc::new(SystemClock), secrets).unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = app.start(&stopped);
    // The workers are idle, as in a quiet war room, when the declaration comes.
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.engine
        .handle(&from_slack(
            &format!("Ev{run}"),
            "inc declare sev1 Pix fora do ar para lojistas",
        ))
        .await
        .unwrap();
    let committed = Instant::now();
    // Polled every 5 ms; the fake timestamps each request itself, so polling adds nothing.
    let deadline = committed + GIVE_UP;
    let accepted = loop {
        let accepted = fake.accepted();
        if accepted.len() >= ROSTER || Instant::now() >= deadline {
            break accepted;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    stop.send(true).unwrap();
    while let Some(task) = tasks.join_next().await {
        task.unwrap();
    }
    let mut to: Vec<&str> = accepted.iter().map(|r| r.to.as_str()).collect();
    to.sort();
    to.dedup();
    assert_eq!(
        to.len(),
        accepted.len(),
        "no member got the declaration twice"
    );
    let received = fake.received();
    let first_429 = received.iter().position(|r| r.status == 429).map(|i| {
        let before = received[..i].iter().filter(|r| r.status == 200).count();
        (received[i].at.saturating_duration_since(committed), before)
    });
    let since_commit = |at: Instant| at.saturating_duration_since(committed);
    FanOut {
        accepted: accepted.len(),
        completion: (accepted.len() == ROSTER)
            .then(|| accepted.iter().map(|r| since_commit(r.at)).max().unwrap()),
        first: accepted
            .iter()
            .map(|r| since_commit(r.at))
            .min()
            .unwrap_or(GIVE_UP),
        rate_limited: fake.count_status(429),
        first_429,
        free_form: accepted.iter().filter(|r| r.kind != "template").count(),
    }
}

/// The fastest the outbox's own pacing lets 200 messages go: its GCRA sends `burst - 1` at once
/// (of a burst above one it keeps one in hand), at least one, then one per 1/80 s.
fn pacing_floor(burst: u32) -> f64 {
    let at_once = burst.saturating_sub(1).max(1) as usize;
    (ROSTER - at_once.min(ROSTER)) as f64 / RATE
}

async fn fan_outs(quick: bool) {
    // Quick: one run of each setting that completes.
    let (settings, repetitions): (&[(u32, u32)], usize) = if quick {
        (&[(2, 2), (80, 80)], 1)
    } else {
        (&[(1, 1), (2, 2), (80, 80)], REPETITIONS)
    };
    println!();
    println!(
        "one declaration to a {ROSTER}-member roster, every window open, the fake enforcing {RATE}/s; \
         gives up {} s after the commit",
        GIVE_UP.as_secs()
    );
    println!(
        "| outbox burst / fake bucket | minimum | run | first accepted | all {ROSTER} accepted | measured / minimum | 429s (first: when, after how many) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for &(burst, capacity) in settings {
        // The issue's arithmetic: no burst leaves 200 slots of 1/80 s (2.5 s); a burst of 80
        // leaves 120 (1.5 s).
        let minimum = if burst <= 2 {
            ROSTER as f64 / RATE
        } else {
            (ROSTER - burst as usize) as f64 / RATE
        };
        let mut ratios = Vec::new();
        for run in 0..repetitions {
            let f = fan_out(burst, capacity, run).await;
            let (all, ratio) = match f.completion {
                Some(done) => {
                    let ratio = done.as_secs_f64() / minimum;
                    ratios.push(ratio);
                    (
                        format!("{:.3} s", done.as_secs_f64()),
                        format!("**{ratio:.3}**"),
                    )
                }
                None => (
                    format!("not in {} s: {} of {ROSTER}", GIVE_UP.as_secs(), f.accepted),
                    format!("> {:.1}", GIVE_UP.as_secs_f64() / minimum),
                ),
            };
            let first_429 = f.first_429.map_or(String::new(), |(at, before)| {
                format!(" (first at {}, after {before})", load::ms(at))
            });
            println!(
                "| {burst} / {capacity} | {minimum:.3} s | {} | {} | {all} | {ratio} | {}{first_429} |",
                run + 1,
                load::ms(f.first),
                f.rate_limited,
            );
            assert_eq!(f.free_form, f.accepted, "every window was open");
        }
        ratios.sort_by(f64::total_cmp);
        let summary = match (ratios.first(), ratios.last()) {
            (Some(lo), Some(hi)) => format!("measured / minimum {lo:.3}–{hi:.3}"),
            _ => "never finished".to_string(),
        };
        println!(
            "  burst {burst} / bucket {capacity}: {summary}; the outbox's own pacing floor {:.4} s",
            pacing_floor(burst)
        );
    }
}

#[tokio::main]
async fn main() {
    let quick = load::quick();
    webhooks(quick).await;
    fan_outs(quick).await;
}
