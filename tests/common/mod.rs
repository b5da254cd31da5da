//! Shared test and benchmark setup: a fresh store per test (a temp SQLite file, or a fresh
//! Postgres schema when `RUNROOM_TEST_POSTGRES_URL` is set), an engine on a hand-moved clock, the
//! rooms, messages and commands the tests share, and (in [`process`]) `runroom serve` as a child
//! process. Benchmarks include it with `#[path = "../tests/common/mod.rs"] mod common;`.
#![allow(dead_code)]

pub mod browser;
pub mod loopback;
pub mod process;
pub mod relay;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use runroom::engine::clock::ManualClock;
use runroom::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef, RoomRole};
use runroom::engine::{Engine, EngineSettings};
use runroom::i18n::{I18n, Lang};
use runroom::store::postgres::PgStore;
use runroom::store::{MessageKind, NewOutbound, Store};

/// A store under test and what keeps it alive (the temp dir).
pub struct TestStore {
    pub name: &'static str,
    pub store: Arc<dyn Store>,
    /// The Postgres schema this test owns, and a pool into it.
    pub schema: Option<(String, sqlx::PgPool)>,
    /// Where another process (`runroom serve`) finds this store.
    url: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestStore {
    /// Wraps a store the test built itself.
    pub fn from_store(name: &'static str, store: Arc<dyn Store>) -> TestStore {
        TestStore {
            name,
            store,
            schema: None,
            url: None,
            _dir: None,
        }
    }

    /// The database URL of this store (for Postgres, one that selects its schema).
    pub fn url(&self) -> &str {
        self.url
            .as_deref()
            .expect("a store the harness opened has a URL")
    }
}

/// The database URL of `runroom.db` in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("runroom.db").display())
}

pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = sqlite_url(dir.path());
    let store = runroom::store::connect(&url).await.expect("sqlite store");
    TestStore {
        name: "sqlite",
        store,
        schema: None,
        url: Some(url),
        _dir: Some(dir),
    }
}

static SCHEMA: AtomicU64 = AtomicU64::new(0);

/// A Postgres store in a schema of its own, or `None` (said on stderr) without the variable.
pub async fn postgres() -> Option<TestStore> {
    let Ok(url) = std::env::var("RUNROOM_TEST_POSTGRES_URL") else {
        eprintln!(
            "SKIPPED the Postgres run: set RUNROOM_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/test)"
        );
        return None;
    };
    let schema = format!(
        "runroom_test_{}_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros(),
        SCHEMA.fetch_add(1, Ordering::SeqCst)
    );
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("RUNROOM_TEST_POSTGRES_URL is set but Postgres is unreachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create schema");
    admin.close().await;
    let options = sqlx::postgres::PgConnectOptions::from_str(&url)
        .expect("postgres url")
        .options([("search_path", schema.as_str())]);
    let pg = PgStore::connect_with(options)
        .await
        .expect("postgres store");
    pg.migrate().await.expect("migrate");
    let pool = pg.pool().clone();
    let sep = if url.contains('?') { '&' } else { '?' };
    let url = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    Some(TestStore {
        name: "postgres",
        store: Arc::new(pg),
        schema: Some((schema, pool)),
        url: Some(url),
        _dir: None,
    })
}

/// SQLite always, and Postgres when configured.
/// Runs raw SQL on a test's database, in the backend's dialect (a trigger, a row set by hand).
pub async fn raw_sql(store: &TestStore, sqlite: &str, postgres: &str) {
    match &store.schema {
        Some((_, pool)) => {
            sqlx::raw_sql(sqlx::AssertSqlSafe(postgres.to_string()))
                .execute(pool)
                .await
                .expect("postgres statement");
        }
        None => {
            let pool = sqlx::SqlitePool::connect(store.url())
                .await
                .expect("sqlite connection");
            sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite.to_string()))
                .execute(&pool)
                .await
                .expect("sqlite statement");
            pool.close().await;
        }
    }
}

pub async fn backends() -> Vec<TestStore> {
    let mut all = vec![sqlite().await];
    all.extend(postgres().await);
    all
}

pub fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 13, 0, 0).unwrap()
}

/// The local console room (English, UTC).
pub fn console_room() -> Room {
    Room {
        id: "console".into(),
        platform: Platform::Console,
        chat: "console".into(),
        language: Lang::En,
        timezone: chrono_tz::UTC,
        role: RoomRole::WarRoom,
        members: Vec::new(),
    }
}

/// Four linked rooms in three languages and three zones.
pub fn rooms() -> Vec<Room> {
    vec![
        console_room(),
        Room {
            id: "runroom".into(),
            platform: Platform::Slack,
            chat: "C0123456".into(),
            language: Lang::En,
            timezone: chrono_tz::America::New_York,
            role: RoomRole::WarRoom,
            members: Vec::new(),
        },
        Room {
            id: "campo".into(),
            platform: Platform::Whatsapp,
            chat: "120363025246125486@g.us".into(),
            language: Lang::PtBr,
            timezone: chrono_tz::America::Sao_Paulo,
            role: RoomRole::WarRoom,
            members: Vec::new(),
        },
        Room {
            id: "soporte".into(),
            platform: Platform::Telegram,
            chat: "-1001234567890".into(),
            language: Lang::Es,
            timezone: chrono_tz::America::Bogota,
            role: RoomRole::Announce,
            members: Vec::new(),
        },
    ]
}

/// One room of [`rooms`] as `runroom.toml` lists it.
pub fn room_toml(id: &str) -> &'static str {
    match id {
        "console" => {
            r#"
[[rooms]]
id = "console"
platform = "console"
chat = "console"
"#
        }
        "runroom" => {
            r#"
[[rooms]]
id = "runroom"
platform = "slack"
chat = "C0123456"
timezone = "America/New_York"
"#
        }
        "campo" => {
            r#"
[[rooms]]
id = "campo"
platform = "whatsapp"
chat = "120363025246125486@g.us"
language = "pt-BR"
timezone = "America/Sao_Paulo"
"#
        }
        "soporte" => {
            r#"
[[rooms]]
id = "soporte"
platform = "telegram"
chat = "-1001234567890"
language = "es"
timezone = "America/Bogota"
role = "announce"
"#
        }
        other => panic!("no room {other:?} in common::rooms()"),
    }
}

/// All four rooms of [`rooms`] as `runroom.toml` lists them.
pub fn rooms_toml() -> String {
    rooms().iter().map(|r| room_toml(&r.id)).collect()
}

/// A message typed by `author` in `room` (a room id from [`rooms`]) at `at`.
pub fn inbound(
    room: &str,
    author: &str,
    text: &str,
    event_id: String,
    at: DateTime<Utc>,
) -> Inbound {
    let room = rooms()
        .into_iter()
        .find(|r| r.id == room)
        .expect("known room");
    Inbound {
        event_id,
        origin: Origin {
            room: RoomRef {
                platform: room.platform,
                chat: room.chat,
                thread: None,
            },
            author: Author {
                handle: None,
                id: format!("U-{author}"),
                name: author.into(),
            },
            private_replies: false,
        },
        input: Input::Text(text.into()),
        received_at: at,
    }
}

/// The Slack war room of the platform tests and benchmarks (`[[rooms]] id = "runroom"`).
pub const SLACK_WAR_ROOM: &str = "C0RUNROOM";

/// A command Ben typed in the Slack war room ([`SLACK_WAR_ROOM`]) at `at`.
pub fn from_slack(event_id: String, text: &str, at: DateTime<Utc>) -> Inbound {
    Inbound {
        event_id,
        origin: Origin {
            room: RoomRef {
                platform: Platform::Slack,
                chat: SLACK_WAR_ROOM.into(),
                thread: None,
            },
            author: Author {
                handle: None,
                id: "U0BEN".into(),
                name: "Ben".into(),
            },
            private_replies: false,
        },
        input: Input::Text(text.into()),
        received_at: at,
    }
}

/// A broadcast in the WhatsApp room `campo` to `chat` (pt-BR, priority 2): `mensagem {key}`.
pub fn whatsapp_message(key: &str, chat: &str, created_at: DateTime<Utc>) -> NewOutbound {
    NewOutbound {
        idempotency_key: key.into(),
        room_id: "campo".into(),
        platform: Platform::Whatsapp,
        chat: chat.into(),
        thread: None,
        kind: MessageKind::Broadcast,
        language: Lang::PtBr,
        text: format!("mensagem {key}"),
        rich: None,
        incident: None,
        priority: 2,
        created_at,
        recipient: None,
        topic: None,
    }
}

/// Queues `messages` in the outbox in one transaction, as the engine does.
pub async fn enqueue(store: &Arc<dyn Store>, messages: &[NewOutbound]) {
    let mut tx = store.begin().await.expect("begin");
    tx.enqueue(messages).await.expect("enqueue");
    tx.commit().await.expect("commit");
}

pub struct TestEngine {
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub backend: &'static str,
    next_event: AtomicU64,
}

pub fn engine_on(store: &TestStore) -> TestEngine {
    engine_with_rooms(store, rooms())
}

/// A war room (in the São Paulo zone) of `platform` at `chat`, in `language`.
pub fn war_room(id: &str, platform: Platform, chat: &str, language: Lang) -> Room {
    Room {
        id: id.into(),
        platform,
        chat: chat.into(),
        language,
        timezone: chrono_tz::America::Sao_Paulo,
        role: RoomRole::WarRoom,
        members: Vec::new(),
    }
}

/// [`engine_on`] with these rooms.
pub fn engine_with_rooms(store: &TestStore, rooms: Vec<Room>) -> TestEngine {
    let clock = Arc::new(ManualClock::new(start_time()));
    let engine = Engine::new(
        store.store.clone(),
        Arc::new(I18n::new().expect("locales load")),
        clock.clone(),
        EngineSettings {
            rooms,
            extra_roles: vec!["liaison".into()],
            reaches: runroom::platforms::reaches(),
            ..Default::default()
        },
    );
    TestEngine {
        engine,
        clock,
        backend: store.name,
        next_event: AtomicU64::new(1),
    }
}

impl TestEngine {
    /// An engine built elsewhere (with its own settings), on `clock`.
    pub fn from_parts(
        engine: Engine,
        clock: Arc<ManualClock>,
        backend: &'static str,
    ) -> TestEngine {
        TestEngine {
            engine,
            clock,
            backend,
            next_event: AtomicU64::new(1),
        }
    }

    /// A message from `room` (a room id from [`rooms`]) with a fresh event id.
    pub fn inbound(&self, room: &str, author: &str, text: &str) -> Inbound {
        let n = self.next_event.fetch_add(1, Ordering::SeqCst);
        inbound(room, author, text, format!("evt-{n}"), self.clock_now())
    }

    pub fn clock_now(&self) -> DateTime<Utc> {
        use runroom::engine::clock::Clock;
        self.clock.now()
    }

    /// Sends a message and returns the outcome, failing the test on a store error.
    pub async fn say(&self, room: &str, author: &str, text: &str) -> runroom::engine::Outcome {
        let inbound = self.inbound(room, author, text);
        self.engine
            .handle(&inbound)
            .await
            .unwrap_or_else(|e| panic!("[{}] {text}: {e}", self.backend))
    }
}

/// Another writer holding SQLite's write lock (`BEGIN IMMEDIATE`) on the file at `url`, until
/// [`SqliteLock::release`].
pub struct SqliteLock {
    pool: sqlx::SqlitePool,
    conn: sqlx::pool::PoolConnection<sqlx::Sqlite>,
}

impl SqliteLock {
    pub async fn take(url: &str) -> SqliteLock {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await
            .expect("a second connection to the SQLite file");
        let mut conn = pool.acquire().await.expect("a connection");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *conn)
            .await
            .expect("the write lock");
        SqliteLock { pool, conn }
    }

    pub async fn release(mut self) {
        sqlx::query("ROLLBACK")
            .execute(&mut *self.conn)
            .await
            .expect("release the write lock");
        drop(self.conn);
        self.pool.close().await;
    }
}

/// Polls `check` every 20 ms until it returns something, or panics naming `what` at the deadline.
pub async fn poll<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    poll_async(what, within, async || check()).await
}

/// [`poll`] with a check that awaits (a store query, say).
pub async fn poll_async<T>(
    what: &str,
    within: Duration,
    mut check: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not there within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Stores `n` open incidents (titles of about 60 characters, severities in turn, declared
/// `ago` apart before `now`) in one transaction, as a storm of declarations would leave them.
pub async fn insert_open_incidents(store: &Arc<dyn Store>, n: usize, now: DateTime<Utc>) {
    use runroom::engine::incident::{Actor, Incident, Severity};
    let actor = Actor {
        name: "alertmanager".into(),
        room: "runroom".into(),
    };
    let severities = [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ];
    let mut tx = store.begin().await.expect("begin");
    for i in 0..n {
        let at = now - chrono::Duration::seconds(i64::try_from(n - i).unwrap_or(0));
        let (incident, _) = Incident::declare(
            format!("Checkout latency above 2s in region sa-east-1, shard {i:05}"),
            severities[i % severities.len()],
            None,
            &actor,
            at,
        );
        tx.insert_incident(&incident)
            .await
            .expect("insert an incident");
    }
    tx.commit().await.expect("commit the incidents");
}

/// Every outbox row in `state`, oldest first.
pub async fn outbox_rows(
    store: &Arc<dyn Store>,
    state: runroom::store::OutboxState,
) -> Vec<runroom::store::OutboxRow> {
    let mut rows = store.outbox_in_state(state, 100_000).await.expect("outbox");
    rows.sort_by_key(|r| r.id);
    rows
}

/// Checks that each queued message fits its platform the way `engine::fit` promises: within
/// the platform's limit as the platform counts it, and a split message as consecutive rows
/// `{key}#p1…#pN` whose texts start with `(i/N) `. Returns the number of split messages.
pub fn assert_fits(messages: &[NewOutbound]) -> usize {
    use std::collections::BTreeMap;
    let reaches = runroom::platforms::reaches();
    let mut split: BTreeMap<&str, Vec<&NewOutbound>> = BTreeMap::new();
    for m in messages {
        let limits = reaches.limits(m.platform);
        if let Some(max) = limits.text {
            let len = (limits.measure)(&m.text);
            assert!(
                len <= max,
                "{} row {} is {len} long, over {max}",
                m.platform.as_str(),
                m.idempotency_key
            );
        }
        if let Some((key, part)) = m.idempotency_key.rsplit_once("#p")
            && part.parse::<usize>().is_ok()
        {
            split.entry(key).or_default().push(m);
        }
    }
    for (key, parts) in &mut split {
        parts.sort_by_key(|m| {
            let (_, part) = m.idempotency_key.rsplit_once("#p").unwrap_or_default();
            part.parse::<usize>().unwrap_or(0)
        });
        let n = parts.len();
        assert!(n >= 2, "{key}: a split message has at least two parts");
        for (i, part) in parts.iter().enumerate() {
            assert_eq!(part.idempotency_key, format!("{key}#p{}", i + 1));
            let marker = format!("({}/{n}) ", i + 1);
            assert!(
                part.text.starts_with(&marker),
                "{key} part {} starts {:?}",
                i + 1,
                part.text.chars().take(20).collect::<String>()
            );
        }
    }
    split.len()
}

/// About `chars` characters of `phrase` repeated, with a line break after every `every`
/// phrases: long text for the message-limit tests (each passes accents, emoji with skin tones,
/// mentions, or what its platform counts escaped).
pub fn long_text(phrase: &str, every: usize, chars: usize) -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.chars().count() + phrase.chars().count() < chars {
        text.push_str(phrase);
        i += 1;
        if i % every == 0 {
            text.push('\n');
        }
    }
    text.trim_end().to_string()
}
