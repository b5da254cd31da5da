//! The console room: each line on stdin is a message from the local user; the bot's replies
//! print on stdout as the room receives them, and broadcasts to the other linked rooms print as
//! previews of what those rooms will get. It is the console's own sender: it delivers the outbox
//! rows addressed to the console, so a reply committed before a crash prints on the next start.

use std::sync::Arc;

use anyhow::Context as _;
use chrono::Utc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::config::CONSOLE_ROOM;
use crate::engine::reply::Msg;
use crate::engine::room::{Author, Inbound, Platform, Room, RoomRef};
use crate::engine::{Engine, Outcome};
use crate::i18n::Lang;

/// How many pending console messages one delivery round prints at most.
const DELIVERY_BATCH: i64 = 500;

fn console_room(engine: &Engine) -> Room {
    engine.room_for(&RoomRef {
        platform: Platform::Console,
        chat: CONSOLE_ROOM.to_string(),
        thread: None,
    })
}

/// Runs the console until the input ends. `locale`, when given, becomes the room's language
/// (as `inc lang` would set it).
pub async fn run<R, W>(
    engine: Arc<Engine>,
    locale: Option<Lang>,
    input: R,
    mut output: W,
    interactive: bool,
) -> anyhow::Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let room = console_room(&engine);
    let author = Author {
        id: format!(
            "console:{}",
            std::env::var("USER").unwrap_or_else(|_| "local".into())
        ),
        name: std::env::var("USER").unwrap_or_else(|_| "console".into()),
    };
    // Unique per run, so each line's dedupe key is new while a replay of the same run is not.
    let run_id = format!("{}-{}", std::process::id(), Utc::now().timestamp_micros());
    if let Some(lang) = locale {
        let mut tx = engine.store().begin().await?;
        tx.set_room_language(&room.id, lang, Utc::now()).await?;
        tx.commit().await?;
    }
    let lang = locale.unwrap_or(room.language);
    if interactive {
        let welcome = Msg::new("console-welcome").text("room", room.id.clone());
        write_line(
            &mut output,
            &engine.i18n().render(lang, room.timezone, &welcome),
        )
        .await?;
    }
    deliver(&engine, &mut output).await?;

    let mut lines = input.lines();
    let mut number = 0u64;
    while let Some(line) = lines.next_line().await.context("reading stdin")? {
        if line.trim().is_empty() {
            continue;
        }
        number += 1;
        let inbound = Inbound {
            event_id: format!("{run_id}-{number}"),
            room: RoomRef {
                platform: Platform::Console,
                chat: room.chat.clone(),
                thread: None,
            },
            author: author.clone(),
            text: line,
            received_at: Utc::now(),
        };
        match engine.handle(&inbound).await {
            Ok(Outcome::Handled { messages, .. }) => {
                deliver(&engine, &mut output).await?;
                let lang = current_language(&engine, &room).await;
                for m in messages
                    .iter()
                    .filter(|m| m.platform != Platform::Console.as_str())
                {
                    let header = Msg::new("console-other-room")
                        .text("room", m.room_id.clone())
                        .text("platform", m.platform.clone())
                        .text("language", m.language.as_str());
                    write_line(
                        &mut output,
                        &engine.i18n().render(lang, room.timezone, &header),
                    )
                    .await?;
                    write_line(&mut output, &indent(&m.text)).await?;
                }
            }
            Ok(Outcome::Ignored) => {
                let lang = current_language(&engine, &room).await;
                let hint =
                    engine
                        .i18n()
                        .render(lang, room.timezone, &Msg::new("console-not-a-command"));
                write_line(&mut output, &hint).await?;
            }
            Ok(Outcome::Duplicate) => {}
            Err(error) => {
                tracing::error!(%error, "console command failed");
                let lang = current_language(&engine, &room).await;
                let text =
                    engine
                        .i18n()
                        .render(lang, room.timezone, &crate::engine::errors::internal());
                write_line(&mut output, &text).await?;
            }
        }
    }
    output.flush().await?;
    Ok(())
}

async fn current_language(engine: &Engine, room: &Room) -> Lang {
    let stored = async {
        let mut tx = engine.store().begin().await.ok()?;
        tx.room_languages().await.ok()
    }
    .await;
    stored
        .and_then(|all| {
            all.into_iter()
                .find(|(id, _)| *id == room.id)
                .map(|(_, l)| l)
        })
        .unwrap_or(room.language)
}

/// Prints and marks sent every pending message addressed to the console.
pub async fn deliver<W: AsyncWrite + Unpin>(
    engine: &Engine,
    output: &mut W,
) -> anyhow::Result<usize> {
    let pending = engine
        .store()
        .pending_outbox(Platform::Console.as_str(), DELIVERY_BATCH)
        .await?;
    for row in &pending {
        write_line(output, &row.message.text).await?;
        // Printed first, then marked: a crash in between prints it again rather than never.
        engine.store().mark_sent(row.id, Utc::now()).await?;
    }
    output.flush().await?;
    Ok(pending.len())
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn write_line<W: AsyncWrite + Unpin>(output: &mut W, text: &str) -> std::io::Result<()> {
    output.write_all(text.as_bytes()).await?;
    output.write_all(b"\n").await
}
