//! GET block transfer, sans-IO: collects DataBlock-G results in order, within a total
//! size and a block count, and says which block to ask for next (Green Book 9.4.6.6:
//! block numbers start at 1 and rise by one; the client acknowledges each by number).
//! It does no I/O and does not decode the reassembled value.

use super::error::MeterError;
use crate::protocol::apdu::{DataAccessResult, DataBlockResult};

/// What to do after a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BlockStep {
    /// Ask for the block after this one (GET-Request-Next with this number).
    Next(u32),
    /// The last block arrived: the whole encoded value.
    Done(Vec<u8>),
    /// The meter aborted the transfer with this result.
    Refused(DataAccessResult),
}

/// Reassembly state of one GET block transfer.
#[derive(Debug, Clone)]
pub(crate) struct BlockAssembler {
    raw: Vec<u8>,
    /// Block number expected next; `None` before the first block.
    expected: Option<u32>,
    blocks: u32,
    max_bytes: usize,
    max_blocks: u32,
}

impl BlockAssembler {
    pub(crate) fn new(max_bytes: usize, max_blocks: u32) -> Self {
        BlockAssembler {
            raw: Vec::new(),
            expected: None,
            blocks: 0,
            max_bytes,
            max_blocks,
        }
    }

    /// Take one block of a GET-Response-With-Datablock.
    pub(crate) fn push(
        &mut self,
        last_block: bool,
        block_number: u32,
        result: DataBlockResult,
    ) -> Result<BlockStep, MeterError> {
        // Design: the first block number is taken as given (the Green Book says 1; a
        // meter that starts elsewhere still numbers the rest in sequence).
        if let Some(expected) = self.expected {
            if block_number != expected {
                return Err(MeterError::BlockSequence {
                    expected,
                    found: block_number,
                });
            }
        }
        let raw = match result {
            DataBlockResult::DataAccessResult(e) => return Ok(BlockStep::Refused(e)),
            DataBlockResult::RawData(raw) => raw,
        };
        self.blocks = self.blocks.saturating_add(1);
        if self.blocks > self.max_blocks {
            return Err(MeterError::TooLarge {
                what: "block transfer block count",
                limit: usize::try_from(self.max_blocks).unwrap_or(usize::MAX),
            });
        }
        if self.raw.len().saturating_add(raw.len()) > self.max_bytes {
            return Err(MeterError::TooLarge {
                what: "block transfer size",
                limit: self.max_bytes,
            });
        }
        self.raw.extend_from_slice(&raw);
        if last_block {
            return Ok(BlockStep::Done(core::mem::take(&mut self.raw)));
        }
        self.expected = Some(block_number.wrapping_add(1));
        Ok(BlockStep::Next(block_number))
    }

    /// Bytes collected so far.
    pub(crate) fn received(&self) -> usize {
        self.raw.len()
    }

    /// Blocks collected so far.
    pub(crate) fn blocks(&self) -> u32 {
        self.blocks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(bytes: &[u8]) -> DataBlockResult {
        DataBlockResult::RawData(bytes.to_vec())
    }

    #[test]
    fn collects_blocks_in_order() {
        let mut a = BlockAssembler::new(100, 10);
        assert_eq!(a.push(false, 1, raw(&[1, 2])).unwrap(), BlockStep::Next(1));
        assert_eq!(a.received(), 2);
        assert_eq!(a.push(false, 2, raw(&[3])).unwrap(), BlockStep::Next(2));
        assert_eq!(
            a.push(true, 3, raw(&[4, 5])).unwrap(),
            BlockStep::Done(vec![1, 2, 3, 4, 5])
        );
    }

    #[test]
    fn refuses_a_skipped_or_repeated_block() {
        let mut a = BlockAssembler::new(100, 10);
        a.push(false, 1, raw(&[1])).unwrap();
        assert!(matches!(
            a.push(false, 3, raw(&[2])),
            Err(MeterError::BlockSequence {
                expected: 2,
                found: 3
            })
        ));
        let mut a = BlockAssembler::new(100, 10);
        a.push(false, 1, raw(&[1])).unwrap();
        assert!(matches!(
            a.push(false, 1, raw(&[1])),
            Err(MeterError::BlockSequence { .. })
        ));
    }

    #[test]
    fn bounds_size_and_count() {
        let mut a = BlockAssembler::new(3, 10);
        a.push(false, 1, raw(&[1, 2])).unwrap();
        assert!(matches!(
            a.push(true, 2, raw(&[3, 4])),
            Err(MeterError::TooLarge { limit: 3, .. })
        ));
        let mut a = BlockAssembler::new(100, 2);
        a.push(false, 1, raw(&[])).unwrap();
        a.push(false, 2, raw(&[])).unwrap();
        assert!(matches!(
            a.push(false, 3, raw(&[])),
            Err(MeterError::TooLarge { limit: 2, .. })
        ));
    }

    #[test]
    fn an_aborted_transfer_is_a_refusal() {
        let mut a = BlockAssembler::new(100, 10);
        a.push(false, 1, raw(&[1])).unwrap();
        assert_eq!(
            a.push(
                true,
                2,
                DataBlockResult::DataAccessResult(DataAccessResult::LongGetAborted)
            )
            .unwrap(),
            BlockStep::Refused(DataAccessResult::LongGetAborted)
        );
    }
}
