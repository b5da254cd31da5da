//! The inbound journal: nothing a platform was told is received is lost. A webhook is answered
//! within its ack budget; when the engine has not committed by then (the database is slow,
//! locked or gone), the verified event is appended here and fsynced *before* the answer, and
//! done once its work commits. Work that fails after the answer is retried with backoff, and
//! what a crash left undone is replayed when `serve` starts, through the same entrance code
//! (each platform registers a [`Replay`] per [`Entrance`]). The event's dedupe key makes a
//! replay of work that did commit a no-op.
//!
//! The file is a sequence of frames, `len: u32 LE | crc32c: u32 LE | JSON`, each an `add` (the
//! entrance, the receipt time and the body as it was verified) or a `done`. A torn last frame
//! (a crash mid-write) fails its length or checksum and is cut off on open. The file is emptied
//! whenever nothing in it is pending, so it stays small; an exclusive lock keeps a second
//! process off it.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// The entrance an event came through: what its body is, and which code replays it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Entrance {
    /// A Slack Events API callback, as JSON.
    SlackEvent,
    /// A Slack slash command, as JSON.
    SlackCommand,
    /// A Slack button press (`block_actions`), as JSON.
    SlackActions,
    /// A WhatsApp Cloud API delivery, its body as signed.
    Whatsapp,
    /// An Evolution gateway delivery, its body as received.
    Evolution,
    /// A Telegram update, its body as received.
    Telegram,
}

impl Entrance {
    pub fn as_str(self) -> &'static str {
        match self {
            Entrance::SlackEvent => "slack_event",
            Entrance::SlackCommand => "slack_command",
            Entrance::SlackActions => "slack_actions",
            Entrance::Whatsapp => "whatsapp",
            Entrance::Evolution => "evolution",
            Entrance::Telegram => "telegram",
        }
    }
}

/// A verified event, raw enough to be handled again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub entrance: Entrance,
    /// When runroom received it: a replay stamps it with this time, not the replay's.
    pub received_at: DateTime<Utc>,
    pub body: String,
}

/// Handles a journaled event again; `true` once its work is recorded (or was before).
pub type Replay = Arc<dyn Fn(Record) -> BoxFuture<'static, bool> + Send + Sync>;

/// The largest frame read back: a body within the largest entrance limit, and its envelope.
const MAX_FRAME: u32 = 8 * 1024 * 1024;
/// Retries of failed work wait 1 s, doubling up to this; one that succeeds makes the others
/// due at once (the database is back).
const MAX_BACKOFF: Duration = Duration::from_secs(10);
const CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Frame {
    Add { seq: u64, record: Record },
    Done { seq: u64 },
}

struct Pending {
    record: Record,
    /// Its work is running (the original task or a retry): the retry loop leaves it alone.
    in_hand: bool,
    attempts: u32,
    next_try: Instant,
}

#[derive(Default)]
struct State {
    next_seq: u64,
    pending: BTreeMap<u64, Pending>,
}

/// The journal of one process. Until [`Journal::open`] gives it a file it keeps nothing (a
/// console, a test without one): [`Journal::add`] then says `None`.
#[derive(Default)]
pub struct Journal {
    file: Mutex<Option<(File, PathBuf)>>,
    state: Mutex<State>,
    replays: RwLock<HashMap<Entrance, Replay>>,
    retry: tokio::sync::Notify,
}

impl Journal {
    /// Registers how events of one entrance are handled again.
    pub fn register(&self, entrance: Entrance, replay: Replay) {
        write(&self.replays).insert(entrance, replay);
    }

    /// Opens (creating) the journal file, locked for this process, and takes in what an earlier
    /// process left pending; [`Journal::run`] replays it. Returns how many events are pending.
    pub fn open(&self, path: &Path) -> anyhow::Result<usize> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .with_context(|| format!("opening the inbound journal {}", path.display()))?;
        file.try_lock().map_err(|error| {
            anyhow::anyhow!(
                "the inbound journal {} is locked ({error}): is another runroom serve running \
                 here? Give each process its own `[server] journal`",
                path.display()
            )
        })?;
        let (frames, good) = read_frames(&mut file)
            .with_context(|| format!("reading the inbound journal {}", path.display()))?;
        let len = file.metadata()?.len();
        if good < len {
            tracing::warn!(
                cut = len - good,
                "the inbound journal ended in a torn frame (a crash while writing); cut off"
            );
            file.set_len(good)?;
        }
        let mut pending = BTreeMap::new();
        let mut next_seq = 0;
        let now = Instant::now();
        for frame in frames {
            match frame {
                Frame::Add { seq, record } => {
                    next_seq = next_seq.max(seq + 1);
                    pending.insert(
                        seq,
                        Pending {
                            record,
                            in_hand: false,
                            attempts: 0,
                            next_try: now,
                        },
                    );
                }
                Frame::Done { seq } => {
                    pending.remove(&seq);
                }
            }
        }
        if pending.is_empty() {
            file.set_len(0)?;
        }
        file.seek(SeekFrom::End(0))?;
        let count = pending.len();
        *lock(&self.state) = State { next_seq, pending };
        *lock(&self.file) = Some((file, path.to_path_buf()));
        metrics::gauge!("runroom_inbound_journal_pending").set(count as f64);
        Ok(count)
    }

    /// Appends an event whose work is running and fsyncs it; its sequence number, for
    /// [`Journal::finished`]. `None` when the journal has no file.
    pub async fn add(self: &Arc<Self>, record: Record) -> std::io::Result<Option<u64>> {
        let journal = self.clone();
        let added = tokio::task::spawn_blocking(move || journal.add_blocking(record))
            .await
            .map_err(std::io::Error::other)??;
        if added.is_some() {
            metrics::counter!("runroom_inbound_journaled_total").increment(1);
        }
        Ok(added)
    }

    fn add_blocking(&self, record: Record) -> std::io::Result<Option<u64>> {
        let mut file = lock(&self.file);
        let Some((file, _)) = file.as_mut() else {
            return Ok(None);
        };
        let seq = {
            let mut state = lock(&self.state);
            let seq = state.next_seq;
            state.next_seq += 1;
            seq
        };
        let frame = Frame::Add {
            seq,
            record: record.clone(),
        };
        append(file, &frame)?;
        // What the platform is about to be told must survive a crash.
        file.sync_data()?;
        let mut state = lock(&self.state);
        state.pending.insert(
            seq,
            Pending {
                record,
                in_hand: true,
                attempts: 0,
                next_try: Instant::now(),
            },
        );
        metrics::gauge!("runroom_inbound_journal_pending").set(state.pending.len() as f64);
        Ok(Some(seq))
    }

    /// The work of a journaled event ended: done, or left for a retry after a backoff.
    pub async fn finished(self: &Arc<Self>, seq: u64, ok: bool) {
        if !ok {
            let mut state = lock(&self.state);
            if let Some(pending) = state.pending.get_mut(&seq) {
                pending.in_hand = false;
                pending.attempts += 1;
                pending.next_try = Instant::now() + backoff(pending.attempts);
                tracing::warn!(
                    entrance = pending.record.entrance.as_str(),
                    attempts = pending.attempts,
                    "journaled inbound work failed; it will be retried"
                );
            }
            drop(state);
            self.retry.notify_one();
            return;
        }
        {
            // Work went through: what waits for a retry need not wait any longer.
            let mut state = lock(&self.state);
            let now = Instant::now();
            let mut woken = false;
            for pending in state.pending.values_mut() {
                if !pending.in_hand && pending.next_try > now {
                    pending.next_try = now;
                    woken = true;
                }
            }
            if woken {
                self.retry.notify_one();
            }
        }
        let journal = self.clone();
        let done = tokio::task::spawn_blocking(move || journal.done_blocking(seq)).await;
        if let Err(error) = done.map_err(std::io::Error::other).and_then(|r| r) {
            // A lost `done` only means a replay the dedupe key turns into a no-op.
            tracing::warn!(%error, "could not mark journaled inbound work done");
        }
    }

    fn done_blocking(&self, seq: u64) -> std::io::Result<()> {
        let mut file = lock(&self.file);
        let empty = {
            let mut state = lock(&self.state);
            state.pending.remove(&seq);
            metrics::gauge!("runroom_inbound_journal_pending").set(state.pending.len() as f64);
            state.pending.is_empty()
        };
        let Some((file, _)) = file.as_mut() else {
            return Ok(());
        };
        if empty {
            // Nothing left to replay: start the file afresh rather than let it grow.
            file.set_len(0)?;
            file.seek(SeekFrom::Start(0))?;
            Ok(())
        } else {
            // Not synced: losing it costs a replay, which the dedupe key makes harmless.
            append(file, &Frame::Done { seq })
        }
    }

    /// How many events are journaled and not done.
    pub fn pending(&self) -> usize {
        lock(&self.state).pending.len()
    }

    /// Whether some journaled work failed and waits for its retry.
    pub fn retrying(&self) -> bool {
        lock(&self.state).pending.values().any(|p| p.attempts > 0)
    }

    /// Replays what is pending and not being worked on, in arrival order, whenever its retry
    /// is due, until `stop` turns true. Each replay runs on `tracker` (a stopping process
    /// waits for it).
    pub async fn run(
        self: Arc<Self>,
        tracker: tokio_util::task::TaskTracker,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let mut unhandled: Vec<Entrance> = Vec::new();
        while !*stop.borrow() {
            let now = Instant::now();
            let (due, next) = {
                let mut state = lock(&self.state);
                let replays = read(&self.replays);
                let mut due = Vec::new();
                let mut next: Option<Instant> = None;
                for (&seq, pending) in state.pending.iter_mut() {
                    if pending.in_hand {
                        continue;
                    }
                    let Some(replay) = replays.get(&pending.record.entrance) else {
                        if !unhandled.contains(&pending.record.entrance) {
                            unhandled.push(pending.record.entrance);
                            tracing::error!(
                                entrance = pending.record.entrance.as_str(),
                                "journaled inbound work for an entrance that is not configured; \
                                 kept until it is"
                            );
                        }
                        continue;
                    };
                    if pending.next_try <= now {
                        pending.in_hand = true;
                        due.push((seq, pending.record.clone(), replay.clone()));
                    } else {
                        next = Some(next.map_or(pending.next_try, |n| n.min(pending.next_try)));
                    }
                }
                (due, next)
            };
            if !due.is_empty() {
                tracing::info!(events = due.len(), "replaying journaled inbound work");
                let journal = self.clone();
                // In arrival order, one after another: a declare before the update about it.
                let replaying = tracker.spawn(async move {
                    for (seq, record, replay) in due {
                        let ok = replay(record).await;
                        if ok {
                            metrics::counter!("runroom_inbound_replayed_total").increment(1);
                        }
                        journal.finished(seq, ok).await;
                    }
                });
                tokio::select! {
                    _ = replaying => {}
                    _ = stop.changed() => break,
                }
                continue;
            }
            let wait = next.map_or(MAX_BACKOFF, |n| n.saturating_duration_since(now));
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.retry.notified() => {}
                _ = stop.changed() => break,
            }
        }
    }
}

fn backoff(attempts: u32) -> Duration {
    Duration::from_secs(1u64 << attempts.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

fn append(file: &mut File, frame: &Frame) -> std::io::Result<()> {
    let payload = serde_json::to_vec(frame).map_err(std::io::Error::other)?;
    let len = u32::try_from(payload.len()).map_err(std::io::Error::other)?;
    let mut bytes = Vec::with_capacity(payload.len() + 8);
    bytes.extend_from_slice(&len.to_le_bytes());
    bytes.extend_from_slice(&CRC.checksum(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    file.write_all(&bytes)
}

/// Every whole frame from the start, and the offset after the last one.
fn read_frames(file: &mut File) -> std::io::Result<(Vec<Frame>, u64)> {
    file.seek(SeekFrom::Start(0))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let mut frames = Vec::new();
    let mut at = 0usize;
    while let Some(header) = bytes.get(at..at + 8) {
        let len = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if len > MAX_FRAME {
            break;
        }
        let Some(payload) = bytes.get(at + 8..at + 8 + len as usize) else {
            break;
        };
        if CRC.checksum(payload) != crc {
            break;
        }
        let Ok(frame) = serde_json::from_slice::<Frame>(payload) else {
            break;
        };
        frames.push(frame);
        at += 8 + len as usize;
    }
    Ok((frames, at as u64))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(rw: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    rw.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(rw: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    rw.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(body: &str) -> Record {
        Record {
            entrance: Entrance::SlackCommand,
            received_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            body: body.to_string(),
        }
    }

    #[tokio::test]
    async fn what_was_not_done_is_pending_after_a_restart_and_a_torn_frame_is_cut() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inbound.journal");
        let first = Arc::new(Journal::default());
        assert_eq!(first.open(&path).expect("open"), 0);
        let a = first.add(record("a")).await.expect("add").expect("a file");
        let b = first.add(record("b")).await.expect("add").expect("a file");
        first.finished(a, true).await;
        assert_eq!(first.pending(), 1);
        // A second process is kept off the file while this one holds it.
        assert!(Journal::default().open(&path).is_err());
        drop(first);
        // A crash mid-append leaves half a frame.
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .expect("reopen");
        file.write_all(&[200, 0, 0, 0, 1, 2]).expect("torn frame");
        drop(file);

        let second = Arc::new(Journal::default());
        assert_eq!(second.open(&path).expect("reopen"), 1);
        let pending = lock(&second.state);
        let (&seq, kept) = pending.pending.iter().next().expect("one pending");
        assert_eq!((seq, &kept.record), (b, &record("b")));
        assert!(pending.next_seq > b, "numbers are never reused");
    }

    #[tokio::test]
    async fn the_file_is_emptied_once_nothing_is_pending() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inbound.journal");
        let journal = Arc::new(Journal::default());
        journal.open(&path).expect("open");
        let a = journal
            .add(record("a"))
            .await
            .expect("add")
            .expect("a file");
        assert!(std::fs::metadata(&path).expect("meta").len() > 0);
        journal.finished(a, false).await;
        assert_eq!(journal.pending(), 1, "failed work stays for a retry");
        journal.finished(a, true).await;
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 0);
    }

    #[tokio::test]
    async fn without_a_file_nothing_is_kept() {
        let journal = Arc::new(Journal::default());
        assert_eq!(journal.add(record("a")).await.expect("add"), None);
    }

    #[tokio::test]
    async fn pending_work_is_replayed_in_arrival_order_and_failures_retried() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("inbound.journal");
        let journal = Arc::new(Journal::default());
        journal.open(&path).expect("open");
        for body in ["1", "2", "3"] {
            let seq = journal.add(record(body)).await.expect("add").expect("file");
            // As if the work had failed after the answer.
            lock(&journal.state)
                .pending
                .get_mut(&seq)
                .expect("pending")
                .in_hand = false;
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let failed_once = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, f) = (seen.clone(), failed_once.clone());
        journal.register(
            Entrance::SlackCommand,
            Arc::new(move |record: Record| {
                let (s, f) = (s.clone(), f.clone());
                Box::pin(async move {
                    lock(&s).push(record.body.clone());
                    // "2" fails the first time.
                    record.body != "2" || f.swap(true, std::sync::atomic::Ordering::SeqCst)
                })
            }),
        );
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let tracker = tokio_util::task::TaskTracker::new();
        let running = tokio::spawn(journal.clone().run(tracker, stopped));
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while journal.pending() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "replay did not finish"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = stop.send(true);
        let _ = running.await;
        assert_eq!(*lock(&seen), ["1", "2", "3", "2"]);
        assert_eq!(std::fs::metadata(&path).expect("meta").len(), 0);
    }
}
