//! Fault triggers and what each wire fault does to a frame's bytes.

use super::*;
use crate::protocol::hdlc::{DeframeError, Deframer, FrameError};

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn client() -> HdlcAddress {
    HdlcAddress::client(0x10).unwrap()
}

fn meter() -> HdlcAddress {
    HdlcAddress::server(1, Some(17)).unwrap()
}

/// An I-frame from meter 1/17 to client 16 carrying `info`.
fn response(info: &[u8]) -> Vec<u8> {
    let control = Control::I {
        ns: 2,
        nr: 3,
        poll: true,
    };
    Frame::new(client(), meter(), control, info.to_vec())
        .to_bytes()
        .unwrap()
}

fn deframe(bytes: &[u8]) -> Vec<Result<Frame, DeframeError>> {
    let mut d = Deframer::new();
    d.push(bytes);
    core::iter::from_fn(|| d.next_frame().transpose()).collect()
}

fn book(kind: FaultKind, trigger: Trigger) -> FaultBook {
    FaultBook::new(&[FaultSpec { kind, trigger }])
}

#[test]
fn nth_fires_on_that_frame_only() {
    let mut b = book(
        FaultKind::Silence,
        Trigger {
            nth: Some(3),
            ..Default::default()
        },
    );
    let fired: Vec<bool> = (0..6).map(|_| !b.on_frame(secs(0)).is_empty()).collect();
    assert_eq!(fired, [false, false, true, false, false, false]);
    assert_eq!(b.frames_sent(), 6);
}

#[test]
fn window_is_inclusive_then_exclusive() {
    let mut b = book(
        FaultKind::Silence,
        Trigger {
            from: Some(secs(60)),
            until: Some(secs(90)),
            ..Default::default()
        },
    );
    let at = |b: &mut FaultBook, s| !b.on_frame(secs(s)).is_empty();
    assert!(!at(&mut b, 59));
    assert!(at(&mut b, 60));
    assert!(at(&mut b, 89));
    assert!(!at(&mut b, 90));
}

#[test]
fn times_caps_the_count_and_probability_follows_the_seed() {
    let mut b = book(
        FaultKind::Duplicate,
        Trigger {
            times: Some(2),
            ..Default::default()
        },
    );
    let n = (0..10).filter(|_| !b.on_frame(secs(0)).is_empty()).count();
    assert_eq!(n, 2);

    let pattern = |seed| {
        let mut b = book(
            FaultKind::Duplicate,
            Trigger {
                probability: Some(0.3),
                seed,
                ..Default::default()
            },
        );
        (0..200)
            .map(|_| !b.on_frame(secs(0)).is_empty())
            .collect::<Vec<_>>()
    };
    let a = pattern(7);
    assert_eq!(a, pattern(7), "same seed, same faults");
    assert_ne!(a, pattern(8), "another seed, other faults");
    let hits = a.iter().filter(|h| **h).count();
    assert!((30..=90).contains(&hits), "about 30 % of 200, got {hits}");
}

#[test]
fn injected_fault_hits_the_next_occurrence_once() {
    let mut b = FaultBook::new(&[]);
    assert!(b.on_frame(secs(0)).is_empty());
    b.inject(FaultKind::Frmr);
    assert_eq!(b.on_frame(secs(0)), vec![FaultKind::Frmr]);
    assert!(b.on_frame(secs(0)).is_empty());
    b.inject(FaultKind::RefuseAssociation);
    assert!(b.on_frame(secs(0)).is_empty(), "not a wire fault");
    assert_eq!(
        b.on_association(secs(0), false),
        Some(FaultKind::RefuseAssociation)
    );
    assert_eq!(b.on_association(secs(0), false), None);
}

#[test]
fn reject_password_counts_only_password_associations() {
    let mut b = book(
        FaultKind::RejectPassword,
        Trigger {
            nth: Some(2),
            ..Default::default()
        },
    );
    assert_eq!(b.on_association(secs(0), true), None);
    assert_eq!(b.on_association(secs(0), false), None, "public client");
    assert_eq!(
        b.on_association(secs(0), true),
        Some(FaultKind::RejectPassword)
    );
}

#[test]
fn flip_bit_by_default_breaks_the_fcs_only() {
    let good = response(&[0xE6, 0xE7, 0x00, 0xC4, 0x01, 0xC1, 0x00, 0x11, 0x05]);
    let out = apply_wire(
        &[FaultKind::FlipBit { bit: None }],
        good.clone(),
        WireFormat::Hdlc,
    );
    assert_eq!(out.copies.len(), 1);
    let bad = &out.copies[0];
    let diff: Vec<usize> = (0..good.len()).filter(|&i| good[i] != bad[i]).collect();
    assert_eq!(diff, vec![good.len() - 3]);
    let frames = deframe(bad);
    assert!(
        matches!(
            frames.as_slice(),
            [Err(DeframeError {
                kind: FrameError::BadFcs { .. },
                ..
            })]
        ),
        "{frames:?}"
    );
}

#[test]
fn truncate_and_drop_bytes_shorten_the_frame() {
    let good = response(&[0xAA; 20]);
    let t = apply_wire(
        &[FaultKind::Truncate { count: None }],
        good.clone(),
        WireFormat::Hdlc,
    );
    assert_eq!(t.copies[0], good[..good.len() - good.len() / 2].to_vec());
    let t = apply_wire(
        &[FaultKind::Truncate { count: Some(4) }],
        good.clone(),
        WireFormat::Hdlc,
    );
    assert_eq!(t.copies[0], good[..good.len() - 4].to_vec());
    // The deframer sees an incomplete frame: nothing comes out.
    assert!(deframe(&t.copies[0]).is_empty());

    let d = apply_wire(
        &[FaultKind::DropBytes { count: 2 }],
        good.clone(),
        WireFormat::Hdlc,
    );
    assert_eq!(d.copies[0].len(), good.len() - 2);
    assert_eq!(d.copies[0][..5], good[..5]);
    assert!(!deframe(&d.copies[0]).iter().any(Result::is_ok));
}

#[test]
fn delay_silence_duplicate_shape_the_outcome() {
    let good = response(&[1, 2, 3]);
    let out = apply_wire(
        &[
            FaultKind::Delay(Duration::from_millis(1500)),
            FaultKind::Duplicate,
        ],
        good.clone(),
        WireFormat::Hdlc,
    );
    assert_eq!(out.delay, Duration::from_millis(1500));
    assert_eq!(out.copies, vec![good.clone(), good.clone()]);
    let out = apply_wire(&[FaultKind::Silence], good, WireFormat::Hdlc);
    assert!(out.copies.is_empty());
}

#[test]
fn wrong_source_is_a_valid_frame_from_another_station() {
    let good = response(&[1, 2, 3]);
    let out = apply_wire(
        &[FaultKind::WrongSource { physical: None }],
        good,
        WireFormat::Hdlc,
    );
    let frames = deframe(&out.copies[0]);
    let [Ok(f)] = frames.as_slice() else {
        panic!("{frames:?}")
    };
    assert_eq!(f.source, HdlcAddress::server(1, Some(18)).unwrap());
    assert_eq!(f.destination, client());
    assert_eq!(f.info, vec![1, 2, 3]);
}

#[test]
fn frmr_replaces_the_frame() {
    let good = response(&[1, 2, 3]);
    let out = apply_wire(&[FaultKind::Frmr], good, WireFormat::Hdlc);
    let frames = deframe(&out.copies[0]);
    let [Ok(f)] = frames.as_slice() else {
        panic!("{frames:?}")
    };
    assert_eq!(f.control, Control::Frmr { poll: true });
    assert_eq!(f.source, meter());
    let reject = FrameReject::parse(&f.info).unwrap();
    assert_eq!(reject.reasons, FRMR_W_INVALID_CONTROL);
}

#[test]
fn wrapper_wrong_source_changes_the_source_wport() {
    let frame = vec![0, 1, 0, 1, 0, 0x10, 0, 2, 0xC4, 0x01];
    let out = apply_wire(
        &[FaultKind::WrongSource { physical: None }],
        frame,
        WireFormat::Wrapper,
    );
    assert_eq!(out.copies[0], vec![0, 1, 0, 2, 0, 0x10, 0, 2, 0xC4, 0x01]);
    // FRMR has no meaning in the wrapper: the frame goes out unchanged.
    let frame = vec![0, 1, 0, 1, 0, 0x10, 0, 1, 0xC4];
    let out = apply_wire(&[FaultKind::Frmr], frame.clone(), WireFormat::Wrapper);
    assert_eq!(out.copies[0], frame);
}
