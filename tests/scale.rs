//! Bounded answers against a database with 10,000 open incidents, on every backend: `inc list`
//! (filters, paging, past the end, in Portuguese), `inc show`, `inc timeline` on a long history,
//! the "which incident?" answer of an implicit reference, and the open counts staying true as
//! commands change severities and resolve incidents.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{TestEngine, backends, engine_on, start_time};
use runroom::engine::Outcome;
use runroom::engine::incident::{Actor, Event, Incident, Severity, TimelineEntry};
use runroom::store::{OpenFilter, Store};

const OPEN: i64 = 10_000;
/// The incident whose timeline is long.
const LONG: i64 = 3;
const LONG_ENTRIES: i64 = 300;

/// INC-i: severity cycles SEV1, SEV2, SEV3, SEV4 (i = 1, 5, 9 … are SEV1), declared one minute
/// apart (so INC-1 is the oldest), and every tenth has `@Joana` as commander.
fn incident(i: i64) -> Incident {
    let severity = Severity::from_number((i - 1) % 4 + 1).expect("1..=4");
    let actor = Actor {
        name: "seed".into(),
        room: "console".into(),
    };
    let at = start_time() - Duration::minutes(OPEN - i + 1);
    let (mut incident, _) = Incident::declare(format!("Seeded {i}"), severity, None, &actor, at);
    if i % 10 == 0 {
        incident.roles.insert("commander".into(), "@Joana".into());
    }
    incident
}

/// 10,000 open incidents and a 300-entry timeline, written through the store in one
/// transaction (not 10,000 commands).
async fn seed(store: &Arc<dyn Store>) {
    let mut tx = store.begin().await.expect("begin");
    for i in 1..=OPEN {
        let number = tx.insert_incident(&incident(i)).await.expect("insert");
        assert_eq!(number, i);
    }
    let entries: Vec<TimelineEntry> = (0..LONG_ENTRIES)
        .map(|n| TimelineEntry {
            incident: LONG,
            at: start_time() - Duration::seconds(LONG_ENTRIES - n),
            actor: "seed".into(),
            room: "console".into(),
            event: Event::Note {
                text: format!("note {n}"),
            },
        })
        .collect();
    tx.append_timeline(&entries).await.expect("timeline");
    tx.commit().await.expect("commit");
}

/// The reply in `room`, and whether the command succeeded.
fn reply(outcome: &Outcome, room: &str) -> (bool, String) {
    match outcome {
        Outcome::Handled { ok, messages, .. } => {
            let text = messages
                .iter()
                .find(|m| m.room_id == room)
                .unwrap_or_else(|| panic!("no message to {room}: {outcome:?}"))
                .text
                .clone();
            (*ok, text)
        }
        other => panic!("expected a handled command, got {other:?}"),
    }
}

async fn ask(t: &TestEngine, room: &str, author: &str, text: &str) -> (bool, String) {
    reply(&t.say(room, author, text).await, room)
}

/// The incident ids of a list's item lines, in order.
fn listed(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("• "))
        .map(|l| l.split(' ').next().unwrap_or("").to_string())
        .collect()
}

fn ids(numbers: impl IntoIterator<Item = i64>) -> Vec<String> {
    numbers.into_iter().map(|n| format!("INC-{n}")).collect()
}

#[tokio::test]
async fn every_answer_is_bounded_with_ten_thousand_open_incidents() {
    for backend in backends().await {
        seed(&backend.store).await;
        let t = engine_on(&backend);
        let name = t.backend;

        // The whole list: 20 most severe, oldest first, then how many more and how to go on.
        let (ok, text) = ask(&t, "console", "joana", "inc list").await;
        assert!(ok, "[{name}] {text}");
        assert_eq!(
            listed(&text),
            ids((0..20).map(|k| 1 + 4 * k)),
            "[{name}] {text}"
        );
        assert!(
            text.contains("10000 open incidents, most severe first (page 1 of 500):"),
            "[{name}] {text}"
        );
        assert!(
            text.contains("…and 9980 more. Next page: `inc list page 2`"),
            "[{name}] {text}"
        );

        // A severity, a later page: SEV2 is INC-2, INC-6 …; page 3 starts at its 41st.
        let (ok, text) = ask(&t, "console", "joana", "inc list sev2 page 3").await;
        assert!(ok, "[{name}] {text}");
        assert_eq!(
            listed(&text),
            ids((40..60).map(|k| 2 + 4 * k)),
            "[{name}] {text}"
        );
        assert!(
            text.contains("2500 open incidents at SEV2"),
            "[{name}] {text}"
        );
        assert!(
            text.contains("…and 2440 more. Next page: `inc list sev2 page 4`"),
            "[{name}] {text}"
        );

        // Mine: `@Joana` holds a role on every tenth; "joana" is the same person.
        let (ok, text) = ask(&t, "console", "joana", "inc list mine").await;
        assert!(ok, "[{name}] {text}");
        assert_eq!(
            listed(&text),
            ids((0..20).map(|k| 10 + 20 * k)),
            "[{name}] {text}"
        );
        assert!(
            text.contains("1000 open incidents where you hold a role"),
            "[{name}] {text}"
        );
        assert!(
            text.contains("Next page: `inc list mine page 2`"),
            "[{name}] {text}"
        );
        let (_, text) = ask(&t, "console", "ben", "inc list mine").await;
        assert_eq!(
            text, "No open incidents where you hold a role.",
            "[{name}] nobody else holds one"
        );

        // Combined, in Portuguese (accents optional), answered in the room's language.
        let (ok, text) = ask(&t, "campo", "joana", "inc listar alta minhas página 2").await;
        assert!(ok, "[{name}] {text}");
        assert_eq!(
            listed(&text),
            ids((20..40).map(|k| 10 + 20 * k)),
            "[{name}] {text}"
        );
        assert!(text.contains("500 incidentes abertos"), "[{name}] {text}");
        assert!(
            text.contains("…e mais 460. Próxima página: `inc listar sev2 minhas pagina 3`"),
            "[{name}] {text}"
        );

        // The last page has no "more"; past it, the answer says how many pages there are.
        let (ok, text) = ask(&t, "console", "joana", "inc list page 500").await;
        assert!(ok, "[{name}] {text}");
        assert_eq!(listed(&text).len(), 20, "[{name}] {text}");
        assert!(!text.contains("more"), "[{name}] {text}");
        let (ok, text) = ask(&t, "console", "joana", "inc list page 501").await;
        assert!(!ok, "[{name}] {text}");
        assert!(
            text.contains(
                "There is no page 501: the 10000 matching open incidents fill 500 pages."
            ),
            "[{name}] {text}"
        );
        let (ok, text) = ask(&t, "console", "joana", "inc list page 0").await;
        assert!(!ok && text.contains("pages start at 1"), "[{name}] {text}");
        let (ok, text) = ask(&t, "console", "joana", "inc list everything").await;
        assert!(
            !ok && text.contains("“everything” is not a list filter"),
            "[{name}] {text}"
        );

        // An implicit reference reads two open numbers, then names a few and counts the rest.
        let (ok, text) = ask(&t, "console", "joana", "inc ack").await;
        assert!(!ok, "[{name}] {text}");
        assert!(
            text.contains(
                "10000 incidents are open (INC-1, INC-5, INC-9, INC-13, INC-17 and 9995 more)"
            ),
            "[{name}] {text}"
        );

        // The timeline: the latest entries, how many earlier ones, and where to see them all.
        let (ok, text) = ask(&t, "console", "joana", &format!("inc timeline INC-{LONG}")).await;
        assert!(ok, "[{name}] {text}");
        let entries: Vec<&str> = text.lines().filter(|l| l.contains("note ")).collect();
        assert_eq!(entries.len(), 25, "[{name}] {text}");
        assert!(
            entries[24].ends_with("note 299"),
            "[{name}] latest last: {text}"
        );
        assert!(
            text.contains(
                "…and 275 earlier entries. The whole timeline: `runroom incidents show INC-3`"
            ),
            "[{name}] {text}"
        );

        // Show: five follow-ups and a count, the latest five entries.
        for n in 1..=12 {
            let (ok, text) = ask(
                &t,
                "console",
                "joana",
                &format!("inc followup INC-{LONG} task {n}"),
            )
            .await;
            assert!(ok, "[{name}] {text}");
        }
        let (ok, text) = ask(&t, "console", "joana", &format!("inc show INC-{LONG}")).await;
        assert!(ok, "[{name}] {text}");
        let follow_ups = text
            .lines()
            .filter(|l| l.starts_with("Follow-up #"))
            .count();
        assert_eq!(follow_ups, 5, "[{name}] {text}");
        assert!(text.contains("…and 7 more"), "[{name}] {text}");
        let latest = text
            .lines()
            .filter(|l| l.contains(" · seed (") || l.contains(" · joana ("))
            .count();
        assert_eq!(latest, 5, "[{name}] {text}");

        // Counts follow every change: a resolve and a severity change, through commands.
        let (ok, text) = ask(&t, "console", "joana", "inc resolve INC-1 done").await;
        assert!(ok, "[{name}] {text}");
        let (ok, text) = ask(&t, "console", "joana", "inc sev INC-2 sev1").await;
        assert!(ok, "[{name}] {text}");
        let (_, text) = ask(&t, "console", "joana", "inc list sev1").await;
        assert!(
            text.contains("2500 open incidents at SEV1"),
            "[{name}] {text}"
        );
        // INC-2 (now SEV1) was declared between INC-1 (resolved) and INC-5.
        assert_eq!(listed(&text)[..3], ids([2, 5, 9])[..], "[{name}] {text}");
        let (_, text) = ask(&t, "console", "joana", "inc list").await;
        assert!(text.contains("9999 open incidents"), "[{name}] {text}");
        // Resolving drops the incident from "mine" too.
        let (_, text) = ask(&t, "console", "joana", "inc resolve INC-10 done").await;
        assert!(text.contains("INC-10"), "[{name}] {text}");
        let (_, text) = ask(&t, "console", "joana", "inc list mine").await;
        assert!(
            text.contains("999 open incidents where you hold a role"),
            "[{name}] {text}"
        );
        assert_eq!(listed(&text)[0], "INC-30", "[{name}] {text}");

        // The kept counts agree with counting the rows.
        let mut tx = backend.store.begin().await.expect("begin");
        for severity in [None, Some(Severity::Sev1), Some(Severity::Sev2)] {
            let filter = OpenFilter {
                severity,
                person: None,
            };
            let kept = tx.open_count(&filter).await.expect("count");
            let open = backend.store.open_incidents().await.expect("open");
            let counted = open
                .iter()
                .filter(|i| severity.is_none_or(|s| i.severity == s))
                .count() as i64;
            assert_eq!(kept, counted, "[{name}] {severity:?}");
        }
    }
}
