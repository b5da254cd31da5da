//! One conformance suite for every `Store` backend: SQLite always, Postgres when
//! `RUNROOM_TEST_POSTGRES_URL` is set.

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::{TestStore, backends, start_time};
use runroom::engine::incident::{Actor, Event, Incident, Severity, TimelineEntry};
use runroom::i18n::Lang;
use runroom::store::{NewOutbound, Store};

fn actor() -> Actor {
    Actor {
        name: "joana".into(),
        room: "console".into(),
    }
}

fn new_incident(title: &str) -> Incident {
    Incident::declare(title.into(), Severity::Sev2, None, &actor(), start_time()).0
}

fn outbound(key: &str, platform: &str, priority: i64) -> NewOutbound {
    NewOutbound {
        idempotency_key: key.into(),
        room_id: format!("{platform}-room"),
        platform: platform.into(),
        chat: "C1".into(),
        thread: None,
        kind: "broadcast".into(),
        language: Lang::PtBr,
        text: format!("message {key}"),
        incident: Some(1),
        priority,
        created_at: start_time(),
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
        tx.update_incident(&loaded).await.unwrap();
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
            tx.enqueue(&[outbound("k1", "slack", 1)]).await.unwrap();
            // dropped without commit
        }
        assert!(
            store.recent_incidents(10).await.unwrap().is_empty(),
            "[{name}]"
        );
        assert!(
            store.pending_outbox("slack", 10).await.unwrap().is_empty(),
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
            outbound("a", "slack", 3),
            outbound("b", "slack", 1),
            outbound("a", "slack", 3),
        ])
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let mut tx = store.begin().await.unwrap();
        tx.enqueue(&[outbound("b", "slack", 1)]).await.unwrap();
        tx.commit().await.unwrap();

        let pending = store.pending_outbox("slack", 10).await.unwrap();
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
            outbound("b", "slack", 1),
            "[{name}] round trip"
        );
        assert!(
            store
                .pending_outbox("telegram", 10)
                .await
                .unwrap()
                .is_empty()
        );

        store.mark_sent(pending[0].id, start_time()).await.unwrap();
        let left = store.pending_outbox("slack", 10).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].message.idempotency_key, "a");
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
async fn migrations_are_idempotent_and_ping_works() {
    for TestStore { name, store, .. } in backends().await {
        store
            .migrate()
            .await
            .unwrap_or_else(|e| panic!("[{name}] second migrate: {e}"));
        store.ping().await.unwrap();
    }
}
