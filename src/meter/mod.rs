//! A meter session: associate, read objects (by profile or by reference), release;
//! drives the sans-IO `protocol` state machines over a `transport` link.
//!
//! - [`Session`]: one association over one link (HDLC or wrapper): `get` (block
//!   transfer followed), `get_many` (GET-with-list where negotiated), `set`, `action`,
//!   `release`.
//! - [`MeterError`]: typed failures that say what to try; a meter's refusal of one
//!   attribute is a `DataAccessResult` value, not an error.
//! - [`cosem`]: typed reads of COSEM interface classes (register, clock, profile generic,
//!   association LN object list, disconnect control, limiter).
//! - [`read`]: read what a `Profile` maps (short codes, status, relay, event times) in
//!   one association, one typed result per item.
//! - [`trace`]: decoded trace lines for `probe --trace`.
//!
//! This module must not parse wire formats itself (that is `protocol`) nor open ports
//! (that is `transport`); it must not decide what a reading means (that is `agent`).

mod block;
mod carrier;
mod config;
pub mod cosem;
pub mod dlt645;
mod error;
pub mod optical;
pub mod read;
mod session;
pub mod trace;

pub use carrier::LinkStats;
pub use config::{Framing, SessionConfig, DEFAULT_INTER_CHAR};
pub use error::MeterError;
pub use session::{GetResult, MethodRef, Negotiated, ProgressFn, Session, TransferProgress};
