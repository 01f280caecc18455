//! The deframer: preamble, garbage, split input, bad checksums, resynchronisation.

use super::vectors::*;
use crate::protocol::dlt645::*;

fn frame(bytes: &[u8]) -> Frame {
    Frame::parse(bytes).unwrap()
}

#[test]
fn byte_by_byte_gives_none_until_whole() {
    let mut d = Deframer::new();
    for (i, b) in READ_ADDRESS_REQUEST.iter().enumerate() {
        assert_eq!(d.push(&[*b]), 1);
        let r = d.next_frame();
        if i + 1 < READ_ADDRESS_REQUEST.len() {
            assert_eq!(r, Ok(None), "byte {i}");
        } else {
            assert_eq!(r, Ok(Some(frame(READ_ADDRESS_REQUEST))));
        }
    }
    assert_eq!(d.garbage_bytes(), 0, "FE preamble is not garbage");
    assert_eq!(d.buffered(), 0);
}

#[test]
fn frames_with_and_without_preamble_back_to_back() {
    let mut bytes = READ_ENERGY_REQUEST.to_vec();
    bytes.extend_from_slice(READ_ADDRESS_REQUEST);
    bytes.extend_from_slice(READ_ENERGY_REPLY);
    let mut d = Deframer::new();
    assert_eq!(
        d.feed(&bytes),
        vec![
            Ok(frame(READ_ENERGY_REQUEST)),
            Ok(frame(READ_ADDRESS_REQUEST)),
            Ok(frame(READ_ENERGY_REPLY)),
        ]
    );
}

#[test]
fn garbage_before_a_frame_is_skipped_and_counted() {
    let mut bytes = vec![0x00, 0x55, 0x16, 0xFE];
    bytes.extend_from_slice(READ_ENERGY_REPLY);
    let mut d = Deframer::new();
    assert_eq!(d.feed(&bytes), vec![Ok(frame(READ_ENERGY_REPLY))]);
    assert_eq!(d.garbage_bytes(), 3);
}

#[test]
fn bad_checksum_drops_the_whole_frame_and_says_so() {
    let mut damaged = READ_ENERGY_REPLY.to_vec();
    damaged[14] ^= 0x40; // a data byte: the checksum no longer matches
    let mut bytes = damaged.clone();
    bytes.extend_from_slice(READ_ENERGY_REQUEST);
    let mut d = Deframer::new();
    let got = d.feed(&bytes);
    assert_eq!(got.len(), 2);
    assert_eq!(
        got[0],
        Err(DeframeError {
            kind: FrameError::BadChecksum {
                expected: 0xCC,
                found: 0x8C
            },
            dropped: damaged.len(),
        })
    );
    assert_eq!(got[1], Ok(frame(READ_ENERGY_REQUEST)));
}

#[test]
fn a_false_start_is_dropped_and_the_search_resumes() {
    // A lone 68 with a 68 seven bytes on, then a real frame: the false header's length
    // byte promises more than arrives, yet the real frame is found.
    #[rustfmt::skip]
    let mut bytes = vec![
        0x68, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x68, 0x11, 0xFF, // false header, L = 255
    ];
    bytes.extend_from_slice(READ_ENERGY_REQUEST);
    let mut d = Deframer::new();
    assert_eq!(d.feed(&bytes), vec![Ok(frame(READ_ENERGY_REQUEST))]);
    assert_eq!(d.garbage_bytes(), 10);
    assert_eq!(d.buffered(), 0);
}

#[test]
fn a_missing_end_byte_drops_only_the_start() {
    let mut damaged = READ_ENERGY_REQUEST.to_vec();
    *damaged.last_mut().unwrap() = 0x00;
    let mut bytes = damaged;
    bytes.extend_from_slice(READ_ENERGY_REPLY);
    let mut d = Deframer::new();
    let got = d.feed(&bytes);
    assert_eq!(
        got[0],
        Err(DeframeError {
            kind: FrameError::MissingEnd { found: 0x00 },
            dropped: 1
        })
    );
    assert_eq!(got.last(), Some(&Ok(frame(READ_ENERGY_REPLY))));
}

#[test]
fn push_is_bounded() {
    let mut d = Deframer::new();
    let noise = vec![0x00u8; 5000];
    let taken = d.push(&noise);
    assert_eq!(taken, deframer::BUFFER_CAPACITY);
    assert_eq!(d.next_frame(), Ok(None));
    assert_eq!(d.buffered(), 0);
    // feed() keeps pushing until everything is consumed.
    let mut d = Deframer::new();
    let mut bytes = noise;
    bytes.extend_from_slice(READ_ENERGY_REQUEST);
    assert_eq!(d.feed(&bytes), vec![Ok(frame(READ_ENERGY_REQUEST))]);
    assert_eq!(d.garbage_bytes(), 5000);
}

#[test]
fn clear_forgets_a_partial_frame() {
    let mut d = Deframer::new();
    d.push(&READ_ENERGY_REPLY[..8]);
    assert_eq!(d.next_frame(), Ok(None));
    d.clear();
    assert_eq!(
        d.feed(READ_ENERGY_REQUEST),
        vec![Ok(frame(READ_ENERGY_REQUEST))]
    );
}
