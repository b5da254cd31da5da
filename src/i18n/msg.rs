//! A message to render, as the code builds it: a Fluent id and named arguments, never a
//! sentence. The engine's constructors (`engine::reply`, `engine::errors`) build these;
//! [`super::I18n`] renders them per room language and zone.

use chrono::{DateTime, Utc};

/// A message to render: a Fluent id and its named arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Msg {
    pub id: &'static str,
    pub args: Vec<(&'static str, Arg)>,
}

/// An argument; times are rendered in the receiving room's zone, nested messages in its language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Arg {
    Text(String),
    Number(i64),
    /// Date and time, with the locale's `format-datetime` pattern.
    Time(DateTime<Utc>),
    /// Time of day only, with the locale's `format-time` pattern.
    Clock(DateTime<Utc>),
    Msg(Msg),
    Lines(Vec<Msg>),
}

impl Msg {
    pub fn new(id: &'static str) -> Msg {
        Msg {
            id,
            args: Vec::new(),
        }
    }

    pub fn text(mut self, name: &'static str, value: impl Into<String>) -> Msg {
        self.args.push((name, Arg::Text(value.into())));
        self
    }

    pub fn number(mut self, name: &'static str, value: i64) -> Msg {
        self.args.push((name, Arg::Number(value)));
        self
    }

    pub fn time(mut self, name: &'static str, value: DateTime<Utc>) -> Msg {
        self.args.push((name, Arg::Time(value)));
        self
    }

    pub fn clock(mut self, name: &'static str, value: DateTime<Utc>) -> Msg {
        self.args.push((name, Arg::Clock(value)));
        self
    }

    pub fn msg(mut self, name: &'static str, value: Msg) -> Msg {
        self.args.push((name, Arg::Msg(value)));
        self
    }

    pub fn lines(mut self, name: &'static str, value: Vec<Msg>) -> Msg {
        self.args.push((name, Arg::Lines(value)));
        self
    }
}
