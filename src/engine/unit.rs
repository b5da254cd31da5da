//! One unit of work: the single path every change takes to the database. [`Engine::begin`]
//! opens the transaction and records what makes the work happen once (an inbound event's dedupe
//! key, or a claimed job's completion); [`Engine::begin_unguarded`] opens one for writes that are
//! idempotent by themselves (a contact's window, a row queued under its own key). The caller
//! decides and writes through the unit (its incident, timeline, jobs, and the messages its
//! [`Fanout`] renders); [`Engine::commit`] renders the mentions for each room, fits each message
//! to its platform ([`fit`]: split into numbered parts, cards trimmed), enqueues the messages,
//! commits, and wakes this process's outbox workers and scheduler. Dropping a unit
//! rolls everything back.

use std::collections::HashMap;

use super::fanout::Fanout;
use super::{Engine, EngineError, Outbound, fit, reach};
use crate::i18n::Lang;
use crate::store::{NewOutbound, StoreTx};

/// What makes a unit of work happen once.
#[derive(Debug, Clone, Copy)]
pub enum Guard<'a> {
    /// An inbound event's key (`slack:cmd:T1`, `relay:whatsapp:wamid…`): a unit whose key was
    /// recorded before does not begin. Its messages' keys start with it.
    Inbound(&'a str),
    /// A claimed job: marked done in this transaction if `worker` still holds it (else the unit
    /// does not begin). Its messages' keys start with the job's key.
    Job {
        id: i64,
        key: &'a str,
        worker: &'a str,
    },
}

/// An open unit of work.
pub struct Unit {
    pub tx: Box<dyn StoreTx>,
    /// The messages the unit causes.
    pub out: Fanout,
    /// Set when the unit planned jobs, so the scheduler looks again after the commit.
    pub planned_jobs: bool,
}

impl Unit {
    /// Queues a row as it is, under its own idempotency key (a message queued again).
    pub fn keep(&mut self, message: NewOutbound) {
        self.out.verbatim.push(message);
    }
}

impl Engine {
    /// Opens a unit of work; `None` when its guard says the work was done before (a redelivered
    /// event) or is no longer this worker's (a job whose lease passed to another).
    pub async fn begin(&self, guard: Guard<'_>) -> Result<Option<Unit>, EngineError> {
        let now = self.clock.now();
        let mut tx = self.store.begin().await?;
        let key = match guard {
            Guard::Inbound(key) => {
                if !tx.record_inbound(key, now).await? {
                    return Ok(None);
                }
                key
            }
            Guard::Job { id, key, worker } => {
                if !tx.complete_job(id, worker, now).await? {
                    return Ok(None);
                }
                key
            }
        };
        let languages: HashMap<String, Lang> = tx.room_languages().await?.into_iter().collect();
        Ok(Some(Unit {
            tx,
            out: Fanout::new(Some(key), now, languages, self.i18n.clone()),
            planned_jobs: false,
        }))
    }

    /// Opens a unit of work with no guard, for writes that are idempotent by themselves. It
    /// renders no messages: a row it queues carries its own key ([`Unit::keep`]).
    pub async fn begin_unguarded(&self) -> Result<Unit, EngineError> {
        let tx = self.store.begin().await?;
        Ok(Unit {
            tx,
            out: Fanout::new(None, self.clock.now(), HashMap::new(), self.i18n.clone()),
            planned_jobs: false,
        })
    }

    /// Commits a unit: mentions rendered for each message's room, the messages enqueued, the
    /// transaction committed, the workers woken. Returns the messages as they were queued.
    pub async fn commit(&self, unit: Unit) -> Result<Vec<Outbound>, EngineError> {
        let Unit {
            mut tx,
            out,
            planned_jobs,
        } = unit;
        let mut messages = out.messages;
        let mut names = HashMap::new();
        for m in &mut messages {
            let platform = m.platform;
            let mut texts: Vec<&mut String> = vec![&mut m.text];
            if let Some(rich) = &mut m.rich {
                texts.push(&mut rich.title);
                texts.extend(rich.fields.iter_mut().map(|f| &mut f.value));
            }
            reach::render(&mut *tx, &self.reaches, platform, &mut texts, &mut names).await?;
        }
        messages.extend(out.verbatim);
        let messages = fit::fit(messages, &self.reaches, &self.i18n);
        if !messages.is_empty() {
            tx.enqueue(&messages).await?;
        }
        tx.commit().await?;
        if !messages.is_empty() {
            self.wake_outbox();
        }
        if planned_jobs {
            self.scheduler_wake.notify_one();
        }
        Ok(messages)
    }
}
