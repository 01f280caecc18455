//! calin-agent: a meter polling agent for CalinMeter electricity meters.
//!
//! Layers point down only (see ARCHITECTURE.md):
//! `cli -> agent -> meter -> transport -> protocol`, and `agent -> codes`.
//! `protocol` and `codes` are pure: no tokio, no clock, no I/O.

pub mod agent;
pub mod card;
pub mod cli;
pub mod codes;
pub mod config;
pub mod meter;
pub mod profile;
pub mod protocol;
pub mod report;

// Design: the simulator's source lives in hardware-sim/ (crate `calin-sim`, a thin binary)
// but is compiled into this library so that `calin-agent demo` runs it in-process; a
// package cycle (agent -> sim -> agent) is not possible otherwise.
#[path = "../hardware-sim/src/sim/mod.rs"]
pub mod sim;

pub mod transport;
