//! The field-gateway daemon: one task per bus, a schedule per bus, the alert engine and
//! the store; `run(config, shutdown)` so tests can start and stop it.

pub mod notify;
pub mod schedule;
