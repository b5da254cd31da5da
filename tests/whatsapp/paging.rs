//! Pages to a person's own WhatsApp, outside any roster.

use crate::fakes::graph;
use crate::{ANA_WA, Harness, common, kinds_of};

#[tokio::test]
async fn a_paged_person_on_no_roster_gets_the_page_template_and_acks_from_it() {
    const DIEGO_WA: &str = "5531999998888";
    let backend = common::sqlite().await;
    let people = r#"
[[people]]
id = "diego"
name = "Diego"
whatsapp = "+5531999998888"
language = "es"
timezone = "America/Bogota"

[[escalation]]
severities = ["sev1"]
steps = [{ after = "0m", notify = ["diego"] }]
"#;
    let h = Harness::start_with(&backend, people).await;
    h.text(ANA_WA, "Ana", "inc declarar sev1 Pagamentos fora")
        .await;
    assert_eq!(h.app.scheduler.drain().await.unwrap().fired, 1);
    h.drain().await;
    // Diego never wrote: the page template, in Spanish, with its Ack quick reply.
    let to_diego = h.graph.accepted_to(DIEGO_WA);
    assert_eq!(kinds_of(&to_diego), ["template"]);
    assert_eq!(to_diego[0].json["template"]["name"], "runroom_page");
    assert_eq!(to_diego[0].json["template"]["language"]["code"], "es");
    assert!(to_diego[0].body.contains("INC-1"), "{}", to_diego[0].body);

    // His tap comes back from his own chat, which runroom takes although he is on no roster.
    let tap = graph::button_reply(DIEGO_WA, "Diego", &h.wamid(), h.now_secs(), "ack:1");
    assert_eq!(h.post(&tap).await, 200);
    let incident = h.store.incident(1).await.unwrap().unwrap();
    assert_eq!(incident.acked_by.as_deref(), Some("Diego"));
    h.drain().await;
    let answer = h.graph.accepted_to(DIEGO_WA);
    let last = answer.last().unwrap();
    assert_ne!(last.kind, "template", "his window is open now: {last:?}");
    // In his language and zone.
    assert!(
        last.body
            .contains("Diego tomó el INC-1 (02/03/2026 08:00 -05)"),
        "{}",
        last.body
    );
    // A stranger still gets nothing.
    let before = h.store.incident(1).await.unwrap();
    h.text("5531900000000", "Eve", "inc resolve").await;
    assert_eq!(h.store.incident(1).await.unwrap(), before);
}
