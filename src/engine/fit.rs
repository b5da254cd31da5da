//! Every message fits its destination. When a unit of work commits, after the mentions are
//! rendered (so the lengths are the ones that will be sent), each message is held to its
//! platform's [`Limits`]: a text too long becomes numbered parts, one outbox row each under
//! `{key}#p1`, `{key}#p2`, … (so the worker delivers each exactly once, like any row), cut on a
//! line boundary where possible and never inside a mention token or a character; a card's title
//! and fields are trimmed, a trimmed field ending with where to read it whole (`inc show N`).

use std::ops::Range;

use super::reach::{Limits, Reaches};
use super::reply;
use super::text::mention_tokens;
use crate::i18n::{I18n, Lang, Msg};
use crate::outbox::Rich;
use crate::store::NewOutbound;

/// Room a platform's markup takes between a card field's label and value (Slack's `*label*\n`).
const FIELD_MARKUP: usize = 4;

/// Each message within its platform's limits: split into numbered parts, its card trimmed.
pub fn fit(messages: Vec<NewOutbound>, reaches: &Reaches, i18n: &I18n) -> Vec<NewOutbound> {
    let mut out = Vec::with_capacity(messages.len());
    for mut message in messages {
        let limits = reaches.limits(message.platform);
        let render = |msg: &Msg| i18n.render(message.language, chrono_tz::UTC, msg);
        if let (Some(rich), Some(incident)) = (&message.rich, message.incident) {
            let pointer = render(&reply::trimmed(incident));
            let mut rich = rich.clone();
            trim_card(&mut rich, &limits, &pointer);
            message.rich = Some(rich);
        }
        match limits.text {
            Some(max) if (limits.measure)(&message.text) > max => {
                out.extend(parts(&message, max, limits.measure, message.language, i18n));
            }
            _ => out.push(message),
        }
    }
    out
}

/// The rows of a message split into numbered parts, each `(i/n) ` and its piece of the text.
/// Every part keeps the message's card and recipient, so each stands on its own.
fn parts(
    message: &NewOutbound,
    max: usize,
    measure: fn(&str) -> usize,
    language: Lang,
    i18n: &I18n,
) -> Vec<NewOutbound> {
    let marker = |part: usize, parts: usize| {
        i18n.render(language, chrono_tz::UTC, &reply::part_marker(part, parts))
    };
    // The marker's width depends on the number of parts: plan for the widest, and plan again
    // in the rare case the split needs more digits than planned.
    let mut planned = 2;
    let pieces = loop {
        let reserve = measure(&marker(planned, planned)) + 1;
        let pieces = split(&message.text, max.saturating_sub(reserve).max(1), measure);
        let needed = measure(&marker(pieces.len(), pieces.len())) + 1;
        if needed <= reserve || planned >= pieces.len() {
            break pieces;
        }
        planned = pieces.len();
    };
    let total = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, piece)| {
            let mut part = message.clone();
            part.idempotency_key = format!("{}#p{}", message.idempotency_key, i + 1);
            part.text = format!("{} {}", marker(i + 1, total), piece.trim_end());
            part
        })
        .collect()
}

/// The card's title and fields within the platform's limits; a trimmed field ends with
/// `pointer` (where the whole text is).
fn trim_card(rich: &mut Rich, limits: &Limits, pointer: &str) {
    if let Some(max) = limits.card_title
        && rich.title.chars().count() > max
    {
        let mut title: String = rich.title.chars().take(max.saturating_sub(1)).collect();
        title.push('…');
        rich.title = title;
    }
    let Some(max) = limits.card_field else {
        return;
    };
    let measure = limits.measure;
    for field in &mut rich.fields {
        let budget = max.saturating_sub(measure(&field.label) + FIELD_MARKUP);
        if measure(&field.value) <= budget {
            continue;
        }
        let room = budget.saturating_sub(measure(pointer)).max(1);
        let kept = split(&field.value, room, measure)
            .first()
            .map_or("", |s| s.trim_end());
        field.value = format!("{kept}{pointer}");
    }
}

/// Cuts `text` into pieces of at most `budget` by `measure`, which rejoin to `text`. A piece
/// ends at a line break where one falls in its second half, else after a space, else between
/// two characters (never inside a mention token, a multi-byte character, or between a
/// character and the mark or joiner that completes it). A mention token longer than `budget`
/// is the one thing kept whole past it.
pub fn split(text: &str, budget: usize, measure: fn(&str) -> usize) -> Vec<&str> {
    if measure(text) <= budget {
        return vec![text];
    }
    let units = units(text, measure);
    let n = units.len();
    // Boundary k lies before unit k: its byte position and the measure of what precedes it.
    let pos = |k: usize| if k == 0 { 0 } else { units[k - 1].0.end };
    let cum = |k: usize| if k == 0 { 0 } else { units[k - 1].1 };
    let before = |k: usize| text[..pos(k)].chars().next_back();
    let after = |k: usize| text[pos(k)..].chars().next();
    let allowed = |k: usize| {
        k == n
            || !(after(k).is_some_and(completes)
                || before(k) == Some('\u{200D}')
                || (before(k) == Some('\r') && after(k) == Some('\n')))
    };
    let line = |k: usize| before(k) == Some('\n') && allowed(k);
    let space = |k: usize| before(k).is_some_and(|c| c == ' ' || c == '\t') && allowed(k);
    let mut pieces = Vec::new();
    let mut a = 0;
    while a < n {
        if cum(n) - cum(a) <= budget {
            pieces.push(&text[pos(a)..]);
            break;
        }
        let mut b = a + 1;
        while b < n && cum(b + 1) - cum(a) <= budget {
            b += 1;
        }
        let half = cum(a) + budget / 2;
        let last = |ok: &dyn Fn(usize) -> bool, from: usize| (from..=b).rev().find(|&k| ok(k));
        let first_half_end = (a + 1..=b).find(|&k| cum(k) >= half).unwrap_or(b);
        let cut = last(&line, first_half_end)
            .or_else(|| last(&space, first_half_end))
            .or_else(|| last(&line, a + 1))
            .or_else(|| last(&space, a + 1))
            .or_else(|| last(&allowed, a + 1))
            .unwrap_or(b);
        pieces.push(&text[pos(a)..pos(cut)]);
        a = cut;
    }
    pieces
}

/// The text as units no cut may enter (a mention token, else one character), each with its
/// byte range and the running measure up to its end.
fn units(text: &str, measure: fn(&str) -> usize) -> Vec<(Range<usize>, usize)> {
    let mut tokens = mention_tokens(text).map(|(range, _, _)| range).peekable();
    let mut units = Vec::new();
    let mut at = 0;
    let mut total = 0;
    while at < text.len() {
        let end = match tokens.peek() {
            Some(token) if token.start == at => {
                let end = token.end;
                tokens.next();
                end
            }
            _ => at + text[at..].chars().next().map_or(1, char::len_utf8),
        };
        total += measure(&text[at..end]);
        units.push((at..end, total));
        at = end;
    }
    units
}

/// A character that completes the one before it: a combining mark, a variation selector, an
/// emoji skin tone or tag, or a zero-width joiner.
fn completes(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{200D}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{E0020}'..='\u{E007F}')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::reach::chars;

    fn check(text: &str, budget: usize) -> Vec<&str> {
        let pieces = split(text, budget, chars);
        assert_eq!(pieces.concat(), text, "pieces rejoin to the text");
        for piece in &pieces {
            assert!(chars(piece) <= budget, "{piece:?} is over {budget}");
            assert!(!piece.is_empty() || text.is_empty());
        }
        pieces
    }

    #[test]
    fn a_text_within_the_budget_is_one_piece() {
        assert_eq!(check("abc", 3), ["abc"]);
        assert_eq!(check("", 3), [""]);
        assert_eq!(check("ação", 4), ["ação"]);
    }

    #[test]
    fn cuts_on_line_boundaries_first() {
        let text = "first line\nsecond line\nthird line\n";
        assert_eq!(
            check(text, 24),
            ["first line\nsecond line\n", "third line\n"]
        );
        // Exactly at the limit: the line break is the last character of the piece.
        assert_eq!(check("aaaa\nbbbb\n", 5), ["aaaa\n", "bbbb\n"]);
    }

    #[test]
    fn a_long_line_is_cut_after_a_space_then_anywhere() {
        assert_eq!(check("aaa bbb ccc", 8), ["aaa bbb ", "ccc"]);
        assert_eq!(check("abcdefghij", 4), ["abcd", "efgh", "ij"]);
    }

    #[test]
    fn never_inside_a_character_or_what_completes_it() {
        let text = "ééééé 👍🏽👍🏽👍🏽 e\u{301}e\u{301}";
        for budget in 2..text.chars().count() {
            for piece in check(text, budget) {
                let first = piece.chars().next().unwrap();
                assert!(!completes(first), "{piece:?} starts with a mark");
            }
        }
    }

    #[test]
    fn never_inside_a_mention_token() {
        let text = "ping <@U0123|Joana Silva> and <@telegram:42|Ana> now";
        for budget in 24..text.len() {
            for piece in check(text, budget) {
                assert_eq!(piece.matches("<@").count(), piece.matches('>').count());
            }
        }
        // A token longer than the budget stays whole, alone.
        assert_eq!(split("<@U0123|Joana>", 5, chars), ["<@U0123|Joana>"]);
    }

    #[test]
    fn a_crlf_stays_together() {
        for piece in check("aa\r\nbb\r\ncc", 3) {
            assert!(!piece.starts_with('\n'));
        }
    }

    #[test]
    fn measures_the_way_the_platform_counts() {
        // As if each `&` counted five (Slack's `&amp;`).
        fn escaped(text: &str) -> usize {
            text.chars().map(|c| if c == '&' { 5 } else { 1 }).sum()
        }
        let pieces = split("a&b&c&d", 7, escaped);
        assert_eq!(pieces.concat(), "a&b&c&d");
        assert!(pieces.iter().all(|p| escaped(p) <= 7), "{pieces:?}");
    }

    /// Small limits (40 characters a text) for `platform` only.
    fn small(platform: crate::engine::room::Platform) -> Reaches {
        struct Small(crate::engine::room::Platform);
        impl crate::engine::reach::Reach for Small {
            fn platform(&self) -> crate::engine::room::Platform {
                self.0
            }
            fn limits(&self) -> Limits {
                Limits {
                    text: Some(40),
                    measure: chars,
                    card_title: Some(10),
                    card_field: Some(60),
                }
            }
        }
        let reach: std::sync::Arc<dyn crate::engine::reach::Reach> =
            std::sync::Arc::new(Small(platform));
        Reaches::new([reach])
    }

    fn message(text: &str) -> NewOutbound {
        NewOutbound {
            idempotency_key: "slack:cmd:T1#0".into(),
            room_id: "r".into(),
            platform: crate::engine::room::Platform::Slack,
            chat: "C1".into(),
            thread: None,
            kind: crate::store::MessageKind::Reply,
            language: Lang::PtBr,
            text: text.into(),
            rich: None,
            incident: Some(7),
            priority: 0,
            created_at: chrono::Utc::now(),
            recipient: None,
            topic: None,
        }
    }

    #[test]
    fn a_long_message_becomes_numbered_rows() {
        let i18n = I18n::new().unwrap();
        let reaches = small(crate::engine::room::Platform::Slack);
        let text = (1..=12)
            .map(|i| format!("line {i}"))
            .collect::<Vec<_>>()
            .join("\n");
        let rows = fit(vec![message(&text)], &reaches, &i18n);
        assert!(rows.len() > 1);
        let n = rows.len();
        for (i, row) in rows.iter().enumerate() {
            assert!(chars(&row.text) <= 40, "{:?}", row.text);
            assert_eq!(row.idempotency_key, format!("slack:cmd:T1#0#p{}", i + 1));
            assert!(row.text.starts_with(&format!("({}/{n}) ", i + 1)));
        }
        // A platform with no limits registered (as the console) takes it whole.
        let rows = fit(
            vec![message(&text)],
            &small(crate::engine::room::Platform::Whatsapp),
            &i18n,
        );
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].idempotency_key, "slack:cmd:T1#0");
    }

    #[test]
    fn a_card_is_trimmed_with_a_pointer_in_the_room_language() {
        let i18n = I18n::new().unwrap();
        let reaches = small(crate::engine::room::Platform::Slack);
        let mut m = message("short");
        m.rich = Some(Rich {
            title: "INC-7 · SEV1 · a long title".into(),
            fields: vec![crate::outbox::RichField {
                label: "Impacto".into(),
                value: "x".repeat(200),
            }],
            buttons: Vec::new(),
            ..Rich::default()
        });
        let rows = fit(vec![m], &reaches, &i18n);
        let rich = rows[0].rich.as_ref().unwrap();
        assert_eq!(rich.title, "INC-7 · S…");
        let value = &rich.fields[0].value;
        assert!(
            value.ends_with("(texto completo: inc mostrar 7)"),
            "{value}"
        );
        assert!(chars(value) + chars("Impacto") + FIELD_MARKUP <= 60);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// Every piece fits, the pieces rejoin to the text, and every cut falls between two
        /// atoms (never inside a character cluster, a CRLF or a mention token).
        #[test]
        fn every_piece_fits_and_the_pieces_rejoin(
            atoms in proptest::collection::vec(proptest::sample::select(vec![
                "a", "b", " ", "\n", "\r\n", "é", "👍🏽", "e\u{301}", "👩\u{200D}💻",
                "<@U1>", "<@U0123|Ana Lu>", "<@telegram:42|Bo>", "&",
            ]), 0..300),
            budget in 18usize..90,
        ) {
            let text = atoms.concat();
            let mut boundaries = std::collections::HashSet::from([0]);
            let mut at = 0;
            for atom in &atoms {
                at += atom.len();
                boundaries.insert(at);
            }
            let pieces = split(&text, budget, chars);
            proptest::prop_assert_eq!(pieces.concat(), text.clone());
            let mut at = 0;
            for piece in &pieces {
                proptest::prop_assert!(chars(piece) <= budget, "{:?} over {}", piece, budget);
                proptest::prop_assert!(!piece.is_empty() || text.is_empty());
                proptest::prop_assert!(boundaries.contains(&at), "a cut inside an atom at {}", at);
                at += piece.len();
            }
        }
    }
}
