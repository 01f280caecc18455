//! The meter side, alone and against the client exchange.

use core::time::Duration;
use std::collections::BTreeMap;

use super::vectors::*;
use crate::protocol::dlt645::*;

fn meter() -> Address {
    Address::from_digits("000000000001").unwrap()
}

fn frame(bytes: &[u8]) -> Frame {
    Frame::parse(bytes).unwrap()
}

fn reply(r: Response) -> Frame {
    match r {
        Response::Reply(f) => f,
        Response::Silent(why) => panic!("silent: {why:?}"),
    }
}

fn table() -> BTreeMap<DataId, Vec<u8>> {
    BTreeMap::from([(
        DataId::v2007([0x00, 0x01, 0x00, 0x00]),
        vec![0x04, 0x00, 0x00, 0x00],
    )])
}

#[test]
fn read_hit_gives_the_normal_reply() {
    let mut r = Responder::new(meter(), Version::V2007);
    let out = reply(r.respond(&frame(READ_ENERGY_REQUEST), &table()));
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x68, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x68,
        0x91, 0x08,                         // normal read reply, L = 8
        0x33, 0x33, 0x34, 0x33,             // DI 00 01 00 00
        0x37, 0x33, 0x33, 0x33,             // 000000.04
        0x07, 0x16,                         // CS, end
    ];
    assert_eq!(out.to_bytes(), expected);
}

#[test]
fn read_miss_gives_an_abnormal_reply() {
    let mut r = Responder::new(meter(), Version::V2007);
    let out = reply(r.respond(&frame(READ_ENERGY_REQUEST), &BTreeMap::new()));
    assert_eq!(out.to_bytes(), ABNORMAL_REPLY);

    let mut r97 = Responder::new(
        Address::from_digits("000000000414").unwrap(),
        Version::V1997,
    );
    let out = reply(r97.respond(&frame(READ_1997_REQUEST), &BTreeMap::new()));
    assert_eq!(out.control.0, 0xC1);
    assert_eq!(
        Reply::decode(&out, Version::V1997).unwrap(),
        Reply::Abnormal {
            function: Function::ReadData,
            error: ErrorWord::new(Version::V1997, 0x02)
        }
    );
}

#[test]
fn long_data_is_served_in_follow_up_frames() {
    let di = DataId::v2007([0x04, 0x00, 0x04, 0x01]);
    let data = vec![0x01, 0x00, 0x00, 0x00, 0x00, 0x00];
    let t = BTreeMap::from([(di, data)]);
    let mut r = Responder::new(meter(), Version::V2007).with_max_chunk(2);
    let read = Request::Read { di, params: vec![] }
        .encode(meter(), Version::V2007)
        .unwrap();
    assert_eq!(reply(r.respond(&read, &t)).to_bytes(), FOLLOW_UP_FIRST);
    let fu1 = frame(FOLLOW_UP_REQUEST);
    let second = reply(r.respond(&fu1, &t));
    assert_eq!(
        Reply::decode(&second, Version::V2007).unwrap(),
        Reply::ReadFollowUp {
            di,
            data: vec![0, 0],
            seq: Some(1),
            more: true
        }
    );
    // The master repeats sequence 1 (our reply was lost): the same frame again.
    assert_eq!(reply(r.respond(&fu1, &t)), second);
    let fu2 = Request::ReadFollowUp { di, seq: Some(2) }
        .encode(meter(), Version::V2007)
        .unwrap();
    let third = Reply::decode(&reply(r.respond(&fu2, &t)), Version::V2007).unwrap();
    assert!(matches!(
        third,
        Reply::ReadFollowUp {
            more: false,
            seq: Some(2),
            ..
        }
    ));
    // Past the end: no such data.
    let fu3 = Request::ReadFollowUp { di, seq: Some(3) }
        .encode(meter(), Version::V2007)
        .unwrap();
    let Reply::Abnormal { error, .. } =
        Reply::decode(&reply(r.respond(&fu3, &t)), Version::V2007).unwrap()
    else {
        panic!("expected abnormal");
    };
    assert!(error.has(ErrorCondition::NoRequestedData));
}

#[test]
fn addressing_rules() {
    let mut r = Responder::new(meter(), Version::V2007);
    let other = Request::Read {
        di: DataId::v2007([0x00, 0x01, 0x00, 0x00]),
        params: vec![],
    }
    .encode(
        Address::from_digits("000000000002").unwrap(),
        Version::V2007,
    )
    .unwrap();
    assert_eq!(
        r.respond(&other, &table()),
        Response::Silent(NoReply::NotForUs(other.address))
    );
    assert_eq!(
        r.respond(&frame(BROADCAST_TIME), &table()),
        Response::Silent(NoReply::Broadcast)
    );
    assert_eq!(
        r.respond(&frame(READ_ENERGY_REPLY), &table()),
        Response::Silent(NoReply::NotARequest)
    );
    assert_eq!(
        reply(r.respond(&frame(READ_ADDRESS_REQUEST), &table())).to_bytes(),
        READ_ADDRESS_REPLY
    );
}

#[test]
fn writes_are_refused_as_unauthorised() {
    let mut r = Responder::new(meter(), Version::V2007);
    let w = Request::Write {
        di: DataId::v2007([0x04, 0x00, 0x01, 0x02]),
        credentials: message::Credentials {
            password: [0; 4],
            operator: Some([0; 4]),
        },
        value: vec![0, 0, 0],
    }
    .encode(meter(), Version::V2007)
    .unwrap();
    let out = reply(r.respond(&w, &table()));
    assert_eq!(out.control.0, 0xD4);
    assert_eq!(
        Reply::decode(&out, Version::V2007).unwrap(),
        Reply::Abnormal {
            function: Function::WriteData,
            error: ErrorWord::from_condition(Version::V2007, ErrorCondition::Unauthorised)
        }
    );
}

/// Run a client exchange against a responder over bytes and a deframer, no I/O.
fn run(version: Version, di: DataId, value: Vec<u8>, chunk: usize) -> Action {
    let t = BTreeMap::from([(di, value)]);
    let mut meter_side = Responder::new(meter(), version).with_max_chunk(chunk);
    let mut x = Exchange::read(ExchangeConfig::new(version), Address::WILDCARD, di).unwrap();
    let (mut to_meter, mut to_master) = (Deframer::new(), Deframer::new());
    let mut action = x.start(Duration::ZERO);
    for _ in 0..100 {
        let Action::Send { bytes, .. } = &action else {
            return action;
        };
        let request = to_meter.feed(bytes).pop().unwrap().unwrap();
        let Response::Reply(answer) = meter_side.respond(&request, &t) else {
            panic!("meter silent");
        };
        let answer = to_master.feed(&answer.to_bytes()).pop().unwrap().unwrap();
        action = x.handle_frame(Duration::ZERO, &answer);
    }
    panic!("exchange did not finish");
}

#[test]
fn client_and_responder_agree_across_many_follow_ups() {
    let value: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
    for version in [Version::V1997, Version::V2007] {
        let di = match version {
            Version::V1997 => DataId::v1997([0xC1, 0x11]),
            Version::V2007 => DataId::v2007([0x06, 0x00, 0x00, 0x01]),
        };
        assert_eq!(
            run(version, di, value.clone(), 100),
            Action::Done(Answer::Data {
                address: meter(),
                di,
                data: value.clone(),
            }),
            "{version}"
        );
    }
}
