//! Sans-IO wire protocols: bytes in, typed values out, and back.
//!
//! Nothing here may use tokio, the clock or any I/O. Every parser takes untrusted
//! bytes: it returns a typed error, never panics, and never allocates without a bound.

pub mod analyse;
pub mod apdu;
pub mod axdr;
pub mod cosem;
pub mod dlt645;
pub mod hdlc;
pub mod iec62056_21;
pub mod obis;
pub mod units;
pub mod wrapper;
