//! Typed values: how the data bytes of a reply decode, by format.
//!
//! A [`ValueFormat`] is what the catalogue says an identifier carries; [`ValueFormat::decode`]
//! turns a reply's data (offset removed, identifier stripped) into a [`Value`], and
//! [`ValueFormat::encode`] does the reverse for the simulator.
//! Contract: decode never panics; every failure is a typed [`ValueError`].

use super::address::{Address, ADDRESS_LEN};
use super::bcd::{self, BcdError, Decimal, MeterDate, MeterDateTime, MeterTime};
use super::calin::{CreditRelay, RunningStatus, StatusWord};

/// What an identifier's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueFormat {
    /// `len` BCD bytes with `decimals` implied decimals; `signed` puts the sign in the top
    /// bit (2007 instantaneous values). `XXXXXX.XX` is `{ len: 4, decimals: 2 }`.
    Bcd { len: u8, decimals: u8, signed: bool },
    /// `YYMMDDWW`.
    Date,
    /// `hhmmss`.
    Time,
    /// `YYMMDDhhmmss`.
    DateTime,
    /// An event record whose first six bytes are the occurrence time `YYMMDDhhmmss`; the
    /// record has at least `len` bytes (the rest: end time, energies, ... not decoded).
    /// An all-zero time means "no such event recorded".
    RecordStart { len: u8 },
    /// A six-byte meter address `NNNNNNNNNNNN`.
    Address,
    /// Calin `E4 21` (layout is our choice; see `calin.rs`).
    CalinCreditRelay,
    /// Calin `EF F5` (layout is our choice; see `calin.rs`).
    CalinRunningStatus,
    /// Calin `C1 11` (bit order is our choice; see `calin.rs`).
    CalinStatusWord,
}

/// A decoded value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Value {
    Number(Decimal),
    Date(MeterDate),
    Time(MeterTime),
    DateTime(MeterDateTime),
    /// The occurrence time of an event record; `None` when the meter has no such record.
    EventTime(Option<MeterDateTime>),
    Address(Address),
    CreditRelay(CreditRelay),
    RunningStatus(RunningStatus),
    Status(StatusWord),
}

impl std::fmt::Display for Value {
    /// For people: `9580.15`, `2024-03-15`, `08:30:00`, `none` for an empty event record.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Number(d) => write!(f, "{d}"),
            Value::Date(d) => write!(f, "{d}"),
            Value::Time(t) => write!(f, "{t}"),
            Value::DateTime(t) | Value::EventTime(Some(t)) => write!(f, "{t}"),
            Value::EventTime(None) => f.write_str("none"),
            Value::Address(a) => write!(f, "{a}"),
            Value::CreditRelay(c) => write!(f, "credit {} relay {:?}", c.credit, c.relay),
            Value::RunningStatus(r) => write!(f, "status {}", r.operating_status()),
            Value::Status(s) => write!(f, "status word {:#06x}", s.0),
        }
    }
}

/// Why data does not decode as (or a value does not encode to) a format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error(transparent)]
    Bcd(#[from] BcdError),
    #[error("a {format:?} value cannot be built from {value:?}")]
    Mismatch { format: ValueFormat, value: Value },
}

impl ValueFormat {
    /// Decode a reply's data bytes.
    pub fn decode(self, data: &[u8]) -> Result<Value, ValueError> {
        Ok(match self {
            ValueFormat::Bcd {
                len,
                decimals,
                signed,
            } => {
                exact_len(data, usize::from(len))?;
                Value::Number(if signed {
                    bcd::decode_signed(data, decimals)?
                } else {
                    bcd::decode_unsigned(data, decimals)?
                })
            }
            ValueFormat::Date => Value::Date(MeterDate::decode(data)?),
            ValueFormat::Time => Value::Time(MeterTime::decode(data)?),
            ValueFormat::DateTime => Value::DateTime(MeterDateTime::decode(data)?),
            ValueFormat::RecordStart { len } => {
                // Design: accept records longer than the catalogue says (meters append
                // fields) but never shorter than the six-byte time we decode.
                let needed = usize::from(len).max(MeterDateTime::WIRE_LEN);
                let time = data
                    .get(..MeterDateTime::WIRE_LEN)
                    .filter(|_| data.len() >= needed);
                let time = time.ok_or(BcdError::WrongLength {
                    expected: needed,
                    found: data.len(),
                })?;
                if time.iter().all(|b| *b == 0) {
                    Value::EventTime(None)
                } else {
                    Value::EventTime(Some(MeterDateTime::decode(time)?))
                }
            }
            ValueFormat::Address => {
                let bytes: [u8; ADDRESS_LEN] =
                    data.try_into().map_err(|_| BcdError::WrongLength {
                        expected: ADDRESS_LEN,
                        found: data.len(),
                    })?;
                Value::Address(Address::from_wire(bytes))
            }
            ValueFormat::CalinCreditRelay => Value::CreditRelay(CreditRelay::decode(data)?),
            ValueFormat::CalinRunningStatus => Value::RunningStatus(RunningStatus::decode(data)?),
            ValueFormat::CalinStatusWord => Value::Status(StatusWord::decode(data)?),
        })
    }

    /// Encode a value in this format (what a meter would send). Event records are padded
    /// with zeros after the time to the catalogue's length.
    pub fn encode(self, value: &Value) -> Result<Vec<u8>, ValueError> {
        let mismatch = || ValueError::Mismatch {
            format: self,
            value: *value,
        };
        Ok(match (self, value) {
            (
                ValueFormat::Bcd {
                    len,
                    decimals,
                    signed,
                },
                Value::Number(d),
            ) => {
                if signed {
                    bcd::encode_signed(*d, usize::from(len), decimals)?
                } else {
                    bcd::encode_unsigned(*d, usize::from(len), decimals)?
                }
            }
            (ValueFormat::Date, Value::Date(d)) => d.encode(),
            (ValueFormat::Time, Value::Time(t)) => t.encode(),
            (ValueFormat::DateTime, Value::DateTime(t)) => t.encode(),
            (ValueFormat::RecordStart { len }, Value::EventTime(t)) => {
                let mut out = t.map_or_else(|| vec![0; MeterDateTime::WIRE_LEN], |t| t.encode());
                out.resize(usize::from(len).max(MeterDateTime::WIRE_LEN), 0);
                out
            }
            (ValueFormat::Address, Value::Address(a)) => a.wire().to_vec(),
            (ValueFormat::CalinCreditRelay, Value::CreditRelay(c)) => c.encode()?,
            (ValueFormat::CalinRunningStatus, Value::RunningStatus(r)) => r.encode()?,
            (ValueFormat::CalinStatusWord, Value::Status(s)) => s.encode(),
            _ => return Err(mismatch()),
        })
    }
}

fn exact_len(data: &[u8], expected: usize) -> Result<(), BcdError> {
    if data.len() == expected {
        Ok(())
    } else {
        Err(BcdError::WrongLength {
            expected,
            found: data.len(),
        })
    }
}
