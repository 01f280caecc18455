//! Finds whole frames in a byte stream: push bytes in, take frames out.
//!
//! `FE` wake-up bytes before a frame are skipped silently; other bytes outside a frame are
//! skipped and counted as garbage. The end of a frame comes from its length byte, and the
//! frame must then pass its checksum and end byte. A frame with a bad checksum is dropped
//! whole and reported with how many bytes went with it, so damaged bytes are never taken as
//! data. A `68` that turns out not to start a frame is dropped alone and the search resumes
//! at the next `68` (addresses and data may contain `68`). The buffer is bounded; this
//! module never interprets what a frame means.

use super::frame::{parse_header, Frame, FrameError, END, MAX_FRAME_LEN, PREAMBLE_BYTE, START};

/// Bytes the deframer holds at most: one whole frame of the largest size plus as much again.
pub const BUFFER_CAPACITY: usize = 2 * MAX_FRAME_LEN;

/// A frame that failed its checks, and how many buffered bytes were discarded with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}; dropped {dropped} bytes")]
pub struct DeframeError {
    pub kind: FrameError,
    pub dropped: usize,
}

/// Push-style frame finder. See the module documentation.
#[derive(Debug, Clone, Default)]
pub struct Deframer {
    buf: Vec<u8>,
    garbage: u64,
}

impl Deframer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Append bytes; returns how many were taken. Fewer than `bytes.len()` only when the
    /// buffer is full: take frames out with [`Deframer::next_frame`] and push the rest.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let room = BUFFER_CAPACITY.saturating_sub(self.buf.len());
        let taken = bytes.get(..room).unwrap_or(bytes);
        self.buf.extend_from_slice(taken);
        taken.len()
    }

    /// The next whole frame: `Ok(None)` until one is complete, `Err` for a dropped frame
    /// (call again: the deframer has already moved past it).
    pub fn next_frame(&mut self) -> Result<Option<Frame>, DeframeError> {
        loop {
            self.sync_to_start();
            let header = match parse_header(&self.buf) {
                Ok(Some(h)) => h,
                Ok(None) => return Ok(None),
                Err(_) => {
                    // A 68 without a second 68 seven bytes later: not a frame start.
                    self.garbage += 1;
                    self.buf.drain(..1);
                    continue;
                }
            };
            let total = header.frame_len;
            let Some(candidate) = self.buf.get(..total) else {
                // Still incomplete. If this start was spurious, a real frame may already sit
                // whole further on; take it rather than wait for bytes that may never come.
                // Design: the risk is a frame-shaped run inside a long frame's data. It needs
                // a 16 on the wire (plain 0xE3, never BCD) where a checksum also matches, so
                // we take that risk over a reply timeout after every noise burst.
                return Ok(self.take_later_frame());
            };
            return match Frame::parse(candidate) {
                Ok(frame) => {
                    self.buf.drain(..total);
                    Ok(Some(frame))
                }
                Err(kind @ FrameError::BadChecksum { .. }) if candidate.last() == Some(&END) => {
                    // The frame's extent is confirmed by its end byte: drop exactly it.
                    self.buf.drain(..total);
                    Err(DeframeError {
                        kind,
                        dropped: total,
                    })
                }
                Err(kind) => {
                    // No end byte where the length says: the length (or the start) was
                    // wrong. Drop the start byte only and search again from the next 68.
                    self.buf.drain(..1);
                    Err(DeframeError { kind, dropped: 1 })
                }
            };
        }
    }

    /// Push `bytes` and collect every frame and error they complete. The result has at most
    /// one entry per byte pushed, so it is bounded by the input.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Result<Frame, DeframeError>> {
        let mut out = Vec::new();
        let mut rest = bytes;
        loop {
            let n = self.push(rest);
            rest = rest.get(n..).unwrap_or_default();
            loop {
                match self.next_frame() {
                    Ok(None) => break,
                    Ok(Some(f)) => out.push(Ok(f)),
                    Err(e) => out.push(Err(e)),
                }
            }
            if rest.is_empty() || n == 0 {
                return out;
            }
        }
    }

    /// Bytes skipped so far because they were outside any frame (wake-up bytes excluded).
    pub fn garbage_bytes(&self) -> u64 {
        self.garbage
    }

    /// Bytes waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forget buffered bytes (for example after a reconnect or before a new request).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Drop bytes before the first 68: wake-up bytes silently, others as garbage.
    fn sync_to_start(&mut self) {
        let skip = self
            .buf
            .iter()
            .position(|&b| b == START)
            .unwrap_or(self.buf.len());
        let preamble = self
            .buf
            .iter()
            .take(skip)
            .filter(|&&b| b == PREAMBLE_BYTE)
            .count();
        self.garbage += (skip - preamble) as u64;
        self.buf.drain(..skip);
    }

    /// A complete, valid frame starting at a later 68 in the buffer, if any; the bytes
    /// before it are dropped as garbage.
    fn take_later_frame(&mut self) -> Option<Frame> {
        let found = (1..self.buf.len()).find_map(|at| {
            let rest = self.buf.get(at..)?;
            if rest.first() != Some(&START) {
                return None;
            }
            let total = parse_header(rest).ok()??.frame_len;
            Frame::parse(rest.get(..total)?)
                .ok()
                .map(|f| (at, total, f))
        });
        let (at, total, frame) = found?;
        self.garbage += at as u64;
        self.buf.drain(..at + total);
        Some(frame)
    }
}
