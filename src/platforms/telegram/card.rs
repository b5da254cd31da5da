//! The incident card as Telegram shows it: one HTML message (the title in bold, a line per
//! field) under an inline keyboard of the card's buttons, whose `callback_data` is the button's
//! id (`ack:7`), and the forum topic's name. Everything fits Telegram's limits: 4,096
//! characters of text (field values are cut, with `…`, never the message refused), 64 bytes of
//! `callback_data`, 128 characters of topic name.

use teloxide_core::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use super::TEXT_MAX;
use super::outbound::html;
use crate::outbox::Rich;

/// The most bytes Telegram takes as a button's `callback_data`.
pub const CALLBACK_DATA_MAX: usize = 64;
/// The longest forum topic name.
pub const TOPIC_NAME_MAX: usize = 128;
/// Buttons on one row of the keyboard.
const PER_ROW: usize = 2;

fn visible(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `text` cut to at most `max` UTF-16 units, ending in `…` when it was cut.
fn cut(text: &str, max: usize) -> String {
    if visible(text) <= max {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() + 1 > max {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

/// The card's text as HTML: counted as Telegram counts it (the visible text, after the markup
/// is read), it fits one message.
pub fn text(rich: &Rich) -> String {
    let title = cut(&rich.title, TEXT_MAX / 4);
    let mut used = visible(&title);
    let mut out = format!("<b>{}</b>", html(&title));
    for (i, field) in rich.fields.iter().enumerate() {
        // Each field gets an equal share of what is left, so the last ones are not dropped.
        let left = rich.fields.len() - i;
        let label = cut(&field.label, 100);
        let room = TEXT_MAX.saturating_sub(used) / left;
        // "\n" and ": " around the label.
        let value = cut(&field.value, room.saturating_sub(visible(&label) + 3));
        used += visible(&label) + visible(&value) + 3;
        out.push_str(&format!("\n<b>{}</b>: {}", html(&label), html(&value)));
    }
    out
}

/// The card's buttons, two to a row; `None` when it has none (a resolved incident's card).
pub fn keyboard(rich: &Rich) -> Option<InlineKeyboardMarkup> {
    let buttons: Vec<InlineKeyboardButton> = rich
        .buttons
        .iter()
        .filter(|b| b.id.len() <= CALLBACK_DATA_MAX)
        .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.id.clone()))
        .collect();
    if buttons.is_empty() {
        return None;
    }
    Some(InlineKeyboardMarkup::new(
        buttons
            .chunks(PER_ROW)
            .map(<[InlineKeyboardButton]>::to_vec),
    ))
}

/// The name of the incident's forum topic (`INC-7 · Checkout down`), or its card title.
pub fn topic_name(rich: &Rich) -> String {
    let name = rich.name.as_deref().unwrap_or(&rich.title);
    let mut out: String = name.chars().take(TOPIC_NAME_MAX).collect();
    if name.chars().count() > TOPIC_NAME_MAX {
        out.pop();
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{RichButton, RichField};

    fn rich(value: &str) -> Rich {
        Rich {
            title: "INC-7 · SEV1 · Checkout <down>".into(),
            fields: vec![
                RichField {
                    label: "Status".into(),
                    value: "investigating".into(),
                },
                RichField {
                    label: "Impact".into(),
                    value: value.into(),
                },
            ],
            buttons: vec![
                RichButton {
                    id: "ack:7".into(),
                    label: "Ack".into(),
                },
                RichButton {
                    id: "update:7".into(),
                    label: "Update".into(),
                },
                RichButton {
                    id: "resolve:7".into(),
                    label: "Resolve".into(),
                },
                RichButton {
                    id: "x".repeat(65),
                    label: "Too long".into(),
                },
            ],
            name: Some("INC-7 · Checkout".into()),
            closed: false,
        }
    }

    #[test]
    fn the_card_is_escaped_html_with_a_line_per_field() {
        assert_eq!(
            text(&rich("pagos & <5%")),
            "<b>INC-7 · SEV1 · Checkout &lt;down&gt;</b>\n<b>Status</b>: investigating\n\
             <b>Impact</b>: pagos &amp; &lt;5%"
        );
    }

    #[test]
    fn a_huge_field_is_cut_and_the_card_fits_one_message() {
        let card = text(&rich(&"é".repeat(10_000)));
        let shown = card
            .replace("<b>", "")
            .replace("</b>", "")
            .replace("&lt;", "<")
            .replace("&gt;", ">");
        assert!(visible(&shown) <= TEXT_MAX, "{}", visible(&shown));
        assert!(shown.ends_with('…'));
        assert!(shown.contains("Status: investigating"));
    }

    #[test]
    fn buttons_go_two_to_a_row_and_overlong_data_is_left_out() {
        let markup = keyboard(&rich("x")).expect("buttons");
        let rows: Vec<Vec<String>> = markup
            .inline_keyboard
            .iter()
            .map(|row| row.iter().map(|b| b.text.clone()).collect())
            .collect();
        assert_eq!(rows, vec![vec!["Ack", "Update"], vec!["Resolve"]]);
        assert!(
            keyboard(&Rich::default()).is_none(),
            "a resolved card has no buttons"
        );
    }

    #[test]
    fn a_topic_name_fits_telegrams_limit() {
        let mut long = rich("x");
        long.name = Some("INC-7 · ".to_string() + &"a".repeat(300));
        assert_eq!(topic_name(&long).chars().count(), TOPIC_NAME_MAX);
        assert_eq!(topic_name(&rich("x")), "INC-7 · Checkout");
    }
}
