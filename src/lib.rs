//! 律规助手 (lawbot): answers lawyers' questions with the clauses of the Bazhou District rules on
//! contact between lawyers and judicial staff.
//!
//! The engine ([`engine::Engine`]) is a pure library — text in, ranked clauses out — built once from
//! the regulation text and the lexicon under `lexicon/` (compiled in, or an edited copy from a folder).
//! [`reply`] renders its answers as the text a group sees; [`eval`] scores it on a question file.

pub mod admin;
pub mod bot;
pub mod config;
pub mod console;
pub mod delivery;
pub mod engine;
pub mod eval;
pub mod lexicon;
pub mod metrics;
pub mod numerals;
pub mod platform;
pub mod publish;
pub mod regulation;
pub mod remind;
pub mod reply;
pub mod server;
pub mod service;
pub mod store;
pub mod stream;

pub use engine::{Answer, Engine, Intent, Match};
