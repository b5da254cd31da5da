//! One unit of work: the single path every change takes to the database. [`Engine::unit`] runs
//! a unit's work (load, decide, write through [`Unit::tx`], and the messages its [`Fanout`]
//! renders) inside the engine's writer ([`super::writer`]): in its own savepoint of a batch's
//! transaction, after recording what makes the work happen once (an inbound event's dedupe key,
//! or a claimed job's completion). [`Engine::unguarded`] does the same for writes that are
//! idempotent by themselves (a contact's window, a row queued under its own key). When the work
//! is done the mentions are rendered for each room, each message is fitted to its platform
//! ([`fit`]: split into numbered parts, cards trimmed) and the messages enqueued, still in the
//! savepoint; the caller gets its value back once the batch has committed, and then wakes this
//! process's outbox workers and scheduler. A unit whose work fails is rolled back to its
//! savepoint alone: the rest of its batch commits.

use std::collections::HashMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use super::fanout::Fanout;
use super::writer::{BatchError, Claimed, Ticket};
use super::{Engine, EngineError, Outbound, fit, reach};
use crate::i18n::Lang;
use crate::store::{InboundKey, NewOutbound, StoreTx};

/// What makes a unit of work happen once.
#[derive(Debug, Clone, Copy)]
pub enum Guard<'a> {
    /// An inbound event's key (`slack:cmd:T1`, `relay:whatsapp:wamid…`): a unit whose key was
    /// recorded before (in an earlier batch or earlier in its own) does nothing. Its messages'
    /// keys start with it.
    Inbound(&'a str),
    /// An inbound event whose answer was read and rendered before the unit began (a query, see
    /// [`super::query`]): recorded as [`Guard::Inbound`] is; the unit only queues
    /// [`Fanout::ready`], so it reads nothing else.
    Answered(&'a str),
    /// A claimed job: marked done in this unit if `worker` still holds it (else the unit does
    /// nothing). Its messages' keys start with the job's key.
    Job {
        id: i64,
        key: &'a str,
        worker: &'a str,
    },
}

/// A unit of work under way, lent the batch's transaction. `'a` is the caller's: the work may
/// borrow what the caller holds.
pub struct Unit<'a> {
    pub tx: Box<dyn StoreTx>,
    /// The messages the unit causes.
    pub out: Fanout,
    /// Set when the unit planned jobs, so the scheduler looks again after the commit.
    pub planned_jobs: bool,
    caller: PhantomData<&'a ()>,
}

impl Unit<'_> {
    /// Queues a row as it is, under its own idempotency key (a message queued again).
    pub fn keep(&mut self, message: NewOutbound) {
        self.out.verbatim.push(message);
    }
}

/// A unit's work: what it loads, decides and writes, returning what its caller wants back.
pub type Work<'u, T> = Pin<Box<dyn Future<Output = Result<T, EngineError>> + Send + 'u>>;

/// A unit of work that committed.
#[derive(Debug)]
pub struct Committed<T> {
    /// What the work returned.
    pub value: T,
    /// The messages it queued, as they were rendered for their rooms.
    pub messages: Vec<Outbound>,
}

/// What a unit did in its turn, before its batch committed.
struct Turned<T> {
    value: T,
    messages: Vec<Outbound>,
    planned_jobs: bool,
}

impl Engine {
    /// Runs `work` once per `guard` in the writer's next batch; returns its value and messages
    /// once the batch committed. `Ok(None)`: the guard says the work was done before (a
    /// redelivered event) or is no longer this worker's (a job whose lease passed to another).
    /// On `Err` nothing of the unit was stored.
    pub async fn unit<'a, T, F>(
        &'a self,
        guard: Guard<'a>,
        work: F,
    ) -> Result<Option<Committed<T>>, EngineError>
    where
        T: Send,
        F: for<'u> FnOnce(&'u mut Unit<'a>) -> Work<'u, T> + Send + 'a,
    {
        let key = match guard {
            Guard::Inbound(key) | Guard::Answered(key) => Some(InboundKey {
                key: key.to_string(),
                at: self.clock.now(),
            }),
            Guard::Job { .. } => None,
        };
        let ticket = self
            .writers
            .submit(&self.store, vec![key])
            .pop()
            .ok_or(BatchError::Stopped)?;
        self.unit_with(ticket, Some(guard), work).await
    }

    /// Runs `work` with no guard, for writes that are idempotent by themselves. It renders no
    /// messages: a row it queues carries its own key ([`Unit::keep`]).
    pub async fn unguarded<'a, T, F>(&'a self, work: F) -> Result<Committed<T>, EngineError>
    where
        T: Send,
        F: for<'u> FnOnce(&'u mut Unit<'a>) -> Work<'u, T> + Send + 'a,
    {
        let ticket = self.tickets(1).pop().ok_or(BatchError::Stopped)?;
        let committed = self.unit_with(ticket, None, work).await?;
        // Without a guard there is nothing to skip.
        committed.ok_or_else(|| BatchError::Stopped.into())
    }

    /// Places for `n` units that commit in the same batch (the jobs one claim took).
    pub(super) fn tickets(&self, n: usize) -> Vec<Ticket> {
        self.writers.submit(&self.store, vec![None; n])
    }

    /// Runs a unit in the place `ticket` holds.
    pub(super) async fn unit_with<'a, T, F>(
        &'a self,
        mut ticket: Ticket,
        guard: Option<Guard<'a>>,
        work: F,
    ) -> Result<Option<Committed<T>>, EngineError>
    where
        T: Send,
        F: for<'u> FnOnce(&'u mut Unit<'a>) -> Work<'u, T> + Send + 'a,
    {
        let mut lease = ticket.turn().await?;
        let claimed = lease.claimed();
        let tx = lease.take().ok_or(BatchError::Abandoned)?;
        let mut unit = Unit {
            tx,
            out: Fanout::new(None, self.clock.now(), HashMap::new(), self.i18n.clone()),
            planned_jobs: false,
            caller: PhantomData,
        };
        let turned = self.turn(&mut unit, guard, claimed, work).await;
        // A unit that found its work done before keeps its (empty) savepoint: it is answered
        // with its batch, like the unit that did the work.
        lease.give_back(unit.tx, turned.is_ok());
        let Some(turned) = turned? else {
            ticket.committed().await?;
            return Ok(None);
        };
        ticket.committed().await?;
        if !turned.messages.is_empty() {
            self.wake_outbox();
            self.publish_changes(&turned.messages);
        }
        if turned.planned_jobs {
            self.scheduler_wake.notify_one();
        }
        Ok(Some(Committed {
            value: turned.value,
            messages: turned.messages,
        }))
    }

    /// A unit's turn with the transaction: its guard (its dedupe key as the batch claimed it,
    /// or recorded now), its work, its messages rendered and enqueued.
    async fn turn<'a, T, F>(
        &self,
        unit: &mut Unit<'a>,
        guard: Option<Guard<'a>>,
        claimed: Option<Claimed>,
        work: F,
    ) -> Result<Option<Turned<T>>, EngineError>
    where
        F: for<'u> FnOnce(&'u mut Unit<'a>) -> Work<'u, T>,
    {
        if let Some(guard) = guard {
            let now = unit.out.now();
            let key = match guard {
                Guard::Inbound(key) | Guard::Answered(key) => {
                    let new = match claimed {
                        Some(claimed) => claimed == Claimed::New,
                        None => unit.tx.record_inbound(key, now).await?,
                    };
                    if !new {
                        return Ok(None);
                    }
                    key
                }
                Guard::Job { id, key, worker } => {
                    if !unit.tx.complete_job(id, worker, now).await? {
                        return Ok(None);
                    }
                    key
                }
            };
            let languages: HashMap<String, Lang> = match guard {
                Guard::Answered(_) => HashMap::new(),
                _ => unit.tx.room_languages().await?.into_iter().collect(),
            };
            unit.out = Fanout::new(Some(key), now, languages, self.i18n.clone());
        }
        let value = work(unit).await?;
        let messages = self.enqueue(unit).await?;
        Ok(Some(Turned {
            value,
            messages,
            planned_jobs: unit.planned_jobs,
        }))
    }

    /// Renders the mentions for each message's room and enqueues the messages. Returns them as
    /// they were queued.
    async fn enqueue(&self, unit: &mut Unit<'_>) -> Result<Vec<Outbound>, EngineError> {
        let mut messages = std::mem::take(&mut unit.out.ready);
        messages.extend(self.finish(&mut *unit.tx, &mut unit.out).await?);
        if !messages.is_empty() {
            unit.tx.enqueue(&messages).await?;
        }
        Ok(messages)
    }

    /// `out`'s messages as they are queued: the mentions rendered for each message's room (the
    /// names read through `tx`), then each fitted to its platform.
    pub(super) async fn finish(
        &self,
        tx: &mut dyn StoreTx,
        out: &mut Fanout,
    ) -> Result<Vec<Outbound>, EngineError> {
        let mut messages = std::mem::take(&mut out.messages);
        let mut names = HashMap::new();
        for m in &mut messages {
            let platform = m.platform;
            let mut texts: Vec<&mut String> = vec![&mut m.text];
            if let Some(rich) = &mut m.rich {
                texts.push(&mut rich.title);
                texts.extend(rich.fields.iter_mut().map(|f| &mut f.value));
            }
            reach::render(tx, &self.reaches, platform, &mut texts, &mut names).await?;
        }
        messages.append(&mut out.verbatim);
        Ok(fit::fit(messages, &self.reaches, &self.i18n))
    }
}
