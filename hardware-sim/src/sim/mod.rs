//! The simulated CalinMeter meter (or a bus of them): scenario, COSEM object model,
//! scripted changes, injected faults, and serving over PTY and TCP.
//!
//! Compiled into the `calin-agent` library as `calin_agent::sim` (so `calin-agent demo`
//! runs it in-process) and used by the thin `calin-sim` binary. It may use only
//! `crate::protocol`, `crate::codes`, `crate::profile` and `crate::transport`: never
//! the agent, the meter client or the CLI, so it cannot share their bugs.

pub mod cli;
pub mod cosem;
pub mod dlms;
pub mod fault;
pub mod fleet;
pub mod meter;
pub mod scenario;
pub mod serve;
pub mod station;
pub mod testkit;
pub mod time;

pub use fault::{FaultKind, FaultSpec, Trigger};
pub use scenario::{MeterSpec, RelayState, Scenario, ScenarioError};
