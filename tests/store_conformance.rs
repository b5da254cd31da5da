//! One conformance suite for every `Store` backend: SQLite always, Postgres when
//! `RUNROOM_TEST_POSTGRES_URL` is set.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{TestStore, backends, start_time};
use runroom::engine::incident::{Actor, Event, Incident, Severity, TimelineEntry, person_key};
use runroom::engine::room::Platform;
use runroom::i18n::Lang;
use runroom::outbox::{Rich, RichButton, RichField};
use runroom::store::{
    CardRef, Completion, JobKind, JobState, MessageKind, NewOutbound, OpenFilter, OutboxState,
    Store,
};

fn actor() -> Actor {
    Actor {
        name: "joana".into(),
        room: "console".into(),
    }
}

fn new_incident(title: &str) -> Incident {
    Incident::declare(title.into(), Severity::Sev2, None, &actor(), start_time()).0
}

fn outbound(key: &str, platform: Platform, priority: i64) -> NewOutbound {
    NewOutbound {
        idempotency_key: key.into(),
        room_id: format!("{}-room", platform.as_str()),
        platform,
        chat: "C1".into(),
        thread: None,
        kind: MessageKind::Broadcast,
        language: Lang::PtBr,
        text: format!("message {key}"),
        rich: (priority == 1).then(|| Rich {
            title: "INC-1 · SEV1".into(),
            fields: vec![RichField {
                label: "Status".into(),
                value: "investigating".into(),
            }],
            buttons: vec![RichButton {
                id: "ack:1".into(),
                label: "Ack".into(),
            }],
            name: Some("INC-1 · Checkout down".into()),
            closed: false,
        }),
        incident: Some(1),
        priority,
        created_at: start_time(),
        recipient: None,
        topic: None,
    }
}

async fn insert(store: &Arc<dyn Store>, title: &str) -> i64 {
    let mut tx = store.begin().await.unwrap();
    let n = tx.insert_incident(&new_incident(title)).await.unwrap();
    tx.commit().await.unwrap();
    n
}

#[tokio::test]
async fn incidents_are_numbered_in_order_and_round_trip() {
    for TestStore { name, store, .. } in backends().await {
        assert_eq!(store.backend(), name);
        assert_eq!(insert(&store, "first").await, 1, "[{name}]");
        assert_eq!(insert(&store, "second").await, 2, "[{name}]");
        let mut loaded = store.incident(2).await.unwrap().expect("stored");
        assert_eq!(loaded.number, 2);
        assert_eq!(loaded.title, "second");
        loaded = loaded
            .resolve(Some("done".into()), start_time() + Duration::minutes(5))
            .unwrap()
            .0;
        let mut tx = store.begin().await.unwrap();
        tx.update_incident(&loaded, None).await.unwrap();
        tx.commit().await.unwrap();
        let open = store.open_incidents().await.unwrap();
        assert_eq!(
            open.iter().map(|i| i.number).collect::<Vec<_>>(),
            [1],
            "[{name}]"
        );
        assert_eq!(
            store.incident(2).await.unwrap().unwrap(),
            loaded,
            "[{name}] exact round trip"
        );
        let recent = store.recent_incidents(10).await.unwrap();
        assert_eq!(recent.iter().map(|i| i.number).collect::<Vec<_>>(), [2, 1]);
        assert_eq!(store.incident(99).await.unwrap(), None);
    }
}

#[tokio::test]
async fn a_dropped_transaction_leaves_nothing() {
    for TestStore { name, store, .. } in backends().await {
        {
            let mut tx = store.begin().await.unwrap();
            assert!(tx.record_inbound("slack:Ev1", start_time()).await.unwrap());
            tx.insert_incident(&new_incident("half")).await.unwrap();
            tx.enqueue(&[outbound("k1", Platform::Slack, 1)])
                .await
                .unwrap();
            // dropped without commit
        }
        assert!(
            store.recent_incidents(10).await.unwrap().is_empty(),
            "[{name}]"
        );
        assert!(
            store
                .pending_outbox(Platform::Slack, 10)
                .await
                .unwrap()
                .is_empty(),
            "[{name}]"
        );
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.record_inbound("slack:Ev1", start_time()).await.unwrap(),
            "[{name}] key was rolled back"
        );
        // The numbering did not advance either: the next incident is still INC-1.
        assert_eq!(
            tx.insert_incident(&new_incident("whole")).await.unwrap(),
            1,
            "[{name}]"
        );
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn inbound_keys_and_outbox_keys_are_idempotent() {
    for TestStore { name, store, .. } in backends().await {
        let mut tx = store.begin().await.unwrap();
        assert!(
            tx.record_inbound("whatsapp:wamid.1", start_time())
                .await
                .unwrap()
        );
        assert!(
            !tx.record_inbound("whatsapp:wamid.1", start_time())
                .await
                .unwrap(),
            "[{name}]"
        );
        tx.enqueue(&[
            outbound("a", Platform::Slack, 3),
            outbound("b", Platform::Slack, 1),
            outbound("a", Platform::Slack, 3),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[outbound("b", Platform::Slack, 1)])
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let pending = store.pending_outbox(Platform::Slack, 10).await.unwrap();
        let keys: Vec<&str> = pending
            .iter()
            .map(|r| r.message.idempotency_key.as_str())
            .collect();
        assert_eq!(
            keys,
            ["b", "a"],
            "[{name}] one row per key, most urgent first"
        );
        assert_eq!(
            pending[0].message,
            outbound("b", Platform::Slack, 1),
            "[{name}] round trip"
        );
        assert!(
            store
                .pending_outbox(Platform::Telegram, 10)
                .await
                .unwrap()
                .is_empty()
        );

        let claimed = store
            .claim_outbox(
                Platform::Slack,
                "w1",
                start_time(),
                std::time::Duration::from_secs(30),
                1,
            )
            .await
            .unwrap();
        assert_eq!(claimed[0].id, pending[0].id);
        let sent = Completion::Sent {
            platform_message_id: Some("m1".into()),
        };
        assert!(
            store
                .finish_outbox(claimed[0].id, "w1", &sent, start_time())
                .await
                .unwrap()
        );
        let left = store.pending_outbox(Platform::Slack, 10).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].message.idempotency_key, "a");
        let row = store.outbox_row(claimed[0].id).await.unwrap().unwrap();
        assert_eq!(row.state, OutboxState::Sent);
        assert_eq!(row.platform_message_id.as_deref(), Some("m1"));
        assert_eq!(row.attempts, 1);
    }
}

#[tokio::test]
async fn timeline_is_append_only_and_ordered() {
    for TestStore { name, store, .. } in backends().await {
        let number = insert(&store, "t").await;
        let entries: Vec<TimelineEntry> = (0..7)
            .map(|i| TimelineEntry {
                incident: number,
                at: start_time() + Duration::minutes(i),
                actor: "joana".into(),
                room: "console".into(),
                event: Event::Note {
                    text: format!("note {i}"),
                },
            })
            .collect();
        let mut tx = store.begin().await.unwrap();
        tx.append_timeline(&entries[..4]).await.unwrap();
        tx.append_timeline(&entries[4..]).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store.timeline(number, 100).await.unwrap(),
            entries,
            "[{name}]"
        );
        assert_eq!(
            store.timeline(number, 3).await.unwrap(),
            entries[4..].to_vec(),
            "[{name}] latest three"
        );
    }
}

#[tokio::test]
async fn room_languages_persist() {
    for TestStore { name, store, .. } in backends().await {
        let mut tx = store.begin().await.unwrap();
        tx.set_room_language("campo", Lang::Es, start_time())
            .await
            .unwrap();
        tx.set_room_language("campo", Lang::PtBr, start_time())
            .await
            .unwrap();
        tx.set_room_language("runroom", Lang::En, start_time())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let mut langs = tx.room_languages().await.unwrap();
        langs.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            langs,
            vec![
                ("campo".to_string(), Lang::PtBr),
                ("runroom".to_string(), Lang::En)
            ],
            "[{name}]"
        );
    }
}

#[tokio::test]
async fn concurrent_declarations_get_distinct_numbers() {
    for TestStore { name, store, .. } in backends().await {
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { insert(&store, &format!("c{i}")).await })
            })
            .collect();
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.unwrap());
        }
        numbers.sort();
        assert_eq!(numbers, (1..=8).collect::<Vec<i64>>(), "[{name}]");
    }
}

#[tokio::test]
async fn role_rows_are_rebuilt_with_the_keys_the_engine_uses() {
    for test in backends().await {
        let name = test.name;
        let store = &test.store;
        let mut held = new_incident("Checkout down");
        held.roles.insert("commander".into(), "@Ângela".into());
        held.roles
            .insert("comms".into(), "<@U0ABC|Bruno Díaz>".into());
        let mut tx = store.begin().await.unwrap();
        let number = tx.insert_incident(&held).await.unwrap();
        tx.commit().await.unwrap();
        // As migration 6 filed them on Postgres (every letter lowercased), then migration 9
        // run again over them.
        let sql = format!(
            "UPDATE incident_roles SET person = 'ângela' WHERE person = 'Ângela'; \
             DELETE FROM incident_roles WHERE number = {number} AND person LIKE '<@%'; \
             DELETE FROM _sqlx_migrations WHERE version = 9;"
        );
        common::raw_sql(&test, &sql, &sql).await;
        store.migrate().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        for (holder, expected) in [
            ("Ângela", 1),
            ("ângela", 0),
            ("<@U0ABC>", 1),
            ("<@u0abc>", 1),
        ] {
            let filter = OpenFilter {
                severity: None,
                person: Some(person_key(holder)),
            };
            assert_eq!(
                tx.open_count(&filter).await.unwrap(),
                expected,
                "[{name}] {holder} as {:?}",
                person_key(holder)
            );
        }
    }
}

/// A page of `inc list` and its total come from one read, with each filter; a page past the end
/// still gives the total and no line.
#[tokio::test]
async fn a_list_page_reads_its_total_and_lines_with_each_filter() {
    for TestStore { name, store, .. } in backends().await {
        let mut tx = store.begin().await.unwrap();
        // Declared a minute apart: rank order is severity, then age.
        let plan = [
            ("Checkout down", Severity::Sev2, Some("@ana")),
            ("Login slow", Severity::Sev1, None),
            ("Search stale", Severity::Sev2, None),
            ("Payments failing", Severity::Sev1, Some("@ana")),
            ("Old and done", Severity::Sev1, Some("@ana")),
        ];
        for (minute, (title, severity, commander)) in plan.into_iter().enumerate() {
            let mut incident = Incident::declare(
                title.into(),
                severity,
                None,
                &actor(),
                start_time() + Duration::minutes(minute as i64),
            )
            .0;
            if let Some(person) = commander {
                incident.roles.insert("commander".into(), person.into());
            }
            let number = tx.insert_incident(&incident).await.unwrap();
            if title.starts_with("Old") {
                let resolved = Incident {
                    number,
                    ..incident.resolve(None, start_time()).unwrap().0
                };
                tx.update_incident(&resolved, None).await.unwrap();
            }
        }
        let ana = Some(person_key("@ana"));
        // Severity, person, offset, limit; then the total and the page's titles.
        type Case = (
            Option<Severity>,
            Option<String>,
            i64,
            i64,
            i64,
            &'static [&'static str],
        );
        let cases: [Case; 8] = [
            (
                None,
                None,
                0,
                3,
                4,
                &["Login slow", "Payments failing", "Checkout down"],
            ),
            (None, None, 3, 3, 4, &["Search stale"]),
            (None, None, 4, 3, 4, &[]),
            (None, None, 9, 3, 4, &[]),
            (Some(Severity::Sev1), ana.clone(), 1, 5, 1, &[]),
            (
                Some(Severity::Sev2),
                None,
                0,
                5,
                2,
                &["Checkout down", "Search stale"],
            ),
            (
                None,
                ana.clone(),
                0,
                5,
                2,
                &["Payments failing", "Checkout down"],
            ),
            (
                Some(Severity::Sev1),
                ana.clone(),
                0,
                5,
                1,
                &["Payments failing"],
            ),
        ];
        for (severity, person, offset, limit, total, titles) in cases {
            let filter = OpenFilter { severity, person };
            let page = tx.open_listing(&filter, offset, limit).await.unwrap();
            let got: Vec<&str> = page.items.iter().map(|line| line.title.as_str()).collect();
            assert_eq!(
                (page.total, got.as_slice()),
                (total, titles),
                "[{name}] {filter:?} from {offset}"
            );
        }
        let first = tx.open_listing(&OpenFilter::default(), 0, 1).await.unwrap();
        let line = &first.items[0];
        assert_eq!(
            (line.number, line.severity, line.status, line.declared_at),
            (
                2,
                Severity::Sev1,
                runroom::engine::incident::Status::Investigating,
                start_time() + Duration::minutes(1)
            ),
            "[{name}] a line carries its row's columns"
        );
    }
}

#[tokio::test]
async fn migrations_are_idempotent_and_ping_works() {
    for TestStore { name, store, .. } in backends().await {
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("[{name}] second migrate: {e}"));
        store.ping().await.unwrap();
    }
}

/// A send whose worker stopped is in doubt when claimed again; given back unsent (its lookup
/// could not be made) it stays so, and once it failed a send of its own it is not.
#[tokio::test]
async fn a_send_of_unknown_outcome_stays_in_doubt_until_it_is_tried() {
    let lease = std::time::Duration::from_secs(30);
    for TestStore { name, store, .. } in backends().await {
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[outbound("doubt", Platform::Slack, 2)])
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let mut now = start_time();
        let claim = async |worker: &str, at| {
            let rows = store
                .claim_outbox(Platform::Slack, worker, at, lease, 10)
                .await
                .unwrap();
            assert_eq!(rows.len(), 1, "[{name}]");
            rows[0].clone()
        };
        assert!(!claim("w1", now).await.in_doubt, "[{name}] a first claim");
        now += Duration::seconds(31);
        let row = claim("w2", now).await;
        assert!(row.in_doubt, "[{name}] w1 stopped mid-send");
        let back = Completion::Release { at: now };
        assert!(store.finish_outbox(row.id, "w2", &back, now).await.unwrap());
        let row = claim("w3", now).await;
        assert!(row.in_doubt, "[{name}] given back unsent, still in doubt");
        let failed = Completion::Retry {
            at: now,
            error: "slack: internal_error".into(),
        };
        assert!(
            store
                .finish_outbox(row.id, "w3", &failed, now)
                .await
                .unwrap()
        );
        assert!(
            !claim("w4", now).await.in_doubt,
            "[{name}] its own send failed"
        );
    }
}

#[tokio::test]
async fn claims_are_exclusive_leased_and_fenced() {
    let lease = std::time::Duration::from_secs(30);
    for TestStore { name, store, .. } in backends().await {
        let later = NewOutbound {
            created_at: start_time() + Duration::minutes(5),
            ..outbound("later", Platform::Whatsapp, 2)
        };
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[
            outbound("a", Platform::Whatsapp, 2),
            outbound("b", Platform::Whatsapp, 2),
            later,
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let now = start_time();
        // "later" is not due yet (next_attempt_at = its created_at).
        let first = store
            .claim_outbox(Platform::Whatsapp, "w1", now, lease, 10)
            .await
            .unwrap();
        assert_eq!(first.len(), 2, "[{name}]");
        assert!(
            first
                .iter()
                .all(|r| r.state == OutboxState::Sending && r.attempts == 1 && !r.in_doubt)
        );
        let second = store
            .claim_outbox(Platform::Whatsapp, "w2", now, lease, 10)
            .await
            .unwrap();
        assert!(
            second.is_empty(),
            "[{name}] claimed rows are not claimed twice"
        );

        // w1 dies; after its lease w2 takes the rows over, and w1's late result is refused.
        let after_lease = now + Duration::seconds(31);
        let taken = store
            .claim_outbox(Platform::Whatsapp, "w2", after_lease, lease, 10)
            .await
            .unwrap();
        assert_eq!(taken.len(), 2, "[{name}] expired leases are reclaimed");
        assert_eq!(taken[0].attempts, 2);
        assert!(
            taken.iter().all(|r| r.in_doubt),
            "[{name}] a send whose worker stopped has an unknown outcome"
        );
        let done = Completion::Sent {
            platform_message_id: None,
        };
        assert!(
            !store
                .finish_outbox(taken[0].id, "w1", &done, after_lease)
                .await
                .unwrap(),
            "[{name}] fenced"
        );
        assert!(
            store
                .finish_outbox(taken[0].id, "w2", &done, after_lease)
                .await
                .unwrap()
        );

        let retry = Completion::Retry {
            at: after_lease + Duration::seconds(10),
            error: "whatsapp error 130429".into(),
        };
        assert!(
            store
                .finish_outbox(taken[1].id, "w2", &retry, after_lease)
                .await
                .unwrap()
        );
        let row = store.outbox_row(taken[1].id).await.unwrap().unwrap();
        assert_eq!(
            (row.state.as_str(), row.last_error.as_deref()),
            ("failed", Some("whatsapp error 130429"))
        );
        assert_eq!(
            store.next_due(Platform::Whatsapp).await.unwrap(),
            Some(after_lease + Duration::seconds(10)),
            "[{name}] the failed row's retry is the next thing due"
        );

        // Released rows do not count an attempt; dead rows can be retried.
        let again = store
            .claim_outbox(
                Platform::Whatsapp,
                "w3",
                after_lease + Duration::minutes(10),
                lease,
                10,
            )
            .await
            .unwrap();
        assert_eq!(again.len(), 2);
        let release = Completion::Release {
            at: after_lease + Duration::minutes(20),
        };
        assert!(
            store
                .finish_outbox(again[0].id, "w3", &release, after_lease)
                .await
                .unwrap()
        );
        let dead = Completion::Dead {
            reason: "whatsapp error 131026".into(),
        };
        assert!(
            store
                .finish_outbox(again[1].id, "w3", &dead, after_lease)
                .await
                .unwrap()
        );
        let released = store.outbox_row(again[0].id).await.unwrap().unwrap();
        assert_eq!(released.attempts, again[0].attempts - 1, "[{name}]");
        let dead_rows = store.outbox_in_state(OutboxState::Dead, 10).await.unwrap();
        assert_eq!(dead_rows.len(), 1);
        assert_eq!(
            dead_rows[0].last_error.as_deref(),
            Some("whatsapp error 131026")
        );
        assert!(
            store
                .retry_dead(dead_rows[0].id, after_lease)
                .await
                .unwrap()
        );
        assert!(
            !store
                .retry_dead(dead_rows[0].id, after_lease)
                .await
                .unwrap(),
            "only dead rows"
        );
        assert_eq!(
            store
                .outbox_row(dead_rows[0].id)
                .await
                .unwrap()
                .unwrap()
                .state,
            OutboxState::Pending
        );

        assert_eq!(
            store
                .sent_since(Platform::Whatsapp, start_time())
                .await
                .unwrap(),
            1
        );
        let stats = store.outbox_stats().await.unwrap();
        let count = |state: OutboxState| {
            stats
                .iter()
                .find(|s| s.state == state)
                .map_or(0, |s| s.count)
        };
        assert_eq!(
            (count(OutboxState::Sent), count(OutboxState::Pending)),
            (1, 2),
            "[{name}] {stats:?}"
        );
    }
}

#[tokio::test]
async fn holds_count_each_message_once_and_settings_persist() {
    for TestStore { name, store, .. } in backends().await {
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[
            outbound("a", Platform::Telegram, 2),
            outbound("b", Platform::Telegram, 2),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            store
                .hold_outbox(Platform::Telegram, start_time(), "mode_off")
                .await
                .unwrap(),
            2,
            "[{name}]"
        );
        assert_eq!(
            store
                .hold_outbox(Platform::Telegram, start_time(), "mode_off")
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .hold_outbox(Platform::Telegram, start_time(), "daily_limit")
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .pending_outbox(Platform::Telegram, 10)
                .await
                .unwrap()
                .len(),
            2,
            "held, not dropped"
        );

        assert_eq!(store.setting("sending_mode").await.unwrap(), None);
        store
            .set_setting("sending_mode", "off", start_time())
            .await
            .unwrap();
        store
            .set_setting("sending_mode", "dry-run", start_time())
            .await
            .unwrap();
        assert_eq!(
            store.setting("sending_mode").await.unwrap().as_deref(),
            Some("dry-run")
        );
    }
}

/// Six workers claim with `claim` (one call: the ids it got) until nothing is left; returns how
/// many claims there were and how many distinct ids.
async fn claim_in_parallel<F, Fut>(store: &Arc<dyn Store>, claim: F) -> (usize, usize)
where
    F: Fn(Arc<dyn Store>, String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Vec<i64>> + Send,
{
    let tasks: Vec<_> = (0..6)
        .map(|w| {
            let (store, claim) = (store.clone(), claim.clone());
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = claim(store.clone(), format!("w{w}")).await;
                    if got.is_empty() {
                        return mine;
                    }
                    mine.extend(got);
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = all.len();
    all.sort();
    all.dedup();
    (total, all.len())
}

#[tokio::test]
async fn concurrent_claims_never_share_a_row() {
    for TestStore { name, store, .. } in backends().await {
        let rows: Vec<NewOutbound> = (0..300)
            .map(|i| outbound(&format!("m{i}"), Platform::Slack, 2))
            .collect();
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&rows).await.unwrap();
        tx.commit().await.unwrap();
        let claimed = claim_in_parallel(&store, |store, worker| async move {
            let lease = std::time::Duration::from_secs(30);
            let got = store.claim_outbox(Platform::Slack, &worker, start_time(), lease, 7);
            got.await.unwrap().into_iter().map(|r| r.id).collect()
        })
        .await;
        assert_eq!(
            claimed,
            (300, 300),
            "[{name}] every row claimed exactly once"
        );
    }
}

#[tokio::test]
async fn a_cards_place_is_kept_before_its_message_and_closes_with_newer_rows() {
    for TestStore { name, store, .. } in backends().await {
        // A topic made before the card message was posted (a crash in between reuses it).
        let place = CardRef {
            thread: Some("77".into()),
            ..CardRef::new("", 0)
        };
        store
            .save_card(Platform::Telegram, "-100", 7, &place, start_time())
            .await
            .unwrap();
        let saved = store.card(Platform::Telegram, "-100", 7).await.unwrap();
        assert_eq!(
            saved.as_ref().map(CardRef::is_posted),
            Some(false),
            "{name}"
        );
        let posted = CardRef {
            thread: Some("other".into()),
            ..CardRef::new("501", 10)
        };
        store
            .save_card(Platform::Telegram, "-100", 7, &posted, start_time())
            .await
            .unwrap();
        let resolved = CardRef {
            closed: true,
            ..CardRef::new("502", 12)
        };
        store
            .save_card(Platform::Telegram, "-100", 7, &resolved, start_time())
            .await
            .unwrap();
        assert_eq!(
            store.card(Platform::Telegram, "-100", 7).await.unwrap(),
            Some(CardRef {
                thread: Some("77".into()),
                closed: true,
                ..CardRef::new("501", 12)
            }),
            "{name}: the first place and message stay; the newest row says whether it is closed"
        );

        // Rows still to send that carry the card: a card can wait for the newest.
        let card_row = |key: &str| NewOutbound {
            platform: Platform::Telegram,
            chat: "-100".into(),
            ..outbound(key, Platform::Telegram, 1)
        };
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[
            card_row("c1"),
            card_row("c2"),
            outbound("plain", Platform::Telegram, 2),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let pending = store.pending_outbox(Platform::Telegram, 10).await.unwrap();
        let id = |key: &str| {
            pending
                .iter()
                .find(|r| r.message.idempotency_key == key)
                .map(|r| r.id)
                .expect("queued")
        };
        let newer = |after: i64| store.newer_card_row(Platform::Telegram, "-100", 1, after);
        assert!(newer(id("c1")).await.unwrap(), "{name}");
        assert!(
            !newer(id("c2")).await.unwrap(),
            "{name}: nothing newer carries the card"
        );
        assert!(
            !store
                .newer_card_row(Platform::Telegram, "-100", 2, 0)
                .await
                .unwrap(),
            "{name}: another incident's card"
        );
    }
}

#[tokio::test]
async fn a_card_keeps_its_message_and_only_moves_forward() {
    for TestStore { name, store, .. } in backends().await {
        assert_eq!(
            store.card(Platform::Slack, "C1", 7).await.unwrap(),
            None,
            "{name}"
        );
        let first = CardRef::new("1700000000.000100", 10);
        store
            .save_card(Platform::Slack, "C1", 7, &first, start_time())
            .await
            .unwrap();
        let newer = CardRef::new("1700000000.000999", 12);
        store
            .save_card(Platform::Slack, "C1", 7, &newer, start_time())
            .await
            .unwrap();
        let older = CardRef::new("ignored", 11);
        store
            .save_card(Platform::Slack, "C1", 7, &older, start_time())
            .await
            .unwrap();
        assert_eq!(
            store.card(Platform::Slack, "C1", 7).await.unwrap(),
            Some(CardRef::new("1700000000.000100", 12)),
            "{name}: the first message stays, the newest row wins"
        );
        assert_eq!(
            store.card(Platform::Slack, "C2", 7).await.unwrap(),
            None,
            "{name}"
        );

        assert_eq!(
            store.person_name(Platform::Slack, "U1").await.unwrap(),
            None
        );
        store
            .save_person(Platform::Slack, "U1", "Ana", start_time())
            .await
            .unwrap();
        store
            .save_person(Platform::Slack, "U1", "Ana Lima", start_time())
            .await
            .unwrap();
        assert_eq!(
            store
                .person_name(Platform::Slack, "U1")
                .await
                .unwrap()
                .as_deref(),
            Some("Ana Lima"),
            "{name}"
        );
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.person_name(Platform::Slack, "U1")
                .await
                .unwrap()
                .as_deref(),
            Some("Ana Lima")
        );
        assert_eq!(
            tx.person_name(Platform::Telegram, "U1").await.unwrap(),
            None
        );
    }
}

#[tokio::test]
async fn a_contact_window_runs_from_the_latest_message_and_rolls_back_with_its_unit() {
    for TestStore { name, store, .. } in backends().await {
        let at = |minutes| start_time() + Duration::minutes(minutes);
        assert_eq!(
            store.contact(Platform::Whatsapp, "+5511").await.unwrap(),
            None
        );
        for (seen_as, minutes) in [("5511", 10), ("older", 5)] {
            let mut tx = store.begin().await.unwrap();
            tx.record_contact(Platform::Whatsapp, "+5511", seen_as, at(minutes))
                .await
                .unwrap();
            tx.commit().await.unwrap();
        }
        let seen = store.contact(Platform::Whatsapp, "+5511").await.unwrap();
        assert_eq!(
            seen.map(|c| (c.seen_as, c.last_inbound_at)),
            Some(("5511".to_string(), at(10))),
            "[{name}] a late webhook never moves the window back"
        );

        // Visible once its unit commits, gone when it rolls back.
        let mut tx = store.begin().await.unwrap();
        tx.record_contact(Platform::Whatsapp, "+5511", "551199", at(20))
            .await
            .unwrap();
        tx.record_contact(Platform::Whatsapp, "+5522", "5522", at(20))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let seen = store.contact(Platform::Whatsapp, "+5511").await.unwrap();
        assert_eq!(
            seen.map(|c| (c.seen_as, c.last_inbound_at)),
            Some(("551199".to_string(), at(20))),
            "[{name}]"
        );
        let mut tx = store.begin().await.unwrap();
        tx.record_contact(Platform::Whatsapp, "+5533", "5533", at(20))
            .await
            .unwrap();
        drop(tx);
        assert_eq!(
            store.contact(Platform::Whatsapp, "+5533").await.unwrap(),
            None
        );
        assert_eq!(store.contact(Platform::Slack, "+5522").await.unwrap(), None);

        // Closing forgets messages up to a time; a later message keeps the window open.
        let mut tx = store.begin().await.unwrap();
        tx.close_contact_window(Platform::Whatsapp, "+5511", at(15))
            .await
            .unwrap();
        tx.close_contact_window(Platform::Whatsapp, "+5522", at(20))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let kept = store.contact(Platform::Whatsapp, "+5511").await.unwrap();
        assert_eq!(kept.map(|c| c.last_inbound_at), Some(at(20)), "[{name}]");
        let closed = store.contact(Platform::Whatsapp, "+5522").await.unwrap();
        assert_eq!(
            closed.map(|c| (c.seen_as, c.last_inbound_at.timestamp_millis())),
            Some(("5522".to_string(), 0)),
            "[{name}] a closed window keeps the address the platform knows"
        );
        let mut tx = store.begin().await.unwrap();
        tx.close_contact_window(Platform::Whatsapp, "+5511", at(20))
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let closed = store.contact(Platform::Whatsapp, "+5511").await.unwrap();
        assert_eq!(
            closed.map(|c| c.last_inbound_at.timestamp_millis()),
            Some(0)
        );
    }
}

fn job(key: &str, subject: &str, due_in_minutes: i64) -> runroom::store::NewJob {
    runroom::store::NewJob {
        kind: JobKind::Reminder,
        key: key.into(),
        subject: subject.into(),
        due_at: start_time() + Duration::minutes(due_in_minutes),
        payload: "{}".into(),
    }
}

async fn plan(store: &Arc<dyn Store>, jobs: &[runroom::store::NewJob]) {
    let mut tx = store.begin().await.unwrap();
    tx.schedule_jobs(jobs, start_time()).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn a_job_is_planned_once_claimed_when_due_and_completed_by_its_holder_only() {
    let lease = std::time::Duration::from_secs(60);
    for TestStore { name, store, .. } in backends().await {
        plan(
            &store,
            &[job("a", "incident:1", 5), job("b", "incident:2", 10)],
        )
        .await;
        // Planning the same occurrence again (another replica, a restart) changes nothing.
        plan(&store, &[job("a", "incident:1", 5)]).await;
        assert_eq!(
            store
                .jobs_in_state(JobState::Pending, 10)
                .await
                .unwrap()
                .len(),
            2,
            "{name}"
        );
        assert_eq!(
            store.next_job_at().await.unwrap(),
            Some(start_time() + Duration::minutes(5))
        );

        let now = start_time() + Duration::minutes(5);
        let claimed = store.claim_jobs("w1", now, lease, 10).await.unwrap();
        assert_eq!(
            claimed.iter().map(|j| j.key.as_str()).collect::<Vec<_>>(),
            ["a"],
            "{name}: only what is due"
        );
        assert!(
            store
                .claim_jobs("w2", now, lease, 10)
                .await
                .unwrap()
                .is_empty(),
            "{name}: held"
        );

        // The lease ends: another worker takes it over, and the first can no longer complete it.
        let later = now + Duration::minutes(2);
        let taken = store.claim_jobs("w2", later, lease, 10).await.unwrap();
        assert_eq!(taken.len(), 1, "{name}");
        assert_eq!(taken[0].attempts, 2);
        let mut tx = store.begin().await.unwrap();
        assert!(
            !tx.complete_job(taken[0].id, "w1", later).await.unwrap(),
            "{name}: fenced"
        );
        assert!(tx.complete_job(taken[0].id, "w2", later).await.unwrap());
        tx.commit().await.unwrap();
        let done = store.job("a").await.unwrap().unwrap();
        assert_eq!((done.state.as_str(), done.fired_at), ("done", Some(later)));

        // A fired occurrence is never planned again; a cancelled one comes back when re-planned.
        plan(&store, &[job("a", "incident:1", 5)]).await;
        assert_eq!(
            store.job("a").await.unwrap().unwrap().state,
            JobState::Done,
            "{name}"
        );
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.cancel_jobs("incident:2", JobKind::Reminder)
                .await
                .unwrap(),
            1
        );
        tx.commit().await.unwrap();
        assert_eq!(
            store.job("b").await.unwrap().unwrap().state,
            JobState::Cancelled
        );
        plan(&store, &[job("b", "incident:2", 10)]).await;
        assert_eq!(
            store.job("b").await.unwrap().unwrap().state,
            JobState::Pending,
            "{name}"
        );

        // A failed attempt waits for its retry; out of attempts, it is dead.
        let due = start_time() + Duration::minutes(10);
        let b = store
            .claim_jobs("w1", due, lease, 10)
            .await
            .unwrap()
            .remove(0);
        let retry = due + Duration::seconds(10);
        assert!(
            store
                .fail_job(b.id, "w1", "database is down", Some(retry))
                .await
                .unwrap()
        );
        assert!(
            store
                .claim_jobs("w1", due, lease, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let b = store
            .claim_jobs("w1", retry, lease, 10)
            .await
            .unwrap()
            .remove(0);
        assert!(
            store
                .fail_job(b.id, "w1", "still down", None)
                .await
                .unwrap()
        );
        let dead = store.job("b").await.unwrap().unwrap();
        assert_eq!(
            (dead.state.as_str(), dead.last_error.as_deref()),
            ("dead", Some("still down")),
            "{name}"
        );
    }
}

#[tokio::test]
async fn concurrent_job_claims_never_share_a_job() {
    for TestStore { name, store, .. } in backends().await {
        let jobs: Vec<_> = (0..200)
            .map(|i| job(&format!("j{i}"), &format!("incident:{i}"), 0))
            .collect();
        plan(&store, &jobs).await;
        let claimed = claim_in_parallel(&store, |store, worker| async move {
            let lease = std::time::Duration::from_secs(60);
            let got = store.claim_jobs(&worker, start_time(), lease, 7);
            got.await.unwrap().into_iter().map(|j| j.id).collect()
        })
        .await;
        assert_eq!(
            claimed,
            (200, 200),
            "[{name}] every job claimed exactly once"
        );
    }
}

#[tokio::test]
async fn the_dashboards_search_filters_and_orders_on_every_backend() {
    use runroom::engine::incident::Status;
    use runroom::store::{IncidentSearch, StatusFilter};
    for TestStore { name, store, .. } in backends().await {
        let mut tx = store.begin().await.unwrap();
        let at = start_time();
        for (i, (title, severity, resolved)) in [
            ("Checkout down", Severity::Sev1, false),
            ("Search slow 100%_done", Severity::Sev3, false),
            ("Login errors", Severity::Sev2, true),
            ("Old outage", Severity::Sev1, true),
        ]
        .into_iter()
        .enumerate()
        {
            let declared = at + Duration::minutes(i as i64);
            let (mut incident, _) =
                Incident::declare(title.into(), severity, None, &actor(), declared);
            if resolved {
                incident.status = Status::Resolved;
                // Login errors (INC-3) resolved after the old outage (INC-4).
                incident.resolved_at = Some(at + Duration::minutes(if i == 2 { 50 } else { 40 }));
            }
            tx.insert_incident(&incident).await.unwrap();
        }
        tx.commit().await.unwrap();
        let found = |status, severity, text: Option<&str>| {
            let store = store.clone();
            let search = IncidentSearch {
                status,
                severity,
                text: text.map(str::to_string),
            };
            async move {
                let page = store.search_incidents(&search, 0, 10).await.unwrap();
                assert_eq!(page.total, page.items.len() as i64, "[{name}] {search:?}");
                page.items.iter().map(|i| i.number).collect::<Vec<_>>()
            }
        };
        assert_eq!(
            found(StatusFilter::Open, None, None).await,
            [1, 2],
            "[{name}]"
        );
        assert_eq!(
            found(StatusFilter::Only(Status::Resolved), None, None).await,
            [3, 4],
            "[{name}] latest resolved first"
        );
        assert_eq!(
            found(StatusFilter::Any, None, None).await,
            [1, 2, 3, 4],
            "[{name}] open first, then resolved"
        );
        assert_eq!(
            found(StatusFilter::Any, Some(Severity::Sev1), None).await,
            [1, 4]
        );
        assert_eq!(
            found(StatusFilter::Any, None, Some("LOGIN")).await,
            [3],
            "[{name}]"
        );
        assert_eq!(
            found(StatusFilter::Any, None, Some("INC-4")).await,
            [4],
            "[{name}]"
        );
        assert_eq!(
            found(StatusFilter::Any, None, Some("0%_")).await,
            [2],
            "[{name}]"
        );
        assert_eq!(
            found(StatusFilter::Any, None, Some("0%x")).await,
            Vec::<i64>::new(),
            "[{name}] % and _ are literal"
        );
        assert_eq!(
            found(
                StatusFilter::Only(Status::Investigating),
                Some(Severity::Sev3),
                None
            )
            .await,
            [2]
        );
        let past = store
            .search_incidents(&IncidentSearch::default(), 5, 10)
            .await
            .unwrap();
        assert_eq!(
            (past.items.len(), past.total),
            (0, 2),
            "[{name}] past the end"
        );
    }
}

#[tokio::test]
async fn pending_postmortems_are_read_by_when_they_fall_due() {
    use runroom::engine::incident::{PostmortemOutcome, Status};
    for backend in backends().await {
        let store = &backend.store;
        let t0 = start_time();
        // (title, open?, due in hours, recorded?): only resolved, unrecorded ones are pending.
        let cases = [
            ("due in 5 h", false, Some(5), false),
            ("open, due set", true, Some(1), false),
            ("due in 2 h", false, Some(2), false),
            ("written", false, Some(1), true),
            ("no postmortem", false, None, false),
            ("due in 30 h", false, Some(30), false),
            ("due in 3 h", false, Some(3), false),
        ];
        let mut tx = store.begin().await.expect("begin");
        for (title, open, due, recorded) in cases {
            let mut incident = new_incident(title);
            if !open {
                incident.status = Status::Resolved;
                incident.resolved_at = Some(t0);
            }
            incident.postmortem_due_at = due.map(|h| t0 + Duration::hours(h));
            if recorded {
                incident.postmortem = Some(PostmortemOutcome {
                    done: true,
                    text: "https://wiki.example/pm".into(),
                    at: t0,
                });
            }
            tx.insert_incident(&incident).await.expect("insert");
        }
        tx.commit().await.expect("commit");

        let since = t0 - Duration::days(90);
        let due = store
            .postmortems_due(since, t0 + Duration::hours(24), 2)
            .await
            .expect("due");
        let titles: Vec<&str> = due.items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(titles, ["due in 2 h", "due in 3 h"], "[{}]", backend.name);
        assert_eq!(due.total, 3, "[{}] the 5 h one is counted", backend.name);

        // Writing it takes it off; declared before `since`, it is not read.
        let mut written = due.items[0].clone();
        written.postmortem = Some(PostmortemOutcome {
            done: false,
            text: "duplicate of INC-1".into(),
            at: t0,
        });
        let mut tx = store.begin().await.expect("begin");
        tx.update_incident(&written, Some(&due.items[0]))
            .await
            .expect("update");
        tx.commit().await.expect("commit");
        let due = store
            .postmortems_due(since, t0 + Duration::hours(24), 10)
            .await
            .expect("due");
        assert_eq!(due.total, 2, "[{}]", backend.name);
        let later = store
            .postmortems_due(t0 + Duration::seconds(1), t0 + Duration::hours(48), 10)
            .await
            .expect("due");
        assert_eq!(later.total, 0, "[{}]", backend.name);
    }
}

#[tokio::test]
async fn migration_16_finds_the_pending_postmortems_in_the_states() {
    use runroom::engine::incident::{PostmortemOutcome, Status};
    for test in backends().await {
        let store = &test.store;
        let t0 = start_time();
        let mut tx = store.begin().await.expect("begin");
        for (title, recorded) in [("pending", false), ("written", true)] {
            let mut incident = new_incident(title);
            incident.status = Status::Resolved;
            incident.resolved_at = Some(t0);
            incident.postmortem_due_at = Some(t0 + Duration::hours(48));
            incident.postmortem = recorded.then(|| PostmortemOutcome {
                done: true,
                text: "https://wiki.example/pm".into(),
                at: t0,
            });
            tx.insert_incident(&incident).await.expect("insert");
        }
        tx.commit().await.expect("commit");
        // As a database from before migration 16 holds them: the states only.
        let sql = "DROP INDEX incidents_postmortem_due; \
                   ALTER TABLE incidents DROP COLUMN postmortem_due_at; \
                   DELETE FROM _sqlx_migrations WHERE version = 16;";
        common::raw_sql(&test, sql, sql).await;
        store.migrate().await.expect("migrate");
        let due = store
            .postmortems_due(t0 - Duration::days(1), t0 + Duration::hours(48), 10)
            .await
            .expect("due");
        let found: Vec<(&str, Option<chrono::DateTime<chrono::Utc>>)> = due
            .items
            .iter()
            .map(|i| (i.title.as_str(), i.postmortem_due_at))
            .collect();
        assert_eq!(
            found,
            [("pending", Some(t0 + Duration::hours(48)))],
            "[{}]",
            test.name
        );
        let early = store
            .postmortems_due(t0 - Duration::days(1), t0 + Duration::hours(47), 10)
            .await
            .expect("due");
        assert_eq!(
            early.total, 0,
            "[{}] the backfilled time is the due time",
            test.name
        );
    }
}

#[tokio::test]
async fn pending_postmortems_are_an_index_range_on_sqlite() {
    use runroom::store::incidents::{POSTMORTEMS_DUE_COUNT_SQL, POSTMORTEMS_DUE_SQL};
    let backend = common::sqlite().await;
    let pool = sqlx::SqlitePool::connect(backend.url())
        .await
        .expect("pool");
    for statement in [POSTMORTEMS_DUE_SQL, POSTMORTEMS_DUE_COUNT_SQL] {
        let plan: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "EXPLAIN QUERY PLAN {statement}"
        )))
        .fetch_all(&pool)
        .await
        .expect("plan");
        let text: Vec<&str> = plan.iter().map(|(_, _, _, d)| d.as_str()).collect();
        assert!(
            text.iter().any(
                |d| d.contains("USING COVERING INDEX incidents_postmortem_due")
                    || d.contains("USING INDEX incidents_postmortem_due")
            ),
            "{text:?}\n{statement}"
        );
        assert!(
            !text.iter().any(|d| d.contains("SCAN incidents")),
            "{text:?}"
        );
    }
}
