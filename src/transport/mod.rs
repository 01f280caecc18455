//! The only place that touches ports: serial (tokio-serial) and TCP links, pty pairs,
//! bus locks, timeouts, retry, pacing, tracing and echo suppression.
//!
//! Everything here is generic over bytes: no frame, APDU or protocol knowledge.
//!
//! - [`Link`]: `AsyncRead + AsyncWrite + Unpin + Send` plus `describe()` and
//!   `set_line()` (baud switch; TCP, pty master and in-memory duplex ignore it).
//!   Implemented by [`SerialLink`], [`TcpLink`], [`PtyLink`], `tokio::io::DuplexStream`,
//!   `Box<dyn Link>` ([`BoxLink`]) and the wrappers below. [`LinkSpec`] opens one.
//! - Wrappers, stackable in any order: [`TraceTap`] (reports chunks),
//!   [`EchoSuppressor`] (drops the adapter's echo), [`PacedLink`] (wire-speed writes,
//!   for the simulator).
//! - Reading: [`read_some`] (one burst) and [`read_frame`] (bursts into a decoder) with
//!   first-byte and inter-character timeouts.
//! - Sharing and recovery: [`Bus`] (FIFO exclusive use of a half-duplex line),
//!   [`Backoff`] and [`open_with_retry`].
//! - Errors: [`TransportError`], each naming the port, endpoint or link.

pub mod backoff;
pub mod bus;
pub mod echo;
pub mod error;
pub mod line;
pub mod link;
pub mod pace;
pub mod pty;
pub mod read;
pub mod serial;
pub mod spec;
pub mod tcp;
pub mod trace;

pub use backoff::{open_with_retry, Backoff, Delays};
pub use bus::{Bus, BusGuard};
pub use echo::{EchoReport, EchoState, EchoSuppressor};
pub use error::{TimeoutPhase, TransportError};
pub use line::{DataBits, LineSettings, Parity, ParseLineSettingsError, StopBits};
pub use link::{BoxFuture, BoxLink, Link};
pub use pace::PacedLink;
pub use pty::PtyLink;
pub use read::{read_frame, read_some, ReadTimeouts};
pub use serial::SerialLink;
pub use spec::LinkSpec;
pub use tcp::TcpLink;
pub use trace::{Direction, TraceEvent, TraceTap};
