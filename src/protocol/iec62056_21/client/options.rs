//! What a client session is told (options) and what it tells back (actions, the
//! readout, failures).
//!
//! Plain values; no behaviour beyond defaults and redacting `Debug`.

use core::fmt;
use core::time::Duration;

use crate::protocol::iec62056_21::baud::{BaudChar, INITIAL_BAUD};
use crate::protocol::iec62056_21::bcc::{BccMismatch, BccPolicy};
use crate::protocol::iec62056_21::command::Password;
use crate::protocol::iec62056_21::dataset::{DataId, DataSet, Limits};
use crate::protocol::iec62056_21::decoder::DecodeError;
use crate::protocol::iec62056_21::framing::Framing;
use crate::protocol::iec62056_21::ident::{Identification, REACTION_TIME_MAX, REACTION_TIME_MIN};
use crate::protocol::iec62056_21::request::DeviceAddress;
use crate::protocol::iec62056_21::SOH;

/// What the session does after the sign-on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMode {
    /// Mode C data readout (modes A and B meters are read too).
    DataReadout,
    /// Programming mode: read each register with R1, sending P1 if the meter asks (P0).
    Programming { registers: Vec<DataId> },
    /// Mode E: switch to 8N1 and hand the port to the DLMS/HDLC client.
    ModeE,
}

/// Which baud rate to ask for in the option select.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaudChoice {
    /// The rate the meter offers in its identification.
    AsOffered,
    /// The highest mode C rate at or below both this and the offer.
    AtMost(u32),
}

/// Options of one client session. Build with `ClientOptions::new` and adjust fields.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub address: Option<DeviceAddress>,
    pub mode: ClientMode,
    pub baud: BaudChoice,
    /// Sent as P1 when the meter asks with P0. Redacted in `Debug`.
    pub password: Option<Password>,
    pub bcc_policy: BccPolicy,
    pub limits: Limits,
    /// Baud rate of the sign-on (§6.4: 300).
    pub initial_baud: u32,
    /// Pause between a meter's message and our answer to it (§6.3.14 t_r ≥ 200 ms).
    pub reply_delay: Duration,
    /// Pause after the option select has fully left the wire at the old baud before
    /// switching the line. Design: the meter answers no sooner than its reaction time
    /// (200 ms, 20 ms for some) after the ack, so switching late loses the head of the
    /// answer and switching before the ack has left garbles its tail; adapters with
    /// deep buffers need a few more milliseconds here.
    pub switch_delay: Duration,
    /// Mode E: time from the end of the option select to `EnterHdlc`, so the first
    /// HDLC frame reaches a meter that has switched too (at least its reaction time).
    pub hdlc_delay: Duration,
    /// Longest wait for a reply and between two received characters.
    pub reply_timeout: Duration,
    /// Programming: how long to wait for a P0 before reading without a password.
    pub password_wait: Duration,
    /// Repeats of one message after a NAK or a bad BCC (§6.3.6).
    pub max_repeats: u8,
}

impl ClientOptions {
    pub fn new(mode: ClientMode) -> Self {
        ClientOptions {
            address: None,
            mode,
            baud: BaudChoice::AsOffered,
            password: None,
            bcc_policy: BccPolicy::Strict,
            limits: Limits::default(),
            initial_baud: INITIAL_BAUD,
            reply_delay: REACTION_TIME_MIN,
            switch_delay: Duration::from_millis(10),
            hdlc_delay: Duration::from_millis(300),
            reply_timeout: REACTION_TIME_MAX + Duration::from_millis(500),
            password_wait: REACTION_TIME_MAX + Duration::from_millis(500),
            max_repeats: 3,
        }
    }
}

/// An R1 read the meter answered with an error message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisterError {
    pub id: DataId,
    pub text: String,
}

/// What a session read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readout {
    pub identification: Identification,
    /// Baud rate the data came at.
    pub baud: u32,
    /// The readout's data sets, or the R1 answers in order (an answer without id gets
    /// the id that was asked for).
    pub data_sets: Vec<DataSet>,
    /// R1 reads the meter refused.
    pub register_errors: Vec<RegisterError>,
    /// Blocks taken despite a bad BCC (`BccPolicy::WarnOnly`): log these.
    pub bcc_warnings: Vec<BccMismatch>,
    /// Echoes of our own messages skipped (the optical head echoes).
    pub echoes_skipped: u32,
}

/// Where the session was when something went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    Identification,
    Readout,
    PasswordRequest,
    PasswordAck,
    Answer,
}

/// Why a session failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientFailure {
    #[error("no reply from the meter ({phase:?})")]
    Timeout { phase: Phase },
    #[error("bad message from the meter ({phase:?}): {error}")]
    Decode { phase: Phase, error: DecodeError },
    #[error("the meter does not offer mode E (no \\2 in its identification)")]
    ModeEUnavailable,
    #[error("the meter runs protocol mode {mode:?} (baud character {:?}); only a data readout is possible", char::from(baud_char.as_byte()))]
    ModeUnsupported {
        mode: crate::protocol::iec62056_21::baud::ProtocolMode,
        baud_char: BaudChar,
    },
    #[error("baud rate character {:?} is reserved", char::from(baud_char.as_byte()))]
    BaudUnavailable { baud_char: BaudChar },
    #[error(transparent)]
    BadBcc(BccMismatch),
    #[error("the meter asks for a password and none is configured")]
    PasswordRequired,
    #[error("the meter refused the password")]
    PasswordRejected,
    #[error("the meter ended the session (B0)")]
    MeterBreak,
    #[error("gave up after {repeats} repeats ({phase:?})")]
    TooManyRepeats { phase: Phase, repeats: u8 },
}

/// What the caller must do for the session.
#[derive(Clone, PartialEq, Eq)]
pub enum ClientAction {
    /// Write these bytes now (at the current line settings).
    Send(Vec<u8>),
    /// Call `handle_timeout` at this time; replaces any earlier timer.
    SetTimer(Duration),
    /// Change the line settings now: the option select has left the wire.
    SwitchLine { baud: u32, framing: Framing },
    /// The session's result; the session is over.
    Deliver(Readout),
    /// Mode E: the line is at `baud` 8N1; the DLMS/HDLC client takes over the port.
    EnterHdlc { baud: u32 },
    /// The session is over without a result.
    Fail(ClientFailure),
}

impl fmt::Debug for ClientAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientAction::Send(bytes) if carries_secret(bytes) => {
                write!(
                    f,
                    "Send(<password command, {} bytes, redacted>)",
                    bytes.len()
                )
            }
            ClientAction::Send(bytes) => write!(f, "Send({:?})", bytes.escape_ascii().to_string()),
            ClientAction::SetTimer(at) => write!(f, "SetTimer({at:?})"),
            ClientAction::SwitchLine { baud, framing } => {
                write!(f, "SwitchLine {{ baud: {baud}, framing: {framing:?} }}")
            }
            ClientAction::Deliver(r) => write!(f, "Deliver({r:?})"),
            ClientAction::EnterHdlc { baud } => write!(f, "EnterHdlc {{ baud: {baud} }}"),
            ClientAction::Fail(reason) => write!(f, "Fail({reason:?})"),
        }
    }
}

/// A P1/P2 command (password in the data) must never be printed.
pub(crate) fn carries_secret(bytes: &[u8]) -> bool {
    matches!(bytes, [SOH, b'P', d, ..] if *d != b'0')
}
