//! `lang`: set the language the room is answered and broadcast to in.

use super::Decision;
use crate::engine::reply;
use crate::i18n::Lang;

pub fn set(lang: Lang) -> Decision {
    Decision {
        reply: Some(reply::language_set(lang)),
        set_language: Some(lang),
        ..Decision::default()
    }
}
