//! Group commit: the engine's writers commit the units of work that arrive together in one
//! transaction. A writer takes the ready requests (up to a batch limit, lingering a few hundred
//! microseconds for more while the load says more are coming), opens one transaction, records
//! the batch's dedupe keys in one statement, and lends the transaction to each request in turn
//! inside a savepoint: the unit's own task loads, decides and writes through it, then hands it
//! back, and the writer releases the savepoint (kept) or rolls back to it (that unit alone
//! undone, its dedupe key forgotten). On SQLite the writes are gathered (`store::sql::Conn`) and
//! every release but the batch's last waits for a later round trip, so units that read nothing
//! send their writes together; if a unit's writes are refused, that unit alone is rolled back
//! and told so (`Lent::Refused`, or [`StoreTx::refused_earlier`] once a later round trip has
//! shown it). One commit ends the batch, and each kept unit's caller is answered only then: a
//! commit failure answers all of them with the error, nothing of theirs is stored, and
//! platforms redeliver.
//!
//! The transaction is lent rather than the work sent, so a unit's work borrows its caller's data
//! as before and runs in the caller's span. A request group (the jobs a scheduler claimed
//! together) is never split between batches.
//!
//! A lone unit that finds nothing queued and a writer's slot free runs on its caller's task
//! instead (its own transaction, begun and committed there): with nothing to group, the two
//! hand-offs to the writer and back would only add latency. The slot (a semaphore with one
//! permit per writer) keeps it from writing beside a batch.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore, mpsc, oneshot};

use super::EngineError;
use crate::store::{InboundKey, Store, StoreError, StoreTx};

/// How a process commits units of work (`[database]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterConfig {
    /// Writers running at once, each with its own transaction. SQLite has a single write lock,
    /// so a second writer would only wait for it: always 1 there.
    pub writers: usize,
    /// The most units one transaction commits.
    pub batch: usize,
    /// How long a writer waits for more units once the ready ones are taken (only while the
    /// previous batch held more than one: a lone request is never held back).
    pub linger: Duration,
    /// A lone unit runs on its caller's task when nothing is queued and a writer's slot is free
    /// (on by default). Off, every unit goes through a writer's batch, for tests that need the
    /// units they start together to be grouped.
    pub inline: bool,
}

impl WriterConfig {
    pub const DEFAULT_BATCH: usize = 64;
    pub const DEFAULT_LINGER: Duration = Duration::from_micros(200);
}

/// One writer on both backends. SQLite has one write lock. On Postgres a batch holds its row
/// locks (and the incident counter's, for a declaration) until it commits, so a second writer in
/// the same process would mostly wait for the first and could deadlock with it; batching, not
/// parallel transactions, carries the load, and replicas each bring their own writer. More
/// writers pay off only when the database is far away (round trips dominate) and the units
/// touch different rows.
impl Default for WriterConfig {
    fn default() -> WriterConfig {
        WriterConfig {
            writers: 1,
            batch: Self::DEFAULT_BATCH,
            linger: Self::DEFAULT_LINGER,
            inline: true,
        }
    }
}

impl WriterConfig {
    /// What a backend can use of this: one writer on SQLite, at least one unit per batch.
    fn fitted(self, backend: &str) -> WriterConfig {
        WriterConfig {
            writers: if backend == "sqlite" {
                1
            } else {
                self.writers.max(1)
            },
            batch: self.batch.max(1),
            linger: self.linger,
            inline: self.inline,
        }
    }
}

/// Why a unit of work was not committed although its own work succeeded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum BatchError {
    /// Its batch's transaction could not be opened, a savepoint failed, or the commit failed.
    #[error("the batch's transaction failed: {0}")]
    Store(Arc<StoreError>),
    /// Another unit of the batch was dropped while it held the transaction, so what the batch
    /// had written could not be trusted and was rolled back.
    #[error("a unit of work was abandoned halfway; its batch was rolled back")]
    Abandoned,
    /// The writer is gone (the engine is being dropped).
    #[error("the engine's writer stopped")]
    Stopped,
}

/// Counts of what the writers committed, for tests and the admin view.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub batches: u64,
    /// Units of work kept in them.
    pub units: u64,
}

/// One unit's place in the queue.
pub(super) struct Request {
    /// Its inbound event's dedupe key, claimed with the batch's others.
    key: Option<InboundKey>,
    turn: oneshot::Sender<Result<Lease, BatchError>>,
    done: oneshot::Sender<Result<(), EngineError>>,
}

/// A unit's place: in the queue (the caller's side of a [`Request`]), or on its caller's task
/// with a writer's slot of its own.
pub(super) enum Ticket {
    Queued {
        turn: oneshot::Receiver<Result<Lease, BatchError>>,
        done: oneshot::Receiver<Result<(), EngineError>>,
    },
    Inline(Inline),
}

/// A unit that runs its own transaction, holding a writer's slot until it is committed.
pub(super) struct Inline {
    store: Arc<dyn Store>,
    stats: Arc<Counters>,
    _slot: OwnedSemaphorePermit,
    back: Option<oneshot::Receiver<Returned>>,
}

impl Ticket {
    /// Waits until the writer lends this unit the batch's transaction (its savepoint open), or
    /// opens the unit's own.
    pub(super) async fn turn(&mut self) -> Result<Lease, BatchError> {
        match self {
            Ticket::Queued { turn, .. } => turn.await.map_err(|_| BatchError::Stopped)?,
            Ticket::Inline(inline) => {
                let tx = inline
                    .store
                    .begin()
                    .await
                    .map_err(|e| BatchError::Store(Arc::new(e)))?;
                let (back_tx, back_rx) = oneshot::channel();
                inline.back = Some(back_rx);
                Ok(Lease {
                    claimed: None,
                    tx: Some(tx),
                    back: Some(back_tx),
                })
            }
        }
    }

    /// Waits until the batch this unit was kept in has committed (commits the unit's own
    /// transaction). `EngineError::Store`: the unit's own writes were refused as they were sent
    /// (they are gathered, `store::sql::Conn`) at its release or inline commit;
    /// `EngineError::Batch`: its batch failed (a batch of one included, whose commit sends
    /// its writes).
    pub(super) async fn committed(self) -> Result<(), EngineError> {
        match self {
            Ticket::Queued { done, .. } => done.await.map_err(|_| BatchError::Stopped)?,
            Ticket::Inline(inline) => {
                let started = Instant::now();
                let back = inline.back.ok_or(BatchError::Abandoned)?;
                match back.await {
                    Ok(Returned {
                        tx: Some(tx),
                        keep: true,
                    }) => {
                        // Everything in this transaction is the unit's own.
                        tx.commit().await.inspect_err(|_| {
                            metrics::counter!("runroom_commit_batch_failures_total").increment(1);
                        })?;
                        inline.stats.record(1, started);
                        Ok(())
                    }
                    // Not kept: dropping the transaction rolls it back.
                    Ok(Returned { tx: Some(_), .. }) => Ok(()),
                    Ok(Returned { tx: None, .. }) | Err(_) => Err(BatchError::Abandoned.into()),
                }
            }
        }
    }
}

/// What the batch's claim found of a unit's dedupe key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Claimed {
    /// Recorded for this unit.
    New,
    /// Recorded before this batch: the unit's event was handled.
    Seen,
}

/// The batch's transaction, lent to one unit. Given back with [`Lease::give_back`]; dropped
/// (its caller cancelled), it goes back on its own and the unit counts as undone, or, when the
/// transaction itself went down with the caller, the batch is abandoned.
pub(super) struct Lease {
    /// Its dedupe key as the batch claimed it; `None`: the unit records its own.
    claimed: Option<Claimed>,
    tx: Option<Box<dyn StoreTx>>,
    back: Option<oneshot::Sender<Returned>>,
}

struct Returned {
    tx: Option<Box<dyn StoreTx>>,
    keep: bool,
}

impl Lease {
    pub(super) fn claimed(&self) -> Option<Claimed> {
        self.claimed
    }

    pub(super) fn take(&mut self) -> Option<Box<dyn StoreTx>> {
        self.tx.take()
    }

    /// Hands the transaction back: `keep` releases the unit's savepoint, else it is rolled back.
    pub(super) fn give_back(mut self, tx: Box<dyn StoreTx>, keep: bool) {
        if let Some(back) = self.back.take() {
            let _ = back.send(Returned { tx: Some(tx), keep });
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(back) = self.back.take() {
            let _ = back.send(Returned {
                tx: self.tx.take(),
                keep: false,
            });
        }
    }
}

/// The queue the engine's units of work wait in, and the writers that empty it. The writers
/// start with the first unit (they need the runtime) and stop when the engine is dropped.
pub(super) struct Writers {
    config: WriterConfig,
    shared: std::sync::OnceLock<Shared>,
    stats: Arc<Counters>,
}

/// What the callers and the writers share once the writers run.
struct Shared {
    queue: mpsc::UnboundedSender<Vec<Request>>,
    /// Units sent whose batch has not yet taken a writer's slot (held and lingering ones
    /// included), so a lone unit never runs ahead of them.
    queued: Arc<AtomicUsize>,
    /// One permit per writer: held while a transaction is open, by a writer or an inline unit.
    slots: Arc<Semaphore>,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    units: AtomicU64,
}

impl Counters {
    /// A transaction that kept `units` committed.
    fn record(&self, units: usize, started: Instant) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.units.fetch_add(units as u64, Ordering::Relaxed);
        metrics::histogram!("runroom_commit_batch_units").record(units as f64);
        metrics::histogram!("runroom_commit_batch_seconds").record(started.elapsed().as_secs_f64());
    }
}

impl Writers {
    pub(super) fn new(config: WriterConfig) -> Writers {
        Writers {
            config,
            shared: std::sync::OnceLock::new(),
            stats: Arc::new(Counters::default()),
        }
    }

    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            units: self.stats.units.load(Ordering::Relaxed),
        }
    }

    /// Places for units that commit in the same batch, each with its dedupe key if it has one;
    /// their tickets, in order. A lone unit runs inline when nothing is queued and a writer's
    /// slot is free.
    pub(super) fn submit(
        &self,
        store: &Arc<dyn Store>,
        keys: Vec<Option<InboundKey>>,
    ) -> Vec<Ticket> {
        let n = keys.len();
        if n == 0 {
            return Vec::new();
        }
        let shared = self.shared.get_or_init(|| self.start(store));
        if n == 1
            && self.config.inline
            && shared.queued.load(Ordering::Acquire) == 0
            && let Ok(slot) = shared.slots.clone().try_acquire_owned()
        {
            return vec![Ticket::Inline(Inline {
                store: store.clone(),
                stats: self.stats.clone(),
                _slot: slot,
                back: None,
            })];
        }
        let (requests, tickets): (Vec<Request>, Vec<Ticket>) = keys
            .into_iter()
            .map(|key| {
                let (turn_tx, turn_rx) = oneshot::channel();
                let (done_tx, done_rx) = oneshot::channel();
                (
                    Request {
                        key,
                        turn: turn_tx,
                        done: done_tx,
                    },
                    Ticket::Queued {
                        turn: turn_rx,
                        done: done_rx,
                    },
                )
            })
            .unzip();
        shared.queued.fetch_add(n, Ordering::AcqRel);
        // A send fails only once every writer is gone; the tickets then answer `Stopped`.
        let _ = shared.queue.send(requests);
        tickets
    }

    fn start(&self, store: &Arc<dyn Store>) -> Shared {
        let config = self.config.fitted(store.backend());
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let slots = Arc::new(Semaphore::new(config.writers));
        let inbox = Arc::new(Mutex::new(Inbox {
            queue: rx,
            held: None,
        }));
        for _ in 0..config.writers {
            tokio::spawn(write(
                store.clone(),
                Writer {
                    inbox: inbox.clone(),
                    slots: slots.clone(),
                    queued: queued.clone(),
                },
                config,
                self.stats.clone(),
            ));
        }
        Shared {
            queue: tx,
            queued,
            slots,
        }
    }
}

/// The queue as the writers share it: one of them gathers a batch at a time.
struct Inbox {
    queue: mpsc::UnboundedReceiver<Vec<Request>>,
    /// A group taken off the queue that did not fit in the batch being gathered.
    held: Option<Vec<Request>>,
}

impl Inbox {
    /// The next batch: waits for a first group, then takes what is ready up to the limit.
    /// `None` once the engine is gone.
    async fn gather(&mut self, config: WriterConfig, busy: bool) -> Option<Vec<Request>> {
        let mut batch = match self.held.take() {
            Some(group) => group,
            None => self.queue.recv().await?,
        };
        let until = Instant::now() + config.linger;
        while batch.len() < config.batch {
            let group = match self.queue.try_recv() {
                Ok(group) => group,
                // Under load, let the tasks already running queue their units; a yield costs
                // microseconds where a timer would round up to a millisecond.
                Err(mpsc::error::TryRecvError::Empty) if busy && Instant::now() < until => {
                    tokio::task::yield_now().await;
                    continue;
                }
                Err(_) => break,
            };
            if batch.len() + group.len() > config.batch {
                self.held = Some(group);
                break;
            }
            batch.extend(group);
        }
        Some(batch)
    }
}

/// What one writer shares with the others and with the callers.
struct Writer {
    inbox: Arc<Mutex<Inbox>>,
    slots: Arc<Semaphore>,
    queued: Arc<AtomicUsize>,
}

/// One writer: batch after batch until the engine is dropped.
async fn write(store: Arc<dyn Store>, writer: Writer, config: WriterConfig, stats: Arc<Counters>) {
    let mut last = 0;
    loop {
        let batch = {
            let mut inbox = writer.inbox.lock().await;
            match inbox.gather(config, last > 1).await {
                Some(batch) => batch,
                None => return,
            }
        };
        last = batch.len();
        // Wait out an inline unit's transaction (the semaphore is never closed). Until the
        // slot is this batch's, its units count as queued: no lone unit passes them.
        let Ok(_slot) = writer.slots.acquire().await else {
            return;
        };
        writer.queued.fetch_sub(batch.len(), Ordering::AcqRel);
        commit_batch(&*store, batch, &stats).await;
    }
}

/// Lends one transaction to each request in turn, then commits what was kept and answers.
async fn commit_batch(store: &dyn Store, batch: Vec<Request>, stats: &Counters) {
    let started = Instant::now();
    let size = batch.len();
    // A lone unit needs no savepoint: undoing it is rolling the whole transaction back, which
    // saves two statements on the path of every command that arrives on its own. It records
    // its own dedupe key, as an inline unit does.
    let savepoints = size > 1;
    let opened = match store.begin().await {
        Ok(mut tx) if savepoints => claim(&mut *tx, &batch).await.map(|claims| (tx, claims)),
        Ok(tx) => Ok((tx, vec![None; size])),
        Err(error) => Err(error),
    };
    let (tx, claims) = match opened {
        Ok(opened) => opened,
        Err(error) => {
            tracing::warn!(%error, size, "could not open a batch's transaction");
            let error = BatchError::Store(Arc::new(error));
            for request in batch {
                let _ = request.turn.send(Err(error.clone()));
            }
            return;
        }
    };
    let mut kept = Vec::with_capacity(size);
    // Units kept whose writes wait to go with a later round trip, in order: kept for good once
    // the store has sent them without refusing them.
    let mut unconfirmed: VecDeque<Unconfirmed> = VecDeque::new();
    let mut failed: Option<BatchError> = None;
    let mut tx = Some(tx);
    for ((index, request), claimed) in batch.into_iter().enumerate().zip(claims) {
        let Some(lent) = tx.take() else {
            let error = failed.clone().unwrap_or(BatchError::Abandoned);
            let _ = request.turn.send(Err(error));
            continue;
        };
        // Every release but the last waits to go with a later round trip.
        let release = if savepoints && index + 1 < size {
            Release::Later
        } else {
            Release::Now
        };
        // Claimed for this unit: forgotten if the unit is undone.
        let own_key = match (claimed, request.key) {
            (Some(Claimed::New), Some(key)) => Some(key.key),
            _ => None,
        };
        let lent = lend(lent, request.turn, savepoints, release, claimed).await;
        let (mut back, unit, lent) = match lent {
            Ok(lent) => lent,
            Err(error) => {
                // The batch fails: the units waiting are answered with it below.
                kept.extend(unconfirmed.drain(..).map(|u| u.done));
                let _ = request.done.send(Err(error.clone().into()));
                failed = Some(error);
                continue;
            }
        };
        let mut forget = Vec::new();
        match lent {
            Lent::Kept if release == Release::Later => unconfirmed.push_back(Unconfirmed {
                unit,
                done: request.done,
                key: own_key,
            }),
            Lent::Kept => kept.push(request.done),
            Lent::Undone => forget.extend(own_key),
            Lent::Refused(error) => {
                forget.extend(own_key);
                let _ = request.done.send(Err(EngineError::Store(error)));
            }
        }
        // What the round trips of this unit's turn showed of the units before it.
        for (unit, error) in back.refused_earlier() {
            let at = unconfirmed.iter().position(|u| u.unit == unit);
            if let Some(refused) = at.and_then(|at| unconfirmed.remove(at)) {
                forget.extend(refused.key);
                let _ = refused.done.send(Err(EngineError::Store(error)));
            }
        }
        while unconfirmed.len() > back.unsent() {
            kept.extend(unconfirmed.pop_front().map(|u| u.done));
        }
        if let Err(error) = forget_keys(&mut *back, &forget).await {
            kept.extend(unconfirmed.drain(..).map(|u| u.done));
            failed = Some(error);
            continue;
        }
        tx = Some(back);
    }
    // The last unit is always released at once, which sends every unit's writes, so nothing
    // waits here; any that did is answered with the batch whatever becomes of it.
    kept.extend(unconfirmed.into_iter().map(|u| u.done));
    let (Some(tx), None) = (tx, &failed) else {
        let error = failed.unwrap_or(BatchError::Abandoned);
        tracing::warn!(%error, size, "a batch was rolled back");
        for done in kept {
            let _ = done.send(Err(error.clone().into()));
        }
        return;
    };
    let units = kept.len();
    let result = if units == 0 {
        // Nothing to keep (duplicates, lost jobs, failed units): no commit needed.
        drop(tx);
        Ok(())
    } else {
        tx.commit().await
    };
    match result {
        Ok(()) => {
            if units > 0 {
                stats.record(units, started);
            }
            for done in kept {
                let _ = done.send(Ok(()));
            }
        }
        Err(error) => {
            tracing::warn!(%error, units, "a batch's commit failed; nothing of it was stored");
            metrics::counter!("runroom_commit_batch_failures_total").increment(1);
            let error = BatchError::Store(Arc::new(error));
            for done in kept {
                let _ = done.send(Err(error.clone().into()));
            }
        }
    }
}

/// A unit kept whose writes the store has not sent yet.
struct Unconfirmed {
    /// Its number in the transaction ([`StoreTx::savepoint`]).
    unit: usize,
    done: oneshot::Sender<Result<(), EngineError>>,
    /// Its dedupe key, if the batch claimed it for the unit.
    key: Option<String>,
}

/// Records the batch's dedupe keys in one statement, before the first unit's turn; what each
/// unit's lease says of its own key. A key that appears twice is claimed for its first unit
/// only: the later one records its own, and finds it recorded unless that first unit was
/// undone. Keys the database refuses leave every unit to record its own.
async fn claim(
    tx: &mut dyn StoreTx,
    batch: &[Request],
) -> Result<Vec<Option<Claimed>>, StoreError> {
    let mut claims = vec![None; batch.len()];
    let mut seen = HashSet::new();
    let firsts: Vec<Option<&InboundKey>> = batch
        .iter()
        .map(|r| r.key.as_ref().filter(|key| seen.insert(key.key.as_str())))
        .collect();
    let mut keys: Vec<InboundKey> = firsts.iter().flatten().map(|&key| key.clone()).collect();
    // In one order on every writer, so two batches with keys in common (a redelivery racing
    // the first delivery on Postgres, several writers) wait for each other, never deadlock.
    keys.sort_by(|a, b| a.key.cmp(&b.key));
    if keys.is_empty() {
        return Ok(claims);
    }
    let Some(new) = tx.claim_inbound(&keys).await? else {
        return Ok(claims);
    };
    for (claim, key) in claims.iter_mut().zip(firsts) {
        *claim = key.map(|key| {
            if new.contains(&key.key) {
                Claimed::New
            } else {
                Claimed::Seen
            }
        });
    }
    Ok(claims)
}

/// Forgets the dedupe keys claimed for units that were undone, so their redeliveries are
/// handled afresh. `Err`: the transaction is unusable.
async fn forget_keys(tx: &mut dyn StoreTx, keys: &[String]) -> Result<(), BatchError> {
    for key in keys {
        tx.forget_inbound(key)
            .await
            .map_err(|e| BatchError::Store(Arc::new(e)))?;
    }
    Ok(())
}

/// What became of a unit lent the batch's transaction.
enum Lent {
    /// Its work is in the transaction, to be committed with the batch.
    Kept,
    /// Its work failed (its caller has the error) and was undone.
    Undone,
    /// Its work succeeded, but its gathered writes failed when they were sent with its
    /// savepoint's release: undone, and its caller is told why.
    Refused(StoreError),
}

/// When a kept unit's savepoint is released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Release {
    /// With its writes and every unit's before it, in a round trip of its own: the last unit
    /// of a batch.
    Now,
    /// Gathered behind its writes, sent with a later round trip ([`StoreTx::release_later`]);
    /// whether its writes were refused is known once they are sent.
    Later,
}

/// Lends the transaction to one unit, inside a savepoint when the batch holds others; gives it
/// back with the unit's number in the transaction and what became of the unit. Without a
/// savepoint an unkept unit is undone by the batch rolling back (it was the only one). `Err`:
/// the transaction is unusable and the batch must be rolled back.
async fn lend(
    mut tx: Box<dyn StoreTx>,
    turn: oneshot::Sender<Result<Lease, BatchError>>,
    savepoint: bool,
    release: Release,
    claimed: Option<Claimed>,
) -> Result<(Box<dyn StoreTx>, usize, Lent), BatchError> {
    let store_error = |e: StoreError| BatchError::Store(Arc::new(e));
    let unit = if savepoint {
        tx.savepoint().await.map_err(store_error)?
    } else {
        0
    };
    let (back_tx, back_rx) = oneshot::channel();
    let lease = Lease {
        claimed,
        tx: Some(tx),
        back: Some(back_tx),
    };
    // A caller that is gone drops the lease, which sends the transaction straight back.
    let _ = turn.send(Ok(lease));
    match back_rx.await {
        Ok(Returned {
            tx: Some(mut tx),
            keep,
        }) => {
            if !savepoint {
                return Ok((tx, unit, if keep { Lent::Kept } else { Lent::Undone }));
            }
            if !keep {
                tx.rollback_to().await.map_err(store_error)?;
                return Ok((tx, unit, Lent::Undone));
            }
            let released = match release {
                Release::Now => tx.release().await,
                Release::Later => tx.release_later().await,
            };
            match released {
                Ok(()) => Ok((tx, unit, Lent::Kept)),
                Err(error) => {
                    // The release was not reached: the savepoint still holds the unit.
                    tx.rollback_to().await.map_err(store_error)?;
                    Ok((tx, unit, Lent::Refused(error)))
                }
            }
        }
        Ok(Returned { tx: None, .. }) | Err(_) => Err(BatchError::Abandoned),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inline(tickets: &[Ticket]) -> Vec<bool> {
        tickets
            .iter()
            .map(|t| matches!(t, Ticket::Inline(_)))
            .collect()
    }

    /// Runs on the test's single thread: the writer task never gets to take the queue here.
    #[tokio::test]
    async fn a_lone_unit_runs_inline_only_when_nothing_is_queued_and_a_slot_is_free() {
        let store = crate::store::connect("sqlite::memory:")
            .await
            .expect("store");
        let writers = Writers::new(WriterConfig::default());
        let first = writers.submit(&store, vec![None]);
        assert_eq!(inline(&first), [true], "idle: on the caller's task");
        assert_eq!(
            inline(&writers.submit(&store, vec![None])),
            [false],
            "the slot is taken: queued"
        );
        drop(first);
        assert_eq!(
            inline(&writers.submit(&store, vec![None])),
            [false],
            "units are queued before it: it waits its turn behind them"
        );
        assert_eq!(
            inline(&writers.submit(&store, vec![None, None])),
            [false, false],
            "a group always goes through the writer"
        );

        let batched = Writers::new(WriterConfig {
            inline: false,
            ..WriterConfig::default()
        });
        assert_eq!(
            inline(&batched.submit(&store, vec![None])),
            [false],
            "inline is off"
        );
    }

    /// A batch being gathered (the writer lingering for more, its slot not taken yet) still
    /// counts as queued: a lone unit arriving then joins it rather than running ahead.
    #[tokio::test]
    async fn a_lone_unit_never_runs_ahead_of_a_batch_being_gathered() {
        let store = crate::store::connect("sqlite::memory:")
            .await
            .expect("store");
        let writers = Writers::new(WriterConfig {
            linger: Duration::from_secs(60),
            ..WriterConfig::default()
        });
        // A first batch of two, so the writer lingers after the next group it takes.
        let mut first = writers.submit(&store, vec![None, None]);
        for ticket in &mut first {
            let mut lease = ticket.turn().await.expect("turn");
            let tx = lease.take().expect("transaction");
            lease.give_back(tx, true);
        }
        for ticket in first {
            ticket.committed().await.expect("committed");
        }
        let _group = writers.submit(&store, vec![None, None]);
        // Let the writer take the group and start lingering.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert_eq!(
            inline(&writers.submit(&store, vec![None])),
            [false],
            "it waits behind the batch being gathered"
        );
    }
}
