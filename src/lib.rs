//! calin-agent: a meter polling agent for CalinMeter electricity meters.
//!
//! Layers point down only (see ARCHITECTURE.md):
//! `cli -> agent -> meter -> transport -> protocol`, and `agent -> codes`.
//! `protocol` and `codes` are pure: no tokio, no clock, no I/O.

pub mod agent;
pub mod cli;
pub mod codes;
pub mod config;
pub mod protocol;
pub mod transport;
