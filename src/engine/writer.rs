//! Group commit: the engine's writers commit the units of work that arrive together in one
//! transaction. A writer takes the ready requests (up to a batch limit, lingering a few hundred
//! microseconds for more while the load says more are coming), opens one transaction, and lends
//! it to each request in turn inside a savepoint: the unit's own task loads, decides and writes
//! through it, then hands it back, and the writer releases the savepoint (kept) or rolls back to
//! it (that unit alone undone). One commit ends the batch, and each kept unit's caller is
//! answered only then: a commit failure answers all of them with the error, nothing of theirs is
//! stored, and platforms redeliver.
//!
//! The transaction is lent rather than the work sent, so a unit's work borrows its caller's data
//! as before and runs in the caller's span. A request group (the jobs a scheduler claimed
//! together) is never split between batches.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Mutex, mpsc, oneshot};

use crate::store::{Store, StoreError, StoreTx};

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
    turn: oneshot::Sender<Result<Lease, BatchError>>,
    done: oneshot::Sender<Result<(), BatchError>>,
}

/// The caller's side of a [`Request`].
pub(super) struct Ticket {
    turn: oneshot::Receiver<Result<Lease, BatchError>>,
    done: oneshot::Receiver<Result<(), BatchError>>,
}

impl Ticket {
    /// Waits until the writer lends this unit the batch's transaction (its savepoint open).
    pub(super) async fn turn(&mut self) -> Result<Lease, BatchError> {
        (&mut self.turn).await.map_err(|_| BatchError::Stopped)?
    }

    /// Waits until the batch this unit was kept in has committed.
    pub(super) async fn committed(self) -> Result<(), BatchError> {
        self.done.await.map_err(|_| BatchError::Stopped)?
    }
}

/// The batch's transaction, lent to one unit. Given back with [`Lease::give_back`]; dropped
/// (its caller cancelled), it goes back on its own and the unit counts as undone, or, when the
/// transaction itself went down with the caller, the batch is abandoned.
pub(super) struct Lease {
    tx: Option<Box<dyn StoreTx>>,
    back: Option<oneshot::Sender<Returned>>,
}

struct Returned {
    tx: Option<Box<dyn StoreTx>>,
    keep: bool,
}

impl Lease {
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
    queue: std::sync::OnceLock<mpsc::UnboundedSender<Vec<Request>>>,
    stats: Arc<Counters>,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    units: AtomicU64,
}

impl Writers {
    pub(super) fn new(config: WriterConfig) -> Writers {
        Writers {
            config,
            queue: std::sync::OnceLock::new(),
            stats: Arc::new(Counters::default()),
        }
    }

    pub(super) fn stats(&self) -> WriterStats {
        WriterStats {
            batches: self.stats.batches.load(Ordering::Relaxed),
            units: self.stats.units.load(Ordering::Relaxed),
        }
    }

    /// Queues `n` units that commit in the same batch; their tickets, in order.
    pub(super) fn submit(&self, store: &Arc<dyn Store>, n: usize) -> Vec<Ticket> {
        let (requests, tickets): (Vec<Request>, Vec<Ticket>) = (0..n)
            .map(|_| {
                let (turn_tx, turn_rx) = oneshot::channel();
                let (done_tx, done_rx) = oneshot::channel();
                (
                    Request {
                        turn: turn_tx,
                        done: done_tx,
                    },
                    Ticket {
                        turn: turn_rx,
                        done: done_rx,
                    },
                )
            })
            .unzip();
        if !requests.is_empty() {
            let queue = self.queue.get_or_init(|| self.start(store));
            // A send fails only once every writer is gone; the tickets then answer `Stopped`.
            let _ = queue.send(requests);
        }
        tickets
    }

    fn start(&self, store: &Arc<dyn Store>) -> mpsc::UnboundedSender<Vec<Request>> {
        let config = self.config.fitted(store.backend());
        let (tx, rx) = mpsc::unbounded_channel();
        let inbox = Arc::new(Mutex::new(Inbox {
            queue: rx,
            held: None,
        }));
        for _ in 0..config.writers {
            tokio::spawn(write(
                store.clone(),
                inbox.clone(),
                config,
                self.stats.clone(),
            ));
        }
        tx
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

/// One writer: batch after batch until the engine is dropped.
async fn write(
    store: Arc<dyn Store>,
    inbox: Arc<Mutex<Inbox>>,
    config: WriterConfig,
    stats: Arc<Counters>,
) {
    let mut last = 0;
    loop {
        let batch = {
            let mut inbox = inbox.lock().await;
            match inbox.gather(config, last > 1).await {
                Some(batch) => batch,
                None => return,
            }
        };
        last = batch.len();
        commit_batch(&*store, batch, &stats).await;
    }
}

/// Lends one transaction to each request in turn, then commits what was kept and answers.
async fn commit_batch(store: &dyn Store, batch: Vec<Request>, stats: &Counters) {
    let started = Instant::now();
    let size = batch.len();
    let tx = match store.begin().await {
        Ok(tx) => tx,
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
    let mut failed: Option<BatchError> = None;
    let mut tx = Some(tx);
    // A lone unit needs no savepoint: undoing it is rolling the whole transaction back, which
    // saves two statements on the path of every command that arrives on its own.
    let savepoints = size > 1;
    for request in batch {
        let Some(lent) = tx.take() else {
            let error = failed.clone().unwrap_or(BatchError::Abandoned);
            let _ = request.turn.send(Err(error));
            continue;
        };
        match lend(lent, request.turn, savepoints).await {
            Ok((back, keep)) => {
                tx = Some(back);
                if keep {
                    kept.push(request.done);
                }
            }
            Err(error) => {
                let _ = request.done.send(Err(error.clone()));
                failed = Some(error);
            }
        }
    }
    let (Some(tx), None) = (tx, &failed) else {
        let error = failed.unwrap_or(BatchError::Abandoned);
        tracing::warn!(%error, size, "a batch was rolled back");
        for done in kept {
            let _ = done.send(Err(error.clone()));
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
                stats.batches.fetch_add(1, Ordering::Relaxed);
                stats.units.fetch_add(units as u64, Ordering::Relaxed);
                metrics::histogram!("runroom_commit_batch_units").record(units as f64);
                metrics::histogram!("runroom_commit_batch_seconds")
                    .record(started.elapsed().as_secs_f64());
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
                let _ = done.send(Err(error.clone()));
            }
        }
    }
}

/// Lends the transaction to one unit, inside a savepoint when the batch holds others; gives it
/// back with whether the unit was kept. Without a savepoint an unkept unit is undone by the
/// batch rolling back (it was the only one). `Err`: the transaction is unusable and the batch
/// must be rolled back.
async fn lend(
    mut tx: Box<dyn StoreTx>,
    turn: oneshot::Sender<Result<Lease, BatchError>>,
    savepoint: bool,
) -> Result<(Box<dyn StoreTx>, bool), BatchError> {
    let store_error = |e: StoreError| BatchError::Store(Arc::new(e));
    if savepoint {
        tx.savepoint().await.map_err(store_error)?;
    }
    let (back_tx, back_rx) = oneshot::channel();
    let lease = Lease {
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
            if savepoint && keep {
                tx.release().await.map_err(store_error)?;
            } else if savepoint {
                tx.rollback_to().await.map_err(store_error)?;
            }
            Ok((tx, keep))
        }
        Ok(Returned { tx: None, .. }) | Err(_) => Err(BatchError::Abandoned),
    }
}
