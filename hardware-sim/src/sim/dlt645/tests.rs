//! DL/T 645 answers byte by byte: frames are built and checked here by hand (checksum,
//! +0x33, BCD), independently of the protocol crate's encoder.

use core::time::Duration;

use super::*;
use crate::codes::ShortCode;
use crate::profile::Profile;
use crate::sim::scenario::{RelayState, Scenario};
use crate::sim::station::{Framing, Station};

const SCENARIO: &str = r#"
start = "2024-05-01T08:00:00Z"
[[meter]]
name = "a"
physical = 17
serial = "47001234567"
[meter.dlt645]
credit = 125.5
[meter.codes]
01 = { value = 1234567, scaler = 0, unit = "Wh" }
31 = { value = -1820, scaler = 0, unit = "W" }
35 = { value = 950, scaler = -3 }
52 = 5
87 = 0
[[meter.events]]
log = "0.0.99.98.0.255"
entries = [{ time = "2024-04-29T23:59:59Z", code = 1 }]

[[meter]]
name = "old"
physical = 18
serial = "2"
protocols = ["dlt645"]
[meter.dlt645]
version = 1997
"#;

/// Meter a's address 047001234567 in wire order (A0 first).
const A: [u8; 6] = [0x67, 0x45, 0x23, 0x01, 0x70, 0x04];
/// Meter "old": 000000000002.
const OLD: [u8; 6] = [0x02, 0, 0, 0, 0, 0];

fn bench() -> (Fleet, Station) {
    let s = Scenario::parse("t.toml", SCENARIO).unwrap();
    let fleet = Fleet::new(&s, &Profile::calin(), 1.0).unwrap();
    let station = Station::new(&fleet, Framing::Dlt645 { version: None });
    (fleet, station)
}

/// `68 A 68 C L DATA+33 CS 16`, by hand.
fn frame(address: [u8; 6], control: u8, plain: &[u8]) -> Vec<u8> {
    let mut out = vec![0x68];
    out.extend(address);
    out.push(0x68);
    out.push(control);
    out.push(plain.len() as u8);
    out.extend(plain.iter().map(|b| b.wrapping_add(0x33)));
    let cs = out.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    out.extend([cs, 0x16]);
    out
}

/// Check a reply's preamble, delimiters, length and checksum; (address, control, plain data).
fn open(bytes: &[u8]) -> ([u8; 6], u8, Vec<u8>) {
    let body = bytes
        .strip_prefix(&[0xFE; 4])
        .expect("FE FE FE FE preamble");
    assert_eq!(body[0], 0x68);
    assert_eq!(body[7], 0x68);
    let len = usize::from(body[9]);
    assert_eq!(body.len(), 10 + len + 2, "length byte");
    let cs = body[..10 + len].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    assert_eq!(body[10 + len], cs, "checksum");
    assert_eq!(body[11 + len], 0x16);
    let data = body[10..10 + len]
        .iter()
        .map(|b| b.wrapping_sub(0x33))
        .collect();
    (body[1..7].try_into().unwrap(), body[8], data)
}

fn ask(fleet: &mut Fleet, station: &mut Station, request: &[u8]) -> Step {
    station.handle_bytes(fleet, Duration::from_secs(1), request)
}

fn only_reply(step: &Step) -> ([u8; 6], u8, Vec<u8>) {
    assert_eq!(step.writes.len(), 1, "{:?}", step.writes);
    open(&step.writes[0].bytes)
}

#[test]
fn energy_2007_is_bcd_kwh_with_two_decimals() {
    let (mut f, mut s) = bench();
    let step = ask(&mut f, &mut s, &frame(A, 0x11, &[0x00, 0x00, 0x01, 0x00]));
    let (addr, control, data) = only_reply(&step);
    assert_eq!(addr, A);
    assert_eq!(control, 0x91, "normal reply to read data");
    // 1234567 Wh = 1234.57 kWh (rounded) = BCD 00 12 34 57, LSB first.
    assert_eq!(data, [0x00, 0x00, 0x01, 0x00, 0x57, 0x34, 0x12, 0x00]);
    assert!(step.events.contains(&SimEvent::Dlt645Served {
        meter: 0,
        function: crate::protocol::dlt645::Function::ReadData,
        di: Some(crate::protocol::dlt645::DataId::v2007([0, 1, 0, 0])),
        abnormal: false
    }));
}

#[test]
fn power_is_signed_and_the_date_follows_the_meter_clock() {
    let (mut f, mut s) = bench();
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &frame(A, 0x11, &[0, 0, 3, 2])));
    // -1.8200 kW: XX.XXXX with the sign in the top bit of the last byte.
    assert_eq!(&data[4..], [0x00, 0x82, 0x81]);
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &frame(A, 0x11, &[0, 0, 6, 2])));
    assert_eq!(&data[4..], [0x50, 0x09], "PF 0.950");
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &frame(A, 0x11, &[1, 1, 0, 4])));
    // 2024-05-01 was a Wednesday (3): WW DD MM YY.
    assert_eq!(&data[4..], [0x03, 0x01, 0x05, 0x24]);
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &frame(A, 0x11, &[0, 0, 0x11, 3])));
    assert_eq!(&data[4..], [0x05, 0x00, 0x00], "power downs");
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &frame(A, 0x11, &[1, 0, 0x11, 3])));
    assert_eq!(
        &data[4..10],
        [0x59, 0x59, 0x23, 0x29, 0x04, 0x24],
        "last power down"
    );
}

#[test]
fn an_unknown_identifier_gets_the_abnormal_reply() {
    let (mut f, mut s) = bench();
    // 02 01 01 00, phase A voltage: not in the catalogue.
    let step = ask(&mut f, &mut s, &frame(A, 0x11, &[0x00, 0x01, 0x01, 0x02]));
    let (_, control, data) = only_reply(&step);
    assert_eq!(control, 0xD1, "reply, abnormal, read data");
    assert_eq!(data, [0x02], "2007 error word bit 1: no requested data");
    assert!(step
        .events
        .iter()
        .any(|e| matches!(e, SimEvent::Dlt645Served { abnormal: true, .. })));
}

#[test]
fn a_wildcard_read_address_finds_the_lone_2007_meter() {
    let (mut f, mut s) = bench();
    let (addr, control, data) = only_reply(&ask(&mut f, &mut s, &frame([0xAA; 6], 0x13, &[])));
    assert_eq!(control, 0x93);
    assert_eq!(addr, A);
    assert_eq!(data, A);
    // A read for another address is not answered.
    let step = ask(&mut f, &mut s, &frame([0x11; 6], 0x11, &[0, 0, 1, 0]));
    assert!(step.writes.is_empty());
}

#[test]
fn magnetic_tamper_sets_the_magnetic_bit_of_c111() {
    let (mut f, mut s) = bench();
    let c111 = frame(A, 0x01, &[0x11, 0xC1]);
    let (_, control, data) = only_reply(&ask(&mut f, &mut s, &c111));
    assert_eq!(control, 0x81, "a 2007 meter answers the 1997 read");
    assert_eq!(data, [0x11, 0xC1, 0x00, 0x00], "status 1000: no bit");
    f.meter_mut(0).unwrap().set_status(1015);
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &c111));
    assert_eq!(data, [0x11, 0xC1, 0x02, 0x00], "bit 1: magnetic");
    for (status, bit) in [
        (1006, 0x04),
        (1005, 0x08),
        (1014, 0x08),
        (1013, 0x10),
        (1016, 0x20),
    ] {
        f.meter_mut(0).unwrap().set_status(status);
        let (_, _, data) = only_reply(&ask(&mut f, &mut s, &c111));
        assert_eq!(data[2], bit, "status {status}");
    }
    f.meter_mut(0).unwrap().set_status(1000);
    f.meter_mut(0).unwrap().set_relay(RelayState::Disconnected);
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &c111));
    assert_eq!(data[2], 0x01, "bit 0: relay open");
}

#[test]
fn running_status_is_the_relay_reason_and_e421_carries_credit_and_relay() {
    let (mut f, mut s) = bench();
    f.meter_mut(0).unwrap().set_code(ShortCode(87), 12);
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &frame(A, 0x01, &[0xF5, 0xEF])));
    assert_eq!(data, [0xF5, 0xEF, 0x12]);
    f.meter_mut(0).unwrap().set_relay(RelayState::Disconnected);
    let (_, _, data) = only_reply(&ask(&mut f, &mut s, &frame(A, 0x01, &[0x21, 0xE4])));
    // 125.50 as XXXXXX.XX, then relay 01 (open).
    assert_eq!(data, [0x21, 0xE4, 0x50, 0x25, 0x01, 0x00, 0x01]);
}

#[test]
fn a_1997_meter_answers_1997_frames_only() {
    let (mut f, mut s) = bench();
    let (addr, control, data) = only_reply(&ask(&mut f, &mut s, &frame(OLD, 0x01, &[0x10, 0x90])));
    assert_eq!((addr, control), (OLD, 0x81));
    assert_eq!(data, [0x10, 0x90, 0x00, 0x00, 0x00, 0x00], "energy 0");
    let step = ask(&mut f, &mut s, &frame(OLD, 0x11, &[0, 0, 1, 0]));
    assert!(step.writes.is_empty(), "0x11 means nothing in 1997");
    // Unknown 1997 identifier: error word bit 1, wrong identifier.
    let (_, control, data) = only_reply(&ask(&mut f, &mut s, &frame(OLD, 0x01, &[0x11, 0x91])));
    assert_eq!((control, data.as_slice()), (0xC1, &[0x02][..]));
}

#[test]
fn frames_split_across_reads_and_a_powered_off_meter() {
    let (mut f, mut s) = bench();
    let request = frame(A, 0x11, &[0, 0, 1, 0]);
    let mut with_wakeup = vec![0xFE, 0xFE];
    with_wakeup.extend(&request);
    let (head, tail) = with_wakeup.split_at(7);
    assert!(ask(&mut f, &mut s, head).writes.is_empty());
    assert_eq!(ask(&mut f, &mut s, tail).writes.len(), 1);
    f.meter_mut(0).unwrap().set_offline(true);
    assert!(ask(&mut f, &mut s, &request).writes.is_empty());
}

#[test]
fn the_link_edition_overrides_the_meters() {
    let s = Scenario::parse("t.toml", SCENARIO).unwrap();
    let mut fleet = Fleet::new(&s, &Profile::calin(), 1.0).unwrap();
    let mut station = Station::new(
        &fleet,
        Framing::Dlt645 {
            version: Some(Version::V1997),
        },
    );
    // Meter a now reads 0x11 as nothing and answers 90 10.
    assert!(
        ask(&mut fleet, &mut station, &frame(A, 0x11, &[0, 0, 1, 0]))
            .writes
            .is_empty()
    );
    let (_, _, data) = only_reply(&ask(
        &mut fleet,
        &mut station,
        &frame(A, 0x01, &[0x10, 0x90]),
    ));
    assert_eq!(&data[2..], [0x57, 0x34, 0x12, 0x00]);
}

#[test]
fn a_scripted_status_change_shows_in_c111() {
    let change = "[[meter.change]]\nat = 2.0\nstatus = 1015\n\n[[meter]]\nname = \"old\"";
    let text = SCENARIO.replace("[[meter]]\nname = \"old\"", change);
    let s = Scenario::parse("t.toml", &text).unwrap();
    let mut fleet = Fleet::new(&s, &Profile::calin(), 1.0).unwrap();
    let mut station = Station::new(&fleet, Framing::Dlt645 { version: None });
    let c111 = frame(A, 0x01, &[0x11, 0xC1]);
    let before = station.handle_bytes(&mut fleet, Duration::from_secs(1), &c111);
    assert_eq!(only_reply(&before).2[2], 0x00);
    let after = station.handle_bytes(&mut fleet, Duration::from_secs(3), &c111);
    assert_eq!(only_reply(&after).2[2], 0x02, "magnetic");
}

#[test]
fn wire_faults_act_on_dlt645_replies() {
    use crate::sim::fault::FaultKind;
    let (mut f, mut s) = bench();
    f.meter_mut(0)
        .unwrap()
        .faults
        .inject(FaultKind::FlipBit { bit: None });
    let step = ask(&mut f, &mut s, &frame(A, 0x11, &[0, 0, 1, 0]));
    let bytes = &step.writes[0].bytes;
    let body = &bytes[4..];
    let sum = body[..body.len() - 2]
        .iter()
        .fold(0u8, |a, b| a.wrapping_add(*b));
    assert_eq!(body[body.len() - 2], sum ^ 0x01, "the checksum is damaged");
    f.meter_mut(0)
        .unwrap()
        .faults
        .inject(FaultKind::WrongSource { physical: None });
    let step = ask(&mut f, &mut s, &frame(A, 0x11, &[0, 0, 1, 0]));
    let (addr, _, _) = only_reply(&step);
    assert_eq!(
        addr[0], 0x68,
        "another meter's address (…67 + 1), checksum valid"
    );
}
