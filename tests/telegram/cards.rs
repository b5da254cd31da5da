//! The incident card: in a forum supergroup a topic per incident with the card pinned in it,
//! elsewhere the card with the changes as replies to it; the buttons act through the engine and
//! are always answered, with the presser's error as a toast; a burst of changes edits the card
//! once; the topic closes on resolve and reopens on reopen; the calls to a group stay within
//! its limit a minute, edits and pins included.

use std::time::Duration;

use runroom::platforms::{slack, whatsapp};
use serde_json::Value;

use super::fakes::graph::{FakeGraph, PHONE_NUMBER_ID};
use super::fakes::slack::FakeSlack;
use super::fakes::telegram::{press_update, text_update, threaded_update};
use super::{GUARDIA, Harness, OTRA, SECRET, UNPACED, common, start_full, start_with};

const WHATSAPP_GROUP: &str = "120363025246125888";

/// The `message_id` Telegram gave a sent message.
fn message_id(answer: &Value) -> i64 {
    answer["result"]["message_id"].as_i64().expect("a message")
}

/// The card posted to `chat`: its message id and its body.
fn card_of(h: &Harness, chat: i64) -> (i64, Value) {
    h.fake
        .accepted_calls("SendMessage")
        .into_iter()
        .find(|c| c.body["chat_id"] == chat && c.body.get("reply_markup").is_some())
        .map(|c| (message_id(&c.answer), c.body))
        .expect("a card")
}

/// The buttons' callback data under a message now.
fn buttons(h: &Harness, chat: i64, message: i64) -> Vec<String> {
    let shown = h.fake.shown(chat, message).expect("shown");
    shown["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["callback_data"].as_str().map(str::to_string))
        .collect()
}

/// A forum group's topic for an incident: made once, with its name.
fn topic_of(h: &Harness, chat: i64) -> (i64, String) {
    let made: Vec<_> = h
        .fake
        .accepted_calls("CreateForumTopic")
        .into_iter()
        .filter(|c| c.body["chat_id"] == chat)
        .collect();
    assert_eq!(made.len(), 1, "one topic");
    (
        made[0].answer["result"]["message_thread_id"]
            .as_i64()
            .expect("a topic"),
        made[0].body["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

async fn post(h: &Harness, update: &Value) {
    assert_eq!(h.post(Some(SECRET), update).await, 200);
}

#[tokio::test]
async fn a_portuguese_declaration_opens_a_topic_with_its_pinned_card_and_every_room_hears_it() {
    let slack = FakeSlack::start().await;
    let graph = FakeGraph::start().await;
    let rooms = format!(
        r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "C0RUNROOM"

[[rooms]]
id = "bodega"
platform = "whatsapp"
kind = "group"
chat = "{WHATSAPP_GROUP}"
language = "es"
"#
    );
    let rest = format!(
        r#"
[slack]
api_url = "{slack}"

[whatsapp]
api_url = "{graph}"
phone_number_id = "{PHONE_NUMBER_ID}"
"#,
        slack = slack.api_url,
        graph = graph.url,
    );
    let secrets = vec![
        (slack::BOT_TOKEN_ENV, slack.bot_token.clone()),
        (whatsapp::TOKEN_ENV, graph.token.clone()),
        (whatsapp::APP_SECRET_ENV, "app-secret".to_string()),
        (whatsapp::VERIFY_TOKEN_ENV, "verify".to_string()),
    ];
    let h = start_full(&rooms, UNPACED, &rest, secrets).await;
    h.fake.forum(GUARDIA);
    post(
        &h,
        &text_update(
            8001,
            GUARDIA,
            (42, "ana_ops"),
            r#"/inc declarar sev1 "Checkout fora do ar" impacto="pagamentos com cartão""#,
        ),
    )
    .await;
    h.app.worker.drain().await.expect("drained");

    // The forum group: a topic named after the incident, the card in it with its buttons and
    // pinned, and the declaration posted in the topic.
    let (topic, name) = topic_of(&h, GUARDIA);
    assert_eq!(name, "INC-1 · Checkout fora do ar");
    let (card, body) = card_of(&h, GUARDIA);
    assert_eq!(body["message_thread_id"], topic);
    assert_eq!(body["parse_mode"], "HTML");
    assert!(
        body["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("<b>INC-1") && t.contains("pagamentos com cartão")),
        "{body}"
    );
    assert_eq!(
        buttons(&h, GUARDIA, card),
        ["ack:1", "update:1", "escalate:1", "resolve:1"]
    );
    let pins = h.fake.accepted("PinChatMessage");
    assert!(
        pins.iter()
            .any(|p| p["chat_id"] == GUARDIA && p["message_id"] == card),
        "{pins:?}"
    );
    let said = h.fake.said_to(GUARDIA);
    assert_eq!(said.len(), 1, "{said:?}");
    assert_eq!(said[0]["message_thread_id"], topic);

    // A group that is not a forum: the card, and the change as a reply to it.
    let (otra_card, otra_body) = card_of(&h, OTRA);
    assert!(otra_body.get("message_thread_id").is_none());
    let otra = h.fake.said_to(OTRA);
    assert_eq!(otra.len(), 1, "{otra:?}");
    assert_eq!(otra[0]["reply_parameters"]["message_id"], otra_card);

    // Slack and WhatsApp hear it too.
    let on_slack = slack.messages("C0RUNROOM");
    assert!(
        on_slack.iter().any(|m| m.text.contains("INC-1")),
        "{on_slack:?}"
    );
    let on_whatsapp = graph.accepted_to(WHATSAPP_GROUP);
    assert!(
        on_whatsapp.iter().any(|m| m.body.contains("INC-1")),
        "{on_whatsapp:?}"
    );
}

#[tokio::test]
async fn the_buttons_act_edit_the_card_in_place_and_are_always_answered() {
    let h = start_with(UNPACED).await;
    h.fake.forum(GUARDIA);
    post(
        &h,
        &text_update(
            8101,
            GUARDIA,
            (42, "ana_ops"),
            "/inc declarar sev2 Fila parada",
        ),
    )
    .await;
    h.app.worker.drain().await.expect("drained");
    let (topic, _) = topic_of(&h, GUARDIA);
    let (card, _) = card_of(&h, GUARDIA);
    let said_before = h.fake.said_to(GUARDIA).len();

    // Marcos presses Ack: the incident is acknowledged, the press answered without a toast,
    // the card edited in place (no Ack button any more), the change posted in the topic.
    let ack = press_update(8102, GUARDIA, (7, "marcos"), (card, Some(topic)), "ack:1");
    post(&h, &ack).await;
    // Telegram redelivers until it gets a 2xx: the same press acts once.
    post(&h, &ack).await;
    let incident = h.app.engine.store().incident(1).await.unwrap().unwrap();
    assert!(
        incident
            .acked_by
            .as_deref()
            .is_some_and(|a| a.contains("marcos")),
        "{incident:?}"
    );
    h.app.worker.drain().await.expect("drained");
    let answers = h.fake.accepted("AnswerCallbackQuery");
    assert!(
        answers
            .iter()
            .any(|a| a["callback_query_id"] == "cbq-8102" && a.get("text").is_none()),
        "{answers:?}"
    );
    let edits: Vec<Value> = h
        .fake
        .accepted("EditMessageText")
        .into_iter()
        .filter(|e| e["chat_id"] == GUARDIA)
        .collect();
    assert_eq!(edits.len(), 1, "{edits:?}");
    assert_eq!(edits[0]["message_id"], card);
    assert_eq!(
        buttons(&h, GUARDIA, card),
        ["update:1", "escalate:1", "resolve:1"]
    );
    let said = h.fake.said_to(GUARDIA);
    assert_eq!(said.len(), said_before + 1, "the ack, once: {said:?}");
    assert_eq!(said.last().unwrap()["message_thread_id"], topic);
    let timeline = h.app.engine.store().timeline(1, 20).await.unwrap();

    // Ana presses Ack on a stale card: her error comes back as the press's toast, localized,
    // and the group hears nothing of it.
    let again = press_update(8103, GUARDIA, (42, "ana_ops"), (card, Some(topic)), "ack:1");
    post(&h, &again).await;
    h.app.worker.drain().await.expect("drained");
    let toast = h
        .fake
        .accepted("AnswerCallbackQuery")
        .into_iter()
        .find(|a| a["callback_query_id"] == "cbq-8103")
        .expect("answered");
    assert!(
        toast["text"]
            .as_str()
            .is_some_and(|t| t.contains("INC-1") && t.contains("marcos")),
        "{toast}"
    );
    assert_eq!(
        h.fake.said_to(GUARDIA).len(),
        said.len(),
        "no post for a toast"
    );
    assert_eq!(
        h.app.engine.store().timeline(1, 20).await.unwrap(),
        timeline
    );

    // A press runroom cannot act on (an old button of another bot's) is still answered.
    post(
        &h,
        &press_update(
            8104,
            GUARDIA,
            (42, "ana_ops"),
            (card, Some(topic)),
            "vote:up",
        ),
    )
    .await;
    assert!(
        h.fake
            .accepted("AnswerCallbackQuery")
            .iter()
            .any(|a| a["callback_query_id"] == "cbq-8104")
    );

    // Resolve closes the topic, and the card loses its buttons; a reopen opens it again.
    post(
        &h,
        &press_update(
            8105,
            GUARDIA,
            (42, "ana_ops"),
            (card, Some(topic)),
            "resolve:1",
        ),
    )
    .await;
    h.app.worker.drain().await.expect("drained");
    assert!(h.fake.is_closed(GUARDIA, topic), "closed on resolve");
    assert!(buttons(&h, GUARDIA, card).is_empty());
    post(
        &h,
        &threaded_update(
            8106,
            GUARDIA,
            (42, "ana_ops"),
            "/inc reabrir INC-1",
            topic,
            true,
        ),
    )
    .await;
    h.app.worker.drain().await.expect("drained");
    assert!(
        !h.fake.is_closed(GUARDIA, topic),
        "reopened with the incident"
    );
    assert!(buttons(&h, GUARDIA, card).contains(&"resolve:1".to_string()));
    assert_eq!(
        h.fake.accepted("CreateForumTopic").len(),
        1,
        "one topic for the incident, whatever happened to it"
    );
}

#[tokio::test]
async fn a_burst_of_changes_edits_the_card_once_or_twice() {
    // Unpaced: the burst is about how often the card is edited, not when.
    let h = start_with(UNPACED).await;
    h.fake.forum(GUARDIA);
    post(
        &h,
        &text_update(
            8201,
            GUARDIA,
            (42, "ana_ops"),
            "/inc declarar sev2 Fila parada",
        ),
    )
    .await;
    h.app.worker.drain().await.expect("drained");
    for i in 0..10 {
        let text = format!("/inc update passo {i}");
        post(&h, &text_update(8210 + i, GUARDIA, (42, "ana_ops"), &text)).await;
    }
    h.app.worker.drain().await.expect("drained");
    let said = h.fake.said_to(GUARDIA);
    assert_eq!(said.len(), 11, "every update is posted: {said:?}");
    // Counted whatever Telegram answered: an edit that changes nothing ("not modified") costs
    // a call all the same.
    let edits = h
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "EditMessageText" && c.body["chat_id"] == GUARDIA)
        .count();
    assert!((1..=2).contains(&edits), "ten updates, {edits} edits");
    let (card, _) = card_of(&h, GUARDIA);
    let shown = h.fake.shown(GUARDIA, card).expect("the card");
    assert!(
        shown["text"].as_str().is_some_and(|t| !t.is_empty()),
        "{shown}"
    );
}

#[tokio::test]
async fn a_group_gets_no_more_calls_a_minute_than_telegram_allows_edits_and_pins_included() {
    // Telegram's 20 a minute, with the minute shortened to 3 s for the test: the outbox paces
    // the group a little under 20 per 3 s, as it paces a little under 20 a minute, and the fake
    // refuses a 21st call in any 3 s.
    let mut h = start_with(
        r#"
[outbox.limits.telegram]
rate = 30.0
burst = 30
per_chat_rate = 6.5
per_chat_burst = 1
"#,
    )
    .await;
    h.fake.forum(GUARDIA);
    h.fake.limit_per_chat(20, Duration::from_secs(3));
    post(
        &h,
        &text_update(
            8301,
            GUARDIA,
            (42, "ana_ops"),
            "/inc declarar sev2 Fila parada",
        ),
    )
    .await;
    for i in 0..24 {
        let text = format!("/inc update passo {i}");
        post(&h, &text_update(8310 + i, GUARDIA, (42, "ana_ops"), &text)).await;
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = h.app.start(&stopped);
    let said = common::poll("every message", Duration::from_secs(60), || {
        let said = h.fake.said_to(GUARDIA);
        (said.len() >= 25).then_some(said)
    })
    .await;
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    assert_eq!(said.len(), 25);
    let t0 = h.fake.calls()[0].at;
    assert_eq!(
        h.fake.refused_429(GUARDIA),
        0,
        "never over the limit: {:?}",
        h.fake
            .calls()
            .iter()
            .filter(|c| c.body["chat_id"] == GUARDIA)
            .map(|c| (
                c.at.duration_since(t0).as_millis(),
                c.method.clone(),
                c.status
            ))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        h.fake.accepted("PinChatMessage").len(),
        2,
        "both groups' cards pinned"
    );
}
