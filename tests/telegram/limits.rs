//! Telegram's 4,096 characters a message against a database of 10,000 open incidents: a long
//! timeline and a list in Spanish reach the fake Bot API, which refuses a text too long as
//! Telegram does, whole: in numbered parts where they must be split, and nothing dead.

use runroom::store::{OutboxRow, OutboxState};

use super::fakes::telegram::{parsed_len, text_update};
use super::{GUARDIA, Harness, SECRET, UNPACED, common, start_with};

const ANA: (i64, &str) = (42, "ana_ops");

impl Harness {
    /// Ana types `text` in the Spanish war room, as update `id`.
    async fn says(&self, id: i64, text: &str) {
        let update = text_update(id, GUARDIA, ANA, text);
        assert_eq!(self.post(Some(SECRET), &update).await, 200, "{text}");
    }

    async fn outbox(&self, state: OutboxState) -> Vec<OutboxRow> {
        common::outbox_rows(self.app.engine.store(), state).await
    }
}

#[tokio::test]
async fn long_answers_reach_telegram_whole_with_ten_thousand_open_incidents() {
    let h = start_with(UNPACED).await;
    h.says(3001, "/inc declarar sev1 Caída del checkout").await;
    let long = common::long_text(
        "Pagos con tarjeta rechazados ❤️‍🔥 en São Paulo & <Lima> ",
        6,
        1900,
    );
    for i in 0..25 {
        h.says(3100 + i, &format!("/inc nota INC-1 {i}: {long}"))
            .await;
    }
    h.says(3200, "/inc cronologia INC-1").await;
    let now = chrono::Utc::now();
    common::insert_open_incidents(h.app.engine.store(), 10_000, now).await;
    h.says(3201, "/inc lista").await;
    h.says(3202, "/inc lista sev1 pagina 2").await;
    h.app.worker.drain().await.expect("drained");

    // Telegram refused no text (the fake answers "message is too long" past 4,096 parsed
    // characters), and nothing is dead. (These groups are not forums: the topic each incident
    // would get is refused, and its messages go to the group.)
    let refused: Vec<(String, u16, usize)> = h
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.status != 200 && c.method != "CreateForumTopic")
        .map(|c| {
            let len = c.body["text"].as_str().map_or(0, parsed_len);
            (c.method, c.status, len)
        })
        .collect();
    assert!(refused.is_empty(), "refused: {refused:?}");
    assert!(h.outbox(OutboxState::Dead).await.is_empty());
    let said: Vec<String> = h
        .fake
        .said_to(GUARDIA)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect();

    // Every row fits as queued, and the timeline went as numbered parts, each of which
    // reached the room.
    let sent: Vec<_> = h
        .outbox(OutboxState::Sent)
        .await
        .into_iter()
        .map(|r| r.message)
        .collect();
    assert_eq!(common::assert_fits(&sent), 1, "the timeline was split");
    let parts = sent
        .iter()
        .filter(|m| m.idempotency_key.contains("#p"))
        .count();
    assert!(parts >= 2, "{parts} parts");
    let marker = format!("/{parts}) ");
    let delivered = said
        .iter()
        .filter(|t| t.starts_with('(') && t.contains(&marker))
        .count();
    assert_eq!(delivered, parts, "every part reached the room");

    // The list is one page of twenty in Spanish, with how many are left and the next page's
    // command; the second page of a filter says which page it is.
    let list = said
        .iter()
        .find(|t| t.contains("incidentes abiertos, los más graves primero (página 1 de"))
        .expect("the list's first page");
    assert_eq!(list.matches("• INC-").count(), 20, "{list}");
    assert!(list.contains("…y 9981 más"), "{list}");
    assert!(list.contains("inc listar pagina 2"), "{list}");
    let filtered = said
        .iter()
        .find(|t| t.contains("(página 2 de"))
        .expect("page 2 of sev1");
    assert!(filtered.contains("de SEV1 (crítico)"), "{filtered}");
    assert_eq!(filtered.matches("• INC-").count(), 20, "{filtered}");
}
