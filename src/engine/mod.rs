//! The platform-neutral core. [`Engine::execute`] takes a parsed [`Command`] from an [`Origin`]
//! (a platform's inbox, an alert webhook), loads what it needs, decides (purely, in
//! [`actions`]) and commits the incident, its timeline, its jobs and every message it causes in
//! one [`unit`] of work; [`Engine::handle`] is parse + execute for typed text. [`jobs`] fires
//! due jobs and [`relay`] relays a roster's chatter through the same unit of work. Only these
//! files, [`unit`] and `query` (queries read beside the writer) touch the store.

pub mod access;
pub mod actions;
pub mod alerts;
pub mod bounds;
pub mod clock;
pub mod command;
pub mod errors;
pub mod fanout;
mod firing;
pub mod fit;
mod greeting;
mod heartbeats;
pub mod incident;
pub mod jobs;
pub mod journal;
pub mod oncall;
pub mod plan;
pub mod playbook;
pub mod policy;
mod query;
pub mod reach;
pub mod relay;
pub mod reply;
pub mod retention;
pub mod room;
pub mod rotation;
pub mod schedule;
pub mod text;
pub mod trace;
mod turns;
pub mod unit;
pub mod writer;

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::Instrument as _;

use self::actions::{Change, Context, Decision, Effect, ListPage};
use self::clock::Clock;
use self::command::{Command, ListFilter, ParseError, Verb};
use self::errors::ActionError;
use self::fanout::{Form, topic};
use self::incident::{Actor, BUILTIN_ROLES, Event, Incident, TimelineEntry};
use self::policy::Policies;
use self::reach::Reaches;
use self::room::{Inbound, Origin, Room, RoomRef, RoomRole};
use self::unit::{Committed, Guard, Unit};
use crate::i18n::{I18n, Lang};
use crate::store::{
    Bounded, Checklist, HandoffIncidents, HandoffNote, JobKind, MessageKind, NewOutbound,
    OncallOverride, OpenFilter, Store, StoreError, StoreTx,
};

/// The engine failed to commit; nothing was changed and the platform may redeliver.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The unit's own work succeeded but its batch did not commit.
    #[error(transparent)]
    Batch(#[from] writer::BatchError),
}

/// Changes a slow live view may fall behind by before it is told it lagged (it then reads afresh).
const CHANGES_BUFFERED: usize = 256;

/// A message the engine committed to the outbox, as it was rendered for its room.
pub type Outbound = NewOutbound;

/// What became of an inbound message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Not addressed to runroom.
    Ignored,
    /// Seen before (a platform retry): nothing was done again.
    Duplicate,
    Handled {
        verb: Option<Verb>,
        /// Whether the command succeeded (false: the reply explains what was wrong).
        ok: bool,
        incident: Option<i64>,
        messages: Vec<Outbound>,
    },
}

/// The engine's view of configuration.
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    /// The linked rooms; every broadcast goes to each of them.
    pub rooms: Vec<Room>,
    /// Roles beyond commander, comms and scribe.
    pub extra_roles: Vec<String>,
    /// Reminders, escalation, schedules and rotations.
    pub policies: Policies,
    /// Each platform's rules for mentions, direct pages and mirrors.
    pub reaches: Reaches,
    /// Dead man's switches (`[[heartbeats]]`).
    pub heartbeats: Vec<crate::alerts::heartbeat::Heartbeat>,
    /// Who may do what (`[access]`).
    pub access: access::Access,
}

pub struct Engine {
    store: Arc<dyn Store>,
    i18n: Arc<I18n>,
    clock: Arc<dyn Clock>,
    rooms: Vec<Room>,
    roles: Vec<String>,
    /// Rung after each commit that queued messages, so this process's outbox workers start at once.
    wake: Option<Arc<tokio::sync::Notify>>,
    /// Inbound work that outlived its webhook's answer (see [`Engine::in_flight`]).
    in_flight: tokio_util::task::TaskTracker,
    policies: Arc<Policies>,
    reaches: Reaches,
    /// Each configured person's own chats, where pages reach them directly (their Ack comes
    /// back from there), as rooms in their language and zone.
    direct_rooms: Vec<(String, Room)>,
    /// Rung after each commit that planned jobs, so this process's scheduler looks again.
    scheduler_wake: Arc<tokio::sync::Notify>,
    /// Where units of work are committed, in batches.
    writers: writer::Writers,
    /// The incidents each committed unit told rooms about, for live views in this process.
    changes: tokio::sync::broadcast::Sender<i64>,
    heartbeats: Vec<crate::alerts::heartbeat::Heartbeat>,
    /// Each room's share of the engine (per-room fairness).
    turns: turns::Turns,
    /// Inbound events answered before their work committed, kept until it has.
    journal: Arc<journal::Journal>,
    access: access::Access,
}

impl Engine {
    pub fn new(
        store: Arc<dyn Store>,
        i18n: Arc<I18n>,
        clock: Arc<dyn Clock>,
        settings: EngineSettings,
    ) -> Engine {
        let mut roles: Vec<String> = BUILTIN_ROLES.iter().map(|r| r.to_string()).collect();
        for extra in settings.extra_roles {
            let role = incident::canonical_role(&extra);
            if !roles.contains(&role) {
                roles.push(role);
            }
        }
        let direct_rooms = settings
            .policies
            .people
            .iter()
            .flat_map(|person| {
                settings
                    .reaches
                    .direct_chats(person)
                    .map(|(platform, chat)| {
                        (person.id.clone(), direct_room(person, platform, chat))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        Engine {
            store,
            i18n,
            clock,
            rooms: settings.rooms,
            roles,
            wake: None,
            in_flight: tokio_util::task::TaskTracker::new(),
            policies: Arc::new(settings.policies),
            reaches: settings.reaches,
            direct_rooms,
            scheduler_wake: Arc::new(tokio::sync::Notify::new()),
            writers: writer::Writers::new(writer::WriterConfig::default()),
            changes: tokio::sync::broadcast::channel(CHANGES_BUFFERED).0,
            heartbeats: settings.heartbeats,
            turns: turns::Turns::default(),
            journal: Arc::default(),
            access: settings.access,
        }
    }

    /// Commits units of work with these writers, batch limit and linger instead of the
    /// backend's defaults (before the first unit: the writers start with it).
    pub fn with_writers(mut self, config: writer::WriterConfig) -> Engine {
        self.writers = writer::Writers::new(config);
        self
    }

    /// What the writers have committed so far.
    pub fn writer_stats(&self) -> writer::WriterStats {
        self.writers.stats()
    }

    pub fn policies(&self) -> &Policies {
        &self.policies
    }

    /// Notified when a commit plans jobs, so an idle scheduler looks again at once.
    pub fn scheduler_wake(&self) -> &Arc<tokio::sync::Notify> {
        &self.scheduler_wake
    }

    /// Wakes the outbox workers of this process whenever a decision queues messages.
    pub fn with_wake(mut self, wake: Arc<tokio::sync::Notify>) -> Engine {
        self.wake = Some(wake);
        self
    }

    /// The numbers of incidents that change from now on in this process (every committed unit
    /// that queued a message about one). Other processes' changes are not seen here: a live view
    /// also looks at the database from time to time.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<i64> {
        self.changes.subscribe()
    }

    /// Tells the live views which incidents a committed unit's messages were about.
    fn publish_changes(&self, messages: &[Outbound]) {
        let mut numbers: Vec<i64> = messages.iter().filter_map(|m| m.incident).collect();
        numbers.sort_unstable();
        numbers.dedup();
        for number in numbers {
            // No receiver is fine: nobody is watching.
            let _ = self.changes.send(number);
        }
    }

    /// Tells this process's outbox workers that a unit of work queued rows.
    fn wake_outbox(&self) {
        if let Some(wake) = &self.wake {
            wake.notify_one();
        }
    }

    /// The platforms' inbound work runs here: a webhook is answered within its platform's
    /// deadline while the work may go on, and a stopping process waits for it, since the
    /// platform will not deliver an answered event again.
    pub fn in_flight(&self) -> &tokio_util::task::TaskTracker {
        &self.in_flight
    }

    /// The inbound journal (see [`journal`]): entrances register their replays here, and
    /// `serve` opens its file.
    pub fn journal(&self) -> &Arc<journal::Journal> {
        &self.journal
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn i18n(&self) -> &Arc<I18n> {
        &self.i18n
    }

    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }

    /// The rooms that hear about an incident: every linked room, or those its alert route chose.
    pub fn rooms_of(&self, incident: &Incident) -> std::borrow::Cow<'_, [Room]> {
        if incident.rooms.is_empty() {
            std::borrow::Cow::Borrowed(&self.rooms)
        } else {
            std::borrow::Cow::Owned(
                self.rooms
                    .iter()
                    .filter(|r| incident.heard_in(&r.id))
                    .cloned()
                    .collect(),
            )
        }
    }

    /// The configured room at an address, or an unlinked ad-hoc one (English, UTC) that gets
    /// replies but no broadcasts.
    pub fn room_for(&self, at: &RoomRef) -> Room {
        self.rooms
            .iter()
            .find(|r| r.platform == at.platform && r.chat == at.chat)
            .cloned()
            .or_else(|| {
                self.direct_rooms
                    .iter()
                    .map(|(_, room)| room)
                    .find(|r| r.platform == at.platform && r.chat == at.chat)
                    .cloned()
            })
            .unwrap_or_else(|| Room {
                id: format!("{}:{}", at.platform.as_str(), at.chat),
                platform: at.platform,
                chat: at.chat.clone(),
                language: Lang::En,
                timezone: chrono_tz::UTC,
                role: RoomRole::WarRoom,
                members: Vec::new(),
            })
    }

    /// Whether a chat is one of the linked rooms (or a person's own chat, where pages reach
    /// them and their Ack comes back).
    pub fn is_linked(&self, at: &RoomRef) -> bool {
        let same = |r: &Room| r.platform == at.platform && r.chat == at.chat;
        self.rooms.iter().any(same) || self.direct_rooms.iter().any(|(_, r)| same(r))
    }

    /// Who a command's author is, as `[access]` sees them. A configured person writing from a
    /// chat of their own (the private chat where pages reach them and their Ack comes back)
    /// counts as in a linked room.
    fn gate(&self, origin: &Origin, room: &Room) -> access::Gate {
        access::Gate {
            role: self.access.role(origin, room, &self.reaches),
            linked: self.is_linked(&origin.room) || self.is_known_person(origin),
        }
    }

    /// Whether the author is one of the configured `[[people]]` on the origin's platform.
    fn is_known_person(&self, origin: &Origin) -> bool {
        let platform = origin.room.platform;
        let Some(reach) = self.reaches.of(platform) else {
            return false;
        };
        self.policies.people.iter().any(|p| {
            p.identity(platform)
                .is_some_and(|id| reach.is_author(id, &origin.author))
        })
    }

    /// Handles one inbound message end to end: parses it (once) and acts on it. On `Err` nothing
    /// was stored, so a redelivery of the same event is handled afresh.
    pub async fn handle(&self, inbound: &Inbound) -> Result<Outcome, EngineError> {
        match inbound.command() {
            None => Ok(Outcome::Ignored),
            Some(parsed) => {
                self.act(parsed, &inbound.origin, &inbound.dedupe_key())
                    .await
            }
        }
    }

    /// Carries out a command from `origin` once per `dedupe_key` (a platform event's key, an
    /// alert's): the change, its timeline, its jobs and its messages in one unit of work.
    pub async fn execute(
        &self,
        command: Command,
        origin: &Origin,
        dedupe_key: &str,
    ) -> Result<Outcome, EngineError> {
        self.run(Ok(command), origin, dedupe_key).await
    }

    /// Answers a command that did not parse, once per `dedupe_key`, to its author only.
    pub async fn reject(
        &self,
        error: ParseError,
        origin: &Origin,
        dedupe_key: &str,
    ) -> Result<Outcome, EngineError> {
        self.run(Err(error), origin, dedupe_key).await
    }

    /// What an inbox parsed (it parses each text once, to know whether the message is for
    /// runroom at all): [`Engine::execute`] or [`Engine::reject`].
    pub async fn act(
        &self,
        parsed: Result<Command, ParseError>,
        origin: &Origin,
        dedupe_key: &str,
    ) -> Result<Outcome, EngineError> {
        match parsed {
            Ok(command) => self.execute(command, origin, dedupe_key).await,
            Err(error) => self.reject(error, origin, dedupe_key).await,
        }
    }

    async fn run(
        &self,
        parsed: Result<Command, ParseError>,
        origin: &Origin,
        dedupe_key: &str,
    ) -> Result<Outcome, EngineError> {
        let room = self.room_for(&origin.room);
        // The room's turn: a flood from one chat waits behind itself, not in front of others.
        let _turn = self
            .turns
            .take(&format!(
                "{}:{}",
                origin.room.platform.as_str(),
                origin.room.chat
            ))
            .await;
        let span = tracing::info_span!(
            "command",
            room = %room.id,
            key = %trace::key(dedupe_key),
            verb = tracing::field::Empty,
            incident = tracing::field::Empty,
        );
        self.act_in(parsed, origin, room, dedupe_key)
            .instrument(span)
            .await
    }

    async fn act_in(
        &self,
        parsed: Result<Command, ParseError>,
        origin: &Origin,
        room: Room,
        dedupe_key: &str,
    ) -> Result<Outcome, EngineError> {
        let span = tracing::Span::current();
        let verb = parsed.as_ref().ok().map(Command::verb);
        if let Some(verb) = verb {
            span.record("verb", verb.name());
        }
        let room = &room;
        let done = match self.answer_query(&parsed, origin, room, dedupe_key).await? {
            Some(answer) => {
                self.unit(Guard::Answered(dedupe_key), |unit| {
                    unit.out.ready = answer.messages;
                    Box::pin(async move { Ok((answer.ok, None)) })
                })
                .await?
            }
            None => {
                self.unit(Guard::Inbound(dedupe_key), |unit| {
                    Box::pin(self.decide_in(unit, parsed, origin, room))
                })
                .await?
            }
        };
        let Some(Committed {
            value: (ok, incident_number),
            messages,
        }) = done
        else {
            metrics::counter!("runroom_inbound_duplicates_total").increment(1);
            tracing::debug!("seen before: nothing done again");
            return Ok(Outcome::Duplicate);
        };
        if let Some(number) = incident_number {
            span.record("incident", number);
        }
        let verb_label = verb.map(Verb::name).unwrap_or("invalid");
        metrics::counter!("runroom_commands_total", "verb" => verb_label, "ok" => if ok { "true" } else { "false" })
            .increment(1);
        tracing::debug!(ok, messages = messages.len(), "command committed");
        Ok(Outcome::Handled {
            verb,
            ok,
            incident: incident_number,
            messages,
        })
    }

    /// A command's work in its unit: loads, decides, writes the change and renders the answer.
    /// Returns whether the command succeeded and the incident it changed.
    async fn decide_in(
        &self,
        unit: &mut Unit<'_>,
        parsed: Result<Command, ParseError>,
        origin: &Origin,
        room: &Room,
    ) -> Result<(bool, Option<i64>), EngineError> {
        unit.out
            .answering(&origin.author.id, origin.room.thread.clone());
        let actor = Actor {
            name: origin.author.name.clone(),
            room: room.id.clone(),
        };
        let now = unit.out.now();
        let gate = self.gate(origin, room);
        let mut before = None;
        let decided = match parsed {
            Err(e) => Err(errors::parse_error(&e)),
            Ok(cmd) => {
                let lang = unit.out.language_of(room);
                let (target, decided) = self
                    .load_and_decide(&mut *unit.tx, cmd, &actor, (&room.id, lang), now, gate)
                    .await?;
                // A refusal about an incident goes on its timeline: who tried what.
                if let (Err(ActionError::Refused(access::Refusal::Role { verb, needs })), Some(t)) =
                    (&decided, &target)
                {
                    let entry = TimelineEntry {
                        incident: t.number,
                        at: now,
                        actor: actor.name.clone(),
                        room: actor.room.clone(),
                        event: Event::Refused {
                            verb: verb.name().to_string(),
                            needs: needs.as_str().to_string(),
                        },
                    };
                    unit.tx
                        .append_timeline(std::slice::from_ref(&entry))
                        .await?;
                }
                before = target;
                decided.map_err(|e| errors::action_error(&e))
            }
        };
        let ok = decided.is_ok();
        let mut incident_number = None;
        match decided {
            Err(msg) => unit.out.answer(room, &msg, true),
            Ok(decision) => {
                if let Some(lang) = decision.set_language {
                    unit.tx.set_room_language(&room.id, lang, now).await?;
                    unit.out.set_language(&room.id, lang);
                }
                for effect in &decision.effects {
                    apply(&mut *unit.tx, effect).await?;
                }
                // A chat that is no linked room gets no card (nor pin): the linked rooms hear
                // the change, and the person who wrote gets the answer alone.
                let heard_in = gate.linked.then_some(room);
                if let Some(change) = decision.change {
                    let number = self
                        .commit_change(unit, heard_in, &actor, before.as_ref(), change)
                        .await?;
                    incident_number = Some(number);
                    if !gate.linked
                        && let Some(stored) = unit.tx.incident(number).await?
                    {
                        unit.out
                            .answer(room, &reply::unlinked_answer(&stored), true);
                    }
                }
                unit.out.topic = None;
                if let Some(msg) = decision.reply {
                    unit.out
                        .answer(room, &msg, origin.private_replies || !gate.linked);
                }
            }
        }
        Ok((ok, incident_number))
    }

    /// Loads what the command needs and decides. Every read is bounded whatever the data: an
    /// incident by number, at most two open numbers for an implicit reference (a few more and
    /// the count when that is ambiguous), a page of the open incidents and its total, the latest
    /// timeline entries.
    #[allow(clippy::too_many_arguments)]
    async fn load_and_decide(
        &self,
        tx: &mut dyn StoreTx,
        cmd: Command,
        actor: &Actor,
        (room, lang): (&str, Lang),
        now: DateTime<Utc>,
        gate: access::Gate,
    ) -> Result<(Option<Incident>, Result<Decision, ActionError>), StoreError> {
        let verb = cmd.verb();
        let target = match incident_ref(&cmd) {
            None => None,
            Some(Some(number)) => match tx.incident(number).await? {
                Some(found) => Some(found),
                None => return Ok((None, Err(ActionError::UnknownIncident(number)))),
            },
            // Reopening and the postmortem are about a resolved incident: "the open one" cannot
            // mean it.
            Some(None) if matches!(verb, Verb::Reopen | Verb::Postmortem) => {
                return Ok((None, Err(ActionError::WhichIncident(verb))));
            }
            Some(None) => match tx.open_numbers(2).await?.as_slice() {
                [] => return Ok((None, Err(ActionError::NoOpenIncident))),
                // Read under the row lock: deciding on an unlocked copy could overwrite a change
                // another replica committed meanwhile.
                [only] => tx.incident(*only).await?,
                _ => {
                    let shown = tx.open_numbers(bounds::AMBIGUOUS_SHOWN).await?;
                    let total = tx.open_count(&OpenFilter::default()).await?;
                    let error = ActionError::AmbiguousIncident { verb, shown, total };
                    return Ok((None, Err(error)));
                }
            },
        };
        // `check` about no incident: the one open incident's checklist, when it has one (else
        // the room's latest posted checklist).
        let target = match (&cmd, target) {
            (Command::Check { incident: None, .. }, None) => {
                match tx.open_numbers(2).await?.as_slice() {
                    [only] => tx.incident(*only).await?.filter(|i| !i.steps.is_empty()),
                    _ => None,
                }
            }
            (_, target) => target,
        };
        // Who may do this, to this incident, from here (`[access]`).
        if let Err(refusal) = self
            .access
            .check(&cmd, target.as_ref(), gate.role, gate.linked)
        {
            return Ok((target, Err(ActionError::Refused(refusal))));
        }
        let list = match &cmd {
            Command::List { filter } => Some(self.list_page(tx, filter, actor).await?),
            _ => None,
        };
        let (timeline, timeline_total) = match (&target, verb) {
            (Some(t), Verb::Show) => (tx.timeline(t.number, bounds::SHOW_LATEST).await?, 0),
            // The figures read the whole timeline, up to its bound.
            (Some(t), Verb::Postmortem) if matches!(cmd, Command::Postmortem { .. }) => {
                (tx.timeline(t.number, bounds::POSTMORTEM_ENTRIES).await?, 0)
            }
            (Some(t), Verb::Timeline) => {
                let entries = tx.timeline(t.number, bounds::TIMELINE_MAX).await?;
                // Counted only when the answer is cut: most timelines fit.
                let total = if entries.len() as i64 >= bounds::TIMELINE_MAX {
                    tx.timeline_len(t.number).await?
                } else {
                    entries.len() as i64
                };
                (entries, total)
            }
            _ => (Vec::new(), 0),
        };
        let starts_playbook = matches!(
            &cmd,
            Command::Declare {
                playbook: Some(_),
                ..
            } | Command::PlaybookRun { .. }
        );
        let overrides: Vec<OncallOverride> =
            if starts_playbook || matches!(verb, Verb::Escalate | Verb::Oncall | Verb::Handoff) {
                tx.overrides(now).await?
            } else {
                Vec::new()
            };
        let checklists: Vec<Checklist> = if verb == Verb::Check {
            tx.recent_checklists(CHECKLISTS_SEARCHED).await?
        } else {
            Vec::new()
        };
        let mut handoff = HandoffIncidents::default();
        let mut notes: Vec<(String, Vec<HandoffNote>)> = Vec::new();
        let mut postmortems: Bounded<Incident> = Bounded::default();
        if let Command::HandoffPreview { rotation } = &cmd
            && let Some(rotation) = self.policies.rotation_or_only(rotation.as_deref())
        {
            let (shift, _) = oncall::holders_at(rotation, &overrides, now);
            let outgoing = rotation.shift_at(shift.ends - chrono::Duration::milliseconds(1));
            handoff = tx
                .handoff_incidents(outgoing.starts, shift.ends, bounds::HANDOFF_ITEMS)
                .await?;
            notes.push((rotation.id.clone(), tx.handoff_notes(&rotation.id).await?));
            let next = rotation.shift_at(shift.ends);
            postmortems = self.postmortems_due(now, next.ends).await?;
        }
        let pings = if verb == Verb::Heartbeats && !self.heartbeats.is_empty() {
            tx.last_pings().await?
        } else {
            Vec::new()
        };
        let ctx = Context {
            now,
            actor,
            heartbeats: &self.heartbeats,
            pings: &pings,
            lang,
            target: target.as_ref(),
            list: list.as_ref(),
            timeline: &timeline,
            timeline_total,
            roles: &self.roles,
            policies: &self.policies,
            reaches: &self.reaches,
            overrides: &overrides,
            checklists: &checklists,
            room,
            handoff: &handoff,
            notes: &notes,
            postmortems: &postmortems,
        };
        let decided = actions::decide(cmd, &ctx);
        Ok((target, decided))
    }

    /// `inc list`: the total (a counts row, or the author's role rows) and the page's lines, in
    /// one read; a page past the end reads no incident.
    async fn list_page(
        &self,
        tx: &mut dyn StoreTx,
        filter: &ListFilter,
        actor: &Actor,
    ) -> Result<ListPage, StoreError> {
        let query = OpenFilter {
            severity: filter.severity,
            person: filter.mine.then(|| incident::person_key(&actor.name)),
        };
        let offset = i64::from(filter.page - 1) * bounds::LIST_PAGE;
        let page = tx.open_listing(&query, offset, bounds::LIST_PAGE).await?;
        Ok(ListPage {
            filter: *filter,
            items: page.items,
            total: page.total,
        })
    }

    /// Writes an incident change in a unit of work: plans its jobs, stores it with its timeline,
    /// and renders what each room hears (`origin`: the room a command came from, which gets the
    /// reply; a job has none, so every room gets the broadcast). Returns the incident's number.
    async fn commit_change(
        &self,
        unit: &mut Unit<'_>,
        origin: Option<&Room>,
        actor: &Actor,
        before: Option<&Incident>,
        change: Change,
    ) -> Result<i64, StoreError> {
        let now = unit.out.now();
        let tx = &mut *unit.tx;
        let mut stored = change.incident;
        let plan = plan::replan(before, &mut stored, &change.events, now, &self.policies);
        if change.is_new {
            stored.number = tx.insert_incident(&stored).await?;
        } else {
            tx.update_incident(&stored, before).await?;
        }
        let subject = plan::incident_subject(stored.number);
        if plan.replan_reminder {
            tx.cancel_jobs(&subject, JobKind::Reminder).await?;
        }
        if plan.replan_escalation {
            tx.cancel_jobs(&subject, JobKind::Escalation).await?;
        }
        if plan.replan_postmortem {
            tx.cancel_jobs(&subject, JobKind::Postmortem).await?;
        }
        tx.schedule_jobs(&plan.jobs(stored.number), now).await?;
        unit.planned_jobs = true;
        let entries: Vec<TimelineEntry> = change
            .events
            .iter()
            .map(|event| TimelineEntry {
                incident: stored.number,
                at: now,
                actor: actor.name.clone(),
                room: actor.room.clone(),
                event: event.clone(),
            })
            .collect();
        tx.append_timeline(&entries).await?;
        record_response_times(&stored, &change.events);
        let out = &mut unit.out;
        for event in &change.events {
            out.topic = Some(topic(event));
            if let Event::PlaybookStarted { playbook, .. } = event {
                self.post_playbook(out, &stored, playbook);
            }
            if reply::is_own_message(event) {
                continue;
            }
            let msg = reply::change(&stored, event, &actor.name, now);
            match origin {
                _ if reply::is_broadcast(event) => {
                    let customer = self.customer_text(&stored, event);
                    out.broadcast(
                        origin,
                        &self.rooms_of(&stored),
                        &stored,
                        event,
                        &msg,
                        customer,
                    )
                }
                Some(origin) => out.reply(origin, Some(stored.number), &msg),
                None => {}
            }
            if let Event::Paged {
                step, of, people, ..
            } = event
            {
                self.page_directly(out, &stored, people, *step, *of);
            }
        }
        out.topic = None;
        Ok(stored.number)
    }

    /// A playbook's first actions, to each war room of the incident in its own language.
    fn post_playbook(&self, out: &mut fanout::Fanout, incident: &Incident, playbook: &str) {
        let Some(playbook) = self.policies.playbook(playbook) else {
            return;
        };
        for room in self
            .rooms_of(incident)
            .iter()
            .filter(|r| r.role == RoomRole::WarRoom)
        {
            let msg = reply::playbook_started(incident, playbook, out.language_of(room));
            out.push(
                room,
                MessageKind::Broadcast,
                incident.severity.number(),
                Some(incident.number),
                &msg,
                Form::Plain,
            );
        }
    }

    /// The customer message of the latest playbook on the incident that has one for this
    /// change (declared, update, resolved).
    fn customer_text(&self, incident: &Incident, event: &Event) -> Option<&playbook::Texts> {
        let moment = match event {
            Event::Declared { .. } => playbook::Moment::Declared,
            Event::Updated(_) => playbook::Moment::Update,
            Event::Resolved { .. } => playbook::Moment::Resolved,
            _ => return None,
        };
        incident
            .playbooks
            .iter()
            .rev()
            .filter_map(|id| self.policies.playbook(id))
            .find_map(|p| p.customer.get(&moment))
    }

    /// A page also goes to each paged person's own chat on every platform that can reach them
    /// directly, with an Ack button (on WhatsApp outside the 24-hour window: a template with an
    /// Ack quick reply).
    fn page_directly(
        &self,
        out: &mut fanout::Fanout,
        incident: &Incident,
        people: &[String],
        step: u32,
        of: u32,
    ) {
        let card = reply::page_card(incident);
        let msg = reply::page_direct(incident, step, of);
        for person in people {
            for (_, room) in self.direct_rooms.iter().filter(|(id, _)| id == person) {
                out.push(
                    room,
                    MessageKind::Page,
                    0,
                    Some(incident.number),
                    &msg,
                    Form::Card(&card),
                );
            }
        }
    }
}

/// The time to acknowledge and to resolve, by severity, as incidents are acknowledged and
/// resolved (`runroom_incident_time_to_{ack,resolve}_seconds`).
fn record_response_times(incident: &Incident, events: &[Event]) {
    let severity = incident.severity.to_string();
    for event in events {
        let (name, at) = match event {
            Event::Acknowledged => ("runroom_incident_time_to_ack_seconds", incident.acked_at),
            Event::Resolved { .. } => (
                "runroom_incident_time_to_resolve_seconds",
                incident.resolved_at,
            ),
            _ => continue,
        };
        if let Some(at) = at {
            let seconds = (at - incident.declared_at).num_milliseconds() as f64 / 1000.0;
            metrics::histogram!(name, "severity" => severity.clone()).record(seconds);
        }
    }
}

/// A person's own chat on a platform, as a room in their language and zone.
fn direct_room(person: &policy::Person, platform: room::Platform, chat: String) -> Room {
    Room {
        id: format!("page:{}", person.id),
        platform,
        chat,
        language: person.language,
        timezone: person.timezone,
        role: RoomRole::WarRoom,
        members: Vec::new(),
    }
}

/// How many of the latest checklists `check` looks through for this room's.
const CHECKLISTS_SEARCHED: i64 = 20;

/// Writes what a decision asked for besides an incident change.
async fn apply(tx: &mut dyn StoreTx, effect: &Effect) -> Result<(), StoreError> {
    match effect {
        Effect::Override(item) => tx.add_override(item).await,
        Effect::HandoffNote { rotation, note } => tx.add_handoff_note(rotation, note).await,
        Effect::TickChecklist { id, items } => tx.save_checklist_items(*id, items).await,
    }
}

/// `None`: the command is not about one incident. `Some(None)`: about "the open one".
fn incident_ref(cmd: &Command) -> Option<Option<i64>> {
    match cmd {
        Command::Severity { incident, .. }
        | Command::Status { incident, .. }
        | Command::Assign { incident, .. }
        | Command::Ack { incident }
        | Command::Update { incident, .. }
        | Command::Note { incident, .. }
        | Command::FollowUp { incident, .. }
        | Command::Resolve { incident, .. }
        | Command::Reopen { incident, .. }
        | Command::Show { incident }
        | Command::Timeline { incident }
        | Command::Snooze { incident, .. }
        | Command::Escalate { incident }
        | Command::PlaybookRun { incident, .. }
        | Command::Postmortem { incident }
        | Command::PostmortemRecord { incident, .. } => Some(*incident),
        Command::Check {
            incident: Some(n), ..
        } => Some(Some(*n)),
        Command::Declare { .. }
        | Command::List { .. }
        | Command::Help { .. }
        | Command::Lang { .. }
        | Command::Check { .. }
        | Command::Oncall
        | Command::OncallOverride { .. }
        | Command::HandoffNote { .. }
        | Command::HandoffPreview { .. }
        | Command::Heartbeats
        | Command::PlaybookList
        | Command::PlaybookShow { .. } => None,
    }
}
