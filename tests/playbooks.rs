//! Playbooks as code, on a hand-moved clock, on both backends: declared with `playbook=` in
//! Portuguese, its first actions in each war room's language, roles filled, its cadence and
//! escalation policy planned, customer messages in the announce room's language on declare,
//! update and resolve, a second playbook layered on, the checklist ticked with `inc check` and
//! counted on the card, the errors, and a playbook an alert's labels start.

mod common;

use std::sync::Arc;

use runroom::alerts::SourceRules;
use runroom::alerts::model::{Alert, AlertStatus};
use runroom::config::Config;
use runroom::engine::clock::{Clock, ManualClock};
use runroom::engine::incident::{Severity, Status};
use runroom::engine::{Engine, EngineSettings, Outbound, Outcome};
use runroom::store::{JobKind, JobState};

/// A Spanish war room, a Portuguese announce room, the people, a named escalation policy and
/// two playbooks (with `common::room_toml`'s console, campo and soporte rooms).
const CONFIG: &str = r#"
[[rooms]]
id = "guardia"
platform = "telegram"
chat = "-1009876543210"
language = "es"

[[rooms]]
id = "lojistas"
platform = "slack"
chat = "C0LOJISTAS"
language = "pt-BR"
role = "announce"

[[people]]
id = "joana"
name = "Joana"
slack = "U0JOANA"

[[people]]
id = "partner"
name = "Meta partner manager"
slack = "U0META"

[[escalation]]
id = "meta-partner"
steps = [{ after = "30m", notify = ["partner"] }]

[[playbooks]]
id = "whatsapp-latency"
title = { en = "WhatsApp API latency", pt-BR = "Latência da API do WhatsApp", es = "Latencia de la API de WhatsApp" }
severity = "sev2"
matchers = ['monitor = "whatsapp.api.latency"']
first_actions = [
  { en = "Check the Meta status page", pt-BR = "Verificar a página de status da Meta", es = "Revisar la página de estado de Meta" },
  { en = "Capture a traceroute", pt-BR = "Capturar um traceroute", es = "Capturar un traceroute" },
  { en = "Reduce push frequency with the feature flag", pt-BR = "Reduzir a frequência de push pela feature flag", es = "Reducir la frecuencia de push con el feature flag" },
]
escalation = "meta-partner"
roles = { commander = "joana" }
update_every = "20m"
links = ["https://metastatus.com/whatsapp-business-api"]

[playbooks.customer]
declared = { en = "We are seeing slowness in WhatsApp messages.", pt-BR = "Estamos enfrentando lentidão nas mensagens do WhatsApp.", es = "Estamos experimentando lentitud en los mensajes de WhatsApp." }
update = { en = "We are still working on the WhatsApp slowness.", pt-BR = "Seguimos trabalhando na lentidão do WhatsApp.", es = "Seguimos trabajando en la lentitud de WhatsApp." }
resolved = { en = "WhatsApp messages are flowing normally again.", pt-BR = "As mensagens do WhatsApp voltaram ao normal.", es = "Los mensajes de WhatsApp volvieron a la normalidad." }

[[playbooks]]
id = "mcp-offline"
title = "MCP executor offline"
first_actions = ["Restart the uv process", "Reroute tasks to the Windsurf agent"]
"#;

struct Bot {
    engine: Engine,
    clock: Arc<ManualClock>,
    next: u64,
    _store: common::TestStore,
}

impl Bot {
    fn new(store: common::TestStore) -> Bot {
        let rooms: String = ["console", "campo", "soporte"]
            .iter()
            .map(|id| common::room_toml(id))
            .collect();
        let config = Config::parse(&format!("{rooms}{CONFIG}"), "test", &[]).expect("config");
        let rooms = config.rooms().expect("rooms");
        let clock = Arc::new(ManualClock::new(common::start_time()));
        let engine = Engine::new(
            store.store.clone(),
            Arc::new(runroom::i18n::I18n::new().expect("locales")),
            clock.clone(),
            EngineSettings {
                policies: config.policies(&rooms).expect("policies"),
                rooms,
                reaches: runroom::platforms::reaches(),
                ..Default::default()
            },
        );
        Bot {
            engine,
            clock,
            next: 0,
            _store: store,
        }
    }

    /// What `author` typed in `room`: whether it succeeded, and the messages.
    async fn say(&mut self, room: &str, author: &str, text: &str) -> (bool, Vec<Outbound>) {
        self.next += 1;
        let inbound = common::inbound(
            room,
            author,
            text,
            format!("pb-{}", self.next),
            self.clock.now(),
        );
        match self.engine.handle(&inbound).await.expect("handled") {
            Outcome::Handled { ok, messages, .. } => (ok, messages),
            other => panic!("{text}: {other:?}"),
        }
    }

    async fn incident(&self, n: i64) -> runroom::engine::incident::Incident {
        self.engine
            .store()
            .incident(n)
            .await
            .expect("read")
            .expect("incident")
    }
}

fn text_for<'m>(messages: &'m [Outbound], room: &str, containing: &str) -> Option<&'m str> {
    messages
        .iter()
        .filter(|m| m.room_id == room)
        .map(|m| m.text.as_str())
        .find(|t| t.contains(containing))
}

#[tokio::test]
async fn a_playbook_runs_an_incident_in_every_room_and_language() {
    for backend in common::backends().await {
        let name = backend.name;
        let mut bot = Bot::new(backend);

        // Declared from the field's Portuguese room with its playbook.
        let (ok, messages) = bot
            .say(
                "campo",
                "marcos",
                r#"inc declarar "Lentidão no WhatsApp" roteiro=whatsapp-latency"#,
            )
            .await;
        assert!(ok, "[{name}] {messages:?}");
        let incident = bot.incident(1).await;
        assert_eq!(
            incident.severity,
            Severity::Sev2,
            "[{name}] the playbook's severity"
        );
        assert_eq!(incident.playbooks, ["whatsapp-latency"]);
        assert_eq!(incident.steps.len(), 3);
        assert!(
            incident.roles["commander"].contains("U0JOANA"),
            "[{name}] {:?}",
            incident.roles
        );
        assert_eq!(
            incident.update_due_at,
            Some(incident.declared_at + chrono::Duration::minutes(20)),
            "[{name}] the playbook's cadence"
        );
        let jobs = bot
            .engine
            .store()
            .jobs_in_state(JobState::Pending, 50)
            .await
            .expect("jobs");
        let escalation: Vec<_> = jobs
            .iter()
            .filter(|j| j.kind == JobKind::Escalation)
            .collect();
        assert_eq!(
            escalation.len(),
            1,
            "[{name}] the named policy's first step"
        );
        assert_eq!(
            escalation[0].due_at,
            incident.declared_at + chrono::Duration::minutes(30)
        );

        let pt = text_for(&messages, "campo", "primeiras ações").expect("the Portuguese checklist");
        assert!(
            pt.contains("Latência da API do WhatsApp")
                && pt.contains("☐ 1. Verificar a página de status da Meta"),
            "{pt}"
        );
        assert!(pt.contains("https://metastatus.com"), "{pt}");
        let en = text_for(&messages, "console", "first actions").expect("the English checklist");
        assert!(en.contains("☐ 3. Reduce push frequency"), "{en}");
        let es =
            text_for(&messages, "guardia", "primeras acciones").expect("the Spanish checklist");
        assert!(es.contains("☐ 2. Capturar un traceroute"), "{es}");
        let cliente =
            text_for(&messages, "lojistas", "📣").expect("the Portuguese customer message");
        assert!(
            cliente.contains("Estamos enfrentando lentidão"),
            "[{name}] {cliente}"
        );
        let customer = text_for(&messages, "soporte", "📣").expect("the customer message");
        assert!(
            customer.contains("Estamos experimentando lentitud"),
            "[{name}] {customer}"
        );
        assert!(
            text_for(&messages, "soporte", "primeras acciones").is_none(),
            "announce rooms get no checklist"
        );

        // Ticked from the console: the one open incident's checklist.
        let (ok, messages) = bot.say("console", "ana", "inc check 2").await;
        assert!(ok, "[{name}]");
        assert!(
            text_for(&messages, "console", "1 of 3 done").is_some(),
            "[{name}] {messages:?}"
        );
        let ticked = bot.incident(1).await;
        assert_eq!(ticked.steps[1].done_by.as_deref(), Some("ana"));
        let card = runroom::engine::reply::card(&ticked);
        assert!(
            card.fields
                .iter()
                .any(|(label, _)| label.id == "card-checklist")
        );

        // A second playbook layers its steps after the first's.
        let (ok, messages) = bot
            .say("console", "ana", "inc playbook run mcp-offline")
            .await;
        assert!(ok, "[{name}]");
        let layered =
            text_for(&messages, "console", "MCP executor offline").expect("its checklist");
        assert!(
            layered.contains("☐ 4. Restart the uv process")
                && layered.contains("inc check 4 INC-1"),
            "{layered}"
        );
        assert_eq!(bot.incident(1).await.steps.len(), 5);
        let (ok, messages) = bot
            .say("console", "ana", "inc playbook run mcp-offline INC-1")
            .await;
        assert!(
            !ok && text_for(&messages, "console", "already runs").is_some(),
            "[{name}] {messages:?}"
        );
        let (ok, messages) = bot.say("campo", "marcos", "inc marcar 9 INC-1").await;
        assert!(
            !ok && text_for(&messages, "campo", "tem 5 itens, não 9").is_some(),
            "[{name}] {messages:?}"
        );
        let (ok, messages) = bot
            .say("console", "ana", "inc declare Broken playbook=nope")
            .await;
        assert!(
            !ok && text_for(&messages, "console", "whatsapp-latency, mcp-offline").is_some(),
            "[{name}] {messages:?}"
        );
        assert_eq!(
            bot.engine
                .store()
                .open_incidents()
                .await
                .expect("open")
                .len(),
            1,
            "nothing declared by the error"
        );

        // The playbooks from chat, in the room's language.
        let (_, messages) = bot.say("console", "ana", "inc playbook list").await;
        let list = text_for(&messages, "console", "Playbooks").expect("the list");
        assert!(
            list.contains("whatsapp-latency: WhatsApp API latency (3 first actions)"),
            "{list}"
        );
        let (_, messages) = bot
            .say("campo", "marcos", "inc roteiro mostrar whatsapp-latency")
            .await;
        let shown = text_for(&messages, "campo", "Latência").expect("the playbook");
        assert!(
            shown.contains("Atualizações a cada 20") && shown.contains("meta-partner"),
            "{shown}"
        );

        // Customer messages on update and resolve, in Spanish for the Spanish announce room.
        bot.clock.advance(chrono::Duration::minutes(5));
        let (_, messages) = bot
            .say("console", "ana", "inc update Push frequency reduced")
            .await;
        assert!(
            text_for(&messages, "soporte", "Seguimos trabajando").is_some(),
            "[{name}] {messages:?}"
        );
        let (_, messages) = bot.say("console", "ana", "inc resolve").await;
        assert!(
            text_for(&messages, "soporte", "volvieron a la normalidad").is_some(),
            "[{name}] {messages:?}"
        );
        assert!(
            text_for(&messages, "lojistas", "voltaram ao normal").is_some(),
            "[{name}] {messages:?}"
        );
        assert_eq!(bot.incident(1).await.status, Status::Resolved);

        // An alert whose labels match starts the playbook on the incident it opens.
        let alert = Alert {
            key: "dd-1".into(),
            status: AlertStatus::Firing,
            group_key: "monitor:1".into(),
            labels: [("monitor".to_string(), "whatsapp.api.latency".to_string())].into(),
            title: "whatsapp.api.latency SLO breach".into(),
            links: Vec::new(),
            starts_at: None,
            ends_at: None,
            acknowledge: false,
        };
        let done = bot
            .engine
            .take_alerts(&SourceRules::new("datadog"), &[alert])
            .await
            .expect("taken");
        let opened = bot.incident(done.value.opened[0]).await;
        assert_eq!(opened.playbooks, ["whatsapp-latency"], "[{name}]");
        assert!(
            text_for(
                &done.messages,
                "campo",
                "Verificar a página de status da Meta"
            )
            .is_some()
        );
    }
}
