use super::*;
use crate::protocol::hdlc::address::AddressSize;
use crate::protocol::hdlc::vectors::*;
use proptest::prelude::*;

fn client() -> HdlcAddress {
    HdlcAddress::client(0x10).unwrap()
}

fn server1() -> HdlcAddress {
    HdlcAddress::server(1, None).unwrap()
}

/// Parse, compare with the expected frame, and check that emit gives back the same bytes.
fn assert_vector(bytes: &[u8], expected: &Frame) {
    let parsed = Frame::parse(bytes).expect("vector parses");
    assert_eq!(&parsed, expected);
    assert_eq!(parsed.buffer_len(), bytes.len());
    assert_eq!(parsed.to_bytes().unwrap(), bytes);
}

#[test]
fn snrm_without_parameters() {
    let f = Frame::new(server1(), client(), Control::Snrm { poll: true }, vec![]);
    assert_vector(SNRM_GURUX, &f);
}

#[test]
fn snrm_with_parameters() {
    let info = SNRM_PARAMS_GURUX[8..17].to_vec();
    let f = Frame::new(server1(), client(), Control::Snrm { poll: true }, info);
    assert_vector(SNRM_PARAMS_GURUX, &f);
}

#[test]
fn snrm_to_four_byte_server_address() {
    let server = HdlcAddress::server_sized(1, Some(17), AddressSize::Four).unwrap();
    let info = SNRM_FOUR_BYTE_GURUX[11..22].to_vec();
    let f = Frame::new(server, client(), Control::Snrm { poll: true }, info);
    assert_vector(SNRM_FOUR_BYTE_GURUX, &f);
}

#[test]
fn ua_with_parameters() {
    let server = HdlcAddress::server(1, Some(17)).unwrap();
    let info = UA_PARAMS_U9N[9..32].to_vec();
    let f = Frame::new(client(), server, Control::Ua { poll: true }, info);
    assert_vector(UA_PARAMS_U9N, &f);
}

#[test]
fn i_frame_with_llc() {
    let info = I_AARQ_GURUX[8..42].to_vec();
    assert_eq!(&info[..3], &[0xE6, 0xE6, 0x00]);
    let control = Control::I {
        ns: 0,
        nr: 0,
        poll: true,
    };
    assert_vector(
        I_AARQ_GURUX,
        &Frame::new(server1(), client(), control, info),
    );
}

#[test]
fn segmented_i_frames_with_flag_value_in_hcs() {
    let first = Frame::parse(I_SEGMENT_1_GURUX).unwrap();
    assert!(first.segmented);
    // LLC (3) + 26 bytes of AARQ: gurux fills 29 of the 32 allowed.
    assert_eq!(first.info.len(), 3 + 26);
    let second = Frame::parse(I_SEGMENT_2_GURUX).unwrap();
    assert!(!second.segmented);
    assert_eq!(
        second.control,
        Control::I {
            ns: 1,
            nr: 0,
            poll: true
        }
    );
    assert_eq!(first.to_bytes().unwrap(), I_SEGMENT_1_GURUX);
    assert_eq!(second.to_bytes().unwrap(), I_SEGMENT_2_GURUX);
}

#[test]
fn segmented_i_frame_u9n() {
    let server = HdlcAddress::server(1, Some(17)).unwrap();
    let mut f = Frame::new(
        server,
        client(),
        Control::I {
            ns: 2,
            nr: 5,
            poll: true,
        },
        I_SEGMENTED_U9N[9..25].to_vec(),
    );
    f.segmented = true;
    assert_vector(I_SEGMENTED_U9N, &f);
}

#[test]
fn supervisory_and_unnumbered_frames() {
    let rr = Control::Rr { nr: 1, poll: true };
    assert_vector(RR_GURUX, &Frame::new(server1(), client(), rr, vec![]));
    let disc = Control::Disc { poll: true };
    assert_vector(DISC_GURUX, &Frame::new(server1(), client(), disc, vec![]));
    let dm = Control::Dm { poll: true };
    assert_vector(DM_SERVER, &Frame::new(client(), server1(), dm, vec![]));
    let frmr = Control::Frmr { poll: true };
    assert_vector(FRMR_SERVER, &Frame::new(client(), server1(), frmr, vec![]));
    let ua = Control::Ua { poll: true };
    assert_vector(UA_PLAIN, &Frame::new(client(), server1(), ua, vec![]));
    let four = HdlcAddress::server_sized(1, Some(17), AddressSize::Four).unwrap();
    assert_vector(DISC_FOUR_BYTE, &Frame::new(four, client(), disc, vec![]));
    assert_vector(UA_FOUR_BYTE, &Frame::new(client(), four, ua, vec![]));
}

#[test]
fn damaged_fcs_is_reported_with_both_values() {
    let mut bytes = RR_GURUX.to_vec();
    bytes[6] ^= 0x01;
    assert_eq!(
        Frame::parse(&bytes),
        Err(FrameError::BadFcs {
            expected: 0x8717,
            found: 0x8716
        })
    );
}

#[test]
fn damaged_header_is_caught_by_hcs() {
    let mut bytes = I_AARQ_GURUX.to_vec();
    bytes[5] = 0x12; // N(S) changed from 0 to 1
    assert!(matches!(
        Frame::parse(&bytes),
        Err(FrameError::BadHcs { found: 0xAFFB, .. })
    ));
}

#[test]
fn structural_errors() {
    assert_eq!(Frame::parse(&[]), Err(FrameError::Truncated));
    assert_eq!(
        Frame::parse(&SNRM_GURUX[1..]),
        Err(FrameError::MissingOpeningFlag { found: 0xA0 })
    );
    let mut bad_type = SNRM_GURUX.to_vec();
    bad_type[1] = 0x90;
    assert_eq!(
        Frame::parse(&bad_type),
        Err(FrameError::BadFormatType { format: 0x9007 })
    );
    let mut no_close = SNRM_GURUX.to_vec();
    no_close[8] = 0x00;
    assert_eq!(
        Frame::parse(&no_close),
        Err(FrameError::MissingClosingFlag { found: 0x00 })
    );
    assert_eq!(
        Frame::parse(&SNRM_GURUX[..8]),
        Err(FrameError::LengthMismatch {
            declared: 9,
            actual: 8
        })
    );
    // Length 6 cannot hold format + two addresses + control + FCS.
    assert_eq!(
        Frame::parse(&[0x7E, 0xA0, 0x06, 0x03, 0x21, 0x93, 0x00, 0x7E]),
        Err(FrameError::BadLength {
            declared: 6,
            header: 5
        })
    );
    // A three-byte destination address.
    assert!(matches!(
        Frame::parse(&[0x7E, 0xA0, 0x09, 0x00, 0x02, 0x03, 0x21, 0x93, 0, 0, 0x7E]),
        Err(FrameError::Address {
            field: AddressField::Destination,
            error: AddressError::BadLength(3)
        })
    ));
}

#[test]
fn zero_length_info_with_hcs_is_refused() {
    // Length 9 = header 5 + HCS 2 + FCS 2: an HCS with nothing to protect.
    assert!(matches!(
        Frame::parse(&[0x7E, 0xA0, 0x09, 0x03, 0x21, 0x10, 0, 0, 0, 0, 0x7E]),
        Err(FrameError::BadLength { declared: 9, .. })
    ));
}

#[test]
fn emit_refuses_oversize_and_short_buffers() {
    let max = Frame::max_info_len(server1(), client());
    let mut f = Frame::new(
        server1(),
        client(),
        Control::Ui { poll: false },
        vec![0; max],
    );
    assert_eq!(f.buffer_len(), MAX_WIRE_LEN);
    assert_eq!(f.to_bytes().unwrap().len(), MAX_WIRE_LEN);
    f.info.push(0);
    assert_eq!(
        f.to_bytes(),
        Err(FrameError::TooLong {
            len: MAX_FRAME_LEN + 1,
            max: MAX_FRAME_LEN
        })
    );
    let small = Frame::new(
        server1(),
        client(),
        Control::Rr { nr: 0, poll: true },
        vec![],
    );
    let mut buf = [0u8; 8];
    assert_eq!(
        small.emit(&mut buf),
        Err(FrameError::BufferTooSmall { len: 8, needed: 9 })
    );
}

pub(crate) fn arb_address() -> impl Strategy<Value = HdlcAddress> {
    prop_oneof![
        (0u16..=0x7F).prop_map(|u| HdlcAddress::server(u, None).unwrap()),
        (0u16..=0x7F, 0u16..=0x7F).prop_map(|(u, l)| HdlcAddress::server_sized(
            u,
            Some(l),
            AddressSize::Two
        )
        .unwrap()),
        (0u16..=0x3FFF, 0u16..=0x3FFF).prop_map(|(u, l)| HdlcAddress::server_sized(
            u,
            Some(l),
            AddressSize::Four
        )
        .unwrap()),
    ]
}

pub(crate) fn arb_frame() -> impl Strategy<Value = Frame> {
    (
        any::<bool>(),
        arb_address(),
        arb_address(),
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(|(segmented, destination, source, control, info)| Frame {
            segmented,
            destination,
            source,
            control: Control::from_byte(control),
            info,
        })
}

proptest! {
    #[test]
    fn parse_inverts_emit(frame in arb_frame()) {
        let bytes = frame.to_bytes().unwrap();
        prop_assert_eq!(bytes.len(), frame.buffer_len());
        prop_assert_eq!(Frame::parse(&bytes), Ok(frame));
    }

    #[test]
    fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = Frame::parse(&bytes);
    }

    #[test]
    fn parse_never_panics_on_plausible_headers(
        len in 0u16..0x800, tail in proptest::collection::vec(any::<u8>(), 0..64)
    ) {
        let mut bytes = vec![0x7E];
        bytes.extend_from_slice(&(0xA000 | len).to_be_bytes());
        bytes.extend_from_slice(&tail);
        let _ = Frame::parse(&bytes);
        let _ = parse_header(&bytes[1..]);
    }

    #[test]
    fn any_single_bit_flip_is_detected(frame in arb_frame(), pos in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = frame.to_bytes().unwrap();
        let i = 1 + pos.index(bytes.len() - 2); // not the flags
        bytes[i] ^= 1 << bit;
        prop_assert!(Frame::parse(&bytes).is_err());
    }
}
