//! Fake platform servers on loopback (port 0) that speak the platforms' wire formats and record
//! what the bot sent. They can be told to rate-limit, fail, or hang.
#![allow(dead_code)]

pub mod evolution;
pub mod graph;
pub mod slack;
