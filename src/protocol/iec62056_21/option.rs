//! The acknowledgement/option select message `ACK V Z Y CR LF` (IEC 62056-21:2002 §6.3.3).
//!
//! Wire type only: parse never panics on any input; emit never panics.

use super::baud::BaudChar;
use super::error::{EmitError, Field, MessageError};
use super::request::expect_at;
use super::wire::Cursor;
use super::{ACK, CR, LF};

/// V, the protocol control character (§6.3.3 item 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolControl {
    /// '0': normal protocol procedure.
    Normal,
    /// '1': secondary protocol procedure.
    Secondary,
    /// '2': HDLC protocol procedure (mode E, Annex E).
    Hdlc,
    /// Any other printable character, kept as received.
    Unknown(u8),
}

impl ProtocolControl {
    pub fn from_byte(b: u8) -> Self {
        match b {
            b'0' => ProtocolControl::Normal,
            b'1' => ProtocolControl::Secondary,
            b'2' => ProtocolControl::Hdlc,
            other => ProtocolControl::Unknown(other),
        }
    }
    pub fn as_byte(self) -> u8 {
        match self {
            ProtocolControl::Normal => b'0',
            ProtocolControl::Secondary => b'1',
            ProtocolControl::Hdlc => b'2',
            ProtocolControl::Unknown(b) => b,
        }
    }
}

/// Y, the mode control character (§6.3.3 item 21).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModeControl {
    /// '0': data readout.
    DataReadout,
    /// '1': programming mode.
    Programming,
    /// '2': binary mode (HDLC), protocol mode E.
    BinaryHdlc,
    /// Manufacturer-specific or reserved, kept as received.
    Unknown(u8),
}

impl ModeControl {
    pub fn from_byte(b: u8) -> Self {
        match b {
            b'0' => ModeControl::DataReadout,
            b'1' => ModeControl::Programming,
            b'2' => ModeControl::BinaryHdlc,
            other => ModeControl::Unknown(other),
        }
    }
    pub fn as_byte(self) -> u8 {
        match self {
            ModeControl::DataReadout => b'0',
            ModeControl::Programming => b'1',
            ModeControl::BinaryHdlc => b'2',
            ModeControl::Unknown(b) => b,
        }
    }
}

/// The option select message the client sends after an identification in mode C/E.
/// `Unknown` variants must hold printable characters other than the known ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OptionSelect {
    pub protocol: ProtocolControl,
    pub baud: BaudChar,
    pub mode: ModeControl,
}

/// The wire length of an option select message.
pub const OPTION_SELECT_LEN: usize = 6;

impl OptionSelect {
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        let [ACK, v, z, y, rest @ ..] = bytes else {
            return match bytes.first() {
                Some(&found) if found != ACK => Err(MessageError::Unexpected {
                    at: 0,
                    expected: ACK,
                    found,
                }),
                _ => Err(MessageError::Truncated {
                    needed: OPTION_SELECT_LEN,
                    got: bytes.len(),
                }),
            };
        };
        check_printable(*v, Field::ProtocolControl, 1)?;
        check_printable(*y, Field::ModeControl, 3)?;
        let baud = BaudChar::new(*z).map_err(|_| MessageError::InvalidChar {
            field: Field::BaudChar,
            at: 2,
            byte: *z,
        })?;
        expect_at(rest, &[CR, LF], 4)?;
        Ok(OptionSelect {
            protocol: ProtocolControl::from_byte(*v),
            baud,
            mode: ModeControl::from_byte(*y),
        })
    }

    pub fn buffer_len(&self) -> usize {
        OPTION_SELECT_LEN
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let v = self.protocol.as_byte();
        let y = self.mode.as_byte();
        check_printable(v, Field::ProtocolControl, 1).map_err(EmitError::Invalid)?;
        check_printable(y, Field::ModeControl, 3).map_err(EmitError::Invalid)?;
        let mut out = Cursor::new(buf, OPTION_SELECT_LEN)?;
        out.put_all(&[ACK, v, self.baud.as_byte(), y, CR, LF])?;
        Ok(out.pos())
    }

    pub fn to_vec(&self) -> Result<Vec<u8>, EmitError> {
        super::wire::to_vec(OPTION_SELECT_LEN, |b| self.emit(b))
    }
}

fn check_printable(byte: u8, field: Field, at: usize) -> Result<(), MessageError> {
    if byte.is_ascii_graphic() {
        Ok(())
    } else {
        Err(MessageError::InvalidChar { field, at, byte })
    }
}
