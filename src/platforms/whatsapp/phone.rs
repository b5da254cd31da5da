//! Phone numbers, which are personal data: normalised to E.164 on the way in, compared the way
//! WhatsApp identifies people, and masked or redacted before anything is logged or shown outside
//! the room they belong to.

/// `+5511987654321` from `+55 (11) 98765-4321`, `005511987654321` or WhatsApp's `wa_id`
/// (`5511987654321`); `None` when it cannot be an E.164 number (8 to 15 digits, no leading 0).
pub fn normalize(raw: &str) -> Option<String> {
    // `+` and `00` both start an international number; a wa_id is international without them.
    let trimmed = raw.trim();
    let rest = trimmed
        .strip_prefix('+')
        .or_else(|| trimmed.strip_prefix("00"))
        .unwrap_or(trimmed);
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    // A number written for dialling inside a country (a leading 0) is not international.
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return None;
    }
    Some(format!("+{digits}"))
}

/// Whether two E.164 numbers reach the same WhatsApp account. Brazilian mobiles gained a ninth
/// digit in 2012–2016, and WhatsApp still reports many older accounts without it
/// (`+55 11 8765-4321` for `+55 11 98765-4321`): those count as one number.
pub fn same_number(a: &str, b: &str) -> bool {
    a == b || brazil_without_nine(a) == brazil_without_nine(b)
}

/// A Brazilian mobile without its ninth digit; any other number as it is.
fn brazil_without_nine(number: &str) -> String {
    match number.strip_prefix("+55") {
        // +55, a two-digit area code, then 9 and a mobile's eight digits (which start with 6
        // to 9; a landline's start with 2 to 5 and never had a ninth digit).
        Some(rest)
            if rest.len() == 11 && rest.as_bytes()[2] == b'9' && rest.as_bytes()[3] >= b'6' =>
        {
            format!("+55{}{}", &rest[..2], &rest[3..])
        }
        _ => number.to_string(),
    }
}

/// `+55…4321`: enough to tell people apart in a log or another room, not enough to call them.
pub fn mask(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 8 {
        return "…".to_string();
    }
    let country: String = digits.iter().take(2).collect();
    let last: String = digits[digits.len() - 4..].iter().collect();
    format!("+{country}…{last}")
}

/// The number as the Cloud API's `to` takes it (digits only).
pub fn wa_id(number: &str) -> String {
    number.chars().filter(char::is_ascii_digit).collect()
}

/// Hides anything that looks like a phone number (7 or more digits in a row, with the usual
/// separators) so error texts can be logged and stored.
pub fn redact_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.chars().filter(char::is_ascii_digit).count() >= 7 {
            out.push_str("***");
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        let continues =
            c.is_ascii_digit() || (!run.is_empty() && matches!(c, ' ' | '-' | '(' | ')' | '.'));
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) || continues {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalised_to_e164() {
        assert_eq!(
            normalize("+55 (11) 98765-4321").as_deref(),
            Some("+5511987654321")
        );
        assert_eq!(
            normalize("5511987654321").as_deref(),
            Some("+5511987654321")
        );
        assert_eq!(
            normalize("00 1 650 555 1234").as_deref(),
            Some("+16505551234")
        );
        assert_eq!(normalize("011 98765 4321"), None);
        assert_eq!(normalize("12345"), None);
        assert_eq!(normalize("+55 11 9876x-4321"), None);
    }

    #[test]
    fn brazilian_numbers_match_with_or_without_the_ninth_digit() {
        assert!(same_number("+5511987654321", "+551187654321"));
        assert!(same_number("+551187654321", "+5511987654321"));
        assert!(!same_number("+5511987654321", "+5511987654322"));
        assert!(!same_number("+16505551234", "+1650555123"));
        // A landline (eight digits starting 2–5) is not a mobile missing its 9.
        assert!(!same_number("+5511932345678", "+551132345678"));
    }

    #[test]
    fn masks_and_redacts() {
        assert_eq!(mask("+5511987654321"), "+55…4321");
        assert_eq!(wa_id("+5511987654321"), "5511987654321");
        assert_eq!(
            redact_numbers("Recipient +55 11 98765-4321 is not on WhatsApp (code 131026)"),
            "Recipient ***is not on WhatsApp (code 131026)"
        );
        assert_eq!(
            redact_numbers("error 130429 at 12:30"),
            "error 130429 at 12:30"
        );
    }
}
