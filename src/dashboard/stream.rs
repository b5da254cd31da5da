//! Live pages: a Server-Sent Events stream that renders part of a page afresh after a change
//! it cares about, at most once per [`MIN_GAP`], and sends it only when it differs from what
//! the browser has.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::Instant;

use super::Dashboard;

/// How often a live view reads again even when this process saw no change: changes made by
/// another process (a second replica, `runroom console` on the same file) show up then.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

/// The least time between two renders of one view. A burst of changes (an alert storm) costs
/// each open page one read per gap, not one per change, so live pages cannot crowd out the
/// commands that make the changes.
const MIN_GAP: Duration = Duration::from_millis(500);

/// Follows the changes to the incidents `wanted` picks; after each (and every [`LOOK_AGAIN`]),
/// `render` makes the part again, and an `event` carrying it is sent when it changed. `render`
/// answering `None` (nothing to show, or a failed read) sends nothing.
pub fn follow<W, R, F>(dash: &Dashboard, event: &'static str, wanted: W, render: R) -> Response
where
    W: Fn(i64) -> bool + Send + 'static,
    R: FnMut() -> F + Send + 'static,
    F: Future<Output = Option<String>> + Send,
{
    let changes = dash.engine.changes();
    let mut tick = tokio::time::interval(LOOK_AGAIN);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = Follow {
        changes,
        tick,
        wanted,
        render,
        last: None,
        rendered_at: None,
    };
    let stream = futures_util::stream::unfold(state, move |mut state| async move {
        loop {
            if !state.wait().await {
                return None;
            }
            if let Some(part) = (state.render)().await
                && state.last.as_deref() != Some(part.as_str())
            {
                state.last = Some(part.clone());
                let sent = Event::default().event(event).data(part);
                return Some((Ok::<_, Infallible>(sent), state));
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

struct Follow<W, R> {
    changes: tokio::sync::broadcast::Receiver<i64>,
    tick: tokio::time::Interval,
    wanted: W,
    render: R,
    /// What the browser was sent last.
    last: Option<String>,
    rendered_at: Option<Instant>,
}

impl<W: Fn(i64) -> bool, R> Follow<W, R> {
    /// Waits until the view should be rendered again; `false` when the engine is gone.
    async fn wait(&mut self) -> bool {
        loop {
            tokio::select! {
                change = self.changes.recv() => match change {
                    Ok(number) if !(self.wanted)(number) => continue,
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return false,
                },
                _ = self.tick.tick() => {}
            }
            break;
        }
        if let Some(at) = self.rendered_at {
            tokio::time::sleep_until(at + MIN_GAP).await;
        }
        // The changes that came meanwhile are in the render about to be made.
        loop {
            match self.changes.try_recv() {
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Closed) => return false,
            }
        }
        self.rendered_at = Some(Instant::now());
        true
    }
}
