//! Firing due jobs: an update reminder, an escalation step, a schedule's post, a handoff
//! summary. Each fires in one unit of work with the job's completion, so its messages, its
//! incident change and the next occurrence's job are written exactly when the job is marked
//! done (a job whose lease another worker took writes nothing); the jobs of one claim share a
//! transaction, each in its own savepoint. Also plans the recurring jobs
//! (schedules and handoffs) from config.

use chrono::{DateTime, Duration, Utc};
use tracing::Instrument as _;

use super::actions::Change;
use super::fanout::Form;
use super::firing::{Together, fired};
use super::incident::{Actor, Incident};
use super::oncall::{self, HandoffInput};
use super::plan::JobPayload;
use super::room::{Room, RoomRole};
use super::unit::{Committed, Guard, Unit};
use super::writer::{BatchError, Ticket};
use super::{EngineError, reply};
use crate::store::{
    Bounded, Checklist, ChecklistItem, JobKind, JobRow, MessageKind, StoreError, Topic,
};

/// The name jobs sign the timeline with.
pub const SCHEDULER_ACTOR: &str = "runroom";

/// What firing a claimed job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fired {
    /// Done: how many messages it queued (none when it no longer applied, e.g. a reminder of a
    /// resolved incident), and whether it was late.
    Done { messages: usize, late: bool },
    /// Another worker holds the job now (this one's lease ended): nothing was written.
    Lost,
}

impl super::Engine {
    /// Fires one claimed job. On `Err` nothing was written; the job is retried once its
    /// claim is released or its lease ends.
    pub async fn fire_job(&self, job: &JobRow, worker: &str) -> Result<Fired, EngineError> {
        let fired = self.fire_jobs(std::slice::from_ref(job), worker).await;
        fired
            .into_iter()
            .next()
            .unwrap_or(Err(BatchError::Stopped.into()))
    }

    /// Fires jobs claimed together, in the jobs' order; on `Err` nothing of that job was
    /// written. They fire as one unit of work (read together, written together: a few
    /// statements for the whole claim); if that fails, each fires in its own unit (all in the
    /// same batch of the writer, each in its own savepoint), so one that fails is undone alone.
    pub async fn fire_jobs(
        &self,
        jobs: &[JobRow],
        worker: &str,
    ) -> Vec<Result<Fired, EngineError>> {
        if jobs.len() > 1 {
            match self.fire_together(jobs, worker).await {
                Ok(fired) => return fired.into_iter().map(Ok).collect(),
                Err(error) => tracing::warn!(
                    %error,
                    jobs = jobs.len(),
                    "a claim's jobs failed together; firing each on its own"
                ),
            }
        }
        let tickets = self.tickets(jobs.len());
        let firing = jobs.iter().zip(tickets).map(|(job, ticket)| {
            let span = tracing::info_span!("job", key = %super::trace::key(&job.key), kind = job.kind.as_str());
            self.fire_job_in(ticket, job, worker).instrument(span)
        });
        futures_util::future::join_all(firing).await
    }

    async fn fire_job_in(
        &self,
        ticket: Ticket,
        job: &JobRow,
        worker: &str,
    ) -> Result<Fired, EngineError> {
        let guard = Guard::Job {
            id: job.id,
            key: &job.key,
            worker,
        };
        let done = self
            .unit_with(ticket, Some(guard), |unit| {
                Box::pin(async move { self.job_work(unit, job, &mut Together::default()).await })
            })
            .await?;
        let Some(Committed {
            value: late,
            messages,
        }) = done
        else {
            tracing::debug!("another worker holds the job now");
            return Ok(Fired::Lost);
        };
        Ok(fired(job, messages.len(), late))
    }

    /// A job's work in its unit; returns whether it fired late. `together`: what the jobs
    /// fired with it share (nothing when it fires alone).
    pub(super) async fn job_work(
        &self,
        unit: &mut Unit<'_>,
        job: &JobRow,
        together: &mut Together,
    ) -> Result<bool, EngineError> {
        let now = unit.out.now();
        let late = (now - job.due_at > self.policies.late_after).then_some(job.due_at);
        unit.out.late = late;
        let payload = JobPayload::decode(&job.payload);
        if !matches!(payload, Some(JobPayload::Reminder { .. })) {
            // Other kinds read what they need themselves: let them see what the reminders
            // before them changed.
            together.flush(&mut *unit.tx, now).await?;
        }
        match payload {
            Some(JobPayload::Reminder { incident }) => {
                self.remind(unit, incident, job.due_at, together).await?
            }
            Some(JobPayload::Escalation { incident, step }) => {
                self.page_step(unit, incident, step).await?
            }
            Some(JobPayload::Schedule { schedule, spec }) => {
                self.post_schedule(unit, &schedule, &spec, job.due_at)
                    .await?
            }
            Some(JobPayload::Handoff { rotation, spec }) => {
                self.post_handoff(unit, &rotation, &spec, job.due_at)
                    .await?
            }
            Some(JobPayload::Prune { round }) => self.prune(unit, round).await?,
            Some(JobPayload::Heartbeat { heartbeat, spec }) => {
                self.check_heartbeat(unit, &heartbeat, &spec).await?
            }
            Some(JobPayload::Postmortem { incident, reminder }) => {
                self.remind_postmortem(unit, incident, reminder).await?
            }
            None => tracing::warn!(job = %job.key, "a job's payload is unreadable; skipped"),
        }
        // Every job plans what comes after it (or cancels nothing): the scheduler looks again.
        unit.planned_jobs = true;
        Ok(late.is_some())
    }

    fn war_rooms(&self) -> impl Iterator<Item = &Room> {
        self.rooms.iter().filter(|r| r.role == RoomRole::WarRoom)
    }

    fn rooms_named<'a>(&'a self, ids: &'a [String]) -> impl Iterator<Item = &'a Room> {
        ids.iter()
            .filter_map(|id| self.rooms.iter().find(|r| &r.id == id))
    }

    /// The update is due: nudge the commander in every war room with the update template, and
    /// plan the next nudge one cadence from now (until someone posts an update). An incident
    /// `together` read ahead is written with the claim's others, at its end.
    async fn remind(
        &self,
        unit: &mut Unit<'_>,
        number: i64,
        due: DateTime<Utc>,
        together: &mut Together,
    ) -> Result<(), StoreError> {
        let Unit { tx, out, .. } = unit;
        let (read_ahead, incident) = match together.incidents.remove(&number) {
            Some(incident) => (true, incident),
            None => (false, tx.incident(number).await?),
        };
        let Some(incident) = incident else {
            return Ok(());
        };
        // A re-plan cancels the old job, but one already claimed may still fire: it only
        // counts when it is the reminder the incident is waiting for.
        // Compared in milliseconds: the job's time is stored at that precision.
        let waited_for = incident.update_due_at.map(|at| at.timestamp_millis());
        if !incident.is_open() || waited_for != Some(due.timestamp_millis()) {
            return Ok(());
        }
        out.topic = Some(Topic::Reminder);
        let now = out.now();
        let msg = reply::update_reminder(&incident, due, now);
        let priority = incident.severity.number();
        for room in self.war_rooms().filter(|r| incident.heard_in(&r.id)) {
            out.push(
                room,
                MessageKind::Broadcast,
                priority,
                Some(number),
                &msg,
                Form::Plain,
            );
        }
        let next_due = self.policies.update_due_of(&incident, now);
        let next = Incident {
            update_due_at: next_due,
            ..incident.clone()
        };
        let job = next_due.map(|at| JobPayload::Reminder { incident: number }.at(at));
        if read_ahead {
            together.changed.push((next, incident));
            together.planned.extend(job);
        } else {
            tx.update_incident(&next, Some(&incident)).await?;
            if let Some(job) = job {
                tx.schedule_jobs(&[job], now).await?;
            }
        }
        Ok(())
    }

    /// An incident's postmortem is due: unless it was recorded (or the incident reopened, or a
    /// later reminder went already), ask the war rooms that heard of it for it, and plan the
    /// next reminder a day later, up to `[postmortems] reminders`.
    async fn remind_postmortem(
        &self,
        unit: &mut Unit<'_>,
        number: i64,
        reminder: u32,
    ) -> Result<(), StoreError> {
        let Unit { tx, out, .. } = unit;
        let Some(incident) = tx.incident(number).await? else {
            return Ok(());
        };
        let Some(due) = incident.postmortem_due_at else {
            return Ok(());
        };
        if incident.is_open()
            || incident.postmortem.is_some()
            || incident.postmortem_reminders != reminder
            || reminder >= self.policies.postmortem_reminders
        {
            return Ok(());
        }
        let now = out.now();
        out.topic = Some(Topic::Reminder);
        let msg = reply::postmortem_due(&incident, due, reminder + 1);
        for room in self.war_rooms().filter(|r| incident.heard_in(&r.id)) {
            out.push(
                room,
                MessageKind::Broadcast,
                incident.severity.number(),
                Some(number),
                &msg,
                Form::Plain,
            );
        }
        let next = Incident {
            postmortem_reminders: reminder + 1,
            ..incident.clone()
        };
        tx.update_incident(&next, Some(&incident)).await?;
        if reminder + 1 < self.policies.postmortem_reminders {
            let job = JobPayload::Postmortem {
                incident: number,
                reminder: reminder + 1,
            }
            .at(now + chrono::Duration::days(1));
            tx.schedule_jobs(&[job], now).await?;
        }
        Ok(())
    }

    /// An escalation step's time has come: unless someone acknowledged (or a manual
    /// `inc escalate` already went past it), page its people and plan the next step.
    async fn page_step(
        &self,
        unit: &mut Unit<'_>,
        number: i64,
        step: u32,
    ) -> Result<(), StoreError> {
        let now = unit.out.now();
        let tx = &mut *unit.tx;
        let Some(incident) = tx.incident(number).await? else {
            return Ok(());
        };
        if !incident.is_open()
            || incident.acked_by.is_some()
            || incident.escalation_step.is_some_and(|s| s >= step)
        {
            return Ok(());
        }
        let steps = self.policies.steps_of(&incident);
        let Some(current) = usize::try_from(step).ok().and_then(|i| steps.get(i)) else {
            return Ok(());
        };
        let overrides = tx.overrides(now).await?;
        let people = oncall::targets(
            &self.policies,
            &self.reaches,
            &overrides,
            &current.notify,
            now,
        );
        let of = u32::try_from(steps.len()).unwrap_or(u32::MAX);
        let Ok((paged, events)) = incident.page(step, of, people, false, now) else {
            return Ok(());
        };
        let actor = Actor {
            name: SCHEDULER_ACTOR.to_string(),
            room: "scheduler".to_string(),
        };
        let change = Change {
            incident: paged,
            events,
            is_new: false,
        };
        self.commit_change(unit, None, &actor, Some(&incident), change)
            .await?;
        Ok(())
    }

    /// A schedule's time: post its checklist (kept, to be ticked from chat) or message, and
    /// plan its next occurrence after now (missed ones while runroom was down are not replayed).
    async fn post_schedule(
        &self,
        unit: &mut Unit<'_>,
        id: &str,
        spec: &str,
        due: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Unit { tx, out, .. } = unit;
        let now = out.now();
        let Some(schedule) = self.policies.schedule(id).filter(|s| s.spec() == spec) else {
            return Ok(());
        };
        let msg = if schedule.items.is_empty() {
            reply::scheduled_message(&schedule.title, due)
        } else {
            let mut list = Checklist {
                id: 0,
                schedule: schedule.id.clone(),
                title: schedule.title.clone(),
                rooms: schedule.rooms.clone(),
                posted_at: now,
                items: schedule
                    .items
                    .iter()
                    .map(|text| ChecklistItem {
                        text: text.clone(),
                        done_by: None,
                        done_at: None,
                    })
                    .collect(),
            };
            list.id = tx.insert_checklist(&list).await?;
            reply::checklist_posted(&list)
        };
        out.topic = Some(Topic::Reminder);
        for room in self.rooms_named(&schedule.rooms) {
            out.push(room, MessageKind::Broadcast, 3, None, &msg, Form::Plain);
        }
        if let Some(next) = schedule.next_after(now.max(due)) {
            let payload = JobPayload::Schedule {
                schedule: schedule.id.clone(),
                spec: schedule.spec(),
            };
            tx.schedule_jobs(&[payload.at(next)], now).await?;
        }
        Ok(())
    }

    /// Resolved incidents of the last 90 days whose postmortem is overdue at `now` or falls due
    /// by `by`, and is not recorded: the soonest, at most what a handoff shows, and how many
    /// (read outside the unit: the handoff only lists them).
    pub(super) async fn postmortems_due(
        &self,
        now: DateTime<Utc>,
        by: DateTime<Utc>,
    ) -> Result<Bounded<Incident>, StoreError> {
        let since = now - Duration::days(90);
        self.store
            .postmortems_due(since, by, super::bounds::HANDOFF_ITEMS)
            .await
    }

    /// A handoff: the summary to the rotation's rooms, each in its language and zone; the
    /// notes left for it are handed over; the next handoff is planned.
    async fn post_handoff(
        &self,
        unit: &mut Unit<'_>,
        id: &str,
        spec: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let Unit { tx, out, .. } = unit;
        let now = out.now();
        let Some(rotation) = self.policies.rotation(id).filter(|r| r.spec() == spec) else {
            return Ok(());
        };
        let outgoing = rotation.shift_at(at - Duration::milliseconds(1));
        let incidents = tx
            .handoff_incidents(outgoing.starts, at, super::bounds::HANDOFF_ITEMS)
            .await?;
        let notes = tx.handoff_notes(&rotation.id).await?;
        let overrides = tx.overrides(outgoing.starts).await?;
        let incoming = rotation.shift_at(at);
        let postmortems = self.postmortems_due(now, incoming.ends).await?;
        let input = HandoffInput {
            rotation,
            at,
            now,
            incidents: &incidents,
            notes: &notes,
            overrides: &overrides,
            preview: false,
            postmortems: &postmortems,
        };
        let msg = oncall::handoff_summary(&self.policies, &input);
        out.topic = Some(Topic::Reminder);
        for room in self.rooms_named(&rotation.rooms) {
            out.push(room, MessageKind::Broadcast, 2, None, &msg, Form::Plain);
        }
        tx.hand_over_notes(&rotation.id, now).await?;
        let next = rotation.shift_at(now.max(at)).ends;
        let payload = JobPayload::Handoff {
            rotation: rotation.id.clone(),
            spec: rotation.spec(),
        };
        tx.schedule_jobs(&[payload.at(next)], now).await?;
        Ok(())
    }

    /// Makes sure each configured schedule and rotation has its next occurrence planned, and
    /// cancels planned ones that config no longer has (or has with another timing). Every
    /// replica may run it: the occurrence keys make the plans agree.
    pub async fn plan_recurring(&self) -> Result<usize, EngineError> {
        let planned = self
            .unguarded(|unit| Box::pin(self.plan_recurring_in(unit)))
            .await?;
        Ok(planned.value)
    }

    async fn plan_recurring_in(&self, unit: &mut Unit<'_>) -> Result<usize, EngineError> {
        let now = unit.out.now();
        let tx = &mut *unit.tx;
        let mut planned: Vec<String> = Vec::new();
        for kind in [JobKind::Schedule, JobKind::Handoff, JobKind::Heartbeat] {
            for job in tx.active_jobs(kind).await? {
                let current = match JobPayload::decode(&job.payload) {
                    Some(JobPayload::Schedule { schedule, spec }) => self
                        .policies
                        .schedule(&schedule)
                        .is_some_and(|s| s.spec() == spec),
                    Some(JobPayload::Handoff { rotation, spec }) => self
                        .policies
                        .rotation(&rotation)
                        .is_some_and(|r| r.spec() == spec),
                    Some(JobPayload::Heartbeat { heartbeat, spec }) => {
                        self.heartbeat(&heartbeat).is_some_and(|h| h.spec() == spec)
                    }
                    _ => false,
                };
                if current {
                    planned.push(job.subject);
                } else {
                    tx.cancel_jobs(&job.subject, kind).await?;
                }
            }
        }
        let mut jobs = Vec::new();
        for schedule in &self.policies.schedules {
            let payload = JobPayload::Schedule {
                schedule: schedule.id.clone(),
                spec: schedule.spec(),
            };
            if !planned.contains(&payload.subject())
                && let Some(next) = schedule.next_after(now)
            {
                jobs.push(payload.at(next));
            }
        }
        for rotation in &self.policies.rotations {
            let payload = JobPayload::Handoff {
                rotation: rotation.id.clone(),
                spec: rotation.spec(),
            };
            if !planned.contains(&payload.subject()) {
                jobs.push(payload.at(rotation.shift_at(now).ends));
            }
        }
        if !self.heartbeats.is_empty() {
            let pings = tx.last_pings().await?;
            for heartbeat in &self.heartbeats {
                let last = pings
                    .iter()
                    .find(|(id, _)| *id == heartbeat.id)
                    .map(|p| p.1);
                let job = heartbeat_check(heartbeat, last.unwrap_or(now), now);
                if !planned.contains(&job.subject) {
                    jobs.push(job);
                }
            }
        }
        tx.schedule_jobs(&jobs, now).await?;
        unit.planned_jobs = !jobs.is_empty();
        Ok(jobs.len())
    }
}

/// The check of a heartbeat last pinged at `last`: when its deadline passes (now, if it has).
pub(super) fn heartbeat_check(
    heartbeat: &crate::alerts::heartbeat::Heartbeat,
    last: DateTime<Utc>,
    now: DateTime<Utc>,
) -> crate::store::NewJob {
    JobPayload::Heartbeat {
        heartbeat: heartbeat.id.clone(),
        spec: heartbeat.spec(),
    }
    .at((last + heartbeat.deadline()).max(now))
}
