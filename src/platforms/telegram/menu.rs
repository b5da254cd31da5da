//! The bot's command menu (the list Telegram shows after `/`), published at start with
//! `setMyCommands`: English by default, Portuguese for `pt` users and Spanish for `es`, each
//! command name lowercase ASCII as Telegram requires.

use std::sync::Arc;

use teloxide_core::payloads::SetMyCommandsSetters as _;
use teloxide_core::prelude::Requester as _;
use teloxide_core::requests::Request as _;
use teloxide_core::types::BotCommand;

use crate::engine::Engine;
use crate::i18n::{Lang, Msg};
use crate::platforms::Listener;

/// The menu in `lang`: `/inc` with what it does.
pub fn commands(engine: &Engine, lang: Lang) -> Vec<BotCommand> {
    let about = Msg::new("telegram-menu-inc");
    vec![BotCommand::new(
        "inc",
        engine.i18n().render(lang, chrono_tz::UTC, &about),
    )]
}

pub fn listener(engine: Arc<Engine>, bot: teloxide_core::Bot) -> Listener {
    Box::new(move |_stop| {
        Box::pin(async move {
            for (lang, code) in [
                (Lang::En, None),
                (Lang::PtBr, Some("pt")),
                (Lang::Es, Some("es")),
            ] {
                let mut request = bot.set_my_commands(commands(&engine, lang));
                if let Some(code) = code {
                    request = request.language_code(code);
                }
                if let Err(error) = request.send().await {
                    tracing::warn!(%error, lang = lang.as_str(), "could not publish the Telegram command menu");
                }
            }
        })
    })
}
