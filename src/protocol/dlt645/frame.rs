//! One DL/T 645 frame: parse from exactly one frame's bytes, emit into a buffer.
//!
//! ```text
//! [FE..] 68 | A0..A5 | 68 | C | L | DATA (L bytes, +0x33 each) | CS | 16
//! ```
//! CS is the sum modulo 256 of every byte from the first 68 to the end of the data
//! (DL/T 645-2007, frame format: checksum). [`Frame::data`] holds the data with the +0x33 offset removed
//! (DL/T 645-2007, frame format: data field): what the standard calls the data field's value.
//!
//! Contract: [`Frame::parse`] never panics, checks both start bytes, the length, the
//! checksum and the end byte; [`Frame::emit`] never panics and writes [`Frame::buffer_len`]
//! bytes. Finding frames in a stream is `deframer.rs`'s job; meaning is `message.rs`'s.

use super::address::{Address, ADDRESS_LEN};
use super::control::Control;

/// Frame start byte, twice. DL/T 645-2007, frame format.
pub const START: u8 = 0x68;
/// Frame end byte. DL/T 645-2007, frame format.
pub const END: u8 = 0x16;
/// Wake-up byte sent before a frame (usually four of them). DL/T 645-2007, transmission rules: preamble.
pub const PREAMBLE_BYTE: u8 = 0xFE;
/// The customary four-byte wake-up preamble.
pub const PREAMBLE: [u8; 4] = [PREAMBLE_BYTE; 4];
/// Offset added to every data byte on the wire. DL/T 645-2007, frame format: data field.
pub const DATA_OFFSET: u8 = 0x33;
/// `68 A0..A5 68 C L`.
pub const HEADER_LEN: usize = 2 + ADDRESS_LEN + 2;
/// `CS 16`.
pub const TRAILER_LEN: usize = 2;
/// L is one byte. (2007 limits read data to 200 bytes and write data to 50; we accept the
/// byte's full range on receive and let the message layer judge.) DL/T 645-2007, frame format: length.
pub const MAX_DATA_LEN: usize = 255;
/// The longest frame on the wire, preamble excluded.
pub const MAX_FRAME_LEN: usize = HEADER_LEN + MAX_DATA_LEN + TRAILER_LEN;

const SECOND_START_AT: usize = 1 + ADDRESS_LEN;
const CONTROL_AT: usize = SECOND_START_AT + 1;
const LENGTH_AT: usize = CONTROL_AT + 1;

/// Why bytes are not a valid frame (or a frame cannot be emitted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("{len} bytes cannot hold a frame of {needed}")]
    Truncated { len: usize, needed: usize },
    #[error("expected start byte 0x68, found {found:#04x}")]
    MissingStart { found: u8 },
    #[error("expected second start byte 0x68 after the address, found {found:#04x}")]
    MissingSecondStart { found: u8 },
    #[error("bad checksum: computed {expected:#04x}, frame carries {found:#04x}")]
    BadChecksum { expected: u8, found: u8 },
    #[error("expected end byte 0x16, found {found:#04x}")]
    MissingEnd { found: u8 },
    #[error("{extra} bytes after the end of the frame")]
    TrailingBytes { extra: usize },
    #[error("data of {len} bytes exceeds the one-byte length field")]
    DataTooLong { len: usize },
    #[error("output buffer of {len} bytes, frame needs {needed}")]
    BufferTooSmall { len: usize, needed: usize },
}

/// A frame, parsed. `data` is the data field with the +0x33 offset removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub address: Address,
    pub control: Control,
    /// At most [`MAX_DATA_LEN`] bytes; [`Frame::emit`] refuses more.
    pub data: Vec<u8>,
}

/// The fixed part of a frame, as read by [`parse_header`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// Whole frame length from the first 68 to the 16.
    pub frame_len: usize,
}

/// Sum modulo 256 of `bytes`. DL/T 645-2007, frame format: checksum.
pub fn checksum(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0u8, |acc, b| acc.wrapping_add(*b))
}

/// Check the header of a frame starting at `bytes[0]` (no preamble): `Ok(None)` when more
/// bytes are needed to tell.
pub(crate) fn parse_header(bytes: &[u8]) -> Result<Option<Header>, FrameError> {
    match bytes.first() {
        None => return Ok(None),
        Some(&START) => {}
        Some(&found) => return Err(FrameError::MissingStart { found }),
    }
    match bytes.get(SECOND_START_AT) {
        None => return Ok(None),
        Some(&START) => {}
        Some(&found) => return Err(FrameError::MissingSecondStart { found }),
    }
    let Some(&len) = bytes.get(LENGTH_AT) else {
        return Ok(None);
    };
    Ok(Some(Header {
        frame_len: HEADER_LEN + usize::from(len) + TRAILER_LEN,
    }))
}

impl Frame {
    /// A frame; `Err(DataTooLong)` if `data` has more than 255 bytes.
    pub fn new(address: Address, control: Control, data: Vec<u8>) -> Result<Self, FrameError> {
        if data.len() > MAX_DATA_LEN {
            return Err(FrameError::DataTooLong { len: data.len() });
        }
        Ok(Frame {
            address,
            control,
            data,
        })
    }

    /// Parse exactly one frame. Leading `FE` preamble bytes are skipped; anything after the
    /// end byte is an error.
    pub fn parse(bytes: &[u8]) -> Result<Frame, FrameError> {
        let skip = bytes.iter().take_while(|b| **b == PREAMBLE_BYTE).count();
        let bytes = bytes.get(skip..).unwrap_or_default();
        let needed = match parse_header(bytes)? {
            Some(h) => h.frame_len,
            None => HEADER_LEN + TRAILER_LEN,
        };
        let frame = bytes.get(..needed).ok_or(FrameError::Truncated {
            len: bytes.len(),
            needed,
        })?;
        if bytes.len() > needed {
            return Err(FrameError::TrailingBytes {
                extra: bytes.len() - needed,
            });
        }
        let (body, trailer) = frame.split_at(needed - TRAILER_LEN);
        let (&found_cs, &end) = match trailer {
            [cs, end] => (cs, end),
            _ => {
                return Err(FrameError::Truncated {
                    len: frame.len(),
                    needed,
                })
            }
        };
        let expected = checksum(body);
        if expected != found_cs {
            return Err(FrameError::BadChecksum {
                expected,
                found: found_cs,
            });
        }
        if end != END {
            return Err(FrameError::MissingEnd { found: end });
        }
        let mut address = [0u8; ADDRESS_LEN];
        if let Some(a) = body.get(1..=ADDRESS_LEN) {
            address.copy_from_slice(a);
        }
        let control = Control(body.get(CONTROL_AT).copied().unwrap_or_default());
        let data = body
            .get(HEADER_LEN..)
            .unwrap_or_default()
            .iter()
            .map(|b| b.wrapping_sub(DATA_OFFSET))
            .collect();
        Ok(Frame {
            address: Address::from_wire(address),
            control,
            data,
        })
    }

    /// Bytes [`Frame::emit`] writes (no preamble).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data.len() + TRAILER_LEN
    }

    /// Write the frame (no preamble) into `buf`; returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, FrameError> {
        let len = u8::try_from(self.data.len()).map_err(|_| FrameError::DataTooLong {
            len: self.data.len(),
        })?;
        let needed = self.buffer_len();
        let have = buf.len();
        let out = buf
            .get_mut(..needed)
            .ok_or(FrameError::BufferTooSmall { len: have, needed })?;
        let (header, rest) = out.split_at_mut(HEADER_LEN);
        let (data, trailer) = rest.split_at_mut(self.data.len());
        header[0] = START;
        header[1..=ADDRESS_LEN].copy_from_slice(&self.address.wire());
        header[SECOND_START_AT] = START;
        header[CONTROL_AT] = self.control.0;
        header[LENGTH_AT] = len;
        for (slot, b) in data.iter_mut().zip(&self.data) {
            *slot = b.wrapping_add(DATA_OFFSET);
        }
        let cs = checksum(header).wrapping_add(checksum(data));
        trailer[0] = cs;
        trailer[1] = END;
        Ok(needed)
    }

    /// The frame's bytes, no preamble. Empty if `data` exceeds 255 bytes (possible only by
    /// building the struct by hand past [`Frame::new`]); [`Frame::emit`] says why.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.buffer_len()];
        match self.emit(&mut out) {
            Ok(n) => {
                out.truncate(n);
                out
            }
            Err(_) => Vec::new(),
        }
    }

    /// The frame's bytes after the four-byte `FE` wake-up preamble (what a master sends).
    pub fn to_bytes_with_preamble(&self) -> Vec<u8> {
        let body = self.to_bytes();
        if body.is_empty() {
            return body;
        }
        let mut out = Vec::with_capacity(PREAMBLE.len() + body.len());
        out.extend_from_slice(&PREAMBLE);
        out.extend_from_slice(&body);
        out
    }
}
