//! Meta's webhook payload, read into plain events: messages (text, reply-button taps, template
//! quick-reply taps) and statuses of the messages runroom sent. Numbers come out in E.164;
//! anything runroom does not act on (media, reactions, other fields) is skipped, not refused,
//! so one odd entry never makes Meta redeliver the whole batch.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::phone;
use crate::engine::command::button_command;
pub use crate::engine::room::Input;
use crate::store::{DeliveryReport, DeliveryStatus};

/// One thing a delivery told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Message(Message),
    /// What became of a message runroom sent.
    Status(DeliveryReport),
}

/// A message someone sent to the business number (or in a group it is in).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The `wamid`: a redelivery carries the same one.
    pub wamid: String,
    /// The sender in E.164.
    pub from: String,
    /// Their WhatsApp profile name, when the payload has one.
    pub name: Option<String>,
    pub at: DateTime<Utc>,
    /// What they wrote, or the command a button they tapped stands for.
    pub input: Input,
    /// The Cloud API group it was written in.
    pub group_id: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    #[serde(default)]
    field: String,
    value: Option<Value>,
}

/// Each item is read on its own, so one odd message or status never costs the others.
#[derive(Deserialize, Default)]
struct Value {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<serde_json::Value>,
    #[serde(default)]
    messages: Vec<serde_json::Value>,
    #[serde(default)]
    statuses: Vec<serde_json::Value>,
}

/// The business number a change was delivered for.
#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    phone_number_id: String,
}

/// The items of a list that read as `T`; the others are skipped.
fn each<T: serde::de::DeserializeOwned>(items: Vec<serde_json::Value>) -> Vec<T> {
    items
        .into_iter()
        .filter_map(|item| serde_json::from_value(item).ok())
        .collect()
}

#[derive(Deserialize)]
struct Contact {
    #[serde(default)]
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct RawMessage {
    id: String,
    from: String,
    #[serde(default)]
    timestamp: String,
    #[serde(rename = "type", default)]
    kind: String,
    text: Option<TextBody>,
    interactive: Option<Interactive>,
    button: Option<TemplateButton>,
    group_id: Option<String>,
}

#[derive(Deserialize)]
struct TextBody {
    body: String,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<ButtonReply>,
}

#[derive(Deserialize)]
struct ButtonReply {
    id: String,
}

#[derive(Deserialize)]
struct TemplateButton {
    #[serde(default)]
    payload: String,
}

#[derive(Deserialize)]
struct RawStatus {
    id: String,
    /// A status runroom does not track makes the item odd, so it is skipped.
    status: DeliveryStatus,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    errors: Vec<RawError>,
    /// What runroom sent with the message (its outbox id), echoed by Meta.
    #[serde(default)]
    biz_opaque_callback_data: Option<String>,
}

#[derive(Deserialize)]
struct RawError {
    code: i64,
    #[serde(default)]
    title: String,
    #[serde(default)]
    message: String,
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    #[serde(default)]
    details: String,
}

/// Why a delivery could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not a WhatsApp webhook payload: {0}")]
    Json(#[from] serde_json::Error),
}

/// Meta's unix-seconds string, kept within what is possible at `received`
/// ([`crate::platforms::stamp`]); `received` when it is missing or odd.
fn time(raw: &str, received: DateTime<Utc>) -> DateTime<Utc> {
    let stamped = raw
        .parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0));
    crate::platforms::stamp::clamp(stamped, received)
}

/// Every message and status in a delivery, in order, for runroom's business number `ours`
/// (another number's changes are skipped; empty `ours`: every change). `now` stands in for a
/// missing timestamp.
pub fn parse(body: &[u8], now: DateTime<Utc>, ours: &str) -> Result<Vec<Event>, PayloadError> {
    let envelope: Envelope = serde_json::from_slice(body)?;
    let mut events = Vec::new();
    if envelope.object != "whatsapp_business_account" {
        return Ok(events);
    }
    for change in envelope.entry.into_iter().flat_map(|e| e.changes) {
        if change.field != "messages" {
            continue;
        }
        let value = change.value.unwrap_or_default();
        let number = value.metadata.as_ref().map(|m| m.phone_number_id.as_str());
        if !ours.is_empty() && number.is_some_and(|n| n != ours) {
            tracing::warn!("a WhatsApp delivery for another business number; ignored");
            metrics::counter!("runroom_inbound_ignored_total", "platform" => "whatsapp")
                .increment(1);
            continue;
        }
        let contacts: Vec<Contact> = each(value.contacts);
        for m in each::<RawMessage>(value.messages) {
            let Some(from) = phone::normalize(&m.from) else {
                continue;
            };
            let input = match m.kind.as_str() {
                "text" => m.text.map(|t| Input::Text(t.body)),
                "interactive" => m
                    .interactive
                    .and_then(|i| i.button_reply)
                    .and_then(|b| button_command(&b.id))
                    .map(Input::Command),
                "button" => m
                    .button
                    .and_then(|b| button_command(&b.payload))
                    .map(Input::Command),
                _ => None,
            };
            let Some(input) = input else {
                continue;
            };
            let name = contacts
                .iter()
                .find(|c| phone::normalize(&c.wa_id).is_some_and(|n| n == from))
                .and_then(|c| c.profile.as_ref())
                .map(|p| p.name.trim().to_string())
                .filter(|n| !n.is_empty());
            events.push(Event::Message(Message {
                wamid: m.id,
                from,
                name,
                at: time(&m.timestamp, now),
                input,
                group_id: m.group_id.filter(|g| !g.is_empty()),
            }));
        }
        for s in each::<RawStatus>(value.statuses) {
            let first = s.errors.first();
            events.push(Event::Status(DeliveryReport {
                outbox_id: s
                    .biz_opaque_callback_data
                    .as_deref()
                    .and_then(super::outbound::callback_outbox_id),
                platform_message_id: s.id,
                status: s.status,
                at: time(&s.timestamp, now),
                error_code: first.map(|e| e.code),
                error: first.map(|e| {
                    let details = e
                        .error_data
                        .as_ref()
                        .map(|d| d.details.as_str())
                        .filter(|d| !d.is_empty())
                        .unwrap_or(e.message.as_str());
                    phone::redact_numbers(&format!("{} {}: {}", e.code, e.title, details))
                }),
            }));
        }
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::command::parse as parse_command;

    /// When the deliveries below were received: after every message in them.
    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_772_001_000, 0).unwrap()
    }

    #[test]
    fn a_delivery_for_another_business_number_is_skipped() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"999"},"messages":[{"from":"5511987654321","id":"wamid.X","timestamp":"1772000100","type":"text","text":{"body":"inc declare sev1 not ours"}}]}}]}]}"#;
        assert!(
            parse(body, now(), "123").unwrap().is_empty(),
            "another number's"
        );
        assert_eq!(parse(body, now(), "999").unwrap().len(), 1, "ours");
        assert_eq!(parse(body, now(), "").unwrap().len(), 1, "not checked");
    }

    #[test]
    fn a_stamp_in_the_future_or_long_past_is_the_receipt_or_a_week_before() {
        let at = |stamp: i64| {
            let body = format!(
                r#"{{"object":"whatsapp_business_account","entry":[{{"id":"1","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"15550783881","phone_number_id":"123"}},"messages":[{{"from":"5511987654321","id":"wamid.T","timestamp":"{stamp}","type":"text","text":{{"body":"inc ack"}}}}]}}}}]}}]}}"#
            );
            match parse(body.as_bytes(), now(), "").unwrap().pop() {
                Some(Event::Message(m)) => m.at,
                other => panic!("a message: {other:?}"),
            }
        };
        let received = now();
        assert_eq!(
            at(received.timestamp() - 60),
            received - chrono::Duration::minutes(1)
        );
        assert_eq!(
            at(received.timestamp() + 10 * 365 * 86_400),
            received,
            "10 years ahead"
        );
        assert_eq!(
            at(1),
            received - crate::platforms::stamp::OLDEST,
            "1970: as old as a redelivery can be"
        );
    }

    #[test]
    fn reads_text_buttons_and_statuses() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"102290129340398","changes":[{"field":"messages","value":{
            "messaging_product":"whatsapp","metadata":{"display_phone_number":"15550783881","phone_number_id":"106540352242922"},
            "contacts":[{"profile":{"name":"Ana"},"wa_id":"5511987654321"}],
            "messages":[
              {"from":"5511987654321","id":"wamid.A","timestamp":"1772000100","type":"text","text":{"body":"incidente declarar sev1 pix fora"}},
              {"context":{"from":"15550783881","id":"wamid.card"},"from":"5511987654321","id":"wamid.B","timestamp":"1772000200","type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"ack:7","title":"Reconhecer"}}},
              {"from":"5511987654321","id":"wamid.C","timestamp":"1772000300","type":"button","button":{"payload":"resolve:7","text":"Resolver"}},
              {"from":"5511987654321","id":"wamid.D","timestamp":"1772000400","type":"image","image":{"id":"1"}}
            ],
            "statuses":[{"id":"wamid.out","status":"failed","timestamp":"1772000500","recipient_id":"5511987654321",
              "errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}]}]
        }}]}]}"#;
        let events = parse(body, now(), "").unwrap();
        assert_eq!(events.len(), 4, "{events:?}");
        let Event::Message(first) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(first.from, "+5511987654321");
        assert_eq!(first.name.as_deref(), Some("Ana"));
        assert_eq!(
            first.input,
            Input::Text("incidente declarar sev1 pix fora".into())
        );
        assert_eq!(first.at.timestamp(), 1_772_000_100);
        let typed = |text: &str| Input::Command(parse_command(text).unwrap().unwrap());
        let Event::Message(tap) = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!(tap.input, typed("/inc ack INC-7"));
        let Event::Message(quick) = &events[2] else {
            panic!("{events:?}")
        };
        assert_eq!(quick.input, typed("/inc resolve INC-7"));
        let Event::Status(status) = &events[3] else {
            panic!("{events:?}")
        };
        assert_eq!(status.status, DeliveryStatus::Failed);
        assert_eq!(status.error_code, Some(131047));
        assert!(
            status
                .error
                .as_deref()
                .unwrap()
                .starts_with("131047 Re-engagement")
        );
    }

    #[test]
    fn an_odd_item_costs_only_itself() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{
            "messages":[
              {"from":5511987654321,"id":"wamid.numeric-from","type":"text","text":{"body":"inc ack"}},
              {"from":"5511987654321","id":"wamid.ok","timestamp":"1772000100","type":"text","text":{"body":"inc ack"}}
            ],
            "statuses":[{"status":"read"},{"id":"wamid.out","status":"read","timestamp":"1772000500"}]
        }}]}]}"#;
        let events = parse(body, now(), "").unwrap();
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(&events[0], Event::Message(m) if m.wamid == "wamid.ok"));
        assert!(matches!(&events[1], Event::Status(s) if s.platform_message_id == "wamid.out"));
    }

    #[test]
    fn other_objects_and_fields_are_skipped() {
        let body = br#"{"object":"page","entry":[]}"#;
        assert!(parse(body, now(), "").unwrap().is_empty());
        let body = br#"{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"account_update","value":{}}]}]}"#;
        assert!(parse(body, now(), "").unwrap().is_empty());
        assert!(parse(b"not json", now(), "").is_err());
    }
}
