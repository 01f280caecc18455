use super::*;
use crate::meter::cosem::ItemError;
use crate::meter::read::{ItemFailure, Reading};
use crate::profile::AttributeRef;
use crate::protocol::axdr::{ClockStatus, Data, Date, Time};

fn attr() -> AttributeRef {
    "1:0.0.96.5.0.255:2".parse().unwrap()
}

fn ok(what: Reads, value: ReadValue) -> Result<Reading, ItemFailure> {
    Ok(Reading {
        what: Item::Reads(what),
        attr: attr(),
        value,
        raw: Data::NullData,
    })
}

fn short(c: u8) -> Reads {
    Reads::Short(ShortCode(c))
}

fn dt(y: u16, mo: u8, d: u8, h: u8, mi: u8, s: u8, deviation: i16) -> DateTime {
    DateTime {
        date: Date {
            year: y,
            month: mo,
            day_of_month: d,
            day_of_week: 0xFF,
        },
        time: Time {
            hour: h,
            minute: mi,
            second: s,
            hundredths: 0,
        },
        deviation,
        clock_status: ClockStatus(0),
    }
}

#[test]
fn groups_map_to_the_codes_they_name() {
    let status = object_reads(Groups::NONE.with(Group::Status));
    assert_eq!(status, vec![Reads::Status, short(87), Reads::Relay]);
    let energy = object_reads(Groups::NONE.with(Group::Energy));
    assert_eq!(energy, [1, 14, 31, 35].map(short).to_vec());
    let counters = object_reads(Groups::NONE.with(Group::Counters));
    assert_eq!(counters, [40, 46, 52, 58].map(short).to_vec());
    let times: Vec<u8> = event_reads(Groups::NONE.with(Group::Counters))
        .into_iter()
        .map(|r| match r {
            Reads::Short(c) => c.0,
            other => panic!("{other:?}"),
        })
        .collect();
    let expected: Vec<u8> = (41..=45).chain(47..=51).chain(53..=57).collect();
    assert_eq!(times, expected);
    assert!(event_reads(Groups::NONE.with(Group::Status)).is_empty());
    assert_eq!(object_reads(Groups::ALL).len(), 3 + 4 + 4);
}

#[test]
fn a_full_report_fills_every_field() {
    let report = ReadReport {
        items: vec![
            ok(Reads::Status, ReadValue::Status(OperatingStatus(1005))),
            ok(short(87), ReadValue::RelayReason(5)),
            ok(Reads::Relay, ReadValue::Relay(false)),
            ok(
                short(1),
                ReadValue::Quantity(Quantity {
                    mantissa: 123_456,
                    scaler: -2,
                    unit: Unit::WattHour,
                }),
            ),
            ok(
                short(35),
                ReadValue::Float {
                    value: 0.93,
                    unit: Unit::Count,
                },
            ),
            ok(short(14), ReadValue::Number(5000)),
            ok(short(40), ReadValue::Count(3)),
            ok(
                short(41),
                ReadValue::Timestamp(dt(2024, 5, 1, 8, 0, 0, -180)),
            ),
            ok(
                short(42),
                ReadValue::Timestamp(dt(2024, 5, 2, 8, 0, 0, -180)),
            ),
            ok(short(43), ReadValue::NoEvent),
        ],
        aborted: None,
    };
    let mut r = empty_reading("M1", 7, Mode::Prepaid);
    let c = apply_report(&mut r, &report);
    assert!(c.failures.is_empty(), "{:?}", c.failures);
    assert_eq!(r.status, Some(OperatingStatus(1005)));
    assert_eq!(r.relay_reason, Some(5));
    assert_eq!(r.relay_connected, Some(false));
    assert_eq!(
        r.values.get(&1),
        Some(&ReadingValue::Decimal {
            mantissa: 123_456,
            exponent: -2,
            unit: "Wh".into()
        })
    );
    assert_eq!(
        r.values.get(&14),
        Some(&ReadingValue::Decimal {
            mantissa: 5000,
            exponent: 0,
            unit: String::new()
        })
    );
    assert!(matches!(r.values.get(&35), Some(ReadingValue::Float { value, .. }) if *value == 0.93));
    assert_eq!(r.counters.get(&Counter::CoverOpen), Some(&3));
    // 2024-05-02T08:00+03:00 = 05:00Z, most recent first.
    assert_eq!(
        r.event_times.get(&Counter::CoverOpen),
        Some(&vec![1_714_626_000_000, 1_714_539_600_000])
    );
}

#[test]
fn failed_items_stay_absent_and_are_reported() {
    let report = ReadReport {
        items: vec![
            Err(ItemFailure {
                what: Item::Reads(short(40)),
                attr: Some(attr()),
                error: ItemError::Refused(crate::protocol::apdu::DataAccessResult::ReadWriteDenied),
            }),
            ok(short(46), ReadValue::Count(-1)),
            ok(short(52), ReadValue::Count(2)),
        ],
        aborted: None,
    };
    let mut r = empty_reading("M1", 7, Mode::Postpaid);
    let c = apply_report(&mut r, &report);
    assert_eq!(c.failures.len(), 2, "{:?}", c.failures);
    assert!(!r.counters.contains_key(&Counter::CoverOpen));
    assert!(
        !r.counters.contains_key(&Counter::OverloadTrip),
        "a negative count is not a count"
    );
    assert_eq!(r.counters.get(&Counter::PowerDown), Some(&2));
}

#[test]
fn a_bare_sub_code_is_read_as_the_status_it_stands_for() {
    assert_eq!(operating_status(0), OperatingStatus(1000));
    assert_eq!(operating_status(8), OperatingStatus(1008));
    assert_eq!(operating_status(25), OperatingStatus(1025));
    assert_eq!(
        operating_status(26),
        OperatingStatus(26),
        "kept raw: unknown"
    );
    assert_eq!(operating_status(1011), OperatingStatus(1011));
    assert_eq!(operating_status(4711), OperatingStatus(4711));
}

#[test]
fn date_times_become_utc_milliseconds() {
    assert_eq!(unix_ms(&dt(1970, 1, 1, 0, 0, 0, 0)), Some(0));
    // 2000-02-29 is a leap day.
    assert_eq!(unix_ms(&dt(2000, 2, 29, 0, 0, 0, 0)), Some(951_782_400_000));
    // Deviation unspecified: taken as UTC.
    assert_eq!(
        unix_ms(&dt(2000, 2, 29, 0, 0, 0, i16::MIN)),
        Some(951_782_400_000)
    );
    // UTC+01:00 (deviation -60): local midnight is 23:00Z the day before.
    assert_eq!(
        unix_ms(&dt(2000, 2, 29, 0, 0, 0, -60)),
        Some(951_782_400_000 - 3_600_000)
    );
    let mut t = dt(2024, 1, 1, 0, 0, 0, 0);
    t.time.hundredths = 42;
    assert_eq!(unix_ms(&t), Some(1_704_067_200_420));
    assert_eq!(unix_ms(&dt(0xFFFF, 1, 1, 0, 0, 0, 0)), None);
    assert_eq!(unix_ms(&dt(2024, 0xFF, 1, 0, 0, 0, 0)), None);
    assert_eq!(unix_ms(&dt(2024, 1, 1, 0xFF, 0, 0, 0)), None);
}

#[test]
fn counts_in_a_register_with_a_scaler_are_whole_numbers() {
    let q = |m, s| {
        ReadValue::Quantity(Quantity {
            mantissa: m,
            scaler: s,
            unit: Unit::Count,
        })
    };
    assert_eq!(count(&q(7, 0)), Some(7));
    assert_eq!(count(&q(7, 1)), Some(70));
    assert_eq!(count(&q(7, -1)), None);
    assert_eq!(count(&ReadValue::Count(i128::from(u64::MAX) + 1)), None);
}
