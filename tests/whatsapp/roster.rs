//! A roster room: commands and chatter from its members, relayed to the others, mirrored into
//! Slack, and answered in each member's window.

use chrono::Duration;
use runroom::store::OutboxState;

use crate::common::{self, backends};
use crate::fakes::graph;
use crate::{ANA_WA, BRUNO_WA, CARLA_WA, EVOLUTION_GROUP, GROUP, Harness, WAR_ROOM, kinds_of};

#[tokio::test]
async fn a_portuguese_declaration_from_the_roster_reaches_slack_and_every_member() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        // Bruno wrote yesterday evening (his window is open); Carla has never written.
        h.clock.advance(-Duration::hours(20));
        h.text(BRUNO_WA, "Bruno", "bom dia, alguém no CD?").await;
        h.clock.advance(Duration::hours(20));
        h.drain().await;
        let before = h.graph.accepted().len();

        h.text(
            ANA_WA,
            "Ana",
            "incidente declarar sev1 Pix fora do ar para lojistas",
        )
        .await;
        let incident = h.store.incident(1).await.unwrap().expect("declared");
        assert_eq!(incident.declared_by, "Ana", "[{}]", backend.name);
        h.drain().await;

        // Slack's war room: a card, in English.
        let cards = h.slack.cards(WAR_ROOM);
        assert_eq!(cards.len(), 1, "[{}] one card", backend.name);
        assert!(cards[0].text.contains("INC-1"), "{}", cards[0].text);

        let sent: Vec<graph::Received> = h.graph.accepted()[before..].to_vec();
        let to = |number: &str| -> Vec<graph::Received> {
            sent.iter().filter(|r| r.to == number).cloned().collect()
        };
        // Ana (window open: she just wrote) gets the declaration with reply buttons.
        let to_ana = to(ANA_WA);
        assert_eq!(kinds_of(&to_ana), ["interactive"], "[{}]", backend.name);
        assert!(to_ana[0].body.contains("INC-1"), "{}", to_ana[0].body);
        assert!(
            to_ana[0].body.contains("declarado"),
            "pt-BR: {}",
            to_ana[0].body
        );
        let ids: Vec<&str> = to_ana[0].json["interactive"]["action"]["buttons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["reply"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["ack:1", "update:1", "resolve:1"]);
        // Bruno: Ana's words relayed with her name, then the declaration (window open).
        let to_bruno = to(BRUNO_WA);
        assert_eq!(to_bruno.len(), 2, "[{}] {to_bruno:?}", backend.name);
        assert!(to_bruno.iter().any(|r| r.kind == "text"
            && r.body == "*Ana*: incidente declarar sev1 Pix fora do ar para lojistas"));
        assert!(to_bruno.iter().any(|r| r.kind == "interactive"));
        // Carla never wrote: templates, in pt_BR, the alert with its Ack quick reply.
        let to_carla = to(CARLA_WA);
        assert_eq!(kinds_of(&to_carla), ["template", "template"]);
        let alert = to_carla
            .iter()
            .find(|r| r.json["template"]["name"] == "runroom_incident_alert")
            .expect("the alert template");
        assert_eq!(alert.json["template"]["language"]["code"], "pt_BR");
        assert!(alert.body.contains("INC-1"), "{}", alert.body);
        assert_eq!(
            alert.json["template"]["components"][1]["parameters"][0]["payload"],
            "ack:1"
        );
        // The Cloud API group: Spanish text, as a group message, no buttons.
        let to_group = to(GROUP);
        assert_eq!(to_group.len(), 1);
        assert!(to_group[0].group, "recipient_type group");
        assert_eq!(
            to_group[0].kind, "template",
            "no window recorded for the group yet"
        );
        // The Evolution group: pt-BR text through the gateway.
        let evo = h.evolution.accepted();
        assert_eq!(evo.len(), 1, "[{}]", backend.name);
        assert_eq!(evo[0].number, EVOLUTION_GROUP);
        assert!(evo[0].text.contains("INC-1"), "{}", evo[0].text);
        assert!(
            h.rows(OutboxState::Dead).await.is_empty(),
            "[{}]",
            backend.name
        );
    }
}

#[tokio::test]
async fn roster_chatter_is_relayed_and_mirrored_into_the_incident_thread() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "inc declare sev2 Couriers cannot check in")
        .await;
    h.drain().await;
    let card = h.slack.cards(WAR_ROOM).pop().expect("the card");
    let before = h.graph.accepted().len();

    h.text(BRUNO_WA, "Bruno", "chegando no CD agora, fila de 40 motos")
        .await;
    h.drain().await;
    let relayed: Vec<graph::Received> = h.graph.accepted()[before..].to_vec();
    let to: Vec<&str> = relayed.iter().map(|r| r.to.as_str()).collect();
    assert!(to.contains(&ANA_WA) && to.contains(&CARLA_WA), "{to:?}");
    assert!(
        !to.contains(&BRUNO_WA),
        "Bruno does not get his own words back"
    );
    let to_ana = relayed.iter().find(|r| r.to == ANA_WA).unwrap();
    assert_eq!(
        to_ana.body,
        "*Bruno*: chegando no CD agora, fila de 40 motos"
    );
    // Outside her window Carla gets the update template carrying the same words.
    let to_carla = relayed.iter().find(|r| r.to == CARLA_WA).unwrap();
    assert_eq!(to_carla.json["template"]["name"], "runroom_incident_update");
    assert!(
        to_carla.body.contains("chegando no CD agora"),
        "{}",
        to_carla.body
    );

    let thread = h.slack.thread(WAR_ROOM, &card.ts);
    assert!(
        thread
            .iter()
            .any(|m| m.text == "Bruno in campo (WhatsApp): chegando no CD agora, fila de 40 motos"),
        "{thread:?}"
    );
    // The mirror never shows a number.
    assert!(thread.iter().all(|m| !m.text.contains("5511")));
}

#[tokio::test]
async fn a_reply_button_tap_acknowledges() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(ANA_WA, "Ana", "inc declare sev1 Payments down")
        .await;
    h.drain().await;
    let tap = graph::button_reply(CARLA_WA, "Carla", &h.wamid(), h.now_secs(), "ack:1");
    assert_eq!(h.post(&tap).await, 200);
    let incident = h.store.incident(1).await.unwrap().unwrap();
    assert_eq!(incident.acked_by.as_deref(), Some("Carla"));
    // The tap opened Carla's window: the acknowledgement reaches her as free-form text.
    h.drain().await;
    let to_carla = h.graph.accepted_to(CARLA_WA);
    let last = to_carla.last().unwrap();
    assert_ne!(last.kind, "template", "{last:?}");
    assert!(last.body.contains("INC-1"), "{}", last.body);
}

#[tokio::test]
async fn a_mistyped_command_is_explained_only_to_the_member_who_typed_it() {
    let backend = common::sqlite().await;
    let h = Harness::start(&backend).await;
    h.text(BRUNO_WA, "Bruno", "oi").await;
    h.drain().await;
    let before = h.graph.accepted().len();
    h.text(ANA_WA, "Ana", "/inc sev 9").await;
    h.drain().await;
    let sent: Vec<graph::Received> = h.graph.accepted()[before..].to_vec();
    let to_ana: Vec<&graph::Received> = sent.iter().filter(|r| r.to == ANA_WA).collect();
    assert_eq!(to_ana.len(), 1, "{sent:?}");
    assert_eq!(to_ana[0].kind, "text");
    assert!(
        to_ana[0].body.contains("sev"),
        "a localized explanation: {}",
        to_ana[0].body
    );
    // The others see what she typed, as in a group, but not the error.
    let to_bruno: Vec<&str> = sent
        .iter()
        .filter(|r| r.to == BRUNO_WA)
        .map(|r| r.body.as_str())
        .collect();
    assert_eq!(to_bruno, ["*Ana*: /inc sev 9"]);
}
