//! Block Kit for the incident card (a header, the fields, the Ack / Update / Escalate / Resolve
//! buttons) within Block Kit's limits, and Slack's text escaping. The engine fits texts and
//! cards to these limits at commit (`engine::fit`, through `SlackReach`); the clipping here only
//! guards what is drawn.

use slack_morphism::prelude::{
    SlackActionBlockElement, SlackActionId, SlackActionsBlock, SlackBlock, SlackBlockButtonElement,
    SlackBlockButtonStyle, SlackBlockMarkDownText, SlackBlockText, SlackHeaderBlock,
    SlackSectionBlock,
};

use crate::outbox::Rich;

/// The longest message text Slack takes (`msg_too_long` past it), as sent (escaped).
pub const TEXT_MAX: usize = 40_000;
/// Block Kit's limits: header text, one section field, a button's label, fields per section,
/// blocks per message.
pub const HEADER_MAX: usize = 150;
pub const FIELD_MAX: usize = 2000;
const BUTTON_MAX: usize = 75;
const FIELDS_PER_SECTION: usize = 10;
const BLOCKS_MAX: usize = 50;

/// A text's length as Slack counts it: in characters, once escaped.
pub fn escaped_len(text: &str) -> usize {
    if !text.contains(['&', '<', '>']) {
        return text.chars().count();
    }
    escape(text).chars().count()
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut clipped: String = text.chars().take(max - 1).collect();
        clipped.push('…');
        clipped
    }
}

/// Whether `inner` (between `<` and `>`) is a control sequence runroom means: a user mention
/// `@U…`, a channel link `#C…` or a broadcast `!here`, with an optional label after `|`. The id
/// has no space; a label may (`<@U0ABC|Bruno Díaz>`, as Slack writes a display name).
fn is_control(inner: &str) -> bool {
    let (id, label) = inner.split_once('|').unwrap_or((inner, ""));
    id.starts_with(['@', '#', '!'])
        && id.len() > 1
        && !id.contains(['<', ' ', '\n'])
        && !label.contains(['<', '\n'])
}

/// Escapes `&`, `<` and `>` as Slack requires, except in the control sequences runroom means:
/// user mentions `<@U…>`, channel links `<#C…>` and `<!here>`-style broadcasts.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<' {
            if let Some(end) = rest.find('>')
                && is_control(&rest[1..end])
            {
                out.push_str(&rest[..=end]);
                rest = &rest[end + 1..];
                continue;
            }
            out.push_str("&lt;");
        } else if c == '>' {
            out.push_str("&gt;");
        } else if c == '&' {
            out.push_str("&amp;");
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out
}

fn markdown(text: String) -> SlackBlockText {
    SlackBlockText::MarkDown(SlackBlockMarkDownText::new(text))
}

/// The card: the title as a header, each field as `*label*` over its value, and a row of
/// buttons whose `action_id` is the button's id (`ack:7`), which comes back when pressed.
pub fn card(rich: &Rich) -> Vec<SlackBlock> {
    let mut blocks = vec![SlackBlock::Header(SlackHeaderBlock::new(
        clip(&rich.title, HEADER_MAX).into(),
    ))];
    // The header and the buttons take two of the 50 blocks; the fields fill the rest at most.
    let most = (BLOCKS_MAX - 2) * FIELDS_PER_SECTION;
    for chunk in rich.fields[..rich.fields.len().min(most)].chunks(FIELDS_PER_SECTION) {
        let fields = chunk
            .iter()
            .map(|f| {
                let label = escape(&f.label);
                let value = escape(&f.value);
                markdown(clip(&format!("*{label}*\n{value}"), FIELD_MAX))
            })
            .collect();
        blocks.push(SlackBlock::Section(
            SlackSectionBlock::new().with_fields(fields),
        ));
    }
    if !rich.buttons.is_empty() {
        let buttons = rich
            .buttons
            .iter()
            .map(|b| {
                let mut button = SlackBlockButtonElement::new(clip(&b.label, BUTTON_MAX).into())
                    .with_action_id(SlackActionId(b.id.clone()))
                    .with_value(b.id.clone());
                if b.id.starts_with("ack:") {
                    button = button.with_style(SlackBlockButtonStyle::Primary);
                } else if b.id.starts_with("resolve:") {
                    button = button.with_style(SlackBlockButtonStyle::Danger);
                }
                SlackActionBlockElement::Button(button)
            })
            .collect();
        blocks.push(SlackBlock::Actions(SlackActionsBlock::new(buttons)));
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::{RichButton, RichField};

    #[test]
    fn escapes_text_but_keeps_mentions() {
        assert_eq!(
            escape("p99 < 5s & <@U01ANA> said <!here> > ok <#C01|runroom> <b>"),
            "p99 &lt; 5s &amp; <@U01ANA> said <!here> &gt; ok <#C01|runroom> &lt;b&gt;"
        );
        assert_eq!(escape("a <@ b"), "a &lt;@ b");
        // A display name with a space is a label, not the end of the mention.
        assert_eq!(
            escape("commander: <@U0ABC|Bruno Díaz> & <#C01|war room>"),
            "commander: <@U0ABC|Bruno Díaz> &amp; <#C01|war room>"
        );
        assert_eq!(escape("<@U0 ABC|x>"), "&lt;@U0 ABC|x&gt;");
        assert_eq!(escaped_len("<@U0ABC|Bruno Díaz>"), 19);
    }

    #[test]
    fn card_has_header_fields_and_buttons() {
        let rich = Rich {
            title: "INC-7 · SEV1 · Checkout down".into(),
            fields: vec![RichField {
                label: "Commander".into(),
                value: "<@U01ANA>".into(),
            }],
            buttons: vec![
                RichButton {
                    id: "ack:7".into(),
                    label: "Ack".into(),
                },
                RichButton {
                    id: "resolve:7".into(),
                    label: "Resolve".into(),
                },
            ],
            ..Rich::default()
        };
        let json = serde_json::to_value(card(&rich)).expect("blocks serialise");
        assert_eq!(json[0]["type"], "header");
        assert_eq!(json[0]["text"]["text"], "INC-7 · SEV1 · Checkout down");
        assert_eq!(json[1]["fields"][0]["text"], "*Commander*\n<@U01ANA>");
        assert_eq!(json[2]["elements"][0]["action_id"], "ack:7");
        assert_eq!(json[2]["elements"][0]["style"], "primary");
        assert_eq!(json[2]["elements"][1]["style"], "danger");
    }
}
