//! Every message fits WhatsApp: text bodies within 4,096 characters (split into numbered parts),
//! interactive bodies within 1,024, template parameters within Meta's rules, and Evolution's
//! `sendText` held to the same 4,096. The fake Graph API refuses what Meta refuses (code 100 for
//! a body too long, 132005 for a template too long), so nothing here is dead.

use runroom::engine::clock::Clock;
use runroom::store::{NewOutbound, OutboxState};

use crate::common::{self, backends};
use crate::{ANA_WA, Harness, inbound_from_slack};

/// About `chars` characters: accents, emoji with skin tones, a mention, a line break now and
/// then.
fn long_text(chars: usize) -> String {
    common::long_text("reversão do pix 👍🏽 <@U0BEN> confirmou; ", 6, chars)
}

#[tokio::test]
async fn long_messages_reach_whatsapp_and_evolution_within_their_limits() {
    for backend in backends().await {
        let h = Harness::start(&backend).await;
        // Ana's window is open (she declares); Bruno's and Carla's are closed: templates.
        h.text(ANA_WA, "Ana", "inc declare sev1 Pix fora do ar")
            .await;
        let long = long_text(1900);
        // From Slack: the update reaches the roster, the Cloud API group and the Evolution
        // group.
        h.engine
            .handle(&inbound_from_slack(&format!(
                "inc update 1 \"{long}\" impact=\"{long}\""
            )))
            .await
            .expect("update");
        for i in 0..25 {
            h.text(ANA_WA, "Ana", &format!("inc nota {i}: {long}"))
                .await;
        }
        h.text(ANA_WA, "Ana", "inc linha-do-tempo INC-1").await;
        common::insert_open_incidents(&h.store, 10_000, h.clock.now()).await;
        h.text(ANA_WA, "Ana", "inc listar").await;
        h.drain().await;

        let refused: Vec<_> = h
            .graph
            .received()
            .into_iter()
            .filter(|r| r.status != 200)
            .map(|r| (r.kind, r.status, r.body.chars().count()))
            .collect();
        assert!(
            refused.is_empty(),
            "[{}] refused: {refused:?}",
            backend.name
        );
        for r in h.evolution.received() {
            assert_eq!(r.status, 201, "[{}]", backend.name);
            assert!(r.text.chars().count() <= 4096, "[{}]", backend.name);
        }
        assert!(
            h.rows(OutboxState::Dead).await.is_empty(),
            "[{}]",
            backend.name
        );
        let sent: Vec<NewOutbound> = h
            .store
            .outbox_in_state(OutboxState::Sent, 100_000)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.message)
            .collect();
        let split = common::assert_fits(&sent);
        // The update (about 4,000 characters of fields) and the timeline of long notes do not
        // fit one WhatsApp message: numbered parts, one row per member each.
        assert!(split >= 1, "[{}] something was split", backend.name);
        assert!(
            h.graph
                .accepted()
                .iter()
                .any(|r| r.kind == "text" && r.body.starts_with("(2/")),
            "[{}] a second part reached a member",
            backend.name
        );
        // Bruno's and Carla's windows are closed: the long update reached them as a template
        // whose details were cut short, ending with where to read it whole, in Portuguese.
        assert!(
            h.graph
                .accepted()
                .iter()
                .any(|r| r.kind == "template"
                    && r.body.ends_with("… (texto completo: inc mostrar 1)")),
            "[{}] a cut template says where the full text is: {:?}",
            backend.name,
            h.graph
                .accepted()
                .iter()
                .filter(|r| r.kind == "template")
                .map(|r| r.body.clone())
                .collect::<Vec<_>>()
        );
    }
}
