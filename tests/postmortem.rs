//! The postmortem draft of a scripted incident on a hand-moved clock: declared SEV2, acknowledged
//! after 4 minutes, updated on time, raised to SEV1, escalated by hand, updated late against the
//! SEV1 cadence, identified, resolved after 50 minutes. Its figures are exact, in English,
//! Portuguese and Spanish (headings and labels translated, times in the asked zone); the chat
//! answer gives the figures and where the whole draft is; nobody's phone number gets in.

mod common;

use std::sync::Arc;

use chrono::Duration;
use runroom::config::Config;
use runroom::engine::policy::Policies;
use runroom::engine::{Engine, EngineSettings, Outcome};
use runroom::i18n::{I18n, Lang};
use runroom::postmortem::Format;

const CONFIG: &str = r#"
[reminders]
sev1 = "15m"
sev2 = "30m"

[[people]]
id = "lead"
name = "Lead"
whatsapp = "+55 11 98765-4321"

[[escalation]]
severities = ["sev1"]
steps = [{ after = "30m", notify = ["lead"] }]
"#;

fn policies() -> Policies {
    let text = format!("{}{CONFIG}", common::rooms_toml());
    let config = Config::parse(&text, "postmortem test", &[]).expect("config");
    config
        .policies(&config.rooms().expect("rooms"))
        .expect("policies")
}

struct Scripted {
    t: common::TestEngine,
    policies: Policies,
}

impl Scripted {
    /// `text` typed in `room` by `author`, `minutes` after the declaration.
    async fn at(&self, minutes: i64, room: &str, author: &str, text: &str) -> Outcome {
        let now = self.t.clock_now();
        let at = common::start_time() + Duration::minutes(minutes);
        if at > now {
            self.t.clock.advance(at - now);
        }
        self.t.say(room, author, text).await
    }

    fn draft(
        &self,
        incident: &runroom::engine::incident::Incident,
        timeline: &[runroom::engine::incident::TimelineEntry],
        lang: Lang,
        format: Format,
    ) -> String {
        runroom::postmortem::write(
            (incident, timeline),
            &self.policies,
            &I18n::new().expect("locales"),
            (format, lang, chrono_tz::America::Sao_Paulo),
            self.t.clock_now(),
        )
    }
}

async fn scripted(store: &common::TestStore) -> Scripted {
    let policies = policies();
    let clock = Arc::new(runroom::engine::clock::ManualClock::new(
        common::start_time(),
    ));
    let engine = Engine::new(
        store.store.clone(),
        Arc::new(I18n::new().expect("locales")),
        clock.clone(),
        EngineSettings {
            rooms: common::rooms(),
            policies: policies.clone(),
            reaches: runroom::platforms::reaches(),
            ..Default::default()
        },
    );
    let t = common::TestEngine::from_parts(engine, clock, store.name);
    let s = Scripted { t, policies };
    s.at(
        0,
        "console",
        "ana",
        r#"inc declare sev2 "Checkout down" impact="card payments failing""#,
    )
    .await;
    s.at(4, "console", "bruno", "inc ack").await;
    s.at(
        20,
        "console",
        "ana",
        "inc update first look: the payment gateway times out",
    )
    .await;
    s.at(22, "console", "ana", "inc sev sev1").await;
    // From the WhatsApp group, by someone WhatsApp knows only by number.
    s.at(
        24,
        "campo",
        "+55 11 91234-5678",
        "inc note called the acquirer on +55 11 93333-2222",
    )
    .await;
    s.at(25, "console", "ana", "inc escalate").await;
    // Due at 20 + 15 (SEV1 since 22): late.
    s.at(
        40,
        "console",
        "ana",
        "inc update impact=\"card payments degraded\" gateway restarted",
    )
    .await;
    s.at(
        41,
        "console",
        "ana",
        "inc follow-up add a timeout alarm on the gateway",
    )
    .await;
    s.at(42, "console", "ana", "inc status identified").await;
    s.at(
        50,
        "console",
        "ana",
        "inc resolve Gateway restarted; traffic back",
    )
    .await;
    s
}

#[tokio::test]
async fn the_draft_has_exact_figures_in_three_languages_and_no_phone_numbers() {
    for store in common::backends().await {
        let s = scripted(&store).await;
        let backend = store.name;
        let (incident, timeline) = runroom::postmortem::load(store.store.as_ref(), 1)
            .await
            .expect("read")
            .expect("the incident");

        let en = s.draft(&incident, &timeline, Lang::En, Format::Md);
        for line in [
            "# Postmortem draft: INC-1 · Checkout down",
            "## Response figures",
            "- **Time to acknowledge**: 4 min",
            "- **Time to the first update**: 20 min",
            "- **Time to identify**: 42 min",
            "- **Time to resolve**: 50 min",
            "- **Updates**: 2 (1 late against the cadence)",
            "## Root cause",
            "## Where we got lucky",
            "Gateway restarted; traffic back",
        ] {
            assert!(en.contains(line), "[{backend}] {line:?} in:\n{en}");
        }
        assert!(en.contains("- **Update cadence**: missed"), "{en}");
        assert!(en.contains("step 1 of 1 by hand at"), "{en}");
        // The impact statements, latest first.
        let degraded = en.find("card payments degraded").expect("the later impact");
        let failing = en.find("card payments failing").expect("the first impact");
        assert!(degraded < failing, "latest first:\n{en}");
        // Severity history, and the open follow-up as an action item.
        assert!(en.contains("SEV2"), "{en}");
        assert!(
            en.contains("- [ ] #1 add a timeout alarm on the gateway"),
            "{en}"
        );
        // Key events in bold on the timeline, in the asked zone (13:00 UTC is 10:00 there).
        assert!(en.contains("10:00"), "São Paulo time:\n{en}");
        assert!(en.contains("· **declared"), "{en}");

        let pt = s.draft(&incident, &timeline, Lang::PtBr, Format::Md);
        for line in [
            "# Rascunho de pós-incidente: INC-1 · Checkout down",
            "## Números da resposta",
            "- **Tempo até reconhecer**: 4 min",
            "- **Tempo até resolver**: 50 min",
            "- **Atualizações**: 2 (1 atrasadas em relação à cadência)",
            "## Causa raiz",
            "## Onde tivemos sorte",
        ] {
            assert!(pt.contains(line), "[{backend}] {line:?} in:\n{pt}");
        }
        let es = s.draft(&incident, &timeline, Lang::Es, Format::Md);
        for line in [
            "# Borrador de postmortem: INC-1 · Checkout down",
            "## Cifras de la respuesta",
            "- **Tiempo hasta tomarlo**: 4 min",
            "- **Tiempo hasta identificar**: 42 min",
            "## Qué salió bien",
        ] {
            assert!(es.contains(line), "[{backend}] {line:?} in:\n{es}");
        }

        // No phone number, in any form: not the author's, not one typed in a note, not the
        // paged person's.
        let json = s.draft(&incident, &timeline, Lang::En, Format::Json);
        for document in [&en, &pt, &es, &json] {
            for digits in ["91234", "93333", "98765"] {
                assert!(
                    !document.contains(digits),
                    "[{backend}] {digits} in:\n{document}"
                );
            }
        }
        let figures: serde_json::Value = serde_json::from_str(&json).expect("JSON");
        assert_eq!(figures["figures"]["time_to_acknowledge_seconds"], 240);
        assert_eq!(figures["figures"]["time_to_resolve_seconds"], 3000);
        assert_eq!(figures["figures"]["late_updates"], 1);
    }
}

#[tokio::test]
async fn in_chat_the_answer_is_the_figures_and_where_to_read_the_draft() {
    let store = common::sqlite().await;
    let s = scripted(&store).await;
    let answer = |outcome: Outcome| match outcome {
        Outcome::Handled { ok, messages, .. } => (ok, messages[0].text.clone()),
        other => panic!("{other:?}"),
    };
    let (ok, text) = answer(s.at(51, "console", "ana", "inc postmortem INC-1").await);
    assert!(ok, "{text}");
    assert!(text.contains("acknowledged after 4 min"), "{text}");
    assert!(text.contains("resolved after 50 min"), "{text}");
    assert!(
        text.contains("runroom incidents postmortem INC-1 --locale en"),
        "{text}"
    );
    assert!(
        text.contains("/api/incidents/1/postmortem?format=md&locale=en"),
        "{text}"
    );
    assert!(!text.contains("## "), "not the document itself: {text}");

    // In Portuguese from the WhatsApp group, accents optional.
    let (ok, text) = answer(s.at(52, "campo", "bruno", "inc pos-incidente INC-1").await);
    assert!(ok, "{text}");
    assert!(text.contains("reconhecido após 4 min"), "{text}");
    assert!(text.contains("--locale pt-BR"), "{text}");

    // Which incident must be said: "the open one" cannot mean a resolved one.
    let (ok, text) = answer(s.at(53, "console", "ana", "inc postmortem").await);
    assert!(!ok, "{text}");
    assert!(text.contains("INC-n"), "{text}");
}
