//! A signed Meta webhook delivery and an Evolution delivery, read as the webhooks read them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runroom::platforms::whatsapp::{evolution, inbound};

fuzz_target!(|body: &[u8]| {
    let now = chrono::Utc::now();
    let _ = inbound::parse(body, now, "106540352242922");
    let _ = evolution::parse(body, now);
});
