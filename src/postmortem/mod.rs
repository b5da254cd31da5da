//! After the incident: the postmortem draft, written from the incident and its whole timeline in
//! a language and a time zone. [`figures`] reads the response figures off the timeline;
//! [`document`] lays the draft out as Markdown (every heading and label from Fluent), with
//! headed, empty sections for what a machine cannot know. People are shown as `@name`, and
//! anything that looks like a phone number in what people typed is hidden. [`report`] gives the
//! figures across the incidents of a period.

pub mod document;
pub mod figures;
pub mod report;

pub use document::{Draft, markdown};
pub use figures::{Figures, figures};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::engine::incident::{Incident, TimelineEntry};
use crate::engine::policy::Policies;
use crate::i18n::{I18n, Lang};
use crate::store::{Store, StoreError};

/// How a draft is given: a Markdown document, or its data as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Md,
    Json,
}

/// The incident and its whole timeline, for a draft; `None` when there is no such incident.
pub async fn load(
    store: &dyn Store,
    number: i64,
) -> Result<Option<(Incident, Vec<TimelineEntry>)>, StoreError> {
    let Some(incident) = store.incident(number).await? else {
        return Ok(None);
    };
    let timeline = store.timeline(number, i64::MAX).await?;
    Ok(Some((incident, timeline)))
}

/// The checklist items of its playbooks nobody ticked, in `lang`.
pub fn unticked(incident: &Incident, policies: &Policies, lang: Lang) -> Vec<String> {
    incident
        .steps
        .iter()
        .filter(|step| step.done_at.is_none())
        .filter_map(|step| {
            let playbook = policies.playbook(&step.playbook)?;
            let text = playbook.first_actions.get(step.item as usize)?;
            Some(text.get(lang).to_string())
        })
        .collect()
}

/// The draft of `incident` in `format`, `lang` and `tz`, written at `now`.
pub fn write(
    (incident, timeline): (&Incident, &[TimelineEntry]),
    policies: &Policies,
    i18n: &I18n,
    (format, lang, tz): (Format, Lang, Tz),
    now: DateTime<Utc>,
) -> String {
    let draft = Draft {
        incident,
        timeline,
        figures: figures(incident, timeline, |s| policies.cadence(s), now),
        unticked: unticked(incident, policies, lang),
        written_at: now,
    };
    match format {
        Format::Md => markdown(&draft, i18n, lang, tz),
        Format::Json => document::json(&draft),
    }
}
