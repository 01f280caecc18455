//! Fuzz the DL/T 645 parsers: frame, deframer (whole and split input), messages for both
//! editions, every catalogue format, and the client and responder on whatever frames appear.
//! Any panic is a bug: every parser must return a typed error on untrusted bytes.

#![no_main]

use std::collections::BTreeMap;

use calin_agent::protocol::dlt645::{
    catalog::CATALOG, Address, DataId, Deframer, Exchange, ExchangeConfig, Frame, Reply, Request,
    Responder, StatusWord, Version,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = Frame::parse(data);
    let _ = StatusWord::decode(data);
    for entry in CATALOG {
        let _ = entry.decode(data);
    }

    // Split the input at a point chosen by its first byte, to exercise partial frames.
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let mut deframer = Deframer::new();
    let mut results = deframer.feed(&data[..split]);
    results.extend(deframer.feed(&data[split..]));

    for frame in results.into_iter().flatten() {
        for version in [Version::V1997, Version::V2007] {
            let _ = Request::decode(&frame, version);
            let _ = Reply::decode(&frame, version);
            let di = match version {
                Version::V1997 => DataId::v1997([0x90, 0x10]),
                Version::V2007 => DataId::v2007([0x00, 0x01, 0x00, 0x00]),
            };
            if let Ok(mut x) = Exchange::read(ExchangeConfig::new(version), Address::WILDCARD, di) {
                let _ = x.start(core::time::Duration::ZERO);
                let _ = x.handle_frame(core::time::Duration::ZERO, &frame);
            }
            let table = BTreeMap::from([(di, vec![0u8; 300])]);
            let mut responder = Responder::new(frame.address, version).with_max_chunk(16);
            let _ = responder.respond(&frame, &table);
        }
    }
});
