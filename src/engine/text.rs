//! Text helpers shared by the parser and the model: accent folding, tokenising with quotes, the
//! caps on how much text one command may carry, and mention tokens (`<@U0123>`, `<@telegram:42>`).

/// The longest command message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// The longest incident title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest free-text field (impact, note, update part, follow-up), in characters.
pub const MAX_FIELD_CHARS: usize = 2000;

pub use crate::i18n::fold;

/// Characters a command must not contain: C0/C1 controls other than line breaks and tabs, and the
/// bidirectional overrides that can make a message read differently from what it says.
pub fn is_forbidden_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One token of a command line: a bare or quoted word, or a `key=value` option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Token {
    Word { text: String, quoted: bool },
    Option { key: String, value: String },
}

/// The only way tokenising fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnterminatedQuote;

fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '\'' => Some('\''),
        '“' => Some('”'),
        '”' => Some('”'),
        '‘' => Some('’'),
        '«' => Some('»'),
        _ => None,
    }
}

/// Splits on white space, keeping "quoted strings" (straight, curly and « » quotes, as phone
/// keyboards type them) whole, and recognising `key=value` / `key="quoted value"`.
pub fn tokenize(input: &str) -> Result<Vec<Token>, UnterminatedQuote> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else { break };
        if let Some(close) = closing_quote(first) {
            chars.next();
            let text = read_quoted(&mut chars, close)?;
            tokens.push(Token::Word { text, quoted: true });
            continue;
        }
        let mut word = String::new();
        let mut option_value = None;
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '=' && option_value.is_none() && !word.is_empty() {
                let value = match chars.peek().copied().and_then(closing_quote) {
                    Some(close) => {
                        chars.next();
                        read_quoted(&mut chars, close)?
                    }
                    None => {
                        let mut v = String::new();
                        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
                            v.push(c);
                        }
                        v
                    }
                };
                option_value = Some(value);
                break;
            }
            word.push(c);
        }
        match option_value {
            Some(value) => tokens.push(Token::Option { key: word, value }),
            None => tokens.push(Token::Word {
                text: word,
                quoted: false,
            }),
        }
    }
    Ok(tokens)
}

fn read_quoted(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    close: char,
) -> Result<String, UnterminatedQuote> {
    let mut text = String::new();
    for c in chars.by_ref() {
        // A phone may close a straight quote with a curly one; accept either ending.
        if c == close || (close == '”' && c == '"') || (close == '"' && c == '”') {
            return Ok(text);
        }
        text.push(c);
    }
    Err(UnterminatedQuote)
}

/// One mention token in a text (`<@ID>`, `<@ID|label>`, `<@ns:ID|label>`, see
/// [`super::reach`]): the byte range, the id with its namespace, and the label.
pub fn mention_tokens(
    text: &str,
) -> impl Iterator<Item = (std::ops::Range<usize>, &str, Option<&str>)> {
    let mut from = 0;
    std::iter::from_fn(move || {
        while let Some(found) = text[from..].find("<@") {
            let start = from + found;
            let rest = &text[start + 2..];
            let end = rest.find('>')?;
            let inner = &rest[..end];
            let (id, label) = match inner.split_once('|') {
                Some((id, label)) => (id, Some(label)),
                None => (inner, None),
            };
            from = start + 2;
            if is_mention_id(id) {
                let range = start..start + 2 + end + 1;
                from = range.end;
                return Some((range, id, label));
            }
        }
        None
    })
}

/// A Slack user id (`U0123`), or another platform's user id with its name (`telegram:42`).
fn is_mention_id(id: &str) -> bool {
    let (ns, rest) = match id.split_once(':') {
        Some((ns, rest)) if !ns.is_empty() => (ns, rest),
        Some(_) => return false,
        None => ("", id),
    };
    ns.chars().all(|c| c.is_ascii_lowercase())
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Rewrites each mention token with `with(id, label)`.
pub fn rewrite_mentions(text: &str, mut with: impl FnMut(&str, Option<&str>) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, id, label) in mention_tokens(text) {
        out.push_str(&text[last..range.start]);
        out.push_str(&with(id, label));
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn mentions_become_names_outside_slack() {
        let names = std::collections::HashMap::from([("U01ANA".to_string(), "Ana".to_string())]);
        let name_mentions = |text: &str| {
            rewrite_mentions(text, |id, label| {
                format!(
                    "@{}",
                    names.get(id).map(String::as_str).or(label).unwrap_or(id)
                )
            })
        };
        let text = "commander <@U01ANA>, ack by <@U02BEN|ben>, <@W3> and <@not an id> < 5%";
        let ids: Vec<&str> = mention_tokens(text).map(|(_, id, _)| id).collect();
        assert_eq!(ids, vec!["U01ANA", "U02BEN", "W3"]);
        assert_eq!(
            name_mentions(text),
            "commander @Ana, ack by @ben, @W3 and <@not an id> < 5%"
        );
        assert_eq!(name_mentions("no mentions <@"), "no mentions <@");
        let ids: Vec<&str> = mention_tokens("<@telegram:42|Ana> <@:x> <@foo.bar>")
            .map(|(_, id, _)| id)
            .collect();
        assert_eq!(ids, vec!["telegram:42"]);
    }

    use super::*;

    fn word(t: &str) -> Token {
        Token::Word {
            text: t.into(),
            quoted: false,
        }
    }

    #[test]
    fn folds_accents_and_case() {
        assert_eq!(fold("ATUALIZAÇÃO"), "atualizacao");
        assert_eq!(fold("Cronología"), "cronologia");
        assert_eq!(fold("año"), "ano");
    }

    #[test]
    fn tokenizes_quotes_and_options() {
        let t =
            tokenize(r#"declare sev1 "Checkout down" impact="cards failing" next=15m"#).unwrap();
        assert_eq!(t[0], word("declare"));
        assert_eq!(t[1], word("sev1"));
        assert_eq!(
            t[2],
            Token::Word {
                text: "Checkout down".into(),
                quoted: true
            }
        );
        assert_eq!(
            t[3],
            Token::Option {
                key: "impact".into(),
                value: "cards failing".into()
            }
        );
        assert_eq!(
            t[4],
            Token::Option {
                key: "next".into(),
                value: "15m".into()
            }
        );
    }

    #[test]
    fn curly_quotes_from_phones() {
        let t = tokenize("declarar “Rastreio fora do ar”").unwrap();
        assert_eq!(
            t[1],
            Token::Word {
                text: "Rastreio fora do ar".into(),
                quoted: true
            }
        );
        assert_eq!(tokenize("note \"open"), Err(UnterminatedQuote));
        assert_eq!(tokenize("note impact=\"open"), Err(UnterminatedQuote));
    }

    #[test]
    fn forbidden_chars() {
        assert!(is_forbidden_char('\u{0007}'));
        assert!(is_forbidden_char('\u{202E}'));
        assert!(!is_forbidden_char('\n'));
        assert!(!is_forbidden_char('é'));
    }
}
