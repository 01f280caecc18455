//! The simulated CalinMeter meter (or a bus of them): scenario, COSEM object model,
//! scripted changes, injected faults, and serving over PTY and TCP.
//!
//! Compiled into the `calin-agent` library as `calin_agent::sim` (so `calin-agent demo`
//! runs it in-process) and used by the thin `calin-sim` binary. It may use only
//! `crate::protocol`, `crate::codes`, `crate::profile` and `crate::transport`: never
//! the agent, the meter client or the CLI, so it cannot share their bugs.
//!
//! Layout, bottom up. Sans-IO (time comes in as a `Duration`, nothing reads a clock):
//! [`time`] (meter clock arithmetic), [`scenario`] (the TOML file), [`cosem`] (objects
//! and attributes), [`meter`] (one meter built from a scenario and the profile, with its
//! scripted changes), [`fault`] (what goes wrong, when, and to which bytes), [`dlms`]
//! (the application layer of one association), [`fleet`] (all meters and the timeline),
//! [`readings`] (a meter's values as the optical port and DL/T 645 report them),
//! [`optical`] (the IEC 62056-21 port, mode E into HDLC), [`dlt645`] (DL/T 645 on a
//! line), [`station`] (the meters behind one link: HDLC multi-drop, the wrapper, the
//! optical port or DL/T 645). I/O:
//! [`serve`] (the tokio loop, [`Simulator`], [`SimHandle`]), [`cli`] (the command line),
//! [`testkit`] (a raw client for tests).
//!
//! In-process use:
//! ```no_run
//! # async fn demo() -> Result<(), calin_agent::sim::SimError> {
//! use calin_agent::sim::{Framing, Scenario, SimOptions, Simulator};
//! let sim = Simulator::new(Scenario::demo()?, SimOptions::default())?;
//! let (addr, _task) = sim.serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc).await?;
//! let handle = sim.handle();
//! handle.set_status(0, 1015)?; // the next read of meter 0's status sees 1015
//! # let _ = addr; Ok(()) }
//! ```

pub mod cli;
pub mod cosem;
pub mod dlms;
pub mod dlt645;
pub mod fault;
pub mod fleet;
pub mod meter;
pub mod optical;
pub mod readings;
pub mod scenario;
pub mod serve;
pub mod station;
pub mod testkit;
pub mod time;

pub use fault::{FaultKind, FaultSpec, Trigger};
pub use fleet::SimEvent;
pub use meter::MeterSnapshot;
pub use scenario::{MeterSpec, RelayState, Scenario, ScenarioError};
pub use serve::{wait_for, SimError, SimHandle, SimOptions, Simulator};
pub use station::Framing;
