//! Sending to WhatsApp. Cloud API rooms (rosters, groups, direct chats) go through
//! `POST {api}/{version}/{phone_number_id}/messages`: free-form text, or reply buttons where the
//! room takes them, while the recipient's 24-hour window is open; the topic's pre-approved
//! template outside it, or as soon as Meta answers 131047. Evolution rooms go through the
//! gateway ([`super::evolution`]). Meta's error codes are sorted into "retry" and "never".

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::evolution::EvolutionClient;
use super::phone::{self, redact_numbers};
use super::{RoomKind, Templates, WhatsappConfig};
use crate::engine::room::Platform;
use crate::engine::{Engine, reply};
use crate::outbox::{Delivered, PauseScope, Rich, SendError, Sender};
use crate::store::{MessageKind, OutboxRow};

/// The longest text body the Cloud API accepts.
pub const MAX_BODY_CHARS: usize = 4096;
/// The longest body of a message with reply buttons.
const MAX_INTERACTIVE_BODY_CHARS: usize = 1024;
/// Reply buttons: at most three, titles of at most 20 characters.
const MAX_BUTTONS: usize = 3;
const MAX_BUTTON_TITLE_CHARS: usize = 20;
/// Template parameters, kept well inside the 1024 characters of a rendered template body.
const MAX_HEADLINE_CHARS: usize = 200;
const MAX_DETAILS_CHARS: usize = 700;
/// Meta's "more than 24 hours since the customer last replied".
pub const WINDOW_CLOSED: i64 = 131047;
/// The card buttons a WhatsApp message offers (escalating needs words: typed, not tapped).
const BUTTON_VERBS: [&str; 3] = ["ack", "update", "resolve"];

/// The Cloud API side: endpoint and token.
/// The Cloud API's messages endpoint for the business number, with its token.
pub struct Graph {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Graph {
    pub fn new(config: &WhatsappConfig, token: String) -> Result<Graph, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout())
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()?;
        let url = format!(
            "{}/{}/{}/messages",
            config.api_url.trim_end_matches('/'),
            config.api_version,
            config.phone_number_id
        );
        Ok(Graph { http, url, token })
    }
}

pub struct WhatsappSender {
    graph: Option<Graph>,
    evolution: Option<EvolutionClient>,
    templates: Templates,
    window: chrono::Duration,
    /// Each configured WhatsApp room's kind; rows of other rooms are direct chats.
    rooms: HashMap<String, RoomKind>,
    /// Windows are read from its store on its clock; a refused message is queued again as a
    /// template through its unit of work.
    engine: Arc<Engine>,
}

impl WhatsappSender {
    /// A sender for `rooms` (room id → kind); give it the Cloud API token and/or an Evolution
    /// client for the rooms that need them.
    pub fn new(
        config: &WhatsappConfig,
        rooms: HashMap<String, RoomKind>,
        engine: Arc<Engine>,
    ) -> WhatsappSender {
        WhatsappSender {
            graph: None,
            evolution: None,
            templates: config.templates.clone(),
            window: config.window(),
            rooms,
            engine,
        }
    }

    /// Sends Cloud API rooms' messages through this endpoint.
    pub fn with(mut self, graph: Graph) -> WhatsappSender {
        self.graph = Some(graph);
        self
    }

    /// Sends Evolution rooms' messages through this gateway.
    pub fn with_evolution(mut self, client: EvolutionClient) -> WhatsappSender {
        self.evolution = Some(client);
        self
    }
}

#[derive(Deserialize)]
struct Accepted {
    messages: Vec<AcceptedMessage>,
}

#[derive(Deserialize)]
struct AcceptedMessage {
    id: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    code: i64,
    #[serde(default)]
    message: String,
}

/// Meta's codes worth retrying: throughput (130429), pair rate limit (131056), temporary and
/// unknown errors (1, 2), application rate limits (4, 80007). Everything else (131026
/// undeliverable, 131047 window closed, 131048 spam limit, 131049 ecosystem limit, 132000 and
/// 132001 template parameters and name, …) fails the same way every time.
fn is_retryable(code: i64) -> bool {
    matches!(code, 1 | 2 | 4 | 80007 | 130429 | 131056)
}

/// The codes Meta documents as final: undeliverable, window closed (the template goes
/// instead), spam and ecosystem limits, template parameters and name.
/// Too many messages to one recipient: the pause applies to that chat alone.
const PAIR_RATE_LIMIT: i64 = 131056;

const NEVER_RETRY: [i64; 6] = [131026, WINDOW_CLOSED, 131048, 131049, 132000, 132001];

fn retry_after(response: &reqwest::Response) -> Option<std::time::Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(std::time::Duration::from_secs)
}

/// A refused send: Meta's code when it gave one, and what the worker should do.
struct Refused {
    code: Option<i64>,
    error: SendError,
}

fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// A template parameter: one line (Meta refuses new lines, tabs and runs of more than four
/// spaces), never empty, within `max` characters. Cut short, it ends with `pointer` (where the
/// whole text is) when there is one.
fn parameter(text: &str, max: usize, pointer: Option<&str>) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.is_empty() {
        return "—".to_string();
    }
    match pointer {
        Some(pointer) if flat.chars().count() > max => {
            let pointer = parameter(pointer, max, None);
            let room = max.saturating_sub(pointer.chars().count() + 1);
            let cut: String = flat.chars().take(room).collect();
            format!("{} {pointer}", cut.trim_end())
        }
        _ => truncate(&flat, max),
    }
}

/// `{{1}}` and `{{2}}` of a template: the headline (the card's title, or the first line) and
/// the rest of the message on one line; cut short, the rest ends with `pointer`.
fn template_parameters(text: &str, rich: Option<&Rich>, pointer: Option<&str>) -> (String, String) {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let headline = match rich {
        Some(rich) if !rich.title.is_empty() => rich.title.clone(),
        _ => lines.next().unwrap_or_default().to_string(),
    };
    let details = lines.collect::<Vec<_>>().join(" · ");
    (
        parameter(&headline, MAX_HEADLINE_CHARS, None),
        parameter(&details, MAX_DETAILS_CHARS, pointer),
    )
}

/// The card's buttons WhatsApp can show, as reply buttons.
fn reply_buttons(rich: Option<&Rich>) -> Vec<Value> {
    rich.map(|r| r.buttons.as_slice())
        .unwrap_or_default()
        .iter()
        .filter(|b| {
            b.id.split_once(':')
                .is_some_and(|(verb, _)| BUTTON_VERBS.contains(&verb))
        })
        .take(MAX_BUTTONS)
        .map(|b| {
            json!({
                "type": "reply",
                "reply": { "id": b.id, "title": truncate(&b.label, MAX_BUTTON_TITLE_CHARS) },
            })
        })
        .collect()
}

impl WhatsappSender {
    /// A configured room's kind. A room runroom was not configured for (a group the business
    /// number or the linked phone was added to) is told by its chat id: a JID is an Evolution
    /// chat, a number a direct chat (`None`), anything else a Cloud API group.
    fn kind_of(&self, room_id: &str, chat: &str) -> Option<RoomKind> {
        if let Some(kind) = self.rooms.get(room_id) {
            return Some(*kind);
        }
        if chat.contains('@') {
            Some(RoomKind::Evolution)
        } else if chat.starts_with('+') {
            None
        } else {
            Some(RoomKind::Group)
        }
    }

    /// The free-form message: reply buttons when the room takes them and the text fits,
    /// plain text otherwise.
    fn free_form(&self, row: &OutboxRow, kind: Option<RoomKind>) -> Value {
        let m = &row.message;
        let buttons = if kind.is_none_or(RoomKind::allows_buttons) {
            reply_buttons(m.rich.as_ref())
        } else {
            Vec::new()
        };
        if !buttons.is_empty() && m.text.chars().count() <= MAX_INTERACTIVE_BODY_CHARS {
            json!({
                "type": "interactive",
                "interactive": {
                    "type": "button",
                    "body": { "text": m.text },
                    "action": { "buttons": buttons },
                },
            })
        } else {
            json!({
                "type": "text",
                "text": { "preview_url": false, "body": truncate(&m.text, MAX_BODY_CHARS) },
            })
        }
    }

    /// The topic's pre-approved template in the row's language.
    fn template(&self, row: &OutboxRow) -> Value {
        let m = &row.message;
        let topic = m.topic;
        // Where to read a message whose details do not fit (`… (full text: inc show 7)`).
        let pointer = m.incident.map(|incident| {
            self.engine
                .i18n()
                .render(m.language, chrono_tz::UTC, &reply::trimmed(incident))
        });
        let (headline, details) = template_parameters(&m.text, m.rich.as_ref(), pointer.as_deref());
        let mut components = vec![json!({
            "type": "body",
            "parameters": [
                { "type": "text", "text": headline },
                { "type": "text", "text": details },
            ],
        })];
        if let (true, Some(incident)) = (Templates::has_ack_button(topic), m.incident) {
            components.push(json!({
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{ "type": "payload", "payload": format!("ack:{incident}") }],
            }));
        }
        json!({
            "type": "template",
            "template": {
                "name": self.templates.name(topic),
                "language": { "code": self.templates.language(m.language) },
                "components": components,
            },
        })
    }

    async fn post(
        &self,
        graph: &Graph,
        to: &str,
        group: bool,
        mut content: Value,
    ) -> Result<String, Refused> {
        content["messaging_product"] = json!("whatsapp");
        content["recipient_type"] = json!(if group { "group" } else { "individual" });
        content["to"] = json!(to);
        let transport = |e: String| Refused {
            code: None,
            error: SendError::retryable(e),
        };
        let response = graph
            .http
            .post(&graph.url)
            .bearer_auth(&graph.token)
            .json(&content)
            .send()
            .await
            // reqwest's error text names the URL, never the body or the token.
            .map_err(|e| transport(format!("whatsapp request failed: {e}")))?;
        let status = response.status();
        let after = retry_after(&response);
        let text = response
            .text()
            .await
            .map_err(|e| transport(format!("whatsapp response unreadable: {e}")))?;
        if status.is_success() {
            let accepted: Accepted = serde_json::from_str(&text).map_err(|e| {
                transport(format!(
                    "whatsapp answered 200 with an unexpected body: {e}"
                ))
            })?;
            return accepted
                .messages
                .into_iter()
                .next()
                .map(|m| m.id)
                .ok_or_else(|| transport("whatsapp answered 200 without a message id".into()));
        }
        let error = serde_json::from_str::<ErrorEnvelope>(&text)
            .ok()
            .map(|e| e.error);
        let reason = match &error {
            Some(e) => format!(
                "whatsapp error {} (HTTP {}): {}",
                e.code,
                status.as_u16(),
                redact_numbers(&e.message)
            ),
            None => format!("whatsapp HTTP {}", status.as_u16()),
        };
        let code = error.as_ref().map(|e| e.code);
        // A code Meta documents as final stays final, whatever HTTP status carried it.
        let retry = match code {
            Some(code) if NEVER_RETRY.contains(&code) => false,
            Some(code) => is_retryable(code) || status.as_u16() == 429 || status.is_server_error(),
            None => status.as_u16() == 429 || status.is_server_error(),
        };
        Err(Refused {
            code,
            error: if retry {
                SendError::Retryable {
                    reason,
                    retry_after: after,
                    // Meta limits the number as a whole (130429), and each recipient
                    // (131056, the pair rate limit: `send` names the chat).
                    scope: match code {
                        Some(PAIR_RATE_LIMIT) => PauseScope::Chat(String::new()),
                        _ => PauseScope::Account,
                    },
                }
            } else {
                SendError::Permanent { reason }
            },
        })
    }

    async fn send_cloud(
        &self,
        row: &OutboxRow,
        kind: Option<RoomKind>,
    ) -> Result<Delivered, SendError> {
        let Some(graph) = &self.graph else {
            return Err(SendError::permanent(format!(
                "the WhatsApp Cloud API is not configured ([whatsapp] phone_number_id and {})",
                super::TOKEN_ENV
            )));
        };
        let m = &row.message;
        let group = kind == Some(RoomKind::Group);
        let contact = self
            .engine
            .store()
            .contact(Platform::Whatsapp, &m.chat)
            .await
            .map_err(|e| SendError::retryable(redact_numbers(&format!("database: {e}"))))?;
        // A reply goes where WhatsApp knows the person (an older Brazilian account has no ninth
        // digit); a group by its id.
        let to = match (&contact, group) {
            (_, true) => m.chat.clone(),
            (Some(c), false) => phone::wa_id(&c.seen_as),
            (None, false) => phone::wa_id(&m.chat),
        };
        let now = self.engine.clock().now();
        let window_open = m.kind != MessageKind::Template
            && contact.is_some_and(|c| now - c.last_inbound_at < self.window);
        if window_open {
            match self
                .post(graph, &to, group, tagged(row, self.free_form(row, kind)))
                .await
            {
                Ok(id) => return Ok(delivered(id)),
                // Our record of the window was wrong (the person wrote from another device,
                // or the clocks disagree): the template is what Meta accepts now.
                Err(Refused {
                    code: Some(WINDOW_CLOSED),
                    ..
                }) => {
                    metrics::counter!("runroom_whatsapp_window_closed_total").increment(1);
                    // Until they write again, go straight to the template.
                    if let Err(error) =
                        super::delivery::close_window(&self.engine, &m.chat, now).await
                    {
                        tracing::warn!(%error, "could not record a closed WhatsApp window");
                    }
                }
                Err(refused) => return Err(refused.error),
            }
        }
        metrics::counter!("runroom_whatsapp_templates_total").increment(1);
        self.post(graph, &to, group, tagged(row, self.template(row)))
            .await
            .map(delivered)
            .map_err(|r| r.error)
    }
}

/// Meta echoes `biz_opaque_callback_data` in the message's status webhooks: the outbox id it
/// carries lets a status record the wamid of a send whose answer was lost (a crash), so the
/// row is not sent again ([`Sender::reconcile`]).
pub const CALLBACK_PREFIX: &str = "runroom-outbox:";

fn tagged(row: &OutboxRow, mut content: Value) -> Value {
    content["biz_opaque_callback_data"] = json!(format!("{CALLBACK_PREFIX}{}", row.id));
    content
}

/// The outbox id a status's `biz_opaque_callback_data` carries, when runroom put it there.
pub fn callback_outbox_id(data: &str) -> Option<i64> {
    data.strip_prefix(CALLBACK_PREFIX)?.parse().ok()
}

fn delivered(id: String) -> Delivered {
    Delivered {
        platform_message_id: Some(id),
    }
}

#[async_trait]
impl Sender for WhatsappSender {
    fn platform(&self) -> Platform {
        Platform::Whatsapp
    }

    async fn send(&self, row: &OutboxRow) -> Result<Delivered, SendError> {
        let kind = self.kind_of(&row.message.room_id, &row.message.chat);
        if kind == Some(RoomKind::Evolution) {
            let Some(evolution) = &self.evolution else {
                return Err(SendError::permanent(format!(
                    "the Evolution API is not configured ([evolution] and {})",
                    super::EVOLUTION_APIKEY_ENV
                )));
            };
            return evolution
                .send_text(&row.message.chat, &row.message.text)
                .await;
        }
        self.send_cloud(row, kind)
            .await
            .map_err(|error| match error {
                SendError::Retryable {
                    reason,
                    retry_after,
                    scope: PauseScope::Chat(_),
                } => SendError::Retryable {
                    reason,
                    retry_after,
                    scope: PauseScope::Chat(row.message.chat.clone()),
                },
                other => other,
            })
    }

    /// A status Meta sent before the worker stored this wamid is applied now.
    /// A status carrying this row's id in its `biz_opaque_callback_data` recorded the wamid
    /// Meta gave the lost send: it arrived, so it is not sent again. Without one by the time the
    /// row is claimed again (a lease after the lost attempt: the bounded wait), it is resent.
    async fn reconcile(&self, row: &OutboxRow) -> Result<Option<Delivered>, SendError> {
        Ok(row.platform_message_id.clone().map(delivered))
    }

    async fn after_sent(&self, _row: &OutboxRow, platform_message_id: &str) {
        let applied = async {
            if let Some(report) = self
                .engine
                .store()
                .delivery_report(Platform::Whatsapp, platform_message_id)
                .await?
            {
                super::delivery::apply(&self.engine, &report).await?;
            }
            Ok::<(), crate::engine::EngineError>(())
        };
        if let Err(error) = applied.await {
            tracing::warn!(%error, "could not apply an early WhatsApp status");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::RichButton;

    #[test]
    fn template_parameters_are_one_line_and_never_empty() {
        let (headline, details) = template_parameters(
            "🚨 INC-7 declared\n\n  Status:\tinvestigating\nNext:     update",
            None,
            Some("… (full text: inc show 7)"),
        );
        assert_eq!(headline, "🚨 INC-7 declared");
        assert_eq!(details, "Status: investigating · Next: update");
        let (headline, details) = template_parameters("only a headline", None, None);
        assert_eq!(
            (headline.as_str(), details.as_str()),
            ("only a headline", "—")
        );
        let long = "x".repeat(5000);
        let (_, details) = template_parameters(&format!("a\n{long}"), None, None);
        assert_eq!(details.chars().count(), MAX_DETAILS_CHARS);
        assert!(details.ends_with('…'), "{details}");
        // About an incident: cut short with where to read it whole, still within the limit.
        let pointer = "… (texto completo: inc mostrar 7)";
        let (_, details) = template_parameters(&format!("a\n{long}"), None, Some(pointer));
        assert_eq!(details.chars().count(), MAX_DETAILS_CHARS, "{details}");
        assert!(details.ends_with(&format!("x {pointer}")), "{details}");
        // Short enough: left as it is.
        let (_, details) = template_parameters("a\nshort", None, Some(pointer));
        assert_eq!(details, "short");
    }

    #[test]
    fn at_most_three_short_reply_buttons() {
        let button = |id: &str, label: &str| RichButton {
            id: id.into(),
            label: label.into(),
        };
        let rich = Rich {
            title: "INC-7".into(),
            fields: Vec::new(),
            buttons: vec![
                button("ack:7", "Ack"),
                button("update:7", "Update with a much longer label"),
                button("escalate:7", "Escalate"),
                button("resolve:7", "Resolve"),
            ],
            ..Rich::default()
        };
        let buttons = reply_buttons(Some(&rich));
        let ids: Vec<&str> = buttons
            .iter()
            .map(|b| b["reply"]["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["ack:7", "update:7", "resolve:7"]);
        assert_eq!(
            buttons[1]["reply"]["title"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            MAX_BUTTON_TITLE_CHARS
        );
    }
}
