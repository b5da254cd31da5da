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
