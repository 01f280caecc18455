//! Object model answers: values, refusals, access rights, selective access, object list.

use super::*;
use crate::protocol::apdu::Conformance;
use crate::protocol::axdr::DateTime;
use crate::protocol::units::Unit;

const SERIAL: ObisCode = ObisCode::new(0, 0, 96, 1, 0, 255);
const ENERGY: ObisCode = ObisCode::new(1, 0, 1, 8, 0, 255);
const POWER: ObisCode = ObisCode::new(1, 0, 1, 7, 0, 255);
const LOG: ObisCode = ObisCode::new(0, 0, 99, 98, 1, 255);
const EVENT_CODE: ObisCode = ObisCode::new(0, 0, 96, 11, 1, 255);
const CLOCK: ObisCode = ObisCode::new(0, 0, 1, 0, 0, 255);
const RELAY: ObisCode = ObisCode::new(0, 0, 96, 3, 10, 255);
const LIMITER: ObisCode = ObisCode::new(0, 0, 17, 0, 0, 255);

fn t(s: &str) -> LocalTime {
    LocalTime::parse(s).unwrap()
}

fn stamp(s: &str) -> Data {
    Data::OctetString(t(s).to_date_time().to_bytes().to_vec())
}

fn store() -> ObjectStore {
    let mut s = ObjectStore::new();
    s.insert(
        SERIAL,
        CosemObject::Data(Data::OctetString(b"4700".to_vec())),
    );
    s.mark_public(SERIAL);
    s.insert(
        ENERGY,
        CosemObject::Register {
            value: Data::DoubleLongUnsigned(1234),
            scaler_unit: ScalerUnit {
                scaler: 1,
                unit: Unit::WattHour,
            },
        },
    );
    s.insert(EVENT_CODE, CosemObject::Data(Data::Unsigned(44)));
    let columns = vec![
        CaptureDef {
            class_id: CLASS_CLOCK,
            obis: CLOCK,
            attribute: 2,
            data_index: 0,
        },
        CaptureDef {
            class_id: CLASS_DATA,
            obis: EVENT_CODE,
            attribute: 2,
            data_index: 0,
        },
    ];
    let mut pg = ProfileGeneric {
        capture_objects: columns,
        buffer: Vec::new(),
        capture_period: 0,
        max_entries: 3,
    };
    for (time, code) in [
        ("2024-01-01T00:00:00Z", 40),
        ("2024-02-01T00:00:00Z", 44),
        ("2024-03-01T00:00:00Z", 45),
        ("2024-04-01T00:00:00Z", 44),
    ] {
        pg.push(vec![stamp(time), Data::Unsigned(code)]);
    }
    s.insert(LOG, CosemObject::ProfileGeneric(pg));
    s.insert(CLOCK, CosemObject::Clock { offset_secs: 0 });
    s.mark_public(CLOCK);
    s.insert(
        RELAY,
        CosemObject::DisconnectControl {
            output_state: true,
            control_state: 1,
            control_mode: 1,
        },
    );
    s.insert(
        LIMITER,
        CosemObject::Limiter(Limiter {
            monitored: (3, POWER, 2),
            threshold_active: Data::DoubleLongUnsigned(5000),
            threshold_normal: Data::DoubleLongUnsigned(5000),
            threshold_emergency: Data::DoubleLongUnsigned(8000),
            min_over_threshold_duration: 60,
            min_under_threshold_duration: 30,
        }),
    );
    s
}

fn assoc(level: Level) -> AssociationInfo {
    AssociationInfo {
        client_sap: 1,
        server_sap: 1,
        level,
        lls: level == Level::Operator,
        conformance: Conformance::from_bits(0x00_1C_1F),
        client_max_pdu: 256,
        server_max_pdu: 512,
    }
}

const OPERATOR: Level = Level::Operator;
const PUBLIC_ALL: Level = Level::Public { restricted: false };
const PUBLIC_ID: Level = Level::Public { restricted: true };

fn get_as(
    s: &ObjectStore,
    level: Level,
    class: u16,
    obis: ObisCode,
    attr: i8,
    sel: Option<Selection<'_>>,
) -> Result<Data, Refusal> {
    let a = assoc(level);
    let cx = Context {
        base_time: t("2024-05-01T08:00:00Z"),
        association: &a,
    };
    s.get(class, &obis, attr, sel, &cx)
}

fn get(class: u16, obis: ObisCode, attr: i8) -> Result<Data, Refusal> {
    get_as(&store(), OPERATOR, class, obis, attr, None)
}

#[test]
fn every_object_answers_its_logical_name() {
    let s = store();
    for (obis, object) in s.iter() {
        for level in [OPERATOR, PUBLIC_ALL, PUBLIC_ID] {
            assert_eq!(
                get_as(&s, level, object.class_id(), *obis, 1, None),
                Ok(Data::OctetString(obis.0.to_vec())),
                "{obis}"
            );
        }
    }
}

#[test]
fn registers_answer_value_and_scaler_unit() {
    assert_eq!(get(3, ENERGY, 2), Ok(Data::DoubleLongUnsigned(1234)));
    assert_eq!(
        get(3, ENERGY, 3),
        Ok(Data::Structure(vec![Data::Integer(1), Data::Enum(30)]))
    );
    assert_eq!(get(1, SERIAL, 2), Ok(Data::OctetString(b"4700".to_vec())));
}

#[test]
fn refusals_carry_the_right_reason() {
    let unknown = ObisCode::new(1, 0, 99, 99, 0, 255);
    assert_eq!(get(3, unknown, 2), Err(Refusal::ObjectUndefined));
    assert_eq!(get(1, ENERGY, 2), Err(Refusal::ClassInconsistent));
    assert_eq!(get(3, ENERGY, 4), Err(Refusal::AttributeUndefined));
    assert_eq!(get(3, ENERGY, 0), Err(Refusal::AttributeUndefined));
    assert_eq!(get(15, CURRENT_ASSOCIATION, 7), Err(Refusal::Denied));
    let entry = Data::Structure(vec![
        Data::DoubleLongUnsigned(1),
        Data::DoubleLongUnsigned(0),
        Data::LongUnsigned(1),
        Data::LongUnsigned(0),
    ]);
    let sel = |selector| {
        Some(Selection {
            selector,
            parameters: &entry,
        })
    };
    assert_eq!(
        get_as(&store(), OPERATOR, 3, ENERGY, 2, sel(2)),
        Err(Refusal::SelectionUnsupported)
    );
    assert_eq!(
        get_as(&store(), OPERATOR, 7, LOG, 3, sel(2)),
        Err(Refusal::SelectionUnsupported)
    );
    assert_eq!(
        get_as(&store(), OPERATOR, 7, LOG, 2, sel(3)),
        Err(Refusal::SelectionUnsupported)
    );
    let bad = Data::Structure(vec![Data::Unsigned(1)]);
    let bad_sel = Some(Selection {
        selector: 2,
        parameters: &bad,
    });
    assert_eq!(
        get_as(&store(), OPERATOR, 7, LOG, 2, bad_sel),
        Err(Refusal::BadSelection)
    );
}

#[test]
fn restricted_public_client_reads_identity_only() {
    let s = store();
    assert_eq!(
        get_as(&s, PUBLIC_ID, 3, ENERGY, 2, None),
        Err(Refusal::Denied)
    );
    assert!(get_as(&s, PUBLIC_ID, 1, SERIAL, 2, None).is_ok());
    assert!(get_as(&s, PUBLIC_ID, 8, CLOCK, 2, None).is_ok());
    assert!(get_as(&s, PUBLIC_ID, 15, CURRENT_ASSOCIATION, 2, None).is_ok());
    assert!(get_as(&s, PUBLIC_ALL, 3, ENERGY, 2, None).is_ok());
}

#[test]
fn event_log_buffer_is_fifo_and_bounded() {
    // Four pushes into three entries: the oldest (code 40) is gone.
    let Ok(Data::Array(rows)) = get(7, LOG, 2) else {
        panic!()
    };
    let codes: Vec<Data> = rows
        .iter()
        .map(|r| r.as_elements().unwrap()[1].clone())
        .collect();
    assert_eq!(
        codes,
        [Data::Unsigned(44), Data::Unsigned(45), Data::Unsigned(44)]
    );
    assert_eq!(get(7, LOG, 7), Ok(Data::DoubleLongUnsigned(3)));
    assert_eq!(get(7, LOG, 8), Ok(Data::DoubleLongUnsigned(3)));
    let Ok(Data::Array(cols)) = get(7, LOG, 3) else {
        panic!()
    };
    assert_eq!(cols.len(), 2);
    assert_eq!(
        cols[1],
        Data::Structure(vec![
            Data::LongUnsigned(1),
            Data::OctetString(EVENT_CODE.0.to_vec()),
            Data::Integer(2),
            Data::LongUnsigned(0),
        ])
    );
}

#[test]
fn selective_access_by_entry_picks_rows_and_columns() {
    let by_entry = |from: u32, to: u32, c1: u16, c2: u16| {
        let p = Data::Structure(vec![
            Data::DoubleLongUnsigned(from),
            Data::DoubleLongUnsigned(to),
            Data::LongUnsigned(c1),
            Data::LongUnsigned(c2),
        ]);
        get_as(
            &store(),
            OPERATOR,
            7,
            LOG,
            2,
            Some(Selection {
                selector: 2,
                parameters: &p,
            }),
        )
        .unwrap()
    };
    // Entries 2..3, column 2 only.
    assert_eq!(
        by_entry(2, 3, 2, 2),
        Data::Array(vec![
            Data::Structure(vec![Data::Unsigned(45)]),
            Data::Structure(vec![Data::Unsigned(44)]),
        ])
    );
    // to_entry 0 = the last; to_selected_value 0 = the last column.
    let Data::Array(rows) = by_entry(3, 0, 1, 0) else {
        panic!()
    };
    assert_eq!(
        rows,
        vec![Data::Structure(vec![
            stamp("2024-04-01T00:00:00Z"),
            Data::Unsigned(44)
        ])]
    );
    // Past the end: empty.
    assert_eq!(by_entry(9, 0, 1, 0), Data::Array(vec![]));
}

#[test]
fn selective_access_by_range_filters_on_the_clock_column() {
    let clock_col = Data::Structure(vec![
        Data::LongUnsigned(8),
        Data::OctetString(CLOCK.0.to_vec()),
        Data::Integer(2),
        Data::LongUnsigned(0),
    ]);
    let code_col = Data::Structure(vec![
        Data::LongUnsigned(1),
        Data::OctetString(EVENT_CODE.0.to_vec()),
        Data::Integer(2),
        Data::LongUnsigned(0),
    ]);
    let range = |from: &str, to: &str, cols: Vec<Data>| {
        let p = Data::Structure(vec![
            clock_col.clone(),
            stamp(from),
            stamp(to),
            Data::Array(cols),
        ]);
        get_as(
            &store(),
            OPERATOR,
            7,
            LOG,
            2,
            Some(Selection {
                selector: 1,
                parameters: &p,
            }),
        )
    };
    // Inclusive bounds: February through March 1st midnight.
    assert_eq!(
        range(
            "2024-02-01T00:00:00Z",
            "2024-03-01T00:00:00Z",
            vec![code_col.clone()]
        ),
        Ok(Data::Array(vec![
            Data::Structure(vec![Data::Unsigned(44)]),
            Data::Structure(vec![Data::Unsigned(45)]),
        ]))
    );
    // The same window given as local +03:00 times with its deviation: same instants.
    let Ok(Data::Array(rows)) = range(
        "2024-02-01T03:00:00+03:00",
        "2024-03-01T03:00:00+03:00",
        vec![],
    ) else {
        panic!()
    };
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].as_elements().unwrap().len(), 2, "all columns");
    assert_eq!(
        range("2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", vec![]),
        Ok(Data::Array(vec![]))
    );
    // A restricting object that is not a column.
    let p = Data::Structure(vec![
        code_col.clone(),
        Data::Unsigned(0),
        Data::Unsigned(50),
        Data::Array(vec![]),
    ]);
    let codes = get_as(
        &store(),
        OPERATOR,
        7,
        LOG,
        2,
        Some(Selection {
            selector: 1,
            parameters: &p,
        }),
    );
    assert!(
        matches!(codes, Ok(Data::Array(ref r)) if r.len() == 3),
        "{codes:?}"
    );
    let p = Data::Structure(vec![
        Data::Structure(vec![
            Data::LongUnsigned(3),
            Data::OctetString(ENERGY.0.to_vec()),
            Data::Integer(2),
            Data::LongUnsigned(0),
        ]),
        Data::Unsigned(0),
        Data::Unsigned(50),
        Data::Array(vec![]),
    ]);
    let sel = Some(Selection {
        selector: 1,
        parameters: &p,
    });
    assert_eq!(
        get_as(&store(), OPERATOR, 7, LOG, 2, sel),
        Err(Refusal::BadSelection)
    );
}

#[test]
fn object_list_lists_every_object_with_access_rights() {
    let s = store();
    let Ok(Data::Array(list)) = get_as(&s, PUBLIC_ID, 15, CURRENT_ASSOCIATION, 2, None) else {
        panic!()
    };
    assert_eq!(list.len(), s.iter().count());
    let find = |obis: ObisCode| {
        list.iter()
            .find(|e| e.as_elements().unwrap()[2] == Data::OctetString(obis.0.to_vec()))
            .unwrap()
            .as_elements()
            .unwrap()
            .to_vec()
    };
    let energy = find(ENERGY);
    assert_eq!(energy[0], Data::LongUnsigned(3));
    assert_eq!(energy[1], Data::Unsigned(0));
    let rights = energy[3].as_elements().unwrap();
    let attrs = rights[0].as_elements().unwrap();
    assert_eq!(attrs.len(), 3);
    // Restricted public client: logical name readable, value not.
    assert_eq!(attrs[0].as_elements().unwrap()[1], Data::Enum(1));
    assert_eq!(attrs[1].as_elements().unwrap()[1], Data::Enum(0));
    let log = find(LOG);
    assert_eq!(log[1], Data::Unsigned(1), "profile generic version 1");
    let relay = find(RELAY);
    let methods = relay[3].as_elements().unwrap()[1]
        .as_elements()
        .unwrap()
        .to_vec();
    assert_eq!(methods.len(), 2);
    assert_eq!(
        methods[0].as_elements().unwrap()[1],
        Data::Enum(0),
        "public may not operate"
    );

    // An operator sees the buffer with its selectors and may invoke the relay methods.
    let Ok(Data::Array(list)) = get_as(&s, OPERATOR, 15, CURRENT_ASSOCIATION, 2, None) else {
        panic!()
    };
    let log = list
        .iter()
        .find(|e| e.as_elements().unwrap()[2] == Data::OctetString(LOG.0.to_vec()))
        .unwrap();
    let buffer_rights = &log.as_elements().unwrap()[3].as_elements().unwrap()[0]
        .as_elements()
        .unwrap()[1];
    assert_eq!(
        buffer_rights,
        &Data::Structure(vec![
            Data::Integer(2),
            Data::Enum(1),
            Data::Array(vec![Data::Integer(1), Data::Integer(2)])
        ])
    );
}

#[test]
fn association_attributes_describe_the_association() {
    let s = store();
    assert_eq!(
        get_as(&s, OPERATOR, 15, CURRENT_ASSOCIATION, 3, None),
        Ok(Data::Structure(vec![
            Data::Integer(1),
            Data::LongUnsigned(1)
        ]))
    );
    let Ok(Data::Structure(ctx)) = get_as(&s, OPERATOR, 15, CURRENT_ASSOCIATION, 5, None) else {
        panic!()
    };
    let Data::BitString(bits) = &ctx[0] else {
        panic!()
    };
    assert_eq!(bits.as_bytes(), [0x00, 0x1C, 0x1F]);
    assert_eq!(ctx[1], Data::LongUnsigned(512));
    let mech = get_as(&s, OPERATOR, 15, CURRENT_ASSOCIATION, 6, None).unwrap();
    assert_eq!(mech.as_elements().unwrap()[6], Data::Unsigned(1), "LLS");
}

#[test]
fn clock_reads_the_scenario_time_and_a_set_moves_it() {
    let mut s = store();
    let base = t("2024-05-01T08:00:00Z");
    let a = assoc(OPERATOR);
    let cx = Context {
        base_time: base,
        association: &a,
    };
    let now = s.get(8, &CLOCK, 2, None, &cx).unwrap();
    assert_eq!(now.as_date_time(), Some(base.to_date_time()));
    let later = t("2024-05-01T09:30:00Z").to_date_time();
    s.set(
        8,
        &CLOCK,
        2,
        Data::OctetString(later.to_bytes().to_vec()),
        &cx,
    )
    .unwrap();
    assert_eq!(s.clock_time(base).secs - base.secs, 5400);
    assert_eq!(
        s.set(8, &CLOCK, 2, Data::Unsigned(1), &cx),
        Err(Refusal::TypeUnmatched)
    );
    let dt: DateTime = s
        .get(8, &CLOCK, 2, None, &cx)
        .unwrap()
        .as_date_time()
        .unwrap();
    assert_eq!(dt.time.hour, 9);
}

#[test]
fn writes_check_rights_and_types() {
    let mut s = store();
    let op = assoc(OPERATOR);
    let public = assoc(PUBLIC_ALL);
    let base = t("2024-05-01T08:00:00Z");
    let cx = Context {
        base_time: base,
        association: &op,
    };
    let pcx = Context {
        base_time: base,
        association: &public,
    };
    assert_eq!(
        s.set(71, &LIMITER, 3, Data::DoubleLongUnsigned(6000), &pcx),
        Err(Refusal::Denied)
    );
    assert_eq!(
        s.set(71, &LIMITER, 3, Data::LongUnsigned(6000), &cx),
        Err(Refusal::TypeUnmatched)
    );
    s.set(71, &LIMITER, 3, Data::DoubleLongUnsigned(6000), &cx)
        .unwrap();
    assert_eq!(
        s.get(71, &LIMITER, 3, None, &cx),
        Ok(Data::DoubleLongUnsigned(6000))
    );
    assert_eq!(
        s.set(3, &ENERGY, 2, Data::DoubleLongUnsigned(0), &cx),
        Err(Refusal::Denied)
    );
    assert_eq!(
        s.set(3, &ENERGY, 9, Data::DoubleLongUnsigned(0), &cx),
        Err(Refusal::AttributeUndefined)
    );
}

#[test]
fn relay_methods_follow_the_control_mode() {
    let mut s = store();
    let read = |s: &ObjectStore, attr| get_as(s, OPERATOR, 70, RELAY, attr, None).unwrap();
    assert_eq!(
        s.action(70, &RELAY, 1, Some(&Data::Integer(0)), PUBLIC_ALL),
        Err(Refusal::Denied)
    );
    assert_eq!(
        s.action(70, &RELAY, 1, Some(&Data::Integer(0)), OPERATOR),
        Ok(Some(RelayChange { from: 1, to: 0 }))
    );
    assert_eq!(read(&s, 2), Data::Boolean(false));
    assert_eq!(read(&s, 3), Data::Enum(0));
    // Mode 1: a remote reconnect closes the relay.
    assert_eq!(
        s.action(70, &RELAY, 2, Some(&Data::Integer(0)), OPERATOR),
        Ok(Some(RelayChange { from: 0, to: 1 }))
    );
    assert_eq!(read(&s, 2), Data::Boolean(true));
    // Mode 2: it only makes the relay ready for a manual reconnection.
    let op = assoc(OPERATOR);
    let cx = Context {
        base_time: t("2024-05-01T08:00:00Z"),
        association: &op,
    };
    s.set(70, &RELAY, 4, Data::Enum(2), &cx).unwrap();
    s.action(70, &RELAY, 1, None, OPERATOR).unwrap();
    assert_eq!(
        s.action(70, &RELAY, 2, None, OPERATOR),
        Ok(Some(RelayChange { from: 0, to: 2 }))
    );
    assert_eq!(read(&s, 2), Data::Boolean(false));
    assert_eq!(read(&s, 3), Data::Enum(2));
    assert_eq!(
        s.action(70, &RELAY, 3, None, OPERATOR),
        Err(Refusal::AttributeUndefined)
    );
    assert_eq!(
        s.action(70, &RELAY, 1, Some(&Data::OctetString(vec![])), OPERATOR),
        Err(Refusal::TypeUnmatched)
    );
    assert_eq!(
        s.action(3, &ENERGY, 1, None, OPERATOR),
        Err(Refusal::Denied),
        "register reset exists but is not allowed"
    );
}
