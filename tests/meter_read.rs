//! Reading by profile against the scripted meter: every item of the built-in Calin
//! profile in one association, typed; refused and odd objects fail alone; event times
//! from event logs (columns looked up, windows from the newest end, whole buffer when
//! selective access is refused); progress reported.

mod meter_support;

use calin_agent::codes::{OperatingStatus, ShortCode};
use calin_agent::meter::cosem::{ControlState, ItemError};
use calin_agent::meter::read::{
    read_profile, Item, ItemFailure, ReadProgress, ReadReport, ReadValue, Reading, Selection,
};
use calin_agent::meter::MeterError;
use calin_agent::profile::{Profile, Reads};
use calin_agent::protocol::apdu::{Apdu, CaptureObject, GetRequest};
use calin_agent::protocol::axdr::Data;
use meter_support::*;

const FRAUD_LOG: &str = "0.0.99.98.1.255";
const CONTROL_LOG: &str = "0.0.99.98.2.255";

fn time(minute: u8) -> Data {
    Data::OctetString(vec![
        0x07, 0xEA, 3, 14, 6, 10, minute, 0, 0, 0x80, 0x00, 0x00,
    ])
}

fn capture(class: u16, ln: &str) -> Data {
    CaptureObject {
        class_id: class,
        logical_name: obis(ln),
        attribute_index: 2,
        data_index: 0,
    }
    .to_data()
}

fn calin_meter() -> FakeMeter {
    let mut m = standard_meter();
    let o = &mut m.objects;
    o.insert(a("3:1.0.1.7.0.255:2"), Data::DoubleLong(11_930));
    o.insert(
        a("3:1.0.1.7.0.255:3"),
        Data::Structure(vec![Data::Integer(-1), Data::Enum(27)]),
    );
    // Limiter: threshold 5000 on the active power register (scaler -1, W).
    o.insert(a("71:0.0.17.0.0.255:3"), Data::LongUnsigned(5000));
    o.insert(
        a("71:0.0.17.0.0.255:2"),
        Data::Structure(vec![
            Data::LongUnsigned(3),
            Data::OctetString(vec![1, 0, 1, 7, 0, 255]),
            Data::Integer(2),
        ]),
    );
    // 35 (power factor) is missing: object-undefined.
    o.insert(a("1:0.0.96.20.0.255:2"), Data::Unsigned(3));
    o.insert(a("1:0.0.96.7.0.255:2"), Data::LongUnsigned(12));
    o.insert(a("1:0.0.96.128.87.255:2"), Data::Unsigned(8));
    o.insert(a("1:0.0.96.5.0.255:2"), Data::LongUnsigned(1008));
    o.insert(a("70:0.0.96.3.10.255:2"), Data::Boolean(false));
    o.insert(a("70:0.0.96.3.10.255:3"), Data::Enum(2));
    o.insert(
        a("1:0.0.42.0.0.255:2"),
        Data::OctetString(b"CAL0000012345678".to_vec()),
    );
    o.insert(
        a("1:1.0.0.2.0.255:2"),
        Data::VisibleString(b"V1.2.3".to_vec()),
    );
    o.insert(a("8:0.0.1.0.0.255:2"), time(59));
    // 46 (overload trip count) makes the meter throw an exception-response.
    o.insert(a("1:0.0.96.128.46.255:2"), Data::Unsigned(1));
    m.exception_on.push(a("1:0.0.96.128.46.255:2"));

    // Fraud log: clock then code; 40 rows, one a minute, cover removed (44) every 10th.
    o.insert(
        a(&format!("7:{FRAUD_LOG}:3")),
        Data::Array(vec![
            capture(8, "0.0.1.0.0.255"),
            capture(1, "0.0.96.11.1.255"),
        ]),
    );
    let rows = (0..40u8)
        .map(|i| {
            let code = if i % 10 == 0 { 44 } else { 45 };
            Data::Structure(vec![time(i), Data::Unsigned(code)])
        })
        .collect();
    m.logs.insert(obis(FRAUD_LOG), rows);

    // Disconnector log: code column first, then the clock; overload trip (63) twice.
    o.insert(
        a(&format!("7:{CONTROL_LOG}:3")),
        Data::Array(vec![
            capture(1, "0.0.96.11.2.255"),
            capture(8, "0.0.1.0.0.255"),
        ]),
    );
    let rows = [(5, 63), (6, 60), (7, 63), (8, 61)]
        .into_iter()
        .map(|(minute, code)| Data::Structure(vec![Data::Unsigned(code), time(minute)]))
        .collect();
    m.logs.insert(obis(CONTROL_LOG), rows);
    // The standard event log (power down) is not in this meter.
    m
}

fn find(report: &ReadReport, what: Item) -> &Result<Reading, ItemFailure> {
    report
        .items
        .iter()
        .find(|r| match r {
            Ok(reading) => reading.what == what,
            Err(f) => f.what == what,
        })
        .unwrap_or_else(|| panic!("{what} missing from the report"))
}

fn value(report: &ReadReport, what: Item) -> ReadValue {
    match find(report, what) {
        Ok(r) => r.value.clone(),
        Err(f) => panic!("{f}"),
    }
}

fn error(report: &ReadReport, what: Item) -> ItemError {
    match find(report, what) {
        Ok(r) => panic!("{what} read as {r:?}"),
        Err(f) => f.error.clone(),
    }
}

fn code(n: u8) -> Item {
    Item::Reads(Reads::Short(ShortCode(n)))
}

fn minute(v: ReadValue) -> Option<u8> {
    match v {
        ReadValue::Timestamp(t) => Some(t.time.minute),
        _ => None,
    }
}

#[tokio::test(start_paused = true)]
async fn reads_the_whole_calin_profile_in_one_association() {
    let (session, log) = open(calin_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    let profile = Profile::calin();
    let mut progress = Vec::new();
    let report = read_profile(&mut session, &profile, &Selection::All, &mut |p| {
        progress.push(p)
    })
    .await;
    assert!(report.aborted.is_none());
    assert_eq!(
        report.items.len(),
        profile.objects.len() + profile.events.len()
    );

    assert_eq!(value(&report, code(1)).to_string(), "1234.56 Wh");
    assert_eq!(value(&report, code(31)).to_string(), "1193.0 W");
    assert_eq!(
        value(&report, code(14)).to_string(),
        "500.0 W",
        "scaled like the monitored register"
    );
    assert!(error(&report, code(35)).is_not_found());
    assert_eq!(value(&report, code(40)), ReadValue::Count(3));
    assert!(matches!(error(&report, code(46)), ItemError::Failed(_)));
    assert_eq!(value(&report, code(52)), ReadValue::Count(12));
    assert!(error(&report, code(58)).is_not_found());
    assert_eq!(value(&report, code(87)), ReadValue::RelayReason(8));
    assert_eq!(
        value(&report, Item::Reads(Reads::Status)),
        ReadValue::Status(OperatingStatus(1008))
    );
    assert_eq!(
        value(&report, Item::Reads(Reads::Relay)),
        ReadValue::Relay(false)
    );
    assert_eq!(
        value(&report, Item::Reads(Reads::RelayControl)),
        ReadValue::RelayControl(ControlState::ReadyForReconnection)
    );
    assert_eq!(
        value(&report, Item::Reads(Reads::Serial)),
        ReadValue::Text("CAL12345678".into())
    );
    assert_eq!(
        value(&report, Item::Reads(Reads::Firmware)),
        ReadValue::Text("V1.2.3".into())
    );
    assert_eq!(minute(value(&report, Item::Reads(Reads::Clock))), Some(59));

    // Cover open times: 44 at minutes 30, 20, 10, 0 (newest first); there is no 5th.
    let cover: Vec<Option<u8>> = (41..=45).map(|c| minute(value(&report, code(c)))).collect();
    assert_eq!(cover, [Some(30), Some(20), Some(10), Some(0), None]);
    assert_eq!(value(&report, code(45)), ReadValue::NoEvent);
    // Overload trips (63) at minutes 7 and 5, code column first in that log.
    let trips: Vec<Option<u8>> = (47..=49).map(|c| minute(value(&report, code(c)))).collect();
    assert_eq!(trips, [Some(7), Some(5), None]);
    // The power-down log is missing: its entries fail, alone.
    assert!(error(&report, code(53)).is_not_found());
    let Ok(reading) = find(&report, code(41)) else {
        unreachable!()
    };
    assert_eq!(reading.attr.to_string(), format!("7:{FRAUD_LOG}:2"));
    assert_eq!(reading.raw, time(30));

    // The fraud log was read in two windows from the newest end: entries 9..40, 1..8.
    let windows: Vec<(u32, u32)> = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter_map(|r| match r {
            Apdu::GetRequest(GetRequest::Normal {
                attribute,
                access: Some(access),
                ..
            }) if attribute.instance_id == obis(FRAUD_LOG) => {
                let e =
                    calin_agent::protocol::apdu::EntryDescriptor::from_data(&access.parameters)?;
                Some((e.from_entry, e.to_entry))
            }
            _ => None,
        })
        .collect();
    assert_eq!(windows, [(9, 40), (1, 8)]);

    let steps: Vec<(usize, usize)> = progress
        .iter()
        .filter_map(|p| match p {
            ReadProgress::Step { done, total, .. } => Some((*done, *total)),
            _ => None,
        })
        .collect();
    assert_eq!(steps, [(0, 4), (1, 4), (2, 4), (3, 4)]);
    session.release().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn event_times_fall_back_to_the_whole_buffer() {
    let mut meter = calin_meter();
    meter.selective_access_refused = true;
    let (session, log) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let selection = Selection::Codes(vec![ShortCode(42), ShortCode(48)]);
    let report = read_profile(&mut session, &Profile::calin(), &selection, &mut |_| {}).await;
    assert_eq!(minute(value(&report, code(42))), Some(20));
    assert_eq!(minute(value(&report, code(48))), Some(5));
    let whole = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| {
            matches!(r, Apdu::GetRequest(GetRequest::Normal { attribute, access: None, .. })
                if attribute.class_id == 7 && attribute.attribute_id == 2)
        })
        .count();
    assert_eq!(whole, 2, "one whole-buffer read per log");
}

#[tokio::test(start_paused = true)]
async fn status_selection_and_explicit_attributes() {
    let (session, _) = open(calin_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    let profile = Profile::calin();
    let report = read_profile(&mut session, &profile, &Selection::Status, &mut |_| {}).await;
    let whats: Vec<String> = report
        .items
        .iter()
        .map(|r| r.as_ref().map(|x| x.what.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(whats, ["status", "87", "relay", "relay_control"]);

    let attrs = Selection::Attributes(vec![a("3:1.0.1.8.0.255:2"), a("1:0.0.96.1.0.255:2")]);
    let report = read_profile(&mut session, &profile, &attrs, &mut |_| {}).await;
    assert_eq!(
        value(&report, Item::Attribute(a("3:1.0.1.8.0.255:2"))).to_string(),
        "1234.56 Wh"
    );
    assert_eq!(
        value(&report, Item::Attribute(a("1:0.0.96.1.0.255:2"))),
        ReadValue::Text("CAL12345678".into())
    );

    let missing = Selection::Codes(vec![ShortCode(99)]);
    let report = read_profile(&mut session, &profile, &missing, &mut |_| {}).await;
    assert_eq!(error(&report, code(99)), ItemError::NotInProfile);
    session.release().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_lost_association_marks_the_rest_not_read() {
    // The meter falls silent in the middle of its first answer (frames: 0 UA, 1 AARE,
    // 2.. the segments of the answer to the list of every object).
    let faults = Faults {
        to_client: vec![(3, Fault::SilenceFromHere)],
        ..Faults::default()
    };
    let (session, _) = open(calin_meter(), faults, config()).await;
    let mut session = session.unwrap();
    let report = read_profile(
        &mut session,
        &Profile::calin(),
        &Selection::All,
        &mut |_| {},
    )
    .await;
    assert!(
        matches!(report.aborted, Some(MeterError::Link { .. })),
        "{:?}",
        report.aborted
    );
    assert!(report.items.iter().all(|r| matches!(
        r,
        Err(f) if matches!(f.error, ItemError::NotRead(_))
    )));
}
