//! Byte-exact vectors, one per message kind, BCC verified. Peer: vectors marked
//! "pwitab" were produced by the pwitab `iec62056-21` Python package 0.0.2 (an
//! independent client); "published" ones appear in meter manuals and forums.

use super::super::*;
use crate::protocol::iec62056_21::block::BlockEnd;

fn set(id: &str, value: &str, unit: Option<&str>) -> DataSet {
    DataSet::single(DataId::new(id).unwrap(), Value::new(value, unit).unwrap())
}

#[rustfmt::skip]
const SIGN_ON: &[u8] = &[ // pwitab RequestMessage()
    b'/', b'?',           // start, request
    b'!', 0x0D, 0x0A,     // end, CR LF
];

#[rustfmt::skip]
const SIGN_ON_ADDRESS: &[u8] = &[ // pwitab RequestMessage("45654")
    b'/', b'?',
    b'4', b'5', b'6', b'5', b'4', // device address
    b'!', 0x0D, 0x0A,
];

#[test]
fn sign_on_without_and_with_address() {
    let anyone = SignOn { address: None };
    assert_eq!(anyone.to_vec(), SIGN_ON);
    assert_eq!(SignOn::parse(SIGN_ON).unwrap(), anyone);

    let one = SignOn {
        address: Some(DeviceAddress::new("45654").unwrap()),
    };
    assert_eq!(one.buffer_len(), SIGN_ON_ADDRESS.len());
    assert_eq!(one.to_vec(), SIGN_ON_ADDRESS);
    assert_eq!(SignOn::parse(SIGN_ON_ADDRESS).unwrap(), one);
}

#[test]
fn device_address_is_validated() {
    assert!(DeviceAddress::new(&"1".repeat(32)).is_ok());
    assert_eq!(
        DeviceAddress::new(&"1".repeat(33)),
        Err(MessageError::TooLong {
            field: Field::DeviceAddress,
            len: 33,
            max: 32
        })
    );
    assert_eq!(
        DeviceAddress::new(""),
        Err(MessageError::Empty {
            field: Field::DeviceAddress
        })
    );
    assert_eq!(
        SignOn::parse(b"/?12!4!\r\n"),
        Err(MessageError::InvalidChar {
            field: Field::DeviceAddress,
            at: 4,
            byte: b'!'
        })
    );
    assert_eq!(
        SignOn::parse(b"/?!\r"),
        Err(MessageError::Truncated { needed: 5, got: 4 })
    );
    // Leading zeros are not significant.
    let mine = DeviceAddress::new("45654").unwrap();
    assert!(mine.matches(&DeviceAddress::new("0045654").unwrap()));
    assert!(!mine.matches(&DeviceAddress::new("45655").unwrap()));
}

#[rustfmt::skip]
const IDENT_MODE_E: &[u8] = &[ // pwitab IdentificationMessage("2CALIN-EM2", "CLN", "5")
    b'/',
    b'C', b'L', b'N',                   // manufacturer, all upper case: t_r >= 200 ms
    b'5',                               // Z: 9600 baud (mode C/E)
    b'\\', b'2',                        // enhanced capability: binary mode (HDLC)
    b'C', b'A', b'L', b'I', b'N', b'-', b'E', b'M', b'2', // identification
    0x0D, 0x0A,
];

#[test]
fn identification_mode_e() {
    let ident = Identification::parse(IDENT_MODE_E).unwrap();
    assert_eq!(ident.manufacturer().as_str(), "CLN");
    assert_eq!(ident.baud_char().baud(), Some(9600));
    assert_eq!(ident.enhanced(), Some(Enhanced::Hdlc));
    assert!(ident.offers_mode_e());
    assert_eq!(ident.ident(), "CALIN-EM2");
    assert_eq!(ident.manufacturer().min_reaction_time().as_millis(), 200);
    assert_eq!(ident.to_vec(), IDENT_MODE_E);
}

#[test]
fn identification_lower_case_third_letter_and_mode_b() {
    // Published: the identification of an Iskra MT174 (third letter lower case).
    let ident = Identification::parse(b"/ISk5MT174-0001\r\n").unwrap();
    assert_eq!(ident.manufacturer().min_reaction_time().as_millis(), 20);
    assert_eq!(ident.enhanced(), None);
    assert_eq!(ident.ident(), "MT174-0001");
    assert_eq!(ident.baud_char().protocol_mode(), ProtocolMode::C);

    let b = Identification::parse(b"/ABCEX\r\n").unwrap();
    assert_eq!(b.baud_char().protocol_mode(), ProtocolMode::B);
    assert_eq!(b.baud_char().baud(), Some(9600));
}

#[test]
fn identification_errors() {
    assert_eq!(
        Identification::parse(b"/C1N5X\r\n"),
        Err(MessageError::InvalidChar {
            field: Field::Manufacturer,
            at: 2,
            byte: b'1'
        })
    );
    let long = b"/CLN5ABCDEFGHIJKLMNOPQ\r\n"; // 17 characters
    assert_eq!(
        Identification::parse(long),
        Err(MessageError::TooLong {
            field: Field::Identification,
            len: 17,
            max: 16
        })
    );
    assert_eq!(
        Identification::parse(b"/CLN5AB!\r\n"),
        Err(MessageError::InvalidChar {
            field: Field::Identification,
            at: 7,
            byte: b'!'
        })
    );
    assert_eq!(
        Identification::parse(b"/CLN5AB\n"),
        Err(MessageError::Unexpected {
            at: 6,
            expected: 0x0D,
            found: b'B'
        })
    );
    // An identification starting with '\' would read back as an enhanced marker.
    let m = Manufacturer::new(*b"CLN").unwrap();
    let z = BaudChar::new(b'5').unwrap();
    assert!(Identification::new(m, z, None, "\\2X").is_err());
}

#[rustfmt::skip]
const OPTION_READOUT: &[u8] = &[ // pwitab AckOptionSelectMessage("5", "0")
    0x06,   // ACK
    b'0',   // V: normal protocol procedure
    b'5',   // Z: 9600 baud
    b'0',   // Y: data readout
    0x0D, 0x0A,
];

#[rustfmt::skip]
const OPTION_MODE_E: &[u8] = &[
    0x06,
    b'2',   // V: HDLC protocol procedure
    b'5',   // Z: 9600 baud
    b'2',   // Y: binary mode (HDLC)
    0x0D, 0x0A,
];

#[test]
fn option_select() {
    let readout = OptionSelect {
        protocol: ProtocolControl::Normal,
        baud: BaudChar::mode_c(9600).unwrap(),
        mode: ModeControl::DataReadout,
    };
    assert_eq!(readout.to_vec().unwrap(), OPTION_READOUT);
    assert_eq!(OptionSelect::parse(OPTION_READOUT).unwrap(), readout);
    // pwitab AckOptionSelectMessage("5", "1"): programming.
    let prog = OptionSelect::parse(&[0x06, b'0', b'5', b'1', 0x0D, 0x0A]).unwrap();
    assert_eq!(prog.mode, ModeControl::Programming);
    let e = OptionSelect::parse(OPTION_MODE_E).unwrap();
    assert_eq!(
        (e.protocol, e.mode),
        (ProtocolControl::Hdlc, ModeControl::BinaryHdlc)
    );
    let odd = OptionSelect::parse(&[0x06, b'0', b'5', b'7', 0x0D, 0x0A]).unwrap();
    assert_eq!(odd.mode, ModeControl::Unknown(b'7'));
    assert_eq!(
        OptionSelect::parse(&[0x06, b'0', b'5', 0x0D, 0x0A]),
        Err(MessageError::InvalidChar {
            field: Field::ModeControl,
            at: 3,
            byte: 0x0D
        })
    );
}

#[rustfmt::skip]
const READOUT: &[u8] = &[ // pwitab ReadoutDataMessage, three lines
    0x02,                                                         // STX
    b'1', b'.', b'8', b'.', b'0',                                 // id
    b'(', b'0', b'0', b'1', b'2', b'3', b'4', b'5', b'.', b'6', b'7', b'8', // value
    b'*', b'k', b'W', b'h', b')', 0x0D, 0x0A,                     // unit, CR LF
    b'0', b'.', b'9', b'.', b'1', b'(', b'1', b'2', b'3', b'4', b'5', b'6', b')', 0x0D, 0x0A,
    b'C', b'.', b'1', b'.', b'0', b'(', b'4', b'5', b'6', b'5', b'4', b')', 0x0D, 0x0A,
    b'!', 0x0D, 0x0A,                                             // end of data block
    0x03,                                                         // ETX
    0x09,                                                         // BCC: XOR after STX .. ETX
];

fn readout_sets() -> Vec<DataSet> {
    vec![
        set("1.8.0", "0012345.678", Some("kWh")),
        set("0.9.1", "123456", None),
        set("C.1.0", "45654", None),
    ]
}

#[test]
fn data_readout_message() {
    let msg = DataMessage {
        data_sets: readout_sets(),
    };
    assert_eq!(msg.buffer_len(), READOUT.len());
    assert_eq!(msg.to_vec().unwrap(), READOUT);
    let parsed = DataMessage::parse(READOUT, &Limits::default(), BccPolicy::Strict).unwrap();
    assert_eq!(parsed.message, msg);
    assert_eq!(parsed.bcc, None);
}

#[test]
fn bad_bcc_under_both_policies() {
    let mut bad = READOUT.to_vec();
    *bad.last_mut().unwrap() = 0x0A;
    let mismatch = BccMismatch {
        expected: 0x09,
        found: 0x0A,
    };
    assert_eq!(
        DataMessage::parse(&bad, &Limits::default(), BccPolicy::Strict),
        Err(MessageError::BadBcc(mismatch))
    );
    let taken = DataMessage::parse(&bad, &Limits::default(), BccPolicy::WarnOnly).unwrap();
    assert_eq!(taken.bcc, Some(mismatch));
    assert_eq!(taken.message.data_sets, readout_sets());
}

#[rustfmt::skip]
const R1: &[u8] = &[ // pwitab CommandMessage.for_single_read("1.8.0")
    0x01, b'R', b'1',                                   // SOH, read, type 1 (ASCII)
    0x02, b'1', b'.', b'8', b'.', b'0', b'(', b')',     // STX, id()
    0x03, 0x5A,                                         // ETX, BCC 'Z' (from 'R')
];

#[rustfmt::skip]
const P1: &[u8] = &[ // pwitab CommandMessage("P", 1, DataSet(value="00000000"))
    0x01, b'P', b'1',
    0x02, b'(', b'0', b'0', b'0', b'0', b'0', b'0', b'0', b'0', b')',
    0x03, 0x61,                                         // ETX, BCC 'a'
];

#[rustfmt::skip]
const B0: &[u8] = &[ // published and pwitab: the break message "SOH B0 ETX q"
    0x01, b'B', b'0', 0x03, b'q',
];

#[rustfmt::skip]
const P0: &[u8] = &[ // pwitab utils.add_bcc("\x01P0\x02(45654)\x03")
    0x01, b'P', b'0',
    0x02, b'(', b'4', b'5', b'6', b'5', b'4', b')',     // operand
    0x03, 0x56,
];

#[test]
fn programming_commands() {
    let r1 = Command::read(DataId::new("1.8.0").unwrap());
    assert_eq!(r1.to_vec().unwrap(), R1);
    let parsed = Command::parse(R1, &Limits::default(), BccPolicy::Strict)
        .unwrap()
        .message;
    assert_eq!(parsed, r1);

    let pw = Password::new("00000000").unwrap();
    assert_eq!(Command::password(&pw).to_vec().unwrap(), P1);
    let p1 = Command::parse(P1, &Limits::default(), BccPolicy::Strict)
        .unwrap()
        .message;
    assert_eq!(p1.first_value(), Some("00000000"));
    assert!(p1.is_secret());

    assert_eq!(Command::break_message().to_vec().unwrap(), B0);
    let b0 = Command::parse(B0, &Limits::default(), BccPolicy::Strict)
        .unwrap()
        .message;
    assert_eq!(
        (b0.command, b0.command_type, b0.data),
        (CommandId::Break, 0, None)
    );

    let p0 = Command::password_request("45654").unwrap();
    assert_eq!(p0.to_vec().unwrap(), P0);
    assert!(!p0.is_secret());
}

#[test]
fn answer_and_error_messages() {
    // pwitab AnswerDataMessage puts CR LF after the line; parsing tolerates it.
    #[rustfmt::skip]
    let pwitab: &[u8] = &[
        0x02, b'1', b'.', b'8', b'.', b'0', b'(', b'0', b'0', b'1', b'2', b'3', b'4', b'5',
        b'.', b'6', b'7', b'8', b'*', b'k', b'W', b'h', b')', 0x0D, 0x0A, 0x03, 0x64,
    ];
    let parsed = AnswerMessage::parse(pwitab, &Limits::default(), BccPolicy::Strict).unwrap();
    assert_eq!(
        parsed.message.data_sets,
        vec![set("1.8.0", "0012345.678", Some("kWh"))]
    );
    // We emit the answer without a line end: BCC 0x64 ^ CR ^ LF = 0x63 (pwitab add_bcc agrees).
    let mut ours = pwitab.to_vec();
    ours.drain(23..25);
    *ours.last_mut().unwrap() = 0x63;
    assert_eq!(parsed.message.to_vec().unwrap(), ours);
    assert_eq!(parsed.message.error_text(), None);

    #[rustfmt::skip]
    let error: &[u8] = &[0x02, b'(', b'E', b'R', b'R', b'O', b'R', b')', 0x03, 0x5A]; // pwitab add_bcc
    let answer = AnswerMessage::error("ERROR").unwrap();
    assert_eq!(answer.to_vec().unwrap(), error);
    let parsed = AnswerMessage::parse(error, &Limits::default(), BccPolicy::Strict).unwrap();
    assert_eq!(parsed.message.error_text(), Some("ERROR"));

    // A partial block ends in EOT (§6.3.12).
    let partial = AnswerMessage {
        data_sets: vec![set("P.01", "1", None)],
        end: BlockEnd::Eot,
    };
    let bytes = partial.to_vec().unwrap();
    assert_eq!(bytes[bytes.len() - 2], EOT);
    assert_eq!(
        AnswerMessage::parse(&bytes, &Limits::default(), BccPolicy::Strict)
            .unwrap()
            .message,
        partial
    );
}

#[test]
fn emit_into_a_short_buffer_is_an_error() {
    let mut buf = [0u8; 4];
    assert_eq!(
        SignOn { address: None }.emit(&mut buf),
        Err(EmitError::BufferTooSmall { needed: 5, have: 4 })
    );
    let msg = DataMessage {
        data_sets: readout_sets(),
    };
    let mut buf = vec![0u8; READOUT.len() - 1];
    assert_eq!(
        msg.emit(&mut buf),
        Err(EmitError::BufferTooSmall {
            needed: READOUT.len(),
            have: READOUT.len() - 1
        })
    );
    // Public fields can break the rules: emission says so instead of writing junk.
    let bad = DataMessage {
        data_sets: vec![DataSet {
            id: None,
            values: vec![Value {
                value: "a(b".into(),
                unit: None,
            }],
        }],
    };
    assert!(matches!(
        bad.to_vec(),
        Err(EmitError::Invalid(MessageError::InvalidChar { .. }))
    ));
}

#[test]
fn secrets_are_redacted() {
    let pw = Password::new("s3cr3t").unwrap();
    let p1 = Command::password(&pw);
    for text in [
        format!("{pw:?}"),
        format!("{p1:?}"),
        format!("{:?}", ClientAction::Send(p1.to_vec().unwrap())),
        format!("{:?}", {
            let mut o = ClientOptions::new(client::ClientMode::DataReadout);
            o.password = Some(pw.clone());
            o
        }),
    ] {
        assert!(!text.contains("s3cr3t"), "leaked in {text}");
        assert!(text.contains("redacted"), "{text}");
    }
    // Non-secret sends stay readable.
    assert!(format!("{:?}", ClientAction::Send(B0.to_vec())).contains("B0"));
}

#[test]
fn a_password_on_its_way_in_is_not_shown() {
    let mut m = MeterSession::new(super::sim::meter(false)).unwrap();
    m.handle_bytes(core::time::Duration::from_secs(1), b"\x01P1\x02(s3cr3t");
    let shown = format!("{m:?}");
    // Neither as text nor as the byte list a derived `Debug` of the buffer would print.
    let as_list = format!("{:?}", b"s3cr3t".to_vec());
    let as_list = as_list.trim_matches(|c| c == '[' || c == ']');
    assert!(
        !shown.contains("s3cr3t") && !shown.contains(as_list),
        "{shown}"
    );
    assert!(shown.contains("buffered: 11"), "{shown}");
}
