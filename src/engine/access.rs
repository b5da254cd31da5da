//! Who may do what, from where. A person's role comes from `[access]` (by person, or by the room
//! they write in); what a command needs depends on the command and, for resolving and reopening,
//! on the incident's severity. A chat that is no linked room (a DM, another channel) may only
//! declare and ask, or nothing at all; its declarations are broadcast to the linked rooms and
//! answered privately, never carded or pinned there.

use std::collections::BTreeMap;

use super::command::{Command, Verb};
use super::incident::{Incident, Severity};
use super::reach::Reaches;
use super::room::{Origin, Platform, Room};

/// A role, each one able to do what the ones below it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Anyone in a war room: declare, update, note, ack, ask.
    Member,
    /// Also change severity and status, assign roles, resolve and reopen SEV1–SEV2.
    Responder,
    /// Also change a room's language and override on-call.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Responder => "responder",
            Role::Admin => "admin",
        }
    }
}

/// What a chat that is no linked room may do besides asking (help, list, show, timeline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unlinked {
    /// Declare: the card goes to the linked rooms, the answer to the person alone.
    #[default]
    Declare,
    /// Nothing but ask.
    Ask,
}

/// `[access]` as the engine uses it.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Roles are checked only when `[access]` is configured; without it everyone in a linked
    /// room may do everything, as before roles existed.
    pub enforced: bool,
    /// Each configured person's platform identities and role (only those above member).
    pub people: Vec<(BTreeMap<Platform, String>, Role)>,
    /// Rooms whose every member has at least this role, by room id.
    pub rooms: BTreeMap<String, Role>,
    pub unlinked: Unlinked,
}

/// Who is asking, as access sees them: their role, and whether they write from a linked room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gate {
    pub role: Role,
    pub linked: bool,
}

/// Why a command is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The author's role is below what the command needs.
    Role { verb: Verb, needs: Role },
    /// The chat is no linked room, and the command is not one it may send.
    Unlinked { verb: Verb },
}

impl Access {
    /// The role of a command's author in `room` (`linked`: a configured room, or a person's own
    /// chat where pages reach them).
    pub fn role(&self, origin: &Origin, room: &Room, reaches: &Reaches) -> Role {
        if !self.enforced || origin.room.platform == Platform::Console {
            // The console is the operator's own terminal.
            return Role::Admin;
        }
        let by_room = self.rooms.get(&room.id).copied().unwrap_or(Role::Member);
        let platform = origin.room.platform;
        let by_person = reaches
            .of(platform)
            .and_then(|reach| {
                self.people
                    .iter()
                    .filter(|(ids, _)| {
                        ids.get(&platform)
                            .is_some_and(|id| reach.is_author(id, &origin.author))
                    })
                    .map(|(_, role)| *role)
                    .max()
            })
            .unwrap_or(Role::Member);
        by_room.max(by_person)
    }

    /// Whether `role`, writing from a chat that is (`linked`) or is not a linked room, may run
    /// `cmd` on `target` (the incident it is about, once loaded).
    pub fn check(
        &self,
        cmd: &Command,
        target: Option<&Incident>,
        role: Role,
        linked: bool,
    ) -> Result<(), Refusal> {
        let verb = cmd.verb();
        if !linked {
            let asks = matches!(
                verb,
                Verb::List | Verb::Show | Verb::Timeline | Verb::Help | Verb::Heartbeats
            );
            let declares = verb == Verb::Declare && self.unlinked == Unlinked::Declare;
            if !asks && !declares {
                return Err(Refusal::Unlinked { verb });
            }
        }
        let needs = needs(cmd, target);
        if role < needs {
            return Err(Refusal::Role { verb, needs });
        }
        Ok(())
    }
}

/// The least role a command needs.
pub fn needs(cmd: &Command, target: Option<&Incident>) -> Role {
    let grave = target.is_some_and(|t| t.severity <= Severity::Sev2);
    match cmd {
        Command::Severity { .. } | Command::Status { .. } | Command::Assign { .. } => {
            Role::Responder
        }
        Command::Resolve { .. } | Command::Reopen { .. } if grave => Role::Responder,
        Command::Lang { .. } | Command::OncallOverride { .. } => Role::Admin,
        _ => Role::Member,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::command;

    fn cmd(text: &str) -> Command {
        command::parse(text)
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("{text} parses"))
    }

    fn incident(severity: Severity) -> Incident {
        let actor = crate::engine::incident::Actor {
            name: "Ana".into(),
            room: "r".into(),
        };
        Incident::declare("t".into(), severity, None, &actor, chrono::Utc::now()).0
    }

    #[test]
    fn what_each_command_needs() {
        let sev1 = incident(Severity::Sev1);
        let sev3 = incident(Severity::Sev3);
        for text in [
            "inc declare sev1 x",
            "inc ack",
            "inc update all good",
            "inc note x",
        ] {
            assert_eq!(needs(&cmd(text), Some(&sev1)), Role::Member, "{text}");
        }
        for text in [
            "inc sev 3",
            "inc status monitoring",
            "inc assign commander @ana",
        ] {
            assert_eq!(needs(&cmd(text), Some(&sev3)), Role::Responder, "{text}");
        }
        assert_eq!(needs(&cmd("inc resolve"), Some(&sev1)), Role::Responder);
        assert_eq!(needs(&cmd("inc resolve"), Some(&sev3)), Role::Member);
        assert_eq!(
            needs(&cmd("inc reopen INC-1"), Some(&sev1)),
            Role::Responder
        );
        assert_eq!(needs(&cmd("inc lang pt"), None), Role::Admin);
    }

    #[test]
    fn an_unlinked_chat_may_declare_and_ask_only() {
        let access = Access::default();
        let sev3 = incident(Severity::Sev3);
        assert!(
            access
                .check(&cmd("inc declare sev1 x"), None, Role::Admin, false)
                .is_ok()
        );
        assert!(
            access
                .check(&cmd("inc list"), None, Role::Member, false)
                .is_ok()
        );
        assert_eq!(
            access.check(&cmd("inc ack"), Some(&sev3), Role::Admin, false),
            Err(Refusal::Unlinked { verb: Verb::Ack })
        );
        let closed = Access {
            unlinked: Unlinked::Ask,
            ..Access::default()
        };
        assert!(
            closed
                .check(&cmd("inc declare sev1 x"), None, Role::Admin, false)
                .is_err()
        );
        assert!(
            closed
                .check(&cmd("inc help"), None, Role::Member, false)
                .is_ok()
        );
    }
}
