//! Any text a room can send: the command parser (and the mention form) never panics, and what
//! it parses has a verb.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runroom::engine::command;

fuzz_target!(|text: &str| {
    if let Some(Ok(parsed)) = command::parse(text) {
        let _ = parsed.verb().name();
    }
    let _ = command::parse_mention(text);
    let _ = command::parse_minutes(text);
    let _ = command::parse_incident_ref(text);
});
