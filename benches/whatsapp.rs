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
//! 2. One declaration fanned out to a 200-member roster (every window open) by the outbox
//!    workers in real time (`Worker::run`, woken by the engine's commit as in `runroom serve`)
//!    to the fake Graph API enforcing 80 messages/s: time from the commit until the fake has
//!    accepted all 200, as a ratio of the minimum the limit allows, and the 429s it answered.
//!    The outbox's WhatsApp burst and the fake's bucket are set to the same size: 1 (no burst,
//!    minimum 200/80 = 2.5 s), 2 (the same pacing: the outbox keeps one of a burst in hand;
//!    minimum 2.5 s) and 80, the defaults ((200 - 80)/80 = 1.5 s). Three repetitions each, a
//!    fresh store and fake each; a run still short of 200 after 10 s is reported as such.
//!
//! Run: `cargo bench --bench whatsapp`.

#[path = "../tests/fakes/mod.rs"]
mod fakes;
mod load;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fakes::graph::FakeGraph;
use runroom::engine::clock::{Clock, SystemClock};
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef, RoomRole};
use runroom::engine::{Engine, EngineSettings};
use runroom::i18n::{I18n, Lang};
use runroom::outbox::{OutboxConfig, PlatformLimits, Worker};
use runroom::platforms::whatsapp::inbox::Inbox;
use runroom::platforms::whatsapp::outbound::WhatsappSender;
use runroom::platforms::whatsapp::signature::Verifier;
use runroom::platforms::whatsapp::webhooks::{self, WhatsappHttp};
use runroom::platforms::whatsapp::{RoomKind, WhatsappConfig};
use runroom::store::Store;

const APP_SECRET: &str = "bench-meta-app-secret";
const VERIFY_TOKEN: &str = "bench-verify-token";
const PATH: &str = "/webhooks/whatsapp";
const PHONE_NUMBER_ID: &str = "106540352242922";
const WAR_ROOM: &str = "C0RUNROOM";
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

fn rooms(members: usize) -> Vec<Room> {
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
        Room {
            members: (0..members).map(member).collect(),
            ..room("campo", Platform::Whatsapp, "campo", Lang::PtBr)
        },
        room("runroom", Platform::Slack, WAR_ROOM, Lang::En),
    ]
}

async fn sqlite(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = format!("sqlite://{}", dir.path().join("runroom.db").display());
    runroom::store::connect(&url).await.unwrap()
}

fn engine(store: Arc<dyn Store>, members: usize) -> Engine {
    Engine::new(
        store,
        Arc::new(I18n::new().unwrap()),
        Arc::new(SystemClock),
        EngineSettings {
            rooms: rooms(members),
            extra_roles: Vec::new(),
            ..Default::default()
        },
    )
}

/// A command typed in the Slack war room.
fn from_slack(id: &str, text: &str) -> Inbound {
    Inbound {
        event_id: id.into(),
        origin: Origin {
            room: RoomRef {
                platform: Platform::Slack,
                chat: WAR_ROOM.into(),
                thread: None,
            },
            author: Author {
                id: "U0BEN".into(),
                name: "Ben".into(),
            },
            private_replies: false,
        },
        input: Input::Text(text.into()),
        received_at: chrono::Utc::now(),
    }
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
async fn runroom(dir: &tempfile::TempDir) -> (String, Arc<Engine>) {
    let engine = Arc::new(engine(sqlite(dir).await, TEAM));
    engine
        .handle(&from_slack(
            "Ev0",
            "inc declare sev2 Couriers cannot check in",
        ))
        .await
        .unwrap();
    let inbox = Arc::new(Inbox::new(
        engine.clone(),
        WhatsappConfig::default().ack_budget(),
    ));
    let url = load::serve(
        webhooks::router(WhatsappHttp {
            verifier: Arc::new(Verifier::new(APP_SECRET, VERIFY_TOKEN)),
            inbox,
        }),
        PATH,
    )
    .await;
    (url, engine)
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

async fn webhooks() {
    let base = load::baseline(PATH).await;
    let warm = tempfile::tempdir().unwrap();
    let (warm_url, _) = runroom(&warm).await;
    run(&warm_url, 200, 8, "warm").await;
    run(&base, 200, 8, "warm").await;

    println!(
        "signed deliveries from an {TEAM}-member roster (9 in 10 chatter, 1 in 10 `inc note`)"
    );
    println!(
        "| concurrency | runroom req/s | baseline req/s | throughput ratio | runroom p50 / p99 | baseline p50 / p99 | p99 ratio |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (concurrency, n) in [(1usize, 500usize), (32, 2000)] {
        let dir = tempfile::tempdir().unwrap();
        let (url, engine) = runroom(&dir).await;
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
    let store = sqlite(&dir).await;
    let now = chrono::Utc::now();
    for i in 0..ROSTER {
        let number = member(i);
        store
            .record_contact(Platform::Whatsapp, &number, &number, now)
            .await
            .unwrap();
    }
    let fake = FakeGraph::start().await;
    fake.limit(capacity, RATE);
    let mut config = OutboxConfig::default();
    config.limits.insert(
        "whatsapp".into(),
        PlatformLimits {
            burst,
            ..PlatformLimits::default_for("whatsapp")
        },
    );
    let wa = WhatsappConfig {
        api_url: fake.url.clone(),
        phone_number_id: PHONE_NUMBER_ID.into(),
        ..WhatsappConfig::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let wake = Arc::new(tokio::sync::Notify::new());
    let engine = Arc::new(engine(store.clone(), ROSTER).with_wake(wake.clone()));
    let sender = WhatsappSender::new(
        &wa,
        HashMap::from([("campo".to_string(), RoomKind::Roster)]),
        engine.clone(),
    )
    .with_graph(&wa, fake.token.clone())
    .unwrap();
    let first = Worker::new(
        store.clone(),
        vec![Arc::new(sender)],
        clock,
        config.clone(),
        "bench-0",
    )
    .with_wake(wake);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let siblings: Vec<Worker> = (1..config.workers)
        .map(|i| first.sibling(format!("bench-{i}")))
        .collect();
    let mut tasks = Vec::new();
    for w in std::iter::once(first).chain(siblings) {
        let stopped = stopped.clone();
        tasks.push(tokio::spawn(async move { w.run(stopped).await }));
    }
    // The workers are idle, as in a quiet war room, when the declaration comes.
    tokio::time::sleep(Duration::from_millis(200)).await;

    engine
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
    for t in tasks {
        t.await.unwrap();
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

async fn fan_outs() {
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
    for (burst, capacity) in [(1u32, 1u32), (2, 2), (80, 80)] {
        // The arithmetic: no burst leaves 200 slots of 1/80 s (2.5 s); a burst of 80
        // leaves 120 (1.5 s).
        let minimum = if burst <= 2 {
            ROSTER as f64 / RATE
        } else {
            (ROSTER - burst as usize) as f64 / RATE
        };
        let mut ratios = Vec::new();
        for run in 0..REPETITIONS {
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

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        webhooks().await;
        fan_outs().await;
    });
}
