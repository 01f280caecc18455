//! The request (sign-on) message `/ ? [device address] ! CR LF` (IEC 62056-21:2002 §6.3.1).
//!
//! Wire type only: parse never panics on any input; emit never panics.

use core::fmt;

use super::error::{EmitError, Field, MessageError};
use super::wire::{self, Cursor};
use super::{CR, LF};

/// §6.3.1 item 3: the device address has at most 32 characters.
pub const MAX_ADDRESS_LEN: usize = 32;

/// The optional device address of a sign-on: 1 to 32 digits, letters or spaces
/// (§6.3.1; the meaning is manufacturer specific, often the serial number).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DeviceAddress(String);

impl DeviceAddress {
    pub fn new(text: &str) -> Result<Self, MessageError> {
        Self::from_bytes(text.as_bytes(), 0)
    }

    /// `offset` places errors within the enclosing message.
    fn from_bytes(bytes: &[u8], offset: usize) -> Result<Self, MessageError> {
        if bytes.is_empty() {
            return Err(MessageError::Empty {
                field: Field::DeviceAddress,
            });
        }
        if bytes.len() > MAX_ADDRESS_LEN {
            return Err(MessageError::TooLong {
                field: Field::DeviceAddress,
                len: bytes.len(),
                max: MAX_ADDRESS_LEN,
            });
        }
        if let Some((at, &byte)) = bytes
            .iter()
            .enumerate()
            .find(|(_, b)| !(b.is_ascii_alphanumeric() || **b == b' '))
        {
            return Err(MessageError::InvalidChar {
                field: Field::DeviceAddress,
                at: offset + at,
                byte,
            });
        }
        // Checked above: ASCII only.
        Ok(DeviceAddress(String::from_utf8_lossy(bytes).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a sign-on for `other` addresses this meter. Design: leading zeros are
    /// not significant ("00012345" reaches "12345"), as many meters treat them.
    pub fn matches(&self, other: &DeviceAddress) -> bool {
        let trim = |s: &str| -> String { s.trim_start_matches('0').to_owned() };
        trim(&self.0) == trim(&other.0)
    }
}

impl fmt::Debug for DeviceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceAddress({:?})", self.0)
    }
}

/// The request message: a sign-on, to every meter on the line or to one address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SignOn {
    pub address: Option<DeviceAddress>,
}

impl SignOn {
    /// Parses exactly one request message.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        let body = expect_prefix(bytes, b"/?")?;
        let Some(end) = body.len().checked_sub(3) else {
            return Err(MessageError::Truncated {
                needed: 5,
                got: bytes.len(),
            });
        };
        let (address, tail) = body.split_at(end);
        expect_at(tail, b"!\r\n", 2 + end)?;
        let address = if address.is_empty() {
            None
        } else {
            Some(DeviceAddress::from_bytes(address, 2)?)
        };
        Ok(SignOn { address })
    }

    pub fn buffer_len(&self) -> usize {
        5 + self.address.as_ref().map_or(0, |a| a.0.len())
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut out = Cursor::new(buf, self.buffer_len())?;
        out.put_all(b"/?")?;
        if let Some(address) = &self.address {
            out.put_all(address.0.as_bytes())?;
        }
        out.put_all(&[b'!', CR, LF])?;
        Ok(out.pos())
    }

    pub fn to_vec(&self) -> Vec<u8> {
        // A `SignOn` is valid by construction, so emission cannot fail.
        wire::to_vec(self.buffer_len(), |b| self.emit(b)).unwrap_or_default()
    }
}

/// Returns the bytes after `prefix`, or the error at the first difference.
pub(crate) fn expect_prefix<'a>(bytes: &'a [u8], prefix: &[u8]) -> Result<&'a [u8], MessageError> {
    expect_at(bytes.get(..prefix.len()).unwrap_or(bytes), prefix, 0)?;
    Ok(bytes.get(prefix.len()..).unwrap_or(&[]))
}

/// Checks that `bytes` equals `want`; `offset` places errors within the message.
pub(crate) fn expect_at(bytes: &[u8], want: &[u8], offset: usize) -> Result<(), MessageError> {
    for (i, &expected) in want.iter().enumerate() {
        match bytes.get(i) {
            None => {
                return Err(MessageError::Truncated {
                    needed: offset + want.len(),
                    got: offset + bytes.len(),
                })
            }
            Some(&found) if found != expected => {
                return Err(MessageError::Unexpected {
                    at: offset + i,
                    expected,
                    found,
                })
            }
            Some(_) => {}
        }
    }
    if bytes.len() > want.len() {
        return Err(MessageError::TrailingBytes {
            count: bytes.len() - want.len(),
        });
    }
    Ok(())
}
