//! The 24-hour customer service window: free-form text inside it, a template outside.

use chrono::Duration;
use runroom::store::OutboxState;

use crate::fakes::graph;
use crate::{ANA_WA, BRUNO_WA, Harness, common, inbound_from_slack, kinds_of};

#[tokio::test]
async fn the_window_decides_between_free_text_and_a_template() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "oi").await;
    h.clock.advance(Duration::hours(23));
    h.engine
        .handle(&inbound_from_slack("inc declare sev3 Slow dashboards"))
        .await
        .unwrap();
    h.drain().await;
    let first = h.graph.accepted_to(ANA_WA);
    assert_eq!(kinds_of(&first), ["interactive"], "23 h after her message");

    h.clock.advance(Duration::hours(2));
    h.engine
        .handle(&inbound_from_slack("inc status identified"))
        .await
        .unwrap();
    h.drain().await;
    let second = h.graph.accepted_to(ANA_WA);
    assert_eq!(kinds_of(&second), ["interactive", "template"], "25 h after");
    assert_eq!(
        second[1].json["template"]["name"],
        "runroom_incident_update"
    );

    // Meta says the window is closed although our record says open (she wrote from another
    // device, say): the same attempt falls back to the template.
    h.text(BRUNO_WA, "Bruno", "oi").await;
    h.drain().await;
    h.graph.close_window(BRUNO_WA);
    let before = h.graph.received().len();
    h.engine
        .handle(&inbound_from_slack("inc status monitoring"))
        .await
        .unwrap();
    h.drain().await;
    let to_bruno: Vec<graph::Received> = h.graph.received()[before..]
        .iter()
        .filter(|r| r.to == BRUNO_WA)
        .cloned()
        .collect();
    assert_eq!(
        to_bruno
            .iter()
            .map(|r| (r.kind.as_str(), r.status))
            .collect::<Vec<_>>(),
        [("interactive", 400), ("template", 200)]
    );
    assert!(h.rows(OutboxState::Dead).await.is_empty());
}
