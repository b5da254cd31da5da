//! Answer the platform fast, keep working: every inbox hands its work to this. The work runs
//! on the engine's in-flight tracker (a stopping `serve` waits for it, since an answered event
//! is not delivered again) and the request waits for it at most the platform's ack budget, so a
//! slow or locked database never makes a platform give up on runroom. What is answered before
//! its work committed is journaled first ([`crate::engine::journal`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use tracing::Instrument as _;

use crate::engine::Engine;
use crate::engine::journal::Record;
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

/// How far the work has got, shared by the task and the answer: whichever comes second
/// settles the journal.
enum Progress {
    Running,
    /// The answer went out first and journaled the event under this number.
    Journaled(u64),
    Finished(bool),
}

/// Runs `work` (which says whether it succeeded) in a task of its own, inside the current
/// tracing span, and waits at most `budget` for it. When the budget runs out first, `record`
/// (the event, raw enough to be replayed) is appended to the engine's journal and fsynced before
/// the answer, so a crash or a failure after the answer loses nothing; it is made only then,
/// so the usual answer costs nothing more.
pub async fn within_budget<F, R>(
    engine: &Engine,
    platform: Platform,
    budget: Duration,
    record: R,
    work: F,
) -> Handed
where
    F: Future<Output = bool> + Send + 'static,
    R: FnOnce() -> Option<Record>,
{
    let progress = Arc::new(Mutex::new(Progress::Running));
    let journal = engine.journal().clone();
    let settle = progress.clone();
    let settled = journal.clone();
    let work = async move {
        let ok = work.await;
        let mut progress = settle.lock().await;
        if let Progress::Journaled(seq) = *progress {
            settled.finished(seq, ok).await;
        }
        *progress = Progress::Finished(ok);
        ok
    };
    let task = engine
        .in_flight()
        .spawn(work.instrument(tracing::Span::current()));
    match tokio::time::timeout(budget, task).await {
        Ok(Ok(true)) => Handed::Done,
        Ok(Ok(false)) | Ok(Err(_)) => Handed::Failed,
        Err(_) => {
            let mut progress = progress.lock().await;
            if let Progress::Finished(ok) = *progress {
                return if ok { Handed::Done } else { Handed::Failed };
            }
            match record() {
                Some(record) => match journal.add(record).await {
                    Ok(Some(seq)) => *progress = Progress::Journaled(seq),
                    Ok(None) => {}
                    Err(error) => tracing::error!(
                        %error,
                        platform = platform.as_str(),
                        "could not journal an event answered before its work committed"
                    ),
                },
                None => tracing::warn!(
                    platform = platform.as_str(),
                    "an event answered before its work committed could not be journaled"
                ),
            }
            tracing::info!(
                platform = platform.as_str(),
                "answered the platform before the engine finished"
            );
            Handed::Later
        }
    }
}
