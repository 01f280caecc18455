//! The identification message `/ XXX Z [\W] Ident CR LF` (IEC 62056-21:2002 §6.3.2).
//!
//! Wire type only: parse never panics on any input; emit never panics.

use core::time::Duration;

use super::baud::BaudChar;
use super::error::{EmitError, Field, MessageError};
use super::request::expect_at;
use super::wire::{self, Cursor};
use super::{CR, LF};

/// §6.3.2 item 15: the identification has at most 16 printable characters.
pub const MAX_IDENT_LEN: usize = 16;

/// §6.3.14: a meter answers no earlier than 200 ms after a message...
pub const REACTION_TIME_MIN: Duration = Duration::from_millis(200);
/// ...or 20 ms when the third letter of its manufacturer code is lower case (§6.3.2).
pub const REACTION_TIME_MIN_SHORT: Duration = Duration::from_millis(20);
/// §6.3.14: and no later than 1500 ms.
pub const REACTION_TIME_MAX: Duration = Duration::from_millis(1500);

/// The three-letter manufacturer code (FLAG association), e.g. `LGZ`, `ISk`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Manufacturer([u8; 3]);

impl Manufacturer {
    pub fn new(code: [u8; 3]) -> Result<Self, MessageError> {
        match code.iter().position(|b| !b.is_ascii_alphabetic()) {
            Some(at) => Err(MessageError::InvalidChar {
                field: Field::Manufacturer,
                at: 1 + at,
                byte: code.get(at).copied().unwrap_or(0),
            }),
            None => Ok(Manufacturer(code)),
        }
    }

    pub fn as_bytes(&self) -> [u8; 3] {
        self.0
    }

    pub fn as_str(&self) -> &str {
        // Letters only (checked in `new`), hence valid UTF-8.
        core::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// The meter's minimum reaction time: 20 ms when the third letter is lower case,
    /// else 200 ms (§6.3.2 item 13, §6.3.14).
    pub fn min_reaction_time(&self) -> Duration {
        if self.0[2].is_ascii_lowercase() {
            REACTION_TIME_MIN_SHORT
        } else {
            REACTION_TIME_MIN
        }
    }
}

/// The enhanced capability character W after `\` (§6.3.2 item 24; DLMS UA list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Enhanced {
    /// '2': binary mode (HDLC, protocol mode E) is available.
    Hdlc,
    /// A reserved or manufacturer character, kept as received.
    Unknown(u8),
}

impl Enhanced {
    pub fn from_byte(byte: u8) -> Self {
        match byte {
            b'2' => Enhanced::Hdlc,
            other => Enhanced::Unknown(other),
        }
    }

    pub fn as_byte(self) -> u8 {
        match self {
            Enhanced::Hdlc => b'2',
            Enhanced::Unknown(b) => b,
        }
    }
}

/// The identification message a meter sends after a sign-on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Identification {
    manufacturer: Manufacturer,
    baud: BaudChar,
    enhanced: Option<Enhanced>,
    ident: String,
}

fn ident_char(b: u8) -> bool {
    (0x20..=0x7E).contains(&b) && b != b'/' && b != b'!'
}

impl Identification {
    /// `ident`: up to 16 printable characters except '/' and '!', not starting with '\'
    /// (which would read as an enhanced capability marker).
    pub fn new(
        manufacturer: Manufacturer,
        baud: BaudChar,
        enhanced: Option<Enhanced>,
        ident: &str,
    ) -> Result<Self, MessageError> {
        if let Some(e) = enhanced {
            check_enhanced(e.as_byte(), 6)?;
        }
        let offset = if enhanced.is_some() { 7 } else { 5 };
        check_ident(ident.as_bytes(), offset, enhanced.is_none())?;
        Ok(Identification {
            manufacturer,
            baud,
            enhanced,
            ident: ident.to_owned(),
        })
    }

    pub fn manufacturer(&self) -> Manufacturer {
        self.manufacturer
    }
    pub fn baud_char(&self) -> BaudChar {
        self.baud
    }
    pub fn enhanced(&self) -> Option<Enhanced> {
        self.enhanced
    }
    pub fn ident(&self) -> &str {
        &self.ident
    }
    /// Whether the meter offers protocol mode E (binary HDLC after the switch).
    pub fn offers_mode_e(&self) -> bool {
        self.enhanced == Some(Enhanced::Hdlc)
    }

    /// Parses exactly one identification message.
    pub fn parse(bytes: &[u8]) -> Result<Self, MessageError> {
        let [b'/', m0, m1, m2, z, rest @ ..] = bytes else {
            return match bytes.first() {
                Some(&found) if found != b'/' => Err(MessageError::Unexpected {
                    at: 0,
                    expected: b'/',
                    found,
                }),
                _ => Err(MessageError::Truncated {
                    needed: 7,
                    got: bytes.len(),
                }),
            };
        };
        let manufacturer = Manufacturer::new([*m0, *m1, *m2])?;
        let baud = BaudChar::new(*z).map_err(|_| MessageError::InvalidChar {
            field: Field::BaudChar,
            at: 4,
            byte: *z,
        })?;
        let (enhanced, ident_at, rest) = match rest {
            [b'\\', w, tail @ ..] => {
                check_enhanced(*w, 6)?;
                (Some(Enhanced::from_byte(*w)), 7, tail)
            }
            _ => (None, 5, rest),
        };
        let Some(ident_len) = rest.len().checked_sub(2) else {
            return Err(MessageError::Truncated {
                needed: ident_at + 2,
                got: bytes.len(),
            });
        };
        let (ident, tail) = rest.split_at(ident_len);
        check_ident(ident, ident_at, false)?;
        expect_at(tail, &[CR, LF], ident_at + ident_len)?;
        Ok(Identification {
            manufacturer,
            baud,
            enhanced,
            // Printable ASCII, checked above.
            ident: String::from_utf8_lossy(ident).into_owned(),
        })
    }

    pub fn buffer_len(&self) -> usize {
        5 + if self.enhanced.is_some() { 2 } else { 0 } + self.ident.len() + 2
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut out = Cursor::new(buf, self.buffer_len())?;
        out.put(b'/')?;
        out.put_all(&self.manufacturer.0)?;
        out.put(self.baud.as_byte())?;
        if let Some(e) = self.enhanced {
            out.put_all(&[b'\\', e.as_byte()])?;
        }
        out.put_all(self.ident.as_bytes())?;
        out.put_all(&[CR, LF])?;
        Ok(out.pos())
    }

    pub fn to_vec(&self) -> Vec<u8> {
        // Valid by construction, so emission cannot fail.
        wire::to_vec(self.buffer_len(), |b| self.emit(b)).unwrap_or_default()
    }
}

fn check_enhanced(byte: u8, at: usize) -> Result<(), MessageError> {
    if ident_char(byte) && byte != b' ' {
        Ok(())
    } else {
        Err(MessageError::InvalidChar {
            field: Field::Enhanced,
            at,
            byte,
        })
    }
}

fn check_ident(ident: &[u8], offset: usize, no_leading_escape: bool) -> Result<(), MessageError> {
    if ident.len() > MAX_IDENT_LEN {
        return Err(MessageError::TooLong {
            field: Field::Identification,
            len: ident.len(),
            max: MAX_IDENT_LEN,
        });
    }
    let bad = ident
        .iter()
        .enumerate()
        .find(|(i, &b)| !ident_char(b) || (no_leading_escape && *i == 0 && b == b'\\'));
    match bad {
        Some((at, &byte)) => Err(MessageError::InvalidChar {
            field: Field::Identification,
            at: offset + at,
            byte,
        }),
        None => Ok(()),
    }
}
