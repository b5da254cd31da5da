//! People on Telegram: `/start` in a private chat links it, a page to `@username` reaches it
//! with an Ack button that acknowledges the incident, and a page to someone who never started
//! the bot ends dead with the reason, not retried for ever.

use runroom::store::OutboxState;

use super::fakes::telegram::{press_update, private_update, text_update};
use super::{GUARDIA, SECRET, UNPACED, start_with};

const PEOPLE: &str = r#"
[[people]]
id = "ana"
name = "Ana"
telegram = "@Ana_Ops"
language = "pt-BR"

[[people]]
id = "bruno"
name = "Bruno"
telegram = "@bruno_field"

[[escalation]]
severities = ["sev1"]
steps = [{ after = "0m", notify = ["ana", "bruno"] }]
"#;

#[tokio::test]
async fn a_page_reaches_the_private_chat_of_a_person_who_started_the_bot() {
    // `[[people]]` and `[[escalation]]` come after `[telegram]`'s keys.
    let h = start_with(&format!("{PEOPLE}{UNPACED}")).await;
    const ANA: i64 = 4242;

    // Ana opens a private chat with the bot: it answers how pages reach her there.
    h.fake.start_chat(ANA);
    let start = private_update(9001, (ANA, Some("ana_ops")), "/start");
    assert_eq!(h.post(Some(SECRET), &start).await, 200);
    assert_eq!(h.post(Some(SECRET), &start).await, 200);
    h.app.worker.drain().await.expect("drained");
    let greeting = h.fake.sent_to(ANA);
    assert_eq!(greeting.len(), 1, "greeted once: {greeting:?}");
    assert!(
        greeting[0]["text"]
            .as_str()
            .is_some_and(|t| t.contains("@ana_ops")),
        "{greeting:?}"
    );

    // A sev1 pages Ana and Bruno at once.
    let declare = text_update(
        9002,
        GUARDIA,
        (7, "marcos"),
        "/inc declarar sev1 Sem pagamentos",
    );
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    assert_eq!(h.app.scheduler.drain().await.expect("fired").fired, 1);
    h.app.worker.drain().await.expect("drained");

    // The war room names her as Telegram shows a mention.
    let room = h.fake.said_to(GUARDIA);
    assert!(
        room.iter()
            .any(|m| m["text"].as_str().is_some_and(|t| t.contains("@Ana_Ops"))),
        "{room:?}"
    );
    // Her page, in Portuguese, with an Ack button.
    let page = h
        .fake
        .sent_to(ANA)
        .into_iter()
        .nth(1)
        .expect("a page to Ana");
    assert!(
        page["text"].as_str().is_some_and(|t| t.contains("INC-1")),
        "{page}"
    );
    assert_eq!(
        page["reply_markup"]["inline_keyboard"][0][0]["callback_data"],
        "ack:1"
    );

    // Bruno never started the bot: his page is dead, with the reason, not retried.
    let dead = h
        .app
        .engine
        .store()
        .outbox_in_state(OutboxState::Dead, 10)
        .await
        .expect("dead rows");
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].message.chat, "@bruno_field");
    assert!(
        dead[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("/start")),
        "{:?}",
        dead[0].last_error
    );

    // Ana's Ack from her private chat acknowledges the incident, and the press is answered.
    let page_id = h
        .fake
        .accepted_calls("SendMessage")
        .into_iter()
        .filter(|c| c.body["chat_id"] == ANA)
        .nth(1)
        .and_then(|c| c.answer["result"]["message_id"].as_i64())
        .expect("the page's id");
    let ack = press_update(9003, ANA, (ANA, "ana_ops"), (page_id, None), "ack:1");
    assert_eq!(h.post(Some(SECRET), &ack).await, 200);
    let incident = h.app.engine.store().incident(1).await.unwrap().unwrap();
    assert!(
        incident
            .acked_by
            .as_deref()
            .is_some_and(|a| a.contains("ana_ops")),
        "{incident:?}"
    );
    assert!(
        h.fake
            .accepted("AnswerCallbackQuery")
            .iter()
            .any(|a| a["callback_query_id"] == "cbq-9003")
    );
}
