//! The webhook's door: Meta's verification handshake, signatures, and redeliveries.

use crate::fakes::graph;
use crate::{ANA, ANA_WA, APP_SECRET, Harness, VERIFY_TOKEN, WAR_ROOM, common};
use runroom::engine::room::Platform;

#[tokio::test]
async fn the_webhook_url_is_verified_only_with_our_token() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let get = |token: &str| {
        h.http
            .get(format!("{}/webhooks/whatsapp", h.base))
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.verify_token", token),
                ("hub.challenge", "1158201444"),
            ])
            .send()
    };
    let ok = get(VERIFY_TOKEN).await.expect("verify");
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "1158201444");
    let wrong = get("guess").await.expect("verify");
    assert_eq!(wrong.status().as_u16(), 403);
}

#[tokio::test]
async fn a_bad_signature_gets_401_and_stores_nothing() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.forged",
        h.now_secs(),
        "inc declarar sev1 falso",
    );
    assert_eq!(h.post_signed(&body, "not-the-app-secret").await, 401);
    // No signature at all.
    let unsigned = h
        .http
        .post(format!("{}/webhooks/whatsapp", h.base))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    assert_eq!(unsigned.status().as_u16(), 401);
    // Signed, then altered on the way.
    let signature = graph::sign(APP_SECRET, body.to_string().as_bytes());
    let tampered = body.to_string().replace("sev1", "sev2");
    let altered = h
        .http
        .post(format!("{}/webhooks/whatsapp", h.base))
        .header("x-hub-signature-256", signature)
        .body(tampered)
        .send()
        .await
        .expect("request");
    assert_eq!(altered.status().as_u16(), 401);

    assert!(h.store.open_incidents().await.unwrap().is_empty());
    assert!(h.store.outbox_stats().await.unwrap().is_empty());
    assert_eq!(
        h.store.contact(Platform::Whatsapp, ANA).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn a_redelivered_message_acts_once() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.same",
        h.now_secs(),
        "inc declare sev2 Couriers offline",
    );
    assert_eq!(h.post(&body).await, 200);
    assert_eq!(h.post(&body).await, 200);
    h.drain().await;
    assert_eq!(h.store.recent_incidents(10).await.unwrap().len(), 1);
    let relays = h
        .graph
        .accepted()
        .into_iter()
        .filter(|r| r.body.starts_with("*Ana*:"))
        .count();
    assert_eq!(relays, 2, "relayed once to each other member");
    assert_eq!(h.slack.cards(WAR_ROOM).len(), 1);
}

/// Meta delivers every number of an app to its webhook: a message to another business number
/// is not runroom's, and nothing comes of it.
#[tokio::test]
async fn a_message_for_another_business_number_is_ignored() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let mut body = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.elsewhere",
        h.now_secs(),
        "inc declare sev1 Not ours",
    );
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] =
        serde_json::json!("999000111");
    assert_eq!(
        h.post(&body).await,
        200,
        "acknowledged, so Meta does not retry"
    );
    h.drain().await;
    assert!(h.store.recent_incidents(10).await.unwrap().is_empty());
    assert!(h.store.outbox_stats().await.unwrap().is_empty());

    let ours = graph::text_message(
        ANA_WA,
        "Ana",
        "wamid.ours",
        h.now_secs(),
        "inc declare sev1 Ours",
    );
    assert_eq!(h.post(&ours).await, 200);
    h.drain().await;
    assert_eq!(h.store.recent_incidents(10).await.unwrap().len(), 1);
}
