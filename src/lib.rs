//! dnid — a Dynamic Number Insertion server.
//!
//! Layers, from the inside out: [`engine`] (pure lease rules), [`actors`] (one ractor
//! actor per pool, a router that owns them), [`http`] (hyper 1 API). The `dnid` binary
//! is a thin clap front end over [`server`].
#![forbid(unsafe_code)]

pub mod actors;
pub mod calls;
pub mod cli;
pub mod clock;
pub mod config;
pub mod engine;
pub mod http;
pub mod ids;
pub mod server;
pub mod store;
pub mod telemetry;
