//! The outbox worker: claim due rows under a lease, hold them to their pacing slot, send them
//! through the platform's [`Sender`], record what happened. Several workers (tasks or processes)
//! can share one database: a row is claimed by one worker at a time, a crashed worker's rows
//! are reclaimed when their lease ends, and the processes sending on one platform divide its
//! limits between them (heartbeats in the database).

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tracing::Instrument as _;

use super::backoff;

/// How long a row of unknown outcome waits when its lookup failed and the platform did not say.
const LOOKUP_RETRY: Duration = Duration::from_secs(5);

/// The longest a worker waits after rounds that failed (the database is gone); a commit wakes
/// it sooner.
const FAILED_ROUND_CAP: Duration = Duration::from_secs(30);
use super::breaker::Breaker;
use super::config::{OutboxConfig, SendingMode};
use super::pacing::Pacer;
use super::{Gate, PauseScope, SendError, Sender};
use crate::engine::clock::Clock;
use crate::engine::room::Platform;
use crate::engine::trace;
use crate::store::outbox::Slots;
use crate::store::{Completion, OutboxRow, Store, StoreError};

/// The settings key under which the sending mode is stored (shared by every replica).
pub const MODE_KEY: &str = "sending_mode";

/// What one round did, per outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// Rows claimed (each claim counts an attempt until it is put back).
    pub claimed: usize,
    pub sent: usize,
    pub retried: usize,
    pub dead: usize,
    pub dry_run: usize,
    /// Held back by a safety switch (counted once per message and reason).
    pub held: u64,
    /// Claimed but put back for a later pacing slot or a platform's pause.
    pub released: usize,
    /// Finished after the lease had passed to another worker.
    pub lost: usize,
}

impl Round {
    fn add(&mut self, other: &Round) {
        self.claimed += other.claimed;
        self.sent += other.sent;
        self.retried += other.retried;
        self.dead += other.dead;
        self.dry_run += other.dry_run;
        self.held += other.held;
        self.released += other.released;
        self.lost += other.lost;
    }

    /// Whether anything was claimed (so more may be due right away).
    pub fn claimed_any(&self) -> bool {
        self.sent + self.retried + self.dead + self.dry_run + self.released + self.lost > 0
    }
}

/// Pacers and breakers, shared by the workers of one process.
pub struct Shared {
    /// The process's name in the pacing heartbeats (its first worker's id).
    process: String,
    platforms: Mutex<HashMap<Platform, PlatformState>>,
}

struct PlatformState {
    pacer: Pacer,
    breaker: Breaker,
    /// With a burst of 1, messages to the platform go one at a time (see [`Pacer::strict`]).
    line: Arc<tokio::sync::Mutex<()>>,
    /// When this process last recorded its heartbeat for the platform.
    heartbeat: Option<DateTime<Utc>>,
}

pub struct Worker {
    store: Arc<dyn Store>,
    senders: Vec<Arc<dyn Sender>>,
    clock: Arc<dyn Clock>,
    config: OutboxConfig,
    id: String,
    shared: Arc<Shared>,
    wake: Arc<Notify>,
}

impl Worker {
    /// A worker with its own pacing state; use [`Worker::sibling`] for more workers that share it.
    pub fn new(
        store: Arc<dyn Store>,
        senders: Vec<Arc<dyn Sender>>,
        clock: Arc<dyn Clock>,
        config: OutboxConfig,
        id: impl Into<String>,
    ) -> Worker {
        let id = id.into();
        Worker {
            store,
            senders,
            clock,
            config,
            shared: Arc::new(Shared {
                process: id.clone(),
                platforms: Mutex::new(HashMap::new()),
            }),
            id,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Another worker of the same process: same senders, pacing, breakers and wake-up signal.
    pub fn sibling(&self, id: impl Into<String>) -> Worker {
        Worker {
            store: self.store.clone(),
            senders: self.senders.clone(),
            clock: self.clock.clone(),
            config: self.config.clone(),
            id: id.into(),
            shared: self.shared.clone(),
            wake: self.wake.clone(),
        }
    }

    /// Wakes on `wake` (the engine's signal that rows were committed) instead of its own.
    pub fn with_wake(mut self, wake: Arc<Notify>) -> Worker {
        self.wake = wake;
        self
    }

    /// The sending mode in force: the stored one, or the configured default.
    pub async fn mode(&self) -> Result<SendingMode, StoreError> {
        Ok(self
            .store
            .setting(MODE_KEY)
            .await?
            .and_then(|m| SendingMode::parse(&m))
            .unwrap_or(self.config.mode))
    }

    /// One pass over every platform this worker can send to.
    pub async fn run_once(&self) -> Result<Round, StoreError> {
        let mode = self.mode().await?;
        let mut round = Round::default();
        for sender in &self.senders {
            round.add(&self.platform_round(sender.as_ref(), mode).await?);
        }
        Ok(round)
    }

    /// Rounds until one claims nothing (everything due is done or scheduled for later).
    pub async fn drain(&self) -> Result<Round, StoreError> {
        let mut total = Round::default();
        loop {
            let round = self.run_once().await?;
            total.add(&round);
            if !round.claimed_any() {
                return Ok(total);
            }
        }
    }

    /// Runs until `shutdown` turns true, sleeping while nothing is due.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        // Rounds failed in a row (the database is gone): each waits longer, up to a cap.
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            let wait = match self.run_once().await {
                Ok(round) if round.claimed_any() => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    self.idle_wait(poll).await
                }
                Err(error) => {
                    failures += 1;
                    let wait = backoff::delay(failures, poll, FAILED_ROUND_CAP, None);
                    tracing::warn!(%error, worker = %self.id, retry_in = ?wait, "outbox round failed");
                    wait
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    async fn idle_wait(&self, poll: Duration) -> Duration {
        let now = self.clock.now();
        let mut wait = poll;
        for sender in &self.senders {
            if let Ok(Some(due)) = self.store.next_due(sender.platform()).await {
                wait = wait.min((due - now).to_std().unwrap_or(Duration::ZERO));
            }
        }
        wait.max(Duration::from_millis(5))
    }

    fn with_state<T>(&self, platform: Platform, f: impl FnOnce(&mut PlatformState) -> T) -> T {
        let mut all = self
            .shared
            .platforms
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let state = all.entry(platform).or_insert_with(|| PlatformState {
            pacer: Pacer::new(&self.config.limits_for(platform.as_str())),
            breaker: Breaker::new(
                self.config.breaker_threshold,
                Duration::from_secs(self.config.breaker_cool_down_seconds),
            ),
            line: Arc::new(tokio::sync::Mutex::new(())),
            heartbeat: None,
        });
        f(state)
    }

    /// How many processes this one shares `platform`'s limits with (itself included), as last
    /// counted.
    pub fn share(&self, platform: Platform) -> u32 {
        self.with_state(platform, |s| s.pacer.share())
    }

    /// Records this process's heartbeat for `platform` when one is due, and paces to the share
    /// of the limits the processes seen lately leave it. The console is the local terminal:
    /// nothing to share.
    async fn refresh_share(
        &self,
        platform: Platform,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if platform == Platform::Console {
            return Ok(());
        }
        let every = chrono::Duration::from_std(self.config.heartbeat())
            .unwrap_or(chrono::Duration::seconds(2));
        let due = self.with_state(platform, |s| {
            let due = s.heartbeat.is_none_or(|at| now - at >= every || now < at);
            if due {
                s.heartbeat = Some(now);
            }
            due
        });
        if !due {
            return Ok(());
        }
        let live = self
            .store
            .pacing_heartbeat(platform, &self.shared.process, now, now - every * 3)
            .await?;
        let workers = u32::try_from(live).unwrap_or(u32::MAX).max(1);
        if self.with_state(platform, |s| s.pacer.set_share(workers)) {
            tracing::info!(
                platform = platform.as_str(),
                processes = workers,
                "pacing to a share of the platform's limits"
            );
        }
        Ok(())
    }

    async fn hold(
        &self,
        platform: Platform,
        now: DateTime<Utc>,
        reason: &'static str,
    ) -> Result<Round, StoreError> {
        let held = self.store.hold_outbox(platform, now, reason).await?;
        if held > 0 {
            let platform = platform.as_str();
            metrics::counter!("runroom_outbox_skipped_total", "platform" => platform, "reason" => reason).increment(held);
            tracing::info!(platform, reason, held, "outbox messages held back");
        }
        Ok(Round {
            held,
            ..Round::default()
        })
    }

    /// How many rows the send limits still allow now (`None`: held, with the reason).
    async fn allowance(
        &self,
        platform: Platform,
        now: DateTime<Utc>,
    ) -> Result<Result<i64, &'static str>, StoreError> {
        let limits = self.config.limits_for(platform.as_str());
        let mut allowed = i64::from(self.config.batch);
        if limits.daily_limit > 0 {
            let midnight = now
                .date_naive()
                .and_hms_opt(0, 0, 0)
                .map(|t| t.and_utc())
                .unwrap_or(now);
            let left =
                i64::from(limits.daily_limit) - self.store.sent_since(platform, midnight).await?;
            if left <= 0 {
                return Ok(Err("daily_limit"));
            }
            allowed = allowed.min(left);
        }
        if limits.minute_limit > 0 {
            let since = now - chrono::Duration::seconds(60);
            let left =
                i64::from(limits.minute_limit) - self.store.sent_since(platform, since).await?;
            if left <= 0 {
                return Ok(Err("minute_limit"));
            }
            allowed = allowed.min(left);
        }
        Ok(Ok(allowed))
    }

    async fn platform_round(
        &self,
        sender: &dyn Sender,
        mode: SendingMode,
    ) -> Result<Round, StoreError> {
        let platform = sender.platform();
        let now = self.clock.now();
        // The switches guard the chat platforms; the local terminal always gets its answers.
        let mode = if platform == Platform::Console {
            SendingMode::Live
        } else {
            mode
        };
        if mode == SendingMode::Off {
            return self.hold(platform, now, "mode_off").await;
        }
        let limit = match self.allowance(platform, now).await? {
            Ok(limit) => limit,
            Err(reason) => return self.hold(platform, now, reason).await,
        };
        // A process whose breaker is open still counts: it sends again after the cool-down.
        self.refresh_share(platform, now).await?;
        if !self.with_state(platform, |s| s.breaker.allows(now)) {
            return Ok(Round::default());
        }
        let rows = self
            .store
            .claim_outbox(platform, &self.id, now, self.config.lease(), limit)
            .await?;
        let mut round = Round {
            claimed: rows.len(),
            ..Round::default()
        };
        if rows.is_empty() {
            return Ok(round);
        }
        if mode == SendingMode::DryRun {
            for row in rows {
                round.add(&self.finish(&row, Completion::DryRun).await?);
                metrics::counter!("runroom_outbox_dry_run_total", "platform" => platform.as_str())
                    .increment(1);
            }
            return Ok(round);
        }

        // Hold each row to its pacing slot if that comes within half the lease; later slots go
        // back to the queue, so one slow destination never holds up the others. A destination
        // whose own rate is what binds has its whole backlog moved to its slots at once, so the
        // next claims take only rows that can go.
        let max_wait = self.config.lease() / 2;
        let mut scheduled = Vec::new();
        let mut backlogs: HashMap<String, (DateTime<Utc>, Vec<i64>)> = HashMap::new();
        for row in rows {
            let chat = &row.message.chat;
            let methods = sender.methods(&row);
            let reserved = self.with_state(platform, |s| {
                if let Some(until) = s.pacer.paused_until(chat, methods, now) {
                    return Err((until, false));
                }
                s.pacer
                    .reserve(chat, now, max_wait)
                    .map_err(|slot| (slot, s.pacer.chat_bound(chat, now)))
            });
            match reserved {
                Ok(slot) => scheduled.push((row, slot)),
                Err((slot, true)) => {
                    let backlog = backlogs.entry(chat.clone()).or_insert((slot, Vec::new()));
                    backlog.0 = backlog.0.min(slot);
                    backlog.1.push(row.id);
                }
                Err((slot, false)) => {
                    round.add(&self.finish(&row, Completion::Release { at: slot }).await?)
                }
            }
        }
        let interval = self.with_state(platform, |s| s.pacer.chat_interval());
        for (chat, (from, ids)) in backlogs {
            self.store
                .defer_outbox(
                    platform,
                    &chat,
                    &self.id,
                    &ids,
                    now,
                    Slots { from, interval },
                )
                .await?;
            round.released += ids.len();
        }
        // Each result is recorded as soon as its send ends: a slow request never delays the
        // bookkeeping of the others, and a crash loses no completed send's record. The claim
        // lasts a lease; while the batch is still sending, `keep_claim` extends it, and no send
        // starts once it may have lapsed (the row may be another worker's by then).
        let held_until =
            Mutex::new(now + chrono::Duration::from_std(self.config.lease()).unwrap_or_default());
        let held_until = &held_until;
        let batch: Vec<i64> = scheduled.iter().map(|(row, _)| row.id).collect();
        let sends = futures_util::stream::iter(scheduled)
            .map(|(row, slot)| {
                // The room id, never the chat: a roster member's chat is a phone number. `key`
                // is the (hashed) key of the command or job that caused the message.
                let span = tracing::info_span!(
                    "send",
                    platform = row.message.platform.as_str(),
                    room = %row.message.room_id,
                    incident = row.message.incident,
                    key = %trace::cause(&row.message.idempotency_key),
                    outbox_id = row.id,
                );
                async move {
                    let completion = self.deliver(sender, &row, slot, held_until).await;
                    let sent_as = match &completion {
                        Completion::Sent {
                            platform_message_id,
                        } => platform_message_id.clone(),
                        _ => None,
                    };
                    let round = self.finish(&row, completion).await;
                    if let (Ok(done), Some(id)) = (&round, sent_as)
                        && done.sent == 1
                    {
                        sender.after_sent(&row, &id).await;
                    }
                    round
                }
                .instrument(span)
            })
            .buffer_unordered(self.config.in_flight.max(1) as usize)
            .collect::<Vec<Result<Round, StoreError>>>();
        let results = tokio::select! {
            results = sends => results,
            never = self.keep_claim(&batch, held_until) => match never {},
        };
        for result in results {
            round.add(&result?);
        }
        Ok(round)
    }

    /// Extends the lease of the batch's rows this worker is still sending every third of a
    /// lease, and records in `held_until` how long they are surely its own. Runs until dropped.
    async fn keep_claim(&self, batch: &[i64], held_until: &Mutex<DateTime<Utc>>) -> Infallible {
        let lease = self.config.lease();
        loop {
            tokio::time::sleep(lease / 3).await;
            let until = self.clock.now() + chrono::Duration::from_std(lease).unwrap_or_default();
            match self.store.extend_outbox_lease(&self.id, batch, until).await {
                Ok(_) => *held_until.lock().unwrap_or_else(|p| p.into_inner()) = until,
                Err(error) => {
                    tracing::warn!(%error, worker = %self.id, "could not extend the outbox lease")
                }
            }
        }
    }

    /// Waits for the slot, sends, and decides what the attempt comes to.
    async fn deliver(
        &self,
        sender: &dyn Sender,
        row: &OutboxRow,
        slot: DateTime<Utc>,
        held_until: &Mutex<DateTime<Utc>>,
    ) -> Completion {
        let platform = sender.platform();
        let chat = &row.message.chat;
        let methods = sender.methods(row);
        if row.in_doubt {
            // The last attempt may have reached the platform before its worker stopped.
            match sender.reconcile(row).await {
                Ok(Some(delivered)) => {
                    metrics::counter!("runroom_outbox_reconciled_total", "platform" => platform.as_str())
                        .increment(1);
                    tracing::info!(
                        outbox = row.id,
                        "a send of unknown outcome had arrived: not sent again"
                    );
                    return Completion::Sent {
                        platform_message_id: delivered.platform_message_id,
                    };
                }
                Ok(None) => {}
                // The lookup may work later (a 429, a timeout): give the row back, still in
                // doubt, rather than risk sending it twice.
                Err(SendError::Retryable {
                    reason,
                    retry_after,
                    ..
                }) => {
                    tracing::info!(%reason, outbox = row.id, "could not look up a send of unknown outcome yet");
                    let wait = retry_after.unwrap_or(LOOKUP_RETRY);
                    return Completion::Release {
                        at: self.clock.now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                    };
                }
                // It never will (say, a missing scope): sending again is all that is left.
                Err(SendError::Permanent { reason }) => tracing::warn!(
                    %reason,
                    outbox = row.id,
                    "cannot look up a send of unknown outcome; sending it again"
                ),
            }
        }
        self.sleep_until(slot).await;
        // With a burst of 1, one message at a time, each one interval after the previous answer.
        let line = self.with_state(platform, |s| s.pacer.strict().then(|| s.line.clone()));
        let _turn = match &line {
            Some(line) => Some(line.lock().await),
            None => None,
        };
        if let Some(floor) = self.with_state(platform, |s| s.pacer.floor()) {
            self.sleep_until(floor).await;
        }
        let now = self.clock.now();
        // A pause that began after this slot was reserved (a 429) still applies, and so does a
        // breaker that opened meanwhile.
        if let Some(until) = self.with_state(platform, |s| s.pacer.paused_until(chat, methods, now))
        {
            return Completion::Release { at: until };
        }
        if let Some(until) = self.with_state(platform, |s| {
            (!s.breaker.allows(now)).then(|| s.breaker.open_until())
        }) {
            return Completion::Release {
                at: until.unwrap_or(now),
            };
        }
        let held = *held_until.lock().unwrap_or_else(|p| p.into_inner());
        if now >= held {
            // The lease could not be extended in time: another worker may have claimed the
            // row and be sending it. Give it back (a no-op if it is no longer ours).
            tracing::warn!(outbox = row.id, worker = %self.id, "outbox lease lapsed before the send; not sending");
            return Completion::Release { at: now };
        }
        let started = Instant::now();
        let went = self.clock.now();
        let gate = ChatGate {
            worker: self,
            platform,
            chat,
        };
        let result = sender.send_gated(row, &gate).await;
        metrics::histogram!("runroom_outbox_send_seconds", "platform" => platform.as_str())
            .record(started.elapsed().as_secs_f64());
        let now = self.clock.now();
        self.with_state(platform, |s| s.pacer.went(chat, went, now));
        drop(_turn);
        match result {
            Ok(delivered) => {
                self.with_state(platform, |s| s.breaker.record_success());
                Completion::Sent {
                    platform_message_id: delivered.platform_message_id,
                }
            }
            Err(SendError::Permanent { reason }) => Completion::Dead { reason },
            Err(SendError::Retryable {
                reason,
                retry_after,
                scope,
            }) => {
                self.with_state(platform, |s| {
                    // A limit on one method or destination says the platform is up: only the
                    // platform-wide answers count towards opening the breaker.
                    if retry_after.is_none() || scope == PauseScope::Account {
                        s.breaker.record_failure(now);
                    }
                    if let Some(after) = retry_after {
                        s.pacer.pause(
                            scope,
                            now + chrono::Duration::from_std(after).unwrap_or_default(),
                        );
                    }
                });
                let attempts = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                if attempts >= self.config.max_attempts {
                    Completion::Dead {
                        reason: format!("gave up after {attempts} attempts: {reason}"),
                    }
                } else {
                    let delay = backoff::delay(
                        attempts,
                        Duration::from_millis(self.config.backoff_base_ms),
                        Duration::from_secs(self.config.backoff_cap_seconds),
                        retry_after,
                    );
                    Completion::Retry {
                        at: now + chrono::Duration::from_std(delay).unwrap_or_default(),
                        error: reason,
                    }
                }
            }
        }
    }

    /// The longest a send waits for its destination's pace inside its lease.
    fn max_gate_wait(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.config.lease() / 2).unwrap_or_default()
    }

    /// Sleeps until `at` in the clock's time (at once when it has passed).
    async fn sleep_until(&self, at: DateTime<Utc>) {
        if let Ok(wait) = (at - self.clock.now()).to_std() {
            tokio::time::sleep(wait).await;
        }
    }

    /// Records how an attempt ended; the returned round counts this one row.
    async fn finish(&self, row: &OutboxRow, completion: Completion) -> Result<Round, StoreError> {
        let mut round = Round::default();
        let platform = row.message.platform.as_str();
        let held = self
            .store
            .finish_outbox(row.id, &self.id, &completion, self.clock.now())
            .await?;
        if !held {
            // Our lease ran out and another worker took the row: its result stands.
            tracing::warn!(id = row.id, worker = %self.id, "outbox row finished after its lease passed on");
            metrics::counter!("runroom_outbox_lease_lost_total", "platform" => platform)
                .increment(1);
            round.lost += 1;
            return Ok(round);
        }
        match &completion {
            Completion::Sent { .. } => {
                round.sent += 1;
                tracing::debug!("delivered");
                metrics::counter!("runroom_outbox_sent_total", "platform" => platform).increment(1);
            }
            Completion::Retry { error, .. } => {
                round.retried += 1;
                tracing::info!(id = row.id, attempts = row.attempts, %error, "outbox send will be retried");
                metrics::counter!("runroom_outbox_retried_total", "platform" => platform)
                    .increment(1);
            }
            Completion::Dead { reason } => {
                round.dead += 1;
                tracing::warn!(id = row.id, %reason, "outbox message is dead");
                metrics::counter!("runroom_outbox_dead_total", "platform" => platform).increment(1);
            }
            Completion::Release { .. } => round.released += 1,
            Completion::DryRun => round.dry_run += 1,
        }
        Ok(round)
    }
}

/// The gate a row's later calls wait at: its chat's pace in this worker's pacer.
struct ChatGate<'a> {
    worker: &'a Worker,
    platform: Platform,
    chat: &'a str,
}

#[async_trait::async_trait]
impl Gate for ChatGate<'_> {
    async fn turn(&self, extra: bool) -> Result<(), SendError> {
        let max_wait = self.worker.max_gate_wait();
        loop {
            let now = self.worker.clock.now();
            let next = self
                .worker
                .with_state(self.platform, |s| s.pacer.turn(self.chat, extra, now));
            match next {
                Ok(()) => return Ok(()),
                // Too far off for the lease: the chat is busy until then, and the row waits.
                Err(until) if until - now > max_wait => {
                    return Err(busy(self.chat, until - now));
                }
                Err(until) => self.worker.sleep_until(until).await,
            }
        }
    }

    fn max_wait(&self) -> Duration {
        self.worker.config.lease() / 2
    }
}

/// A destination that cannot take a call within the row's lease: the row waits `wait`.
pub fn busy(chat: &str, wait: chrono::Duration) -> SendError {
    SendError::rate_limited(
        "paced: the chat takes no call before its turn",
        wait.to_std().unwrap_or_default(),
        PauseScope::Chat(chat.to_string()),
    )
}
