//! Parity, the baud table and wire times.

use core::time::Duration;

use super::super::framing::{add_even_parity_all, strip_parity_all};
use super::super::*;

#[test]
fn parity_of_the_sign_on() {
    // "/?!" CR LF as 8-bit characters carrying even parity in bit 7:
    // '/' 0x2F has five ones -> parity 1; '?' six -> 0; '!' two -> 0; CR three -> 1; LF two -> 0.
    let mut line = *b"/?!\r\n";
    add_even_parity_all(&mut line);
    assert_eq!(line, [0xAF, 0x3F, 0x21, 0x8D, 0x0A]);
    assert_eq!(parity_bit(b'/'), 1);
    assert_eq!(parity_bit(b'?'), 0);
    assert_eq!(strip_parity(0xAF), Ok(b'/'));
    assert_eq!(strip_parity(0x2F), Err(ParityError { byte: 0x2F }));
    assert_eq!(strip_parity_all(&mut line), Ok(()));
    assert_eq!(&line, b"/?!\r\n");
    let mut bad = [0xAF, 0xBF];
    assert_eq!(
        strip_parity_all(&mut bad),
        Err((1, ParityError { byte: 0xBF }))
    );
}

#[test]
fn parity_round_trips_and_catches_every_single_bit_error() {
    for c in 0u8..0x80 {
        let framed = add_even_parity(c);
        assert_eq!(framed.count_ones() % 2, 0, "{c:#04x}");
        assert_eq!(strip_parity(framed), Ok(c));
        for bit in 0..8 {
            assert!(
                strip_parity(framed ^ (1 << bit)).is_err(),
                "{c:#04x} bit {bit}"
            );
        }
    }
    // Bit 7 of the input is replaced, not kept.
    assert_eq!(add_even_parity(0x80 | b'?'), b'?');
}

#[test]
fn wire_times() {
    // 7E1 and 8N1 both take 10 bits: start + 7 + parity + stop / start + 8 + stop.
    assert_eq!(Framing::SevenE1.bits_per_char(), 10);
    assert_eq!(Framing::EightN1.bits_per_char(), 10);
    // 10 bits at 300 baud: 33.33 ms, rounded up to the nanosecond.
    assert_eq!(
        char_time(300, Framing::SevenE1),
        Duration::from_nanos(33_333_334)
    );
    // The 6-byte option select at 300 baud: exactly 200 ms.
    assert_eq!(
        wire_time(6, 300, Framing::SevenE1),
        Duration::from_millis(200)
    );
    assert_eq!(
        wire_time(1, 9600, Framing::EightN1),
        Duration::from_nanos(1_041_667)
    );
    assert_eq!(wire_time(0, 9600, Framing::EightN1), Duration::ZERO);
    // A zero baud is taken as 1 instead of dividing by zero.
    assert_eq!(char_time(0, Framing::SevenE1), Duration::from_secs(10));
}

#[test]
fn baud_characters() {
    assert_eq!(BaudChar::mode_c(300).map(BaudChar::as_byte), Some(b'0'));
    assert_eq!(BaudChar::mode_c(9600).map(BaudChar::as_byte), Some(b'5'));
    assert_eq!(BaudChar::mode_c(19200).map(BaudChar::as_byte), Some(b'6'));
    assert_eq!(BaudChar::mode_c(38400), None);
    assert_eq!(BaudChar::mode_b(600).map(BaudChar::as_byte), Some(b'A'));
    assert_eq!(BaudChar::mode_b(300), None);
    let table: Vec<_> = (b'0'..=b'9')
        .map(|c| BaudChar::new(c).unwrap().baud())
        .collect();
    assert_eq!(
        table,
        [300, 600, 1200, 2400, 4800, 9600, 19200]
            .map(Some)
            .into_iter()
            .chain([None; 3])
            .collect::<Vec<_>>()
    );
    let b: Vec<_> = (b'A'..=b'I')
        .map(|c| BaudChar::new(c).unwrap().baud())
        .collect();
    assert_eq!(
        b,
        [600, 1200, 2400, 4800, 9600, 19200]
            .map(Some)
            .into_iter()
            .chain([None; 3])
            .collect::<Vec<_>>()
    );
    assert_eq!(
        BaudChar::new(b'x').unwrap().protocol_mode(),
        ProtocolMode::A
    );
    assert_eq!(BaudChar::new(b'x').unwrap().baud(), None);
    assert!(BaudChar::new(b'/').is_err());
    assert!(BaudChar::new(0x0D).is_err());
}
