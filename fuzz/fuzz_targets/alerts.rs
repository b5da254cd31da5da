//! An alert source's delivery in each format runroom reads (Alertmanager and Grafana share one).
#![no_main]

use libfuzzer_sys::fuzz_target;
use runroom::alerts::Format;

fuzz_target!(|body: &[u8]| {
    for format in [Format::Alertmanager, Format::Datadog, Format::Events] {
        let _ = format.parse(body);
    }
});
