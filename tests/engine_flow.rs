//! The engine end to end on every backend: commands in, incident state, timeline and rendered
//! outbox rows out, in one transaction each.

mod common;

use chrono::Duration;
use common::{TestEngine, backends, engine_on};
use runroom::engine::Outcome;
use runroom::engine::incident::{Severity, Status};
use runroom::engine::room::Platform;
use runroom::i18n::Lang;
use runroom::store::{MessageKind, NewOutbound};

fn messages(outcome: &Outcome) -> &[NewOutbound] {
    match outcome {
        Outcome::Handled { messages, .. } => messages,
        other => panic!("expected a handled command, got {other:?}"),
    }
}

fn ok(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Handled { ok: true, .. })
}

fn to_room<'a>(outcome: &'a Outcome, room: &str) -> &'a NewOutbound {
    messages(outcome)
        .iter()
        .find(|m| m.room_id == room)
        .unwrap_or_else(|| panic!("no message to {room} in {outcome:?}"))
}

async fn pending_count(t: &TestEngine, platform: Platform) -> usize {
    t.engine
        .store()
        .pending_outbox(platform, 1000)
        .await
        .unwrap()
        .len()
}

#[tokio::test]
async fn declare_broadcasts_to_every_room_in_its_language_and_zone() {
    for backend in backends().await {
        let t = engine_on(&backend);
        let out = t
            .say(
                "console",
                "joana",
                r#"inc declare sev1 "Checkout down" impact="cards failing""#,
            )
            .await;
        assert!(ok(&out), "[{}] {out:?}", t.backend);
        let msgs = messages(&out);
        assert_eq!(msgs.len(), 4, "reply + 3 broadcasts");

        let reply = to_room(&out, "console");
        assert_eq!(reply.kind, MessageKind::Reply);
        assert!(
            reply
                .text
                .contains("INC-1 declared — SEV1 (critical): Checkout down"),
            "{}",
            reply.text
        );
        assert!(reply.text.contains("Impact: cards failing"));
        assert!(
            reply.text.contains("13:00 UTC"),
            "console is UTC: {}",
            reply.text
        );

        let slack = to_room(&out, "runroom");
        assert_eq!(slack.kind, MessageKind::Broadcast);
        // 2026-03-02 13:00 UTC is 08:00 in New York (EST, before the March DST change).
        assert!(slack.text.contains("08:00 EST"), "{}", slack.text);

        let whatsapp = to_room(&out, "campo");
        assert_eq!(whatsapp.language, Lang::PtBr);
        assert!(
            whatsapp
                .text
                .contains("INC-1 declarado — SEV1 (crítico): Checkout down"),
            "{}",
            whatsapp.text
        );
        assert!(
            whatsapp.text.contains("02/03/2026 10:00"),
            "São Paulo: {}",
            whatsapp.text
        );

        // An announce room gets the customer-safe form: what is affected, no names, no card.
        let telegram = to_room(&out, "soporte");
        assert_eq!(telegram.language, Lang::Es);
        assert_eq!(
            telegram.text,
            "⚠️ Estamos investigando un problema que afecta cards failing (INC-1). Publicaremos novedades aquí."
        );
        assert_eq!(telegram.rich, None);

        // War rooms get the incident card in their own language, with its buttons.
        let card = whatsapp.rich.as_ref().expect("war rooms get the card");
        assert_eq!(card.title, "INC-1 · SEV1 (crítico) · Checkout down");
        assert!(
            card.fields
                .iter()
                .any(|f| f.label == "Estado" && f.value == "investigando")
        );
        assert!(
            card.fields
                .iter()
                .any(|f| f.label == "Comandante" && f.value == "ninguém ainda")
        );
        let buttons: Vec<(&str, &str)> = card
            .buttons
            .iter()
            .map(|b| (b.id.as_str(), b.label.as_str()))
            .collect();
        assert_eq!(
            buttons,
            [
                ("ack:1", "Ciente"),
                ("update:1", "Atualizar"),
                ("escalate:1", "Escalar"),
                ("resolve:1", "Resolver")
            ]
        );
        assert_eq!(slack.rich.as_ref().map(|r| r.buttons.len()), Some(4));

        for m in msgs {
            assert!(
                !m.text.contains('\u{2068}') && !m.text.contains('\u{2069}'),
                "isolation marks"
            );
        }
        // Committed, not just returned: each platform's queue holds its row.
        assert_eq!(pending_count(&t, Platform::Slack).await, 1);
        assert_eq!(pending_count(&t, Platform::Whatsapp).await, 1);
        assert_eq!(pending_count(&t, Platform::Telegram).await, 1);
        assert_eq!(pending_count(&t, Platform::Console).await, 1);
        let stored = t.engine.store().incident(1).await.unwrap().expect("stored");
        assert_eq!(stored.severity, Severity::Sev1);
        assert_eq!(stored.impact.as_deref(), Some("cards failing"));
    }
}

#[tokio::test]
async fn a_redelivered_event_acts_once() {
    for backend in backends().await {
        let t = engine_on(&backend);
        let inbound = t.inbound(
            "campo",
            "felipe",
            "incidente declarar sev2 Rastreio fora do ar",
        );
        let first = t.engine.handle(&inbound).await.unwrap();
        assert!(ok(&first));
        let again = t.engine.handle(&inbound).await.unwrap();
        assert_eq!(again, Outcome::Duplicate, "[{}]", t.backend);
        assert_eq!(t.engine.store().open_incidents().await.unwrap().len(), 1);
        assert_eq!(
            pending_count(&t, Platform::Slack).await,
            1,
            "no second broadcast"
        );
    }
}

#[tokio::test]
async fn a_whole_incident_lifecycle_in_three_languages() {
    for backend in backends().await {
        let t = engine_on(&backend);
        assert!(ok(&t
            .say("console", "joana", "inc declare Checkout slow")
            .await));
        let inc = t.engine.store().incident(1).await.unwrap().unwrap();
        assert_eq!(inc.severity, Severity::Sev3, "default severity");

        t.clock.advance(Duration::minutes(3));
        let sev = t.say("campo", "felipe", "inc severidade crítico").await;
        assert!(
            to_room(&sev, "campo")
                .text
                .contains("SEV3 (médio) → SEV1 (crítico)"),
            "{sev:?}"
        );
        assert!(
            to_room(&sev, "runroom")
                .text
                .contains("SEV3 (medium) → SEV1 (critical)")
        );

        let assign = t
            .say("soporte", "ana", "inc asignar comandante @joana")
            .await;
        assert!(
            to_room(&assign, "soporte")
                .text
                .contains("@joana es comandante del incidente"),
            "{assign:?}"
        );

        let ack = t.say("campo", "marcos", "inc ciente").await;
        assert!(ok(&ack));
        let again = t.say("console", "joana", "inc ack").await;
        assert!(!ok(&again));
        assert!(
            to_room(&again, "console")
                .text
                .contains("already acknowledged by marcos")
        );
        assert_eq!(messages(&again).len(), 1, "errors go to the sender only");

        t.clock.advance(Duration::minutes(7));
        let update = t
            .say(
                "console",
                "joana",
                r#"inc update impact="30% of orders" actions="rollback" next=15m blockers=none"#,
            )
            .await;
        let en = &to_room(&update, "console").text;
        assert!(en.starts_with("[13:10] INC-1 — update from joana"), "{en}");
        assert!(en.contains("Next check: 13:25 (in 15 min)"), "{en}");
        let pt = &to_room(&update, "campo").text;
        assert!(
            pt.starts_with("[10:10] INC-1 — atualização de joana"),
            "{pt}"
        );
        assert!(pt.contains("Bloqueios: none"), "{pt}");

        let note = t
            .say("console", "joana", "inc note DB failover started")
            .await;
        assert_eq!(messages(&note).len(), 1, "notes stay in their room");
        let fu = t
            .say(
                "console",
                "joana",
                "inc follow-up add alert on checkout errors",
            )
            .await;
        assert!(to_room(&fu, "console").text.contains("Follow-up #1"));

        let status = t.say("console", "joana", "inc status identified").await;
        assert!(ok(&status));
        let resolve = t
            .say("soporte", "ana", "inc resolver rollback completo")
            .await;
        let es = &to_room(&resolve, "soporte").text;
        assert!(
            es.contains("INC-1 resuelto por ana después de 10 min"),
            "{es}"
        );
        assert!(es.contains("Resumen: rollback completo"), "{es}");
        assert!(es.contains("Queda 1 seguimiento abierto"), "{es}");

        let twice = t.say("console", "joana", "inc resolve INC-1").await;
        assert!(
            to_room(&twice, "console")
                .text
                .contains("INC-1 is already resolved")
        );

        let stored = t.engine.store().incident(1).await.unwrap().unwrap();
        assert_eq!(stored.status, Status::Resolved);
        assert_eq!(
            stored.roles.get("commander").map(String::as_str),
            Some("@joana")
        );
        assert_eq!(stored.acked_by.as_deref(), Some("marcos"));

        let reopen = t
            .say("console", "joana", "inc reopen INC-1 errors are back")
            .await;
        assert!(
            to_room(&reopen, "runroom")
                .text
                .contains("INC-1 reopened by joana")
        );

        let timeline = t.engine.store().timeline(1, 100).await.unwrap();
        let kinds: Vec<&str> = timeline.iter().map(|e| e.event.kind()).collect();
        assert_eq!(
            kinds,
            [
                "declared",
                "severity_changed",
                "role_assigned",
                "acknowledged",
                "updated",
                "note",
                "follow_up_added",
                "status_changed",
                "resolved",
                "reopened"
            ],
            "[{}]",
            t.backend
        );
        assert_eq!(timeline[1].room, "campo");
        assert_eq!(timeline[1].actor, "felipe");
        assert_eq!(timeline[4].at, common::start_time() + Duration::minutes(10));

        let show = t.say("console", "joana", "inc show").await;
        let text = &to_room(&show, "console").text;
        assert!(text.contains("incident commander: @joana"), "{text}");
        assert!(
            text.contains("Follow-up #1: add alert on checkout errors"),
            "{text}"
        );
        let tl = t.say("campo", "felipe", "inc historico INC-1").await;
        assert!(
            to_room(&tl, "campo")
                .text
                .contains("Linha do tempo do INC-1")
        );
    }
}

#[tokio::test]
async fn bad_commands_store_nothing_but_a_localized_answer() {
    for backend in backends().await {
        let t = engine_on(&backend);
        let cases = [
            ("console", "inc declre sev1 x", "did you mean `inc declare`"),
            ("console", "inc declare sev1", "An incident needs a title"),
            (
                "campo",
                "inc declarar sev=9 Fora",
                "“9” não é uma severidade",
            ),
            (
                "soporte",
                "inc entendido",
                "No hay ningún incidente abierto",
            ),
            ("console", "inc note \u{7}beep", "control characters"),
            ("console", "inc show INC-42", "There is no incident INC-42"),
            ("campo", "inc reabrir", "Qual incidente?"),
        ];
        for (room, text, expected) in cases {
            let out = t.say(room, "joana", text).await;
            assert!(!ok(&out), "[{}] {text} should fail", t.backend);
            let answer = &to_room(&out, room).text;
            assert!(
                answer.contains(expected),
                "[{}] {text}: {answer}",
                t.backend
            );
        }
        let huge = format!("inc declare {}", "x".repeat(300));
        let out = t.say("console", "joana", &huge).await;
        assert!(
            to_room(&out, "console")
                .text
                .contains("The title is too long: 300 characters, at most 200")
        );
        assert!(
            t.engine
                .store()
                .recent_incidents(10)
                .await
                .unwrap()
                .is_empty(),
            "nothing stored half-way"
        );
        assert_eq!(
            pending_count(&t, Platform::Slack).await,
            0,
            "no broadcast for a bad command"
        );
    }
}

#[tokio::test]
async fn the_reference_is_needed_only_when_several_are_open() {
    for backend in backends().await {
        let t = engine_on(&backend);
        t.say("console", "joana", "inc declare sev2 Checkout slow")
            .await;
        t.say("console", "joana", "inc declare sev3 Tracking stale")
            .await;
        let out = t.say("console", "joana", "inc ack").await;
        let text = &to_room(&out, "console").text;
        assert!(
            text.contains("2 incidents are open (INC-1, INC-2)"),
            "{text}"
        );
        assert!(ok(&t.say("console", "joana", "inc ack INC-2").await));
        let role = t
            .say("console", "joana", "inc assign INC-2 janitor @x")
            .await;
        let text = &to_room(&role, "console").text;
        assert!(
            text.contains("“janitor” is not a role here. Roles: commander, comms, scribe, liaison"),
            "{text}"
        );
        assert!(ok(&t
            .say("console", "joana", "inc assign INC-2 liaison @ana")
            .await));
        let list = t.say("campo", "felipe", "inc listar").await;
        let text = &to_room(&list, "campo").text;
        assert!(text.contains("2 incidentes abertos"), "{text}");
        assert!(
            text.contains("INC-2 · SEV3 (médio) · investigando · Tracking stale"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_room_can_change_its_language() {
    for backend in backends().await {
        let t = engine_on(&backend);
        let out = t.say("runroom", "joana", "inc lang es").await;
        assert!(
            to_room(&out, "runroom")
                .text
                .contains("Esta sala ahora habla español")
        );
        let declare = t
            .say("console", "joana", "inc declare sev4 Typo on status page")
            .await;
        assert!(
            to_room(&declare, "runroom")
                .text
                .contains("declarado — SEV4 (bajo)"),
            "{declare:?}"
        );
        assert!(
            to_room(&declare, "console")
                .text
                .contains("declared — SEV4 (low)")
        );
    }
}

#[tokio::test]
async fn ordinary_chat_is_ignored() {
    let backend = common::sqlite().await;
    let t = engine_on(&backend);
    assert_eq!(
        t.say("campo", "felipe", "bom dia, pessoal").await,
        Outcome::Ignored
    );
    assert_eq!(pending_count(&t, Platform::Whatsapp).await, 0);
}

#[tokio::test]
async fn concurrent_changes_to_one_incident_are_all_kept() {
    for backend in backends().await {
        let t = std::sync::Arc::new(engine_on(&backend));
        assert!(ok(&t
            .say("console", "joana", "inc declare sev2 Queue backlog")
            .await));
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let t = t.clone();
                // Half name the incident, half rely on it being the only open one.
                let text = if i % 2 == 0 {
                    format!("inc follow-up INC-1 action {i}")
                } else {
                    format!("inc follow-up action {i}")
                };
                tokio::spawn(async move { t.say("console", "joana", &text).await })
            })
            .collect();
        for task in tasks {
            assert!(ok(&task.await.unwrap()));
        }
        let stored = t.engine.store().incident(1).await.unwrap().unwrap();
        let mut numbers: Vec<u32> = stored.follow_ups.iter().map(|f| f.number).collect();
        numbers.sort();
        assert_eq!(
            numbers,
            (1..=12).collect::<Vec<u32>>(),
            "[{}] no change lost",
            t.backend
        );
        assert_eq!(t.engine.store().timeline(1, 100).await.unwrap().len(), 13);
    }
}

#[tokio::test]
async fn announce_rooms_hear_only_the_customer_safe_part() {
    let backend = common::sqlite().await;
    let t = engine_on(&backend);
    t.say("console", "joana", "inc declare sev2 \"Tracking stale\"")
        .await;
    for internal in [
        "inc ack",
        "inc assign commander @joana",
        "inc status identified",
        "inc note db failover",
    ] {
        let out = t.say("console", "joana", internal).await;
        assert!(
            messages(&out).iter().all(|m| m.room_id != "soporte"),
            "{internal} must not reach the announce room"
        );
    }
    let update = t
        .say("console", "joana", r#"inc update "Couriers see positions again" actions="restart gps-ingest" blockers="vendor ticket" next=30m"#)
        .await;
    let public = &to_room(&update, "soporte").text;
    assert!(public.contains("Couriers see positions again"), "{public}");
    assert!(
        public.contains("Próxima actualización alrededor de las 08:30"),
        "Bogotá time: {public}"
    );
    for secret in ["restart gps-ingest", "vendor ticket", "joana"] {
        assert!(!public.contains(secret), "{secret} leaked: {public}");
    }
    let resolved = t.say("console", "joana", "inc resolve").await;
    assert!(to_room(&resolved, "soporte").text.contains("está resuelto"));
}
