//! Who may do what (`[access]`), from where: a member may declare, update and ack but not
//! downgrade, take command of, resolve or reopen a SEV1, nor change the room's language; a
//! refusal is localized, private and on the timeline; a responder may; a chat that is no linked
//! room may declare, its card going only to the linked rooms and its answer to the person alone,
//! unless it is a configured person's own chat.
//! `config check` refuses rules that name nobody who exists.

mod common;

use std::sync::Arc;

use chrono::Utc;
use runroom::app::{App, Secrets};
use runroom::config::Config;
use runroom::engine::Outcome;
use runroom::engine::clock::SystemClock;
use runroom::engine::incident::{Event, Severity, Status};
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, RoomRef};
use runroom::store::NewOutbound;

const WAR_ROOM: &str = "C0RUNROOM";

const CONFIG: &str = r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "C0RUNROOM"

[[rooms]]
id = "oncall"
platform = "slack"
chat = "C0ONCALL"
language = "pt-BR"

[[people]]
id = "joana"
slack = "U0JOANA"

[[people]]
id = "lead"
slack = "U0LEAD"

[access]
responders = ["joana"]
admins = ["lead"]
responder_rooms = ["oncall"]
"#;

async fn app(config: &str) -> (App, common::TestStore) {
    let store = common::sqlite().await;
    let config = Config::parse(config, "test", &[]).expect("config");
    let app = runroom::app::assemble(
        config,
        store.store.clone(),
        Arc::new(SystemClock),
        Secrets::none(),
    )
    .expect("assembled");
    (app, store)
}

/// `text` typed by `user` in the Slack chat `chat` (a slash command: answers are private).
async fn say(app: &App, chat: &str, user: &str, text: &str) -> (bool, Vec<NewOutbound>) {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let inbound = Inbound {
        event_id: format!("cmd:{n}"),
        origin: Origin {
            room: RoomRef {
                platform: Platform::Slack,
                chat: chat.into(),
                thread: None,
            },
            author: Author {
                id: user.into(),
                name: format!("<@{user}>"),
                handle: None,
            },
            private_replies: true,
        },
        input: Input::Text(text.into()),
        received_at: Utc::now(),
    };
    match app.engine.handle(&inbound).await.expect("handled") {
        Outcome::Handled { ok, messages, .. } => (ok, messages),
        other => panic!("{text}: {other:?}"),
    }
}

#[tokio::test]
async fn a_member_may_declare_and_update_but_not_downgrade_or_resolve_a_sev1() {
    let (app, _store) = app(CONFIG).await;
    let (ok, _) = say(&app, WAR_ROOM, "U0ANYONE", "inc declare sev1 Checkout down").await;
    assert!(ok, "anyone in a war room declares");
    assert!(
        say(
            &app,
            WAR_ROOM,
            "U0ANYONE",
            "inc update investigating the database"
        )
        .await
        .0
    );
    assert!(say(&app, WAR_ROOM, "U0ANYONE", "inc ack").await.0);

    for text in [
        "inc sev 3",
        "inc assign commander <@U0ANYONE>",
        "inc status monitoring",
        "inc resolve",
        "inc lang pt",
    ] {
        let (ok, messages) = say(&app, WAR_ROOM, "U0ANYONE", text).await;
        assert!(!ok, "{text}: refused");
        assert_eq!(
            messages.len(),
            1,
            "{text}: one answer, to the author: {messages:?}"
        );
        assert_eq!(messages[0].recipient.as_deref(), Some("U0ANYONE"), "{text}");
        assert!(
            messages[0].text.contains("takes a"),
            "{text}: {}",
            messages[0].text
        );
    }
    let store = app.engine.store();
    let incident = store.incident(1).await.unwrap().expect("declared");
    assert_eq!(
        (incident.severity, incident.status),
        (Severity::Sev1, Status::Investigating)
    );
    assert!(incident.resolved_at.is_none());
    let refused: Vec<String> = store
        .timeline(1, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.event {
            Event::Refused { verb, needs } => Some(format!("{verb}:{needs}")),
            _ => None,
        })
        .collect();
    assert_eq!(
        refused,
        [
            "sev:responder",
            "assign:responder",
            "status:responder",
            "resolve:responder",
        ],
        "each refusal about the incident is on its timeline"
    );

    // A responder by name, and anyone in the responders' room, may.
    assert!(say(&app, WAR_ROOM, "U0JOANA", "inc sev 2").await.0);
    assert!(
        say(&app, "C0ONCALL", "U0ANYONE", "inc status monitoring")
            .await
            .0
    );
    // Only an admin changes a room's language.
    assert!(!say(&app, WAR_ROOM, "U0JOANA", "inc lang pt").await.0);
    assert!(say(&app, WAR_ROOM, "U0LEAD", "inc lang pt").await.0);
    assert!(say(&app, WAR_ROOM, "U0JOANA", "inc resolve").await.0);
    assert!(
        store
            .incident(1)
            .await
            .unwrap()
            .unwrap()
            .resolved_at
            .is_some()
    );

    // A SEV3 a member may resolve.
    assert!(
        say(&app, WAR_ROOM, "U0ANYONE", "inc declare sev3 Slow reports")
            .await
            .0
    );
    assert!(say(&app, WAR_ROOM, "U0ANYONE", "inc resolve INC-2").await.0);
}

#[tokio::test]
async fn refusals_are_in_the_rooms_language() {
    let (app, _store) = app(CONFIG).await;
    assert!(
        say(&app, "C0ONCALL", "U0ANYONE", "inc declarar sev1 Fora do ar")
            .await
            .0
    );
    assert!(say(&app, "C0ONCALL", "U0LEAD", "inc lang pt").await.0);
    let (ok, messages) = say(&app, "C0ONCALL", "U0ANYONE", "inc lang en").await;
    assert!(!ok);
    assert!(
        messages[0].text.contains("administrador"),
        "{}",
        messages[0].text
    );
}

#[tokio::test]
async fn an_unlinked_chat_may_declare_but_gets_no_card_and_may_change_nothing() {
    let (app, _store) = app(CONFIG).await;
    let (ok, messages) = say(
        &app,
        "D0DIRECT",
        "U0ANYONE",
        "inc declare sev1 Seen from a DM",
    )
    .await;
    assert!(ok);
    let to_dm: Vec<_> = messages.iter().filter(|m| m.chat == "D0DIRECT").collect();
    assert_eq!(to_dm.len(), 1, "one answer to the DM: {messages:?}");
    assert_eq!(to_dm[0].recipient.as_deref(), Some("U0ANYONE"), "private");
    assert!(to_dm[0].rich.is_none(), "no card in the DM");
    assert!(to_dm[0].text.contains("INC-1"), "{}", to_dm[0].text);
    for room in [WAR_ROOM, "C0ONCALL"] {
        assert!(
            messages.iter().any(|m| m.chat == room && m.rich.is_some()),
            "the card goes to {room}: {messages:?}"
        );
    }
    let (ok, messages) = say(&app, "D0DIRECT", "U0ANYONE", "inc ack").await;
    assert!(!ok, "a change from an unlinked chat is refused");
    assert!(
        messages[0].text.contains("isn't linked"),
        "{}",
        messages[0].text
    );
    assert!(
        app.engine
            .store()
            .incident(1)
            .await
            .unwrap()
            .unwrap()
            .acked_by
            .is_none()
    );
    // A configured person's own chat, where pages reach them, counts as linked: their Ack works.
    assert!(say(&app, "D0JOANA", "U0JOANA", "inc ack").await.0);

    let (app, _store) = self::app(&CONFIG.replace(
        "responder_rooms = [\"oncall\"]",
        "responder_rooms = [\"oncall\"]\nunlinked = \"ask\"",
    ))
    .await;
    assert!(
        !say(&app, "D0DIRECT", "U0ANYONE", "inc declare sev1 Not here")
            .await
            .0
    );
    assert!(app.engine.store().incident(1).await.unwrap().is_none());
}

#[test]
fn rules_naming_nobody_who_exists_are_refused() {
    for (rules, says) in [
        (
            "[access]\nresponders = [\"nobody\"]\n",
            "not a [[people]] id",
        ),
        (
            "[access]\nresponder_rooms = [\"nowhere\"]\n",
            "not a [[rooms]] id",
        ),
        (
            "[access]\nunlinked = \"ask\"\n",
            "names no responder or admin",
        ),
        (
            "[[people]]\nid = \"x\"\n\n[access]\nadmins = [\"x\"]\n",
            "no slack, whatsapp or telegram identity",
        ),
    ] {
        let error = Config::parse(rules, "test", &[])
            .expect_err(rules)
            .to_string();
        assert!(error.contains(says), "{rules}: {error}");
    }
}
