//! BCD values, dates and times, and the catalogue.

use crate::codes::{ShortCode, SHORT_CODES};
use crate::protocol::dlt645::bcd::{self, decode_signed, decode_unsigned};
use crate::protocol::dlt645::catalog::{self, for_short_code, lookup};
use crate::protocol::dlt645::*;

#[test]
fn energy_xxxxxx_xx_in_four_bytes() {
    // 123456.78 kWh: LSB first 78 56 34 12.
    assert_eq!(
        decode_unsigned(&[0x78, 0x56, 0x34, 0x12], 2),
        Ok(Decimal::new(12345678, 2))
    );
    assert_eq!(Decimal::new(12345678, 2).to_string(), "123456.78");
}

#[test]
fn power_xx_xxxx_signed_in_three_bytes() {
    assert_eq!(
        decode_signed(&[0x56, 0x34, 0x12], 4),
        Ok(Decimal::new(123456, 4))
    );
    assert_eq!(
        decode_signed(&[0x56, 0x34, 0x92], 4),
        Ok(Decimal::new(-123456, 4))
    );
    assert_eq!(Decimal::new(-123456, 4).to_string(), "-12.3456");
}

#[test]
fn power_factor_x_xxx_in_two_bytes() {
    let f = ValueFormat::Bcd {
        len: 2,
        decimals: 3,
        signed: true,
    };
    assert_eq!(
        f.decode(&[0x50, 0x09]),
        Ok(Value::Number(Decimal::new(950, 3)))
    );
    assert_eq!(Decimal::new(950, 3).to_string(), "0.950");
    assert_eq!(
        f.decode(&[0x00, 0x90]),
        Ok(Value::Number(Decimal::new(-1000, 3)))
    );
}

#[test]
fn invalid_nibbles_are_typed_errors_naming_the_byte() {
    assert_eq!(
        decode_unsigned(&[0x12, 0x3A, 0x00], 0),
        Err(BcdError::InvalidDigit {
            index: 1,
            byte: 0x3A
        })
    );
    assert_eq!(
        decode_unsigned(&[0xF0], 0),
        Err(BcdError::InvalidDigit {
            index: 0,
            byte: 0xF0
        })
    );
    assert_eq!(
        decode_unsigned(&[0; 9], 0),
        Err(BcdError::TooWide { len: 9 })
    );
}

#[test]
fn encoding_is_exact_and_refuses_overflow_and_lost_digits() {
    assert_eq!(
        bcd::encode_unsigned(Decimal::new(958015, 2), 4, 2),
        Ok(vec![0x15, 0x80, 0x95, 0x00])
    );
    // Rescaled: 1.5 with 4 decimals is 1.5000.
    assert_eq!(
        bcd::encode_signed(Decimal::new(-15, 1), 3, 4),
        Ok(vec![0x00, 0x50, 0x81])
    );
    // 1.23 cannot be written with one decimal.
    assert!(bcd::encode_unsigned(Decimal::new(123, 2), 4, 1).is_err());
    // 100 does not fit one byte; 80 would collide with the sign bit.
    assert!(bcd::encode_unsigned(Decimal::new(100, 0), 1, 0).is_err());
    assert!(bcd::encode_signed(Decimal::new(80, 0), 1, 0).is_err());
    assert!(bcd::encode_unsigned(Decimal::new(-1, 0), 1, 0).is_err());
}

#[test]
fn date_time_fields() {
    // 2024-03-15 (Friday = 5) on the wire: WW DD MM YY.
    let d = MeterDate::decode(&[0x05, 0x15, 0x03, 0x24]).unwrap();
    assert_eq!(
        d,
        MeterDate {
            year: 24,
            month: 3,
            day: 15,
            weekday: 5
        }
    );
    assert_eq!(d.encode(), [0x05, 0x15, 0x03, 0x24]);
    let t = MeterTime::decode(&[0x59, 0x30, 0x23]).unwrap();
    assert_eq!((t.hour, t.minute, t.second), (23, 30, 59));
    assert_eq!(
        MeterTime::decode(&[0x60, 0x00, 0x00]),
        Err(BcdError::OutOfRange {
            field: "second",
            value: 60
        })
    );
    assert_eq!(
        MeterDate::decode(&[0x01, 0x15, 0x13, 0x24]),
        Err(BcdError::OutOfRange {
            field: "month",
            value: 13
        })
    );
    assert_eq!(
        MeterDateTime::decode(&[0; 5]),
        Err(BcdError::WrongLength {
            expected: 6,
            found: 5
        })
    );
}

#[test]
fn event_record_time_and_empty_records() {
    let f = ValueFormat::RecordStart { len: 12 };
    #[rustfmt::skip]
    let record = [
        0x00, 0x30, 0x08, 0x15, 0x03, 0x24, // start: 2024-03-15 08:30:00
        0x00, 0x45, 0x09, 0x15, 0x03, 0x24, // end: 09:45:00 (not decoded)
    ];
    let Value::EventTime(Some(t)) = f.decode(&record).unwrap() else {
        panic!("no time");
    };
    assert_eq!(t.to_string(), "2024-03-15T08:30:00");
    assert_eq!(f.decode(&[0; 12]), Ok(Value::EventTime(None)));
    assert!(f.decode(&record[..11]).is_err());
    assert_eq!(
        f.encode(&Value::EventTime(Some(t))).unwrap()[..6],
        record[..6]
    );
    assert_eq!(f.encode(&Value::EventTime(None)).unwrap(), vec![0; 12]);
}

#[test]
fn encode_refuses_a_value_of_another_kind() {
    let f = ValueFormat::Date;
    let v = Value::Number(Decimal::new(1, 0));
    assert_eq!(
        f.encode(&v),
        Err(ValueError::Mismatch {
            format: f,
            value: v
        })
    );
}

#[test]
fn catalogue_is_sorted_and_unique() {
    for pair in CATALOG.windows(2) {
        assert!(
            pair[0].di < pair[1].di,
            "{:?} !< {:?}",
            pair[0].di,
            pair[1].di
        );
    }
}

#[test]
fn catalogue_short_codes_exist_in_the_lookup_core() {
    for e in CATALOG {
        if let Some(code) = e.short_code {
            assert!(
                code.entry().is_some(),
                "{} answers unknown short code {code}",
                e.di
            );
        }
    }
}

#[test]
fn required_identifiers_are_where_the_brief_says() {
    let cases: &[(u8, Version, DataId)] = &[
        (1, Version::V2007, DataId::v2007([0x00, 0x01, 0x00, 0x00])),
        (1, Version::V1997, DataId::v1997([0x90, 0x10])),
        (31, Version::V2007, DataId::v2007([0x02, 0x03, 0x00, 0x00])),
        (31, Version::V1997, DataId::v1997([0xB6, 0x30])),
        (35, Version::V2007, DataId::v2007([0x02, 0x06, 0x00, 0x00])),
        (35, Version::V1997, DataId::v1997([0xB6, 0x50])),
        (40, Version::V2007, DataId::v2007([0x03, 0x30, 0x0D, 0x00])),
        (41, Version::V2007, DataId::v2007([0x03, 0x30, 0x0D, 0x01])),
        (45, Version::V2007, DataId::v2007([0x03, 0x30, 0x0D, 0x05])),
        (52, Version::V2007, DataId::v2007([0x03, 0x11, 0x00, 0x00])),
        (53, Version::V2007, DataId::v2007([0x03, 0x11, 0x00, 0x01])),
        (57, Version::V2007, DataId::v2007([0x03, 0x11, 0x00, 0x05])),
    ];
    for (code, v, di) in cases {
        let e = for_short_code(ShortCode(*code), *v).unwrap();
        assert_eq!(e.di, *di, "short code {code}");
        assert_eq!(e.provenance, Provenance::Standard);
    }
    for di in [
        DataId::v2007([0x04, 0x00, 0x04, 0x01]),
        DataId::v2007([0x04, 0x00, 0x01, 0x01]),
        DataId::v2007([0x04, 0x00, 0x01, 0x02]),
        DataId::v1997([0xC0, 0x10]),
        DataId::v1997([0xC0, 0x11]),
    ] {
        assert!(lookup(di).is_some(), "{di}");
    }
    for di in [
        calin::CREDIT_RELAY,
        calin::RUNNING_STATUS,
        calin::STATUS_REPORT,
    ] {
        let e = lookup(di).unwrap();
        assert_eq!(e.provenance, Provenance::ObservedInPublicCode);
        assert_eq!(e.confidence, Confidence::Unsure);
    }
}

#[test]
fn every_short_code_with_a_value_kind_matches_its_catalogue_format() {
    use crate::codes::ValueKind;
    for e in CATALOG {
        let Some(code) = e.short_code else { continue };
        let kind = SHORT_CODES.iter().find(|s| s.code == code.0).unwrap().kind;
        let fits = match (kind, e.format) {
            (ValueKind::Energy, ValueFormat::Bcd { decimals: 2, .. }) => e.unit == "kWh",
            (ValueKind::Power, ValueFormat::Bcd { decimals: 4, .. }) => e.unit == "kW",
            (ValueKind::PowerFactor, ValueFormat::Bcd { decimals: 3, .. }) => true,
            (ValueKind::Count, ValueFormat::Bcd { decimals: 0, .. }) => true,
            (ValueKind::Timestamp, ValueFormat::RecordStart { .. }) => true,
            (ValueKind::RelayReason, ValueFormat::CalinRunningStatus) => true,
            _ => false,
        };
        assert!(fits, "{} ({}) does not fit {kind:?}", e.di, e.name);
    }
}

#[test]
fn every_catalogue_format_round_trips_a_sample() {
    for e in catalog::CATALOG {
        let sample = match e.format {
            ValueFormat::Bcd { len, .. } => vec![0x01; usize::from(len)],
            ValueFormat::Date => vec![0x01, 0x01, 0x01, 0x24],
            ValueFormat::Time => vec![0x01, 0x01, 0x01],
            ValueFormat::DateTime => vec![0x01, 0x01, 0x01, 0x01, 0x01, 0x24],
            ValueFormat::RecordStart { len } => {
                let mut r = vec![0x01, 0x01, 0x01, 0x01, 0x01, 0x24];
                r.resize(usize::from(len).max(6), 0);
                r
            }
            ValueFormat::Address => vec![0x01; 6],
            ValueFormat::CalinCreditRelay => vec![0x00, 0x50, 0x00, 0x00, 0x00],
            ValueFormat::CalinRunningStatus => vec![0x08],
            ValueFormat::CalinStatusWord => vec![0x02, 0x00],
        };
        let v = e.decode(&sample).unwrap();
        assert_eq!(e.format.encode(&v).unwrap(), sample, "{}", e.di);
    }
}

#[test]
fn values_display_for_people() {
    let d = MeterDate::decode(&[0x05, 0x15, 0x03, 0x24]).unwrap();
    assert_eq!(Value::Date(d).to_string(), "2024-03-15");
    let t = MeterTime::decode(&[0x00, 0x30, 0x08]).unwrap();
    assert_eq!(Value::Time(t).to_string(), "08:30:00");
    assert_eq!(Value::EventTime(None).to_string(), "none");
    assert_eq!(Value::Number(Decimal::new(7, 0)).to_string(), "7");
    assert_eq!(Value::Number(Decimal::new(-5, 3)).to_string(), "-0.005");
    let r = RunningStatus { sub_code: 8 };
    assert_eq!(Value::RunningStatus(r).to_string(), "status 1008");
}
