//! Push decoders: `Ok(None)` until whole, garbage counted, bounds, back-to-back messages.

use super::super::decoder::*;
use super::super::*;

#[test]
fn identification_byte_by_byte_after_noise() {
    let mut d = IdentificationDecoder::new(Limits::default(), BccPolicy::Strict);
    for &b in b"\x00\x00\r\n" {
        assert_eq!(d.push(b), Ok(None));
    }
    let line = b"/CLN5\\2CALIN-EM2\r\n";
    for &b in &line[..line.len() - 1] {
        assert_eq!(d.push(b), Ok(None));
    }
    let ident = d.push(b'\n').unwrap().unwrap();
    assert_eq!(ident.ident(), "CALIN-EM2");
    assert_eq!(d.dropped(), 4);
}

#[test]
fn push_slice_stops_after_one_message() {
    let sets = vec![DataSet::single(
        DataId::new("1.8.0").unwrap(),
        Value::new("1", None).unwrap(),
    )];
    let one = DataMessage { data_sets: sets }.to_vec().unwrap();
    let mut two = one.clone();
    two.extend_from_slice(&one);
    let mut d = DataMessageDecoder::new(Limits::default(), BccPolicy::Strict);
    let (used, got) = d.push_slice(&two);
    assert_eq!(used, one.len());
    assert!(got.unwrap().is_some());
    let (used, got) = d.push_slice(&two[one.len()..]);
    assert_eq!(used, one.len());
    assert!(got.unwrap().is_some());
    let (used, got) = d.push_slice(&one[..3]);
    assert_eq!((used, got), (3, Ok(None)));
}

#[test]
fn strict_decoder_rejects_bad_bcc_then_recovers() {
    let good = DataMessage::default().to_vec().unwrap();
    let mut bad = good.clone();
    *bad.last_mut().unwrap() ^= 0xFF;
    let mut d = DataMessageDecoder::new(Limits::default(), BccPolicy::Strict);
    let (_, got) = d.push_slice(&bad);
    assert!(matches!(
        got,
        Err(DecodeError::Message(MessageError::BadBcc(_)))
    ));
    let (_, got) = d.push_slice(&good);
    assert!(matches!(got, Ok(Some(Checked { bcc: None, .. }))));
}

#[test]
fn oversized_frames_are_cut() {
    let limits = Limits {
        max_block_len: 8,
        ..Limits::default()
    };
    let mut d = DataMessageDecoder::new(limits, BccPolicy::Strict);
    let (used, got) = d.push_slice(b"\x02123456789");
    assert_eq!(got, Err(DecodeError::TooLong(FrameTooLong { max: 9 })));
    assert_eq!(used, 10);
    let mut d = IdentificationDecoder::new(Limits::default(), BccPolicy::Strict);
    let mut long = vec![b'/'];
    long.resize(MAX_LINE_FRAME + 1, b'A');
    let (_, got) = d.push_slice(&long);
    assert_eq!(
        got,
        Err(DecodeError::TooLong(FrameTooLong {
            max: MAX_LINE_FRAME
        }))
    );
}

#[test]
fn replies_and_commands() {
    let mut d = ReplyDecoder::new(Limits::default(), BccPolicy::Strict);
    assert_eq!(d.push(ACK), Ok(Some(Reply::Ack)));
    assert_eq!(d.push(NAK), Ok(Some(Reply::Nak)));
    let (_, got) = d.push_slice(b"\x01B0\x03q");
    assert!(matches!(got, Ok(Some(Reply::Command(_)))));
    let (_, got) = d.push_slice(b"\x02(ERROR)\x03Z");
    match got {
        Ok(Some(Reply::Answer(a))) => assert_eq!(a.message.error_text(), Some("ERROR")),
        other => panic!("{other:?}"),
    }
    let mut c = CommandDecoder::new(Limits::default(), BccPolicy::Strict);
    let (_, got) = c.push_slice(b"\x01R1\x02C.1.0()\x03!"); // pwitab add_bcc: 0x21
    assert!(matches!(got, Ok(Some(CommandInput::Command(_)))));
    let mut o = OptionSelectDecoder::new(Limits::default(), BccPolicy::Strict);
    let (_, got) = o.push_slice(b"\x06050\r\n");
    assert_eq!(got.unwrap().unwrap().baud.baud(), Some(9600));
    let mut s = SignOnDecoder::new(Limits::default(), BccPolicy::Strict);
    let (_, got) = s.push_slice(b"/?45654!\r\n");
    assert_eq!(got.unwrap().unwrap().address.unwrap().as_str(), "45654");
}

#[test]
fn noise_line_resynchronises_on_a_start_byte() {
    let mut d = IdentificationDecoder::new(Limits::default(), BccPolicy::Strict);
    // A '/' of noise, then the real identification: the first line is abandoned.
    let (_, got) = d.push_slice(b"/\x7F\x7F/CLN5X\r\n");
    assert_eq!(got.unwrap().unwrap().ident(), "X");
    assert_eq!(d.dropped(), 3);
    let mut r = DataMessageDecoder::new(Limits::default(), BccPolicy::Strict);
    let block = DataMessage::default().to_vec().unwrap();
    let mut noisy = b"/ab".to_vec();
    noisy.extend_from_slice(&block);
    let (used, got) = r.push_slice(&noisy);
    assert_eq!(used, noisy.len());
    assert!(got.unwrap().is_some());
}

#[test]
fn meter_refuses_an_option_it_cannot_honour() {
    use super::super::server::{MeterEvent, SessionEnd};
    let mut m = MeterSession::new(super::sim::meter(false)).unwrap();
    let t = core::time::Duration::from_secs(1);
    m.handle_bytes(t, b"/?!\r\n");
    m.handle_timeout(t * 2);
    m.handle_bytes(t * 3, b"\x06060\r\n"); // 19200: above the 9600 offered
    let events: Vec<_> = core::iter::from_fn(|| m.poll_action())
        .filter_map(|a| match a {
            MeterAction::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    assert!(matches!(events[0], MeterEvent::OptionRefused { .. }));
    assert_eq!(events[1], MeterEvent::Ended(SessionEnd::Refused));
    assert!(m.is_idle());
}
