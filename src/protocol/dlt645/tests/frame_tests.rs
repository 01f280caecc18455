//! Frames and messages against the annotated vectors.

use super::vectors::*;
use crate::protocol::dlt645::frame::PREAMBLE_BYTE;
use crate::protocol::dlt645::message::Credentials;
use crate::protocol::dlt645::*;

fn addr(digits: &str) -> Address {
    Address::from_digits(digits).unwrap()
}

const ALL: &[&[u8]] = &[
    READ_ADDRESS_REQUEST,
    READ_ADDRESS_REPLY,
    READ_ENERGY_REQUEST,
    READ_ENERGY_REPLY,
    READ_1997_REQUEST,
    READ_1997_REPLY,
    ABNORMAL_REPLY,
    FOLLOW_UP_FIRST,
    FOLLOW_UP_REQUEST,
    FOLLOW_UP_LAST,
    BROADCAST_TIME,
    NEGATIVE_POWER_REPLY,
];

fn without_preamble(v: &[u8]) -> &[u8] {
    let n = v.iter().take_while(|b| **b == PREAMBLE_BYTE).count();
    &v[n..]
}

#[test]
fn every_vector_checksum_is_the_sum_from_the_first_68_to_the_data() {
    for v in ALL {
        let body = without_preamble(v);
        let (cs_at, end_at) = (body.len() - 2, body.len() - 1);
        assert_eq!(checksum(&body[..cs_at]), body[cs_at], "{v:02X?}");
        assert_eq!(body[end_at], 0x16);
    }
}

#[test]
fn every_vector_parses_and_re_emits_byte_exact() {
    for v in ALL {
        let f = Frame::parse(v).unwrap();
        assert_eq!(f.to_bytes(), without_preamble(v), "{v:02X?}");
        assert_eq!(f.buffer_len(), without_preamble(v).len());
    }
}

#[test]
fn read_address_request_with_preamble() {
    let f = Frame::parse(READ_ADDRESS_REQUEST).unwrap();
    assert_eq!(f.address, Address::WILDCARD);
    assert_eq!(
        Request::decode(&f, Version::V2007).unwrap(),
        Request::ReadAddress
    );
    let built = Request::ReadAddress
        .encode(Address::WILDCARD, Version::V2007)
        .unwrap();
    assert_eq!(built.to_bytes_with_preamble(), READ_ADDRESS_REQUEST);
}

#[test]
fn read_address_reply_carries_the_address_in_header_and_data() {
    let f = Frame::parse(READ_ADDRESS_REPLY).unwrap();
    assert_eq!(f.address, addr("000000000001"));
    assert_eq!(
        Reply::decode(&f, Version::V2007).unwrap(),
        Reply::Address(addr("000000000001"))
    );
}

#[test]
fn read_energy_request_builds_byte_exact() {
    let di = DataId::v2007([0x00, 0x01, 0x00, 0x00]);
    let built = Request::Read { di, params: vec![] }
        .encode(addr("000000000001"), Version::V2007)
        .unwrap();
    assert_eq!(built.to_bytes(), READ_ENERGY_REQUEST);
}

#[test]
fn read_energy_reply_decodes_to_exact_kwh() {
    let f = Frame::parse(READ_ENERGY_REPLY).unwrap();
    assert_eq!(f.address.to_string(), "398192000337");
    let Reply::Read { di, data, more } = Reply::decode(&f, Version::V2007).unwrap() else {
        panic!("not a read reply");
    };
    assert!(!more);
    let entry = catalog::lookup(di).unwrap();
    assert_eq!(entry.short_code, Some(crate::codes::ShortCode(1)));
    assert_eq!(
        entry.decode(&data).unwrap(),
        Value::Number(Decimal::new(4, 2))
    );
    assert_eq!(Decimal::new(4, 2).to_string(), "0.04");
}

#[test]
fn read_1997_request_and_reply() {
    let di = DataId::v1997([0x90, 0x10]);
    let req = Frame::parse(READ_1997_REQUEST).unwrap();
    assert_eq!(
        Request::decode(&req, Version::V1997).unwrap(),
        Request::Read { di, params: vec![] }
    );
    let rep = Frame::parse(READ_1997_REPLY).unwrap();
    let Reply::Read { data, .. } = Reply::decode(&rep, Version::V1997).unwrap() else {
        panic!("not a read reply");
    };
    let v = catalog::lookup(di).unwrap().decode(&data).unwrap();
    assert_eq!(v, Value::Number(Decimal::new(958015, 2)));
    assert_eq!(Decimal::new(958015, 2).to_string(), "9580.15");
}

#[test]
fn abnormal_reply_is_a_typed_refusal() {
    let f = Frame::parse(ABNORMAL_REPLY).unwrap();
    let Reply::Abnormal { function, error } = Reply::decode(&f, Version::V2007).unwrap() else {
        panic!("not abnormal");
    };
    assert_eq!(function, Function::ReadData);
    assert_eq!(error.conditions(), vec![ErrorCondition::NoRequestedData]);
}

#[test]
fn follow_up_frames_decode() {
    let di = DataId::v2007([0x04, 0x00, 0x04, 0x01]);
    let first = Frame::parse(FOLLOW_UP_FIRST).unwrap();
    assert_eq!(
        Reply::decode(&first, Version::V2007).unwrap(),
        Reply::Read {
            di,
            data: vec![0x01, 0x00],
            more: true
        }
    );
    let req = Frame::parse(FOLLOW_UP_REQUEST).unwrap();
    assert_eq!(
        Request::decode(&req, Version::V2007).unwrap(),
        Request::ReadFollowUp { di, seq: Some(1) }
    );
    let last = Frame::parse(FOLLOW_UP_LAST).unwrap();
    assert_eq!(
        Reply::decode(&last, Version::V2007).unwrap(),
        Reply::ReadFollowUp {
            di,
            data: vec![0, 0, 0, 0],
            seq: Some(1),
            more: false
        }
    );
}

#[test]
fn broadcast_time_decodes_and_builds() {
    let f = Frame::parse(BROADCAST_TIME).unwrap();
    assert!(f.address.is_broadcast());
    let Request::BroadcastTime(time) = Request::decode(&f, Version::V2007).unwrap() else {
        panic!("not broadcast time");
    };
    let t = MeterDateTime::decode(&time).unwrap();
    assert_eq!(t.to_string(), "2024-03-15T08:30:00");
    let built = Request::BroadcastTime(t.encode().try_into().unwrap())
        .encode(Address::BROADCAST, Version::V2007)
        .unwrap();
    assert_eq!(built.to_bytes_with_preamble(), BROADCAST_TIME);
}

#[test]
fn negative_power_uses_the_sign_bit() {
    let f = Frame::parse(NEGATIVE_POWER_REPLY).unwrap();
    let Reply::Read { di, data, .. } = Reply::decode(&f, Version::V2007).unwrap() else {
        panic!("not a read reply");
    };
    let v = catalog::lookup(di).unwrap().decode(&data).unwrap();
    assert_eq!(v, Value::Number(Decimal::new(-12345, 4)));
    assert_eq!(Decimal::new(-12345, 4).to_string(), "-1.2345");
}

#[test]
fn parse_errors_are_typed() {
    let good = READ_ENERGY_REQUEST;
    let mut bad_cs = good.to_vec();
    bad_cs[14] ^= 0x01;
    assert_eq!(
        Frame::parse(&bad_cs),
        Err(FrameError::BadChecksum {
            expected: 0xB3,
            found: 0xB2
        })
    );
    let mut bad_end = good.to_vec();
    bad_end[15] = 0x17;
    assert_eq!(
        Frame::parse(&bad_end),
        Err(FrameError::MissingEnd { found: 0x17 })
    );
    let mut bad_start2 = good.to_vec();
    bad_start2[7] = 0x00;
    assert_eq!(
        Frame::parse(&bad_start2),
        Err(FrameError::MissingSecondStart { found: 0x00 })
    );
    assert_eq!(
        Frame::parse(&good[..10]),
        Err(FrameError::Truncated {
            len: 10,
            needed: 16
        })
    );
    let mut trailing = good.to_vec();
    trailing.push(0x00);
    assert_eq!(
        Frame::parse(&trailing),
        Err(FrameError::TrailingBytes { extra: 1 })
    );
    assert_eq!(
        Frame::parse(&[0x00]),
        Err(FrameError::MissingStart { found: 0x00 })
    );
    assert_eq!(
        Frame::parse(&[]),
        Err(FrameError::Truncated { len: 0, needed: 12 })
    );
}

#[test]
fn emit_checks_buffer_and_length() {
    let f = Frame::parse(READ_ENERGY_REQUEST).unwrap();
    let mut small = [0u8; 15];
    assert_eq!(
        f.emit(&mut small),
        Err(FrameError::BufferTooSmall {
            len: 15,
            needed: 16
        })
    );
    let too_long = Frame {
        data: vec![0; 256],
        ..f.clone()
    };
    assert_eq!(
        too_long.emit(&mut [0u8; 300]),
        Err(FrameError::DataTooLong { len: 256 })
    );
    assert!(too_long.to_bytes().is_empty());
    assert_eq!(
        Frame::new(f.address, f.control, vec![0; 256]),
        Err(FrameError::DataTooLong { len: 256 })
    );
}

#[test]
fn message_errors_are_typed() {
    let a = addr("000000000001");
    let read_reply = Reply::Read {
        di: DataId::v2007([0, 1, 0, 0]),
        data: vec![],
        more: false,
    }
    .encode(a, Version::V2007)
    .unwrap();
    assert!(matches!(
        Request::decode(&read_reply, Version::V2007),
        Err(MessageError::WrongDirection { .. })
    ));
    let short = Frame::new(a, Control::request(0x11), vec![0x00, 0x01]).unwrap();
    assert_eq!(
        Request::decode(&short, Version::V2007),
        Err(MessageError::TooShort {
            function: Function::ReadData,
            needed: 4,
            len: 2
        })
    );
    let abnormal_empty = Frame::new(a, Control::reply(0x11, true, false), vec![]).unwrap();
    assert_eq!(
        Reply::decode(&abnormal_empty, Version::V2007),
        Err(MessageError::MissingErrorByte)
    );
    assert_eq!(
        Request::ReadAddress.encode(a, Version::V1997),
        Err(MessageError::NoSuchFunction {
            function: Function::ReadAddress,
            version: Version::V1997
        })
    );
    let di97 = DataId::v1997([0x90, 0x10]);
    assert_eq!(
        Request::Read {
            di: di97,
            params: vec![]
        }
        .encode(a, Version::V2007),
        Err(MessageError::WrongEdition {
            di: di97,
            version: Version::V2007
        })
    );
}

#[test]
fn write_request_layouts_differ_by_edition() {
    let a = addr("000000000001");
    let w07 = Request::Write {
        di: DataId::v2007([0x04, 0x00, 0x01, 0x02]),
        credentials: Credentials {
            password: [0x02, 0x11, 0x22, 0x33],
            operator: Some([0x01, 0x02, 0x03, 0x04]),
        },
        value: vec![0x00, 0x30, 0x08],
    };
    let f = w07.encode(a, Version::V2007).unwrap();
    assert_eq!(f.control.0, 0x14);
    #[rustfmt::skip]
    assert_eq!(f.data, [
        0x02, 0x01, 0x00, 0x04, // DI 04 00 01 02, DI0 first
        0x02, 0x11, 0x22, 0x33, // PA P0 P1 P2
        0x01, 0x02, 0x03, 0x04, // operator C0..C3
        0x00, 0x30, 0x08,       // hhmmss = 08:30:00, ss first
    ]);
    assert_eq!(Request::decode(&f, Version::V2007).unwrap(), w07);
    let w97 = Request::Write {
        di: DataId::v1997([0xC0, 0x11]),
        credentials: Credentials {
            password: [0x00, 0x00, 0x00, 0x00],
            operator: None,
        },
        value: vec![0x00, 0x30, 0x08],
    };
    let f = w97.encode(a, Version::V1997).unwrap();
    assert_eq!(f.control.0, 0x04);
    assert_eq!(f.data.len(), 2 + 4 + 3);
    assert_eq!(Request::decode(&f, Version::V1997).unwrap(), w97);
}
