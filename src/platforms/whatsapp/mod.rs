//! WhatsApp Business Cloud API. Outbound text through the Graph API now; webhooks, groups,
//! rosters, templates and the Evolution gateway arrive with the WhatsApp issue.

pub mod outbound;

use serde::Deserialize;

/// The secret the sender needs, read from the environment only.
pub const TOKEN_ENV: &str = "RUNROOM_WHATSAPP_TOKEN";

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
}

impl Default for WhatsappConfig {
    fn default() -> Self {
        WhatsappConfig {
            api_url: "https://graph.facebook.com".into(),
            api_version: "v21.0".into(),
            phone_number_id: String::new(),
            timeout_seconds: 10,
        }
    }
}

/// Hides anything that looks like a phone number (7 or more digits in a row, with the usual
/// separators) so error texts can be logged and stored.
pub fn redact_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().filter(char::is_ascii_digit).count() >= 7 {
            out.push_str("***");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        let continues =
            c.is_ascii_digit() || (!run.is_empty() && matches!(c, ' ' | '-' | '(' | ')' | '.'));
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) || continues {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn phone_numbers_are_redacted() {
        assert_eq!(
            super::redact_numbers("Recipient +55 11 98765-4321 is not on WhatsApp (code 131026)"),
            "Recipient ***is not on WhatsApp (code 131026)"
        );
        assert_eq!(
            super::redact_numbers("error 130429 at 12:30"),
            "error 130429 at 12:30"
        );
    }
}
