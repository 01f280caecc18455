//! Property tests: parse(emit(x)) == x for every message and for data sets, decoders
//! give back what was emitted, and nothing panics on arbitrary bytes.

use core::time::Duration;

use proptest::prelude::*;

use super::super::client::ClientMode;
use super::super::decoder::*;
use super::super::*;
use super::sim::meter;

/// Printable ASCII of `len` characters, characters `bad` refuses replaced by 'x'.
fn text(bad: fn(u8) -> bool, len: core::ops::Range<usize>) -> impl Strategy<Value = String> {
    prop::collection::vec(0x20u8..0x7F, len).prop_map(move |v| {
        v.into_iter()
            .map(|b| if bad(b) { 'x' } else { char::from(b) })
            .collect()
    })
}

fn data_id() -> impl Strategy<Value = DataId> {
    text(|b| matches!(b, b'(' | b')' | b'/' | b'!'), 1..14).prop_map(|s| DataId::new(&s).unwrap())
}

fn value() -> impl Strategy<Value = Value> {
    (
        text(|b| matches!(b, b'(' | b')' | b'*'), 0..12),
        prop::option::of(text(|b| matches!(b, b'(' | b')'), 0..6)),
    )
        .prop_map(|(v, u)| Value::new(&v, u.as_deref()).unwrap())
}

fn data_set() -> impl Strategy<Value = DataSet> {
    (
        prop::option::of(data_id()),
        prop::collection::vec(value(), 1..4),
    )
        .prop_map(|(id, values)| DataSet { id, values })
}

fn graphic() -> impl Strategy<Value = u8> {
    0x21u8..0x7F
}

fn sign_on() -> impl Strategy<Value = SignOn> {
    prop::option::of("[0-9A-Za-z ]{1,32}").prop_map(|a| SignOn {
        address: a.map(|a| DeviceAddress::new(&a).unwrap()),
    })
}

fn identification() -> impl Strategy<Value = Identification> {
    (
        "[A-Za-z]{3}",
        graphic().prop_filter("delimiter", |b| !matches!(b, b'/' | b'!' | b'\\')),
        prop::option::of(graphic().prop_filter("delimiter", |b| !matches!(b, b'/' | b'!'))),
        text(|b| matches!(b, b'/' | b'!' | b'\\'), 0..17),
    )
        .prop_map(|(m, z, e, ident)| {
            let m: [u8; 3] = m.as_bytes().try_into().unwrap();
            Identification::new(
                Manufacturer::new(m).unwrap(),
                BaudChar::new(z).unwrap(),
                e.map(Enhanced::from_byte),
                &ident,
            )
            .unwrap()
        })
}

fn option_select() -> impl Strategy<Value = OptionSelect> {
    (
        graphic(),
        graphic().prop_filter("delimiter", |b| !matches!(b, b'/' | b'!' | b'\\')),
        graphic(),
    )
        .prop_map(|(v, z, y)| OptionSelect {
            protocol: ProtocolControl::from_byte(v),
            baud: BaudChar::new(z).unwrap(),
            mode: ModeControl::from_byte(y),
        })
}

fn command() -> impl Strategy<Value = Command> {
    (graphic(), 0u8..10, prop::option::of(data_set())).prop_map(|(c, t, data)| Command {
        command: CommandId::from_byte(c),
        command_type: t,
        data,
    })
}

fn answer() -> impl Strategy<Value = AnswerMessage> {
    (prop::collection::vec(data_set(), 0..4), any::<bool>()).prop_map(|(data_sets, eot)| {
        AnswerMessage {
            data_sets,
            end: if eot { BlockEnd::Eot } else { BlockEnd::Etx },
        }
    })
}

/// Bytes rich in the protocol's delimiters, to get past the first checks.
fn wire_bytes() -> impl Strategy<Value = Vec<u8>> {
    let byte = prop_oneof![
        4 => any::<u8>(),
        4 => 0x20u8..0x7F,
        1 => prop::sample::select(vec![SOH, STX, ETX, EOT, ACK, NAK, CR, LF, b'/', b'!', b'(', b')', b'*', b'\\']),
    ];
    prop::collection::vec(byte, 0..300)
}

const L: Limits = Limits {
    max_block_len: 4096,
    max_line_len: 512,
    max_data_sets: 64,
};

proptest! {
    #[test]
    fn sign_on_round_trips(x in sign_on()) {
        prop_assert_eq!(SignOn::parse(&x.to_vec()).unwrap(), x);
    }

    #[test]
    fn identification_round_trips(x in identification()) {
        let bytes = x.to_vec();
        prop_assert_eq!(bytes.len(), x.buffer_len());
        prop_assert_eq!(Identification::parse(&bytes).unwrap(), x);
    }

    #[test]
    fn option_select_round_trips(x in option_select()) {
        prop_assert_eq!(OptionSelect::parse(&x.to_vec().unwrap()).unwrap(), x);
    }

    #[test]
    fn data_message_round_trips(sets in prop::collection::vec(data_set(), 0..8)) {
        let x = DataMessage { data_sets: sets };
        let bytes = x.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), x.buffer_len());
        let parsed = DataMessage::parse(&bytes, &L, BccPolicy::Strict).unwrap();
        prop_assert_eq!(parsed.bcc, None);
        prop_assert_eq!(&parsed.message, &x);
        // And through the push decoder, one byte at a time.
        let mut d = DataMessageDecoder::new(L, BccPolicy::Strict);
        let (used, got) = d.push_slice(&bytes);
        prop_assert_eq!(used, bytes.len());
        prop_assert_eq!(got.unwrap().unwrap().message, x);
    }

    #[test]
    fn answer_round_trips(x in answer()) {
        let bytes = x.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), x.buffer_len());
        prop_assert_eq!(AnswerMessage::parse(&bytes, &L, BccPolicy::Strict).unwrap().message, x);
    }

    #[test]
    fn command_round_trips(x in command()) {
        let bytes = x.to_vec().unwrap();
        prop_assert_eq!(bytes.len(), x.buffer_len());
        prop_assert_eq!(Command::parse(&bytes, &L, BccPolicy::Strict).unwrap().message, x.clone());
        let mut d = CommandDecoder::new(L, BccPolicy::Strict);
        let (_, got) = d.push_slice(&bytes);
        prop_assert_eq!(got.unwrap().unwrap(), CommandInput::Command(Checked { message: x, bcc: None }));
    }

    #[test]
    fn any_flipped_bcc_is_caught(x in answer(), flip in 1u8..=255) {
        let mut bytes = x.to_vec().unwrap();
        *bytes.last_mut().unwrap() ^= flip;
        let strict = AnswerMessage::parse(&bytes, &L, BccPolicy::Strict);
        prop_assert!(matches!(strict, Err(MessageError::BadBcc(_))));
        let warn = AnswerMessage::parse(&bytes, &L, BccPolicy::WarnOnly).unwrap();
        prop_assert!(warn.bcc.is_some());
        prop_assert_eq!(warn.message, x);
    }

    #[test]
    fn parsers_never_panic(bytes in wire_bytes()) {
        let _ = SignOn::parse(&bytes);
        let _ = Identification::parse(&bytes);
        let _ = OptionSelect::parse(&bytes);
        let _ = DataMessage::parse(&bytes, &L, BccPolicy::Strict);
        let _ = DataMessage::parse(&bytes, &L, BccPolicy::WarnOnly);
        let _ = AnswerMessage::parse(&bytes, &L, BccPolicy::WarnOnly);
        let _ = Command::parse(&bytes, &L, BccPolicy::WarnOnly);
        let _ = dataset::parse_lines(&bytes, 0, &L);
        let mut a = IdentificationDecoder::new(L, BccPolicy::Strict);
        let mut b = ReplyDecoder::new(L, BccPolicy::WarnOnly);
        let mut c = OptionSelectDecoder::new(L, BccPolicy::Strict);
        let mut d = CommandDecoder::new(L, BccPolicy::Strict);
        for &x in &bytes {
            let _ = (a.push(x), b.push(x), c.push(x), d.push(x));
        }
    }

    #[test]
    fn sessions_never_panic(chunks in prop::collection::vec(wire_bytes(), 0..6), mode in 0u8..3) {
        let mode = match mode {
            0 => ClientMode::DataReadout,
            1 => ClientMode::Programming { registers: vec![DataId::new("1.8.0").unwrap()] },
            _ => ClientMode::ModeE,
        };
        let mut c = ClientSession::new(ClientOptions::new(mode));
        let mut m = MeterSession::new(meter(true)).unwrap();
        let mut now = Duration::from_secs(1);
        c.start(now);
        for chunk in &chunks {
            now += Duration::from_millis(700);
            c.handle_bytes(now, chunk);
            m.handle_bytes(now, chunk);
            c.handle_timeout(now);
            m.handle_timeout(now);
            m.handle_peer_switch(now);
            while c.poll_action().is_some() {}
            while m.poll_action().is_some() {}
        }
    }
}
