//! Answer the platform fast, keep working: every inbox hands its work to this. The work runs
//! on the engine's in-flight tracker (a stopping `serve` waits for it, since an answered event
//! is not delivered again) and the request waits for it at most the platform's ack budget, so a
//! slow or locked database never makes a platform give up on runroom.

use std::future::Future;
use std::time::Duration;

use tracing::Instrument as _;

use crate::engine::Engine;
use crate::engine::room::Platform;

/// How inbound work stands when the platform must be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    /// Everything in it was recorded (or recognised as seen before, or not for runroom).
    Done,
    /// It failed and nothing of it was stored: a redelivery would be handled afresh.
    Failed,
    /// Still working when the budget ran out; it carries on, and its answer comes as a message.
    Later,
}

/// Runs `work` (which says whether it succeeded) in a task of its own, inside the current
/// tracing span, and waits at most `budget` for it.
pub async fn within_budget<F>(
    engine: &Engine,
    platform: Platform,
    budget: Duration,
    work: F,
) -> Handed
where
    F: Future<Output = bool> + Send + 'static,
{
    let task = engine
        .in_flight()
        .spawn(work.instrument(tracing::Span::current()));
    match tokio::time::timeout(budget, task).await {
        Ok(Ok(true)) => Handed::Done,
        Ok(Ok(false)) | Ok(Err(_)) => Handed::Failed,
        Err(_) => {
            tracing::info!(
                platform = platform.as_str(),
                "answered the platform before the engine finished"
            );
            Handed::Later
        }
    }
}
