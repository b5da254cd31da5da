//! A signed Slack delivery's body: an Events API event or a slash command, read as the webhook
//! reads it, then made into what the engine is handed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runroom::platforms::slack::inbound;
use slack_morphism::prelude::{SlackCommandEvent, SlackPushEvent};

fuzz_target!(|body: &[u8]| {
    let now = chrono::Utc::now();
    if let Ok(SlackPushEvent::EventCallback(callback)) = serde_json::from_slice(body) {
        if let Some(inbound) = inbound::from_event(&callback, now) {
            let _ = inbound.command();
        }
    }
    if let Ok(command) = serde_urlencoded::from_bytes::<SlackCommandEvent>(body) {
        let _ = inbound::from_command(&command, now).command();
    }
});
