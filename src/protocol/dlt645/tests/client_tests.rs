//! The sans-IO read exchange, driven by hand with a virtual clock (plain `Duration`s).

use core::time::Duration;

use super::vectors::*;
use crate::protocol::dlt645::*;

const T0: Duration = Duration::from_secs(100);

fn cfg(version: Version) -> ExchangeConfig {
    ExchangeConfig {
        preamble: false,
        ..ExchangeConfig::new(version)
    }
}

fn frame(bytes: &[u8]) -> Frame {
    Frame::parse(bytes).unwrap()
}

fn energy() -> DataId {
    DataId::v2007([0x00, 0x01, 0x00, 0x00])
}

fn sent(action: &Action) -> &[u8] {
    match action {
        Action::Send { bytes, .. } => bytes,
        other => panic!("expected Send, got {other:?}"),
    }
}

#[test]
fn read_through_the_wildcard_learns_the_meter_address() {
    let mut x = Exchange::read(
        ExchangeConfig::new(Version::V2007),
        Address::WILDCARD,
        energy(),
    )
    .unwrap();
    let first = x.start(T0);
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0xFE, 0xFE, 0xFE, 0xFE,                         // preamble (config default)
        0x68, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0x68, // wildcard address
        0x11, 0x04, 0x33, 0x33, 0x34, 0x33,             // read 00 01 00 00
        0xAE, 0x16,                                     // CS, end
    ];
    assert_eq!(
        first,
        Action::Send {
            bytes: expected.to_vec(),
            deadline: T0 + Duration::from_secs(1),
            attempt: 1,
            max_attempts: 3
        }
    );
    let done = x.handle_frame(T0, &frame(READ_ENERGY_REPLY));
    assert_eq!(
        done,
        Action::Done(Answer::Data {
            address: Address::from_digits("398192000337").unwrap(),
            di: energy(),
            data: vec![0x04, 0x00, 0x00, 0x00],
        })
    );
    assert!(x.is_finished());
    assert_eq!(
        x.handle_frame(T0, &frame(READ_ENERGY_REPLY)),
        Action::Ignored(Ignored::NotWaiting)
    );
}

#[test]
fn timeouts_resend_the_same_bytes_then_give_up() {
    let meter = Address::from_digits("000000000001").unwrap();
    let mut x = Exchange::read(cfg(Version::V2007), meter, energy()).unwrap();
    let first = x.start(T0);
    assert_eq!(sent(&first), READ_ENERGY_REQUEST);
    let t1 = T0 + Duration::from_secs(1);
    let second = x.handle_timeout(t1);
    assert_eq!(
        second,
        Action::Send {
            bytes: READ_ENERGY_REQUEST.to_vec(),
            deadline: t1 + Duration::from_secs(1),
            attempt: 2,
            max_attempts: 3
        }
    );
    let third = x.handle_timeout(t1 + Duration::from_secs(1));
    assert!(matches!(third, Action::Send { attempt: 3, .. }));
    assert_eq!(
        x.handle_timeout(t1 + Duration::from_secs(2)),
        Action::Fail(ExchangeError::NoResponse { attempts: 3 })
    );
    assert!(x.is_finished());
}

#[test]
fn abnormal_reply_is_a_refusal_not_a_failure() {
    let meter = Address::from_digits("000000000001").unwrap();
    let mut x = Exchange::read(cfg(Version::V2007), meter, energy()).unwrap();
    x.start(T0);
    let Action::Refused { function, error } = x.handle_frame(T0, &frame(ABNORMAL_REPLY)) else {
        panic!("expected a refusal");
    };
    assert_eq!(function, Function::ReadData);
    assert!(error.has(ErrorCondition::NoRequestedData));
}

#[test]
fn follow_up_frames_are_requested_and_joined() {
    let meter = Address::from_digits("000000000001").unwrap();
    let di = DataId::v2007([0x04, 0x00, 0x04, 0x01]);
    let mut x = Exchange::read(cfg(Version::V2007), meter, di).unwrap();
    x.start(T0);
    let next = x.handle_frame(T0, &frame(FOLLOW_UP_FIRST));
    assert_eq!(sent(&next), FOLLOW_UP_REQUEST);
    // A stale copy of the first reply is not the follow-up.
    assert_eq!(
        x.handle_frame(T0, &frame(FOLLOW_UP_FIRST)),
        Action::Ignored(Ignored::OtherFunction(Function::ReadData))
    );
    assert_eq!(
        x.handle_frame(T0, &frame(FOLLOW_UP_LAST)),
        Action::Done(Answer::Data {
            address: meter,
            di,
            data: vec![0x01, 0x00, 0x00, 0x00, 0x00, 0x00],
        })
    );
}

#[test]
fn frames_that_are_not_the_answer_are_ignored() {
    let meter = Address::from_digits("000000000001").unwrap();
    let mut x = Exchange::read(cfg(Version::V2007), meter, energy()).unwrap();
    x.start(T0);
    // Our own request echoed back on a two-wire bus.
    assert_eq!(
        x.handle_frame(T0, &frame(READ_ENERGY_REQUEST)),
        Action::Ignored(Ignored::NotAReply)
    );
    // Another meter's reply.
    assert_eq!(
        x.handle_frame(T0, &frame(READ_ENERGY_REPLY)),
        Action::Ignored(Ignored::OtherMeter(
            Address::from_digits("398192000337").unwrap()
        ))
    );
    // The right meter, another identifier.
    let other = Reply::Read {
        di: DataId::v2007([0x02, 0x03, 0x00, 0x00]),
        data: vec![0, 0, 0],
        more: false,
    }
    .encode(meter, Version::V2007)
    .unwrap();
    assert_eq!(
        x.handle_frame(T0, &other),
        Action::Ignored(Ignored::OtherIdentifier(DataId::v2007([
            0x02, 0x03, 0x00, 0x00
        ])))
    );
    assert!(!x.is_finished());
}

#[test]
fn wrong_follow_up_sequence_is_ignored() {
    let meter = Address::from_digits("000000000001").unwrap();
    let di = DataId::v2007([0x04, 0x00, 0x04, 0x01]);
    let mut x = Exchange::read(cfg(Version::V2007), meter, di).unwrap();
    x.start(T0);
    x.handle_frame(T0, &frame(FOLLOW_UP_FIRST));
    let wrong = Reply::ReadFollowUp {
        di,
        data: vec![0],
        seq: Some(2),
        more: false,
    }
    .encode(meter, Version::V2007)
    .unwrap();
    assert_eq!(
        x.handle_frame(T0, &wrong),
        Action::Ignored(Ignored::OtherSequence {
            expected: 1,
            found: Some(2)
        })
    );
}

#[test]
fn read_address_exchange() {
    let mut x = Exchange::read_address(ExchangeConfig::new(Version::V2007)).unwrap();
    assert_eq!(sent(&x.start(T0)), READ_ADDRESS_REQUEST);
    assert_eq!(
        x.handle_frame(T0, &frame(READ_ADDRESS_REPLY)),
        Action::Done(Answer::Address(
            Address::from_digits("000000000001").unwrap()
        ))
    );
    assert_eq!(
        Exchange::read_address(ExchangeConfig::new(Version::V1997)).err(),
        Some(ExchangeError::NoReadAddress(Version::V1997))
    );
}

#[test]
fn edition_mismatch_is_refused_up_front() {
    let di = DataId::v1997([0x90, 0x10]);
    assert_eq!(
        Exchange::read(cfg(Version::V2007), Address::WILDCARD, di).err(),
        Some(ExchangeError::WrongEdition {
            di,
            version: Version::V2007
        })
    );
}

#[test]
fn read_1997_matches_the_published_exchange() {
    let meter = Address::from_digits("000000000414").unwrap();
    let mut x = Exchange::read(
        ExchangeConfig::new(Version::V1997),
        meter,
        DataId::v1997([0x90, 0x10]),
    )
    .unwrap();
    let first = x.start(T0);
    // The published request has three FE bytes; we send four.
    let mut expected = vec![0xFE];
    expected.extend_from_slice(READ_1997_REQUEST);
    assert_eq!(sent(&first), expected.as_slice());
    let Action::Done(Answer::Data { data, .. }) = x.handle_frame(T0, &frame(READ_1997_REPLY))
    else {
        panic!("expected Done");
    };
    assert_eq!(data, [0x15, 0x80, 0x95, 0x00]);
}

#[test]
fn collected_data_is_bounded() {
    let meter = Address::from_digits("000000000001").unwrap();
    let di = DataId::v2007([0x04, 0x00, 0x04, 0x01]);
    let small = ExchangeConfig {
        max_data_len: 1,
        ..cfg(Version::V2007)
    };
    let mut x = Exchange::read(small, meter, di).unwrap();
    x.start(T0);
    assert_eq!(
        x.handle_frame(T0, &frame(FOLLOW_UP_FIRST)),
        Action::Fail(ExchangeError::TooMuchData { limit: 1 })
    );
    let one_frame = ExchangeConfig {
        max_frames: 1,
        ..cfg(Version::V2007)
    };
    let mut x = Exchange::read(one_frame, meter, di).unwrap();
    x.start(T0);
    assert_eq!(
        x.handle_frame(T0, &frame(FOLLOW_UP_FIRST)),
        Action::Fail(ExchangeError::TooManyFrames { limit: 1 })
    );
}
