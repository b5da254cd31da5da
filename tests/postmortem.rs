//! The postmortem draft of a scripted incident on a hand-moved clock: declared SEV2, acknowledged
//! after 4 minutes, updated on time, raised to SEV1, escalated by hand, updated late against the
//! SEV1 cadence, identified, resolved after 50 minutes. Its figures are exact, in English,
//! Portuguese and Spanish (headings and labels translated, times in the asked zone); the chat
//! answer gives the figures and where the whole draft is; nobody's phone number gets in.

mod common;

use std::sync::Arc;

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Duration;
use runroom::config::Config;
use runroom::engine::clock::{Clock, ManualClock};
use runroom::engine::incident::{Incident, TimelineEntry};
use runroom::engine::policy::Policies;
use runroom::engine::{Engine, EngineSettings, Outcome};
use runroom::i18n::{I18n, Lang};
use runroom::postmortem::Format;
use runroom::scheduler::{Scheduler, SchedulerConfig};
use runroom::store::OutboxState;

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

[[rotations]]
id = "field"
timezone = "UTC"
start = "2026-03-01 09:00"
people = ["lead"]
rooms = ["console"]
"#;

fn policies() -> Policies {
    let text = format!("{}{CONFIG}", common::rooms_toml());
    let config = Config::parse(&text, "postmortem test", &[]).expect("config");
    config
        .policies(&config.rooms().expect("rooms"))
        .expect("policies")
}

struct Scripted {
    engine: Arc<Engine>,
    clock: Arc<ManualClock>,
    policies: Policies,
    events: AtomicU64,
}

impl Scripted {
    fn new(store: &common::TestStore) -> Scripted {
        let policies = policies();
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = Arc::new(Engine::new(
            store.store.clone(),
            Arc::new(I18n::new().expect("locales")),
            clock.clone(),
            EngineSettings {
                rooms: common::rooms(),
                policies: policies.clone(),
                reaches: runroom::platforms::reaches(),
                ..Default::default()
            },
        ));
        Scripted {
            engine,
            clock,
            policies,
            events: AtomicU64::new(1),
        }
    }

    /// Moves the clock to `minutes` after the declaration (never back).
    fn to(&self, minutes: i64) {
        let at = common::start_time() + Duration::minutes(minutes);
        let now = self.clock.now();
        if at > now {
            self.clock.advance(at - now);
        }
    }

    /// `text` typed in `room` by `author`, `minutes` after the declaration.
    async fn at(&self, minutes: i64, room: &str, author: &str, text: &str) -> Outcome {
        self.to(minutes);
        let n = self.events.fetch_add(1, Ordering::SeqCst);
        let inbound = common::inbound(room, author, text, format!("evt-{n}"), self.clock.now());
        self.engine.handle(&inbound).await.expect("handled")
    }

    fn draft(
        &self,
        (incident, timeline): (&Incident, &[TimelineEntry]),
        lang: Lang,
        format: Format,
    ) -> String {
        runroom::postmortem::write(
            (incident, timeline),
            &self.policies,
            &I18n::new().expect("locales"),
            (format, lang, chrono_tz::America::Sao_Paulo),
            self.clock.now(),
        )
    }
}

async fn scripted(store: &common::TestStore) -> Scripted {
    let s = Scripted::new(store);
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

        let en = s.draft((&incident, &timeline), Lang::En, Format::Md);
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

        let pt = s.draft((&incident, &timeline), Lang::PtBr, Format::Md);
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
        let es = s.draft((&incident, &timeline), Lang::Es, Format::Md);
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
        let json = s.draft((&incident, &timeline), Lang::En, Format::Json);
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

/// The war rooms' postmortem reminders so far (the console room's copies).
async fn reminders(store: &common::TestStore) -> usize {
    let mut rows = store
        .store
        .pending_outbox(runroom::engine::room::Platform::Console, 1000)
        .await
        .expect("outbox");
    rows.extend(
        store
            .store
            .outbox_in_state(OutboxState::Sent, 1000)
            .await
            .expect("outbox"),
    );
    rows.iter()
        .filter(|r| {
            r.message.text.contains("postmortem of INC-") && r.message.text.contains("was due")
        })
        .count()
}

#[tokio::test]
async fn a_due_postmortem_is_asked_for_daily_until_done_and_a_reopening_cancels_it() {
    for store in common::backends().await {
        let backend = store.name;
        let s = scripted(&store).await;
        let scheduler = Scheduler::new(s.engine.clone(), SchedulerConfig::default(), "test");
        let hours = |h: i64| 50 + h * 60;
        // The handoff lists it while it is due, and no longer once it is written.
        let preview = |outcome: Outcome| match outcome {
            Outcome::Handled { messages, .. } => messages[0].text.clone(),
            other => panic!("{other:?}"),
        };
        let listed = preview(s.at(60, "console", "ana", "inc handoff preview").await);
        assert!(
            listed.contains("INC-1 · Checkout down: postmortem due"),
            "[{backend}] {listed}"
        );
        // SEV1 (since it was raised): due 48 h after the resolve at minute 50.
        s.to(hours(47));
        scheduler.drain().await.expect("tick");
        assert_eq!(reminders(&store).await, 0, "[{backend}] not due yet");
        s.to(hours(48));
        scheduler.drain().await.expect("tick");
        assert_eq!(reminders(&store).await, 1, "[{backend}] due at 48 h");
        let incident = s.engine.store().incident(1).await.unwrap().unwrap();
        assert_eq!(
            incident.postmortem_due_at,
            Some(common::start_time() + Duration::minutes(hours(48)))
        );
        // Then daily.
        s.to(hours(48 + 23));
        scheduler.drain().await.expect("tick");
        assert_eq!(reminders(&store).await, 1, "[{backend}]");
        s.to(hours(48 + 24));
        scheduler.drain().await.expect("tick");
        assert_eq!(reminders(&store).await, 2, "[{backend}] a day later");

        // Written: recorded on the timeline, broadcast, and the reminders stop.
        let done = s
            .at(
                hours(49 + 24),
                "console",
                "ana",
                "inc postmortem INC-1 done https://wiki.example/pm/1",
            )
            .await;
        assert!(
            matches!(done, Outcome::Handled { ok: true, .. }),
            "{done:?}"
        );
        let timeline = s.engine.store().timeline(1, 100).await.unwrap();
        assert_eq!(
            timeline.last().map(|e| e.event.kind()),
            Some("postmortem_done")
        );
        s.to(hours(48 + 24 * 5));
        scheduler.drain().await.expect("tick");
        assert_eq!(
            reminders(&store).await,
            2,
            "[{backend}] no reminder once written"
        );
        let listed = preview(
            s.at(hours(48 + 24 * 5), "console", "ana", "inc handoff preview")
                .await,
        );
        assert!(
            !listed.contains("INC-1 · Checkout down"),
            "[{backend}] {listed}"
        );

        // A second incident: resolved, then reopened before its postmortem falls due; resolved
        // again later, it is due 48 h after that resolve.
        let base = hours(48 + 24 * 5);
        s.at(base, "console", "ana", "inc declare sev1 Queue stuck")
            .await;
        s.at(base + 10, "console", "ana", "inc resolve INC-2").await;
        s.at(base + 20, "console", "ana", "inc reopen INC-2 it is back")
            .await;
        s.to(base + 10 + 48 * 60 + 1);
        scheduler.drain().await.expect("tick");
        assert_eq!(
            reminders(&store).await,
            2,
            "[{backend}] reopened: nothing due"
        );
        let again = base + 10 + 48 * 60 + 30;
        s.at(again, "console", "ana", "inc resolve INC-2 fixed for good")
            .await;
        s.to(again + 48 * 60);
        scheduler.drain().await.expect("tick");
        assert_eq!(
            reminders(&store).await,
            3,
            "[{backend}] due again after the new resolve"
        );

        // At most three reminders, a day apart.
        for (day, expected) in [(1, 4), (2, 5), (3, 5), (4, 5)] {
            s.to(again + 48 * 60 + day * 24 * 60);
            scheduler.drain().await.expect("tick");
            assert_eq!(reminders(&store).await, expected, "[{backend}] day {day}");
        }

        // Skipped in Spanish: recorded, and its reminders stop too.
        let skip = s
            .at(
                again + 48 * 60 + 4 * 24 * 60 + 5,
                "soporte",
                "lucia",
                "inc postmortem INC-2 omitir falsa alarma",
            )
            .await;
        assert!(
            matches!(skip, Outcome::Handled { ok: true, .. }),
            "{skip:?}"
        );
        assert_eq!(
            s.engine
                .store()
                .incident(2)
                .await
                .unwrap()
                .unwrap()
                .postmortem
                .map(|p| p.done),
            Some(false)
        );
    }
}

#[tokio::test]
async fn the_report_gives_exact_medians_and_postmortem_counts_per_severity() {
    for store in common::backends().await {
        let backend = store.name;
        let s = Scripted::new(&store);
        // Five SEV2s a day apart: acknowledged after 1, 2, 3, 4 and 10 minutes, resolved after
        // 10, 20, 30, 40 and 100.
        let day = 24 * 60;
        for (i, (ack, resolve)) in [(1, 10), (2, 20), (3, 30), (4, 40), (10, 100)]
            .into_iter()
            .enumerate()
        {
            let start = i as i64 * day;
            let n = i + 1;
            s.at(
                start,
                "console",
                "ana",
                &format!("inc declare sev2 Case {n}"),
            )
            .await;
            s.at(start + ack, "console", "bruno", &format!("inc ack INC-{n}"))
                .await;
            if n == 1 {
                s.at(start + 5, "console", "ana", "inc update INC-1 looking")
                    .await;
                s.at(
                    start + 6,
                    "console",
                    "ana",
                    "inc update INC-1 still looking",
                )
                .await;
            }
            s.at(
                start + resolve,
                "console",
                "ana",
                &format!("inc resolve INC-{n}"),
            )
            .await;
        }
        // One SEV1, still open.
        s.at(5 * day, "console", "ana", "inc declare sev1 Open one")
            .await;
        // INC-1's postmortem written in time, INC-2's skipped; the other three are due 5 days
        // after their resolves.
        s.at(
            5 * day + 1,
            "console",
            "ana",
            "inc postmortem INC-1 done https://wiki.example/1",
        )
        .await;
        s.at(
            5 * day + 2,
            "console",
            "ana",
            "inc postmortem INC-2 skip duplicate of INC-1",
        )
        .await;
        s.to(9 * day + 5);
        let now = s.clock.now();
        let since = common::start_time() - Duration::minutes(1);
        let incidents = store.store.declared_since(since, 1000).await.unwrap();
        assert_eq!(incidents.len(), 6, "[{backend}]");
        let report = runroom::postmortem::report::report(&incidents, since, now);
        let sev2 = report
            .severities
            .iter()
            .find(|f| f.severity == runroom::engine::incident::Severity::Sev2)
            .expect("SEV2s");
        assert_eq!(sev2.incidents, 5);
        assert_eq!(sev2.ack_p50_seconds, Some(3 * 60), "[{backend}]");
        assert_eq!(sev2.ack_p90_seconds, Some(10 * 60), "[{backend}]");
        assert_eq!(sev2.resolve_p50_seconds, Some(30 * 60), "[{backend}]");
        assert_eq!(sev2.resolve_p90_seconds, Some(100 * 60), "[{backend}]");
        assert!(
            (sev2.updates_per_incident - 0.4).abs() < 1e-9,
            "{}",
            sev2.updates_per_incident
        );
        // Due 5 days after each resolve: INC-3's and INC-4's have passed (days 7 and 8), INC-5's
        // (day 9 + 100 min) has not.
        assert_eq!(
            sev2.postmortems.on_time, 1,
            "[{backend}] {:?}",
            sev2.postmortems
        );
        assert_eq!(sev2.postmortems.skipped, 1);
        assert_eq!(sev2.postmortems.missing, 2);
        assert_eq!(sev2.postmortems.pending, 1);
        let sev1 = &report.severities[0];
        assert_eq!((sev1.incidents, sev1.resolved), (1, 0));
        assert_eq!(runroom::postmortem::report::overdue(&incidents, now), 2);
        let text = I18n::new().unwrap().render(
            Lang::PtBr,
            chrono_tz::UTC,
            &runroom::postmortem::report::message(&report),
        );
        assert!(
            text.contains("reconhecidos em 3 min (mediana), 10 min (p90)"),
            "{text}"
        );
    }
}
