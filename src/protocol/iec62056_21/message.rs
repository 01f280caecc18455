//! Data messages: the readout `STX data-block ! CR LF ETX BCC` (IEC 62056-21:2002
//! §6.3.4) and the programming-mode answer `STX data ETX|EOT BCC` (§6.3.9), which
//! also carries error messages `STX (text) ETX BCC` (§6.3.10).
//!
//! Wire types only: parse never panics on any input; emit never panics.

use super::bcc::BccPolicy;
use super::block::{self, BlockEnd, BlockStart, Checked};
use super::dataset::{self, DataSet, Limits};
use super::error::{EmitError, Field, MessageError};
use super::wire::{self, Cursor};
use super::{CR, ETX, LF, STX};

/// The data readout a meter sends in mode C (and A, B) after the option select.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataMessage {
    pub data_sets: Vec<DataSet>,
}

impl DataMessage {
    /// Parses one whole readout. Design: the end marker may lack its CR LF, and the
    /// last line its line end, as some meters send them so.
    pub fn parse(
        bytes: &[u8],
        limits: &Limits,
        policy: BccPolicy,
    ) -> Result<Checked<Self>, MessageError> {
        let raw = checked_block(bytes, BlockStart::Stx, limits, policy)?;
        if raw.end != BlockEnd::Etx {
            return Err(MessageError::BadBlockEnd {
                found: raw.end.as_byte(),
            });
        }
        let text = raw
            .body
            .strip_suffix(b"!\r\n")
            .or_else(|| raw.body.strip_suffix(b"!"))
            .ok_or(MessageError::MissingEndMarker)?;
        let data_sets = dataset::parse_lines(text, 1, limits)?;
        Ok(Checked {
            message: DataMessage { data_sets },
            bcc: raw.bcc,
        })
    }

    pub fn buffer_len(&self) -> usize {
        1 + dataset::lines_len(&self.data_sets) + 3 + 2
    }

    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut out = Cursor::new(buf, self.buffer_len())?;
        out.put(STX)?;
        dataset::emit_lines(&self.data_sets, &mut out)?;
        out.put_all(&[b'!', CR, LF, ETX])?;
        let bcc = block::bcc_of(out.written());
        out.put(bcc)?;
        Ok(out.pos())
    }

    pub fn to_vec(&self) -> Result<Vec<u8>, EmitError> {
        wire::to_vec(self.buffer_len(), |b| self.emit(b))
    }
}

/// A programming-mode data message: the answer to a read command, or an error message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnswerMessage {
    pub data_sets: Vec<DataSet>,
    /// `Eot` marks a partial block (§6.3.12).
    pub end: BlockEnd,
}

/// Design: error texts are manufacturer specific (§6.3.10); an answer is taken as an
/// error message when it is one value without id or unit starting with this.
pub const ERROR_PREFIX: &str = "ERR";

impl AnswerMessage {
    /// An error message `(text)`.
    pub fn error(text: &str) -> Result<Self, MessageError> {
        let value = dataset::Value::new(text, None)?;
        Ok(AnswerMessage {
            data_sets: vec![DataSet {
                id: None,
                values: vec![value],
            }],
            end: BlockEnd::Etx,
        })
    }

    /// The text of an error message, if this is one.
    pub fn error_text(&self) -> Option<&str> {
        match self.data_sets.as_slice() {
            [DataSet { id: None, values }] => match values.as_slice() {
                [v] if v.unit.is_none() && v.value.starts_with(ERROR_PREFIX) => Some(&v.value),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn parse(
        bytes: &[u8],
        limits: &Limits,
        policy: BccPolicy,
    ) -> Result<Checked<Self>, MessageError> {
        let raw = checked_block(bytes, BlockStart::Stx, limits, policy)?;
        let data_sets = dataset::parse_lines(raw.body, 1, limits)?;
        Ok(Checked {
            message: AnswerMessage {
                data_sets,
                end: raw.end,
            },
            bcc: raw.bcc,
        })
    }

    pub fn buffer_len(&self) -> usize {
        let sets: usize = self.data_sets.iter().map(DataSet::wire_len).sum();
        let separators = 2 * self.data_sets.len().saturating_sub(1);
        1 + sets + separators + 2
    }

    /// Writes the sets separated by CR LF, without a line end after the last one.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, EmitError> {
        let mut out = Cursor::new(buf, self.buffer_len())?;
        out.put(STX)?;
        for (i, set) in self.data_sets.iter().enumerate() {
            if i > 0 {
                out.put_all(&[CR, LF])?;
            }
            set.emit_into(&mut out)?;
        }
        out.put(self.end.as_byte())?;
        let bcc = block::bcc_of(out.written());
        out.put(bcc)?;
        Ok(out.pos())
    }

    pub fn to_vec(&self) -> Result<Vec<u8>, EmitError> {
        wire::to_vec(self.buffer_len(), |b| self.emit(b))
    }
}

/// Splits a block, checks its start byte and its size against `limits`.
pub(crate) fn checked_block<'a>(
    bytes: &'a [u8],
    start: BlockStart,
    limits: &Limits,
    policy: BccPolicy,
) -> Result<block::RawBlock<'a>, MessageError> {
    if bytes.len() > limits.max_block_len.saturating_add(3) {
        return Err(MessageError::TooLong {
            field: Field::DataBlock,
            len: bytes.len(),
            max: limits.max_block_len.saturating_add(3),
        });
    }
    let raw = block::split(bytes, policy)?;
    if raw.start != start {
        return Err(MessageError::Unexpected {
            at: 0,
            expected: start.as_byte(),
            found: raw.start.as_byte(),
        });
    }
    Ok(raw)
}
