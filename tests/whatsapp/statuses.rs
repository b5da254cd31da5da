//! Meta's delivery statuses: applied in order, once, and even when they overtake the send.

use crate::common::backends;
use crate::fakes::graph::{self, FakeGraph};
use crate::{ANA_WA, Harness, enqueue, kinds_of, to_ana};
use runroom::store::DeliveryStatus;
use runroom::store::OutboxState;

#[tokio::test]
async fn a_failed_status_131047_sends_the_template_once() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        h.text(ANA_WA, "Ana", "inc declare sev2 Labels not printing")
            .await;
        h.drain().await;
        let sent = h.graph.accepted_to(ANA_WA);
        let wamid = sent[0].wamid.clone().expect("a wamid");
        let row = h
            .rows(OutboxState::Sent)
            .await
            .into_iter()
            .find(|r| r.platform_message_id.as_deref() == Some(wamid.as_str()))
            .expect("the row Meta accepted");

        let failed = graph::status(&wamid, "failed", h.now_secs(), ANA_WA, Some(131047));
        assert_eq!(h.post(&failed).await, 200);
        // Meta redelivers the same status.
        assert_eq!(h.post(&failed).await, 200);
        h.drain().await;
        let after = h.graph.accepted_to(ANA_WA);
        assert_eq!(
            kinds_of(&after),
            ["interactive", "template"],
            "[{}] one template, however often the status came",
            backend.name
        );
        assert_eq!(after[1].json["template"]["name"], "runroom_incident_alert");
        let stored = h.store.outbox_row(row.id).await.unwrap().unwrap();
        assert_eq!(stored.delivery_status, Some(DeliveryStatus::Failed));
        let error = stored.delivery_error.unwrap();
        assert!(error.starts_with("131047"), "{error}");
        assert!(!error.contains(ANA_WA), "the reason is redacted: {error}");
    }
}

#[tokio::test]
async fn statuses_move_forward_only() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        h.text(ANA_WA, "Ana", "inc declare sev4 Typo on the status page")
            .await;
        h.drain().await;
        let wamid = h.graph.accepted_to(ANA_WA)[0].wamid.clone().unwrap();
        let id = h
            .rows(OutboxState::Sent)
            .await
            .into_iter()
            .find(|r| r.platform_message_id.as_deref() == Some(wamid.as_str()))
            .unwrap()
            .id;
        let status_of = |s: &'static str| graph::status(&wamid, s, 1_772_000_000, ANA_WA, None);
        for s in ["sent", "read", "delivered", "sent"] {
            assert_eq!(h.post(&status_of(s)).await, 200);
        }
        let row = h.store.outbox_row(id).await.unwrap().unwrap();
        assert_eq!(
            row.delivery_status,
            Some(DeliveryStatus::Read),
            "[{}]",
            backend.name
        );
        assert_eq!(row.delivery_error, None);
        // A status about a message runroom never sent changes nothing and is still 200.
        let before = h.rows(OutboxState::Sent).await;
        let stray = graph::status("wamid.unknown", "delivered", 1_772_000_000, ANA_WA, None);
        assert_eq!(h.post(&stray).await, 200);
        assert_eq!(
            h.rows(OutboxState::Sent).await,
            before,
            "[{}]",
            backend.name
        );
    }
}

/// The wamid the fake Graph API gives the next message it accepts.
fn next_wamid(fake: &FakeGraph) -> String {
    format!("wamid.HBgL{:08}", fake.accepted().len() + 1)
}

#[tokio::test]
async fn a_status_that_overtakes_the_send_is_applied_once_the_wamid_is_known() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        h.text(ANA_WA, "Ana", "oi").await;
        h.drain().await;
        enqueue(&h, to_ana(&h, "early")).await;
        // Meta's `failed` for the next message arrives before the worker has even sent it.
        let wamid = next_wamid(&h.graph);
        let early = graph::status(&wamid, "failed", h.now_secs(), ANA_WA, Some(131047));
        assert_eq!(h.post(&early).await, 200);
        h.drain().await;
        let to = h.graph.accepted_to(ANA_WA);
        assert_eq!(to[0].wamid.as_deref(), Some(wamid.as_str()));
        assert_eq!(
            kinds_of(&to),
            ["text", "template"],
            "[{}] the early report sent the template",
            backend.name
        );
        assert_eq!(to[1].body, "mensagem early | —");
        let row = h
            .rows(OutboxState::Sent)
            .await
            .into_iter()
            .find(|r| r.platform_message_id.as_deref() == Some(wamid.as_str()))
            .unwrap();
        assert_eq!(row.delivery_status, Some(DeliveryStatus::Failed));
        // Meta said her window is closed: the next message goes straight to the template.
        enqueue(&h, to_ana(&h, "after")).await;
        h.drain().await;
        let to: Vec<graph::Received> = h
            .graph
            .received()
            .into_iter()
            .filter(|r| r.to == ANA_WA)
            .collect();
        assert_eq!(to.len(), 3, "{to:?}");
        assert_eq!((to[2].kind.as_str(), to[2].status), ("template", 200));
    }
}
