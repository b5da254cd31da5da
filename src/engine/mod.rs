//! The platform-neutral core: [`Engine::handle`] takes one [`Inbound`] message, parses it,
//! decides (purely, in [`actions`]) and commits the incident, its timeline and every message it
//! causes in one transaction. This file and [`jobs`] (which fires due jobs the same way) are the
//! only engine files that touch the store.

pub mod actions;
pub mod clock;
pub mod command;
pub mod errors;
pub mod incident;
pub mod jobs;
pub mod oncall;
pub mod plan;
pub mod policy;
pub mod relay;
pub mod reply;
pub mod room;
pub mod rotation;
pub mod schedule;
pub mod text;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use self::actions::{Change, Context, Decision, Effect};
use self::clock::Clock;
use self::command::{Command, Verb};
use self::errors::ActionError;
use self::incident::{Actor, BUILTIN_ROLES, Event, Incident, TimelineEntry};
use self::policy::Policies;
use self::reply::{Card, Msg};
use self::room::{Inbound, Room, RoomRef, RoomRole};
use crate::i18n::{I18n, Lang};
use crate::outbox::{Rich, RichButton, RichField};
use crate::store::{
    Checklist, HandoffNote, JobKind, MessageKind, NewOutbound, OncallOverride, Store, StoreError,
    StoreTx, Topic,
};

/// How many timeline entries `show` includes, and the most `timeline` prints.
const SHOW_LATEST: i64 = 5;
const TIMELINE_MAX: i64 = 100;

/// The engine failed to commit; nothing was changed and the platform may redeliver.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
    /// Rung after each commit that planned jobs, so this process's scheduler looks again.
    scheduler_wake: Arc<tokio::sync::Notify>,
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
        Engine {
            store,
            i18n,
            clock,
            rooms: settings.rooms,
            roles,
            wake: None,
            in_flight: tokio_util::task::TaskTracker::new(),
            policies: Arc::new(settings.policies),
            scheduler_wake: Arc::new(tokio::sync::Notify::new()),
        }
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

    /// Tells this process's outbox workers that rows were queued outside [`Engine::handle`].
    pub fn wake_outbox(&self) {
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

    /// The configured room at an address, or an unlinked ad-hoc one (English, UTC) that gets
    /// replies but no broadcasts.
    pub fn room_for(&self, at: &RoomRef) -> Room {
        self.rooms
            .iter()
            .find(|r| r.platform == at.platform && r.chat == at.chat)
            .cloned()
            .or_else(|| {
                self.policies
                    .people
                    .iter()
                    .filter_map(page_room)
                    .find(|r| r.platform == at.platform && r.chat == at.chat)
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

    /// Handles one inbound message end to end. On `Err` nothing was stored, so a redelivery of the
    /// same event is handled afresh.
    pub async fn handle(&self, inbound: &Inbound) -> Result<Outcome, EngineError> {
        let Some(parsed) = command::parse(&inbound.text) else {
            return Ok(Outcome::Ignored);
        };
        let now = self.clock.now();
        let origin = self.room_for(&inbound.room);
        let actor = Actor {
            name: inbound.author.name.clone(),
            room: origin.id.clone(),
        };
        let mut tx = self.store.begin().await?;
        let key = inbound.dedupe_key();
        if !tx.record_inbound(&key, now).await? {
            metrics::counter!("runroom_inbound_duplicates_total").increment(1);
            return Ok(Outcome::Duplicate);
        }
        let mut languages: HashMap<String, Lang> = tx.room_languages().await?.into_iter().collect();

        let verb = parsed.as_ref().ok().map(Command::verb);
        let mut before = None;
        let decided = match parsed {
            Err(e) => Err(errors::parse_error(&e)),
            Ok(cmd) => {
                let (target, decided) = self
                    .load_and_decide(&mut *tx, cmd, &actor, &origin.id, now)
                    .await?;
                before = target;
                decided.map_err(|e| errors::action_error(&e))
            }
        };
        let ok = decided.is_ok();
        if let Ok(Decision {
            set_language: Some(lang),
            ..
        }) = &decided
        {
            tx.set_room_language(&origin.id, *lang, now).await?;
            languages.insert(origin.id.clone(), *lang);
        }
        let mut out = Outbox {
            key: &key,
            author: &inbound.author.id,
            now,
            thread: inbound.room.thread.clone(),
            languages: &languages,
            i18n: &self.i18n,
            topic: None,
            late: None,
            messages: Vec::new(),
        };
        let mut incident_number = None;
        match decided {
            Err(msg) => out.answer(&origin, &msg, true),
            Ok(decision) => {
                for effect in &decision.effects {
                    apply(&mut *tx, effect).await?;
                }
                if let Some(change) = decision.change {
                    let number = self
                        .commit_change(
                            &mut *tx,
                            &mut out,
                            Some(&origin),
                            &actor,
                            before.as_ref(),
                            change,
                            now,
                        )
                        .await?;
                    incident_number = Some(number);
                }
                out.topic = None;
                if let Some(msg) = decision.reply {
                    out.answer(&origin, &msg, inbound.private_replies);
                }
            }
        }
        let mut messages = out.messages;
        name_mentions(&mut *tx, &mut messages).await?;
        tx.enqueue(&messages).await?;
        tx.commit().await?;
        self.wake_outbox();
        self.scheduler_wake.notify_one();
        let verb_label = verb.map(Verb::name).unwrap_or("invalid");
        metrics::counter!("runroom_commands_total", "verb" => verb_label, "ok" => if ok { "true" } else { "false" })
            .increment(1);
        Ok(Outcome::Handled {
            verb,
            ok,
            incident: incident_number,
            messages,
        })
    }

    /// Loads what the command needs (its incident, the open ones, a timeline) and decides.
    async fn load_and_decide(
        &self,
        tx: &mut dyn StoreTx,
        cmd: Command,
        actor: &Actor,
        room: &str,
        now: DateTime<Utc>,
    ) -> Result<(Option<Incident>, Result<Decision, ActionError>), StoreError> {
        let verb = cmd.verb();
        let open: Vec<Incident> = if verb == Verb::List || matches!(incident_ref(&cmd), Some(None))
        {
            tx.open_incidents().await?
        } else {
            Vec::new()
        };
        let target = match incident_ref(&cmd) {
            None => None,
            Some(Some(number)) => match tx.incident(number).await? {
                Some(found) => Some(found),
                None => return Ok((None, Err(ActionError::UnknownIncident(number)))),
            },
            // Reopening is about a resolved incident: "the open one" cannot mean it.
            Some(None) if verb == Verb::Reopen => {
                return Ok((None, Err(ActionError::WhichIncident(verb))));
            }
            Some(None) => match open.as_slice() {
                [] => return Ok((None, Err(ActionError::NoOpenIncident))),
                // Read it again under the row lock: the list was read without one, and deciding
                // on that copy could overwrite a change another replica committed meanwhile.
                [only] => tx.incident(only.number).await?,
                many => {
                    let open = many.iter().map(|i| i.number).collect();
                    return Ok((None, Err(ActionError::AmbiguousIncident { verb, open })));
                }
            },
        };
        let timeline = match (&target, verb) {
            (Some(t), Verb::Show) => tx.timeline(t.number, SHOW_LATEST).await?,
            (Some(t), Verb::Timeline) => tx.timeline(t.number, TIMELINE_MAX).await?,
            _ => Vec::new(),
        };
        let overrides: Vec<OncallOverride> =
            if matches!(verb, Verb::Escalate | Verb::Oncall | Verb::Handoff) {
                tx.overrides(now).await?
            } else {
                Vec::new()
            };
        let checklists: Vec<Checklist> = if verb == Verb::Check {
            tx.recent_checklists(CHECKLISTS_SEARCHED).await?
        } else {
            Vec::new()
        };
        let mut recent = Vec::new();
        let mut notes: Vec<(String, Vec<HandoffNote>)> = Vec::new();
        if verb == Verb::Handoff {
            recent = tx.incidents_since(now - chrono::Duration::days(8)).await?;
            for rotation in &self.policies.rotations {
                notes.push((rotation.id.clone(), tx.handoff_notes(&rotation.id).await?));
            }
        }
        let ctx = Context {
            now,
            actor,
            target: target.as_ref(),
            open: &open,
            timeline: &timeline,
            roles: &self.roles,
            policies: &self.policies,
            overrides: &overrides,
            checklists: &checklists,
            room,
            recent: &recent,
            notes: &notes,
        };
        let decided = actions::decide(cmd, &ctx);
        Ok((target, decided))
    }

    /// Commits an incident change: plans its jobs, stores it with its timeline, and renders
    /// what each room hears (`origin`: the room a command came from, which gets the reply; a
    /// job has none, so every room gets the broadcast). Returns the incident's number.
    #[allow(clippy::too_many_arguments)]
    async fn commit_change(
        &self,
        tx: &mut dyn StoreTx,
        out: &mut Outbox<'_>,
        origin: Option<&Room>,
        actor: &Actor,
        before: Option<&Incident>,
        change: Change,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let mut stored = change.incident;
        let plan = plan::replan(before, &mut stored, &change.events, now, &self.policies);
        if change.is_new {
            stored.number = tx.insert_incident(&stored).await?;
        } else {
            tx.update_incident(&stored).await?;
        }
        let subject = plan::incident_subject(stored.number);
        if plan.replan_reminder {
            tx.cancel_jobs(&subject, JobKind::Reminder).await?;
        }
        if plan.replan_escalation {
            tx.cancel_jobs(&subject, JobKind::Escalation).await?;
        }
        tx.schedule_jobs(&plan.jobs(stored.number), now).await?;
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
        for event in &change.events {
            out.topic = Some(topic(event));
            let msg = reply::change(&stored, event, &actor.name, now);
            match origin {
                _ if reply::is_broadcast(event) => {
                    out.broadcast(origin, &self.rooms, &stored, event, &msg)
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

    /// A page also goes to each paged person's own WhatsApp chat, with an Ack button (a
    /// template with an Ack quick reply outside the 24-hour window).
    fn page_directly(
        &self,
        out: &mut Outbox<'_>,
        incident: &Incident,
        people: &[String],
        step: u32,
        of: u32,
    ) {
        let card = reply::page_card(incident);
        let msg = reply::page_direct(incident, step, of);
        let paged = people.iter().filter_map(|id| self.policies.person(id));
        for direct in paged.filter_map(page_room) {
            out.push(
                &direct,
                MessageKind::Page,
                0,
                Some(incident.number),
                &msg,
                Form::Card(&card),
            );
        }
    }
}

/// A paged person's own WhatsApp chat, as a room in their language and zone (their Ack comes
/// back from it).
fn page_room(person: &policy::Person) -> Option<Room> {
    Some(Room {
        id: format!("page:{}", person.id),
        platform: room::Platform::Whatsapp,
        chat: person.whatsapp.clone()?,
        language: person.language,
        timezone: person.timezone,
        role: RoomRole::WarRoom,
        members: Vec::new(),
    })
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
        | Command::Escalate { incident } => Some(*incident),
        Command::Declare { .. }
        | Command::List
        | Command::Help { .. }
        | Command::Lang { .. }
        | Command::Check { .. }
        | Command::Oncall
        | Command::OncallOverride { .. }
        | Command::HandoffNote { .. }
        | Command::HandoffPreview { .. } => None,
    }
}

/// What a change's message is about, for platforms that must send it as one of a few
/// pre-approved templates (WhatsApp outside the 24-hour window).
fn topic(event: &Event) -> Topic {
    match event {
        Event::Declared { .. } => Topic::Alert,
        Event::Paged { .. } => Topic::Page,
        _ => Topic::Update,
    }
}

/// What a message carries besides its text.
enum Form<'c> {
    Plain,
    /// The incident card (war rooms).
    Card(&'c Card),
    /// Only this user (a platform user id) sees it.
    Private(String),
}

/// The messages one decision causes, rendered per room, with deterministic idempotency keys
/// (the inbound key plus a sequence), so the same decision can never enqueue a message twice.
struct Outbox<'a> {
    key: &'a str,
    /// The platform id of who sent the command, for answers only they should see.
    author: &'a str,
    now: DateTime<Utc>,
    thread: Option<String>,
    languages: &'a HashMap<String, Lang>,
    i18n: &'a I18n,
    /// The topic of the change being rendered (see [`topic`]).
    topic: Option<Topic>,
    /// A job that fires well after its time says so: when it was due.
    late: Option<DateTime<Utc>>,
    messages: Vec<Outbound>,
}

impl Outbox<'_> {
    fn push(
        &mut self,
        room: &Room,
        kind: MessageKind,
        priority: i64,
        incident: Option<i64>,
        msg: &Msg,
        form: Form<'_>,
    ) {
        let (card, recipient) = match form {
            Form::Plain => (None, None),
            Form::Card(card) => (Some(card), None),
            Form::Private(user) => (None, Some(user)),
        };
        let language = self
            .languages
            .get(&room.id)
            .copied()
            .unwrap_or(room.language);
        let render = |m: &Msg| self.i18n.render(language, room.timezone, m);
        let rich = card.map(|c| Rich {
            title: render(&c.title),
            fields: c
                .fields
                .iter()
                .map(|(label, value)| RichField {
                    label: render(label),
                    value: render(value),
                })
                .collect(),
            buttons: c
                .buttons
                .iter()
                .map(|(id, label)| RichButton {
                    id: id.clone(),
                    label: render(label),
                })
                .collect(),
        });
        let mut text = render(msg);
        if let Some(due) = self.late {
            text.push('\n');
            text.push_str(&render(&reply::late(due)));
        }
        let message = |chat: &str, recipient: Option<String>| Outbound {
            idempotency_key: String::new(),
            room_id: room.id.clone(),
            platform: room.platform,
            chat: chat.to_string(),
            // Replies stay in the thread the command came from; broadcasts start at the room.
            thread: if kind == MessageKind::Reply {
                self.thread.clone()
            } else {
                None
            },
            kind,
            language,
            text: text.clone(),
            rich: rich.clone(),
            incident,
            priority,
            created_at: self.now,
            recipient,
            topic: self.topic,
        };
        let batch: Vec<Outbound> = if room.members.is_empty() {
            vec![message(&room.chat, recipient)]
        } else {
            // A roster is its members' one-to-one chats: the room's message goes to each of
            // them, and a private answer only to the one it is for.
            let only = recipient.filter(|r| room.members.contains(r));
            room.members
                .iter()
                .filter(|m| only.as_ref().is_none_or(|r| r == *m))
                .map(|m| message(m, None))
                .collect()
        };
        for mut m in batch {
            m.idempotency_key = format!("{}#{}", self.key, self.messages.len());
            self.messages.push(m);
        }
    }

    /// To the sender's room; replies go first (priority 0): someone is waiting for them.
    fn reply(&mut self, origin: &Room, incident: Option<i64>, msg: &Msg) {
        self.push(origin, MessageKind::Reply, 0, incident, msg, Form::Plain);
    }

    /// An answer that changes nothing; `private`: only the author sees it, where the platform
    /// allows (an error, or the answer to a slash command).
    fn answer(&mut self, origin: &Room, msg: &Msg, private: bool) {
        let form = if private && !self.author.is_empty() {
            Form::Private(self.author.to_string())
        } else {
            Form::Plain
        };
        self.push(origin, MessageKind::Reply, 0, None, msg, form);
    }

    /// The origin room gets the change as its reply; every other war room the same as a
    /// broadcast, more urgent the higher the severity; announce rooms the customer-safe form of
    /// the changes they hear about. War rooms' messages carry the incident card.
    fn broadcast(
        &mut self,
        origin: Option<&Room>,
        rooms: &[Room],
        incident: &Incident,
        event: &Event,
        msg: &Msg,
    ) {
        let card = reply::card(incident);
        let priority = incident.severity.number();
        let number = Some(incident.number);
        if let Some(origin) = origin {
            self.push(
                origin,
                MessageKind::Reply,
                0,
                number,
                msg,
                Form::Card(&card),
            );
        }
        for room in rooms.iter().filter(|r| origin.is_none_or(|o| r.id != o.id)) {
            match room.role {
                RoomRole::WarRoom => self.push(
                    room,
                    MessageKind::Broadcast,
                    priority,
                    number,
                    msg,
                    Form::Card(&card),
                ),
                RoomRole::Announce => {
                    if let Some(public) = reply::announcement(incident, event, self.now) {
                        self.push(
                            room,
                            MessageKind::Broadcast,
                            priority,
                            number,
                            &public,
                            Form::Plain,
                        );
                    }
                }
            }
        }
    }
}

/// Mentions travel as Slack writes them (`<@U0123>`): Slack rooms render them natively, every
/// other room gets `@name`, from the names the Slack adapter remembered.
async fn name_mentions(tx: &mut dyn StoreTx, messages: &mut [Outbound]) -> Result<(), StoreError> {
    let mut names: HashMap<String, String> = HashMap::new();
    for m in messages
        .iter_mut()
        .filter(|m| m.platform != room::Platform::Slack)
    {
        let mut ids: Vec<String> = text::mention_ids(&m.text);
        if let Some(rich) = &m.rich {
            ids.extend(text::mention_ids(&rich.title));
            for field in &rich.fields {
                ids.extend(text::mention_ids(&field.value));
            }
        }
        for id in ids {
            if let Entry::Vacant(slot) = names.entry(id)
                && let Some(name) = tx.person_name(room::Platform::Slack, slot.key()).await?
            {
                slot.insert(name);
            }
        }
        m.text = text::name_mentions(&m.text, &names);
        if let Some(rich) = &mut m.rich {
            rich.title = text::name_mentions(&rich.title, &names);
            for field in &mut rich.fields {
                field.value = text::name_mentions(&field.value, &names);
            }
        }
    }
    Ok(())
}
