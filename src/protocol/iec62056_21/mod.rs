//! IEC 62056-21 (direct local data exchange, the optical port): messages, data blocks,
//! BCC, 7E1 character framing, and sans-IO client and meter sessions.
//!
//! Contract for every wire type here: `parse` never panics on any input and allocates
//! no more than the input's length; `emit` never panics, returning an error into a
//! short buffer. This module must not do I/O or read a clock: time comes in as a
//! `Duration` since an origin the caller chooses, and line changes go out as actions.

pub mod baud;
pub mod bcc;
pub mod block;
pub mod client;
pub mod command;
pub mod dataset;
pub mod decoder;
pub mod error;
pub mod framing;
pub mod ident;
pub mod message;
pub mod option;
pub mod request;
pub mod server;
mod wire;

#[cfg(test)]
mod tests;

pub use baud::{BaudChar, ProtocolMode, INITIAL_BAUD};
pub use bcc::{BccMismatch, BccPolicy};
pub use block::{BlockEnd, Checked};
pub use client::{
    BaudChoice, ClientAction, ClientFailure, ClientMode, ClientOptions, ClientSession, Readout,
};
pub use command::{Command, CommandId, Password};
pub use dataset::{DataId, DataSet, Limits, Value};
pub use decoder::{DecodeError, Frame, Framer};
pub use error::{EmitError, Field, MessageError, ParityError};
pub use framing::{add_even_parity, char_time, parity_bit, strip_parity, wire_time, Framing};
pub use ident::{Enhanced, Identification, Manufacturer};
pub use message::{AnswerMessage, DataMessage};
pub use option::{ModeControl, OptionSelect, ProtocolControl};
pub use request::{DeviceAddress, SignOn};
pub use server::{
    MeterAction, MeterConfig, MeterEvent, MeterFaults, MeterSession, SessionEnd, SwitchCheck,
};

/// Start of header: opens a programming command message (ISO/IEC 646).
pub const SOH: u8 = 0x01;
/// Start of text: opens a data block.
pub const STX: u8 = 0x02;
/// End of text: closes a block; the BCC follows.
pub const ETX: u8 = 0x03;
/// End of transmission: closes a partial block (§6.3.12).
pub const EOT: u8 = 0x04;
/// Positive acknowledgement; also opens the option select message.
pub const ACK: u8 = 0x06;
/// Negative acknowledgement: the repeat request (§6.3.6).
pub const NAK: u8 = 0x15;
pub const CR: u8 = 0x0D;
pub const LF: u8 = 0x0A;
