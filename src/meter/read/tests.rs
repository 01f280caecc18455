//! Pure parts of reading by profile: typing values by what the profile says, planning a
//! selection, and picking the nth event.

use super::convert::{convert, generic, text};
use super::events::pick;
use super::*;
use crate::meter::cosem::EventColumns;
use crate::profile::Provenance;
use crate::protocol::obis::ObisCode;

fn a(s: &str) -> AttributeRef {
    s.parse().unwrap()
}

fn short(n: u8) -> Item {
    Item::Reads(Reads::Short(ShortCode(n)))
}

#[test]
fn registers_are_scaled_and_counts_stay_counts() {
    let su = Data::Structure(vec![Data::Integer(-2), Data::Enum(30)]);
    let v = convert(
        short(1),
        a("3:1.0.1.8.0.255:2"),
        &Data::DoubleLongUnsigned(123_456),
        Some(&su),
    )
    .unwrap();
    assert_eq!(v.to_string(), "1234.56 Wh");
    let count_su = Data::Structure(vec![Data::Integer(0), Data::Enum(255)]);
    let v = convert(
        short(40),
        a("3:0.0.96.20.0.255:2"),
        &Data::LongUnsigned(7),
        Some(&count_su),
    )
    .unwrap();
    assert_eq!(v, ReadValue::Count(7));
}

#[test]
fn values_are_typed_by_what_the_profile_says() {
    let t = a("1:0.0.96.5.0.255:2");
    assert_eq!(
        convert(
            Item::Reads(Reads::Status),
            t,
            &Data::LongUnsigned(1008),
            None
        )
        .unwrap(),
        ReadValue::Status(OperatingStatus(1008))
    );
    assert_eq!(
        convert(short(87), t, &Data::Unsigned(8), None).unwrap(),
        ReadValue::RelayReason(8)
    );
    assert_eq!(
        convert(short(40), t, &Data::DoubleLongUnsigned(3), None).unwrap(),
        ReadValue::Count(3)
    );
    assert_eq!(
        convert(Item::Reads(Reads::Relay), t, &Data::Boolean(true), None).unwrap(),
        ReadValue::Relay(true)
    );
    assert_eq!(
        convert(Item::Reads(Reads::RelayControl), t, &Data::Enum(0), None).unwrap(),
        ReadValue::RelayControl(ControlState::Disconnected)
    );
    // A status that is not a number is refused, not guessed.
    assert!(matches!(
        convert(
            Item::Reads(Reads::Status),
            t,
            &Data::OctetString(vec![1]),
            None
        ),
        Err(ItemError::BadValue { .. })
    ));
    assert!(matches!(
        convert(short(87), t, &Data::Long(-1), None),
        Err(ItemError::BadValue { .. })
    ));
}

#[test]
fn explicit_attributes_are_typed_by_class_then_by_type() {
    let v = convert(
        Item::Attribute(a("70:0.0.96.3.10.255:2")),
        a("70:0.0.96.3.10.255:2"),
        &Data::Boolean(false),
        None,
    )
    .unwrap();
    assert_eq!(v, ReadValue::Relay(false));
    assert_eq!(generic(&Data::Long64(-9)), ReadValue::Number(-9));
    assert_eq!(generic(&Data::Boolean(true)), ReadValue::Boolean(true));
    assert_eq!(generic(&Data::Array(vec![])), ReadValue::Other);
}

#[test]
fn identification_text() {
    assert_eq!(
        text(&Data::OctetString(b"CAL0001\0\0 ".to_vec())).unwrap(),
        ReadValue::Text("CAL0001".into())
    );
    assert_eq!(
        text(&Data::OctetString(vec![0x01, 0xFF])).unwrap(),
        ReadValue::Bytes(vec![0x01, 0xFF])
    );
    assert_eq!(
        text(&Data::DoubleLongUnsigned(4711)).unwrap(),
        ReadValue::Text("4711".into())
    );
    assert!(text(&Data::Boolean(true)).is_err());
}

fn entry(code: u8, events: Vec<u16>, nth: u8) -> EventEntry {
    EventEntry {
        reads: ShortCode(code),
        log: ObisCode::new(0, 0, 99, 98, 1, 255),
        events,
        nth,
        provenance: Provenance::Guess,
    }
}

fn row(minute: u8, code: u8) -> Vec<Data> {
    let mut t = [0x07, 0xEA, 1, 2, 5, 10, minute, 0, 0, 0x80, 0x00, 0x00];
    t[6] = minute;
    vec![Data::Unsigned(code), Data::OctetString(t.to_vec())]
}

#[test]
fn the_nth_most_recent_matching_event() {
    // Newest first; code column 0, time column 1.
    let rows = vec![row(50, 44), row(40, 1), row(30, 44), row(20, 44)];
    let cols = EventColumns { time: 1, code: 0 };
    let buffer = a("7:0.0.99.98.1.255:2");
    let first = pick(&rows, cols, &entry(41, vec![44], 1), buffer).unwrap();
    let ReadValue::Timestamp(t) = first.value else {
        panic!("{first:?}")
    };
    assert_eq!(t.time.minute, 50);
    let second = pick(&rows, cols, &entry(42, vec![44], 2), buffer).unwrap();
    let ReadValue::Timestamp(t) = second.value else {
        panic!("{second:?}")
    };
    assert_eq!(
        t.time.minute, 30,
        "the power-down row in between is skipped"
    );
    let fourth = pick(&rows, cols, &entry(44, vec![44], 4), buffer).unwrap();
    assert_eq!(fourth.value, ReadValue::NoEvent);
    assert_eq!(fourth.what, short(44));
}

#[test]
fn selection_plans_follow_the_profile() {
    let profile = Profile::calin();
    let status = plan(&profile, &Selection::Status);
    let whats: Vec<String> = status
        .iter()
        .map(|p| match p {
            Planned::Object { what, .. } => what.to_string(),
            _ => "?".into(),
        })
        .collect();
    assert_eq!(whats, ["status", "87", "relay", "relay_control"]);
    let codes = plan(
        &profile,
        &Selection::Codes(vec![ShortCode(1), ShortCode(41), ShortCode(99)]),
    );
    assert!(matches!(codes[0], Planned::Object { .. }));
    assert!(matches!(codes[1], Planned::Event(e) if e.nth == 1));
    assert!(matches!(codes[2], Planned::Missing(_)));
    let all = plan(&profile, &Selection::All);
    assert_eq!(all.len(), profile.objects.len() + profile.events.len());
}

/// The agent runs sessions on spawned tasks: every future here must be `Send`.
#[allow(dead_code)]
fn futures_are_send(
    session: &mut crate::meter::Session,
    link: crate::transport::BoxLink,
    config: crate::meter::SessionConfig,
    profile: &Profile,
) {
    fn send<T: Send>(_: &T) {}
    let open = crate::meter::Session::open(link, config);
    send(&open);
    let mut progress = |_| {};
    let read = read_profile(session, profile, &Selection::All, &mut progress);
    send(&read);
}

#[test]
fn sessions_are_send() {
    fn send<T: Send>() {}
    send::<crate::meter::Session>();
    send::<crate::meter::MeterError>();
}
