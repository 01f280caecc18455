//! IEC 62056-47 wrapper for DLMS over TCP/UDP: an 8-byte header in front of each APDU.
//!
//! ```text
//! version (2) = 0x0001 | source wPort (2) | destination wPort (2) | length (2) | APDU (length)
//! ```
//!
//! All fields big-endian (IEC 62056-47, wrapper protocol data unit).
//! Contract: [`WrapperFrame::parse`] and [`WrapperDecoder`] never panic on any input and never
//! hold more than one frame of the configured maximum; [`WrapperFrame::emit`] never panics.
//! This module does not check that the wPorts are the ones a session expects.

/// Wrapper version, the only one defined (IEC 62056-47).
pub const WRAPPER_VERSION: u16 = 0x0001;
/// Header length: version, source wPort, destination wPort, length.
pub const HEADER_LEN: usize = 8;
/// Largest APDU the 16-bit length field can describe.
pub const MAX_APDU_LEN: usize = 0xFFFF;

/// wPort of the public client (the DLMS default client, as the HDLC client SAP 0x10).
pub const WPORT_PUBLIC_CLIENT: u16 = 0x0010;
/// wPort of the management logical device (the default server).
pub const WPORT_MANAGEMENT_LOGICAL_DEVICE: u16 = 0x0001;
/// Client wPort used with CalinMeter radio/GPRS modules in public integration code.
pub const WPORT_CALIN_CLIENT: u16 = 102;

/// Why bytes are not a wrapper frame (or a frame cannot be emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WrapperError {
    #[error("wrapper version {0:#06x}, expected 0x0001")]
    BadVersion(u16),
    #[error("wrapper length {length} exceeds the maximum {max}")]
    TooLong { length: usize, max: usize },
    #[error("frame of {actual} bytes, header says {declared}")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("output buffer of {len} bytes, frame needs {needed}")]
    BufferTooSmall { len: usize, needed: usize },
}

/// The header alone: what the first eight bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrapperHeader {
    pub source: u16,
    pub destination: u16,
    /// Length of the APDU that follows.
    pub length: u16,
}

impl WrapperHeader {
    /// Read a header from the start of `bytes`; `Ok(None)` until eight bytes are there.
    pub fn parse(bytes: &[u8]) -> Result<Option<Self>, WrapperError> {
        let Some(&[v0, v1, s0, s1, d0, d1, l0, l1]) = bytes.first_chunk::<HEADER_LEN>() else {
            return Ok(None);
        };
        let version = u16::from_be_bytes([v0, v1]);
        if version != WRAPPER_VERSION {
            return Err(WrapperError::BadVersion(version));
        }
        Ok(Some(WrapperHeader {
            source: u16::from_be_bytes([s0, s1]),
            destination: u16::from_be_bytes([d0, d1]),
            length: u16::from_be_bytes([l0, l1]),
        }))
    }

    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let [v0, v1] = WRAPPER_VERSION.to_be_bytes();
        let [s0, s1] = self.source.to_be_bytes();
        let [d0, d1] = self.destination.to_be_bytes();
        let [l0, l1] = self.length.to_be_bytes();
        [v0, v1, s0, s1, d0, d1, l0, l1]
    }
}

/// A wrapper frame, parsed: the two wPorts and the APDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapperFrame {
    pub source: u16,
    pub destination: u16,
    pub apdu: Vec<u8>,
}

impl WrapperFrame {
    pub fn new(source: u16, destination: u16, apdu: Vec<u8>) -> Self {
        WrapperFrame {
            source,
            destination,
            apdu,
        }
    }

    /// Parse exactly one frame (header and APDU, nothing after).
    pub fn parse(bytes: &[u8]) -> Result<Self, WrapperError> {
        let header = WrapperHeader::parse(bytes)?.ok_or(WrapperError::LengthMismatch {
            declared: HEADER_LEN,
            actual: bytes.len(),
        })?;
        let declared = HEADER_LEN + usize::from(header.length);
        let apdu = bytes
            .get(HEADER_LEN..)
            .filter(|_| bytes.len() == declared)
            .ok_or(WrapperError::LengthMismatch {
                declared,
                actual: bytes.len(),
            })?;
        Ok(WrapperFrame {
            source: header.source,
            destination: header.destination,
            apdu: apdu.to_vec(),
        })
    }

    /// Bytes on the wire.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.apdu.len()
    }

    /// Write the frame into the start of `buf`; returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WrapperError> {
        let length = u16::try_from(self.apdu.len()).map_err(|_| WrapperError::TooLong {
            length: self.apdu.len(),
            max: MAX_APDU_LEN,
        })?;
        let needed = self.buffer_len();
        let len = buf.len();
        let out = buf
            .get_mut(..needed)
            .ok_or(WrapperError::BufferTooSmall { len, needed })?;
        let (head, body) = out.split_at_mut(HEADER_LEN);
        let header = WrapperHeader {
            source: self.source,
            destination: self.destination,
            length,
        };
        head.copy_from_slice(&header.to_bytes());
        body.copy_from_slice(&self.apdu);
        Ok(needed)
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, WrapperError> {
        let mut buf = vec![0; self.buffer_len().min(HEADER_LEN + MAX_APDU_LEN)];
        let n = self.emit(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }
}

/// Push-style decoder for a TCP stream of wrapper frames, bounded by a maximum APDU length.
///
/// Design: after a bad header there is no way back into step: the wrapper has no flag and
/// no check to find the next frame in a stream. The decoder keeps reporting the error until
/// [`WrapperDecoder::reset`]; the connection should be closed.
#[derive(Debug, Clone)]
pub struct WrapperDecoder {
    buf: Vec<u8>,
    max_apdu_len: usize,
    failed: Option<WrapperError>,
}

impl WrapperDecoder {
    /// A decoder refusing APDUs longer than `max_apdu_len` (at most [`MAX_APDU_LEN`]).
    pub fn new(max_apdu_len: usize) -> Self {
        WrapperDecoder {
            buf: Vec::new(),
            max_apdu_len: max_apdu_len.min(MAX_APDU_LEN),
            failed: None,
        }
    }

    fn capacity(&self) -> usize {
        HEADER_LEN + self.max_apdu_len
    }

    /// Append bytes; returns how many were taken (fewer only when one whole frame of the
    /// maximum size is already buffered: take it out with `next_frame` and push the rest).
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        if self.failed.is_some() {
            return bytes.len();
        }
        let room = self.capacity().saturating_sub(self.buf.len());
        let taken = bytes.get(..room).unwrap_or(bytes);
        self.buf.extend_from_slice(taken);
        taken.len()
    }

    /// The next whole frame; `Ok(None)` until one is complete.
    pub fn next_frame(&mut self) -> Result<Option<WrapperFrame>, WrapperError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let header = match WrapperHeader::parse(&self.buf) {
            Ok(Some(header)) => header,
            Ok(None) => return Ok(None),
            Err(e) => return Err(self.fail(e)),
        };
        let length = usize::from(header.length);
        if length > self.max_apdu_len {
            return Err(self.fail(WrapperError::TooLong {
                length,
                max: self.max_apdu_len,
            }));
        }
        let Some(apdu) = self.buf.get(HEADER_LEN..HEADER_LEN + length) else {
            return Ok(None);
        };
        let frame = WrapperFrame {
            source: header.source,
            destination: header.destination,
            apdu: apdu.to_vec(),
        };
        self.buf.drain(..HEADER_LEN + length);
        Ok(Some(frame))
    }

    /// Bytes waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forget everything, including a previous error (for a new connection).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.failed = None;
    }

    fn fail(&mut self, e: WrapperError) -> WrapperError {
        self.buf.clear();
        self.failed = Some(e);
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// gurux-dlms 1.0.203, InterfaceType.WRAPPER: `aarqRequest()` from client 102 to server 1.
    #[rustfmt::skip]
    const AARQ_GURUX_102: &[u8] = &[
        0x00, 0x01, // version 1
        0x00, 0x66, // source wPort 102 (Calin module client)
        0x00, 0x01, // destination wPort 1 (management logical device)
        0x00, 0x1F, // length 31
        // AARQ, no authentication
        0x60, 0x1D, 0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
        0xBE, 0x10, 0x04, 0x0E, 0x01, 0x00, 0x00, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00,
        0x40, 0x1E, 0x5D, 0xFF, 0xFF,
    ];

    /// u9n dlms-cosem 25.1.0 `WrapperProtocolDataUnit`: an AARE from server 1 to client 102.
    #[rustfmt::skip]
    const AARE_U9N: &[u8] = &[
        0x00, 0x01, // version 1
        0x00, 0x01, // source wPort 1
        0x00, 0x66, // destination wPort 102
        0x00, 0x2B, // length 43
        // AARE: association accepted
        0x61, 0x29, 0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
        0xA2, 0x03, 0x02, 0x01, 0x00, 0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x00, 0xBE,
        0x10, 0x04, 0x0E, 0x08, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00, 0x00, 0x10, 0x1D,
        0x04, 0x00, 0x00, 0x07,
    ];

    #[test]
    fn independent_vectors_parse_and_re_emit() {
        let aarq = WrapperFrame::parse(AARQ_GURUX_102).unwrap();
        assert_eq!(aarq.source, WPORT_CALIN_CLIENT);
        assert_eq!(aarq.destination, WPORT_MANAGEMENT_LOGICAL_DEVICE);
        assert_eq!(aarq.apdu, &AARQ_GURUX_102[8..]);
        assert_eq!(aarq.to_bytes().unwrap(), AARQ_GURUX_102);
        let aare = WrapperFrame::parse(AARE_U9N).unwrap();
        assert_eq!((aare.source, aare.destination), (1, 102));
        assert_eq!(aare.apdu.len(), 43);
        assert_eq!(aare.to_bytes().unwrap(), AARE_U9N);
    }

    #[test]
    fn default_public_client_header() {
        // gurux-dlms, client 16 -> server 1: the same AARQ behind 00 01 00 10 00 01 00 1F.
        let f = WrapperFrame::new(WPORT_PUBLIC_CLIENT, 1, AARQ_GURUX_102[8..].to_vec());
        assert_eq!(
            &f.to_bytes().unwrap()[..8],
            &[0x00, 0x01, 0x00, 0x10, 0x00, 0x01, 0x00, 0x1F]
        );
    }

    #[test]
    fn parse_errors() {
        let mut bad = AARQ_GURUX_102.to_vec();
        bad[1] = 0x02;
        assert_eq!(WrapperFrame::parse(&bad), Err(WrapperError::BadVersion(2)));
        assert_eq!(
            WrapperFrame::parse(&AARQ_GURUX_102[..20]),
            Err(WrapperError::LengthMismatch {
                declared: 39,
                actual: 20
            })
        );
        assert_eq!(
            WrapperFrame::parse(&AARQ_GURUX_102[..5]),
            Err(WrapperError::LengthMismatch {
                declared: 8,
                actual: 5
            })
        );
    }

    #[test]
    fn emit_limits() {
        let big = WrapperFrame::new(1, 2, vec![0; MAX_APDU_LEN + 1]);
        assert_eq!(
            big.to_bytes(),
            Err(WrapperError::TooLong {
                length: MAX_APDU_LEN + 1,
                max: MAX_APDU_LEN
            })
        );
        let f = WrapperFrame::new(1, 2, vec![1, 2, 3]);
        let mut buf = [0u8; 10];
        assert_eq!(
            f.emit(&mut buf),
            Err(WrapperError::BufferTooSmall {
                len: 10,
                needed: 11
            })
        );
    }

    #[test]
    fn decoder_splits_a_stream() {
        let mut stream = AARQ_GURUX_102.to_vec();
        stream.extend_from_slice(AARE_U9N);
        let mut d = WrapperDecoder::new(MAX_APDU_LEN);
        let mut frames = Vec::new();
        for b in &stream {
            assert_eq!(d.push(&[*b]), 1);
            if let Some(f) = d.next_frame().unwrap() {
                frames.push(f);
            }
        }
        assert_eq!(
            frames,
            vec![
                WrapperFrame::parse(AARQ_GURUX_102).unwrap(),
                WrapperFrame::parse(AARE_U9N).unwrap()
            ]
        );
        assert_eq!(d.buffered(), 0);
    }

    #[test]
    fn decoder_refuses_long_frames_and_stays_failed() {
        let mut d = WrapperDecoder::new(32);
        d.push(AARE_U9N); // 43-byte APDU
        let err = WrapperError::TooLong {
            length: 43,
            max: 32,
        };
        assert_eq!(d.next_frame(), Err(err));
        assert_eq!(d.buffered(), 0);
        d.push(AARQ_GURUX_102);
        assert_eq!(d.next_frame(), Err(err), "no resync inside a stream");
        d.reset();
        d.push(AARQ_GURUX_102);
        assert!(d.next_frame().unwrap().is_some());
    }

    #[test]
    fn decoder_buffer_is_bounded() {
        let mut d = WrapperDecoder::new(31);
        let mut stream = AARQ_GURUX_102.to_vec();
        stream.extend_from_slice(AARQ_GURUX_102);
        assert_eq!(d.push(&stream), AARQ_GURUX_102.len());
        assert!(d.next_frame().unwrap().is_some());
        assert_eq!(d.push(&stream[39..]), 39);
        assert!(d.next_frame().unwrap().is_some());
    }

    proptest! {
        #[test]
        fn parse_inverts_emit(source: u16, destination: u16,
                              apdu in proptest::collection::vec(any::<u8>(), 0..600)) {
            let f = WrapperFrame::new(source, destination, apdu);
            let bytes = f.to_bytes().unwrap();
            prop_assert_eq!(bytes.len(), f.buffer_len());
            prop_assert_eq!(WrapperFrame::parse(&bytes), Ok(f));
        }

        #[test]
        fn decoder_never_panics(chunks in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 0..100), 0..8), max in 0usize..200) {
            let mut d = WrapperDecoder::new(max);
            for chunk in chunks {
                let mut rest = &chunk[..];
                while !rest.is_empty() {
                    let n = d.push(rest);
                    rest = &rest[n..];
                    while let Ok(Some(f)) = d.next_frame() {
                        prop_assert!(f.apdu.len() <= max);
                    }
                    prop_assert!(d.buffered() <= HEADER_LEN + max);
                    if n == 0 {
                        break;
                    }
                }
            }
        }
    }
}
