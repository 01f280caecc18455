//! Transport failures as typed values that name the port or endpoint involved.
//!
//! Every variant carries the data a log line or an operator needs (which port, which
//! OS error, how long we waited). Nothing here decides policy: retry decisions live in
//! `backoff`, and a meter's refusal is not a transport error at all.

use std::io;
use std::time::Duration;

use super::line::LineSettings;

/// Which part of a read ran out of time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Nothing arrived before the response deadline.
    FirstByte,
    /// A frame had started but the gap between two bytes exceeded the inter-character timeout.
    InterCharacter,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::FirstByte => "waiting for the first byte",
            TimeoutPhase::InterCharacter => "waiting between two bytes",
        })
    }
}

/// A failure of the transport layer.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The serial device does not exist (never plugged in, or a USB adapter vanished).
    #[error("serial port {port} is missing: {source}")]
    PortMissing { port: String, source: io::Error },

    /// Another process holds the port (TIOCEXCL or the advisory flock refused us).
    #[error("serial port {port} is busy (in use by another process): {detail}")]
    PortBusy { port: String, detail: String },

    /// Any other failure to open or configure a serial port (permissions, not a tty, ...).
    #[error("cannot open serial port {port}: {source}")]
    PortOpen { port: String, source: io::Error },

    /// The OS refused line settings (baud, framing) on an open link.
    #[error("{link}: cannot apply line settings {line}: {source}")]
    LineSettings {
        link: String,
        line: LineSettings,
        source: io::Error,
    },

    /// TCP connect failed (refused, unreachable, name not resolved).
    #[error("cannot connect to tcp {endpoint}: {source}")]
    Connect { endpoint: String, source: io::Error },

    /// TCP connect did not finish in time.
    #[error("connecting to tcp {endpoint} timed out after {waited:?}")]
    ConnectTimeout { endpoint: String, waited: Duration },

    /// A read ran out of time; `received` bytes had arrived before it did.
    #[error("{link}: timed out after {waited:?} {phase} ({received} bytes received)")]
    Timeout {
        link: String,
        waited: Duration,
        phase: TimeoutPhase,
        received: usize,
    },

    /// More than `limit` bytes arrived without the decoder recognising a frame.
    #[error("{link}: {limit} bytes received without a complete frame")]
    TooLong { link: String, limit: usize },

    /// The peer closed the link (end of stream) while we expected bytes.
    #[error("{link}: closed by the peer")]
    Closed { link: String },

    /// An I/O error on an open link.
    #[error("{link}: i/o error: {source}")]
    Io { link: String, source: io::Error },

    /// Creating a pseudo-terminal pair failed.
    #[error("cannot create a pty pair: {source}")]
    Pty { source: io::Error },

    /// A retry loop was stopped by the shutdown signal before it succeeded.
    #[error("{target}: gave up on shutdown after {attempts} failed attempts")]
    Shutdown { target: String, attempts: u32 },
}

impl TransportError {
    /// Whether trying the same open or connect again later may succeed.
    ///
    /// Design: a missing, busy or refusing peer is a state of the world that changes
    /// (adapter plugged back in, simulator restarted); a bad line setting or a pty
    /// failure is a configuration or system fault that retrying will not fix.
    pub fn is_retryable(&self) -> bool {
        match self {
            TransportError::PortMissing { .. }
            | TransportError::PortBusy { .. }
            | TransportError::PortOpen { .. }
            | TransportError::Connect { .. }
            | TransportError::ConnectTimeout { .. }
            | TransportError::Timeout { .. }
            | TransportError::TooLong { .. }
            | TransportError::Closed { .. }
            | TransportError::Io { .. } => true,
            TransportError::LineSettings { .. }
            | TransportError::Pty { .. }
            | TransportError::Shutdown { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_port_and_the_os_error() {
        let e = TransportError::PortMissing {
            port: "/dev/ttyUSB7".into(),
            source: io::Error::from_raw_os_error(libc::ENOENT),
        };
        let text = e.to_string();
        assert!(text.contains("/dev/ttyUSB7"), "{text}");
        assert!(text.contains("No such file"), "{text}");
        assert!(e.is_retryable());
    }

    #[test]
    fn timeout_message_names_phase_and_count() {
        let e = TransportError::Timeout {
            link: "tcp 127.0.0.1:4059".into(),
            waited: Duration::from_millis(500),
            phase: TimeoutPhase::InterCharacter,
            received: 12,
        };
        let text = e.to_string();
        assert!(text.contains("tcp 127.0.0.1:4059"), "{text}");
        assert!(text.contains("between two bytes"), "{text}");
        assert!(text.contains("12 bytes"), "{text}");
    }
}
