//! Pure COSEM conversions: shapes from the Blue Book, and the shapes they must refuse.

use super::*;
use crate::protocol::apdu::CaptureObject;
use crate::protocol::units::Unit;

fn su(scaler: i8, unit: u8) -> Data {
    Data::Structure(vec![Data::Integer(scaler), Data::Enum(unit)])
}

#[test]
fn register_values_are_exact() {
    let m = register_value(&Data::DoubleLongUnsigned(123_456), &su(-2, 30)).unwrap();
    assert_eq!(m.to_string(), "1234.56 Wh");
    let Measurement::Exact(q) = m else {
        panic!("{m:?}")
    };
    assert_eq!(
        (q.mantissa, q.scaler, q.unit),
        (123_456, -2, Unit::WattHour)
    );
    let m = register_value(&Data::Long(-5), &su(1, 27)).unwrap();
    assert_eq!(m.to_string(), "-50 W");
}

#[test]
fn float_registers_are_scaled_and_marked() {
    let m = register_value(&Data::Float32(1.5), &su(3, 27)).unwrap();
    assert_eq!(
        m,
        Measurement::Float {
            value: 1500.0,
            unit: Unit::Watt
        }
    );
}

#[test]
fn malformed_register_parts_are_refused() {
    assert!(matches!(
        register_value(&Data::OctetString(b"12".to_vec()), &su(0, 30)),
        Err(ItemError::BadValue { .. })
    ));
    assert!(matches!(
        register_value(&Data::Unsigned(1), &Data::Enum(30)),
        Err(ItemError::BadValue { .. })
    ));
}

#[test]
fn disconnect_control_states() {
    assert_eq!(
        ControlState::from_data(&Data::Enum(0)).unwrap(),
        ControlState::Disconnected
    );
    assert_eq!(
        ControlState::from_data(&Data::Enum(2)).unwrap(),
        ControlState::ReadyForReconnection
    );
    assert_eq!(
        ControlState::from_data(&Data::Enum(9)).unwrap(),
        ControlState::Unknown(9)
    );
    assert!(ControlState::from_data(&Data::Boolean(true)).is_err());
    assert!(output_state(&Data::Boolean(true)).unwrap());
    assert!(output_state(&Data::Enum(1)).is_err());
}

#[test]
fn clock_time_as_octet_string_or_date_time() {
    let bytes = [0x07, 0xEA, 3, 14, 6, 12, 30, 5, 0, 0x00, 0x00, 0x00];
    let dt = date_time(&Data::OctetString(bytes.to_vec())).unwrap();
    assert_eq!((dt.date.year, dt.time.minute), (2026, 30));
    assert_eq!(date_time(&Data::DateTime(dt)).unwrap(), dt);
    assert!(date_time(&Data::OctetString(vec![1, 2, 3])).is_err());
}

#[test]
fn monitored_register_of_a_limiter() {
    let def = Data::Structure(vec![
        Data::LongUnsigned(3),
        Data::OctetString(vec![1, 0, 1, 7, 0, 255]),
        Data::Integer(2),
    ]);
    let r = monitored_register(&def).unwrap();
    assert_eq!(r.to_string(), "3:1.0.1.7.0.255:2");
    let data_obj = Data::Structure(vec![
        Data::LongUnsigned(1),
        Data::OctetString(vec![1, 0, 1, 7, 0, 255]),
        Data::Integer(2),
    ]);
    assert_eq!(monitored_register(&data_obj), None);
}

fn element(class: u16, ln: [u8; 6], attrs: Vec<Data>, methods: Vec<Data>) -> Data {
    Data::Structure(vec![
        Data::LongUnsigned(class),
        Data::Unsigned(0),
        Data::OctetString(ln.to_vec()),
        Data::Structure(vec![Data::Array(attrs), Data::Array(methods)]),
    ])
}

fn attr_item(id: i8, mode: u8, selectors: Data) -> Data {
    Data::Structure(vec![Data::Integer(id), Data::Enum(mode), selectors])
}

#[test]
fn object_list_parses_access_rights() {
    let list = Data::Array(vec![
        element(
            3,
            [1, 0, 1, 8, 0, 255],
            vec![
                attr_item(1, 1, Data::NullData),
                attr_item(2, 1, Data::NullData),
                attr_item(3, 1, Data::NullData),
            ],
            vec![Data::Structure(vec![Data::Integer(1), Data::Boolean(true)])],
        ),
        element(
            7,
            [0, 0, 99, 98, 0, 255],
            vec![attr_item(
                2,
                1,
                Data::Array(vec![Data::Integer(1), Data::Integer(2)]),
            )],
            vec![Data::Structure(vec![Data::Integer(1), Data::Enum(2)])],
        ),
    ]);
    let entries = parse_object_list(&list).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].class_id, 3);
    assert_eq!(entries[0].obis.to_string(), "1.0.1.8.0.255");
    assert_eq!(entries[0].attributes.len(), 3);
    assert!(entries[0].attributes[1].readable());
    assert!(!entries[0].attributes[1].writable());
    assert_eq!(entries[0].methods[0].access_mode, 1);
    assert_eq!(entries[1].attributes[0].selectors, vec![1, 2]);
    assert_eq!(entries[1].methods[0].access_mode, 2);
}

#[test]
fn object_list_refuses_a_wrong_shape() {
    assert!(parse_object_list(&Data::Structure(vec![])).is_err());
    let short = Data::Array(vec![Data::Structure(vec![Data::LongUnsigned(3)])]);
    assert!(parse_object_list(&short).is_err());
    let bad_ln = Data::Array(vec![element(3, [0; 6], vec![], vec![])]);
    assert!(parse_object_list(&bad_ln).is_ok());
    let Data::Array(mut v) = bad_ln else {
        unreachable!()
    };
    if let Data::Structure(fields) = &mut v[0] {
        fields[2] = Data::OctetString(vec![1, 2]);
    }
    assert!(parse_object_list(&Data::Array(v)).is_err());
}

fn capture(class: u16, ln: [u8; 6], attribute: i8) -> CaptureObject {
    CaptureObject {
        class_id: class,
        logical_name: ObisCode(ln),
        attribute_index: attribute,
        data_index: 0,
    }
}

#[test]
fn event_columns_are_looked_up_not_assumed() {
    // Code first, clock second: the order some companion specs use.
    let cols = [
        capture(1, [0, 0, 96, 11, 1, 255], 2),
        capture(8, [0, 0, 1, 0, 0, 255], 2),
    ];
    assert_eq!(find_columns(&cols), Some(EventColumns { time: 1, code: 0 }));
    // An event code object is preferred over another Data column.
    let cols = [
        capture(8, [0, 0, 1, 0, 0, 255], 2),
        capture(1, [0, 0, 96, 1, 0, 255], 2),
        capture(1, [0, 0, 96, 11, 0, 255], 2),
    ];
    assert_eq!(find_columns(&cols), Some(EventColumns { time: 0, code: 2 }));
    // No clock column: no event times.
    assert_eq!(find_columns(&[capture(1, [0, 0, 96, 11, 0, 255], 2)]), None);
}

#[test]
fn capture_objects_and_buffer_rows() {
    let d = Data::Array(vec![
        capture(8, [0, 0, 1, 0, 0, 255], 2).to_data(),
        capture(1, [0, 0, 96, 11, 0, 255], 2).to_data(),
    ]);
    let cols = parse_capture_objects(&d).unwrap();
    assert_eq!(cols[1].logical_name.to_string(), "0.0.96.11.0.255");
    let rows = parse_buffer(&Data::Array(vec![Data::Structure(vec![
        Data::NullData,
        Data::Unsigned(1),
    ])]))
    .unwrap();
    assert_eq!(rows, vec![vec![Data::NullData, Data::Unsigned(1)]]);
    assert!(parse_buffer(&Data::Array(vec![Data::Unsigned(1)])).is_err());
    assert!(parse_capture_objects(&Data::Array(vec![Data::Unsigned(1)])).is_err());
}
