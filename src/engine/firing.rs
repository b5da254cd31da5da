//! Firing a claim's jobs together: one unit of work for the whole claim, so a burst of due
//! reminders costs a few statements per claim instead of several per job. The claim's jobs are
//! completed in one statement, the incidents only one job touches are read in one, and the
//! reminders' writes (the incidents' next due times, the next reminders) are gathered and
//! written in one each at the end. Each job's messages keep the keys they would have had firing
//! alone, so the fallback (each job in its own unit, [`super::Engine::fire_jobs`]) after a failed
//! attempt can never queue a message twice.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};

use super::fanout::Fanout;
use super::incident::Incident;
use super::jobs::Fired;
use super::plan::JobPayload;
use super::unit::{Committed, Unit};
use super::writer::BatchError;
use super::{Engine, EngineError};
use crate::i18n::Lang;
use crate::store::{JobRow, NewJob, StoreError, StoreTx};

/// What the jobs of one claim share when they fire together.
#[derive(Default)]
pub(super) struct Together {
    /// Incidents read ahead, by number (`None`: no such incident). Only incidents no other job
    /// of the claim touches, so each is read and written once.
    pub incidents: HashMap<i64, Option<Incident>>,
    /// Incidents changed from what was read ahead (`(incident, before)`), written at the end.
    pub changed: Vec<(Incident, Incident)>,
    /// Next occurrences to plan at the end.
    pub planned: Vec<NewJob>,
}

impl Together {
    /// Writes what was gathered.
    pub async fn flush(
        &mut self,
        tx: &mut dyn StoreTx,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        if !self.changed.is_empty() {
            tx.update_incidents(&std::mem::take(&mut self.changed))
                .await?;
        }
        if !self.planned.is_empty() {
            tx.schedule_jobs(&std::mem::take(&mut self.planned), now)
                .await?;
        }
        Ok(())
    }
}

/// A job that fired: counted and traced.
pub(super) fn fired(job: &JobRow, messages: usize, late: bool) -> Fired {
    metrics::counter!("runroom_jobs_fired_total", "kind" => job.kind.as_str()).increment(1);
    tracing::debug!(job = %super::trace::key(&job.key), messages, late, "job fired");
    Fired::Done { messages, late }
}

impl Engine {
    /// Fires `jobs` in one unit of work. `Err`: nothing of any of them was written.
    pub(super) async fn fire_together(
        &self,
        jobs: &[JobRow],
        worker: &str,
    ) -> Result<Vec<Fired>, EngineError> {
        let ticket = self.tickets(1).pop().ok_or(BatchError::Stopped)?;
        let committed = self
            .unit_with(ticket, None, |unit| {
                Box::pin(self.claim_work(unit, jobs, worker))
            })
            .await?;
        let Some(Committed {
            value: outcomes,
            messages,
        }) = committed
        else {
            return Err(BatchError::Stopped.into());
        };
        // A job's messages (and their parts) are keyed `<job key>#…`.
        let count = |job: &JobRow| {
            let prefix = format!("{}#", job.key);
            messages
                .iter()
                .filter(|m| m.idempotency_key.starts_with(&prefix))
                .count()
        };
        Ok(jobs
            .iter()
            .zip(outcomes)
            .map(|(job, late)| match late {
                Some(late) => fired(job, count(job), late),
                None => {
                    tracing::debug!(job = %super::trace::key(&job.key), "another worker holds the job now");
                    Fired::Lost
                }
            })
            .collect())
    }

    /// The claim's work: per job, whether it fired late, or `None` when `worker` no longer
    /// holds it.
    async fn claim_work(
        &self,
        unit: &mut Unit<'_>,
        jobs: &[JobRow],
        worker: &str,
    ) -> Result<Vec<Option<bool>>, EngineError> {
        let now = unit.out.now();
        let ids: Vec<i64> = jobs.iter().map(|j| j.id).collect();
        let held: HashSet<i64> = unit
            .tx
            .complete_jobs(&ids, worker, now)
            .await?
            .into_iter()
            .collect();
        let languages: HashMap<String, Lang> =
            unit.tx.room_languages().await?.into_iter().collect();
        let held_jobs: Vec<&JobRow> = jobs.iter().filter(|j| held.contains(&j.id)).collect();
        let mut together = Together {
            incidents: self.read_ahead(&mut *unit.tx, &held_jobs).await?,
            ..Together::default()
        };
        let mut messages = Vec::new();
        let mut verbatim = Vec::new();
        let mut outcomes = Vec::with_capacity(jobs.len());
        for job in jobs {
            if !held.contains(&job.id) {
                outcomes.push(None);
                continue;
            }
            unit.out = Fanout::new(Some(&job.key), now, languages.clone(), self.i18n.clone());
            let late = self.job_work(unit, job, &mut together).await?;
            messages.append(&mut unit.out.messages);
            verbatim.append(&mut unit.out.verbatim);
            outcomes.push(Some(late));
        }
        together.flush(&mut *unit.tx, now).await?;
        // The unit's messages, with the keys each job gave them, rendered and queued as one.
        unit.out = Fanout::new(None, now, languages, self.i18n.clone());
        unit.out.messages = messages;
        unit.out.verbatim = verbatim;
        unit.planned_jobs = true;
        Ok(outcomes)
    }

    /// Reads, in one statement, the incidents of the reminders whose incident no other job of
    /// the claim is about.
    async fn read_ahead(
        &self,
        tx: &mut dyn StoreTx,
        jobs: &[&JobRow],
    ) -> Result<HashMap<i64, Option<Incident>>, StoreError> {
        let mut about: HashMap<i64, (usize, bool)> = HashMap::new();
        for job in jobs {
            let (number, reminder) = match JobPayload::decode(&job.payload) {
                Some(JobPayload::Reminder { incident }) => (incident, true),
                Some(JobPayload::Escalation { incident, .. }) => (incident, false),
                _ => continue,
            };
            let entry = about.entry(number).or_insert((0, reminder));
            entry.0 += 1;
        }
        let mut numbers: Vec<i64> = about
            .into_iter()
            .filter(|(_, (jobs, reminder))| *jobs == 1 && *reminder)
            .map(|(number, _)| number)
            .collect();
        if numbers.is_empty() {
            return Ok(HashMap::new());
        }
        numbers.sort_unstable();
        let mut read: HashMap<i64, Option<Incident>> =
            numbers.iter().map(|&number| (number, None)).collect();
        for incident in tx.incidents(&numbers).await? {
            read.insert(incident.number, Some(incident));
        }
        Ok(read)
    }
}
