//! Finds whole frames in a byte stream: push bytes in, take frames out.
//!
//! The end of a frame comes from its length field, never from the next flag: DLMS HDLC has no
//! byte stuffing, so 0x7E occurs inside frames (in an HCS, an FCS or the data). Bytes before
//! an opening flag are skipped and counted. A frame that fails its checks is dropped, and the
//! error says why and how many bytes went with it, so a damaged frame is never taken as data.
//! A closing flag may also open the next frame (Green Book 8.4.1.2), so it is kept.
//! The buffer is bounded; this module never interprets what a frame means.

use super::frame::{parse_header, Frame, FrameError, FLAG, MAX_WIRE_LEN};

/// Bytes the deframer holds at most: one whole frame of the largest size plus as much again.
pub const BUFFER_CAPACITY: usize = 2 * MAX_WIRE_LEN;

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
            self.sync_to_flag();
            let Some(body) = self.buf.get(1..) else {
                return Ok(None);
            };
            if body.first() == Some(&FLAG) {
                // Two flags in a row: the first closed a frame (or is fill); the second opens.
                self.buf.drain(..1);
                continue;
            }
            let header = match parse_header(body) {
                Ok(None) => return Ok(None),
                Ok(Some(header)) => header,
                Err(FrameError::BadFormatType { .. }) => {
                    // 0x7E not followed by a type-3 format byte: not a frame start.
                    self.garbage += 1;
                    self.buf.drain(..1);
                    continue;
                }
                Err(kind) => return Err(self.drop_to_next_flag(kind)),
            };
            let total = header.frame_len + 2;
            let Some(candidate) = self.buf.get(..total) else {
                return Ok(None);
            };
            return match Frame::parse(candidate) {
                Ok(frame) => {
                    // Keep the closing flag: it may be the opening flag of the next frame.
                    self.buf.drain(..total - 1);
                    Ok(Some(frame))
                }
                Err(kind @ FrameError::BadFcs { .. }) if candidate.last() == Some(&FLAG) => {
                    // The frame's extent is known (length checked by the HCS, or a short
                    // frame whose closing flag sits where the length says): drop exactly it.
                    self.buf.drain(..total - 1);
                    Err(DeframeError {
                        kind,
                        dropped: total - 1,
                    })
                }
                Err(kind) => Err(self.drop_to_next_flag(kind)),
            };
        }
    }

    /// Bytes skipped so far because they were outside any frame (line noise, fill).
    pub fn garbage_bytes(&self) -> u64 {
        self.garbage
    }

    /// Bytes waiting for the rest of a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Forget buffered bytes (for example after a reconnect).
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// Drop bytes before the first flag, counting them as garbage.
    fn sync_to_flag(&mut self) {
        let skip = self
            .buf
            .iter()
            .position(|&b| b == FLAG)
            .unwrap_or(self.buf.len());
        self.garbage += skip as u64;
        self.buf.drain(..skip);
    }

    /// Drop the opening flag and everything up to (not including) the next flag.
    fn drop_to_next_flag(&mut self, kind: FrameError) -> DeframeError {
        let dropped = self
            .buf
            .iter()
            .skip(1)
            .position(|&b| b == FLAG)
            .map_or(self.buf.len(), |i| i + 1);
        self.buf.drain(..dropped);
        DeframeError { kind, dropped }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hdlc::frame::tests::arb_frame;
    use crate::protocol::hdlc::vectors::*;
    use proptest::prelude::*;

    /// Push everything, then collect every result until `Ok(None)`.
    fn run(d: &mut Deframer, bytes: &[u8]) -> Vec<Result<Frame, DeframeError>> {
        let mut out = Vec::new();
        let mut rest = bytes;
        loop {
            let n = d.push(rest);
            rest = &rest[n..];
            loop {
                match d.next_frame() {
                    Ok(None) => break,
                    Ok(Some(f)) => out.push(Ok(f)),
                    Err(e) => out.push(Err(e)),
                }
            }
            if rest.is_empty() {
                return out;
            }
        }
    }

    fn frame(bytes: &[u8]) -> Frame {
        Frame::parse(bytes).unwrap()
    }

    #[test]
    fn flag_value_inside_a_frame_does_not_end_it() {
        // gurux segment whose HCS is 54 7E: a flag-delimited reader would cut it at the HCS.
        let mut d = Deframer::new();
        let got = run(&mut d, I_SEGMENT_1_GURUX);
        assert_eq!(got, vec![Ok(frame(I_SEGMENT_1_GURUX))]);
    }

    #[test]
    fn byte_by_byte_gives_none_until_whole() {
        let mut d = Deframer::new();
        for (i, b) in I_AARQ_GURUX.iter().enumerate() {
            assert_eq!(d.push(&[*b]), 1);
            let r = d.next_frame();
            if i + 1 < I_AARQ_GURUX.len() {
                assert_eq!(r, Ok(None), "byte {i}");
            } else {
                assert_eq!(r, Ok(Some(frame(I_AARQ_GURUX))));
            }
        }
    }

    #[test]
    fn garbage_before_a_flag_is_skipped_and_counted() {
        let mut d = Deframer::new();
        let mut bytes = vec![0x00, 0x55, 0xA0, 0x13];
        bytes.extend_from_slice(RR_GURUX);
        assert_eq!(run(&mut d, &bytes), vec![Ok(frame(RR_GURUX))]);
        assert_eq!(d.garbage_bytes(), 4);
    }

    #[test]
    fn shared_flag_between_frames() {
        // Second frame's opening flag omitted: the first closing flag opens it.
        let mut bytes = UA_PLAIN.to_vec();
        bytes.extend_from_slice(&DM_SERVER[1..]);
        let mut d = Deframer::new();
        assert_eq!(
            run(&mut d, &bytes),
            vec![Ok(frame(UA_PLAIN)), Ok(frame(DM_SERVER))]
        );
        assert_eq!(d.garbage_bytes(), 0);
    }

    #[test]
    fn separate_flags_between_frames() {
        let mut bytes = I_SEGMENT_1_GURUX.to_vec();
        bytes.extend_from_slice(I_SEGMENT_2_GURUX);
        bytes.extend_from_slice(&[0x7E, 0x7E]); // fill
        bytes.extend_from_slice(RR_GURUX);
        let mut d = Deframer::new();
        let got = run(&mut d, &bytes);
        assert_eq!(
            got,
            vec![
                Ok(frame(I_SEGMENT_1_GURUX)),
                Ok(frame(I_SEGMENT_2_GURUX)),
                Ok(frame(RR_GURUX))
            ]
        );
    }

    #[test]
    fn bad_fcs_drops_exactly_the_frame_and_keeps_the_next() {
        let mut bad = I_AARQ_GURUX.to_vec();
        bad[20] ^= 0x40; // inside the APDU: only the FCS can tell
        let mut bytes = bad.clone();
        bytes.extend_from_slice(RR_GURUX);
        let mut d = Deframer::new();
        let got = run(&mut d, &bytes);
        assert_eq!(got.len(), 2);
        match &got[0] {
            Err(DeframeError {
                kind: FrameError::BadFcs { expected, found },
                dropped,
            }) => {
                assert_eq!(*found, 0x2391);
                assert_ne!(expected, found);
                assert_eq!(*dropped, I_AARQ_GURUX.len() - 1);
            }
            other => panic!("expected BadFcs, got {other:?}"),
        }
        assert_eq!(got[1], Ok(frame(RR_GURUX)));
    }

    #[test]
    fn bad_hcs_drops_to_the_next_flag() {
        // Damage the header of the segment whose HCS contains 7E: resync lands on that 7E,
        // which is not a frame start, then on the real next frame.
        let mut bad = I_SEGMENT_1_GURUX.to_vec();
        bad[4] = 0x23; // source address changed
        let mut bytes = bad;
        bytes.extend_from_slice(RR_GURUX);
        let mut d = Deframer::new();
        let got = run(&mut d, &bytes);
        assert!(matches!(
            got[0],
            Err(DeframeError {
                kind: FrameError::BadHcs { found: 0x7E54, .. },
                dropped: 7
            })
        ));
        assert_eq!(got.last(), Some(&Ok(frame(RR_GURUX))));
        assert!(got[1..got.len() - 1].iter().all(|r| r.is_err()));
    }

    #[test]
    fn truncated_frame_followed_by_another_is_not_taken_as_data() {
        // First frame loses its last 10 bytes; the next frame's bytes complete its length.
        let mut bytes = I_AARQ_GURUX[..I_AARQ_GURUX.len() - 10].to_vec();
        bytes.extend_from_slice(I_AARQ_GURUX);
        bytes.extend_from_slice(RR_GURUX);
        let mut d = Deframer::new();
        let got = run(&mut d, &bytes);
        assert!(got[0].is_err());
        let frames: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
        // Never a frame that was not sent intact.
        assert!(frames
            .iter()
            .all(|f| **f == frame(I_AARQ_GURUX) || **f == frame(RR_GURUX)));
        assert_eq!(frames.last(), Some(&&frame(RR_GURUX)));
    }

    #[test]
    fn buffer_is_bounded() {
        let mut d = Deframer::new();
        // A flag and a header declaring the largest frame, then filler that never completes it.
        let mut bytes = vec![0x7E, 0xA7, 0xFF, 0x03, 0x21, 0x13];
        let hcs = crate::protocol::hdlc::fcs::crc16(&bytes[1..]);
        bytes.extend_from_slice(&hcs.to_le_bytes());
        bytes.resize(3 * BUFFER_CAPACITY, 0x00);
        let taken = d.push(&bytes);
        assert_eq!(taken, BUFFER_CAPACITY);
        assert_eq!(d.buffered(), BUFFER_CAPACITY);
        // The declared frame is complete now; its FCS is wrong, so it is dropped and reported.
        assert!(matches!(
            d.next_frame(),
            Err(DeframeError {
                kind: FrameError::MissingClosingFlag { .. },
                ..
            })
        ));
        assert!(d.buffered() < BUFFER_CAPACITY);
        assert_eq!(d.next_frame(), Ok(None));
        assert_eq!(d.buffered(), 0);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(chunks in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 0..600), 0..8)) {
            let mut d = Deframer::new();
            for chunk in chunks {
                let _ = run(&mut d, &chunk);
                prop_assert!(d.buffered() <= BUFFER_CAPACITY);
            }
        }

        #[test]
        fn frames_survive_any_chunking_and_noise(
            frames in proptest::collection::vec(arb_frame(), 1..5),
            noise in proptest::collection::vec(any::<u8>(), 0..20),
            cut in any::<prop::sample::Index>(),
        ) {
            // Noise without flags in front, then frames back to back, pushed in two chunks.
            let mut bytes: Vec<u8> = noise.into_iter().filter(|b| *b != FLAG).collect();
            for f in &frames {
                bytes.extend_from_slice(&f.to_bytes().unwrap());
            }
            let at = cut.index(bytes.len() + 1);
            let mut d = Deframer::new();
            let mut got = run(&mut d, &bytes[..at]);
            got.extend(run(&mut d, &bytes[at..]));
            let expected: Vec<_> = frames.into_iter().map(Ok).collect();
            prop_assert_eq!(got, expected);
        }
    }
}
