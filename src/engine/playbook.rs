//! Playbooks as code: what to do for a kind of incident, in the team's own words and in each
//! room's language — a checklist of first actions (ticked with `inc check`, counted on the
//! card), the escalation policy and update cadence to follow, roles to fill, customer messages
//! for announce rooms on declare, update and resolve, and links. Attached when an incident is
//! declared with `playbook=`, when an alert route or a playbook's matchers start it, or by hand
//! (`inc playbook run`); a second playbook layers its steps after the first's.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::incident::Severity;
use super::policy::Target;
use crate::alerts::routes::Matcher;
use crate::i18n::Lang;

/// A text in the team's own words, per language.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Texts(pub BTreeMap<Lang, String>);

impl Texts {
    /// The text for `lang`, else English, else any.
    pub fn get(&self, lang: Lang) -> &str {
        self.0
            .get(&lang)
            .or_else(|| self.0.get(&Lang::En))
            .or_else(|| self.0.values().next())
            .map(String::as_str)
            .unwrap_or("")
    }
}

/// When a customer message is posted to the announce rooms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moment {
    Declared,
    Update,
    Resolved,
}

/// A playbook, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    pub id: String,
    pub title: Texts,
    /// The severity an incident declared with it gets when the command names none.
    pub severity: Option<Severity>,
    /// Alert labels that start it when an alert opens an incident.
    pub matchers: Vec<Matcher>,
    pub first_actions: Vec<Texts>,
    /// A named escalation policy, instead of the severity's.
    pub escalation: Option<String>,
    /// Roles filled when it starts: role → who (a person, or `oncall[:rotation[:role]]`).
    pub roles: BTreeMap<String, Target>,
    /// Minutes between updates, instead of the severity's cadence.
    pub update_every: Option<i64>,
    pub customer: BTreeMap<Moment, Texts>,
    pub links: Vec<String>,
}

impl Playbook {
    /// Whether its matchers start it for an alert with these labels (none: only by hand).
    pub fn starts_for(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.matchers.is_empty() && self.matchers.iter().all(|m| m.matches(labels))
    }
}

/// One item of an incident's checklist: which playbook's which first action, and who did it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub playbook: String,
    /// Its index in the playbook's `first_actions`.
    pub item: u32,
    #[serde(default)]
    pub done_by: Option<String>,
    #[serde(default)]
    pub done_at: Option<DateTime<Utc>>,
}

/// How many of `steps` are done, of how many.
pub fn progress(steps: &[Step]) -> (usize, usize) {
    (
        steps.iter().filter(|s| s.done_by.is_some()).count(),
        steps.len(),
    )
}

/// Who fills each role a playbook names, now: (role, mention) for those someone holds.
pub fn holders(
    playbook: &Playbook,
    policies: &super::policy::Policies,
    reaches: &super::reach::Reaches,
    overrides: &[crate::store::OncallOverride],
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    playbook
        .roles
        .iter()
        .filter_map(|(role, target)| {
            let people = super::oncall::targets(
                policies,
                reaches,
                overrides,
                std::slice::from_ref(target),
                now,
            );
            people
                .into_iter()
                .next()
                .map(|(_, mention)| (role.clone(), mention))
        })
        .collect()
}

/// The playbook an alert starts: its route's, else the first whose matchers fit its labels.
pub fn for_alert<'p>(
    policies: &'p super::policy::Policies,
    route: Option<&str>,
    labels: &BTreeMap<String, String>,
) -> Option<&'p Playbook> {
    match route {
        Some(id) => policies.playbook(id),
        None => policies.playbooks.iter().find(|p| p.starts_for(labels)),
    }
}
