//! The command grammar, one for every platform: pure text in, a typed [`Command`] or a typed
//! [`ParseError`] out. Verbs, option keys and words are tables in English, Portuguese and Spanish.

use super::incident::{Severity, Status, UpdateFields};
use super::text::{
    MAX_FIELD_CHARS, MAX_MESSAGE_CHARS, MAX_TITLE_CHARS, Token, fold, is_forbidden_char, tokenize,
};
use crate::i18n::Lang;

/// What a command asks for. Each verb's help text lives in the locales as `help-<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    Declare,
    Sev,
    Status,
    Assign,
    Ack,
    Update,
    Note,
    FollowUp,
    Resolve,
    Reopen,
    List,
    Show,
    Timeline,
    Help,
    Lang,
    Snooze,
    Escalate,
    Check,
    Oncall,
    Handoff,
    Heartbeats,
    Playbook,
    Postmortem,
}

/// Every verb with its aliases; the first alias is the canonical English name.
pub const VERBS: &[(Verb, &[&str])] = &[
    (
        Verb::Declare,
        &[
            "declare", "declarar", "open", "abrir", "new", "novo", "nuevo",
        ],
    ),
    (Verb::Sev, &["sev", "severity", "severidade", "severidad"]),
    (Verb::Status, &["status", "estado", "situacao"]),
    (
        Verb::Assign,
        &["assign", "role", "atribuir", "asignar", "papel", "rol"],
    ),
    (
        Verb::Ack,
        &[
            "ack",
            "acknowledge",
            "ciente",
            "entendido",
            "recibido",
            "visto",
        ],
    ),
    (
        Verb::Update,
        &[
            "update",
            "atualizar",
            "actualizar",
            "atualizacao",
            "actualizacion",
        ],
    ),
    (Verb::Note, &["note", "nota", "anotar"]),
    (
        Verb::FollowUp,
        &[
            "follow-up",
            "followup",
            "acompanhamento",
            "pendencia",
            "seguimiento",
            "pendiente",
        ],
    ),
    (
        Verb::Resolve,
        &["resolve", "resolver", "close", "fechar", "cerrar"],
    ),
    (Verb::Reopen, &["reopen", "reabrir"]),
    (Verb::List, &["list", "listar", "lista", "ls"]),
    (Verb::Show, &["show", "mostrar", "ver", "info"]),
    (
        Verb::Timeline,
        &[
            "timeline",
            "linha-do-tempo",
            "historico",
            "cronologia",
            "historial",
        ],
    ),
    (Verb::Help, &["help", "ajuda", "ayuda", "?"]),
    (Verb::Lang, &["lang", "language", "idioma", "lingua"]),
    (Verb::Snooze, &["snooze", "adiar", "posponer", "soneca"]),
    (Verb::Escalate, &["escalate", "escalar", "acionar"]),
    (
        Verb::Check,
        &["check", "tick", "marcar", "checar", "chequear"],
    ),
    (
        Verb::Oncall,
        &[
            "oncall",
            "on-call",
            "plantao",
            "sobreaviso",
            "guardia",
            "turno",
        ],
    ),
    (
        Verb::Handoff,
        &["handoff", "passagem", "traspaso", "entrega", "relevo"],
    ),
    (
        Verb::Heartbeats,
        &["heartbeats", "heartbeat", "batimentos", "pulsos", "latidos"],
    ),
    (
        Verb::Playbook,
        &[
            "playbook",
            "playbooks",
            "roteiro",
            "roteiros",
            "guion",
            "guiones",
        ],
    ),
    (
        Verb::Postmortem,
        &[
            "postmortem",
            "post-mortem",
            "posmortem",
            "pos-mortem",
            "pos-incidente",
            "posincidente",
        ],
    ),
];

/// Prefixes that can only mean runroom: whatever follows gets an answer, even "unknown command".
const EXPLICIT_PREFIXES: &[&str] = &[
    "/inc",
    "!inc",
    "/incidente",
    "!incidente",
    "/incident",
    "!incident",
];
/// Keyword prefixes are also ordinary words ("Incidente resolvido, pessoal!"): a message that
/// starts with one is a command only when a verb, or a likely typo of one, follows.
const KEYWORD_PREFIXES: &[&str] = &["inc", "incidente", "incident"];

const SEVERITY_KEYS: &[&str] = &["sev", "severity", "severidade", "severidad"];
const IMPACT_KEYS: &[&str] = &["impact", "impacto"];
const PLAYBOOK_KEYS: &[&str] = &["playbook", "roteiro", "guion"];
const ACTIONS_KEYS: &[&str] = &["actions", "acoes", "acao", "acciones", "accion"];
const NEXT_KEYS: &[&str] = &["next", "proxima", "proximo", "siguiente", "next-check"];
const BLOCKERS_KEYS: &[&str] = &["blockers", "bloqueios", "bloqueio", "bloqueos", "bloqueo"];

impl Verb {
    pub fn name(self) -> &'static str {
        VERBS
            .iter()
            .find(|(v, _)| *v == self)
            .map(|(_, aliases)| aliases[0])
            .unwrap_or("help")
    }

    pub fn lookup(word: &str) -> Option<Verb> {
        let word = fold(word);
        VERBS
            .iter()
            .find(|(_, aliases)| aliases.contains(&word.as_str()))
            .map(|(v, _)| *v)
    }

    /// The closest alias to a mistyped verb, if one is close enough to be a typo.
    pub fn suggest(word: &str) -> Option<&'static str> {
        let word = fold(word);
        let length = word.chars().count();
        if length < 2 {
            return None;
        }
        VERBS
            .iter()
            .flat_map(|(_, aliases)| aliases.iter())
            // Lengths more than two apart are more than two edits apart: a long word costs no
            // distance computation (each is quadratic in the word's length).
            .filter(|alias| length.abs_diff(alias.chars().count()) <= 2)
            .map(|alias| (strsim::damerau_levenshtein(&word, alias), *alias))
            .filter(|(distance, alias)| *distance <= 2 && *distance < alias.len())
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, alias)| alias)
    }
}

/// Which text field a length error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Message,
    Title,
    Text,
}

/// A well-formed command. `incident: None` means "the one open incident" (resolved by the engine).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Declare {
        title: String,
        severity: Option<Severity>,
        impact: Option<String>,
        /// The playbook to start with it (`playbook=ID`).
        playbook: Option<String>,
    },
    Severity {
        incident: Option<i64>,
        severity: Severity,
    },
    Status {
        incident: Option<i64>,
        status: Status,
    },
    Assign {
        incident: Option<i64>,
        role: String,
        person: String,
    },
    Ack {
        incident: Option<i64>,
    },
    Update {
        incident: Option<i64>,
        fields: UpdateFields,
    },
    Note {
        incident: Option<i64>,
        text: String,
    },
    FollowUp {
        incident: Option<i64>,
        text: String,
    },
    Resolve {
        incident: Option<i64>,
        summary: Option<String>,
    },
    Reopen {
        incident: Option<i64>,
        reason: Option<String>,
    },
    /// A page of the open incidents, filtered.
    List {
        filter: ListFilter,
    },
    Show {
        incident: Option<i64>,
    },
    Timeline {
        incident: Option<i64>,
    },
    Help {
        verb: Option<Verb>,
    },
    Lang {
        lang: Lang,
    },
    /// Put off the next update reminder.
    Snooze {
        incident: Option<i64>,
        minutes: u32,
    },
    /// Page the next escalation step now.
    Escalate {
        incident: Option<i64>,
    },
    /// Tick items of an incident's checklist (`INC-n`, or the one open incident with one), or
    /// else of the latest checklist posted to the room (none: show it).
    Check {
        items: Vec<u32>,
        incident: Option<i64>,
    },
    /// Who is on call now and next.
    Oncall,
    /// Someone else holds a rotation's first role for a while. `rotation: None`: the only one.
    OncallOverride {
        rotation: Option<String>,
        person: String,
        minutes: u32,
    },
    /// A note for the next handoff summary; the rotation is named by the text's first word
    /// when it is a rotation's id.
    HandoffNote {
        text: String,
    },
    HandoffPreview {
        rotation: Option<String>,
    },
    /// Each heartbeat with its last ping.
    Heartbeats,
    /// The postmortem draft's figures, and where to read the whole draft.
    Postmortem {
        incident: Option<i64>,
    },
    /// The postmortem was written (`done`, `text` its link) or skipped (`text` why).
    PostmortemRecord {
        incident: Option<i64>,
        done: bool,
        text: String,
    },
    /// The configured playbooks.
    PlaybookList,
    PlaybookShow {
        playbook: String,
    },
    /// Start a playbook on an incident (`None`: the open one).
    PlaybookRun {
        playbook: String,
        incident: Option<i64>,
    },
}

impl Command {
    pub fn verb(&self) -> Verb {
        match self {
            Self::Declare { .. } => Verb::Declare,
            Self::Severity { .. } => Verb::Sev,
            Self::Status { .. } => Verb::Status,
            Self::Assign { .. } => Verb::Assign,
            Self::Ack { .. } => Verb::Ack,
            Self::Update { .. } => Verb::Update,
            Self::Note { .. } => Verb::Note,
            Self::FollowUp { .. } => Verb::FollowUp,
            Self::Resolve { .. } => Verb::Resolve,
            Self::Reopen { .. } => Verb::Reopen,
            Self::List { .. } => Verb::List,
            Self::Show { .. } => Verb::Show,
            Self::Timeline { .. } => Verb::Timeline,
            Self::Help { .. } => Verb::Help,
            Self::Lang { .. } => Verb::Lang,
            Self::Snooze { .. } => Verb::Snooze,
            Self::Escalate { .. } => Verb::Escalate,
            Self::Check { .. } => Verb::Check,
            Self::Oncall | Self::OncallOverride { .. } => Verb::Oncall,
            Self::HandoffNote { .. } | Self::HandoffPreview { .. } => Verb::Handoff,
            Self::Heartbeats => Verb::Heartbeats,
            Self::Postmortem { .. } | Self::PostmortemRecord { .. } => Verb::Postmortem,
            Self::PlaybookList | Self::PlaybookShow { .. } | Self::PlaybookRun { .. } => {
                Verb::Playbook
            }
        }
    }
}

/// Which open incidents `inc list` shows: `sev1`, `mine` (where the author holds a role), `page 2`,
/// in any order and combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListFilter {
    pub severity: Option<Severity>,
    pub mine: bool,
    /// 1-based.
    pub page: u32,
}

impl Default for ListFilter {
    fn default() -> Self {
        ListFilter {
            severity: None,
            mine: false,
            page: 1,
        }
    }
}

/// `inc list mine`: en, pt, es (accents folded).
const MINE_WORDS: &[&str] = &[
    "mine", "my", "minhas", "minha", "meus", "meu", "mios", "mias", "mio", "mia",
];
/// `inc list page 2`: en, pt, es (`página` folds to `pagina`).
const PAGE_WORDS: &[&str] = &["page", "pagina", "pag", "pg"];

/// `inc list` arguments: each filter at most once. A bare number is neither a severity nor a
/// page (`inc list 2` would be a guess), and an unknown word says which words work.
fn parse_list(args: &str) -> Result<ListFilter, ParseError> {
    let mut filter = ListFilter::default();
    let mut paged = false;
    let mut words = args.split_whitespace();
    let bad = |w: &str| ParseError::BadListFilter {
        got: w.chars().take(40).collect(),
    };
    while let Some(word) = words.next() {
        let folded = fold(word);
        if MINE_WORDS.contains(&folded.as_str()) {
            if filter.mine {
                return Err(bad(word));
            }
            filter.mine = true;
        } else if PAGE_WORDS.contains(&folded.as_str()) {
            let raw = words.next().unwrap_or("");
            if paged {
                return Err(bad(word));
            }
            paged = true;
            filter.page = raw
                .trim_start_matches('#')
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| ParseError::BadPage {
                    got: raw.chars().take(40).collect(),
                })?;
        } else if let Some(sev) = (!folded.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Severity::parse(word))
            .flatten()
        {
            if filter.severity.is_some() {
                return Err(bad(word));
            }
            filter.severity = Some(sev);
        } else {
            return Err(bad(word));
        }
    }
    Ok(filter)
}

/// What was wrong with a command; each variant has a localized explanation (`error-…`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("no verb after the prefix")]
    NoVerb,
    #[error("unknown verb {got:?}")]
    UnknownVerb {
        got: String,
        suggestion: Option<&'static str>,
    },
    #[error("a quote is not closed")]
    UnterminatedQuote,
    #[error("control characters are not accepted")]
    ControlCharacter,
    #[error("{field:?} too long: {got} characters, at most {max}")]
    TooLong {
        field: Field,
        max: usize,
        got: usize,
    },
    #[error("declare needs a title")]
    MissingTitle,
    #[error("{got:?} is not a severity")]
    BadSeverity { got: String },
    #[error("a severity is missing")]
    MissingSeverity,
    #[error("{got:?} is not a status")]
    BadStatus { got: String },
    #[error("a status is missing")]
    MissingStatus,
    #[error("a role is missing")]
    MissingRole,
    #[error("a person is missing")]
    MissingPerson,
    #[error("{verb:?} needs some text")]
    MissingText { verb: Verb },
    #[error("unknown option {key:?} for {verb:?}")]
    UnknownOption { verb: Verb, key: String },
    #[error("{verb:?} takes no {got:?}")]
    UnexpectedArgument { verb: Verb, got: String },
    #[error("{got:?} is not a duration")]
    BadDuration { got: String },
    #[error("{got:?} is not a supported language")]
    BadLanguage { got: String },
    #[error("a language is missing")]
    MissingLanguage,
    #[error("{verb:?} needs a duration")]
    MissingDuration { verb: Verb },
    #[error("which playbook?")]
    MissingPlaybook,
    #[error("{got:?} is not an item number")]
    BadItem { got: String },
    #[error("{verb:?} has no {got:?}")]
    UnknownSubcommand { verb: Verb, got: String },
    #[error("{got:?} is not a list filter")]
    BadListFilter { got: String },
    #[error("{got:?} is not a page number")]
    BadPage { got: String },
}

/// Parses one chat message. `None`: the message is not addressed to runroom (ordinary chat).
pub fn parse(input: &str) -> Option<Result<Command, ParseError>> {
    let trimmed = input.trim();
    let (prefix, rest) = split_first_word(trimmed);
    let prefix = fold(prefix);
    if EXPLICIT_PREFIXES.contains(&prefix.as_str()) {
        return Some(parse_addressed(trimmed, rest));
    }
    if !KEYWORD_PREFIXES.contains(&prefix.as_str()) {
        return None;
    }
    match parse_addressed(trimmed, rest) {
        // Plain prose that happens to start with the keyword: not ours to answer.
        Err(ParseError::UnknownVerb {
            suggestion: None, ..
        }) => None,
        Err(ParseError::NoVerb) if prefix != "inc" => None,
        other => Some(other),
    }
}

fn parse_addressed(whole: &str, rest: &str) -> Result<Command, ParseError> {
    let length = whole.chars().count();
    if length > MAX_MESSAGE_CHARS {
        return Err(ParseError::TooLong {
            field: Field::Message,
            max: MAX_MESSAGE_CHARS,
            got: length,
        });
    }
    if whole.chars().any(is_forbidden_char) {
        return Err(ParseError::ControlCharacter);
    }
    let (verb_word, args) = split_first_word(rest);
    if verb_word.is_empty() {
        return Err(ParseError::NoVerb);
    }
    let Some(verb) = Verb::lookup(verb_word) else {
        return Err(ParseError::UnknownVerb {
            got: verb_word.chars().take(40).collect(),
            suggestion: Verb::suggest(verb_word),
        });
    };
    let (incident, after_ref) = take_incident_ref(args);
    match verb {
        Verb::Declare => parse_declare(args),
        Verb::Sev => {
            let word = single_word(verb, after_ref)?.ok_or(ParseError::MissingSeverity)?;
            let severity = Severity::parse(&word).ok_or(ParseError::BadSeverity { got: word })?;
            Ok(Command::Severity { incident, severity })
        }
        Verb::Status => {
            let word = single_word(verb, after_ref)?.ok_or(ParseError::MissingStatus)?;
            let status = Status::parse(&word).ok_or(ParseError::BadStatus { got: word })?;
            Ok(Command::Status { incident, status })
        }
        Verb::Assign => {
            let (role, person) = split_first_word(after_ref);
            if role.is_empty() {
                return Err(ParseError::MissingRole);
            }
            let person = unquote(person);
            if person.is_empty() {
                return Err(ParseError::MissingPerson);
            }
            Ok(Command::Assign {
                incident,
                role: role.to_string(),
                person: capped(person, MAX_TITLE_CHARS, Field::Title)?,
            })
        }
        Verb::Ack => no_arguments(verb, after_ref).map(|()| Command::Ack { incident }),
        Verb::Update => parse_update(incident, after_ref),
        Verb::Note => Ok(Command::Note {
            incident,
            text: required_text(verb, after_ref)?,
        }),
        Verb::FollowUp => Ok(Command::FollowUp {
            incident,
            text: required_text(verb, after_ref)?,
        }),
        Verb::Resolve => Ok(Command::Resolve {
            incident,
            summary: optional_text(after_ref)?,
        }),
        Verb::Reopen => Ok(Command::Reopen {
            incident,
            reason: optional_text(after_ref)?,
        }),
        Verb::List => parse_list(args).map(|filter| Command::List { filter }),
        Verb::Show => no_arguments(verb, after_ref).map(|()| Command::Show { incident }),
        Verb::Timeline => no_arguments(verb, after_ref).map(|()| Command::Timeline { incident }),
        Verb::Help => match single_word(verb, args)? {
            None => Ok(Command::Help { verb: None }),
            Some(word) => match Verb::lookup(&word) {
                Some(v) => Ok(Command::Help { verb: Some(v) }),
                None => Err(ParseError::UnknownVerb {
                    suggestion: Verb::suggest(&word),
                    got: word.chars().take(40).collect(),
                }),
            },
        },
        Verb::Lang => {
            let word = single_word(verb, args)?.ok_or(ParseError::MissingLanguage)?;
            let lang = Lang::parse(&word).ok_or(ParseError::BadLanguage { got: word })?;
            Ok(Command::Lang { lang })
        }
        Verb::Snooze => {
            let word = single_word(verb, after_ref)?.ok_or(ParseError::MissingDuration { verb })?;
            Ok(Command::Snooze {
                incident,
                minutes: parse_minutes(&word)?,
            })
        }
        Verb::Escalate => no_arguments(verb, after_ref).map(|()| Command::Escalate { incident }),
        Verb::Check => {
            let words: Vec<&str> = args
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty())
                .collect();
            // `#2` is an item here: only `INC-n` names an incident.
            let incident = words
                .iter()
                .find(|w| fold(w).starts_with("inc-"))
                .and_then(|w| parse_incident_ref(w));
            let items = words
                .into_iter()
                .filter(|w| !fold(w).starts_with("inc-"))
                .map(|w| {
                    w.trim_start_matches('#')
                        .parse::<u32>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| ParseError::BadItem {
                            got: w.chars().take(40).collect(),
                        })
                })
                .collect::<Result<Vec<u32>, ParseError>>()?;
            Ok(Command::Check { items, incident })
        }
        Verb::Oncall => parse_oncall(args),
        Verb::Handoff => parse_handoff(args),
        Verb::Heartbeats => no_arguments(verb, args).map(|()| Command::Heartbeats),
        Verb::Playbook => parse_playbook(args),
        Verb::Postmortem => parse_postmortem(incident, after_ref),
    }
}

/// `postmortem [INC-n]`, `postmortem [INC-n] done <link>`, `postmortem [INC-n] skip <reason>`.
fn parse_postmortem(incident: Option<i64>, args: &str) -> Result<Command, ParseError> {
    const DONE: &[&str] = &["done", "feito", "pronto", "concluido", "hecho", "listo"];
    const SKIP: &[&str] = &["skip", "pular", "dispensar", "omitir", "saltar"];
    let (first, rest) = split_first_word(args);
    if first.is_empty() {
        return Ok(Command::Postmortem { incident });
    }
    let word = fold(first);
    let done = if DONE.contains(&word.as_str()) {
        true
    } else if SKIP.contains(&word.as_str()) {
        false
    } else {
        return Err(ParseError::UnexpectedArgument {
            verb: Verb::Postmortem,
            got: args.trim().chars().take(40).collect(),
        });
    };
    Ok(Command::PostmortemRecord {
        incident,
        done,
        text: required_text(Verb::Postmortem, rest)?,
    })
}

const LIST_WORDS: &[&str] = &["list", "listar", "lista", "ls"];
const SHOW_WORDS: &[&str] = &["show", "mostrar", "ver", "info"];
const RUN_WORDS: &[&str] = &[
    "run", "start", "rodar", "executar", "iniciar", "ejecutar", "aplicar",
];

/// `playbook list`, `playbook show ID`, `playbook run ID [INC-n]`.
fn parse_playbook(args: &str) -> Result<Command, ParseError> {
    let (sub, rest) = split_first_word(args);
    let sub = fold(sub);
    if sub.is_empty() || LIST_WORDS.contains(&sub.as_str()) {
        return no_arguments(Verb::Playbook, rest).map(|()| Command::PlaybookList);
    }
    let (id, rest) = split_first_word(rest);
    if id.is_empty() {
        return Err(ParseError::MissingPlaybook);
    }
    let playbook = id.chars().take(64).collect();
    if SHOW_WORDS.contains(&sub.as_str()) {
        return no_arguments(Verb::Playbook, rest).map(|()| Command::PlaybookShow { playbook });
    }
    if RUN_WORDS.contains(&sub.as_str()) {
        let (incident, after) = take_incident_ref(rest);
        return no_arguments(Verb::Playbook, after)
            .map(|()| Command::PlaybookRun { playbook, incident });
    }
    Err(ParseError::UnknownSubcommand {
        verb: Verb::Playbook,
        got: sub.chars().take(40).collect(),
    })
}

const OVERRIDE_WORDS: &[&str] = &["override", "substituir", "cobrir", "reemplazar", "cubrir"];
const NOTE_WORDS: &[&str] = &["note", "nota", "anotar"];
const PREVIEW_WORDS: &[&str] = &["preview", "previa", "mostrar", "ver", "show"];

/// `oncall`, or `oncall override [ROTATION] PERSON DURATION`.
fn parse_oncall(args: &str) -> Result<Command, ParseError> {
    let (sub, rest) = split_first_word(args);
    if sub.is_empty() {
        return Ok(Command::Oncall);
    }
    if !OVERRIDE_WORDS.contains(&fold(sub).as_str()) {
        return Err(ParseError::UnknownSubcommand {
            verb: Verb::Oncall,
            got: sub.chars().take(40).collect(),
        });
    }
    let words: Vec<&str> = rest.split_whitespace().collect();
    let (rotation, person, duration) = match words.as_slice() {
        [] => return Err(ParseError::MissingPerson),
        [_] => {
            return Err(ParseError::MissingDuration { verb: Verb::Oncall });
        }
        [person, duration] => (None, *person, *duration),
        [rotation, person, duration] => (Some(rotation.to_string()), *person, *duration),
        [_, _, _, extra, ..] => {
            return Err(ParseError::UnexpectedArgument {
                verb: Verb::Oncall,
                got: extra.chars().take(40).collect(),
            });
        }
    };
    Ok(Command::OncallOverride {
        rotation,
        person: capped(person, MAX_TITLE_CHARS, Field::Title)?,
        minutes: parse_minutes(duration)?,
    })
}

/// `handoff note TEXT`, `handoff preview [ROTATION]` (`handoff` alone: the preview).
fn parse_handoff(args: &str) -> Result<Command, ParseError> {
    let (sub, rest) = split_first_word(args);
    let sub = fold(sub);
    if sub.is_empty() || PREVIEW_WORDS.contains(&sub.as_str()) {
        return Ok(Command::HandoffPreview {
            rotation: single_word(Verb::Handoff, rest)?,
        });
    }
    if NOTE_WORDS.contains(&sub.as_str()) {
        return Ok(Command::HandoffNote {
            text: required_text(Verb::Handoff, rest)?,
        });
    }
    Err(ParseError::UnknownSubcommand {
        verb: Verb::Handoff,
        got: sub.chars().take(40).collect(),
    })
}

fn parse_declare(args: &str) -> Result<Command, ParseError> {
    let tokens = tokenize(args).map_err(|_| ParseError::UnterminatedQuote)?;
    let mut severity = None;
    let mut impact = None;
    let mut playbook = None;
    let mut title_words = Vec::new();
    for token in tokens {
        match token {
            Token::Option { key, value } => {
                let key_folded = fold(&key);
                if SEVERITY_KEYS.contains(&key_folded.as_str()) {
                    severity = Some(
                        Severity::parse(&value).ok_or(ParseError::BadSeverity { got: value })?,
                    );
                } else if IMPACT_KEYS.contains(&key_folded.as_str()) {
                    impact = Some(capped(&value, MAX_FIELD_CHARS, Field::Text)?);
                } else if PLAYBOOK_KEYS.contains(&key_folded.as_str()) {
                    playbook = Some(value.chars().take(64).collect());
                } else {
                    return Err(ParseError::UnknownOption {
                        verb: Verb::Declare,
                        key,
                    });
                }
            }
            Token::Word { text, quoted } => {
                // A leading unquoted severity word is the severity, not part of the title.
                if !quoted
                    && title_words.is_empty()
                    && severity.is_none()
                    && let Some(sev) = Severity::parse(&text)
                {
                    severity = Some(sev);
                    continue;
                }
                title_words.push(text);
            }
        }
    }
    let title = title_words.join(" ").trim().to_string();
    if title.is_empty() {
        return Err(ParseError::MissingTitle);
    }
    Ok(Command::Declare {
        title: capped(&title, MAX_TITLE_CHARS, Field::Title)?,
        severity,
        impact,
        playbook,
    })
}

fn parse_update(incident: Option<i64>, args: &str) -> Result<Command, ParseError> {
    let tokens = tokenize(args).map_err(|_| ParseError::UnterminatedQuote)?;
    let mut fields = UpdateFields::default();
    let mut words = Vec::new();
    for token in tokens {
        match token {
            Token::Word { text, .. } => words.push(text),
            Token::Option { key, value } => {
                let k = fold(&key);
                let slot = if IMPACT_KEYS.contains(&k.as_str()) {
                    &mut fields.impact
                } else if ACTIONS_KEYS.contains(&k.as_str()) {
                    &mut fields.actions
                } else if BLOCKERS_KEYS.contains(&k.as_str()) {
                    &mut fields.blockers
                } else if NEXT_KEYS.contains(&k.as_str()) {
                    fields.next_check_minutes = Some(parse_minutes(&value)?);
                    continue;
                } else {
                    return Err(ParseError::UnknownOption {
                        verb: Verb::Update,
                        key,
                    });
                };
                *slot = Some(capped(&value, MAX_FIELD_CHARS, Field::Text)?);
            }
        }
    }
    let text = words.join(" ");
    if !text.trim().is_empty() {
        fields.text = Some(capped(text.trim(), MAX_FIELD_CHARS, Field::Text)?);
    }
    if fields == UpdateFields::default() {
        return Err(ParseError::MissingText { verb: Verb::Update });
    }
    Ok(Command::Update { incident, fields })
}

/// `15m`, `15min`, `1h`, `1h30m`, `90` (minutes); at most a day.
pub fn parse_minutes(raw: &str) -> Result<u32, ParseError> {
    let bad = || ParseError::BadDuration {
        got: raw.chars().take(40).collect(),
    };
    let s = fold(raw);
    let mut total: u32 = 0;
    let mut digits = String::new();
    let mut rest = s.as_str();
    let mut saw_unit = false;
    while let Some(c) = rest.chars().next() {
        if c.is_ascii_digit() {
            digits.push(c);
            rest = &rest[1..];
            continue;
        }
        let (factor, len) = if rest.starts_with("min") {
            (1, 3)
        } else if rest.starts_with('m') {
            (1, 1)
        } else if rest.starts_with('h') {
            (60, 1)
        } else {
            return Err(bad());
        };
        let n: u32 = digits.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(factor));
        digits.clear();
        rest = &rest[len..];
        saw_unit = true;
    }
    if !digits.is_empty() {
        if saw_unit {
            return Err(bad());
        }
        total = digits.parse().map_err(|_| bad())?;
    } else if !saw_unit {
        return Err(bad());
    }
    if total == 0 || total > 24 * 60 {
        return Err(bad());
    }
    Ok(total)
}

/// Splits off the first white-space separated word; the rest keeps its own spacing and lines.
fn split_first_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

/// `INC-12`, `inc-12` or `#12`. A bare number is never a reference: `inc note 12 servers down`
/// is a note, and `inc sev 2` a severity.
pub fn parse_incident_ref(word: &str) -> Option<i64> {
    let w = fold(word);
    let digits = w.strip_prefix("inc-").or_else(|| w.strip_prefix('#'))?;
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|n| *n > 0)
}

fn take_incident_ref(args: &str) -> (Option<i64>, &str) {
    let (first, rest) = split_first_word(args);
    match parse_incident_ref(first) {
        Some(n) => (Some(n), rest),
        None => (None, args),
    }
}

fn unquote(s: &str) -> &str {
    let s = s.trim();
    for (open, close) in [('"', '"'), ('“', '”'), ('\'', '\''), ('«', '»')] {
        if let Some(inner) = s.strip_prefix(open).and_then(|x| x.strip_suffix(close)) {
            return inner.trim();
        }
    }
    s
}

fn capped(text: &str, max: usize, field: Field) -> Result<String, ParseError> {
    let got = text.chars().count();
    if got > max {
        return Err(ParseError::TooLong { field, max, got });
    }
    Ok(text.to_string())
}

fn required_text(verb: Verb, args: &str) -> Result<String, ParseError> {
    optional_text(args)?.ok_or(ParseError::MissingText { verb })
}

fn optional_text(args: &str) -> Result<Option<String>, ParseError> {
    let text = unquote(args);
    if text.is_empty() {
        return Ok(None);
    }
    capped(text, MAX_FIELD_CHARS, Field::Text).map(Some)
}

fn single_word(verb: Verb, args: &str) -> Result<Option<String>, ParseError> {
    let (first, rest) = split_first_word(args);
    if !rest.is_empty() {
        return Err(ParseError::UnexpectedArgument {
            verb,
            got: rest.chars().take(40).collect(),
        });
    }
    Ok((!first.is_empty()).then(|| unquote(first).to_string()))
}

fn no_arguments(verb: Verb, args: &str) -> Result<(), ParseError> {
    if args.trim().is_empty() {
        Ok(())
    } else {
        Err(ParseError::UnexpectedArgument {
            verb,
            got: args.trim().chars().take(40).collect(),
        })
    }
}

/// A card button (`ack:7`, `resolve:7`, `update:7`, `escalate:7`) as the command it stands for,
/// whichever platform the press came from (a Slack button, a WhatsApp reply button or template
/// quick reply).
/// Update needs words only a person can give, so it answers with how to post one.
pub fn button_command(action_id: &str) -> Option<Command> {
    let (verb, number) = action_id.split_once(':')?;
    let incident = Some(number.parse::<i64>().ok()?);
    Some(match verb {
        "ack" => Command::Ack { incident },
        "resolve" => Command::Resolve {
            incident,
            summary: None,
        },
        "update" => Command::Help {
            verb: Some(Verb::Update),
        },
        "escalate" => Command::Escalate { incident },
        _ => return None,
    })
}

/// Words addressed to runroom by a mention ("@runroom ack 7"): a command with its prefix, or
/// else read as if `/inc` stood before them, so whatever follows a mention gets an answer.
pub fn parse_mention(text: &str) -> Result<Command, ParseError> {
    match parse(text) {
        Some(parsed) => parsed,
        None => parse_addressed(text.trim(), text.trim()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Command {
        parse(input).expect("addressed").expect("valid")
    }

    fn err(input: &str) -> ParseError {
        parse(input).expect("addressed").expect_err("invalid")
    }

    #[test]
    fn ordinary_chat_is_not_a_command() {
        assert_eq!(parse("incoming traffic looks fine"), None);
        assert_eq!(parse("hello"), None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("Incidente resolvido, pessoal!"), None);
        assert_eq!(parse("incident report attached"), None);
        assert_eq!(parse("Incidente"), None);
    }

    #[test]
    fn explicit_prefixes_always_get_an_answer() {
        assert!(matches!(
            parse("/inc report"),
            Some(Err(ParseError::UnknownVerb {
                suggestion: None,
                ..
            }))
        ));
        assert!(matches!(
            parse("!incidente relatório"),
            Some(Err(ParseError::UnknownVerb { .. }))
        ));
        assert_eq!(parse("/inc"), Some(Err(ParseError::NoVerb)));
        assert_eq!(parse("inc"), Some(Err(ParseError::NoVerb)));
        // A keyword followed by a likely typo is answered: the person meant a command.
        assert!(matches!(
            parse("inc declre x"),
            Some(Err(ParseError::UnknownVerb {
                suggestion: Some("declare"),
                ..
            }))
        ));
    }

    #[test]
    fn declare_in_three_languages_and_three_prefixes() {
        let expected = Command::Declare {
            title: "Checkout down".into(),
            severity: Some(Severity::Sev1),
            impact: None,
            playbook: None,
        };
        assert_eq!(ok(r#"/inc declare sev1 "Checkout down""#), expected);
        assert_eq!(ok("inc declarar sev1 Checkout down"), expected);
        assert_eq!(ok("!inc DECLARE P1 Checkout down"), expected);
        assert_eq!(ok("incidente declarar crítico “Checkout down”"), expected);
        assert_eq!(
            ok(r#"inc declare "Rastreio" sev=2 impacto="couriers sem localização""#),
            Command::Declare {
                title: "Rastreio".into(),
                severity: Some(Severity::Sev2),
                impact: Some("couriers sem localização".into()),
                playbook: None,
            }
        );
        assert_eq!(
            ok(r#"inc declarar sev1 "Lentidão no WhatsApp" roteiro=whatsapp-latency"#),
            Command::Declare {
                title: "Lentidão no WhatsApp".into(),
                severity: Some(Severity::Sev1),
                impact: None,
                playbook: Some("whatsapp-latency".into()),
            }
        );
    }

    #[test]
    fn playbook_subcommands_in_three_languages() {
        assert_eq!(ok("inc playbook"), Command::PlaybookList);
        assert_eq!(ok("inc roteiros listar"), Command::PlaybookList);
        assert_eq!(
            ok("inc guion mostrar mcp-offline"),
            Command::PlaybookShow {
                playbook: "mcp-offline".into()
            }
        );
        assert_eq!(
            ok("inc roteiro rodar whatsapp-latency INC-4"),
            Command::PlaybookRun {
                playbook: "whatsapp-latency".into(),
                incident: Some(4)
            }
        );
        assert_eq!(
            ok("inc playbook run p0"),
            Command::PlaybookRun {
                playbook: "p0".into(),
                incident: None
            }
        );
        assert_eq!(err("inc playbook run"), ParseError::MissingPlaybook);
        assert!(matches!(
            err("inc playbook explode p0"),
            ParseError::UnknownSubcommand { .. }
        ));
        assert_eq!(
            ok("inc check 2 INC-7 #3"),
            Command::Check {
                items: vec![2, 3],
                incident: Some(7)
            }
        );
    }

    #[test]
    fn incident_reference_is_optional() {
        assert_eq!(ok("inc ack"), Command::Ack { incident: None });
        assert_eq!(ok("inc ciente INC-4"), Command::Ack { incident: Some(4) });
        assert_eq!(
            ok("inc sev #3 2"),
            Command::Severity {
                incident: Some(3),
                severity: Severity::Sev2
            }
        );
        assert_eq!(
            ok("inc sev 2"),
            Command::Severity {
                incident: None,
                severity: Severity::Sev2
            }
        );
        assert_eq!(
            ok("incidente resolver INC-2 rollback feito"),
            Command::Resolve {
                incident: Some(2),
                summary: Some("rollback feito".into())
            }
        );
    }

    #[test]
    fn structured_update() {
        assert_eq!(
            ok(
                r#"inc atualizar impacto="30% dos pedidos" ações="rollback" próxima=15m bloqueios=nenhum"#
            ),
            Command::Update {
                incident: None,
                fields: UpdateFields {
                    text: None,
                    impact: Some("30% dos pedidos".into()),
                    actions: Some("rollback".into()),
                    next_check_minutes: Some(15),
                    blockers: Some("nenhum".into()),
                }
            }
        );
        assert_eq!(
            err("inc update next=soon"),
            ParseError::BadDuration { got: "soon".into() }
        );
        assert_eq!(
            err("inc update"),
            ParseError::MissingText { verb: Verb::Update }
        );
    }

    #[test]
    fn assign_status_lang_help() {
        assert_eq!(
            ok("inc assign commander @joana"),
            Command::Assign {
                incident: None,
                role: "commander".into(),
                person: "@joana".into()
            }
        );
        assert_eq!(
            ok("inc estado identificado"),
            Command::Status {
                incident: None,
                status: Status::Identified
            }
        );
        assert_eq!(ok("inc idioma español"), Command::Lang { lang: Lang::Es });
        assert_eq!(
            ok("inc ajuda atualizar"),
            Command::Help {
                verb: Some(Verb::Update)
            }
        );
    }

    #[test]
    fn bad_input_says_what_is_wrong() {
        assert_eq!(err("inc"), ParseError::NoVerb);
        assert_eq!(
            err("inc declre sev1 x"),
            ParseError::UnknownVerb {
                got: "declre".into(),
                suggestion: Some("declare")
            }
        );
        assert_eq!(
            err("inc resolvr"),
            ParseError::UnknownVerb {
                got: "resolvr".into(),
                suggestion: Some("resolve")
            }
        );
        assert_eq!(err("inc declare sev1"), ParseError::MissingTitle);
        assert_eq!(
            err("inc declare sev=9 x"),
            ParseError::BadSeverity { got: "9".into() }
        );
        assert_eq!(err("inc declare \"x"), ParseError::UnterminatedQuote);
        assert_eq!(err("inc note a\u{7}b"), ParseError::ControlCharacter);
        assert_eq!(
            err("inc note"),
            ParseError::MissingText { verb: Verb::Note }
        );
        assert!(matches!(
            err(&format!("inc declare {}", "x".repeat(300))),
            ParseError::TooLong {
                field: Field::Title,
                max: MAX_TITLE_CHARS,
                got: 300
            }
        ));
        assert!(matches!(
            err(&format!("inc note {}", "x".repeat(5000))),
            ParseError::TooLong {
                field: Field::Message,
                ..
            }
        ));
        assert_eq!(
            err("inc list everything"),
            ParseError::BadListFilter {
                got: "everything".into()
            }
        );
        assert_eq!(
            err("inc declare x color=red"),
            ParseError::UnknownOption {
                verb: Verb::Declare,
                key: "color".into()
            }
        );
    }

    #[test]
    fn list_filters_in_three_languages() {
        let list = |severity, mine, page| Command::List {
            filter: ListFilter {
                severity,
                mine,
                page,
            },
        };
        assert_eq!(ok("inc list"), list(None, false, 1));
        assert_eq!(ok("inc list sev1"), list(Some(Severity::Sev1), false, 1));
        assert_eq!(ok("inc list mine"), list(None, true, 1));
        assert_eq!(ok("inc list page 2"), list(None, false, 2));
        assert_eq!(
            ok("inc list sev2 mine page 3"),
            list(Some(Severity::Sev2), true, 3)
        );
        // Portuguese: accents optional, any order.
        assert_eq!(
            ok("inc listar página 4 minhas alta"),
            list(Some(Severity::Sev2), true, 4)
        );
        assert_eq!(ok("inc lista meus pagina 2"), list(None, true, 2));
        // Spanish.
        assert_eq!(
            ok("inc listar míos crítico pagina 5"),
            list(Some(Severity::Sev1), true, 5)
        );
        assert_eq!(ok("inc lista mios"), list(None, true, 1));
    }

    #[test]
    fn bad_list_filters_say_what_was_wrong() {
        assert_eq!(
            err("inc list page 0"),
            ParseError::BadPage { got: "0".into() }
        );
        assert_eq!(err("inc list page"), ParseError::BadPage { got: "".into() });
        assert_eq!(
            err("inc list pagina dois"),
            ParseError::BadPage { got: "dois".into() }
        );
        assert_eq!(
            err("inc list 2"),
            ParseError::BadListFilter { got: "2".into() }
        );
        assert_eq!(
            err("inc list sev1 sev2"),
            ParseError::BadListFilter { got: "sev2".into() }
        );
        assert_eq!(
            err("inc list mine mine"),
            ParseError::BadListFilter { got: "mine".into() }
        );
        assert_eq!(
            err("inc list page 2 page 3"),
            ParseError::BadListFilter { got: "page".into() }
        );
        assert_eq!(
            err("inc lista todos"),
            ParseError::BadListFilter {
                got: "todos".into()
            }
        );
    }

    #[test]
    fn scheduling_commands_in_three_languages() {
        assert_eq!(
            ok("inc snooze 30m"),
            Command::Snooze {
                incident: None,
                minutes: 30
            }
        );
        assert_eq!(
            ok("inc adiar INC-3 1h"),
            Command::Snooze {
                incident: Some(3),
                minutes: 60
            }
        );
        assert_eq!(
            err("inc snooze"),
            ParseError::MissingDuration { verb: Verb::Snooze }
        );
        assert_eq!(ok("inc escalar"), Command::Escalate { incident: None });
        assert_eq!(
            ok("inc check 2, 3"),
            Command::Check {
                items: vec![2, 3],
                incident: None
            }
        );
        assert_eq!(
            ok("inc marcar"),
            Command::Check {
                items: vec![],
                incident: None
            }
        );
        assert_eq!(
            err("inc check two"),
            ParseError::BadItem { got: "two".into() }
        );
        assert_eq!(ok("inc plantão"), Command::Oncall);
        assert_eq!(
            ok("inc oncall override @marcos 2h"),
            Command::OncallOverride {
                rotation: None,
                person: "@marcos".into(),
                minutes: 120
            }
        );
        assert_eq!(
            ok("inc guardia reemplazar ops @ana 90m"),
            Command::OncallOverride {
                rotation: Some("ops".into()),
                person: "@ana".into(),
                minutes: 90
            }
        );
        assert_eq!(
            err("inc oncall swap"),
            ParseError::UnknownSubcommand {
                verb: Verb::Oncall,
                got: "swap".into()
            }
        );
        assert_eq!(
            ok("inc handoff note deploy v1.2.3 pending"),
            Command::HandoffNote {
                text: "deploy v1.2.3 pending".into()
            }
        );
        assert_eq!(
            ok("inc passagem"),
            Command::HandoffPreview { rotation: None }
        );
        assert_eq!(
            ok("inc traspaso preview ops"),
            Command::HandoffPreview {
                rotation: Some("ops".into())
            }
        );
        assert_eq!(
            button_command("escalate:7"),
            Some(ok("/inc escalate INC-7"))
        );
    }

    #[test]
    fn durations() {
        assert_eq!(parse_minutes("15m"), Ok(15));
        assert_eq!(parse_minutes("1h30m"), Ok(90));
        assert_eq!(parse_minutes("45"), Ok(45));
        assert_eq!(parse_minutes("2h"), Ok(120));
        assert!(parse_minutes("0m").is_err());
        assert!(parse_minutes("3d").is_err());
        assert!(parse_minutes("99999999999h").is_err());
    }

    #[test]
    fn multi_line_notes_keep_their_lines() {
        assert_eq!(
            ok("inc note line one\nline two"),
            Command::Note {
                incident: None,
                text: "line one\nline two".into()
            }
        );
    }

    #[test]
    fn every_alias_is_folded_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for (_, aliases) in VERBS {
            for alias in *aliases {
                assert_eq!(fold(alias), *alias, "aliases are stored folded");
                assert!(seen.insert(*alias), "{alias} names two verbs");
            }
        }
    }
}
