//! The baud rate identification character Z and its tables (IEC 62056-21:2002 §6.3.2
//! item 14): mode C/E digits and mode B letters. Mode A has no baud switch.

use super::error::{Field, MessageError};

/// Baud rates of the characters '0'..'6' in modes C and E (§6.3.2, item 14);
/// '7'..'9' are reserved.
pub const MODE_C_BAUDS: [u32; 7] = [300, 600, 1200, 2400, 4800, 9600, 19200];

/// Baud rates of the characters 'A'..'F' in mode B (§6.3.2, item 14); 'G'..'I' are reserved.
pub const MODE_B_BAUDS: [u32; 6] = [600, 1200, 2400, 4800, 9600, 19200];

/// The initial baud rate of every sign-on (§6.4).
pub const INITIAL_BAUD: u32 = 300;

/// Which protocol mode a meter's baud character announces (§6.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolMode {
    /// Any other character: no baud switch, no acknowledgement.
    A,
    /// 'A'..'I': the meter switches right after its identification.
    B,
    /// '0'..'9': the client acknowledges and selects options (mode E adds `\2`).
    C,
}

/// The baud rate character Z of an identification or option select message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BaudChar(u8);

impl BaudChar {
    /// Any printable character except the message delimiters '/', '!' and '\'.
    pub fn new(byte: u8) -> Result<Self, MessageError> {
        if byte.is_ascii_graphic() && !matches!(byte, b'/' | b'!' | b'\\') {
            Ok(BaudChar(byte))
        } else {
            Err(MessageError::InvalidChar {
                field: Field::BaudChar,
                at: 0,
                byte,
            })
        }
    }

    /// The mode C/E character for `baud`, if the table has it.
    pub fn mode_c(baud: u32) -> Option<Self> {
        let index = MODE_C_BAUDS.iter().position(|&b| b == baud)?;
        Some(BaudChar(b'0'.wrapping_add(u8::try_from(index).ok()?)))
    }

    /// The mode B character for `baud`, if the table has it.
    pub fn mode_b(baud: u32) -> Option<Self> {
        let index = MODE_B_BAUDS.iter().position(|&b| b == baud)?;
        Some(BaudChar(b'A'.wrapping_add(u8::try_from(index).ok()?)))
    }

    pub const fn as_byte(self) -> u8 {
        self.0
    }

    pub fn protocol_mode(self) -> ProtocolMode {
        match self.0 {
            b'0'..=b'9' => ProtocolMode::C,
            b'A'..=b'I' => ProtocolMode::B,
            _ => ProtocolMode::A,
        }
    }

    /// The baud rate this character stands for, or `None` for reserved characters and
    /// mode A (which stays at 300 baud).
    pub fn baud(self) -> Option<u32> {
        match self.0 {
            b'0'..=b'9' => MODE_C_BAUDS.get(usize::from(self.0 - b'0')).copied(),
            b'A'..=b'I' => MODE_B_BAUDS.get(usize::from(self.0 - b'A')).copied(),
            _ => None,
        }
    }
}
