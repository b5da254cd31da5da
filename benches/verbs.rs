//! The cost of each verb with 10 and with 10,000 open incidents, through the engine on SQLite
//! (parse → load → decide → one transaction with its outbox rows). Both databases are measured
//! in the same run, one command on each in turn, so drift on a shared machine hits both alike;
//! the figure is the median per command and the ratio 10,000 / 10 (target ≤ 1.2). The engine has
//! a rotation, an escalation policy, a playbook and a heartbeat, so `oncall`, `handoff`,
//! `escalate`, `check`, `playbook` and `heartbeats` do their real work. The databases are in
//! memory (`/dev/shm`) where possible, so the figures are the work, not the disk's pace.
//! Run: `cargo bench --bench verbs` (`-- --quick` for a short check, `-- --only list` for the
//! verbs whose name starts with `list`, `-- --iterations N` for longer runs, as when profiling).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use runroom::config::Config;
use runroom::engine::clock::SystemClock;
use runroom::engine::incident::{Actor, Event, Incident, Severity, TimelineEntry};
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, RoomRef};
use runroom::engine::{Engine, EngineSettings, Outcome};
use runroom::i18n::I18n;
use runroom::store::Store;
use runroom::store::sqlite::SqliteStore;

const SIZES: [i64; 2] = [10, 10_000];
/// The pause before each timed command.
const SETTLE: Duration = Duration::from_millis(1);
/// The incident `show` and `timeline` read: 60 timeline entries in both databases.
const SHOWN: i64 = 5;

/// Three linked rooms (en, en, pt-BR), and the policies the scheduling verbs act on.
const CONFIG: &str = r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"
timezone = "America/Sao_Paulo"

[[rooms]]
id = "runroom"
platform = "slack"
chat = "C0123456"
timezone = "America/Sao_Paulo"

[[rooms]]
id = "campo"
platform = "whatsapp"
chat = "1203@g.us"
language = "pt-BR"
timezone = "America/Sao_Paulo"

[[people]]
id = "joana"
name = "Joana"
slack = "U0JOANA"

[[people]]
id = "marcos"
name = "Marcos"
slack = "U0MARCOS"

[[people]]
id = "lead"
name = "Lia"
slack = "U0LEAD"

[[rotations]]
id = "ops"
timezone = "America/Sao_Paulo"
start = "2026-03-02 10:00"
people = ["joana", "marcos"]
rooms = ["console", "campo"]

[[escalation]]
severities = ["sev1", "sev2", "sev3", "sev4"]
steps = [
  { after = "0m", notify = ["oncall"] },
  { after = "30m", notify = ["lead"] },
]

[[playbooks]]
id = "checkout"
title = "Checkout down"
first_actions = ["Check the payment provider's status", "Roll back the last deploy", "Post the customer message"]

[[heartbeats]]
id = "executor"
every = "1m"

# The fresh incidents are SEV4: each resolved one has a postmortem pending, so the handoff
# preview reads a populated `incidents_postmortem_due`.
[postmortems]
sev4 = "48h"
"#;

/// One database with `open` open incidents (severities cycling, every tenth with a commander
/// "joana"), written through the store in one transaction.
async fn database(dir: &tempfile::TempDir, open: i64) -> Engine {
    let url = format!(
        "sqlite://{}",
        dir.path().join(format!("{open}.db")).display()
    );
    let store = SqliteStore::connect(&url).await.expect("sqlite");
    store.migrate().await.expect("migrate");
    let store: Arc<dyn Store> = Arc::new(store);
    let actor = Actor {
        name: "seed".into(),
        room: "console".into(),
    };
    let mut tx = store.begin().await.expect("begin");
    let now = Utc::now();
    for i in 1..=open {
        let severity = Severity::from_number((i - 1) % 4 + 1).expect("1..=4");
        let at = now - chrono::Duration::minutes(open - i + 1);
        let (mut incident, _) =
            Incident::declare(format!("Seeded {i}"), severity, None, &actor, at);
        if i % 10 == 0 {
            incident.roles.insert("commander".into(), "joana".into());
        }
        tx.insert_incident(&incident).await.expect("insert");
    }
    let entries: Vec<TimelineEntry> = (0..60)
        .map(|n| TimelineEntry {
            incident: SHOWN,
            at: now,
            actor: "seed".into(),
            room: "console".into(),
            event: Event::Note {
                text: format!("note {n}"),
            },
        })
        .collect();
    tx.append_timeline(&entries).await.expect("timeline");
    tx.commit().await.expect("commit");
    let config = Config::parse(CONFIG, "verbs bench", &[]).expect("config");
    let rooms = config.rooms().expect("rooms");
    let policies = config.policies(&rooms).expect("policies");
    Engine::new(
        store,
        Arc::new(I18n::new().expect("locales")),
        Arc::new(SystemClock),
        EngineSettings {
            heartbeats: config.heartbeats().expect("heartbeats"),
            rooms,
            policies,
            ..Default::default()
        },
    )
}

/// Where the two databases live: in memory (`/dev/shm`) where there is such a file system.
/// On this project's virtual machines the same 4 KiB write to a database's log took 8 µs or
/// 50 µs by file and by minute (`BENCHMARKS.md`), with the same system calls and CPU time for
/// both databases: on disk the medians measured the disk. In memory they measure the work.
fn databases_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    eprintln!("no /dev/shm: the databases are on disk, and the disk's pace is in the figures");
    tempfile::tempdir().expect("temp dir")
}

struct Bench {
    engines: Vec<Engine>,
    next: u64,
}

impl Bench {
    /// Runs `text` on database `db`, returns how long it took and the incident it touched. A
    /// command refused (an error answer) stops the bench unless `refused` says it is meant to
    /// be: a refusal would time the error path instead of the verb.
    async fn run(&mut self, db: usize, text: &str, refused: bool) -> (Duration, Option<i64>) {
        self.next += 1;
        let inbound = Inbound {
            event_id: format!("bench-{}", self.next),
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
            input: Input::Text(text.into()),
            received_at: Utc::now(),
        };
        let started = Instant::now();
        let outcome = self.engines[db].handle(&inbound).await.expect("engine");
        let took = started.elapsed();
        match outcome {
            Outcome::Handled { incident, ok, .. } if ok != refused => (took, incident),
            other => panic!("{text}: {other:?}"),
        }
    }
}

/// A verb: its name, the command for iteration `i` (given the incident set up for it), whether
/// it needs a fresh incident of its own (declared before it, untimed), a command that prepares
/// that incident (untimed), and whether the incident it touched is resolved after it (untimed),
/// so the number of open incidents stays as it was.
struct Verb {
    name: &'static str,
    command: fn(i: usize, fresh: Option<i64>) -> String,
    fresh: bool,
    prepare: Option<fn(fresh: i64) -> String>,
    cleanup: bool,
    /// Its command is meant to be refused (the answer explains what was wrong).
    refused: bool,
}

fn verbs() -> Vec<Verb> {
    let v = |name, fresh, command| Verb {
        name,
        command,
        fresh,
        prepare: None,
        cleanup: false,
        refused: false,
    };
    // A fresh incident of its own, set up by `prepare`, resolved afterwards.
    let own = |name, prepare, command| Verb {
        name,
        command,
        fresh: true,
        prepare,
        cleanup: true,
        refused: false,
    };
    vec![
        Verb {
            name: "declare",
            command: |i, _| format!("inc declare sev3 \"Bench {i}\""),
            fresh: false,
            prepare: None,
            cleanup: true,
            refused: false,
        },
        v("list", false, |_, _| "inc list".into()),
        v("list sev2 mine", false, |_, _| "inc list sev2 mine".into()),
        v("show", false, |_, _| format!("inc show INC-{SHOWN}")),
        v("timeline", false, |_, _| {
            format!("inc timeline INC-{SHOWN}")
        }),
        own("ack", None, |_, n| {
            format!("inc ack INC-{}", n.unwrap_or(1))
        }),
        v("update", false, |i, _| {
            format!(
                "inc update INC-{} impact=\"orders {i}\" next=15m",
                i % 8 + 1
            )
        }),
        v("note", false, |i, _| {
            format!("inc note INC-{} note {i}", i % 8 + 1)
        }),
        v("severity", false, |i, _| {
            // INC-k is seeded at SEV((k - 1) % 4 + 1); each pass over the eight moves every one
            // a step on, so the command always changes something.
            let (k, pass) = (i % 8 + 1, i / 8);
            format!("inc sev INC-{k} sev{}", (k + pass) % 4 + 1)
        }),
        v("status", false, |i, _| {
            let to = ["identified", "monitoring"][(i / 8) % 2];
            format!("inc status INC-{} {to}", i % 8 + 1)
        }),
        v("assign", false, |i, _| {
            format!("inc assign INC-{} comms @person{i}", i % 8 + 1)
        }),
        v("resolve", true, |_, n| {
            format!("inc resolve INC-{} fixed", n.unwrap_or(1))
        }),
        v("follow-up", false, |i, _| {
            format!("inc follow-up INC-{} item {i}", i % 8 + 1)
        }),
        own(
            "reopen",
            Some(|n| format!("inc resolve INC-{n}")),
            |_, n| format!("inc reopen INC-{} not fixed", n.unwrap_or(1)),
        ),
        v("snooze", false, |i, _| {
            format!("inc snooze INC-{} 30m", i % 8 + 1)
        }),
        own("escalate", None, |_, n| {
            format!("inc escalate INC-{}", n.unwrap_or(1))
        }),
        own("playbook run", None, |_, n| {
            format!("inc playbook run checkout INC-{}", n.unwrap_or(1))
        }),
        own(
            "check",
            Some(|n| format!("inc playbook run checkout INC-{n}")),
            |_, n| format!("inc check 2 INC-{}", n.unwrap_or(1)),
        ),
        v("playbook show", false, |_, _| {
            "inc playbook show checkout".into()
        }),
        Verb {
            name: "postmortem",
            command: |_, n| format!("inc postmortem INC-{} skip a bench", n.unwrap_or(1)),
            fresh: true,
            prepare: Some(|n| format!("inc resolve INC-{n}")),
            cleanup: false,
            refused: false,
        },
        v("oncall", false, |_, _| "inc oncall".into()),
        v("handoff preview", false, |_, _| {
            "inc handoff preview".into()
        }),
        v("heartbeats", false, |_, _| "inc heartbeats".into()),
        v("lang", false, |_, _| "inc lang en".into()),
        Verb {
            refused: true,
            ..v("implicit reference (which?)", false, |i, _| {
                format!("inc note servers {i}")
            })
        },
        v("help", false, |_, _| "inc help".into()),
        Verb {
            refused: true,
            ..v("unknown verb", false, |_, _| "/inc frobnicate".into())
        },
    ]
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let value_of = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let iterations = value_of("--iterations")
        .and_then(|n| n.parse().ok())
        .unwrap_or(if quick { 15 } else { 200 });
    let only = value_of("--only");
    let chosen = |verb: &Verb| {
        only.as_deref()
            .is_none_or(|name| verb.name.starts_with(name))
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = databases_dir();
        let mut engines = Vec::new();
        for open in SIZES {
            engines.push(database(&dir, open).await);
        }
        let mut bench = Bench { engines, next: 0 };
        // Warm both databases' caches and statement caches.
        for db in 0..SIZES.len() {
            for verb in verbs() {
                if !verb.fresh && !verb.cleanup {
                    bench.run(db, &(verb.command)(0, None), verb.refused).await;
                }
            }
        }
        println!(
            "| verb | {} open: p50 | {} open: p50 | ratio |",
            SIZES[0], SIZES[1]
        );
        println!("|---|---:|---:|---:|");
        let mut worst: f64 = 0.0;
        for verb in verbs().into_iter().filter(chosen) {
            let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); SIZES.len()];
            for i in 1..=iterations {
                // One command on each database in turn.
                for (db, into) in samples.iter_mut().enumerate() {
                    let fresh = if verb.fresh {
                        let (_, n) = bench
                            .run(db, "inc declare sev4 \"Bench fresh\"", false)
                            .await;
                        n
                    } else {
                        None
                    };
                    if let (Some(prepare), Some(n)) = (verb.prepare, fresh) {
                        bench.run(db, &prepare(n), false).await;
                    }
                    // What the commands before left running (a pooled connection going back,
                    // the writer's turn ending) finishes first, so it is not timed as this one.
                    tokio::time::sleep(SETTLE).await;
                    let (took, touched) =
                        bench.run(db, &(verb.command)(i, fresh), verb.refused).await;
                    into.push(took);
                    if let (true, Some(n)) = (verb.cleanup, touched) {
                        bench.run(db, &format!("inc resolve INC-{n}"), false).await;
                    }
                }
            }
            let small = median(samples[0].clone());
            let large = median(samples[1].clone());
            let ratio = large.as_secs_f64() / small.as_secs_f64();
            worst = worst.max(ratio);
            println!(
                "| {} | {:.0} µs | {:.0} µs | {:.2} |",
                verb.name,
                small.as_secs_f64() * 1e6,
                large.as_secs_f64() * 1e6,
                ratio
            );
        }
        println!(
            "\n{} iterations per verb and database; worst ratio {:.2} (target ≤ 1.2).",
            iterations, worst
        );
    });
}
