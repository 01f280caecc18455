//! Block framing shared by data, answer and command messages:
//! `SOH|STX body ETX|EOT BCC` (IEC 62056-21:2002 §6.2, §6.3.4, §6.3.7, §6.3.9).
//!
//! Splits and checks a whole block; the typed messages read the body. Never panics.

use super::bcc::{self, BccMismatch, BccPolicy};
use super::error::MessageError;
use super::{EOT, ETX, SOH, STX};

/// The first byte of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockStart {
    /// Start of header: programming command messages.
    Soh,
    /// Start of text: data and answer messages.
    Stx,
}

impl BlockStart {
    pub fn as_byte(self) -> u8 {
        match self {
            BlockStart::Soh => SOH,
            BlockStart::Stx => STX,
        }
    }
}

/// The byte before the BCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BlockEnd {
    /// End of text: the last (or only) block.
    #[default]
    Etx,
    /// End of transmission: a partial block, more follow on request (§6.3.12).
    Eot,
}

impl BlockEnd {
    pub fn as_byte(self) -> u8 {
        match self {
            BlockEnd::Etx => ETX,
            BlockEnd::Eot => EOT,
        }
    }
}

/// A message together with what its BCC check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checked<T> {
    pub message: T,
    /// `Some` only under `BccPolicy::WarnOnly`: the block was taken despite a bad BCC.
    pub bcc: Option<BccMismatch>,
}

/// A whole block split into its parts, BCC checked under a policy.
#[derive(Debug)]
pub(crate) struct RawBlock<'a> {
    pub start: BlockStart,
    /// Bytes between the start byte and the end byte.
    pub body: &'a [u8],
    pub end: BlockEnd,
    pub bcc: Option<BccMismatch>,
}

pub(crate) fn split(bytes: &[u8], policy: BccPolicy) -> Result<RawBlock<'_>, MessageError> {
    let [first, covered @ .., found] = bytes else {
        return Err(MessageError::Truncated {
            needed: 3,
            got: bytes.len(),
        });
    };
    let start = match *first {
        SOH => BlockStart::Soh,
        STX => BlockStart::Stx,
        found => {
            return Err(MessageError::Unexpected {
                at: 0,
                expected: STX,
                found,
            })
        }
    };
    let [body @ .., end] = covered else {
        return Err(MessageError::Truncated {
            needed: 3,
            got: bytes.len(),
        });
    };
    let end = match *end {
        ETX => BlockEnd::Etx,
        EOT => BlockEnd::Eot,
        found => return Err(MessageError::BadBlockEnd { found }),
    };
    let bcc = bcc::check(covered, *found, policy)?;
    Ok(RawBlock {
        start,
        body,
        end,
        bcc,
    })
}

/// The BCC of a block about to be emitted: `written` starts with the SOH/STX byte.
pub(crate) fn bcc_of(written: &[u8]) -> u8 {
    bcc::bcc(written.get(1..).unwrap_or(&[]))
}
