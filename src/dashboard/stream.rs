//! Live pages: a Server-Sent Events stream that renders part of a page afresh after a change
//! it cares about, at most once per [`MIN_GAP`], and sends it only when it differs from what
//! the browser has. One [`Hub`] per dashboard hears the engine's changes and wakes only the
//! views that follow them: a burst of declares wakes the open lists once per gap, and an
//! incident's page only for that incident.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Once};

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::Instant;

use super::Dashboard;

/// How often a live view reads again even when this process saw no change: changes made by
/// another process (a second replica, `runroom console` on the same file) show up then.
const LOOK_AGAIN: Duration = Duration::from_secs(5);

/// The least time between two renders of one view. A burst of changes (an alert storm) costs
/// each open page one read per gap, not one per change, so live pages cannot crowd out the
/// commands that make the changes.
const MIN_GAP: Duration = Duration::from_millis(500);

/// What a live view follows.
#[derive(Debug, Clone, Copy)]
pub enum Topic {
    /// Every incident (the list).
    All,
    /// One incident (its page).
    Incident(i64),
}

/// Hears the engine's changes on one task and passes each on as a bump of a generation: of
/// every change, and of the changed incident's when a view follows it. A view waits on its
/// generation, so it is woken only by what it follows, and not while it waits out its gap.
pub struct Hub {
    all: watch::Sender<u64>,
    incidents: Mutex<HashMap<i64, watch::Sender<u64>>>,
    /// The engine's changes, taken by the task when the first view starts it.
    source: Mutex<Option<tokio::sync::broadcast::Receiver<i64>>>,
    started: Once,
}

impl Hub {
    pub fn new(changes: tokio::sync::broadcast::Receiver<i64>) -> Arc<Hub> {
        Arc::new(Hub {
            all: watch::Sender::new(0),
            incidents: Mutex::new(HashMap::new()),
            source: Mutex::new(Some(changes)),
            started: Once::new(),
        })
    }

    /// A receiver for `topic`'s generation (the hub's task started if it is not yet).
    fn watch(self: &Arc<Hub>, topic: Topic) -> watch::Receiver<u64> {
        self.started.call_once(|| {
            let source = self.source.lock().ok().and_then(|mut s| s.take());
            if let Some(source) = source {
                tokio::spawn(Arc::clone(self).pass_on(source));
            }
        });
        match topic {
            Topic::All => self.all.subscribe(),
            Topic::Incident(number) => match self.incidents.lock() {
                Ok(mut incidents) => incidents
                    .entry(number)
                    .or_insert_with(|| watch::Sender::new(0))
                    .subscribe(),
                // A panicked holder: follow everything rather than nothing.
                Err(_) => self.all.subscribe(),
            },
        }
    }

    async fn pass_on(self: Arc<Hub>, mut source: tokio::sync::broadcast::Receiver<i64>) {
        loop {
            let changed = match source.recv().await {
                Ok(number) => Some(number),
                // Some were missed: every view reads again.
                Err(RecvError::Lagged(_)) => None,
                Err(RecvError::Closed) => return,
            };
            self.all.send_modify(|g| *g += 1);
            let Ok(mut incidents) = self.incidents.lock() else {
                continue;
            };
            // Pages closed since: their senders go.
            incidents.retain(|_, sender| sender.receiver_count() > 0);
            match changed {
                Some(number) => {
                    if let Some(sender) = incidents.get(&number) {
                        sender.send_modify(|g| *g += 1);
                    }
                }
                None => incidents
                    .values()
                    .for_each(|sender| sender.send_modify(|g| *g += 1)),
            }
        }
    }
}

/// Follows `topic`: after each change to it (and every [`LOOK_AGAIN`]), `render` makes the part
/// again, and an `event` carrying it is sent when it changed. `render` answering `None`
/// (nothing to show, or a failed read) sends nothing.
pub fn follow<R, F>(dash: &Dashboard, event: &'static str, topic: Topic, render: R) -> Response
where
    R: FnMut() -> F + Send + 'static,
    F: Future<Output = Option<String>> + Send,
{
    let changes = dash.hub.watch(topic);
    let mut tick = tokio::time::interval(LOOK_AGAIN);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let state = Follow {
        changes,
        tick,
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

struct Follow<R> {
    changes: watch::Receiver<u64>,
    tick: tokio::time::Interval,
    render: R,
    /// What the browser was sent last.
    last: Option<String>,
    rendered_at: Option<Instant>,
}

impl<R> Follow<R> {
    /// Waits until the view should be rendered again; `false` when the hub is gone.
    async fn wait(&mut self) -> bool {
        tokio::select! {
            changed = self.changes.changed() => {
                if changed.is_err() {
                    return false;
                }
            }
            _ = self.tick.tick() => {}
        }
        if let Some(at) = self.rendered_at {
            tokio::time::sleep_until(at + MIN_GAP).await;
        }
        // The changes that came meanwhile are in the render about to be made.
        self.changes.borrow_and_update();
        self.rendered_at = Some(Instant::now());
        true
    }
}
