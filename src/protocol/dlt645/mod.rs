//! DL/T 645 (1997 and 2007 editions), the Chinese multi-function meter protocol on RS-485:
//! frames, messages, BCD values, a data-identifier catalogue, the Calin profile, and sans-IO
//! client and responder helpers.
//!
//! ```text
//! [FE FE FE FE] 68 | A0 A1 A2 A3 A4 A5 | 68 | C | L | DATA (L bytes, each +0x33) | CS | 16
//! ```
//!
//! Layers, bottom up:
//! - [`frame`]: one frame, `parse` / `buffer_len` / `emit`; the checksum; the +0x33 offset.
//! - [`deframer`]: finds whole frames in a byte stream (preamble, garbage, bad checksums).
//! - [`message`]: what a frame means for an edition: read / follow-up / address / write
//!   requests and their normal or abnormal replies.
//! - [`bcd`] and [`value`]: BCD numbers with their decimals, dates and times, exact decimals.
//! - [`catalog`] and [`calin`]: which identifier answers which short code, and the Calin
//!   vendor identifiers (E421, EFF5, C111) seen in public integration code.
//! - [`client`] and [`responder`]: a read exchange (retries, follow-up frames) and the
//!   meter side of the same exchange, for the simulator.
//!
//! Contract for every parser here: it never panics on any input, returns a typed error, and
//! allocates at most what one frame (255 data bytes) or a configured bound allows. `emit`
//! never panics into a buffer of `buffer_len()` bytes. Nothing here does I/O or reads a
//! clock: time enters as a `Duration` the caller supplies.
//!
//! Design: this module depends on `crate::codes` for `ShortCode` and `OperatingStatus`, so
//! that a Calin status bit decodes to exactly the operating status the alert engine knows.
//! `codes` is pure as well, so the protocol layer stays free of I/O.

pub mod address;
pub mod bcd;
pub mod calin;
pub mod catalog;
pub mod client;
pub mod control;
pub mod deframer;
pub mod di;
pub mod error_word;
pub mod frame;
pub mod message;
pub mod responder;
pub mod value;

#[cfg(test)]
mod tests;

pub use address::{Address, AddressError};
pub use bcd::{BcdError, Decimal, MeterDate, MeterDateTime, MeterTime};
pub use calin::{CreditRelay, RelayState, RunningStatus, StatusBit, StatusWord};
pub use catalog::{CatalogEntry, Confidence, Provenance, CATALOG};
pub use client::{Action, Answer, Exchange, ExchangeConfig, ExchangeError, Ignored};
pub use control::{Control, Direction, Function};
pub use deframer::{DeframeError, Deframer};
pub use di::{DataId, Version};
pub use error_word::{ErrorCondition, ErrorWord};
pub use frame::{checksum, Frame, FrameError};
pub use message::{MessageError, Reply, Request};
pub use responder::{DataSource, NoReply, Responder, Response};
pub use value::{Value, ValueError, ValueFormat};
