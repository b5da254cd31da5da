//! The console room: each line on stdin is a message from the local user; the bot's replies
//! print on stdout as the room receives them, and broadcasts to the other linked rooms print as
//! previews of what those rooms will get. Replies reach the terminal like any platform's
//! messages: through the outbox and a [`ConsoleSender`], so a reply committed before a crash
//! prints on the next start.

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::Utc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::Mutex;
use tracing::Instrument as _;

use crate::config::CONSOLE_ROOM;
use crate::engine::reach::Reach;
use crate::engine::room::{Author, Inbound, Input, Origin, Platform, Room, RoomRef};
use crate::engine::trace;
use crate::engine::{Engine, Outcome};
use crate::i18n::Lang;
use crate::i18n::Msg;
use crate::outbox::{Delivered, SendError, Sender, Worker};
use crate::store::OutboxRow;

/// Where the console writes: shared by the room's own lines and its sender.
pub type SharedOutput = Arc<Mutex<Box<dyn AsyncWrite + Send + Unpin>>>;

pub fn shared_output(output: impl AsyncWrite + Send + Unpin + 'static) -> SharedOutput {
    Arc::new(Mutex::new(Box::new(output)))
}

/// Delivers the console room's outbox rows to the terminal.
pub struct ConsoleSender {
    output: SharedOutput,
}

impl ConsoleSender {
    pub fn new(output: SharedOutput) -> ConsoleSender {
        ConsoleSender { output }
    }
}

#[async_trait]
impl Sender for ConsoleSender {
    fn platform(&self) -> Platform {
        Platform::Console
    }

    async fn send(&self, row: &OutboxRow) -> Result<Delivered, SendError> {
        let mut out = self.output.lock().await;
        write_line(&mut *out, &row.message.text)
            .await
            .and(out.flush().await)
            .map_err(|e| SendError::retryable(format!("terminal: {e}")))?;
        Ok(Delivered::default())
    }
}

/// The terminal names people by name.
pub struct ConsoleReach;

impl Reach for ConsoleReach {
    fn platform(&self) -> Platform {
        Platform::Console
    }
}

pub fn reach() -> Arc<dyn Reach> {
    Arc::new(ConsoleReach)
}

/// The console always has its sender; its entrance is the terminal, which `serve` and `console`
/// read themselves.
pub fn wire(setup: &super::Setup<'_>) -> anyhow::Result<super::Wired> {
    let output = setup.console.clone();
    Ok(super::Wired {
        connect: Some(Box::new(move |_| {
            Ok(super::Connected {
                sender: Some(Arc::new(ConsoleSender::new(output))),
                ..Default::default()
            })
        })),
        ..super::Wired::new(reach())
    })
}

fn console_room(engine: &Engine) -> Room {
    engine.room_for(&RoomRef {
        platform: Platform::Console,
        chat: CONSOLE_ROOM.to_string(),
        thread: None,
    })
}

/// Runs the console until the input ends. `locale`, when given, becomes the room's language
/// (as `inc lang` would set it). With `worker`, the console delivers its own replies after each
/// line; without one (under `serve`) the server's workers do.
pub async fn run<R>(
    engine: Arc<Engine>,
    locale: Option<Lang>,
    input: R,
    output: SharedOutput,
    interactive: bool,
    worker: Option<&Worker>,
) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
{
    let room = console_room(&engine);
    let author = Author {
        handle: None,
        id: format!(
            "console:{}",
            std::env::var("USER").unwrap_or_else(|_| "local".into())
        ),
        name: std::env::var("USER").unwrap_or_else(|_| "console".into()),
    };
    // Unique per run, so each line's dedupe key is new while a replay of the same run is not.
    let run_id = format!("{}-{}", std::process::id(), Utc::now().timestamp_micros());
    if let Some(lang) = locale {
        let room_id = &room.id;
        engine
            .unguarded(|unit| {
                Box::pin(async move {
                    let now = unit.out.now();
                    unit.tx.set_room_language(room_id, lang, now).await?;
                    Ok(())
                })
            })
            .await?;
    }
    let lang = locale.unwrap_or(room.language);
    if interactive {
        let welcome = Msg::new("console-welcome").text("room", room.id.clone());
        say(
            &output,
            &engine.i18n().render(lang, room.timezone, &welcome),
        )
        .await?;
    }
    deliver(worker).await?;

    let mut input = input;
    let mut bytes = Vec::new();
    let mut number = 0u64;
    loop {
        bytes.clear();
        // Bytes up to the newline: a line that is not UTF-8 is answered and skipped, and the
        // lines after it are still read.
        if input
            .read_until(b'\n', &mut bytes)
            .await
            .context("reading stdin")?
            == 0
        {
            break;
        }
        let Ok(line) = std::str::from_utf8(&bytes) else {
            tracing::warn!(
                bytes = bytes.len(),
                "a console line that is not UTF-8; skipped"
            );
            let lang = current_language(&engine, &room).await;
            let text = engine
                .i18n()
                .render(lang, room.timezone, &Msg::new("console-undecodable"));
            say(&output, &text).await?;
            continue;
        };
        let line = line.trim_end_matches(['\n', '\r']).to_string();
        if line.trim().is_empty() {
            continue;
        }
        number += 1;
        let inbound = Inbound {
            event_id: format!("{run_id}-{number}"),
            origin: Origin {
                room: RoomRef {
                    platform: Platform::Console,
                    chat: room.chat.clone(),
                    thread: None,
                },
                author: author.clone(),
                private_replies: false,
            },
            input: Input::Text(line),
            received_at: engine.clock().now(),
        };
        let span = tracing::info_span!(
            "inbound",
            platform = "console",
            room = %room.id,
            key = %trace::key(&inbound.dedupe_key()),
        );
        match engine.handle(&inbound).instrument(span).await {
            Ok(Outcome::Handled { messages, .. }) => {
                deliver(worker).await?;
                let lang = current_language(&engine, &room).await;
                for m in messages.iter().filter(|m| m.platform != Platform::Console) {
                    let header = Msg::new("console-other-room")
                        .text("room", m.room_id.clone())
                        .text("platform", m.platform.as_str())
                        .text("language", m.language.as_str());
                    say(&output, &engine.i18n().render(lang, room.timezone, &header)).await?;
                    say(&output, &indent(&m.text)).await?;
                }
            }
            Ok(Outcome::Ignored) => {
                let lang = current_language(&engine, &room).await;
                let hint =
                    engine
                        .i18n()
                        .render(lang, room.timezone, &Msg::new("console-not-a-command"));
                say(&output, &hint).await?;
            }
            Ok(Outcome::Duplicate) => {}
            Err(error) => {
                tracing::error!(%error, "console command failed");
                let lang = current_language(&engine, &room).await;
                let text =
                    engine
                        .i18n()
                        .render(lang, room.timezone, &crate::engine::errors::internal());
                say(&output, &text).await?;
            }
        }
    }
    output.lock().await.flush().await?;
    Ok(())
}

/// The room's language as chat last set it (`inc lang`), else as configured.
async fn current_language(engine: &Engine, room: &Room) -> Lang {
    match engine.store().room_languages().await {
        Ok(all) => all
            .into_iter()
            .find(|(id, _)| *id == room.id)
            .map_or(room.language, |(_, l)| l),
        Err(error) => {
            tracing::warn!(%error, "cannot read room languages");
            room.language
        }
    }
}

/// Delivers whatever the console's outbox holds (nothing without a worker of its own).
async fn deliver(worker: Option<&Worker>) -> anyhow::Result<()> {
    if let Some(worker) = worker {
        worker
            .drain()
            .await
            .context("delivering console messages")?;
    }
    Ok(())
}

async fn say(output: &SharedOutput, text: &str) -> std::io::Result<()> {
    let mut out = output.lock().await;
    write_line(&mut *out, text).await?;
    out.flush().await
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn write_line<W: AsyncWrite + Unpin + ?Sized>(
    output: &mut W,
    text: &str,
) -> std::io::Result<()> {
    output.write_all(text.as_bytes()).await?;
    output.write_all(b"\n").await
}
