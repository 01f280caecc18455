//! Data sets `ID(value*unit)(value)…` and the lines of a data block (IEC 62056-21:2002
//! §6.5, figure "data block"), with bounds on every size.
//!
//! Text only: this module knows nothing of STX/ETX, BCC or sessions. Parsing never
//! panics and allocates at most as much as the input it was given.

use core::fmt;

use super::error::{EmitError, Field, MessageError};
use super::wire::Cursor;
use super::{CR, LF};

/// Bounds a parser applies to a data block from an untrusted meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes between STX/SOH and ETX; the decoder refuses a longer block.
    pub max_block_len: usize,
    /// Bytes in one data line, CR LF included. Design: §6.5 caps lines at 78
    /// characters, but field meters exceed that, so the default is lenient.
    pub max_line_len: usize,
    /// Data sets in one block.
    pub max_data_sets: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_block_len: 64 * 1024,
            max_line_len: 1024,
            max_data_sets: 4096,
        }
    }
}

/// The address of a data set: `1.8.0`, `1-0:1.8.0*255`, `C.87.0`, `F.F`… Printable
/// characters except `(`, `)`, `/` and `!` (§6.5).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DataId(String);

impl DataId {
    pub fn new(text: &str) -> Result<Self, MessageError> {
        Self::from_bytes(text.as_bytes(), 0)
    }

    pub(crate) fn from_bytes(bytes: &[u8], offset: usize) -> Result<Self, MessageError> {
        if bytes.is_empty() {
            return Err(MessageError::Empty {
                field: Field::DataId,
            });
        }
        check_chars(bytes, Field::DataId, offset, |b| {
            !matches!(b, b'(' | b')' | b'/' | b'!')
        })?;
        Ok(DataId(ascii_string(bytes)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataId({:?})", self.0)
    }
}

impl fmt::Display for DataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `(value*unit)` group. `value` holds printable characters except `(`, `)`, `*`;
/// `unit` printable characters except `(`, `)`. Use `Value::new` to check them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Value {
    pub value: String,
    pub unit: Option<String>,
}

impl Value {
    pub fn new(value: &str, unit: Option<&str>) -> Result<Self, MessageError> {
        let v = Value {
            value: value.to_owned(),
            unit: unit.map(str::to_owned),
        };
        v.validate(0)?;
        Ok(v)
    }

    /// Parses the text between `(` and `)`: the first `*` separates the unit.
    fn from_bytes(inner: &[u8], offset: usize) -> Result<Self, MessageError> {
        let (value, unit) = match inner.iter().position(|&b| b == b'*') {
            Some(star) => {
                let (v, u) = inner.split_at(star);
                (v, Some(u.get(1..).unwrap_or(&[])))
            }
            None => (inner, None),
        };
        check_chars(value, Field::Value, offset, |b| {
            !matches!(b, b'(' | b')' | b'*')
        })?;
        if let Some(unit) = unit {
            let at = offset + value.len() + 1;
            check_chars(unit, Field::Unit, at, |b| !matches!(b, b'(' | b')'))?;
        }
        Ok(Value {
            value: ascii_string(value),
            unit: unit.map(ascii_string),
        })
    }

    fn validate(&self, offset: usize) -> Result<(), MessageError> {
        check_chars(self.value.as_bytes(), Field::Value, offset, |b| {
            !matches!(b, b'(' | b')' | b'*')
        })?;
        if let Some(unit) = &self.unit {
            check_chars(unit.as_bytes(), Field::Unit, offset, |b| {
                !matches!(b, b'(' | b')')
            })?;
        }
        Ok(())
    }

    fn wire_len(&self) -> usize {
        2 + self.value.len() + self.unit.as_ref().map_or(0, |u| 1 + u.len())
    }

    fn emit(&self, out: &mut Cursor<'_>) -> Result<(), EmitError> {
        out.put(b'(')?;
        out.put_all(self.value.as_bytes())?;
        if let Some(unit) = &self.unit {
            out.put(b'*')?;
            out.put_all(unit.as_bytes())?;
        }
        out.put(b')')
    }
}

/// A data set: an optional address and one or more values. A set without an id is a
/// continuation line: its values extend the set before it (load profiles, for one).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DataSet {
    pub id: Option<DataId>,
    pub values: Vec<Value>,
}

impl DataSet {
    /// A set with one value.
    pub fn single(id: DataId, value: Value) -> Self {
        DataSet {
            id: Some(id),
            values: vec![value],
        }
    }

    /// The first value, the usual case of `ID(value*unit)`.
    pub fn value(&self) -> Option<&Value> {
        self.values.first()
    }

    /// Checks the rules public fields could break: at least one value, valid text.
    pub fn validate(&self) -> Result<(), MessageError> {
        if self.values.is_empty() {
            return Err(MessageError::NoValues);
        }
        self.values.iter().try_for_each(|v| v.validate(0))
    }

    /// Bytes `emit_into` writes, line end excluded.
    pub(crate) fn wire_len(&self) -> usize {
        self.id.as_ref().map_or(0, |id| id.0.len())
            + self.values.iter().map(Value::wire_len).sum::<usize>()
    }

    pub(crate) fn emit_into(&self, out: &mut Cursor<'_>) -> Result<(), EmitError> {
        self.validate().map_err(EmitError::Invalid)?;
        if let Some(id) = &self.id {
            out.put_all(id.0.as_bytes())?;
        }
        self.values.iter().try_for_each(|v| v.emit(out))
    }
}

/// Parses the lines of a data block (without STX, end marker, ETX). Lines end in
/// CR LF; a bare LF and a last line without line end are tolerated; empty lines are
/// skipped. `offset` places errors within the message.
pub fn parse_lines(
    text: &[u8],
    offset: usize,
    limits: &Limits,
) -> Result<Vec<DataSet>, MessageError> {
    let mut sets = Vec::new();
    let mut line_start = offset;
    for raw in text.split(|&b| b == LF) {
        let line_len = raw.len() + 1;
        if line_len > limits.max_line_len {
            return Err(MessageError::TooLong {
                field: Field::Line,
                len: line_len,
                max: limits.max_line_len,
            });
        }
        let line = raw.strip_suffix(&[CR]).unwrap_or(raw);
        parse_line(line, line_start, limits, &mut sets)?;
        line_start += line_len;
    }
    Ok(sets)
}

fn parse_line(
    line: &[u8],
    offset: usize,
    limits: &Limits,
    sets: &mut Vec<DataSet>,
) -> Result<(), MessageError> {
    let mut rest = line;
    while !rest.is_empty() {
        let at = offset + (line.len() - rest.len());
        let Some(open) = rest.iter().position(|&b| b == b'(') else {
            return Err(MessageError::NoValues);
        };
        let (id, mut tail) = rest.split_at(open);
        let id = if id.is_empty() {
            None
        } else {
            Some(DataId::from_bytes(id, at)?)
        };
        let mut values = Vec::new();
        while let Some(inner_and_more) = tail.strip_prefix(b"(") {
            let at = offset + (line.len() - inner_and_more.len());
            let Some(close) = inner_and_more.iter().position(|&b| b == b')') else {
                return Err(MessageError::Truncated {
                    needed: at + inner_and_more.len() + 1,
                    got: at + inner_and_more.len(),
                });
            };
            let (inner, after) = inner_and_more.split_at(close);
            values.push(Value::from_bytes(inner, at)?);
            tail = after.get(1..).unwrap_or(&[]);
        }
        if sets.len() >= limits.max_data_sets {
            return Err(MessageError::TooManyDataSets {
                max: limits.max_data_sets,
            });
        }
        sets.push(DataSet { id, values });
        rest = tail;
    }
    Ok(())
}

/// Writes each set followed by CR LF (a readout data block).
pub(crate) fn emit_lines(sets: &[DataSet], out: &mut Cursor<'_>) -> Result<(), EmitError> {
    sets.iter().try_for_each(|s| {
        s.emit_into(out)?;
        out.put_all(&[CR, LF])
    })
}

/// Bytes `emit_lines` writes.
pub(crate) fn lines_len(sets: &[DataSet]) -> usize {
    sets.iter().map(|s| s.wire_len() + 2).sum()
}

fn check_chars(
    bytes: &[u8],
    field: Field,
    offset: usize,
    allowed: impl Fn(u8) -> bool,
) -> Result<(), MessageError> {
    match bytes
        .iter()
        .enumerate()
        .find(|(_, &b)| !((0x20..=0x7E).contains(&b) && allowed(b)))
    {
        Some((at, &byte)) => Err(MessageError::InvalidChar {
            field,
            at: offset + at,
            byte,
        }),
        None => Ok(()),
    }
}

/// Bytes already checked to be printable ASCII.
fn ascii_string(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}
