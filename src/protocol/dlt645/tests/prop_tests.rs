//! Properties: round trips, and no panic on arbitrary bytes.

use std::collections::BTreeMap;

use proptest::prelude::*;

use crate::protocol::dlt645::message::Credentials;
use crate::protocol::dlt645::*;

fn arb_address() -> impl Strategy<Value = Address> {
    any::<[u8; 6]>().prop_map(Address::from_wire)
}

pub fn arb_frame() -> impl Strategy<Value = Frame> {
    (
        arb_address(),
        any::<u8>(),
        prop::collection::vec(any::<u8>(), 0..=255),
    )
        .prop_map(|(address, c, data)| Frame {
            address,
            control: Control(c),
            data,
        })
}

fn arb_version() -> impl Strategy<Value = Version> {
    prop_oneof![Just(Version::V1997), Just(Version::V2007)]
}

fn arb_di(version: Version) -> BoxedStrategy<DataId> {
    match version {
        Version::V1997 => any::<u16>().prop_map(DataId::V1997).boxed(),
        Version::V2007 => any::<u32>().prop_map(DataId::V2007).boxed(),
    }
}

fn arb_request(version: Version) -> BoxedStrategy<Request> {
    let params = match version {
        Version::V1997 => Just(Vec::new()).boxed(),
        Version::V2007 => prop::collection::vec(any::<u8>(), 0..=6).boxed(),
    };
    let seq = match version {
        Version::V1997 => Just(None).boxed(),
        Version::V2007 => any::<u8>().prop_map(Some).boxed(),
    };
    let operator = match version {
        Version::V1997 => Just(None).boxed(),
        Version::V2007 => any::<[u8; 4]>().prop_map(Some).boxed(),
    };
    let mut options = vec![
        (arb_di(version), params)
            .prop_map(|(di, params)| Request::Read { di, params })
            .boxed(),
        (arb_di(version), seq)
            .prop_map(|(di, seq)| Request::ReadFollowUp { di, seq })
            .boxed(),
        (
            arb_di(version),
            any::<[u8; 4]>(),
            operator,
            prop::collection::vec(any::<u8>(), 0..=40),
        )
            .prop_map(|(di, password, operator, value)| Request::Write {
                di,
                credentials: Credentials { password, operator },
                value,
            })
            .boxed(),
        any::<[u8; 6]>().prop_map(Request::BroadcastTime).boxed(),
    ];
    if version == Version::V2007 {
        options.push(Just(Request::ReadAddress).boxed());
    }
    prop::strategy::Union::new(options).boxed()
}

fn arb_reply(version: Version) -> BoxedStrategy<Reply> {
    let data = || prop::collection::vec(any::<u8>(), 0..=200);
    let seq = match version {
        Version::V1997 => Just(None).boxed(),
        Version::V2007 => any::<u8>().prop_map(Some).boxed(),
    };
    let mut options = vec![
        (arb_di(version), data(), any::<bool>())
            .prop_map(|(di, data, more)| Reply::Read { di, data, more })
            .boxed(),
        (arb_di(version), data(), seq, any::<bool>())
            .prop_map(|(di, data, seq, more)| Reply::ReadFollowUp {
                di,
                data,
                seq,
                more,
            })
            .boxed(),
        Just(Reply::WriteAck).boxed(),
        (
            prop_oneof![
                Just(Function::ReadData),
                Just(Function::ReadFollowUp),
                Just(Function::WriteData)
            ],
            any::<u8>(),
        )
            .prop_map(move |(function, raw)| Reply::Abnormal {
                function,
                error: ErrorWord::new(version, raw),
            })
            .boxed(),
    ];
    if version == Version::V2007 {
        options.push(arb_address().prop_map(Reply::Address).boxed());
    }
    prop::strategy::Union::new(options).boxed()
}

proptest! {
    #[test]
    fn frame_round_trips(f in arb_frame()) {
        let bytes = f.to_bytes();
        prop_assert_eq!(bytes.len(), f.buffer_len());
        prop_assert_eq!(Frame::parse(&bytes), Ok(f.clone()));
        prop_assert_eq!(Frame::parse(&f.to_bytes_with_preamble()), Ok(f));
    }

    #[test]
    fn deframer_finds_frames_in_any_split(
        frames in prop::collection::vec(arb_frame(), 1..4),
        split in any::<prop::sample::Index>(),
    ) {
        let stream: Vec<u8> = frames.iter().flat_map(|f| f.to_bytes_with_preamble()).collect();
        let at = split.index(stream.len() + 1);
        let mut d = Deframer::new();
        let mut got = d.feed(&stream[..at]);
        got.extend(d.feed(&stream[at..]));
        let want: Vec<_> = frames.into_iter().map(Ok).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn request_round_trips((version, req, address) in arb_version()
        .prop_flat_map(|v| (Just(v), arb_request(v), arb_address())))
    {
        let frame = req.encode(address, version).unwrap();
        let again = Frame::parse(&frame.to_bytes()).unwrap();
        prop_assert_eq!(Request::decode(&again, version), Ok(req));
    }

    #[test]
    fn reply_round_trips((version, rep, address) in arb_version()
        .prop_flat_map(|v| (Just(v), arb_reply(v), arb_address())))
    {
        let frame = rep.encode(address, version).unwrap();
        let again = Frame::parse(&frame.to_bytes()).unwrap();
        prop_assert_eq!(Reply::decode(&again, version), Ok(rep));
    }

    #[test]
    fn bcd_round_trips(value in 0i64..=99_999_999, decimals in 0u8..=4, signed in any::<bool>()) {
        let d = Decimal::new(if signed { -value / 2 } else { value }, decimals);
        let len = 4;
        let f = ValueFormat::Bcd { len, decimals, signed };
        match f.encode(&Value::Number(d)) {
            Ok(bytes) => prop_assert_eq!(f.decode(&bytes), Ok(Value::Number(d))),
            // Signed 4-byte fields hold 7 digits and a sign; larger magnitudes must refuse.
            Err(_) => prop_assert!(signed && d.value.unsigned_abs() >= 80_000_000),
        }
    }

    #[test]
    fn status_word_round_trips(word in any::<u32>()) {
        let w = StatusWord(word);
        prop_assert_eq!(StatusWord::decode(&w.encode()), Ok(w));
    }

    #[test]
    fn parsers_never_panic_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let _ = Frame::parse(&bytes);
        let mut d = Deframer::new();
        for f in d.feed(&bytes).into_iter().flatten() {
            for v in [Version::V1997, Version::V2007] {
                let _ = Request::decode(&f, v);
                let _ = Reply::decode(&f, v);
            }
        }
        for e in CATALOG {
            let _ = e.decode(&bytes);
        }
        let _ = bcd::decode_signed(&bytes, 2);
        let _ = MeterDateTime::decode(&bytes);
        let _ = StatusWord::decode(&bytes);
    }

    #[test]
    fn arbitrary_frames_never_panic_the_exchange_or_responder(f in arb_frame(), v in arb_version()) {
        let di = match v {
            Version::V1997 => DataId::v1997([0x90, 0x10]),
            Version::V2007 => DataId::v2007([0, 1, 0, 0]),
        };
        let mut x = Exchange::read(ExchangeConfig::new(v), Address::WILDCARD, di).unwrap();
        x.start(core::time::Duration::ZERO);
        let _ = x.handle_frame(core::time::Duration::ZERO, &f);
        let table = BTreeMap::from([(di, vec![0u8; 300])]);
        let mut r = Responder::new(Address::from_wire(f.address.wire()), v).with_max_chunk(7);
        let _ = r.respond(&f, &table);
    }
}
