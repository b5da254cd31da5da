//! The pure decisions, one file per command family. Each takes the command and what the engine
//! loaded for it, and returns a [`Decision`]; none of them touches storage or the network.

mod assign;
mod checklist;
mod declare;
mod escalation;
mod lang;
mod lifecycle;
mod oncall;
mod playbook;
mod query;
mod record;

use chrono::{DateTime, Utc};

use super::command::Command;
use super::command::ListFilter;
use super::errors::ActionError;
use super::incident::{Actor, Event, Incident, IncidentLine, TimelineEntry};
use super::policy::Policies;
use super::reach::Reaches;
use crate::i18n::Lang;
use crate::i18n::Msg;
use crate::store::{
    Bounded, Checklist, ChecklistItem, HandoffIncidents, HandoffNote, OncallOverride,
};

/// One page of open incidents as `list` asked for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub filter: ListFilter,
    /// The page's lines, in rank order (most severe, then oldest); empty past the end.
    pub items: Vec<IncidentLine>,
    /// How many open incidents match the filter, on every page.
    pub total: i64,
}

/// What the engine loaded for a decision.
pub struct Context<'a> {
    pub now: DateTime<Utc>,
    pub actor: &'a Actor,
    /// The incident the command is about, when it is about one.
    pub target: Option<&'a Incident>,
    /// The page `list` asked for, with the total that matched.
    pub list: Option<&'a ListPage>,
    /// The target's latest timeline entries (for `show` and `timeline`).
    pub timeline: &'a [TimelineEntry],
    /// How many entries the target's whole timeline has (for `timeline`).
    pub timeline_total: i64,
    /// Roles a team may assign: the built-in ones and those from config.
    pub roles: &'a [String],
    pub policies: &'a Policies,
    /// The platforms' rules (how a page names people).
    pub reaches: &'a Reaches,
    /// On-call overrides that have not ended (for `escalate`, `oncall`, `handoff`).
    pub overrides: &'a [OncallOverride],
    /// The latest checklists (for `check`).
    pub checklists: &'a [Checklist],
    /// The room the command came from (checklists are ticked in the rooms they were posted to).
    pub room: &'a str,
    /// The shift's incidents, bounded (for `handoff preview`).
    pub handoff: &'a HandoffIncidents,
    /// For a handoff preview: the postmortems due by the end of the next shift (the soonest,
    /// and how many).
    pub postmortems: &'a Bounded<Incident>,
    /// Notes not yet handed over, per rotation (for `handoff preview`).
    pub notes: &'a [(String, Vec<HandoffNote>)],
    /// The configured heartbeats and their last pings (for `heartbeats`).
    pub heartbeats: &'a [crate::alerts::heartbeat::Heartbeat],
    pub pings: &'a [(String, DateTime<Utc>)],
    /// The language of the room the command came from (for texts config gives per language).
    pub lang: Lang,
}

/// A write a decision asks for besides an incident change.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Override(OncallOverride),
    HandoffNote { rotation: String, note: HandoffNote },
    TickChecklist { id: i64, items: Vec<ChecklistItem> },
}

/// A state change to commit: the incident as it is to be stored and the events to append.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub incident: Incident,
    pub events: Vec<Event>,
    /// A new incident gets its number when it is stored.
    pub is_new: bool,
}

/// The outcome of a command, before anything is written or rendered.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Decision {
    pub change: Option<Change>,
    /// An answer for the sender's room only (queries, help).
    pub reply: Option<Msg>,
    /// A new language for the sender's room.
    pub set_language: Option<Lang>,
    pub effects: Vec<Effect>,
}

impl Decision {
    fn change(incident: Incident, events: Vec<Event>) -> Decision {
        Decision {
            change: Some(Change {
                incident,
                events,
                is_new: false,
            }),
            ..Decision::default()
        }
    }

    fn reply(msg: Msg) -> Decision {
        Decision {
            reply: Some(msg),
            ..Decision::default()
        }
    }
}

/// The target incident; the engine has already resolved references, so its absence is a bug in
/// the engine's loading, reported as "no open incident" rather than a panic.
fn target<'a>(ctx: &Context<'a>) -> Result<&'a Incident, ActionError> {
    ctx.target.ok_or(ActionError::NoOpenIncident)
}

pub fn decide(command: Command, ctx: &Context<'_>) -> Result<Decision, ActionError> {
    match command {
        Command::Declare {
            title,
            severity,
            impact,
            playbook,
        } => declare::declare(title, severity, impact, playbook, ctx),
        Command::Severity { severity, .. } => lifecycle::severity(severity, ctx),
        Command::Status { status, .. } => lifecycle::status(status, ctx),
        Command::Ack { .. } => lifecycle::ack(ctx),
        Command::Resolve { summary, .. } => lifecycle::resolve(summary, ctx),
        Command::Reopen { reason, .. } => lifecycle::reopen(reason, ctx),
        Command::Assign { role, person, .. } => assign::assign(&role, person, ctx),
        Command::Update { fields, .. } => record::update(fields, ctx),
        Command::Note { text, .. } => record::note(text, ctx),
        Command::FollowUp { text, .. } => record::follow_up(text, ctx),
        Command::List { .. } => query::list(ctx),
        Command::Show { .. } => query::show(ctx),
        Command::Timeline { .. } => query::timeline(ctx),
        Command::Help { verb } => Ok(query::help(verb)),
        Command::Lang { lang } => Ok(lang::set(lang)),
        Command::Snooze { minutes, .. } => escalation::snooze(minutes, ctx),
        Command::Escalate { .. } => escalation::escalate(ctx),
        Command::Check { items, .. } => checklist::check(&items, ctx),
        Command::Oncall => Ok(oncall::show(ctx)),
        Command::OncallOverride {
            rotation,
            person,
            minutes,
        } => oncall::set_override(rotation.as_deref(), &person, minutes, ctx),
        Command::HandoffNote { text } => oncall::note(text, ctx),
        Command::HandoffPreview { rotation } => oncall::preview(rotation.as_deref(), ctx),
        Command::Heartbeats => Ok(query::heartbeats(ctx)),
        Command::Postmortem { .. } => query::postmortem(ctx),
        Command::PostmortemRecord { done, text, .. } => {
            lifecycle::record_postmortem(done, text, ctx)
        }
        Command::PlaybookList => Ok(playbook::list(ctx)),
        Command::PlaybookShow { playbook } => playbook::show(&playbook, ctx),
        Command::PlaybookRun { playbook, .. } => playbook::run(&playbook, ctx),
    }
}
