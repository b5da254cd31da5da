//! Queries change nothing: `list`, `show`, `timeline`, `help` and the answer to a command that
//! did not parse are read and rendered in a read transaction beside the writer's, and the unit
//! of work that follows only records the event's key and queues the rendered answer. So a page
//! of twenty incidents holds the write lock (and every command queued behind it) no longer than
//! "no open incidents" does, and reading never waits for a batch of changes to commit.

use std::collections::HashMap;

use super::actions::Decision;
use super::command::{Command, ParseError, Verb};
use super::fanout::Fanout;
use super::incident::Actor;
use super::room::{Origin, Room};
use super::{Engine, EngineError, Outbound, errors};
use crate::i18n::Lang;

/// A query's answer, rendered and fitted, waiting for its unit of work to queue it.
pub(super) struct Answer {
    /// Whether the command succeeded (false: the answer explains what was wrong).
    pub ok: bool,
    pub messages: Vec<Outbound>,
}

/// Whether a parsed command only reads. A decision is still checked before its answer is used
/// ([`Engine::answer_query`]); this only spares the other verbs a read that would be thrown away.
fn is_query(parsed: &Result<Command, ParseError>) -> bool {
    match parsed {
        Err(_) => true,
        Ok(command) => matches!(
            command.verb(),
            Verb::List | Verb::Show | Verb::Timeline | Verb::Help
        ),
    }
}

impl Engine {
    /// Reads and renders a query's answer outside the writer. `None`: not a query, or its
    /// decision would change something after all; then it goes the writer's way, as every
    /// change does.
    pub(super) async fn answer_query(
        &self,
        parsed: &Result<Command, ParseError>,
        origin: &Origin,
        room: &Room,
        dedupe_key: &str,
    ) -> Result<Option<Answer>, EngineError> {
        if !is_query(parsed) {
            return Ok(None);
        }
        let mut tx = self.store.begin_read().await?;
        let languages: HashMap<String, Lang> = tx.room_languages().await?.into_iter().collect();
        let mut out = Fanout::new(
            Some(dedupe_key),
            self.clock.now(),
            languages,
            self.i18n.clone(),
        );
        out.answering(&origin.author.id, origin.room.thread.clone());
        let (ok, msg, private) = match parsed {
            Err(error) => (false, errors::parse_error(error), true),
            Ok(command) => {
                let actor = Actor {
                    name: origin.author.name.clone(),
                    room: room.id.clone(),
                };
                let lang = out.language_of(room);
                let (_, decided) = self
                    .load_and_decide(
                        &mut *tx,
                        command.clone(),
                        &actor,
                        (&room.id, lang),
                        out.now(),
                        self.gate(origin, room),
                    )
                    .await?;
                match decided {
                    Err(error) => (false, errors::action_error(&error), true),
                    Ok(Decision {
                        change: None,
                        reply: Some(msg),
                        set_language: None,
                        effects,
                    }) if effects.is_empty() => (true, msg, origin.private_replies),
                    Ok(_) => return Ok(None),
                }
            }
        };
        out.answer(room, &msg, private);
        let messages = self.finish(&mut *tx, &mut out).await?;
        Ok(Some(Answer { ok, messages }))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use crate::engine::clock::SystemClock;
    use crate::engine::room::{Author, Inbound, Input, Platform, RoomRef, RoomRole};
    use crate::engine::{EngineSettings, Outcome, command};
    use crate::i18n::I18n;

    fn room() -> Room {
        Room {
            id: "runroom".into(),
            platform: Platform::Slack,
            chat: "C0RUNROOM".into(),
            language: Lang::En,
            timezone: chrono_tz::UTC,
            role: RoomRole::WarRoom,
            members: Vec::new(),
        }
    }

    fn origin() -> Origin {
        Origin {
            room: RoomRef {
                platform: Platform::Slack,
                chat: "C0RUNROOM".into(),
                thread: None,
            },
            author: Author {
                handle: None,
                id: "U0ANA".into(),
                name: "ana".into(),
            },
            private_replies: true,
        }
    }

    fn typed(event: &str, text: &str) -> Inbound {
        Inbound {
            event_id: event.into(),
            origin: origin(),
            input: Input::Text(text.into()),
            received_at: chrono::Utc::now(),
        }
    }

    /// `text`'s answer as [`Engine::answer_query`] reads it, within a deadline far below the
    /// busy timeout a read waiting for the write lock would wait out.
    async fn answer_at_once(engine: &Engine, text: &str, key: &str) -> Option<Answer> {
        let parsed = command::parse(text).expect("addressed to runroom");
        let (origin, room) = (origin(), room());
        let read = engine.answer_query(&parsed, &origin, &room, key);
        tokio::time::timeout(Duration::from_secs(5), read)
            .await
            .expect("read while the write lock is held")
            .expect("read")
    }

    /// The query is read and rendered while another connection holds SQLite's write lock (a
    /// read that waited for it would wait out the 10 s busy timeout), and only its queueing waits
    /// for the lock. A change is not a query, and a repeated event is answered once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_query_is_answered_from_a_read_beside_the_write_lock() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}", dir.path().join("runroom.db").display());
        let store = crate::store::connect(&url).await.expect("store");
        let engine = Engine::new(
            store.clone(),
            Arc::new(I18n::new().expect("locales")),
            Arc::new(SystemClock),
            EngineSettings {
                rooms: vec![room()],
                ..EngineSettings::default()
            },
        );
        for (event, title) in [("E1", "Checkout down"), ("E2", "Login slow")] {
            let declared = engine
                .handle(&typed(event, &format!("inc declare sev2 {title}")))
                .await
                .expect("declared");
            assert!(matches!(declared, Outcome::Handled { ok: true, .. }));
        }

        let locker = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect(&url)
            .await
            .expect("a second connection");
        let mut lock = locker.acquire().await.expect("a connection");
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *lock)
            .await
            .expect("the write lock");

        let list = answer_at_once(&engine, "inc list", "E3")
            .await
            .expect("a query");
        assert!(list.ok);
        let [answer] = list.messages.as_slice() else {
            panic!("one answer: {:?}", list.messages);
        };
        assert!(answer.text.contains("Checkout down") && answer.text.contains("Login slow"));
        assert_eq!(answer.idempotency_key, "E3#0");
        assert_eq!(
            answer.recipient.as_deref(),
            Some("U0ANA"),
            "a private answer"
        );

        let typo = answer_at_once(&engine, "inc lsit", "E4")
            .await
            .expect("an answer to a command that did not parse");
        assert!(!typo.ok);

        let change = answer_at_once(&engine, "inc ack", "E5").await;
        assert!(change.is_none(), "a change goes the writer's way");

        sqlx::query("ROLLBACK")
            .execute(&mut *lock)
            .await
            .expect("release the write lock");
        drop(lock);
        let first = engine
            .handle(&typed("E6", "inc list"))
            .await
            .expect("handled");
        assert!(matches!(first, Outcome::Handled { ok: true, .. }));
        let again = engine
            .handle(&typed("E6", "inc list"))
            .await
            .expect("handled");
        assert_eq!(again, Outcome::Duplicate);
        let queued = store
            .pending_outbox(Platform::Slack, 100)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|row| row.message.idempotency_key.starts_with("slack:E6#"))
            .count();
        assert_eq!(queued, 1, "one answer for the event however often it came");
    }
}
