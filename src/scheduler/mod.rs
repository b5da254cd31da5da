//! The scheduler: claims due jobs under a lease (like the outbox: `SKIP LOCKED` on Postgres, one
//! atomic UPDATE on SQLite) and has the engine fire them together, in one of its writer's
//! batches (each job in its own savepoint). Several schedulers (processes or
//! replicas) share one database: a job is claimed by one at a time, its effects commit with its
//! completion, and a dead process's jobs are taken over when their lease ends.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::engine::Engine;
use crate::engine::jobs::Fired;
use crate::store::StoreError;

/// The longest the scheduler waits after rounds that failed (the database is gone); a commit
/// that plans a job wakes it sooner.
const FAILED_ROUND_CAP: Duration = Duration::from_secs(30);

/// `[scheduler]` in the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SchedulerConfig {
    /// How often an idle scheduler looks for jobs another replica planned (its own plans wake
    /// it at once).
    pub poll_ms: u64,
    /// A claimed job not finished by then is taken over (its process died).
    pub lease_seconds: u64,
    /// Jobs claimed per round: a burst is taken in a few claims, each an index range scan.
    pub batch: u32,
    /// Attempts before a failing job is given up (`dead`).
    pub max_attempts: u32,
}

impl Default for SchedulerConfig {
    fn default() -> SchedulerConfig {
        SchedulerConfig {
            poll_ms: 500,
            lease_seconds: 60,
            batch: 250,
            max_attempts: 5,
        }
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    pub fired: usize,
    /// Fired well after their time (the process was down or behind).
    pub late: usize,
    pub failed: usize,
    /// Taken over by another scheduler before this one finished.
    pub lost: usize,
    pub messages: usize,
}

impl Tick {
    fn add(&mut self, other: Tick) {
        self.fired += other.fired;
        self.late += other.late;
        self.failed += other.failed;
        self.lost += other.lost;
        self.messages += other.messages;
    }

    fn claimed(&self) -> usize {
        self.fired + self.failed + self.lost
    }
}

pub struct Scheduler {
    engine: Arc<Engine>,
    config: SchedulerConfig,
    id: String,
}

impl Scheduler {
    pub fn new(engine: Arc<Engine>, config: SchedulerConfig, id: impl Into<String>) -> Scheduler {
        Scheduler {
            engine,
            config,
            id: id.into(),
        }
    }

    /// Claims the jobs due now and fires them, earliest first.
    pub async fn tick(&self) -> Result<Tick, StoreError> {
        let now = self.engine.clock().now();
        let lease = Duration::from_secs(self.config.lease_seconds.max(1));
        let jobs = self
            .engine
            .store()
            .claim_jobs(&self.id, now, lease, i64::from(self.config.batch.max(1)))
            .await?;
        let mut tick = Tick::default();
        // All at once: the claimed jobs commit in one of the engine's batches, each in its own
        // savepoint, so a failing job is retried alone.
        let fired = self.engine.fire_jobs(&jobs, &self.id).await;
        for (job, fired) in jobs.iter().zip(fired) {
            match fired {
                Ok(Fired::Done { messages, late }) => {
                    let lateness = (self.engine.clock().now() - job.due_at).num_milliseconds();
                    metrics::histogram!("runroom_job_lateness_seconds")
                        .record(lateness.max(0) as f64 / 1000.0);
                    tick.fired += 1;
                    tick.late += usize::from(late);
                    tick.messages += messages;
                }
                Ok(Fired::Lost) => tick.lost += 1,
                Err(error) => {
                    tick.failed += 1;
                    let attempts = u32::try_from(job.attempts).unwrap_or(u32::MAX);
                    let retry = (attempts < self.config.max_attempts)
                        .then(|| now + chrono::Duration::seconds(10 * i64::from(attempts.min(30))));
                    tracing::warn!(job = %job.key, %error, attempts, "a job failed");
                    let reason = error.to_string();
                    self.engine
                        .store()
                        .fail_job(job.id, &self.id, &reason, retry)
                        .await?;
                }
            }
        }
        Ok(tick)
    }

    /// Rounds until one claims nothing: everything due now has fired.
    pub async fn drain(&self) -> Result<Tick, StoreError> {
        let mut total = Tick::default();
        loop {
            let tick = self.tick().await?;
            let claimed = tick.claimed();
            total.add(tick);
            if claimed == 0 {
                return Ok(total);
            }
        }
    }

    /// Plans the recurring jobs (schedules, handoffs, retention), then fires jobs as they fall
    /// due until `shutdown` turns true.
    pub async fn run(&self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.config.poll_ms.max(10));
        let wake = self.engine.scheduler_wake().clone();
        let mut planned = false;
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            // Until it works once (the database may be down at start).
            if !planned {
                let plans = async {
                    self.engine.plan_recurring().await?;
                    self.engine.plan_retention().await
                };
                match plans.await {
                    Ok(_) => planned = true,
                    Err(error) => tracing::warn!(%error, "could not plan schedules and handoffs"),
                }
            }
            let wait = match self.tick().await {
                Ok(tick) if tick.claimed() > 0 => {
                    failures = 0;
                    continue;
                }
                Ok(_) => {
                    failures = 0;
                    match self.engine.store().next_job_at().await {
                        Ok(Some(at)) => (at - self.engine.clock().now())
                            .to_std()
                            .unwrap_or(Duration::ZERO)
                            .min(poll),
                        _ => poll,
                    }
                }
                Err(error) => {
                    // The database is gone: each failed round waits longer, up to a cap.
                    failures += 1;
                    let wait =
                        crate::outbox::backoff::delay(failures, poll, FAILED_ROUND_CAP, None);
                    tracing::warn!(%error, retry_in = ?wait, "scheduler round failed");
                    wait
                }
            };
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(wait.max(Duration::from_millis(2))) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}
