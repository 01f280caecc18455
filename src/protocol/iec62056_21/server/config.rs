//! What a simulated meter is configured with, and what it reports: actions, events and
//! the check of the client's baud switch timing.
//!
//! Plain values; no behaviour beyond defaults.

use core::time::Duration;

use crate::protocol::iec62056_21::command::Password;
use crate::protocol::iec62056_21::dataset::{DataSet, Limits, Value};
use crate::protocol::iec62056_21::decoder::DecodeError;
use crate::protocol::iec62056_21::framing::Framing;
use crate::protocol::iec62056_21::ident::{Identification, REACTION_TIME_MIN};
use crate::protocol::iec62056_21::option::OptionSelect;
use crate::protocol::iec62056_21::request::DeviceAddress;

/// Faults the meter injects, for tests of the client's error paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MeterFaults {
    /// Corrupt the BCC of this many of the next blocks the meter sends.
    pub corrupt_bcc: u32,
}

/// A simulated meter's identity, data and timing.
#[derive(Debug, Clone)]
pub struct MeterConfig {
    /// Sent after a sign-on; its baud character is the highest rate offered, its `\2`
    /// marker offers mode E.
    pub identification: Identification,
    /// When set, a sign-on naming another address is ignored.
    pub address: Option<DeviceAddress>,
    /// The readout, and what R1 reads from.
    pub data_sets: Vec<DataSet>,
    /// When set, programming mode starts with P0 and requires this P1.
    pub password: Option<Password>,
    /// The data of the P0 request (often the serial number).
    pub password_operand: Value,
    /// How long the meter waits before each answer (§6.3.14 t_r, 200..1500 ms).
    pub reaction_time: Duration,
    /// The earliest the client may send at the new baud after its option select.
    pub min_client_reaction: Duration,
    /// How long the meter waits for an option select after its identification.
    pub option_timeout: Duration,
    /// Programming mode ends after this long without a message (§6.3.14 t_i, 60..120 s).
    pub inactivity_timeout: Duration,
    pub limits: Limits,
    pub faults: MeterFaults,
}

impl MeterConfig {
    pub fn new(identification: Identification, data_sets: Vec<DataSet>) -> Self {
        MeterConfig {
            identification,
            address: None,
            data_sets,
            password: None,
            password_operand: Value {
                value: String::new(),
                unit: None,
            },
            reaction_time: REACTION_TIME_MIN,
            min_client_reaction: REACTION_TIME_MIN,
            option_timeout: Duration::from_millis(2000),
            inactivity_timeout: Duration::from_secs(120),
            limits: Limits::default(),
            faults: MeterFaults::default(),
        }
    }
}

/// When the client changed baud (or first sent at the new one), measured from the
/// moment its option select had fully arrived ("ack end").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchCheck {
    /// In the window: after the ack, before our first reply at the new baud.
    InTime { after: Duration },
    /// The line changed while the ack was still on the wire: its tail was garbled.
    SwitchDuringAck { before_end: Duration },
    /// The line changed after we began replying at the new baud: the head was lost.
    SwitchTooLate {
        after: Duration,
        reply_started: Duration,
    },
    /// The first bytes at the new baud came sooner than the reaction time allows.
    SwitchTooEarly { after: Duration, min: Duration },
}

/// Why a meter session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    /// The readout has left the wire.
    ReadoutSent,
    /// B0 from the client.
    Break,
    /// No option select, or no command in programming mode, in time.
    Timeout,
    /// An option select the meter cannot honour.
    Refused,
    /// The HDLC server ended the mode E session (`end_hdlc`).
    HdlcEnded,
}

/// Things worth logging or asserting in a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterEvent {
    /// A sign-on for another meter on the bus.
    SignOnIgnored {
        address: DeviceAddress,
    },
    /// An option select the meter cannot honour (rate above its offer, mode E not
    /// offered, unknown mode): it returns to idle.
    OptionRefused {
        option: OptionSelect,
    },
    SwitchChecked(SwitchCheck),
    PasswordAccepted,
    PasswordRejected,
    /// A message the meter could not read (a NAK went out if it was a command).
    BadMessage(DecodeError),
    Ended(SessionEnd),
}

/// What the caller must do for the meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeterAction {
    /// Write these bytes now.
    Send(Vec<u8>),
    /// Call `handle_timeout` at this time; replaces any earlier timer.
    SetTimer(Duration),
    /// Change our line settings now.
    SwitchLine {
        baud: u32,
        framing: Framing,
    },
    /// Mode E: the line is at `baud` 8N1; hand `pending` (the first bytes received at
    /// the new baud) and the port to the HDLC server. Call `end_hdlc` when it is done.
    EnterHdlc {
        baud: u32,
        pending: Vec<u8>,
    },
    Event(MeterEvent),
}
