//! `[access]`: who may do what (`engine::access`). People are named by their `[[people]]` id,
//! rooms by their `[[rooms]]` id; every name must exist, and someone must be able to resolve a
//! SEV1, or the configuration is refused (`runroom config check` says why).

use serde::Deserialize;

use super::{Config, ConfigError, invalid};
use crate::engine::access::{Access, Role, Unlinked};
use crate::engine::policy::Person;
use crate::engine::room::Room;

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// People who may also change severity and status, assign, and resolve or reopen SEV1–SEV2.
    #[serde(default)]
    pub responders: Vec<String>,
    /// People who may also change a room's language and override on-call.
    #[serde(default)]
    pub admins: Vec<String>,
    /// Rooms whose every member counts as a responder (a channel of on-call engineers).
    #[serde(default)]
    pub responder_rooms: Vec<String>,
    /// Rooms whose every member counts as an admin.
    #[serde(default)]
    pub admin_rooms: Vec<String>,
    /// What a chat that is no linked room may do besides asking: `declare`, or only `ask`.
    #[serde(default)]
    pub unlinked: UnlinkedConfig,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnlinkedConfig {
    #[default]
    Declare,
    Ask,
}

impl Config {
    /// The access rules: checked when `[access]` is present; without it everyone in a linked
    /// room may do everything, and an unlinked chat may declare.
    pub fn access(&self, rooms: &[Room], people: &[Person]) -> Result<Access, ConfigError> {
        let Some(config) = &self.access else {
            return Ok(Access::default());
        };
        let mut access = Access {
            enforced: true,
            unlinked: match config.unlinked {
                UnlinkedConfig::Declare => Unlinked::Declare,
                UnlinkedConfig::Ask => Unlinked::Ask,
            },
            ..Access::default()
        };
        for (field, ids, role) in [
            ("access.responders", &config.responders, Role::Responder),
            ("access.admins", &config.admins, Role::Admin),
        ] {
            for id in ids {
                let person = people
                    .iter()
                    .find(|p| &p.id == id)
                    .ok_or_else(|| invalid(field, format!("{id:?} is not a [[people]] id")))?;
                if person.identities.is_empty() {
                    return Err(invalid(
                        field,
                        format!(
                            "{id:?} has no slack, whatsapp or telegram identity to be known by"
                        ),
                    ));
                }
                access.people.push((person.identities.clone(), role));
            }
        }
        for (field, ids, role) in [
            (
                "access.responder_rooms",
                &config.responder_rooms,
                Role::Responder,
            ),
            ("access.admin_rooms", &config.admin_rooms, Role::Admin),
        ] {
            for id in ids {
                if !rooms.iter().any(|r| &r.id == id) {
                    return Err(invalid(field, format!("{id:?} is not a [[rooms]] id")));
                }
                let kept = access.rooms.entry(id.clone()).or_insert(role);
                *kept = (*kept).max(role);
            }
        }
        if access.people.is_empty() && access.rooms.is_empty() {
            return Err(invalid(
                "access",
                "names no responder or admin (people or rooms): nobody could change a severity \
                 or resolve a SEV1",
            ));
        }
        Ok(access)
    }
}
