//! Property tests: no input makes the parser panic, and what it accepts it accepts in any case.

use proptest::prelude::*;
use runroom::engine::command::{Command, parse};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_any_text(text in "\\PC*") {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_anything_addressed_to_the_bot(
        prefix in prop::sample::select(vec!["inc", "/inc", "!inc", "incidente", "INC"]),
        verb in prop::sample::select(vec!["declare", "sev", "status", "assign", "ack", "update", "note",
            "follow-up", "resolve", "reopen", "list", "show", "timeline", "help", "lang", "atualizar", "x"]),
        rest in "[ -~\"“”'=#\\n\\tçãéñ\\u{7}\\u{202e}]{0,80}",
    ) {
        let _ = parse(&format!("{prefix} {verb} {rest}"));
    }

    #[test]
    fn titles_survive_intact(title in "[A-Za-z0-9çãéõ][A-Za-z0-9 çãéõ.,:-]{0,60}") {
        let parsed = parse(&format!("inc declare sev2 \"{title}\""));
        prop_assert_eq!(
            parsed,
            Some(Ok(Command::Declare {
                title: title.trim().to_string(),
                severity: Some(runroom::engine::incident::Severity::Sev2),
                impact: None,
                playbook: None,
            }))
        );
    }
}

/// The config loader's fuzz seeds (`fuzz/seeds/config`, cut from `examples/runroom.toml` into
/// pieces small enough to fuzz quickly) each load: a seed that fails early would leave the
/// validation after that point unfuzzed.
#[test]
fn every_config_fuzz_seed_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/config");
    let mut seeds = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let origin = path.display().to_string();
        if let Err(e) = runroom::config::Config::parse(&text, &origin, &[]) {
            panic!("{origin}: {e}");
        }
        seeds += 1;
    }
    assert!(seeds >= 5, "{seeds} seeds");
}
