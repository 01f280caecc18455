//! The daemon's own logic: the input model, the alert engine and the durable state
//! store.
//!
//! `agent` decides and remembers; it does not talk to meters (that is `meter`, driven
//! by the scheduler) and does not decode codes itself (that is `codes`). The engine is
//! pure; only `store` touches the disk.

pub mod alerts;
pub mod daemon;
pub mod engine;
pub mod metrics;
pub mod publish;
pub mod reading;
mod rfc3339;
mod serde_codes;
pub mod state;
pub mod store;

pub use alerts::{Alert, AlertDetail, AlertId, AlertKind, Previous, Subject};
pub use daemon::run;
pub use engine::{AlertEngine, AlertPolicy, Evaluation};
pub use reading::{Counter, MeterId, MeterReading, PollOutcome, ReadingValue};
pub use rfc3339::format_unix_ms;
pub use state::{ActiveCondition, MeterState};
pub use store::{CommitHook, Cycle, Recorded, Retention, Store, StoreConfig, StoreError};
