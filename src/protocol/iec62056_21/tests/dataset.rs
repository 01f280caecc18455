//! Data set and data block parsing: ids of every shape, several values, empty values,
//! continuation lines, and the bounds.

use super::super::dataset::parse_lines;
use super::super::*;

fn id(s: &str) -> Option<DataId> {
    Some(DataId::new(s).unwrap())
}

fn v(value: &str, unit: Option<&str>) -> Value {
    Value::new(value, unit).unwrap()
}

fn parse(text: &[u8]) -> Result<Vec<DataSet>, MessageError> {
    parse_lines(text, 1, &Limits::default())
}

#[test]
fn id_shapes() {
    let text =
        b"1.8.0(001234.5*kWh)\r\n1-0:1.8.0*255(001234.5*kWh)\r\nC.87.0(0)\r\nF.F(00000000)\r\n";
    let sets = parse(text).unwrap();
    let ids: Vec<_> = sets.iter().map(|s| s.id.clone()).collect();
    assert_eq!(
        ids,
        vec![id("1.8.0"), id("1-0:1.8.0*255"), id("C.87.0"), id("F.F")]
    );
    // The '*' of the OBIS id is not a unit separator; the one inside the value is.
    assert_eq!(sets[1].values, vec![v("001234.5", Some("kWh"))]);
    assert_eq!(sets[2].values, vec![v("0", None)]);
}

#[test]
fn several_values_empty_values_and_continuations() {
    let text =
        b"P.01(2301011200)(00)(15)(1)(1.8.0)(kWh)\r\n(0.123)\r\n(0.456)(0.789)\r\n0.0.0()\r\n";
    let sets = parse(text).unwrap();
    assert_eq!(sets.len(), 4);
    assert_eq!(sets[0].id, id("P.01"));
    assert_eq!(sets[0].values.len(), 6);
    assert_eq!(sets[0].values[4], v("1.8.0", None));
    // Lines of values without id: continuations, kept in order.
    assert_eq!(
        sets[1],
        DataSet {
            id: None,
            values: vec![v("0.123", None)]
        }
    );
    assert_eq!(sets[2].values, vec![v("0.456", None), v("0.789", None)]);
    // ID(): one empty value.
    assert_eq!(
        sets[3],
        DataSet {
            id: id("0.0.0"),
            values: vec![v("", None)]
        }
    );
}

#[test]
fn several_sets_on_a_line_and_lenient_line_ends() {
    let sets = parse(b"1.8.1(1*kWh)1.8.2(2*kWh)\n1.8.3(3)").unwrap();
    let ids: Vec<_> = sets.iter().map(|s| s.id.clone()).collect();
    assert_eq!(ids, vec![id("1.8.1"), id("1.8.2"), id("1.8.3")]);
    assert_eq!(sets[1].value(), Some(&v("2", Some("kWh"))));
}

#[test]
fn malformed_lines() {
    assert_eq!(parse(b"1.8.0\r\n"), Err(MessageError::NoValues));
    assert_eq!(
        parse(b"1.8.0(12\r\n"),
        Err(MessageError::Truncated { needed: 10, got: 9 })
    );
    assert_eq!(
        parse(b"1.8.0(1(2)\r\n"),
        Err(MessageError::InvalidChar {
            field: Field::Value,
            at: 8,
            byte: b'('
        })
    );
    assert_eq!(
        parse(b"1/8(1)\r\n"),
        Err(MessageError::InvalidChar {
            field: Field::DataId,
            at: 2,
            byte: b'/'
        })
    );
    assert_eq!(
        parse(b"1.8.0(1*k\x01)\r\n"),
        Err(MessageError::InvalidChar {
            field: Field::Unit,
            at: 10,
            byte: 0x01
        })
    );
}

#[test]
fn bounds_are_enforced() {
    let limits = Limits {
        max_data_sets: 2,
        ..Limits::default()
    };
    assert_eq!(
        parse_lines(b"a(1)\r\nb(2)\r\nc(3)\r\n", 0, &limits),
        Err(MessageError::TooManyDataSets { max: 2 })
    );
    let limits = Limits {
        max_line_len: 8,
        ..Limits::default()
    };
    assert!(parse_lines(b"a(123)\r\n", 0, &limits).is_ok()); // 6 + CR LF
    assert_eq!(
        parse_lines(b"a(1234)\r\n", 0, &limits),
        Err(MessageError::TooLong {
            field: Field::Line,
            len: 9,
            max: 8
        })
    );
    let limits = Limits {
        max_block_len: 10,
        ..Limits::default()
    };
    let msg = DataMessage {
        data_sets: vec![DataSet::single(
            DataId::new("1.8.0").unwrap(),
            v("12345", None),
        )],
    };
    let bytes = msg.to_vec().unwrap();
    assert!(matches!(
        DataMessage::parse(&bytes, &limits, BccPolicy::Strict),
        Err(MessageError::TooLong {
            field: Field::DataBlock,
            ..
        })
    ));
}
