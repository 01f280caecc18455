//! The Calin profile: status bits decode into the lookup core's operating statuses.

use crate::codes::{Category, Lookup, Mode, OperatingStatus};
use crate::protocol::dlt645::*;

fn st(code: u32) -> OperatingStatus {
    OperatingStatus(code)
}

#[test]
fn each_bit_maps_to_the_status_with_the_same_meaning() {
    let cases = [
        (StatusBit::Magnetic, 1015),
        (StatusBit::TerminalCover, 1006),
        (StatusBit::Cover, 1005),
        (StatusBit::CurrentReverse, 1013),
        (StatusBit::CurrentImbalance, 1016),
    ];
    for (bit, code) in cases {
        assert_eq!(
            StatusWord::from_bits(&[bit]).conditions(),
            vec![st(code)],
            "{bit:?}"
        );
    }
}

#[test]
fn magnetic_bit_is_treated_exactly_as_status_1015() {
    let lookup = Lookup::builtin();
    let word = StatusWord::decode(&[0x02, 0x00]).unwrap();
    let [status] = word.conditions()[..] else {
        panic!("one condition expected");
    };
    assert_eq!(
        lookup.status(status, Mode::Postpaid),
        lookup.status(st(1015), Mode::Postpaid)
    );
    assert_eq!(
        lookup.status(status, Mode::Postpaid).category,
        Category::Tamper
    );
}

#[test]
fn several_bits_give_several_statuses_in_bit_order() {
    // Relay open, magnetic and current reverse: 0b0001_0011.
    let word = StatusWord::decode(&[0x13, 0x00]).unwrap();
    assert_eq!(word.relay(), RelayState::Open);
    assert_eq!(
        word.bits(),
        vec![
            StatusBit::RelayOpen,
            StatusBit::Magnetic,
            StatusBit::CurrentReverse
        ]
    );
    assert_eq!(word.conditions(), vec![st(1015), st(1013)]);
}

#[test]
fn no_bits_is_normal_supply_and_relay_open_alone_defers_to_running_status() {
    assert_eq!(StatusWord(0).conditions(), vec![st(1000)]);
    let open = StatusWord::from_bits(&[StatusBit::RelayOpen]);
    assert_eq!(open.relay(), RelayState::Open);
    assert!(open.conditions().is_empty());
}

#[test]
fn unknown_bits_are_kept_and_round_trip() {
    let word = StatusWord::decode(&[0x40, 0x81]).unwrap();
    assert_eq!(word.unknown_bits(), 0x8140);
    assert_eq!(word.conditions(), vec![st(1000)]);
    assert_eq!(word.encode(), [0x40, 0x81]);
    let wide = StatusWord::decode(&[0x00, 0x00, 0x01]).unwrap();
    assert_eq!(wide.0, 0x01_0000);
    assert_eq!(wide.encode(), [0x00, 0x00, 0x01, 0x00]);
    assert!(StatusWord::decode(&[]).is_err());
    assert!(StatusWord::decode(&[0; 5]).is_err());
}

#[test]
fn running_status_is_a_code_87_sub_code() {
    let r = RunningStatus::decode(&[0x08]).unwrap();
    assert_eq!(r.operating_status(), st(1008));
    assert_eq!(
        RunningStatus::decode(&[0x15]).unwrap().operating_status(),
        st(1015)
    );
    assert_eq!(
        RunningStatus::decode(&[0x1A]),
        Err(BcdError::InvalidDigit {
            index: 0,
            byte: 0x1A
        })
    );
    assert_eq!(r.encode().unwrap(), [0x08]);
}

#[test]
fn credit_and_relay() {
    #[rustfmt::skip]
    let bytes = [
        0x50, 0x12, 0x00, 0x00, // credit 000012.50
        0x01,                   // relay open
    ];
    let c = CreditRelay::decode(&bytes).unwrap();
    assert_eq!(c.credit, Decimal::new(1250, 2));
    assert_eq!(c.relay, RelayState::Open);
    assert_eq!(c.encode().unwrap(), bytes);
    assert_eq!(
        CreditRelay::decode(&bytes[..4]),
        Err(BcdError::WrongLength {
            expected: 5,
            found: 4
        })
    );
    assert_eq!(RelayState::from_byte(0x07), RelayState::Unknown(0x07));
}
