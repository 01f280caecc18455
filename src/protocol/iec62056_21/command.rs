//! Programming command messages `SOH C D [STX data] ETX BCC` (IEC 62056-21:2002
//! §6.3.7): password P0/P1, read R1, write W1, break B0 (§6.3.11), and the password type.
//!
//! Wire types only: parse never panics on any input; emit never panics. Passwords never
//! appear in `Debug` output.

use core::fmt;

use super::bcc::BccPolicy;
use super::block::{self, BlockStart, Checked};
use super::dataset::{self, DataId, DataSet, Limits, Value};
use super::error::{EmitError, Field, MessageError};
use super::message::checked_block;
use super::wire::{self, Cursor};
use super::{ETX, STX};

/// C, the command message identifier (§6.3.7 item 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandId {
    /// 'P': password (P0 operand from the meter, P1 password, P2 secured).
    Password,
    /// 'W': write.
    Write,
    /// 'R': read.
    Read,
    /// 'E': execute.
    Execute,
    /// 'B': exit (break).
    Break,
    /// Any other printable character, kept as received.
    Unknown(u8),
}

impl CommandId {
    pub fn from_byte(b: u8) -> Self {
        match b {
            b'P' => CommandId::Password,
            b'W' => CommandId::Write,
            b'R' => CommandId::Read,
            b'E' => CommandId::Execute,
            b'B' => CommandId::Break,
            other => CommandId::Unknown(other),
        }
    }
    pub fn as_byte(self) -> u8 {
        match self {
            CommandId::Password => b'P',
            CommandId::Write => b'W',
            CommandId::Read => b'R',
            CommandId::Execute => b'E',
            CommandId::Break => b'B',
            CommandId::Unknown(b) => b,
        }
    }
}

/// A meter password: printable characters except `(`, `)`, `*`. Never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(text: &str) -> Result<Self, MessageError> {
        Value::new(text, None).map_err(|e| match e {
            MessageError::InvalidChar { at, byte, .. } => MessageError::InvalidChar {
                field: Field::Password,
                at,
                byte,
            },
            other => other,
        })?;
        Ok(Password(text.to_owned()))
    }

    /// The secret itself, for the one place that must send or compare it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A programming command message. `command_type` is the digit D, 0..=9.
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub command: CommandId,
    pub command_type: u8,
    pub data: Option<DataSet>,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Command");
        d.field("command", &self.command)
            .field("command_type", &self.command_type);
        if self.is_secret() {
            d.field("data", &"<redacted>");
        } else {
            d.field("data", &self.data);
        }
        d.finish()
    }
}

impl Command {
    /// R1: read the value of `id` (data `id()`).
    pub fn read(id: DataId) -> Self {
        Command {
            command: CommandId::Read,
            command_type: 1,
            data: Some(DataSet::single(id, empty_value())),
        }
    }

    /// W1: write `value` to `id`.
    pub fn write(id: DataId, value: Value) -> Self {
        Command {
            command: CommandId::Write,
            command_type: 1,
            data: Some(DataSet::single(id, value)),
        }
    }

    /// P1: the password in clear (§6.3.7: command type 1).
    pub fn password(password: &Password) -> Self {
        Command {
            command: CommandId::Password,
            command_type: 1,
            data: Some(DataSet {
                id: None,
                values: vec![Value {
                    value: password.0.clone(),
                    unit: None,
                }],
            }),
        }
    }

    /// P0: the meter's request for a password, with its operand (often the serial).
    pub fn password_request(operand: &str) -> Result<Self, MessageError> {
        Ok(Command {
            command: CommandId::Password,
            command_type: 0,
            data: Some(DataSet {
                id: None,
                values: vec![Value::new(operand, None)?],
            }),
        })
    }

    /// B0: complete sign-off (§6.3.11).
    pub fn break_message() -> Self {
        Command {
            command: CommandId::Break,
            command_type: 0,
            data: None,
        }
    }

    /// Whether `Debug` must hide the data: P1 and P2 carry a secret.
    pub fn is_secret(&self) -> bool {
        self.command == CommandId::Password && self.command_type != 0
    }

    /// The first value of the data, e.g. the password of a P1 or the operand of a P0.
    pub fn first_value(&self) -> Option<&str> {
        Some(self.data.as_ref()?.value()?.value.as_str())
    }

    pub fn parse(
        bytes: &[u8],
        limits: &Limits,
        policy: BccPolicy,
    ) -> Result<Checked<Self>, MessageError> {
        let raw = checked_block(bytes, BlockStart::Soh, limits, policy)?;
        if raw.end.as_byte() != ETX {
            return Err(MessageError::BadBlockEnd {
                found: raw.end.as_byte(),
            });
        }
        let [c, d, rest @ ..] = raw.body else {
            return Err(MessageError::Truncated {
                needed: 5,
                got: bytes.len(),
            });
        };
        if !c.is_ascii_graphic() {
            return Err(MessageError::InvalidChar {
                field: Field::Command,
                at: 1,
                byte: *c,
            });
        }
        if !d.is_ascii_digit() {
            return Err(MessageError::InvalidChar {
                field: Field::CommandType,
                at: 2,
                byte: *d,
            });
        }
        let data = match rest {
            [] => None,
            [STX, text @ ..] => {
                let mut sets = dataset::parse_lines(text, 4, limits)?;
                if sets.len() > 1 {
                    return Err(MessageError::TooManyCommandSets);
                }
                Some(sets.pop().ok_or(MessageError::NoValues)?)
            }
            [found, ..] => {
                return Err(MessageError::Unexpected {
                    at: 3,
                    expected: STX,
                    found: *found,
                })
            }
        };
        Ok(Checked {
            message: Command {
                command: CommandId::from_byte(*c),
                command_type: d - b'0',
                data,
            },
            bcc: raw.bcc,
        })
    }

    pub fn buffer_len(&self) -> usize {
        3 + self.data.as_ref().map_or(0, |d| 1 + d.wire_len()) + 2
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let c = self.command.as_byte();
        if !c.is_ascii_graphic() {
            return Err(EmitError::Invalid(MessageError::InvalidChar {
                field: Field::Command,
                at: 1,
                byte: c,
            }));
        }
        if self.command_type > 9 {
            return Err(EmitError::Invalid(MessageError::InvalidChar {
                field: Field::CommandType,
                at: 2,
                byte: self.command_type,
            }));
        }
        let mut out = Cursor::new(buf, self.buffer_len())?;
        out.put_all(&[BlockStart::Soh.as_byte(), c, b'0' + self.command_type])?;
        if let Some(data) = &self.data {
            out.put(STX)?;
            data.emit_into(&mut out)?;
        }
        out.put(ETX)?;
        let bcc = block::bcc_of(out.written());
        out.put(bcc)?;
        Ok(out.pos())
    }

    pub fn to_vec(&self) -> Result<Vec<u8>, EmitError> {
        wire::to_vec(self.buffer_len(), |b| self.emit(b))
    }
}

fn empty_value() -> Value {
    Value {
        value: String::new(),
        unit: None,
    }
}
