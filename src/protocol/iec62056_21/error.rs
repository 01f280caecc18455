//! Typed errors of the IEC 62056-21 layer: what was wrong, where, with the bytes found.
//!
//! Values only; this module must not format for humans beyond `Display`.

use core::fmt;

use super::bcc::BccMismatch;

/// The part of a message an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    DeviceAddress,
    Manufacturer,
    BaudChar,
    Enhanced,
    Identification,
    ProtocolControl,
    ModeControl,
    DataId,
    Value,
    Unit,
    Line,
    DataBlock,
    Command,
    CommandType,
    Password,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Field::DeviceAddress => "device address",
            Field::Manufacturer => "manufacturer",
            Field::BaudChar => "baud rate character",
            Field::Enhanced => "enhanced capability character",
            Field::Identification => "identification",
            Field::ProtocolControl => "protocol control character",
            Field::ModeControl => "mode control character",
            Field::DataId => "data id",
            Field::Value => "value",
            Field::Unit => "unit",
            Field::Line => "data line",
            Field::DataBlock => "data block",
            Field::Command => "command",
            Field::CommandType => "command type",
            Field::Password => "password",
        };
        f.write_str(name)
    }
}

/// Why a byte sequence is not the message it was parsed as.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("message truncated: {needed} bytes needed, {got} present")]
    Truncated { needed: usize, got: usize },
    #[error("expected byte {expected:#04x} at offset {at}, found {found:#04x}")]
    Unexpected { at: usize, expected: u8, found: u8 },
    #[error("byte {byte:#04x} not allowed in the {field} at offset {at}")]
    InvalidChar { field: Field, at: usize, byte: u8 },
    #[error("{field} is {len} characters long, at most {max} allowed")]
    TooLong {
        field: Field,
        len: usize,
        max: usize,
    },
    #[error("{field} is empty")]
    Empty { field: Field },
    #[error("{count} bytes after the end of the message")]
    TrailingBytes { count: usize },
    #[error("data block has more than {max} data sets")]
    TooManyDataSets { max: usize },
    #[error("data block lacks the end marker \"!\" CR LF")]
    MissingEndMarker,
    #[error("block ends with {found:#04x}, expected ETX or EOT")]
    BadBlockEnd { found: u8 },
    #[error("a data set needs at least one value")]
    NoValues,
    #[error("command carries more than one data set")]
    TooManyCommandSets,
    #[error(transparent)]
    BadBcc(#[from] BccMismatch),
}

/// Why a message could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    #[error("buffer holds {have} bytes, message needs {needed}")]
    BufferTooSmall { needed: usize, have: usize },
    /// A value built field by field (public fields) breaks a rule of the message.
    #[error("not a valid message: {0}")]
    Invalid(MessageError),
}

/// A character whose parity bit does not give even parity (IEC 62056-21:2002 §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("parity error in character {byte:#04x}")]
pub struct ParityError {
    /// The character as received, parity bit included.
    pub byte: u8,
}
