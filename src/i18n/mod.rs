//! Localisation: the Fluent bundles for en, pt-BR and es (embedded in the binary), language
//! negotiation, fallback to English, and rendering of [`Msg`] values in a room's language and zone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::{Deserialize, Serialize};
use unic_langid::LanguageIdentifier;

mod msg;

pub use self::msg::{Arg, Msg};

/// A language runroom speaks. `en` is the fallback and the master list of message ids.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Lang {
    #[default]
    #[serde(rename = "en")]
    En,
    #[serde(rename = "pt-BR")]
    PtBr,
    #[serde(rename = "es")]
    Es,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::PtBr, Lang::Es];

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::PtBr => "pt-BR",
            Lang::Es => "es",
        }
    }

    fn langid(self) -> LanguageIdentifier {
        match self {
            Lang::En => unic_langid::langid!("en"),
            Lang::PtBr => unic_langid::langid!("pt-BR"),
            Lang::Es => unic_langid::langid!("es"),
        }
    }

    /// Accepts tags (`pt`, `pt_BR`, `pt-PT`, `es-MX`, `en-GB`) negotiated against the three
    /// locales, and the languages' own names (`português`, `español`, `english`).
    pub fn parse(raw: &str) -> Option<Lang> {
        match fold(raw).as_str() {
            "english" | "ingles" => return Some(Lang::En),
            "portugues" | "portuguese" | "portugues-br" => return Some(Lang::PtBr),
            "espanol" | "spanish" | "espanhol" | "castellano" => return Some(Lang::Es),
            _ => {}
        }
        let requested: LanguageIdentifier = raw.replace('_', "-").parse().ok()?;
        let available: Vec<LanguageIdentifier> = Lang::ALL.iter().map(|l| l.langid()).collect();
        let chosen = fluent_langneg::negotiate_languages(
            &[requested],
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Filtering,
        );
        let first = chosen.first()?;
        Lang::ALL.into_iter().find(|l| &l.langid() == *first)
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Fluent files of one locale, embedded so the binary runs from anywhere.
macro_rules! locale_files {
    ($dir:literal) => {
        [
            include_str!(concat!("../../locales/", $dir, "/incidents.ftl")),
            include_str!(concat!("../../locales/", $dir, "/commands.ftl")),
            include_str!(concat!("../../locales/", $dir, "/errors.ftl")),
            include_str!(concat!("../../locales/", $dir, "/whatsapp.ftl")),
            include_str!(concat!("../../locales/", $dir, "/schedule.ftl")),
            include_str!(concat!("../../locales/", $dir, "/alerts.ftl")),
            include_str!(concat!("../../locales/", $dir, "/playbooks.ftl")),
            include_str!(concat!("../../locales/", $dir, "/postmortem.ftl")),
            include_str!(concat!("../../locales/", $dir, "/dashboard.ftl")),
            include_str!(concat!("../../locales/", $dir, "/access.ftl")),
        ]
    };
}

/// The embedded Fluent sources of a language, for the parity test and for loading.
pub fn sources(lang: Lang) -> [&'static str; 10] {
    match lang {
        Lang::En => locale_files!("en"),
        Lang::PtBr => locale_files!("pt-BR"),
        Lang::Es => locale_files!("es"),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("locale {lang}: {problem}")]
pub struct I18nError {
    lang: Lang,
    problem: String,
}

/// All bundles, shareable across tasks; one per language, in [`Lang::ALL`]'s order.
pub struct I18n {
    bundles: Vec<FluentBundle<FluentResource>>,
}

impl std::fmt::Debug for I18n {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("I18n").finish_non_exhaustive()
    }
}

impl I18n {
    pub fn new() -> Result<I18n, I18nError> {
        let mut bundles = Vec::with_capacity(Lang::ALL.len());
        for lang in Lang::ALL {
            let mut bundle = FluentBundle::new_concurrent(vec![lang.langid()]);
            // Chat clients show the isolation marks as boxes or keep them in copied text.
            bundle.set_use_isolating(false);
            for source in sources(lang) {
                let resource =
                    FluentResource::try_new(source.to_string()).map_err(|(_, errors)| {
                        I18nError {
                            lang,
                            problem: format!("syntax: {errors:?}"),
                        }
                    })?;
                bundle.add_resource(resource).map_err(|errors| I18nError {
                    lang,
                    problem: format!("{errors:?}"),
                })?;
            }
            bundles.push(bundle);
        }
        Ok(I18n { bundles })
    }

    /// Renders a message in `lang`, with times in `tz`. A message missing in `lang` falls back to
    /// English; one missing everywhere renders as its id (and the parity tests keep that from
    /// shipping).
    pub fn render(&self, lang: Lang, tz: Tz, msg: &Msg) -> String {
        let mut out = String::new();
        self.write(lang, tz, msg, &mut out);
        out
    }

    /// Appends `msg`, rendered, to `out`. Text arguments are lent to Fluent, not copied, and a
    /// message's lines are written into one buffer: a page of twenty lines is some eighty
    /// messages, and each copy of their text would be another allocation.
    fn write(&self, lang: Lang, tz: Tz, msg: &Msg, out: &mut String) {
        let mut args = FluentArgs::with_capacity(msg.args.len());
        for (name, arg) in &msg.args {
            let value = match arg {
                Arg::Text(s) => FluentValue::from(s.as_str()),
                Arg::Number(n) => FluentValue::from(*n),
                Arg::Time(t) => {
                    FluentValue::from(self.format_time(lang, tz, *t, "format-datetime"))
                }
                Arg::Clock(t) => FluentValue::from(self.format_time(lang, tz, *t, "format-time")),
                Arg::Msg(inner) => FluentValue::from(self.render(lang, tz, inner)),
                Arg::Lines(lines) => {
                    let mut text = String::new();
                    for (i, line) in lines.iter().enumerate() {
                        if i > 0 {
                            text.push('\n');
                        }
                        self.write(lang, tz, line, &mut text);
                    }
                    FluentValue::from(text)
                }
            };
            args.set(*name, value);
        }
        let start = out.len();
        if !self.write_message(lang, msg.id, Some(&args), out)
            && !self.write_message(Lang::En, msg.id, Some(&args), out)
        {
            tracing::error!(id = msg.id, "message id missing from every locale");
            out.push_str(msg.id);
        }
        // Optional trailing parts (`{ $details }`) may be empty: no dangling blank line.
        let end = start + out[start..].trim_end().len();
        out.truncate(end);
    }

    /// Appends message `id` of `lang` to `out`; false when `lang` has no such message.
    fn write_message(
        &self,
        lang: Lang,
        id: &str,
        args: Option<&FluentArgs>,
        out: &mut String,
    ) -> bool {
        let Some(bundle) = Lang::ALL
            .iter()
            .position(|l| *l == lang)
            .and_then(|i| self.bundles.get(i))
        else {
            return false;
        };
        let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
            return false;
        };
        let mut errors = Vec::new();
        // Writing to a `String` cannot fail.
        let _ = bundle.write_pattern(out, pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(
                id,
                ?errors,
                lang = lang.as_str(),
                "fluent formatting problems"
            );
        }
        true
    }

    /// Times are stored in UTC and shown in the room's zone with the locale's own pattern.
    fn format_time(&self, lang: Lang, tz: Tz, at: DateTime<Utc>, pattern_id: &str) -> String {
        let mut pattern = String::new();
        if !self.write_message(lang, pattern_id, None, &mut pattern) {
            pattern = "%Y-%m-%d %H:%M %Z".to_string();
        }
        at.with_timezone(&tz).format(&pattern).to_string()
    }
}

/// Lower-cases and strips the Portuguese and Spanish diacritics so `Atualização`, `atualizacao`
/// and `ATUALIZAÇÃO` compare equal. Phones add or drop accents at will; commands must not care.
pub fn fold(raw: &str) -> String {
    raw.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' => 'a',
            'é' | 'ê' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ñ' => 'n',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ids(lang: Lang) -> BTreeSet<String> {
        let mut ids = BTreeSet::new();
        for source in sources(lang) {
            let resource = FluentResource::try_new(source.to_string())
                .unwrap_or_else(|_| panic!("{lang} does not parse"));
            for entry in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = entry {
                    ids.insert(m.id.name.to_string());
                }
            }
        }
        ids
    }

    #[test]
    fn every_locale_has_every_message() {
        let master = ids(Lang::En);
        assert!(master.len() > 50, "en has {} messages", master.len());
        for lang in [Lang::PtBr, Lang::Es] {
            let other = ids(lang);
            let missing: Vec<_> = master.difference(&other).collect();
            let extra: Vec<_> = other.difference(&master).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has ids en lacks: {extra:?}");
        }
    }

    #[test]
    fn every_id_the_code_uses_exists_in_english() {
        let master = ids(Lang::En);
        let mut used = BTreeSet::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src"
        ))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let code = std::fs::read_to_string(&path).unwrap();
                    for piece in code.split("Msg::new(\"").skip(1) {
                        let id = piece.split('"').next().unwrap();
                        used.insert(id.to_string());
                    }
                }
            }
        }
        assert!(used.len() > 40, "found only {} ids in the code", used.len());
        let missing: Vec<_> = used.difference(&master).collect();
        assert!(
            missing.is_empty(),
            "used in code but not in locales/en: {missing:?}"
        );
    }

    #[test]
    fn negotiates_tags_and_names() {
        assert_eq!(Lang::parse("pt"), Some(Lang::PtBr));
        assert_eq!(Lang::parse("pt_BR"), Some(Lang::PtBr));
        assert_eq!(Lang::parse("pt-PT"), Some(Lang::PtBr));
        assert_eq!(Lang::parse("es-MX"), Some(Lang::Es));
        assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
        assert_eq!(Lang::parse("Português"), Some(Lang::PtBr));
        assert_eq!(Lang::parse("fr"), None);
        assert_eq!(Lang::parse("klingon!"), None);
    }

    /// Bundles of the given sources (en, pt-BR, es), for rendering rules the real locales'
    /// parity would never exercise.
    fn bundles_of(sources: [&str; 3]) -> I18n {
        let bundles = Lang::ALL
            .iter()
            .zip(sources)
            .map(|(lang, source)| {
                let mut bundle = FluentBundle::new_concurrent(vec![lang.langid()]);
                bundle.set_use_isolating(false);
                let resource = FluentResource::try_new(source.to_string()).unwrap();
                bundle.add_resource(resource).unwrap();
                bundle
            })
            .collect();
        I18n { bundles }
    }

    #[test]
    fn falls_back_to_english_then_to_the_id_and_trims_each_part() {
        let i18n = bundles_of([
            "page = { $count } open:\n    { $items }\nitem = { $name } · { $state } { $extra }\ngone = only in English",
            "page = { $count } abertos:\n    { $items }\nitem = { $name } · { $state } { $extra }\nsev = crítico",
            "page = x\nitem = y\nsev = z",
        ]);
        let item = |name: &str, state: Msg| Msg {
            id: "item",
            args: vec![
                ("name", Arg::Text(name.into())),
                ("state", Arg::Msg(state)),
                // An optional part left empty: the line must not end in a blank.
                ("extra", Arg::Text(String::new())),
            ],
        };
        let page = Msg {
            id: "page",
            args: vec![
                ("count", Arg::Number(2)),
                (
                    "items",
                    Arg::Lines(vec![
                        item(
                            "API",
                            Msg {
                                id: "sev",
                                args: Vec::new(),
                            },
                        ),
                        item(
                            "DB",
                            Msg {
                                id: "gone",
                                args: Vec::new(),
                            },
                        ),
                        item(
                            "Edge",
                            Msg {
                                id: "nowhere",
                                args: Vec::new(),
                            },
                        ),
                    ]),
                ),
            ],
        };
        // pt-BR has "sev"; "gone" only English has; "nowhere" no language has. Each line's
        // trailing blank is trimmed before the lines are joined.
        assert_eq!(
            i18n.render(Lang::PtBr, chrono_tz::UTC, &page),
            "2 abertos:\nAPI · crítico\nDB · only in English\nEdge · nowhere"
        );
    }

    #[test]
    fn no_isolation_marks_and_zone_aware_times() {
        use chrono::TimeZone;
        let i18n = I18n::new().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 13, 5, 0).unwrap();
        let msg = Msg::new("show-acked")
            .text("actor", "joana")
            .time("time", at);
        let en = i18n.render(Lang::En, chrono_tz::UTC, &msg);
        let pt = i18n.render(Lang::PtBr, chrono_tz::America::Sao_Paulo, &msg);
        assert!(
            !en.contains('\u{2068}') && !en.contains('\u{2069}'),
            "{en:?}"
        );
        assert!(en.contains("13:05"), "{en}");
        assert!(pt.contains("10:05"), "São Paulo is UTC-3: {pt}");
        assert!(pt.contains("22/11/2026"), "{pt}");
    }
}
