//! Delivery through the outbox to a fake WhatsApp Cloud API on loopback: fan-out in three
//! languages, retries and Retry-After, dead letters, the kill switch, dry-run, leases, the circuit
//! breaker and pacing against a rate-limiting platform.

mod common;
mod fakes;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::{TestStore, backends, enqueue, start_time, whatsapp_message};
use fakes::graph::{FakeGraph, Reply, assert_each_once};
use runroom::engine::clock::{Clock, ManualClock, SystemClock};
use runroom::engine::room::{Platform, Room, RoomRole};
use runroom::engine::{Engine, EngineSettings};
use runroom::i18n::{I18n, Lang};
use runroom::outbox::worker::MODE_KEY;
use runroom::outbox::{OutboxConfig, PlatformLimits, Worker};
use runroom::platforms::whatsapp::outbound::WhatsappSender;
use runroom::store::OutboxState;
use runroom::store::{NewOutbound, Store};

fn room(id: &str, chat: &str, language: Lang, timezone: chrono_tz::Tz) -> Room {
    Room {
        id: id.into(),
        platform: Platform::Whatsapp,
        chat: chat.into(),
        language,
        timezone,
        role: RoomRole::WarRoom,
        members: Vec::new(),
    }
}

/// Three WhatsApp war rooms in three languages, and the console.
fn rooms() -> Vec<Room> {
    vec![
        common::console_room(),
        room(
            "campo",
            "5511987654321",
            Lang::PtBr,
            chrono_tz::America::Sao_Paulo,
        ),
        room(
            "obra",
            "5491122334455",
            Lang::Es,
            chrono_tz::America::Argentina::Buenos_Aires,
        ),
        room("ops", "15551230000", Lang::En, chrono_tz::America::New_York),
    ]
}

/// Limits high enough that pacing never interferes, unless a test sets its own.
fn config() -> OutboxConfig {
    let mut config = OutboxConfig {
        backoff_base_ms: 1000,
        breaker_threshold: 100,
        ..OutboxConfig::default()
    };
    config
        .limits
        .insert("whatsapp".into(), PlatformLimits::unlimited());
    config
}

fn sender(fake: &FakeGraph, store: &Arc<dyn Store>) -> Arc<WhatsappSender> {
    Arc::new(fake.sender(store.clone(), Arc::new(SystemClock), 2))
}

fn worker(
    store: &TestStore,
    fake: &FakeGraph,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
) -> Worker {
    Worker::new(
        store.store.clone(),
        vec![sender(fake, &store.store)],
        clock,
        config,
        "w1",
    )
}

/// The recipients wrote to the business number just now, so their 24-hour windows are open and
/// free-form text (not a template) goes to them.
async fn open_windows(store: &Arc<dyn Store>, chats: &[&str]) {
    let mut tx = store.begin().await.unwrap();
    for chat in chats {
        tx.record_contact(Platform::Whatsapp, chat, chat, Utc::now())
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Runs the worker's real-time loop until the fake accepted `n` messages, then stops it.
async fn run_until_accepted(
    w: Worker,
    fake: &FakeGraph,
    n: usize,
    within: Duration,
) -> Vec<fakes::graph::Received> {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(async move { w.run(stopped).await });
    let accepted = fake.wait_for_accepted(n, within).await;
    stop.send(true).unwrap();
    running.await.unwrap();
    accepted
}

#[tokio::test]
async fn a_declaration_reaches_every_room_in_its_language() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        let clock = Arc::new(ManualClock::new(start_time()));
        let engine = Engine::new(
            backend.store.clone(),
            Arc::new(I18n::new().unwrap()),
            clock.clone(),
            EngineSettings {
                rooms: rooms(),
                extra_roles: vec![],
                ..Default::default()
            },
        );
        let inbound = common::inbound(
            "console",
            "joana",
            "inc declare sev1 \"Checkout down\"",
            "1".into(),
            start_time(),
        );
        engine.handle(&inbound).await.unwrap();
        open_windows(
            &backend.store,
            &["5511987654321", "5491122334455", "15551230000"],
        )
        .await;
        let round = worker(&backend, &fake, clock, config())
            .drain()
            .await
            .unwrap();
        assert_eq!(round.sent, 3, "[{}] {round:?}", backend.name);
        let accepted = fake.accepted();
        let to = |chat: &str| {
            accepted
                .iter()
                .find(|r| r.to == chat)
                .map(|r| r.body.clone())
                .unwrap_or_default()
        };
        assert!(
            to("5511987654321").starts_with("🚨 INC-1 declarado — SEV1 (crítico): Checkout down")
        );
        assert!(
            to("5491122334455").contains("declarado por joana el 02/03/2026 10:00"),
            "{}",
            to("5491122334455")
        );
        assert!(
            to("15551230000").contains("declared by joana at 2026-03-02 08:00 EST"),
            "{}",
            to("15551230000")
        );
        assert!(
            accepted
                .iter()
                .all(|r| r.phone_number_id == fakes::graph::PHONE_NUMBER_ID)
        );
        // The platform's id is kept on each row; nothing is left to send.
        for row in backend
            .store
            .outbox_in_state(OutboxState::Sent, 10)
            .await
            .unwrap()
        {
            assert!(
                row.platform_message_id
                    .as_deref()
                    .is_some_and(|id| id.starts_with("wamid."))
            );
        }
        assert!(
            backend
                .store
                .pending_outbox(Platform::Whatsapp, 10)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            worker(&backend, &fake, Arc::new(SystemClock), config())
                .drain()
                .await
                .unwrap()
                .sent,
            0
        );
        assert_eq!(fake.accepted().len(), 3, "nothing sent twice");
    }
}

#[tokio::test]
async fn errors_take_their_documented_path() {
    let permanent = [131026, 131047, 131048, 131049, 132000, 132001, 190];
    let retryable = [130429, 131056, 1, 2];
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let w = worker(&backend, &fake, clock.clone(), config());
    for code in permanent.iter().chain(retryable.iter()) {
        let status = if *code == 130429 { 429 } else { 400 };
        fake.script([Reply::Error {
            status,
            code: *code,
        }]);
        enqueue(
            &backend.store,
            &[whatsapp_message(
                &format!("code-{code}"),
                "5511900000001",
                start_time(),
            )],
        )
        .await;
        w.drain().await.unwrap();
    }
    fake.script([Reply::ServerError]);
    enqueue(
        &backend.store,
        &[whatsapp_message("http-500", "5511900000001", start_time())],
    )
    .await;
    w.drain().await.unwrap();

    let dead = backend
        .store
        .outbox_in_state(OutboxState::Dead, 50)
        .await
        .unwrap();
    let mut dead_codes: Vec<String> = dead
        .iter()
        .map(|r| r.message.idempotency_key.clone())
        .collect();
    dead_codes.sort();
    let mut expected: Vec<String> = permanent.iter().map(|c| format!("code-{c}")).collect();
    expected.sort();
    assert_eq!(dead_codes, expected, "never retried blindly");
    for row in &dead {
        let code = row.message.idempotency_key.trim_start_matches("code-");
        assert!(
            row.last_error.as_deref().is_some_and(|e| e.contains(code)),
            "the reason is kept: {row:?}"
        );
        assert_eq!(row.attempts, 1);
    }
    let pending = backend
        .store
        .pending_outbox(Platform::Whatsapp, 50)
        .await
        .unwrap();
    assert_eq!(
        pending.len(),
        retryable.len() + 1,
        "retryable codes and 5xx wait for a retry"
    );
    assert!(
        pending
            .iter()
            .all(|r| r.next_attempt_at > start_time() && r.last_error.is_some())
    );

    // When their time comes, they go.
    clock.advance(chrono::Duration::seconds(5));
    let round = w.drain().await.unwrap();
    assert_eq!(round.sent, retryable.len() + 1, "{round:?}");

    // A dead message can be retried by hand, and then it is delivered.
    let id = dead[0].id;
    assert!(backend.store.retry_dead(id, clock.now()).await.unwrap());
    assert_eq!(w.drain().await.unwrap().sent, 1);
    assert_eq!(
        backend.store.outbox_row(id).await.unwrap().unwrap().state,
        OutboxState::Sent
    );
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let w = worker(&backend, &fake, clock.clone(), config());
    fake.script([Reply::RateLimited { retry_after: 3 }]);
    enqueue(
        &backend.store,
        &[
            whatsapp_message("a", "5511900000001", start_time()),
            whatsapp_message("b", "5511900000002", start_time()),
        ],
    )
    .await;
    let mut config_one_at_a_time = config();
    config_one_at_a_time.in_flight = 1;
    let w1 = Worker::new(
        backend.store.clone(),
        vec![sender(&fake, &backend.store)],
        clock.clone(),
        config_one_at_a_time,
        "w1",
    );
    let first = w1.drain().await.unwrap();
    assert_eq!(
        (first.retried, first.sent),
        (1, 0),
        "the second message waits for the pause: {first:?}"
    );
    assert_eq!(fake.received().len(), 1);

    clock.advance(chrono::Duration::seconds(2));
    assert_eq!(
        w1.drain().await.unwrap().sent,
        0,
        "still inside Retry-After"
    );
    assert_eq!(fake.received().len(), 1, "no request during the pause");

    clock.advance(chrono::Duration::seconds(2));
    assert_eq!(w1.drain().await.unwrap().sent, 2);
    assert_each_once(&fake.accepted(), 2);
    drop(w);
}

#[tokio::test]
async fn the_kill_switch_holds_and_dry_run_records() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        let clock = Arc::new(ManualClock::new(start_time()));
        let w = worker(&backend, &fake, clock.clone(), config());
        let store = &backend.store;
        enqueue(
            store,
            &[
                whatsapp_message("a", "5511900000001", start_time()),
                whatsapp_message("b", "5511900000002", start_time()),
            ],
        )
        .await;

        store
            .set_setting(MODE_KEY, "off", start_time())
            .await
            .unwrap();
        let held = w.drain().await.unwrap();
        assert_eq!((held.held, held.sent), (2, 0), "[{}]", backend.name);
        assert_eq!(w.drain().await.unwrap().held, 0, "counted once");
        assert!(fake.received().is_empty());
        let pending = store.pending_outbox(Platform::Whatsapp, 10).await.unwrap();
        assert_eq!(pending.len(), 2, "held, never dropped");
        assert!(
            pending
                .iter()
                .all(|r| r.last_error.as_deref() == Some("mode_off"))
        );

        store
            .set_setting(MODE_KEY, "dry-run", start_time())
            .await
            .unwrap();
        assert_eq!(w.drain().await.unwrap().dry_run, 2);
        assert!(fake.received().is_empty(), "dry-run sends nothing");
        let recorded = store
            .outbox_in_state(OutboxState::DryRun, 10)
            .await
            .unwrap();
        assert_eq!(recorded.len(), 2, "what would have been sent is recorded");

        store
            .set_setting(MODE_KEY, "live", start_time())
            .await
            .unwrap();
        enqueue(
            store,
            &[whatsapp_message("c", "5511900000003", start_time())],
        )
        .await;
        assert_eq!(w.drain().await.unwrap().sent, 1);
        assert_eq!(fake.accepted().len(), 1);
    }
}

#[tokio::test]
async fn send_limits_hold_the_excess_until_allowed() {
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let mut config = config();
    let limits = config.limits.get_mut("whatsapp").unwrap();
    limits.minute_limit = 3;
    limits.daily_limit = 5;
    let w = worker(&backend, &fake, clock.clone(), config);
    let messages: Vec<NewOutbound> = (0..8)
        .map(|i| {
            whatsapp_message(
                &format!("m{i}"),
                &format!("55119000000{i:02}"),
                start_time(),
            )
        })
        .collect();
    enqueue(&backend.store, &messages).await;

    assert_eq!(w.drain().await.unwrap().sent, 3, "per-minute limit");
    clock.advance(chrono::Duration::seconds(61));
    let second = w.drain().await.unwrap();
    assert_eq!(
        (second.sent, second.held),
        (2, 3),
        "daily limit: the rest is held"
    );
    clock.advance(chrono::Duration::seconds(61));
    let third = w.drain().await.unwrap();
    assert_eq!(
        (third.sent, third.held),
        (0, 0),
        "held messages are counted once"
    );
    assert_eq!(
        backend
            .store
            .pending_outbox(Platform::Whatsapp, 10)
            .await
            .unwrap()
            .len(),
        3
    );
    clock.advance(chrono::Duration::days(1));
    assert_eq!(w.drain().await.unwrap().sent, 3, "a new day");
    assert_each_once(&fake.accepted(), 8);
}

#[tokio::test]
async fn a_crashed_workers_lease_is_reclaimed() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        let clock = Arc::new(ManualClock::new(start_time()));
        enqueue(
            &backend.store,
            &[whatsapp_message("a", "5511900000001", start_time())],
        )
        .await;
        // A worker claims the row and dies before sending.
        let lease = Duration::from_secs(30);
        let claimed = backend
            .store
            .claim_outbox(Platform::Whatsapp, "crashed", start_time(), lease, 10)
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        let w = worker(&backend, &fake, clock.clone(), config());
        assert_eq!(
            w.drain().await.unwrap().sent,
            0,
            "[{}] the lease still holds",
            backend.name
        );
        clock.advance(chrono::Duration::seconds(31));
        assert_eq!(w.drain().await.unwrap().sent, 1);
        assert_each_once(&fake.accepted(), 1);
    }
}

#[tokio::test]
async fn the_circuit_breaker_stops_hammering_a_platform_that_is_down() {
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let mut config = config();
    config.breaker_threshold = 3;
    config.breaker_cool_down_seconds = 60;
    config.in_flight = 1;
    let w = worker(&backend, &fake, clock.clone(), config);
    fake.script(std::iter::repeat_n(Reply::ServerError, 3));
    let messages: Vec<NewOutbound> = (0..6)
        .map(|i| whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), start_time()))
        .collect();
    enqueue(&backend.store, &messages).await;

    let round = w.drain().await.unwrap();
    assert_eq!(
        fake.received().len(),
        3,
        "the breaker opens after 3 failures: {round:?}"
    );
    assert_eq!(
        (round.retried, round.released),
        (3, 3),
        "the rest of the batch waits"
    );
    clock.advance(chrono::Duration::seconds(30));
    w.drain().await.unwrap();
    assert_eq!(
        fake.received().len(),
        3,
        "open: no requests during the cool-down"
    );

    // After the cool-down a probe goes; the platform is back, so everything follows.
    clock.advance(chrono::Duration::seconds(31));
    let round = w.drain().await.unwrap();
    assert_eq!(round.sent, 6, "{round:?}");
    assert_each_once(&fake.accepted(), 6);
}

#[tokio::test]
async fn pacing_keeps_a_rate_limited_platform_free_of_429s() {
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    fake.limit(5, 20.0);
    let mut config = config();
    config.limits.insert(
        "whatsapp".into(),
        PlatformLimits {
            rate: 20.0,
            burst: 5,
            per_chat_rate: 1000.0,
            per_chat_burst: 1000,
            ..PlatformLimits::default()
        },
    );
    let messages: Vec<NewOutbound> = (0..40)
        .map(|i| whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), Utc::now()))
        .collect();
    enqueue(&backend.store, &messages).await;
    let w = worker(&backend, &fake, Arc::new(SystemClock), config);
    let accepted = run_until_accepted(w, &fake, 40, Duration::from_secs(30)).await;
    let rec = fake.received();
    let t0 = rec[0].at;
    let trace: Vec<String> = rec
        .iter()
        .map(|r| format!("{}:{}", r.at.duration_since(t0).as_millis(), r.status))
        .collect();
    assert_eq!(
        fake.count_status(429),
        0,
        "paced within the platform's limit {trace:?}"
    );
    assert_each_once(&accepted, 40);
}

#[tokio::test]
async fn when_pacing_is_too_fast_retry_after_is_honoured_and_nothing_is_lost() {
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    fake.limit(5, 20.0);
    let mut config = config();
    config.in_flight = 1;
    config.backoff_base_ms = 50;
    let messages: Vec<NewOutbound> = (0..30)
        .map(|i| whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), Utc::now()))
        .collect();
    enqueue(&backend.store, &messages).await;
    let w = worker(&backend, &fake, Arc::new(SystemClock), config);
    let accepted = run_until_accepted(w, &fake, 30, Duration::from_secs(60)).await;
    assert_each_once(&accepted, 30);
    let received = fake.received();
    assert!(
        fake.count_status(429) > 0,
        "the worker was configured faster than the platform"
    );
    for (i, r) in received.iter().enumerate() {
        if r.status == 429
            && let Some(next) = received.get(i + 1)
        {
            let gap = next.at.duration_since(r.at);
            assert!(
                gap >= Duration::from_millis(990),
                "a request {gap:?} after a 429 with Retry-After: 1"
            );
        }
    }
}

/// A batch that takes longer to send than the lease (a slow platform, one send at a time)
/// stays its worker's: the lease is extended while it sends, so a second worker polling the
/// same database never claims the batch's tail and sends it too.
#[tokio::test]
async fn a_batch_slower_than_its_lease_is_not_claimed_by_another_worker() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        fake.answer_after(Duration::from_millis(400));
        let messages: Vec<NewOutbound> = (0..8)
            .map(|i| whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), Utc::now()))
            .collect();
        enqueue(&backend.store, &messages).await;
        let workers: Vec<Worker> = (0..2)
            .map(|n| {
                let mut config = config();
                // Eight sends of 0.4 s one after the other: 3.2 s for a lease of 1 s.
                config.lease_seconds = 1;
                config.in_flight = 1;
                config.poll_ms = 50;
                Worker::new(
                    backend.store.clone(),
                    vec![sender(&fake, &backend.store)],
                    Arc::new(SystemClock),
                    config,
                    format!("w{n}"),
                )
            })
            .collect();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let running: Vec<_> = workers
            .into_iter()
            .map(|w| {
                let stopped = stopped.clone();
                tokio::spawn(async move { w.run(stopped).await })
            })
            .collect();
        let store = backend.store.clone();
        common::poll_async("every message sent", Duration::from_secs(30), async || {
            let sent = store.outbox_in_state(OutboxState::Sent, 100).await.ok()?;
            (sent.len() == 8).then_some(())
        })
        .await;
        stop.send(true).unwrap();
        for r in running {
            r.await.unwrap();
        }
        assert_each_once(&fake.accepted(), 8);
    }
}

/// A send whose claim may have passed to another worker is not made. The lease of a batch runs
/// out while its first send waits on a slow platform (the clock jumps past it, before the lease
/// could be extended), so the second message is put back, not sent; the next round claims it
/// afresh and sends it once.
#[tokio::test]
async fn a_send_after_the_lease_lapsed_is_put_back_not_made() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        // Long enough for the test to move the clock while the first send waits for its answer.
        fake.answer_after(Duration::from_secs(2));
        let chat = "5511900000001";
        let messages: Vec<NewOutbound> = (0..2)
            .map(|i| whatsapp_message(&format!("lapse-{i}"), chat, start_time()))
            .collect();
        enqueue(&backend.store, &messages).await;
        let clock = Arc::new(ManualClock::new(start_time()));
        let mut config = config();
        // One send at a time, so the second starts only after the first has its answer.
        config.in_flight = 1;
        let lease = config.lease();
        // A client timeout well past the answer's delay: the first send is answered, not lost.
        let sender = Arc::new(fake.sender(backend.store.clone(), Arc::new(SystemClock), 10));
        let w = Arc::new(Worker::new(
            backend.store.clone(),
            vec![sender],
            clock.clone(),
            config,
            "w1",
        ));
        let first = tokio::spawn({
            let w = w.clone();
            async move { w.run_once().await }
        });
        common::poll("the first send to arrive", Duration::from_secs(10), || {
            (!fake.received().is_empty()).then_some(())
        })
        .await;
        clock.advance(chrono::Duration::from_std(lease).unwrap() + chrono::Duration::seconds(1));
        let round = first.await.unwrap().expect("a round");
        assert_eq!(
            (round.claimed, round.sent, round.released),
            (2, 1, 1),
            "[{}] {round:?}",
            backend.name
        );
        assert_eq!(fake.received().len(), 1, "[{}]", backend.name);
        let pending = backend
            .store
            .outbox_in_state(OutboxState::Pending, 10)
            .await
            .unwrap();
        let pending: Vec<&str> = pending
            .iter()
            .map(|row| row.message.idempotency_key.as_str())
            .collect();
        assert_eq!(pending, ["lapse-1"], "[{}]", backend.name);

        fake.answer_after(Duration::ZERO);
        let round = w.run_once().await.expect("a second round");
        assert_eq!((round.claimed, round.sent), (1, 1), "[{}]", backend.name);
        assert_each_once(&fake.accepted(), 2);
    }
}

#[tokio::test]
async fn workers_on_one_database_never_send_a_message_twice() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        let messages: Vec<NewOutbound> = (0..120)
            .map(|i| whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), start_time()))
            .collect();
        enqueue(&backend.store, &messages).await;
        let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(start_time()));
        let tasks: Vec<_> = (0..4)
            .map(|n| {
                let mut config = config();
                config.batch = 7;
                let w = Worker::new(
                    backend.store.clone(),
                    vec![sender(&fake, &backend.store)],
                    clock.clone(),
                    config,
                    format!("w{n}"),
                );
                tokio::spawn(async move { w.drain().await.unwrap() })
            })
            .collect();
        let mut sent = 0;
        for t in tasks {
            sent += t.await.unwrap().sent;
        }
        assert_eq!(sent, 120, "[{}]", backend.name);
        assert_each_once(&fake.accepted(), 120);
    }
}

#[tokio::test]
async fn urgent_messages_go_first_and_a_slow_destination_holds_up_no_one() {
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let mut config = config();
    config.in_flight = 1;
    config.limits.insert(
        "whatsapp".into(),
        PlatformLimits {
            rate: 1000.0,
            burst: 1000,
            // One message per minute to one recipient, no burst to speak of.
            per_chat_rate: 1.0 / 60.0,
            per_chat_burst: 1,
            ..PlatformLimits::default()
        },
    );
    let w = worker(&backend, &fake, clock.clone(), config);
    let mut routine: Vec<NewOutbound> = (0..4)
        .map(|i| NewOutbound {
            priority: 4,
            ..whatsapp_message(&format!("routine-{i}"), "5511900000001", start_time())
        })
        .collect();
    routine.push(NewOutbound {
        priority: 0,
        ..whatsapp_message("sev1-page", "5511900000001", start_time())
    });
    let others: Vec<NewOutbound> = (0..3)
        .map(|i| {
            whatsapp_message(
                &format!("other-{i}"),
                &format!("551190000{:04}", 100 + i),
                start_time(),
            )
        })
        .collect();
    enqueue(&backend.store, &routine).await;
    enqueue(&backend.store, &others).await;
    open_windows(
        &backend.store,
        &[
            "5511900000001",
            "5511900000100",
            "5511900000101",
            "5511900000102",
        ],
    )
    .await;

    let round = w.drain().await.unwrap();
    let accepted = fake.accepted();
    assert_eq!(
        accepted[0].body, "mensagem sev1-page",
        "the urgent message takes the first slot"
    );
    assert_eq!(
        round.sent, 4,
        "one to the busy recipient, and every other recipient at once: {round:?}"
    );
    assert_eq!(
        accepted.iter().filter(|r| r.to == "5511900000001").count(),
        1
    );
    assert_eq!(
        round.released, 4,
        "the busy recipient's others wait for their slots"
    );
    let waiting = backend
        .store
        .pending_outbox(Platform::Whatsapp, 10)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 4, "the released rows wait in the queue");
    assert!(
        waiting
            .iter()
            .all(|r| r.next_attempt_at >= start_time() + chrono::Duration::seconds(59))
    );
    assert!(
        waiting.iter().all(|r| r.attempts == 0),
        "a pacing wait is not a failed attempt"
    );
}

#[tokio::test]
async fn a_send_that_times_out_is_retried() {
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    let clock = Arc::new(ManualClock::new(start_time()));
    let sender = Arc::new(fake.sender(backend.store.clone(), clock.clone(), 1));
    let w = Worker::new(
        backend.store.clone(),
        vec![sender],
        clock.clone(),
        config(),
        "w1",
    );
    fake.script([Reply::Hang]);
    enqueue(
        &backend.store,
        &[whatsapp_message("slow", "5511900000001", start_time())],
    )
    .await;
    let first = w.drain().await.unwrap();
    assert_eq!(first.retried, 1, "{first:?}");
    let row = &backend
        .store
        .pending_outbox(Platform::Whatsapp, 1)
        .await
        .unwrap()[0];
    assert_eq!(row.state, OutboxState::Failed);
    assert!(
        row.last_error
            .as_deref()
            .is_some_and(|e| e.contains("request failed")),
        "{row:?}"
    );
    clock.advance(chrono::Duration::seconds(5));
    assert_eq!(w.drain().await.unwrap().sent, 1);
    assert_each_once(&fake.accepted(), 1);
}

/// Pacing at `rate`/s with bursts of `burst` to the whole number, none per recipient.
fn paced(rate: f64, burst: u32) -> OutboxConfig {
    let mut config = config();
    config.limits.insert(
        "whatsapp".into(),
        PlatformLimits {
            rate,
            burst,
            per_chat_rate: 1000.0,
            per_chat_burst: 1000,
            ..PlatformLimits::default()
        },
    );
    config
}

#[tokio::test]
async fn a_burst_of_one_fans_out_against_a_bucket_of_one_without_429s() {
    // The platform lets no two messages arrive closer than 1/40 s, and so is the outbox told.
    // Each message waits for the one before it to be answered, so a late first message (a cold
    // connection) pushes the others back instead of squeezing the gap after it.
    let backend = common::sqlite().await;
    let fake = FakeGraph::start().await;
    fake.limit(1, 40.0);
    let messages: Vec<NewOutbound> = (0..40)
        .map(|i| whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), Utc::now()))
        .collect();
    enqueue(&backend.store, &messages).await;
    let w = worker(&backend, &fake, Arc::new(SystemClock), paced(40.0, 1));
    let accepted = run_until_accepted(w, &fake, 40, Duration::from_secs(30)).await;
    let rec = fake.received();
    let trace: Vec<String> = rec
        .iter()
        .map(|r| {
            format!(
                "{}:{}",
                r.at.duration_since(rec[0].at).as_millis(),
                r.status
            )
        })
        .collect();
    assert_eq!(fake.count_status(429), 0, "nothing refused: {trace:?}");
    assert_each_once(&accepted, 40);
}

#[tokio::test]
async fn a_deep_backlog_to_one_slow_destination_is_not_claimed_again_at_every_slot() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        let clock = Arc::new(ManualClock::new(start_time()));
        let mut config = config();
        // Half the lease is 500 ms: a destination paced at 1/s has one slot in reach.
        config.lease_seconds = 1;
        config.limits.insert(
            "whatsapp".into(),
            PlatformLimits {
                rate: 1000.0,
                burst: 1000,
                per_chat_rate: 1.0,
                per_chat_burst: 1,
                ..PlatformLimits::default()
            },
        );
        let slow = "5511900000001";
        let backlog: Vec<NewOutbound> = (0..1000)
            .map(|i| whatsapp_message(&format!("slow-{i}"), slow, start_time()))
            .collect();
        let others: Vec<NewOutbound> = (0..5)
            .map(|i| {
                whatsapp_message(
                    &format!("other-{i}"),
                    &format!("551190000{:04}", 100 + i),
                    start_time(),
                )
            })
            .collect();
        enqueue(&backend.store, &backlog).await;
        enqueue(&backend.store, &others).await;
        let w = worker(&backend, &fake, clock.clone(), config.clone());

        let first = w.drain().await.unwrap();
        assert_eq!(
            (first.sent, first.claimed),
            (6, config.batch as usize + 5),
            "one claim of the backlog, then the others, sent at once [{}]: {first:?}",
            backend.name
        );
        assert_eq!(fake.accepted_to(slow).len(), 1);
        for i in 0..5 {
            assert_eq!(
                fake.accepted_to(&format!("551190000{:04}", 100 + i)).len(),
                1,
                "the other destinations are not held up behind the backlog"
            );
        }
        let waiting = backend
            .store
            .pending_outbox(Platform::Whatsapp, 2000)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 999);
        assert!(
            waiting.iter().all(|r| r.attempts == 0),
            "a pacing wait is not a failed attempt"
        );

        // Each later slot claims the one row whose slot it is, not the backlog.
        for slot in 1..=3 {
            clock.advance(chrono::Duration::seconds(1));
            let round = w.drain().await.unwrap();
            assert_eq!(
                (round.sent, round.claimed),
                (1, 1),
                "slot {slot} [{}]: {round:?}",
                backend.name
            );
        }
        // No window is open: each goes as a template, its text the first parameter.
        let bodies: Vec<String> = fake
            .accepted_to(slow)
            .into_iter()
            .map(|r| r.body.split(" | ").next().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            bodies,
            (0..4)
                .map(|i| format!("mensagem slow-{i}"))
                .collect::<Vec<_>>(),
            "in order"
        );
    }
}

#[tokio::test]
async fn two_processes_share_the_platforms_limit() {
    for backend in backends().await {
        let fake = FakeGraph::start().await;
        fake.limit(4, 20.0);
        // Each process alone would pace to the full limit; together they must stay within it.
        let mut config = paced(20.0, 4);
        config.heartbeat_ms = 200;
        config.poll_ms = 20;
        config.batch = 4;
        let workers: Vec<Worker> = (0..2)
            .map(|n| {
                Worker::new(
                    backend.store.clone(),
                    vec![sender(&fake, &backend.store)],
                    Arc::new(SystemClock),
                    config.clone(),
                    format!("process-{n}"),
                )
            })
            .collect();
        common::poll_async(
            "both processes count each other",
            Duration::from_secs(10),
            async || {
                for w in &workers {
                    w.run_once().await.unwrap();
                }
                workers
                    .iter()
                    .all(|w| w.share(Platform::Whatsapp) == 2)
                    .then_some(())
            },
        )
        .await;

        let messages: Vec<NewOutbound> = (0..40)
            .map(|i| whatsapp_message(&format!("m{i}"), &format!("551190000{i:04}"), Utc::now()))
            .collect();
        enqueue(&backend.store, &messages).await;
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tasks: Vec<_> = workers
            .into_iter()
            .map(|w| {
                let stopped = stopped.clone();
                tokio::spawn(async move { w.run(stopped).await })
            })
            .collect();
        let accepted = fake.wait_for_accepted(40, Duration::from_secs(30)).await;
        stop.send(true).unwrap();
        for t in tasks {
            t.await.unwrap();
        }
        let rec = fake.received();
        let trace: Vec<String> = rec
            .iter()
            .map(|r| {
                format!(
                    "{}:{}",
                    r.at.duration_since(rec[0].at).as_millis(),
                    r.status
                )
            })
            .collect();
        assert_eq!(
            fake.count_status(429),
            0,
            "together within the limit [{}]: {trace:?}",
            backend.name
        );
        assert_each_once(&accepted, 40);
    }
}
