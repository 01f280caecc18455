//! One HDLC frame, format type 3: parse from exactly one frame's bytes, emit into a buffer.
//!
//! ```text
//! 7E | format (2) | dest addr (1,2,4) | src addr (1,2,4) | control | [HCS (2) | info] | FCS (2) | 7E
//! ```
//!
//! Contract: [`Frame::parse`] never panics on any input and checks flags, format type, length,
//! addresses, HCS and FCS; [`Frame::emit`] never panics and writes [`Frame::buffer_len`] bytes.
//! DLMS HDLC uses no byte stuffing, so 0x7E may appear anywhere inside a frame: only the
//! length field says where a frame ends. Finding frames in a byte stream is `deframer.rs`'s
//! job; deciding what a frame means is the session's.

use super::address::{AddressError, HdlcAddress};
use super::control::Control;
use super::fcs;

/// Opening and closing flag. Green Book 8.4.1.2.
pub const FLAG: u8 = 0x7E;
/// Frame format type 3 in the top nibble of the format field. Green Book 8.4.1.3.
pub const FORMAT_TYPE_3: u16 = 0xA000;
/// Segmentation bit of the format field. Green Book 8.4.1.3.
pub const SEGMENTATION_BIT: u16 = 0x0800;
/// Largest value of the 11-bit frame length sub-field (bytes between the flags). Green Book 8.4.1.3.
pub const MAX_FRAME_LEN: usize = 0x07FF;
/// Smallest frame: format (2) + two one-byte addresses + control + FCS (2).
pub const MIN_FRAME_LEN: usize = 7;
/// Largest frame on the wire, flags included.
pub const MAX_WIRE_LEN: usize = MAX_FRAME_LEN + 2;

const FORMAT_TYPE_MASK: u16 = 0xF000;
const LENGTH_MASK: u16 = 0x07FF;
const CHECK_LEN: usize = 2;

/// Which address field a [`FrameError::Address`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressField {
    Destination,
    Source,
}

/// Why bytes are not a valid frame (or a frame cannot be emitted).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("frame shorter than its header")]
    Truncated,
    #[error("expected opening flag 0x7E, found {found:#04x}")]
    MissingOpeningFlag { found: u8 },
    #[error("expected closing flag 0x7E, found {found:#04x}")]
    MissingClosingFlag { found: u8 },
    #[error("format field {format:#06x} is not frame format type 3")]
    BadFormatType { format: u16 },
    #[error("frame length {declared} cannot hold a {header}-byte header and its checks")]
    BadLength { declared: usize, header: usize },
    #[error("frame declares {declared} bytes with flags, {actual} given")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("{field:?} address: {error}")]
    Address {
        field: AddressField,
        error: AddressError,
    },
    #[error("bad HCS: computed {expected:#06x}, frame carries {found:#06x}")]
    BadHcs { expected: u16, found: u16 },
    #[error("bad FCS: computed {expected:#06x}, frame carries {found:#06x}")]
    BadFcs { expected: u16, found: u16 },
    #[error("frame of {len} bytes exceeds the 11-bit length limit {max}")]
    TooLong { len: usize, max: usize },
    #[error("output buffer of {len} bytes, frame needs {needed}")]
    BufferTooSmall { len: usize, needed: usize },
}

/// A frame, parsed. `info` is the information field as carried (LLC included, if any).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Segmentation bit: more segments of the same message follow.
    pub segmented: bool,
    pub destination: HdlcAddress,
    pub source: HdlcAddress,
    pub control: Control,
    /// Information field; empty means no information field (and no HCS).
    pub info: Vec<u8>,
}

/// What the first bytes of a frame say, before the frame is complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub segmented: bool,
    /// Declared length: bytes between the flags.
    pub frame_len: usize,
    pub destination: HdlcAddress,
    pub source: HdlcAddress,
    pub control: Control,
    /// Bytes from the format field through the control field.
    pub header_len: usize,
    pub has_info: bool,
}

/// Read a header from `body`, the bytes following the opening flag. `Ok(None)` means more
/// bytes are needed. When an information field is declared, the HCS is checked as soon as it
/// has arrived, so a damaged length cannot make the caller wait for bytes that never come.
pub(crate) fn parse_header(body: &[u8]) -> Result<Option<Header>, FrameError> {
    let (Some(&f0), Some(&f1)) = (body.first(), body.get(1)) else {
        return Ok(None);
    };
    let format = u16::from_be_bytes([f0, f1]);
    if format & FORMAT_TYPE_MASK != FORMAT_TYPE_3 {
        return Err(FrameError::BadFormatType { format });
    }
    let frame_len = usize::from(format & LENGTH_MASK);
    let rest = body.get(2..).unwrap_or(&[]);
    let Some((destination, dlen)) = address(rest, AddressField::Destination)? else {
        return Ok(None);
    };
    let rest = rest.get(dlen..).unwrap_or(&[]);
    let Some((source, slen)) = address(rest, AddressField::Source)? else {
        return Ok(None);
    };
    let header_len = 2 + dlen + slen + 1;
    let bad_length = FrameError::BadLength {
        declared: frame_len,
        header: header_len,
    };
    // No information field: header + FCS. With one: header + HCS + at least one byte + FCS
    // (Green Book 8.4.1.1: a zero-length information field carries no HCS).
    let has_info = match frame_len.checked_sub(header_len + CHECK_LEN) {
        Some(0) => false,
        Some(n) if n > CHECK_LEN => true,
        _ => return Err(bad_length),
    };
    let Some(&control) = rest.get(slen) else {
        return Ok(None);
    };
    if has_info {
        let Some(hcs) = body.get(header_len..header_len + CHECK_LEN) else {
            return Ok(None);
        };
        let covered = body.get(..header_len).unwrap_or(&[]);
        check(covered, hcs, |expected, found| FrameError::BadHcs {
            expected,
            found,
        })?;
    }
    Ok(Some(Header {
        segmented: format & SEGMENTATION_BIT != 0,
        frame_len,
        destination,
        source,
        control: Control::from_byte(control),
        header_len,
        has_info,
    }))
}

/// Parse an address; `Ok(None)` when it may still be completed by more bytes.
fn address(bytes: &[u8], field: AddressField) -> Result<Option<(HdlcAddress, usize)>, FrameError> {
    match HdlcAddress::parse(bytes) {
        Ok(parsed) => Ok(Some(parsed)),
        Err(AddressError::Truncated) => Ok(None),
        Err(error) => Err(FrameError::Address { field, error }),
    }
}

/// Compare the CRC of `covered` with the two wire bytes in `carried`.
fn check(
    covered: &[u8],
    carried: &[u8],
    err: impl FnOnce(u16, u16) -> FrameError,
) -> Result<(), FrameError> {
    let expected = fcs::crc16(covered);
    let found = match carried {
        [lo, hi] => fcs::from_wire(*lo, *hi),
        _ => return Err(FrameError::Truncated),
    };
    if expected == found {
        Ok(())
    } else {
        Err(err(expected, found))
    }
}

impl Frame {
    /// A frame without segmentation.
    pub fn new(
        destination: HdlcAddress,
        source: HdlcAddress,
        control: Control,
        info: Vec<u8>,
    ) -> Frame {
        Frame {
            segmented: false,
            destination,
            source,
            control,
            info,
        }
    }

    /// Parse exactly one frame, flags included.
    pub fn parse(bytes: &[u8]) -> Result<Frame, FrameError> {
        let (&first, body) = bytes.split_first().ok_or(FrameError::Truncated)?;
        if first != FLAG {
            return Err(FrameError::MissingOpeningFlag { found: first });
        }
        let header = parse_header(body)?.ok_or(FrameError::Truncated)?;
        let declared = header.frame_len + 2;
        if bytes.len() != declared {
            return Err(FrameError::LengthMismatch {
                declared,
                actual: bytes.len(),
            });
        }
        let (content, closing) = body
            .split_at_checked(header.frame_len)
            .ok_or(FrameError::Truncated)?;
        if closing != [FLAG] {
            let found = closing.first().copied().unwrap_or(0);
            return Err(FrameError::MissingClosingFlag { found });
        }
        let fcs_at = header.frame_len.saturating_sub(CHECK_LEN);
        let (covered, carried) = content
            .split_at_checked(fcs_at)
            .ok_or(FrameError::Truncated)?;
        check(covered, carried, |expected, found| FrameError::BadFcs {
            expected,
            found,
        })?;
        let info = if header.has_info {
            covered
                .get(header.header_len + CHECK_LEN..)
                .ok_or(FrameError::Truncated)?
                .to_vec()
        } else {
            Vec::new()
        };
        Ok(Frame {
            segmented: header.segmented,
            destination: header.destination,
            source: header.source,
            control: header.control,
            info,
        })
    }

    fn header_len(&self) -> usize {
        2 + self.destination.size().len() + self.source.size().len() + 1
    }

    /// Value of the length sub-field: bytes between the flags.
    pub fn frame_len(&self) -> usize {
        let info = if self.info.is_empty() {
            0
        } else {
            CHECK_LEN + self.info.len()
        };
        self.header_len() + info + CHECK_LEN
    }

    /// Bytes on the wire, both flags included.
    pub fn buffer_len(&self) -> usize {
        self.frame_len() + 2
    }

    /// Largest information field that fits one frame between these two addresses.
    pub fn max_info_len(destination: HdlcAddress, source: HdlcAddress) -> usize {
        let header = 2 + destination.size().len() + source.size().len() + 1;
        MAX_FRAME_LEN - header - 2 * CHECK_LEN
    }

    /// Write the frame into the start of `buf`; returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, FrameError> {
        let frame_len = self.frame_len();
        if frame_len > MAX_FRAME_LEN {
            return Err(FrameError::TooLong {
                len: frame_len,
                max: MAX_FRAME_LEN,
            });
        }
        let needed = frame_len + 2;
        let len = buf.len();
        let out = buf
            .get_mut(..needed)
            .ok_or(FrameError::BufferTooSmall { len, needed })?;
        let mut format = FORMAT_TYPE_3 | (frame_len as u16 & LENGTH_MASK);
        if self.segmented {
            format |= SEGMENTATION_BIT;
        }
        let mut w = Writer { out, at: 0 };
        w.put(&[FLAG]);
        w.put(&format.to_be_bytes());
        w.put(self.destination.encode().as_slice());
        w.put(self.source.encode().as_slice());
        w.put(&[self.control.to_byte()]);
        if !self.info.is_empty() {
            let hcs = fcs::crc16(w.written_from(1));
            w.put(&fcs::to_wire(hcs));
            w.put(&self.info);
        }
        let fcs = fcs::crc16(w.written_from(1));
        w.put(&fcs::to_wire(fcs));
        w.put(&[FLAG]);
        Ok(w.at)
    }

    /// The frame's bytes, flags included.
    pub fn to_bytes(&self) -> Result<Vec<u8>, FrameError> {
        let mut buf = vec![0; self.buffer_len().min(MAX_WIRE_LEN)];
        let n = self.emit(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }
}

/// Appends into a slice already checked to be long enough; never panics.
struct Writer<'a> {
    out: &'a mut [u8],
    at: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.at + bytes.len();
        if let Some(dst) = self.out.get_mut(self.at..end) {
            dst.copy_from_slice(bytes);
        }
        self.at = end;
    }

    fn written_from(&self, start: usize) -> &[u8] {
        self.out.get(start..self.at).unwrap_or(&[])
    }
}

#[cfg(test)]
#[path = "frame_tests.rs"]
pub(crate) mod tests;
