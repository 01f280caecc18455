//! The only place that touches ports: serial (tokio-serial) and TCP links, pty pairs,
//! bus locks, timeouts, retry, pacing, tracing and echo suppression.
//!
//! Everything here is generic over bytes: no frame, APDU or protocol knowledge.

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
