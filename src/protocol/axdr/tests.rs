//! Byte-exact vectors and property tests for the A-XDR codec.

use super::*;
use proptest::prelude::*;

fn decode(bytes: &[u8]) -> Result<(Data, usize), AxdrError> {
    Data::decode(bytes, &Limits::default())
}

/// Decode `bytes` completely and check that encoding gives the same bytes back.
fn round_trip(bytes: &[u8], expected: Data) {
    assert_eq!(decode(bytes), Ok((expected.clone(), bytes.len())));
    assert_eq!(expected.encoded_len(), bytes.len());
    assert_eq!(expected.to_bytes(), bytes);
}

#[test]
fn register_value_double_long_unsigned() {
    // Also produced by gurux-dlms 1.0.203 (`_GXCommon.setData(UINT32, 0x1234)`).
    #[rustfmt::skip]
    let bytes = [
        0x06,                   // double-long-unsigned
        0x00, 0x00, 0x12, 0x34, // 4660
    ];
    round_trip(&bytes, Data::DoubleLongUnsigned(0x1234));
}

#[test]
fn scaler_unit_structure() {
    // Decoded as [-2, 30] by gurux-dlms 1.0.203.
    #[rustfmt::skip]
    let bytes = [
        0x02, 0x02, // structure, 2 elements
        0x0F, 0xFE, //   integer -2 (scaler)
        0x16, 0x1E, //   enum 30 (unit Wh)
    ];
    round_trip(
        &bytes,
        Data::Structure(vec![Data::Integer(-2), Data::Enum(30)]),
    );
}

#[test]
fn every_fixed_size_type() {
    #[rustfmt::skip]
    let cases: Vec<(Vec<u8>, Data)> = vec![
        (vec![0x00], Data::NullData),
        (vec![0xFF], Data::DontCare),
        (vec![0x03, 0x01], Data::Boolean(true)),
        (vec![0x03, 0x00], Data::Boolean(false)),
        (vec![0x05, 0xFF, 0xFF, 0xFF, 0xFE], Data::DoubleLong(-2)),
        (vec![0x0D, 0x42], Data::Bcd(0x42)),
        (vec![0x0F, 0x80], Data::Integer(-128)),
        (vec![0x10, 0x80, 0x00], Data::Long(i16::MIN)),
        (vec![0x11, 0xFF], Data::Unsigned(255)),
        (vec![0x12, 0xAB, 0xCD], Data::LongUnsigned(0xABCD)),
        // long64 -2 and long64-unsigned max: same bytes from gurux-dlms 1.0.203.
        (vec![0x14, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE], Data::Long64(-2)),
        (vec![0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], Data::Long64Unsigned(u64::MAX)),
        (vec![0x16, 0x03], Data::Enum(3)),
        // float32 1.5 and float64 -2.25: same bytes from gurux-dlms 1.0.203.
        (vec![0x17, 0x3F, 0xC0, 0x00, 0x00], Data::Float32(1.5)),
        (vec![0x18, 0xC0, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], Data::Float64(-2.25)),
        (vec![0x1A, 0x07, 0xE8, 0x03, 0x0F, 0xFF], Data::Date(Date { year: 2024, month: 3, day_of_month: 15, day_of_week: 0xFF })),
        (vec![0x1B, 0x17, 0x3B, 0x3B, 0x63], Data::Time(Time { hour: 23, minute: 59, second: 59, hundredths: 99 })),
    ];
    for (bytes, data) in cases {
        round_trip(&bytes, data);
    }
}

#[test]
fn non_zero_boolean_is_true() {
    assert_eq!(decode(&[0x03, 0x02]), Ok((Data::Boolean(true), 2)));
}

#[test]
fn date_time_clock_value() {
    // gurux-dlms 1.0.203 decodes this as 2024-03-15 11:30:05 UTC, the same instant.
    #[rustfmt::skip]
    let bytes = [
        0x19,                         // date-time
        0x07, 0xE8, 0x03, 0x0F, 0x05, // 2024-03-15, Friday
        0x0C, 0x1E, 0x05, 0x00,       // 12:30:05.00
        0xFF, 0xC4,                   // deviation -60 (UTC+01:00)
        0x00,                         // clock status
    ];
    let (data, _) = decode(&bytes).unwrap();
    let dt = data.as_date_time().unwrap();
    assert_eq!(dt.to_string(), "2024-03-15T12:30:05.00+01:00");
    round_trip(&bytes, data);
    // The same 12 bytes as an octet-string (how most meters send Clock.time).
    let mut octet = vec![0x09, 0x0C];
    octet.extend_from_slice(&bytes[1..]);
    assert_eq!(decode(&octet).unwrap().0.as_date_time(), Some(dt));
}

#[test]
fn strings_short_and_long_form_lengths() {
    // visible-string "ABC" and utf8-string "é": same bytes from gurux-dlms 1.0.203.
    round_trip(
        &[0x0A, 0x03, b'A', b'B', b'C'],
        Data::VisibleString(b"ABC".to_vec()),
    );
    round_trip(
        &[0x0C, 0x02, 0xC3, 0xA9],
        Data::Utf8String("é".as_bytes().to_vec()),
    );
    #[rustfmt::skip]
    let obis = [
        0x09, 0x06,                         // octet-string, 6 bytes
        0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, // 1.0.1.8.0.255
    ];
    round_trip(&obis, Data::OctetString(vec![1, 0, 1, 8, 0, 255]));
    // 130 bytes need the long form 0x81 0x82 (gurux-dlms 1.0.203 emits the same prefix).
    let body: Vec<u8> = (0..130).collect();
    let mut long = vec![0x09, 0x81, 0x82];
    long.extend_from_slice(&body);
    round_trip(&long, Data::OctetString(body));
}

#[test]
fn bit_string_counts_bits() {
    // Decoded as "1100000001" by gurux-dlms 1.0.203.
    #[rustfmt::skip]
    let bytes = [
        0x04,       // bit-string
        0x0A,       // 10 bits
        0xC0, 0x40, // 1100 0000 01.. ....
    ];
    let expected = BitString::from_bits(&[
        true, true, false, false, false, false, false, false, false, true,
    ]);
    assert_eq!(expected.get(9), Some(true));
    assert_eq!(expected.get(10), None);
    round_trip(&bytes, Data::BitString(expected));
    assert_eq!(BitString::new(vec![0xC0], 10), None);
}

#[test]
fn profile_buffer_array_of_structures() {
    #[rustfmt::skip]
    let bytes = [
        0x01, 0x02,                         // array, 2 entries
        0x02, 0x02,                         //   structure, 2 fields
        0x12, 0x00, 0x01,                   //     long-unsigned 1
        0x06, 0x00, 0x00, 0x00, 0x02,       //     double-long-unsigned 2
        0x02, 0x02,                         //   structure, 2 fields
        0x12, 0x00, 0x03,                   //     long-unsigned 3
        0x06, 0x00, 0x00, 0x00, 0x04,       //     double-long-unsigned 4
    ];
    let row = |a, b| Data::Structure(vec![Data::LongUnsigned(a), Data::DoubleLongUnsigned(b)]);
    round_trip(&bytes, Data::Array(vec![row(1, 2), row(3, 4)]));
}

#[test]
fn compact_array_of_structures() {
    // gurux-dlms 1.0.203 decodes this as [[1, 2], [3, 4]].
    #[rustfmt::skip]
    let bytes = [
        0x13,                   // compact-array
        0x02, 0x02, 0x12, 0x06, //   description: structure { long-unsigned, double-long-unsigned }
        0x0C,                   //   contents: 12 bytes
        0x00, 0x01, 0x00, 0x00, 0x00, 0x02, // row 1: 1, 2
        0x00, 0x03, 0x00, 0x00, 0x00, 0x04, // row 2: 3, 4
    ];
    let desc = TypeDescription::Structure(vec![
        TypeDescription::Simple(DataType::LongUnsigned),
        TypeDescription::Simple(DataType::DoubleLongUnsigned),
    ]);
    let row = |a, b| Data::Structure(vec![Data::LongUnsigned(a), Data::DoubleLongUnsigned(b)]);
    let ca = CompactArray::new(desc, &[row(1, 2), row(3, 4)]).unwrap();
    assert_eq!(
        ca.elements(&Limits::default()),
        Ok(vec![row(1, 2), row(3, 4)])
    );
    round_trip(&bytes, Data::CompactArray(ca));
}

#[test]
fn compact_array_refusals() {
    // Contents end in the middle of a row.
    assert_eq!(
        decode(&[0x13, 0x12, 0x03, 0x00, 0x01, 0x00]),
        Err(AxdrError::Truncated {
            needed: 2,
            available: 1
        })
    );
    // A compact-array cannot describe compact-arrays.
    assert_eq!(
        decode(&[0x13, 0x13, 0x00]),
        Err(AxdrError::InvalidTypeDescription(0x13))
    );
    // Zero-size elements cannot fill non-empty contents.
    assert_eq!(
        decode(&[0x13, 0x00, 0x01, 0xAA]),
        Err(AxdrError::InvalidTypeDescription(0x00))
    );
    // A value that does not match the description.
    assert_eq!(
        CompactArray::new(
            TypeDescription::Simple(DataType::LongUnsigned),
            &[Data::Unsigned(1)]
        ),
        Err(AxdrError::TypeMismatch {
            expected: 0x12,
            found: 0x11
        })
    );
}

#[test]
fn errors_are_typed() {
    assert_eq!(
        decode(&[]),
        Err(AxdrError::Truncated {
            needed: 1,
            available: 0
        })
    );
    assert_eq!(decode(&[0x07]), Err(AxdrError::UnknownTag(0x07)));
    assert_eq!(
        decode(&[0x06, 0x00, 0x01]),
        Err(AxdrError::Truncated {
            needed: 4,
            available: 2
        })
    );
    assert_eq!(
        decode(&[0x09, 0x05, 0x01]),
        Err(AxdrError::Truncated {
            needed: 5,
            available: 1
        })
    );
    assert_eq!(decode(&[0x09, 0x80]), Err(AxdrError::InvalidLength(0x80)));
    assert_eq!(
        decode(&[0x09, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
        Err(AxdrError::LengthTooLarge {
            declared: 0xFFFF_FFFF,
            limit: 1 << 20
        })
    );
    // An array declaring 2^32-1 elements is refused before any allocation.
    assert_eq!(
        decode(&[0x01, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
        Err(AxdrError::TooManyElements { max: 65_536 })
    );
}

#[test]
fn limits_are_enforced() {
    let nested: Vec<u8> = [0x01, 0x01].repeat(20).into_iter().chain([0x00]).collect();
    assert_eq!(decode(&nested), Err(AxdrError::TooDeep { max: 16 }));
    let tight = Limits {
        max_depth: 2,
        max_elements: 3,
        max_total_bytes: 8,
    };
    // Depth 2 is allowed, depth 3 is not.
    assert!(Data::decode(&[0x01, 0x01, 0x00], &tight).is_ok());
    assert_eq!(
        Data::decode(&[0x01, 0x01, 0x01, 0x01, 0x00], &tight),
        Err(AxdrError::TooDeep { max: 2 })
    );
    // Root + 2 children = 3 nodes is allowed; 3 children is not.
    assert!(Data::decode(&[0x02, 0x02, 0x00, 0x00], &tight).is_ok());
    assert_eq!(
        Data::decode(&[0x02, 0x03, 0x00, 0x00, 0x00], &tight),
        Err(AxdrError::TooManyElements { max: 3 })
    );
    // 8 bytes in total are allowed; 9 are not.
    assert!(Data::decode(&[0x09, 0x06, 1, 2, 3, 4, 5, 6], &tight).is_ok());
    assert_eq!(
        Data::decode(&[0x09, 0x07, 1, 2, 3, 4, 5, 6, 7], &tight),
        Err(AxdrError::TooLarge { limit: 8 })
    );
}

#[test]
fn decode_reports_consumed_length_and_ignores_trailing_bytes() {
    assert_eq!(
        decode(&[0x11, 0x05, 0xAA, 0xBB]),
        Ok((Data::Unsigned(5), 2))
    );
}

#[test]
fn data_type_table_is_sorted_and_consistent() {
    for w in DataType::ALL.windows(2) {
        assert!(w[0].tag() < w[1].tag());
    }
    for t in DataType::ALL {
        assert_eq!(DataType::from_tag(t.tag()), Some(t));
    }
    assert_eq!(DataType::from_tag(0x07), None);
}

#[test]
fn float_equality_is_bitwise() {
    assert_eq!(Data::Float32(f32::NAN), Data::Float32(f32::NAN));
    assert_ne!(Data::Float64(0.0), Data::Float64(-0.0));
    assert_ne!(Data::Unsigned(1), Data::Enum(1));
}

// ---- property tests ----

fn leaf() -> impl Strategy<Value = Data> {
    let date =
        (any::<u16>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(y, m, d, w)| Date {
            year: y,
            month: m,
            day_of_month: d,
            day_of_week: w,
        });
    let time = any::<[u8; 4]>().prop_map(Time::from_bytes);
    prop_oneof![
        Just(Data::NullData),
        Just(Data::DontCare),
        any::<bool>().prop_map(Data::Boolean),
        proptest::collection::vec(any::<bool>(), 0..40)
            .prop_map(|b| Data::BitString(BitString::from_bits(&b))),
        any::<i32>().prop_map(Data::DoubleLong),
        any::<u32>().prop_map(Data::DoubleLongUnsigned),
        proptest::collection::vec(any::<u8>(), 0..300).prop_map(Data::OctetString),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Data::VisibleString),
        proptest::collection::vec(any::<u8>(), 0..20).prop_map(Data::Utf8String),
        any::<u8>().prop_map(Data::Bcd),
        any::<i8>().prop_map(Data::Integer),
        any::<i16>().prop_map(Data::Long),
        any::<u8>().prop_map(Data::Unsigned),
        any::<u16>().prop_map(Data::LongUnsigned),
        any::<i64>().prop_map(Data::Long64),
        any::<u64>().prop_map(Data::Long64Unsigned),
        any::<u8>().prop_map(Data::Enum),
        any::<f32>().prop_map(Data::Float32),
        any::<f64>().prop_map(Data::Float64),
        any::<[u8; 12]>().prop_map(|b| Data::DateTime(DateTime::from_bytes(b))),
        date.prop_map(Data::Date),
        time.prop_map(Data::Time),
        proptest::collection::vec((any::<u16>(), any::<i32>()), 0..5).prop_map(|rows| {
            let desc = TypeDescription::Structure(vec![
                TypeDescription::Simple(DataType::LongUnsigned),
                TypeDescription::Simple(DataType::DoubleLong),
            ]);
            let rows: Vec<Data> = rows
                .into_iter()
                .map(|(a, b)| Data::Structure(vec![Data::LongUnsigned(a), Data::DoubleLong(b)]))
                .collect();
            Data::CompactArray(CompactArray::new(desc, &rows).expect("rows match description"))
        }),
    ]
}

pub(crate) fn any_data() -> impl Strategy<Value = Data> {
    leaf().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8).prop_map(Data::Array),
            proptest::collection::vec(inner, 0..8).prop_map(Data::Structure),
        ]
    })
}

proptest! {
    #[test]
    fn decode_inverts_encode(data in any_data()) {
        let bytes = data.to_bytes();
        prop_assert_eq!(bytes.len(), data.encoded_len());
        prop_assert_eq!(decode(&bytes), Ok((data, bytes.len())));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok((data, used)) = decode(&bytes) {
            prop_assert!(used <= bytes.len());
            // Whatever decodes re-encodes to something that decodes to the same value.
            let again = data.to_bytes();
            prop_assert_eq!(decode(&again), Ok((data, again.len())));
        }
    }

    #[test]
    fn structured_prefixes_never_panic(
        tag in prop_oneof![Just(0x01u8), Just(0x02), Just(0x04), Just(0x09), Just(0x13)],
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
    ) {
        let mut input = vec![tag];
        input.extend_from_slice(&bytes);
        let _ = decode(&input);
        let ca = CompactArray::from_parts(TypeDescription::Simple(DataType::LongUnsigned), bytes);
        let _ = ca.elements(&Limits::default());
    }

    #[test]
    fn every_strict_prefix_is_truncated(data in any_data()) {
        let bytes = data.to_bytes();
        for cut in 0..bytes.len() {
            let res = decode(&bytes[..cut]);
            prop_assert!(matches!(res, Err(AxdrError::Truncated { .. })), "cut {}: {:?}", cut, res);
        }
    }
}

// ---- differential test against the `dlms_cosem` 0.2.0 crate ----
//
// That crate panics (`unimplemented!`) on several types and reads octet-string and
// structure lengths as one byte, so it is only fed values of the types it supports, with
// lengths below 0x80 and in-range date/time fields (never arbitrary bytes).

fn supported_leaf() -> impl Strategy<Value = Data> {
    let date = (0u16..10_000, 1u8..=12, 1u8..=31, 1u8..=7).prop_map(|(y, m, d, w)| Date {
        year: y,
        month: m,
        day_of_month: d,
        day_of_week: w,
    });
    let time = (0u8..24, 0u8..60, 0u8..60, 0u8..100).prop_map(|(h, m, s, c)| Time {
        hour: h,
        minute: m,
        second: s,
        hundredths: c,
    });
    let deviation = prop_oneof![-720i16..0, 1i16..=720];
    prop_oneof![
        Just(Data::NullData),
        proptest::collection::vec(any::<u8>(), 0..0x80).prop_map(Data::OctetString),
        any::<i8>().prop_map(Data::Integer),
        any::<i16>().prop_map(Data::Long),
        any::<u16>().prop_map(Data::LongUnsigned),
        any::<i32>().prop_map(Data::DoubleLong),
        any::<u32>().prop_map(Data::DoubleLongUnsigned),
        any::<i64>().prop_map(Data::Long64),
        any::<u64>().prop_map(Data::Long64Unsigned),
        any::<u8>().prop_map(Data::Enum),
        any::<f32>()
            .prop_filter("NaN != NaN there", |f| !f.is_nan())
            .prop_map(Data::Float32),
        any::<f64>()
            .prop_filter("NaN != NaN there", |f| !f.is_nan())
            .prop_map(Data::Float64),
        date.clone().prop_map(Data::Date),
        time.clone().prop_map(Data::Time),
        (date, time, deviation, prop_oneof![Just(0u8), Just(0xFF)]).prop_map(|(d, t, dev, cs)| {
            Data::DateTime(DateTime {
                date: d,
                time: t,
                deviation: dev,
                clock_status: ClockStatus(cs),
            })
        }),
    ]
}

fn supported_data() -> impl Strategy<Value = Data> {
    supported_leaf().prop_recursive(3, 32, 6, |inner| {
        proptest::collection::vec(inner, 0..6).prop_map(Data::Structure)
    })
}

/// Compare our value with theirs; date types only expose `Display`, which for in-range
/// fields (and a non-zero deviation) has the same form as ours.
fn same_as_theirs(ours: &Data, theirs: &dlms_cosem::Data) -> bool {
    use dlms_cosem::Data as T;
    match (ours, theirs) {
        (Data::NullData, T::Null) => true,
        (Data::OctetString(a), T::OctetString(b)) => a == b,
        (Data::Integer(a), T::Integer(b)) => a == b,
        (Data::Long(a), T::Long(b)) => a == b,
        (Data::LongUnsigned(a), T::LongUnsigned(b)) => a == b,
        (Data::DoubleLong(a), T::DoubleLong(b)) => a == b,
        (Data::DoubleLongUnsigned(a), T::DoubleLongUnsigned(b)) => a == b,
        (Data::Long64(a), T::Long64(b)) => a == b,
        (Data::Long64Unsigned(a), T::Long64Unsigned(b)) => a == b,
        (Data::Enum(a), T::Enum(b)) => a == b,
        (Data::Float32(a), T::Float32(b)) => a.to_bits() == b.to_bits(),
        (Data::Float64(a), T::Float64(b)) => a.to_bits() == b.to_bits(),
        (Data::Date(a), T::Date(b)) => a.to_string() == b.to_string(),
        (Data::Time(a), T::Time(b)) => a.to_string() == b.to_string(),
        (Data::DateTime(a), T::DateTime(b)) => a.to_string() == b.to_string(),
        (Data::Structure(a), T::Structure(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_as_theirs(x, y))
        }
        _ => false,
    }
}

proptest! {
    #[test]
    fn agrees_with_dlms_cosem_crate(data in supported_data()) {
        let bytes = data.to_bytes();
        let (rest, theirs) = dlms_cosem::Data::parse(&bytes).expect("dlms_cosem parses it");
        prop_assert!(rest.is_empty());
        prop_assert!(same_as_theirs(&data, &theirs), "ours {:?} theirs {:?}", data, theirs);
    }
}
