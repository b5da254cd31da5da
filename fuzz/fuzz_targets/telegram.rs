//! A Bot API update, read as the webhook reads it, then made into what the engine is handed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runroom::platforms::telegram::inbound;

fuzz_target!(|body: &[u8]| {
    if let Ok(update) = serde_json::from_slice::<teloxide_core::types::Update>(body) {
        if let Some(inbound) = inbound::message(&update, Some("RunroomBot"), chrono::Utc::now()) {
            let _ = inbound.command();
        }
    }
});
