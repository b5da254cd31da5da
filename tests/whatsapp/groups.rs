//! Groups: a Cloud API group and an Evolution gateway group take commands and get plain text.

use chrono::Duration;
use runroom::store::OutboxRow;
use runroom::store::OutboxState;
use serde_json::{Value, json};

use crate::fakes::{evolution, graph};
use crate::{EVOLUTION_GROUP, EVOLUTION_KEY, GROUP, Harness, common, inbound_from_slack};

#[tokio::test]
async fn a_cloud_api_group_takes_commands_and_gets_plain_text() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let message = graph::delivery(json!({
        "contacts": [{ "profile": { "name": "Diego" }, "wa_id": "573001234567" }],
        "messages": [{
            "from": "573001234567", "id": h.wamid(), "timestamp": h.now_secs().to_string(),
            "group_id": GROUP, "type": "text", "text": { "body": "inc declarar sev2 Bodega sin conexión" }
        }]
    }));
    // The same from a group nobody configured (anyone can add the business number to one).
    let elsewhere = graph::delivery(json!({
        "contacts": [{ "profile": { "name": "Mallory" }, "wa_id": "573009999999" }],
        "messages": [{
            "from": "573009999999", "id": h.wamid(), "timestamp": h.now_secs().to_string(),
            "group_id": "120363000000000666", "type": "text", "text": { "body": "inc declarar sev1 broma" }
        }]
    }));
    assert_eq!(h.post(&elsewhere).await, 200);
    assert!(h.store.open_incidents().await.unwrap().is_empty());
    assert_eq!(h.post(&message).await, 200);
    assert_eq!(
        h.store.incident(1).await.unwrap().unwrap().declared_by,
        "Diego"
    );
    h.drain().await;
    let to_group = h.graph.accepted_to(GROUP);
    assert_eq!(to_group.len(), 1);
    assert!(to_group[0].group);
    assert_eq!(to_group[0].kind, "text", "groups take no buttons");
    assert!(to_group[0].body.contains("INC-1"), "{}", to_group[0].body);
    assert!(
        to_group[0].body.contains("declarado"),
        "es: {}",
        to_group[0].body
    );
}

#[tokio::test]
async fn an_evolution_group_takes_commands_and_gets_text() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    let post = |body: Value| {
        h.http
            .post(format!("{}/webhooks/evolution", h.base))
            .json(&body)
            .send()
    };
    let forged = evolution::messages_upsert(
        "wrong-key",
        "runroom",
        EVOLUTION_GROUP,
        "5511955554444@s.whatsapp.net",
        "Eva",
        "3EB0FORGED",
        "incidente declarar sev1 falso",
    );
    assert_eq!(post(forged).await.unwrap().status().as_u16(), 401);
    assert!(h.store.open_incidents().await.unwrap().is_empty());

    let real = evolution::messages_upsert(
        EVOLUTION_KEY,
        "runroom",
        EVOLUTION_GROUP,
        "5511955554444@s.whatsapp.net",
        "Eva",
        "3EB0C0FFEE",
        "incidente declarar sev1 Loja sem sistema",
    );
    assert_eq!(post(real.clone()).await.unwrap().status().as_u16(), 200);
    assert_eq!(post(real).await.unwrap().status().as_u16(), 200);
    assert_eq!(h.store.recent_incidents(10).await.unwrap().len(), 1);
    h.drain().await;
    let sent = h.evolution.accepted();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].number, EVOLUTION_GROUP);
    assert!(
        sent[0].text.contains("INC-1") && sent[0].text.contains("Eva"),
        "{}",
        sent[0].text
    );

    // The gateway's errors: a 5xx is retried, a 4xx (an unknown group, say) is not.
    h.evolution.script([
        evolution::Reply::ServerError,
        evolution::Reply::Error { status: 400 },
    ]);
    h.engine
        .handle(&inbound_from_slack("inc status identified"))
        .await
        .unwrap();
    h.drain().await;
    let on_evolution = |rows: Vec<OutboxRow>| -> Vec<String> {
        rows.into_iter()
            .filter(|r| r.message.room_id == "loja")
            .map(|r| r.last_error.unwrap_or_default())
            .collect()
    };
    let failed = on_evolution(h.rows(OutboxState::Failed).await);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("HTTP 500"), "{failed:?}");
    assert!(on_evolution(h.rows(OutboxState::Dead).await).is_empty());
    h.clock.advance(Duration::hours(2));
    h.drain().await;
    let dead = on_evolution(h.rows(OutboxState::Dead).await);
    assert_eq!(dead.len(), 1, "the retry got the 400");
    assert!(dead[0].contains("HTTP 400"), "{dead:?}");
}
