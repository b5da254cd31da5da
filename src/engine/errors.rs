//! What went wrong, for the person who typed the command: every parse and action error as a
//! localized message that says what was wrong and what would be right.

use super::access::{Refusal, Role};
use super::command::{Field, ParseError, Verb};
use super::incident::{Severity, TransitionError};
use super::reply::{self, incident_id};
use crate::i18n::Msg;

/// A command that parsed but cannot be applied to the incidents as they stand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("no open incident")]
    NoOpenIncident,
    /// Several are open: `shown` are the first few in rank order, `total` how many are open.
    #[error("{total} incidents are open")]
    AmbiguousIncident {
        verb: Verb,
        shown: Vec<i64>,
        total: i64,
    },
    #[error("page {page} of {pages}")]
    NoSuchPage { page: u32, pages: i64, total: i64 },
    #[error("no incident INC-{0}")]
    UnknownIncident(i64),
    #[error("{0:?} needs an incident reference")]
    WhichIncident(Verb),
    #[error("unknown role {got:?}")]
    UnknownRole { got: String, allowed: Vec<String> },
    #[error("INC-{number} has no escalation policy at its severity")]
    NoEscalationPolicy { number: i64, severity: Severity },
    #[error("INC-{number} has paged all {of} escalation steps")]
    NoEscalationStep { number: i64, of: u32 },
    #[error("no checklist was posted to this room")]
    NoChecklist,
    #[error("the checklist has {count} items, not {item}")]
    NoChecklistItem { item: u32, count: u32 },
    #[error("no on-call rotation is configured")]
    NoRotation,
    #[error("unknown rotation {got:?}")]
    UnknownRotation { got: String, known: Vec<String> },
    #[error("several rotations: name one")]
    WhichRotation { known: Vec<String> },
    #[error("unknown playbook {got:?}")]
    UnknownPlaybook { got: String, known: Vec<String> },
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("refused: {0:?}")]
    Refused(super::access::Refusal),
}

/// A role's name, as the refusal says it.
pub fn role(role: Role) -> Msg {
    Msg::new(match role {
        Role::Member => "access-member",
        Role::Responder => "access-responder",
        Role::Admin => "access-admin",
    })
}

fn field(f: Field) -> Msg {
    match f {
        Field::Message => Msg::new("field-message"),
        Field::Title => Msg::new("field-title"),
        Field::Text => Msg::new("field-text"),
    }
}

pub fn parse_error(error: &ParseError) -> Msg {
    match error {
        ParseError::NoVerb => Msg::new("error-no-verb"),
        ParseError::UnknownVerb {
            got,
            suggestion: Some(s),
        } => Msg::new("error-unknown-verb-suggest")
            .text("got", got.clone())
            .text("suggestion", *s),
        ParseError::UnknownVerb {
            got,
            suggestion: None,
        } => Msg::new("error-unknown-verb").text("got", got.clone()),
        ParseError::UnterminatedQuote => Msg::new("error-unterminated-quote"),
        ParseError::ControlCharacter => Msg::new("error-control-character"),
        ParseError::TooLong { field: f, max, got } => Msg::new("error-too-long")
            .msg("field", field(*f))
            .number("got", *got as i64)
            .number("max", *max as i64),
        ParseError::MissingTitle => Msg::new("error-missing-title"),
        ParseError::BadSeverity { got } => Msg::new("error-bad-severity").text("got", got.clone()),
        ParseError::MissingSeverity => Msg::new("error-missing-severity"),
        ParseError::BadStatus { got } => Msg::new("error-bad-status").text("got", got.clone()),
        ParseError::MissingStatus => Msg::new("error-missing-status"),
        ParseError::MissingRole => Msg::new("error-missing-role"),
        ParseError::MissingPerson => Msg::new("error-missing-person"),
        ParseError::MissingText { verb } => Msg::new("error-missing-text")
            .text("verb", verb.name())
            .msg("usage", reply::usage(*verb)),
        ParseError::UnknownOption { verb, key } => Msg::new("error-unknown-option")
            .text("verb", verb.name())
            .text("key", key.chars().take(40).collect::<String>())
            .msg("usage", reply::usage(*verb)),
        ParseError::UnexpectedArgument { verb, got } => Msg::new("error-unexpected-argument")
            .text("verb", verb.name())
            .text("got", got.clone())
            .msg("usage", reply::usage(*verb)),
        ParseError::BadDuration { got } => Msg::new("error-bad-duration").text("got", got.clone()),
        ParseError::BadLanguage { got } => Msg::new("error-bad-language").text("got", got.clone()),
        ParseError::MissingLanguage => Msg::new("error-missing-language"),
        ParseError::MissingDuration { verb } => Msg::new("error-missing-duration")
            .text("verb", verb.name())
            .msg("usage", reply::usage(*verb)),
        ParseError::MissingPlaybook => {
            Msg::new("error-missing-playbook").msg("usage", reply::usage(Verb::Playbook))
        }
        ParseError::BadItem { got } => Msg::new("error-bad-item").text("got", got.clone()),
        ParseError::UnknownSubcommand { verb, got } => Msg::new("error-unknown-subcommand")
            .text("verb", verb.name())
            .text("got", got.clone())
            .msg("usage", reply::usage(*verb)),
        ParseError::BadListFilter { got } => Msg::new("error-bad-list-filter")
            .text("got", got.clone())
            .msg("usage", reply::usage(Verb::List)),
        ParseError::BadPage { got } if got.is_empty() => Msg::new("error-missing-page"),
        ParseError::BadPage { got } => Msg::new("error-bad-page").text("got", got.clone()),
    }
}

pub fn action_error(error: &ActionError) -> Msg {
    match error {
        ActionError::NoOpenIncident => Msg::new("error-no-open-incident"),
        ActionError::Refused(Refusal::Role { verb, needs }) => Msg::new("error-forbidden")
            .text("verb", verb.name())
            .msg("role", role(*needs)),
        ActionError::Refused(Refusal::Unlinked { verb }) => {
            Msg::new("error-unlinked-room").text("verb", verb.name())
        }
        ActionError::AmbiguousIncident { verb, shown, total } => {
            let ids = shown
                .iter()
                .map(|n| incident_id(*n))
                .collect::<Vec<_>>()
                .join(", ");
            let more = (*total - shown.len() as i64).max(0);
            Msg::new("error-ambiguous-incident")
                .number("count", *total)
                .msg(
                    "ids",
                    Msg::new("ids-and-more")
                        .text("ids", ids)
                        .number("more", more),
                )
                .text("verb", verb.name())
                .text("example", incident_id(shown.first().copied().unwrap_or(1)))
        }
        ActionError::NoSuchPage { page, pages, total } => Msg::new("error-no-such-page")
            .number("page", i64::from(*page))
            .number("pages", *pages)
            .number("count", *total),
        ActionError::UnknownIncident(n) => {
            Msg::new("error-unknown-incident").text("id", incident_id(*n))
        }
        ActionError::WhichIncident(verb) => Msg::new("error-which-incident")
            .text("verb", verb.name())
            .msg("usage", reply::usage(*verb)),
        ActionError::UnknownRole { got, allowed } => Msg::new("error-unknown-role")
            .text("got", got.clone())
            .text("roles", allowed.join(", ")),
        ActionError::NoEscalationPolicy { number, severity } => {
            Msg::new("error-no-escalation-policy")
                .text("id", incident_id(*number))
                .msg("severity", reply::severity(*severity))
        }
        ActionError::NoEscalationStep { number, of } => Msg::new("error-no-escalation-step")
            .text("id", incident_id(*number))
            .number("of", i64::from(*of)),
        ActionError::NoChecklist => Msg::new("error-no-checklist"),
        ActionError::NoChecklistItem { item, count } => Msg::new("error-no-checklist-item")
            .number("item", i64::from(*item))
            .number("count", i64::from(*count)),
        ActionError::NoRotation => Msg::new("oncall-none"),
        ActionError::UnknownRotation { got, known } => Msg::new("error-unknown-rotation")
            .text("got", got.clone())
            .text("rotations", known.join(", ")),
        ActionError::WhichRotation { known } => {
            Msg::new("error-which-rotation").text("rotations", known.join(", "))
        }
        ActionError::UnknownPlaybook { got, known } if known.is_empty() => {
            Msg::new("error-no-playbooks").text("got", got.clone())
        }
        ActionError::UnknownPlaybook { got, known } => Msg::new("error-unknown-playbook")
            .text("got", got.clone())
            .text("known", known.join(", ")),
        ActionError::Transition(t) => transition_error(t),
    }
}

fn transition_error(error: &TransitionError) -> Msg {
    match error {
        TransitionError::AlreadyResolved(n) => {
            Msg::new("error-already-resolved").text("id", incident_id(*n))
        }
        TransitionError::NotResolved(n) => {
            Msg::new("error-not-resolved").text("id", incident_id(*n))
        }
        TransitionError::SameSeverity { number, severity } => Msg::new("error-same-severity")
            .text("id", incident_id(*number))
            .msg("severity", reply::severity(*severity)),
        TransitionError::SameStatus { number, status } => Msg::new("error-same-status")
            .text("id", incident_id(*number))
            .msg("status", reply::status(*status)),
        TransitionError::AlreadyAcknowledged { number, by } => Msg::new("error-already-acked")
            .text("id", incident_id(*number))
            .text("actor", by.clone()),
        TransitionError::SameRoleHolder {
            number,
            role,
            person,
        } => Msg::new("error-same-role-holder")
            .text("id", incident_id(*number))
            .msg("role", reply::role(role))
            .text("person", person.clone()),
        TransitionError::PlaybookRunning { number, playbook } => Msg::new("error-playbook-running")
            .text("id", incident_id(*number))
            .text("playbook", playbook.clone()),
        TransitionError::NoSteps(n) => Msg::new("error-no-steps").text("id", incident_id(*n)),
        TransitionError::NoStep {
            number,
            item,
            count,
        } => Msg::new("error-no-step")
            .text("id", incident_id(*number))
            .number("item", i64::from(*item))
            .number("count", i64::from(*count)),
    }
}

/// When storage fails: nothing was changed, try again.
pub fn internal() -> Msg {
    Msg::new("error-internal")
}
