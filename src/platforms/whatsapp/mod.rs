//! WhatsApp: runroom in the field team's war room. Meta's Cloud API delivers webhooks to
//! [`webhooks`] (verified by [`signature`], read by [`inbound`]); [`outbound`] sends text, reply
//! buttons and, outside the 24-hour window, pre-approved templates through the Graph API, or
//! plain text through a self-hosted Evolution API gateway ([`evolution`]). A war room is one of
//! three [`RoomKind`]s: a roster of numbers the bot relays between, a Cloud API group, or a
//! classic group behind Evolution. [`phone`] keeps numbers in E.164 and out of the logs.

pub mod delivery;
pub mod evolution;
pub mod inbound;
pub mod inbox;
pub mod outbound;
pub mod phone;
pub mod signature;
pub mod webhooks;
mod wire;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

pub use self::phone::redact_numbers;
pub use self::wire::{WhatsappReach, reach, wire};
use crate::i18n::Lang;
use crate::store::Topic;

/// The Graph API access token, read from the environment only.
pub const TOKEN_ENV: &str = "RUNROOM_WHATSAPP_TOKEN";
/// The Meta app's secret, which signs every webhook delivery (`X-Hub-Signature-256`).
pub const APP_SECRET_ENV: &str = "RUNROOM_WHATSAPP_APP_SECRET";
/// The token Meta echoes when it verifies the webhook URL (you choose it).
pub const VERIFY_TOKEN_ENV: &str = "RUNROOM_WHATSAPP_VERIFY_TOKEN";

/// How a WhatsApp war room reaches its people.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum RoomKind {
    /// Members' numbers talking one-to-one with the business number; runroom relays between
    /// them, so the roster behaves like a group of any size.
    Roster,
    /// A Cloud API group (`recipient_type: group`, at most 8 participants, no buttons).
    Group,
    /// A classic WhatsApp group through a self-hosted Evolution API instance.
    Evolution,
}

impl RoomKind {
    /// Reply buttons are interactive messages, which only one-to-one chats take.
    pub fn allows_buttons(self) -> bool {
        self == RoomKind::Roster
    }
}

/// The pre-approved templates runroom falls back to outside a recipient's 24-hour window, one
/// per kind of message. Each takes two body parameters (`{{1}}` the headline, `{{2}}` the
/// details); `alert` and `page` also have one quick-reply button whose payload runroom sets to
/// acknowledge the incident. Their texts to submit are in the README.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Templates {
    pub alert: String,
    pub update: String,
    pub reminder: String,
    pub page: String,
    /// Each room language's template language code (`pt_BR` with an underscore, as Meta
    /// writes it).
    pub languages: BTreeMap<String, String>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates {
            alert: "runroom_incident_alert".into(),
            update: "runroom_incident_update".into(),
            reminder: "runroom_update_reminder".into(),
            page: "runroom_page".into(),
            languages: BTreeMap::new(),
        }
    }
}

impl Templates {
    /// The template for a message's topic (`None`: `update`).
    pub fn name(&self, topic: Option<Topic>) -> &str {
        match topic.unwrap_or(Topic::Update) {
            Topic::Alert => &self.alert,
            Topic::Reminder => &self.reminder,
            Topic::Page => &self.page,
            Topic::Update => &self.update,
        }
    }

    /// Whether the topic's template has the quick-reply "Ack" button.
    pub fn has_ack_button(topic: Option<Topic>) -> bool {
        matches!(topic, Some(Topic::Alert | Topic::Page))
    }

    /// Meta's language code for a room language.
    pub fn language(&self, lang: Lang) -> String {
        if let Some(code) = self.languages.get(lang.as_str()) {
            return code.clone();
        }
        match lang {
            Lang::En => "en_US",
            Lang::PtBr => "pt_BR",
            Lang::Es => "es",
        }
        .to_string()
    }
}

/// `[whatsapp]` in the config file.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct WhatsappConfig {
    /// The Graph API's base URL (a fake on loopback in tests and staging).
    pub api_url: String,
    /// The Graph API version segment.
    pub api_version: String,
    /// The business number's id, which sends.
    #[serde(deserialize_with = "crate::config::string_or_number")]
    pub phone_number_id: String,
    /// Seconds before a send without an answer counts as failed (and is retried).
    pub timeout_seconds: u64,
    /// Hours after a contact's last message during which free-form messages may be sent.
    pub window_hours: u32,
    /// How long a webhook delivery may wait for the engine before it is answered 200 anyway
    /// (Meta retries slow answers); the work goes on after the answer.
    pub ack_budget_ms: u64,
    pub templates: Templates,
}

impl Default for WhatsappConfig {
    fn default() -> Self {
        WhatsappConfig {
            api_url: "https://graph.facebook.com".into(),
            api_version: "v21.0".into(),
            phone_number_id: String::new(),
            timeout_seconds: 10,
            window_hours: 24,
            ack_budget_ms: 2000,
            templates: Templates::default(),
        }
    }
}

impl WhatsappConfig {
    pub fn window(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.window_hours.max(1)))
    }

    pub fn ack_budget(&self) -> Duration {
        Duration::from_millis(self.ack_budget_ms.clamp(1, 10_000))
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_seconds.max(1))
    }
}

/// The Evolution API key, read from the environment only. Evolution sends it back in every
/// webhook, which is how runroom knows a delivery is genuine.
pub const EVOLUTION_APIKEY_ENV: &str = "RUNROOM_EVOLUTION_APIKEY";

/// `[evolution]` in the config file: a self-hosted Evolution API instance.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EvolutionConfig {
    pub api_url: String,
    /// The instance (the linked phone) that sends and receives.
    pub instance: String,
    pub timeout_seconds: u64,
}

impl Default for EvolutionConfig {
    fn default() -> Self {
        EvolutionConfig {
            api_url: "http://127.0.0.1:8081".into(),
            instance: "runroom".into(),
            timeout_seconds: 10,
        }
    }
}
