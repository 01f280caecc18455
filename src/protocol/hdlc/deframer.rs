//! Finds whole frames in a byte stream: push bytes in, take frames out.
//!
//! The end of a frame comes from its length field, never from the next flag: DLMS HDLC has no
//! byte stuffing, so 0x7E occurs inside frames (in an HCS, an FCS or the data). Bytes before
//! an opening flag are skipped and counted. A frame that fails its checks is dropped, and the
//! error says why and how many bytes went with it, so a damaged frame is never taken as data.
//! A closing flag may also open the next frame (Green Book 8.4.1.2), so it is kept.
//!
//! Line noise may hold a flag and a header whose HCS checks by chance, declaring up to 2 KiB.
//! So while the frame at the first flag is incomplete, the later flags are tried too: the
//! first one that starts a whole frame whose FCS checks ends the wait (the bytes before it
//! are reported dropped) and that frame comes out as soon as its last byte is in. A frame
//! that fails is dropped no further than the first later flag that may still start a frame.
//! Each later flag is examined once, however the bytes arrive.
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
    later: LaterFlags,
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
                self.discard(1);
                continue;
            }
            let header = match parse_header(body) {
                Ok(None) => return self.wait_or_skip(None),
                Ok(Some(header)) => header,
                Err(FrameError::BadFormatType { .. }) => {
                    // 0x7E not followed by a type-3 format byte: not a frame start.
                    self.garbage += 1;
                    self.discard(1);
                    continue;
                }
                Err(kind) => return Err(self.drop_to_next_flag(kind)),
            };
            let total = header.frame_len + 2;
            let Some(candidate) = self.buf.get(..total) else {
                return self.wait_or_skip(Some(total));
            };
            return match Frame::parse(candidate) {
                Ok(frame) => {
                    // Keep the closing flag: it may be the opening flag of the next frame.
                    self.discard(total - 1);
                    Ok(Some(frame))
                }
                Err(kind) => Err(self.failed(kind, total)),
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
        self.later = LaterFlags::default();
    }

    /// The frame at the first flag is not all in (`declared`: its length with flags, once
    /// its header is): wait for the rest, unless a later flag already starts a whole frame
    /// that checks; then drop the bytes before that flag.
    fn wait_or_skip(&mut self, declared: Option<usize>) -> Result<Option<Frame>, DeframeError> {
        // Design: without byte stuffing, a whole frame carried in the information field of
        // a frame still arriving looks just like a frame after noise, and wins the same way:
        // the outer frame is then lost as if damaged, and the session's retry asks again.
        // The inner one is a frame whose FCS checks all the same, and the session's address
        // and sequence checks decide what it is worth. Waiting for the outer frame instead
        // would let noise hold a real frame back for up to 2 KiB of line time.
        let Some(at) = self.later.scan(&self.buf).frame else {
            return Ok(None);
        };
        self.discard(at);
        let kind = match declared {
            Some(declared) => FrameError::LengthMismatch {
                declared,
                actual: at + 1,
            },
            None => FrameError::Truncated,
        };
        Err(DeframeError { kind, dropped: at })
    }

    /// The frame at the first flag, `total` bytes, failed with `kind`: drop it.
    fn failed(&mut self, kind: FrameError, total: usize) -> DeframeError {
        let closed = self.buf.get(total - 1) == Some(&FLAG);
        let dropped = match self.later.scan(&self.buf).start {
            // A later flag inside it may start a frame (the failed one may be noise that
            // runs into it): resume there.
            Some(at) if at < total - 1 => at,
            // The frame's extent is known (length checked by the HCS, or a short frame
            // whose closing flag sits where the length says): drop exactly it.
            _ if closed && matches!(kind, FrameError::BadFcs { .. }) => total - 1,
            _ => return self.drop_to_next_flag(kind),
        };
        self.discard(dropped);
        DeframeError { kind, dropped }
    }

    /// Drop bytes before the first flag, counting them as garbage.
    fn sync_to_flag(&mut self) {
        let skip = self
            .buf
            .iter()
            .position(|&b| b == FLAG)
            .unwrap_or(self.buf.len());
        self.garbage += skip as u64;
        self.discard(skip);
    }

    /// Drop the opening flag and everything up to (not including) the next flag.
    fn drop_to_next_flag(&mut self, kind: FrameError) -> DeframeError {
        let dropped = self
            .buf
            .iter()
            .skip(1)
            .position(|&b| b == FLAG)
            .map_or(self.buf.len(), |i| i + 1);
        self.discard(dropped);
        DeframeError { kind, dropped }
    }

    /// Remove the first `n` buffered bytes.
    fn discard(&mut self, n: usize) {
        if n == 0 {
            return;
        }
        self.buf.drain(..n);
        self.later.shift(n);
    }
}

/// What the later flags (those after the first buffered byte) may start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Starts {
    /// The first later flag that starts a whole frame whose FCS checks.
    frame: Option<usize>,
    /// The first later flag that starts such a frame or may still start one.
    start: Option<usize>,
}

/// How far a later flag has been read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Candidate {
    /// Its header is not all in.
    Header,
    /// Its header checks; the frame, this long with flags, is not all in.
    Waiting(usize),
    /// It starts a whole frame whose FCS checks.
    Whole,
}

/// The later flags examined so far, kept across calls so that each is parsed once however
/// the bytes arrive. Positions are buffer indices; they move down as bytes are discarded.
#[derive(Debug, Clone, Default)]
struct LaterFlags {
    /// Buffer positions from 1 up to here are examined: a flag there cannot start a frame,
    /// or it is in `open`.
    examined: usize,
    /// The later flags that start or may start a frame, in buffer order; at most one per
    /// buffered flag, so bounded by the buffer.
    open: Vec<(usize, Candidate)>,
}

impl LaterFlags {
    /// Examine the flags that arrived since the last call, look again at those still
    /// open, and say where the first (possible) frame starts.
    fn scan(&mut self, buf: &[u8]) -> Starts {
        let from = self.examined.max(1);
        self.examined = buf.len().max(1);
        let fresh = buf.get(from..).unwrap_or(&[]);
        self.open
            .extend(memchr::memchr_iter(FLAG, fresh).map(|i| (from + i, Candidate::Header)));
        let mut starts = Starts::default();
        self.open.retain_mut(|(at, candidate)| {
            let Some(now) = advance(buf, *at, *candidate) else {
                return false;
            };
            *candidate = now;
            starts.start.get_or_insert(*at);
            if now == Candidate::Whole {
                starts.frame.get_or_insert(*at);
            }
            true
        });
        starts
    }

    /// `n` bytes were removed from the front of the buffer.
    fn shift(&mut self, n: usize) {
        self.examined = self.examined.saturating_sub(n).max(1);
        self.open.retain_mut(|(at, _)| {
            let keep = *at > n;
            *at = at.saturating_sub(n);
            keep
        });
    }
}

/// What the bytes now in `buf` say about the flag at `at`; `None`: it starts no frame.
fn advance(buf: &[u8], at: usize, candidate: Candidate) -> Option<Candidate> {
    let len = match candidate {
        Candidate::Whole => return Some(Candidate::Whole),
        Candidate::Waiting(len) => len,
        Candidate::Header => match parse_header(buf.get(at + 1..).unwrap_or(&[])) {
            Ok(None) => return Some(Candidate::Header),
            Ok(Some(header)) => header.frame_len + 2,
            Err(_) => return None,
        },
    };
    match buf.get(at..at + len) {
        None => Some(Candidate::Waiting(len)),
        Some(bytes) => Frame::parse(bytes).is_ok().then_some(Candidate::Whole),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hdlc::frame::tests::arb_frame;
    use crate::protocol::hdlc::vectors::*;
    use crate::protocol::hdlc::{Control, HdlcAddress};
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

    /// Line noise holding a flag and a header whose HCS checks, declaring a 1536-byte frame.
    #[rustfmt::skip]
    const FAKE_LONG_HEADER: &[u8] = &[
        0x7E,
        0xA6, 0x00, // format type 3, length 0x600
        0x41,       // destination: client 0x20
        0x03,       // source: server 1
        0x10,       // I-frame
        0x68, 0x78, // HCS: checks
    ];

    #[test]
    fn noise_with_a_checking_header_does_not_hold_back_the_next_frame() {
        let mut bytes = vec![0x00, 0x55];
        bytes.extend_from_slice(FAKE_LONG_HEADER);
        bytes.extend_from_slice(&[0xC3, 0x7E, 0x00, 0xA0]); // more noise, a stray flag in it
        let real_at = bytes.len();
        bytes.extend_from_slice(RR_GURUX);
        let mut d = Deframer::new();
        for (i, b) in bytes.iter().enumerate() {
            assert_eq!(d.push(&[*b]), 1);
            let got = run(&mut d, &[]);
            if i + 1 < bytes.len() {
                assert_eq!(got, vec![], "byte {i}");
                continue;
            }
            // The frame's last byte is in: the fake frame is given up and the real one comes out.
            assert_eq!(
                got,
                vec![
                    Err(DeframeError {
                        kind: FrameError::LengthMismatch {
                            declared: 0x600 + 2,
                            actual: real_at - 2 + 1,
                        },
                        dropped: real_at - 2,
                    }),
                    Ok(frame(RR_GURUX)),
                ]
            );
        }
        assert_eq!(d.garbage_bytes(), 2);
        assert_eq!(d.buffered(), 1, "the closing flag, kept");
        // All at once: the same.
        let mut d = Deframer::new();
        let got = run(&mut d, &bytes);
        assert_eq!(got.last(), Some(&Ok(frame(RR_GURUX))));
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn a_failing_fake_frame_that_ends_inside_a_real_one_does_not_cut_it() {
        // A fake header whose declared end falls on the 0x7E inside the next frame's HCS:
        // dropping exactly the fake frame would cut the real one's header away.
        #[rustfmt::skip]
        let fake: &[u8] = &[
            0x7E,
            0xA0, 0x10, // format type 3, length 16: ends on the segment's HCS byte 0x7E
            0x41,       // destination: client 0x20
            0x03,       // source: server 1
            0x10,       // I-frame
            0x51, 0x80, // HCS: checks
            0x00, 0x55, // noise
        ];
        let mut bytes = fake.to_vec();
        bytes.extend_from_slice(I_SEGMENT_1_GURUX);
        bytes.extend_from_slice(RR_GURUX);
        for chunk in [1, 7, bytes.len()] {
            let mut d = Deframer::new();
            let mut got = Vec::new();
            for piece in bytes.chunks(chunk) {
                got.extend(run(&mut d, piece));
            }
            let frames: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
            assert_eq!(
                frames,
                vec![&frame(I_SEGMENT_1_GURUX), &frame(RR_GURUX)],
                "chunks of {chunk}: {got:?}"
            );
            assert_eq!(got.len(), 3, "one error, for the fake frame: {got:?}");
            assert!(
                matches!(
                    got[0],
                    Err(DeframeError {
                        kind: FrameError::BadFcs { .. },
                        dropped: 10
                    })
                ),
                "{got:?}"
            );
        }
    }

    #[test]
    fn a_frame_cut_short_gives_way_to_the_next_whole_one() {
        // The AARQ loses its second half; the RR that follows is whole long before the
        // AARQ's declared length is reached.
        let cut = I_AARQ_GURUX.len() / 2;
        let mut bytes = I_AARQ_GURUX[..cut].to_vec();
        bytes.extend_from_slice(RR_GURUX);
        let mut d = Deframer::new();
        assert_eq!(
            run(&mut d, &bytes),
            vec![
                Err(DeframeError {
                    kind: FrameError::LengthMismatch {
                        declared: I_AARQ_GURUX.len(),
                        actual: cut + 1,
                    },
                    dropped: cut,
                }),
                Ok(frame(RR_GURUX)),
            ]
        );
    }

    #[test]
    fn a_whole_frame_inside_an_incomplete_ones_information_is_ambiguous() {
        // Without byte stuffing, RR_GURUX carried as data looks the same as RR_GURUX after
        // noise. Whole, the outer frame is taken; while it is still arriving, the inner
        // one is (it checks), and the outer one is lost. See `wait_or_skip`.
        let client = HdlcAddress::client(0x10).unwrap();
        let server = HdlcAddress::server(1, None).unwrap();
        let mut info = vec![0xE6, 0xE7, 0x00];
        info.extend_from_slice(RR_GURUX);
        info.extend_from_slice(&[0x01; 20]);
        let outer = Frame::new(client, server, Control::from_byte(0x30), info);
        let bytes = outer.to_bytes().unwrap();
        let mut d = Deframer::new();
        assert_eq!(run(&mut d, &bytes), vec![Ok(outer.clone())]);
        let mut d = Deframer::new();
        let mut got = Vec::new();
        for b in &bytes {
            got.extend(run(&mut d, &[*b]));
        }
        let frames: Vec<_> = got.iter().filter_map(|r| r.as_ref().ok()).collect();
        assert_eq!(frames, vec![&frame(RR_GURUX)], "{got:?}");
    }

    /// One piece of line noise: random bytes, a flag, or the start of a frame cut short.
    fn noise_piece() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..40),
            Just(vec![FLAG]),
            (arb_frame(), any::<prop::sample::Index>()).prop_map(|(f, cut)| {
                let bytes = f.to_bytes().unwrap();
                bytes[..cut.index(bytes.len())].to_vec()
            }),
        ]
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

        #[test]
        fn what_is_kept_about_later_flags_matches_a_fresh_look(
            pieces in proptest::collection::vec(noise_piece(), 0..8),
            frames in proptest::collection::vec(arb_frame(), 0..3),
            chunk in 1usize..64,
        ) {
            let mut bytes: Vec<u8> = pieces.concat();
            for f in &frames {
                bytes.extend_from_slice(&f.to_bytes().unwrap());
            }
            let mut d = Deframer::new();
            for piece in bytes.chunks(chunk) {
                prop_assert_eq!(d.push(piece), piece.len());
                loop {
                    let kept = d.later.clone().scan(&d.buf);
                    prop_assert_eq!(kept, LaterFlags::default().scan(&d.buf));
                    if d.next_frame() == Ok(None) {
                        break;
                    }
                }
            }
        }

        #[test]
        fn a_frame_after_any_noise_comes_out_when_its_last_byte_is_in(
            noise in proptest::collection::vec(noise_piece(), 0..6),
            last in arb_frame(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        ) {
            // Noise: random bytes, stray flags, and starts of frames (a header whose HCS
            // checks, declaring any length) cut short; then one whole frame.
            let noise: Vec<u8> = noise.concat();
            let wire = last.to_bytes().unwrap();
            let mut bytes = noise.clone();
            bytes.extend_from_slice(&wire);
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len())).collect();
            at.push(bytes.len() - 1);
            at.sort_unstable();
            let mut d = Deframer::new();
            let mut got = Vec::new();
            let mut from = 0;
            for to in at {
                got.extend(run(&mut d, &bytes[from..to]));
                from = to;
                prop_assert!(d.buffered() <= BUFFER_CAPACITY);
            }
            // Everything but the closing flag: the frame cannot be out yet.
            prop_assert!(!got.contains(&Ok(last.clone())));
            got.extend(run(&mut d, &bytes[from..]));
            prop_assert_eq!(got.last(), Some(&Ok(last)), "{:?}", got);
            prop_assert_eq!(d.buffered(), 1);
        }
    }
}
