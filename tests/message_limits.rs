//! Every outgoing message fits its platform (`engine::fit`), in the four linked rooms of
//! `common::rooms` (console, Slack, WhatsApp, Telegram), on each backend: a list of 10,000 open
//! incidents, a long update with mentions and multi-byte text, a timeline of long entries. A
//! message too long is queued as numbered parts, one row each; the console takes any length.
//! The platform tests (`tests/slack.rs`, `tests/whatsapp/limits.rs`) send such messages to fakes
//! that refuse what the real platforms refuse.

mod common;

use common::{assert_fits, backends, engine_on};
use runroom::engine::Outcome;
use runroom::engine::room::Platform;
use runroom::store::NewOutbound;

fn queued(outcome: Outcome) -> Vec<NewOutbound> {
    match outcome {
        Outcome::Handled { ok, messages, .. } => {
            assert!(ok, "the command succeeded: {messages:?}");
            messages
        }
        _ => panic!("the command was not handled"),
    }
}

fn on(messages: &[NewOutbound], platform: Platform) -> Vec<&NewOutbound> {
    messages.iter().filter(|m| m.platform == platform).collect()
}

/// About `chars` characters of field text: accents, emoji with skin tones, mentions, and a line
/// break now and then.
fn long_text(chars: usize) -> String {
    common::long_text("ação no banco 👍🏽 <@U0ANA> confirmou; ", 7, chars)
}

#[tokio::test]
async fn a_list_of_10000_open_incidents_fits_every_platform() {
    for backend in backends().await {
        let t = engine_on(&backend);
        common::insert_open_incidents(&backend.store, 10_000, t.clock_now()).await;
        for room in ["console", "runroom", "campo", "soporte"] {
            let messages = queued(t.say(room, "ana", "inc list").await);
            assert!(!messages.is_empty(), "[{}] {room}", backend.name);
            assert_fits(&messages);
        }
        // The console takes any length: one row, never split.
        let console = queued(t.say("console", "ana", "inc list").await);
        assert_eq!(console.len(), 1, "[{}]", backend.name);
        assert!(!console[0].idempotency_key.contains("#p"));
    }
}

#[tokio::test]
async fn a_long_update_fits_and_the_slack_card_points_to_the_full_text() {
    for backend in backends().await {
        let t = engine_on(&backend);
        queued(
            t.say("console", "ana", "inc declare sev1 \"Checkout down\"")
                .await,
        );
        let long = long_text(1900);
        // An impact at the parser's cap, which Slack counts longer still (`&` is `&amp;`).
        let impact = "R&D <@U0BEN> ação; ".repeat(104);
        let update = format!("inc update \"{long}\" impact=\"{impact}\"");
        let messages = queued(t.say("runroom", "ana", &update).await);
        assert_fits(&messages);
        for platform in [Platform::Console, Platform::Slack, Platform::Whatsapp] {
            assert!(
                !on(&messages, platform).is_empty(),
                "[{}] {platform:?} hears the update",
                backend.name
            );
        }
        let slack = on(&messages, Platform::Slack);
        let card = slack[0]
            .rich
            .as_ref()
            .expect("the Slack war room gets the card");
        let impact = card
            .fields
            .iter()
            .find(|f| f.label == "Impact")
            .expect("the card shows the impact");
        assert!(
            impact.value.ends_with("… (full text: inc show 1)"),
            "[{}] {}",
            backend.name,
            impact.value
        );
        // The label, the value and Slack's markup within a field's 2,000 characters.
        let field = format!("*{}*\n{}", impact.label, impact.value);
        assert!(runroom::platforms::slack::blocks::escaped_len(&field) <= 2000);
        // The console card keeps every word.
        let console = on(&messages, Platform::Console);
        let console_impact = &console[0].rich.as_ref().unwrap().fields;
        assert!(
            console_impact
                .iter()
                .any(|f| f.value.contains("R&D") && f.value.chars().count() >= 1700)
        );
    }
}

#[tokio::test]
async fn a_timeline_of_long_entries_is_split_into_numbered_parts() {
    for backend in backends().await {
        let t = engine_on(&backend);
        queued(
            t.say("console", "ana", "inc declare sev2 \"Couriers lost\"")
                .await,
        );
        for i in 0..40 {
            let note = format!("inc note {i}: {}", long_text(1900));
            queued(t.say("runroom", "ana", &note).await);
        }
        // The console is unbounded: the whole timeline in one message, which tells how long
        // the others' would be.
        let console = queued(t.say("console", "ana", "inc timeline INC-1").await);
        assert_eq!(
            console.len(),
            1,
            "[{}] the console is unbounded",
            backend.name
        );
        let whole = console[0].text.chars().count();
        for (room, platform, max) in [
            ("runroom", Platform::Slack, 40_000),
            ("campo", Platform::Whatsapp, 4096),
            ("soporte", Platform::Telegram, 4096),
        ] {
            let messages = queued(t.say(room, "ana", "inc timeline INC-1").await);
            assert_fits(&messages);
            if whole > max + max / 5 {
                assert!(
                    on(&messages, platform).len() >= 2,
                    "[{}] {room}: a timeline of {whole} characters is split",
                    backend.name
                );
            }
        }
    }
}
