//! A configuration file: loading it never panics, and what loads can be checked through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use runroom::config::Config;

fuzz_target!(|text: &str| {
    if let Ok(config) = Config::parse(text, "fuzz.toml", &[]) {
        let _ = config.rooms();
        let _ = config.alert_routes();
        let _ = config.heartbeats();
    }
});
