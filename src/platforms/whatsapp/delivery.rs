//! What Meta reports after accepting a message (`sent`, `delivered`, `read`, `failed`), applied to
//! its outbox row. A message refused because the recipient's 24-hour window had closed (131047)
//! closes our record of the window and is queued again, once, to go as the template. A report can
//! arrive before the worker has stored the message's wamid: it is kept, and applied again when the
//! sender learns the wamid ([`crate::outbox::Sender::after_sent`]), so no report is lost to the race.

use super::outbound::WINDOW_CLOSED;
use crate::engine::room::Platform;
use crate::engine::{Engine, EngineError};
use crate::store::{DeliveryReport, DeliveryStatus, MessageKind};

/// Keeps and applies a report; `true` when it queued the message again as a template.
pub async fn apply(engine: &Engine, report: &DeliveryReport) -> Result<bool, EngineError> {
    let Some(row) = engine
        .store()
        .record_delivery(Platform::Whatsapp, report)
        .await?
    else {
        return Ok(false);
    };
    if report.status != DeliveryStatus::Failed {
        return Ok(false);
    }
    tracing::warn!(
        id = row.id,
        code = report.error_code.unwrap_or_default(),
        error = report.error.as_deref().unwrap_or_default(),
        "WhatsApp could not deliver a message"
    );
    if report.error_code != Some(WINDOW_CLOSED) || row.message.kind == MessageKind::Template {
        return Ok(false);
    }
    let mut again = row.message.clone();
    // The key makes a redelivered report, the sender's second look, or a second replica queue
    // it only once; a template is never queued again.
    again.idempotency_key = format!("{}#template", row.message.idempotency_key);
    again.kind = MessageKind::Template;
    again.created_at = report.at;
    let chat = &row.message.chat;
    engine
        .unguarded(|unit| {
            Box::pin(async move {
                unit.tx
                    .close_contact_window(Platform::Whatsapp, chat, report.at)
                    .await?;
                unit.keep(again);
                Ok(())
            })
        })
        .await?;
    metrics::counter!("runroom_whatsapp_window_closed_total").increment(1);
    Ok(true)
}

/// Meta refused a free-form message because the window is closed: until the contact writes
/// again, messages go straight to the template.
pub async fn close_window(
    engine: &Engine,
    address: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), EngineError> {
    engine
        .unguarded(|unit| {
            Box::pin(async move {
                unit.tx
                    .close_contact_window(Platform::Whatsapp, address, at)
                    .await?;
                Ok(())
            })
        })
        .await?;
    Ok(())
}
