//! Fuzz target: every IEC 62056-21 parser, decoder and both sessions over arbitrary
//! bytes. Nothing may panic; what emits must parse back to itself.
#![no_main]

use core::time::Duration;

use calin_agent::protocol::iec62056_21::client::ClientMode;
use calin_agent::protocol::iec62056_21::decoder::{
    CommandDecoder, DataMessageDecoder, IdentificationDecoder, OptionSelectDecoder, ReplyDecoder,
    SignOnDecoder,
};
use calin_agent::protocol::iec62056_21::{
    dataset, AnswerMessage, BaudChar, BccPolicy, ClientOptions, ClientSession, Command, DataId,
    DataMessage, Enhanced, Identification, Limits, Manufacturer, MeterConfig, MeterSession,
    OptionSelect, SignOn,
};
use libfuzzer_sys::fuzz_target;

const L: Limits = Limits {
    max_block_len: 4096,
    max_line_len: 512,
    max_data_sets: 64,
};

fn parsers(data: &[u8]) {
    if let Ok(x) = SignOn::parse(data) {
        assert_eq!(SignOn::parse(&x.to_vec()).ok(), Some(x));
    }
    if let Ok(x) = Identification::parse(data) {
        assert_eq!(Identification::parse(&x.to_vec()).ok(), Some(x));
    }
    if let Ok(x) = OptionSelect::parse(data) {
        let bytes = x.to_vec().expect("parsed option select emits");
        assert_eq!(OptionSelect::parse(&bytes).ok(), Some(x));
    }
    for policy in [BccPolicy::Strict, BccPolicy::WarnOnly] {
        if let Ok(x) = DataMessage::parse(data, &L, policy) {
            let bytes = x.message.to_vec().expect("parsed readout emits");
            let back = DataMessage::parse(&bytes, &L, BccPolicy::Strict).map(|c| c.message);
            assert_eq!(back.ok(), Some(x.message));
        }
        if let Ok(x) = AnswerMessage::parse(data, &L, policy) {
            let bytes = x.message.to_vec().expect("parsed answer emits");
            let back = AnswerMessage::parse(&bytes, &L, BccPolicy::Strict).map(|c| c.message);
            assert_eq!(back.ok(), Some(x.message));
        }
        if let Ok(x) = Command::parse(data, &L, policy) {
            let bytes = x.message.to_vec().expect("parsed command emits");
            let back = Command::parse(&bytes, &L, BccPolicy::Strict).map(|c| c.message);
            assert_eq!(back.ok(), Some(x.message));
        }
    }
    let _ = dataset::parse_lines(data, 0, &L);
}

fn decoders(data: &[u8]) {
    let mut a = SignOnDecoder::new(L, BccPolicy::Strict);
    let mut b = IdentificationDecoder::new(L, BccPolicy::Strict);
    let mut c = OptionSelectDecoder::new(L, BccPolicy::Strict);
    let mut d = DataMessageDecoder::new(L, BccPolicy::WarnOnly);
    let mut e = ReplyDecoder::new(L, BccPolicy::Strict);
    let mut f = CommandDecoder::new(L, BccPolicy::Strict);
    for &x in data {
        let _ = (a.push(x), b.push(x), c.push(x), d.push(x), e.push(x), f.push(x));
    }
}

fn sessions(data: &[u8]) {
    let ident = Identification::new(
        Manufacturer::new(*b"CLN").expect("letters"),
        BaudChar::new(b'5').expect("digit"),
        Some(Enhanced::Hdlc),
        "FUZZ",
    )
    .expect("valid identification");
    let mut meter = MeterSession::new(MeterConfig::new(ident, Vec::new())).expect("empty data");
    let modes = [
        ClientMode::DataReadout,
        ClientMode::Programming {
            registers: vec![DataId::new("1.8.0").expect("id")],
        },
        ClientMode::ModeE,
    ];
    // The first byte picks the client mode; the rest comes in chunks of up to 32.
    let (pick, rest) = data.split_first().map_or((0, data), |(p, r)| (*p, r));
    let mode = modes[usize::from(pick) % modes.len()].clone();
    let mut client = ClientSession::new(ClientOptions::new(mode));
    let mut now = Duration::from_secs(1);
    client.start(now);
    for chunk in rest.chunks(32) {
        now += Duration::from_millis(u64::from(chunk[0]) * 10);
        client.handle_bytes(now, chunk);
        meter.handle_bytes(now, chunk);
        client.handle_timeout(now);
        meter.handle_timeout(now);
        meter.handle_peer_switch(now);
        while client.poll_action().is_some() {}
        while meter.poll_action().is_some() {}
    }
}

fuzz_target!(|data: &[u8]| {
    parsers(data);
    decoders(data);
    sessions(data);
});
