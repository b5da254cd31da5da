//! Commands through the webhook and long polling: a Spanish `/inc@RunroomBot` command declares
//! and every room hears it (the Telegram room as HTML), another bot's command and a stranger
//! group's are ignored, a redelivered `update_id` acts once, a wrong secret token is refused
//! with nothing stored, a 429 pauses that chat while another flows, `serve` registers the
//! webhook with its secret, long polling and the menu, answers in forum topics, moved groups and
//! a roster's mirror.

use std::sync::Arc;
use std::time::Duration;

use runroom::app::Secrets;
use runroom::config::Config;
use runroom::engine::clock::SystemClock;

use super::fakes::telegram::{migration_update, text_update, threaded_update};
use super::{GUARDIA, Harness, OTRA, SECRET, UNPACED, common, start, start_in, start_with};

#[tokio::test]
async fn a_spanish_command_declares_once_and_every_telegram_room_hears_it() {
    let h = start(false).await;
    let declare = text_update(
        1001,
        GUARDIA,
        (42, "ana_ops"),
        r#"/inc@RunroomBot declarar sev1 "Caída del checkout" impacto="pagos <5%""#,
    );

    // A wrong or missing secret: refused, nothing stored.
    assert_eq!(h.post(Some("guess"), &declare).await, 401);
    assert_eq!(h.post(None, &declare).await, 401);
    assert_eq!(h.incidents().await, 0);

    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    // Telegram redelivers until it gets a 2xx: the same update_id acts once.
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    // A group that is not a room (anyone can add a bot to a group) commands nothing.
    let stranger = text_update(
        1003,
        -1007770001112,
        (66, "mallory"),
        "/inc declarar sev1 Falso",
    );
    assert_eq!(h.post(Some(SECRET), &stranger).await, 200);
    // Another bot's command is not runroom's.
    let other_bot = text_update(
        1002,
        GUARDIA,
        (42, "ana_ops"),
        "/inc@OtherBot declarar sev2 Otra",
    );
    assert_eq!(h.post(Some(SECRET), &other_bot).await, 200);
    assert_eq!(h.incidents().await, 1);
    let incident = h
        .app
        .engine
        .store()
        .incident(1)
        .await
        .expect("read")
        .expect("declared");
    assert_eq!(incident.title, "Caída del checkout");
    assert!(
        incident.declared_by.contains("telegram:42"),
        "{}",
        incident.declared_by
    );

    h.app.worker.drain().await.expect("drained");
    assert_eq!(h.fake.cards_to(GUARDIA).len(), 1, "one card");
    let guardia = h.fake.said_to(GUARDIA);
    assert_eq!(guardia.len(), 1, "{guardia:?}");
    let text = guardia[0]["text"].as_str().expect("text");
    assert!(
        text.contains("INC-1") && text.contains("declarado"),
        "{text}"
    );
    assert!(
        text.contains("@ana_ops") && !text.contains("telegram:42"),
        "a mention: {text}"
    );
    assert!(text.contains("pagos &lt;5%"), "HTML-escaped: {text}");
    assert_eq!(guardia[0]["parse_mode"], "HTML");
    let otra = h.fake.said_to(OTRA);
    assert!(
        otra.len() == 1
            && otra[0]["text"]
                .as_str()
                .is_some_and(|t| t.contains("declared")),
        "{otra:?}"
    );
}

#[tokio::test]
async fn a_429_pauses_its_chat_while_the_other_flows() {
    // Unpaced: the other chat's card, pin and message go at once, before the retry is due.
    let h = start_with(UNPACED).await;
    h.fake.limit(GUARDIA, 1);
    let declare = text_update(2001, OTRA, (7, "marcos"), "/inc declare sev2 Queue backlog");
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    h.app.worker.drain().await.expect("drained");
    assert_eq!(h.fake.said_to(OTRA).len(), 1, "the other chat is not held");
    assert!(h.fake.sent_to(GUARDIA).is_empty(), "refused with 429 once");
    let refused = h
        .fake
        .calls()
        .into_iter()
        .find(|c| c.status == 429)
        .expect("a 429");
    let sent = common::poll_async(
        "the paused chat's retry",
        Duration::from_secs(10),
        async || {
            h.app.worker.run_once().await.ok()?;
            let sent = h
                .fake
                .calls()
                .into_iter()
                .find(|c| c.status == 200 && c.body["chat_id"] == GUARDIA)?;
            Some(sent)
        },
    )
    .await;
    assert!(
        sent.at.duration_since(refused.at) >= Duration::from_millis(950),
        "retried only after retry_after"
    );
}

#[tokio::test]
async fn serve_registers_the_webhook_with_its_secret() {
    let mut h = start(true).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = h.app.start(&stopped);
    let call = common::poll("setWebhook", Duration::from_secs(10), || {
        h.fake
            .calls()
            .into_iter()
            .find(|c| c.method.eq_ignore_ascii_case("setWebhook"))
    })
    .await;
    assert_eq!(
        call.body["url"],
        "https://runroom.example/webhooks/telegram"
    );
    assert_eq!(call.body["secret_token"], SECRET);
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
}

/// An update answered before its work committed is journaled; when that work then fails (the
/// database stayed locked past SQLite's busy timeout), the journal carries it out once the
/// database is back, without a restart and without a redelivery from Telegram.
#[tokio::test]
async fn an_answered_update_whose_work_failed_is_carried_out_by_the_journal() {
    let mut h = start_with("ack_budget_ms = 50\n").await;
    let dir = tempfile::tempdir().expect("temp dir");
    let journal = h.app.engine.journal().clone();
    assert_eq!(
        journal
            .open(&dir.path().join("inbound.journal"))
            .expect("open"),
        0
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = h.app.start(&stopped);
    let lock = common::SqliteLock::take(h._store.url()).await;
    let declare = text_update(
        4001,
        GUARDIA,
        (42, "ana_ops"),
        "/inc declarar sev2 Base bloqueada",
    );
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    assert_eq!(journal.pending(), 1, "journaled before the answer");
    // Let the engine give up on the lock (its busy timeout) before releasing it.
    common::poll("the work failed", Duration::from_secs(30), || {
        journal.retrying().then_some(())
    })
    .await;
    lock.release().await;
    common::poll("the journal done", Duration::from_secs(30), || {
        (journal.pending() == 0).then_some(())
    })
    .await;
    assert_eq!(h.incidents().await, 1);
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    h.app.worker.drain().await.expect("drained");
    assert_eq!(h.fake.cards_to(GUARDIA).len(), 1, "one card");
}

/// Someone who is not in the war room group can reach runroom only in a private chat with the
/// bot: there they may declare and ask, and a change is refused in words, changing nothing.
#[tokio::test]
async fn a_stranger_in_a_private_chat_is_refused_a_change() {
    let h = start(false).await;
    let declare = text_update(
        5001,
        GUARDIA,
        (42, "ana_ops"),
        "/inc declarar sev1 Pagos caídos",
    );
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    let mut resolve = text_update(5002, 777, (777, "mallory"), "/inc resolve INC-1");
    resolve["message"]["chat"] =
        serde_json::json!({"id": 777, "type": "private", "first_name": "mallory"});
    assert_eq!(h.post(Some(SECRET), &resolve).await, 200);
    h.app.worker.drain().await.expect("drained");
    // The fake knows no private chat 777, but what runroom asked to send is what counts.
    let told: Vec<_> = h
        .fake
        .calls()
        .into_iter()
        .filter(|c| c.method == "SendMessage" && c.body["chat_id"] == 777)
        .map(|c| c.body)
        .collect();
    assert_eq!(told.len(), 1, "{told:?}");
    let text = told[0]["text"].as_str().expect("text");
    assert!(text.contains("isn't linked"), "{text}");
    let incident = h.app.engine.store().incident(1).await.unwrap().unwrap();
    assert!(incident.resolved_at.is_none(), "nothing changed");
}

#[tokio::test]
async fn a_token_without_a_webhook_secret_stops_the_start() {
    let store = common::sqlite().await;
    let config =
        Config::parse("[telegram]\nbot_username = \"RunroomBot\"\n", "test", &[]).expect("config");
    let error = runroom::app::assemble(
        config,
        store.store.clone(),
        Arc::new(SystemClock),
        Secrets::from_pairs([("RUNROOM_TELEGRAM_TOKEN", "123:abc")]),
    )
    .err()
    .expect("refused");
    assert!(
        error
            .to_string()
            .contains("RUNROOM_TELEGRAM_WEBHOOK_SECRET")
            || format!("{error:#}").contains("RUNROOM_TELEGRAM_WEBHOOK_SECRET"),
        "{error:#}"
    );
}

#[tokio::test]
async fn long_polling_delivers_and_the_menu_is_published_in_three_languages() {
    let mut h = start_with("mode = \"polling\"\n").await;
    h.fake.push_update(text_update(
        3001,
        GUARDIA,
        (42, "ana_ops"),
        "/inc declarar sev2 Cola atrasada",
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = h.app.start(&stopped);
    let store = h.app.engine.store().clone();
    common::poll_async(
        "the polled declaration",
        Duration::from_secs(10),
        async || (!store.recent_incidents(10).await.ok()?.is_empty()).then_some(()),
    )
    .await;
    // The next round asks past the update it handled, so it is not handed out again.
    common::poll("getUpdates past 3001", Duration::from_secs(10), || {
        h.fake
            .calls()
            .into_iter()
            .find(|c| c.method == "GetUpdates" && c.body["offset"] == 3002)
    })
    .await;
    let menus = common::poll("the three menus", Duration::from_secs(10), || {
        let menus: Vec<_> = h
            .fake
            .calls()
            .into_iter()
            .filter(|c| c.method == "SetMyCommands")
            .collect();
        (menus.len() == 3).then_some(menus)
    })
    .await;
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    assert_eq!(
        store.recent_incidents(10).await.expect("incidents").len(),
        1
    );
    let by_lang = |code: Option<&str>| {
        menus
            .iter()
            .find(|c| c.body["language_code"].as_str() == code)
            .map(|c| c.body["commands"][0].clone())
            .expect("a menu")
    };
    let (en, pt, es) = (by_lang(None), by_lang(Some("pt")), by_lang(Some("es")));
    assert_eq!(en["command"], "inc");
    assert!(
        en["description"]
            .as_str()
            .is_some_and(|d| d.contains("Incidents")),
        "{en}"
    );
    assert!(
        pt["description"]
            .as_str()
            .is_some_and(|d| d.contains("ciente")),
        "{pt}"
    );
    assert!(
        es["description"]
            .as_str()
            .is_some_and(|d| d.contains("entendido")),
        "{es}"
    );
}

#[tokio::test]
async fn long_polling_refuses_to_run_over_a_webhook() {
    let mut h = start_with("mode = \"polling\"\n").await;
    h.fake.set_webhook("https://elsewhere.example/hook");
    h.fake.push_update(text_update(
        4001,
        GUARDIA,
        (42, "ana_ops"),
        "/inc declarar Nada",
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = h.app.start(&stopped);
    // The refusal is counted just before the poller gives up: once it shows, polling is over.
    let metrics = format!("{}/metrics", h.url);
    common::poll_async("the refusal", Duration::from_secs(10), async || {
        let text = reqwest::get(&metrics).await.ok()?.text().await.ok()?;
        text.contains("runroom_telegram_polling_refused_total")
            .then_some(())
    })
    .await;
    let _ = stop.send(true);
    while tasks.join_next().await.is_some() {}
    assert!(!h.fake.calls().iter().any(|c| c.method == "GetUpdates"));
    assert!(
        h.app
            .engine
            .store()
            .recent_incidents(10)
            .await
            .expect("incidents")
            .is_empty()
    );
}

#[tokio::test]
async fn an_answer_goes_back_to_the_forum_topic_it_was_asked_in() {
    let h = start(false).await;
    let in_topic = threaded_update(5001, GUARDIA, (42, "ana_ops"), "/inc help", 77, true);
    assert_eq!(h.post(Some(SECRET), &in_topic).await, 200);
    let in_reply_thread = threaded_update(5002, OTRA, (42, "ana_ops"), "/inc help", 12, false);
    assert_eq!(h.post(Some(SECRET), &in_reply_thread).await, 200);
    h.app.worker.drain().await.expect("drained");
    let topic = h.fake.sent_to(GUARDIA);
    assert_eq!(topic.len(), 1, "{topic:?}");
    assert_eq!(topic[0]["message_thread_id"], 77);
    let plain = h.fake.sent_to(OTRA);
    assert_eq!(plain.len(), 1, "{plain:?}");
    assert!(
        plain[0].get("message_thread_id").is_none(),
        "not a topic: {}",
        plain[0]
    );
}

#[tokio::test]
async fn a_group_that_became_a_supergroup_keeps_working() {
    const NEW: i64 = -1005556667778;
    const NEWER: i64 = -1004443332221;
    let h = start(false).await;
    // "otra" became a supergroup without runroom knowing: its first send is refused with the
    // new id, followed, and the message delivered there.
    h.fake.migrate(OTRA, NEW);
    let declare = text_update(
        6001,
        GUARDIA,
        (42, "ana_ops"),
        "/inc declarar sev2 Cola atrasada",
    );
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    h.app.worker.drain().await.expect("drained");
    assert_eq!(h.fake.said_to(NEW).len(), 1, "resent to the supergroup");
    let dead = h
        .app
        .engine
        .store()
        .outbox_in_state(runroom::store::OutboxState::Dead, 10)
        .await
        .expect("dead rows");
    assert!(dead.is_empty(), "nothing lost: {dead:?}");

    // A command from the new id belongs to the room; what follows goes straight to the new id.
    let ack = text_update(6002, NEW, (7, "marcos"), "/inc ack");
    assert_eq!(h.post(Some(SECRET), &ack).await, 200);
    h.app.worker.drain().await.expect("drained");
    let timeline = h
        .app
        .engine
        .store()
        .timeline(1, 10)
        .await
        .expect("timeline");
    assert_eq!(timeline.last().map(|e| e.room.as_str()), Some("otra"));
    let to_old = |h: &Harness| {
        h.fake
            .calls()
            .iter()
            .filter(|c| c.body["chat_id"] == OTRA)
            .count()
    };
    assert_eq!(to_old(&h), 1, "the move is remembered");
    assert!(h.fake.sent_to(NEW).len() >= 2);

    // Telegram's service message announces a move before any send fails.
    let moved = migration_update(6003, GUARDIA, NEWER);
    assert_eq!(h.post(Some(SECRET), &moved).await, 200);
    let update = text_update(6004, NEW, (7, "marcos"), "/inc update Backlog draining");
    assert_eq!(h.post(Some(SECRET), &update).await, 200);
    h.app.worker.drain().await.expect("drained");
    assert!(
        !h.fake.sent_to(NEWER).is_empty(),
        "guardia's messages follow its move"
    );
    assert_eq!(to_old(&h), 1);
    assert!(
        !h.fake
            .calls()
            .iter()
            .any(|c| c.status == 400 && c.method == "SendMessage" && c.body["chat_id"] == GUARDIA),
        "nothing was refused for the announced move"
    );
}

#[tokio::test]
async fn a_rosters_chatter_reaches_the_telegram_war_rooms() {
    let h = start_in(
        r#"
[[rooms]]
id = "campo"
platform = "whatsapp"
kind = "roster"
members = ["+5511987654321", "+5511912345678"]
language = "pt-BR"
"#,
        "",
    )
    .await;
    let declare = text_update(
        7001,
        GUARDIA,
        (42, "ana_ops"),
        "/inc declarar sev2 Fila no CD",
    );
    assert_eq!(h.post(Some(SECRET), &declare).await, 200);
    // Bruno writes in the roster (as the WhatsApp inbox hands it over).
    let chatter = runroom::engine::room::Inbound {
        event_id: "wamid.chatter".into(),
        origin: runroom::engine::room::Origin {
            room: runroom::engine::room::RoomRef {
                platform: runroom::engine::room::Platform::Whatsapp,
                chat: "campo".into(),
                thread: None,
            },
            author: runroom::engine::room::Author {
                handle: None,
                id: "+5511912345678".into(),
                name: "Bruno".into(),
            },
            private_replies: false,
        },
        input: runroom::engine::room::Input::Text("chegando no CD agora".into()),
        received_at: chrono::Utc::now(),
    };
    let queued = h.app.engine.relay(&chatter, false).await.expect("relayed");
    assert!(queued >= 2, "one copy to Ana, one mirror: {queued}");
    h.app.worker.drain().await.expect("drained");
    let sent = h.fake.sent_to(GUARDIA);
    assert!(
        sent.iter()
            .any(|m| m["text"].as_str().is_some_and(|t| t.contains("Bruno")
                && t.contains("chegando no CD agora")
                && !t.contains("5511"))),
        "{sent:?}"
    );
}
