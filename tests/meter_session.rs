//! The meter session against an in-test scripted meter (HdlcServer + APDU responder over
//! an in-memory duplex): association, GET in all its forms, SET, ACTION, release, and
//! the errors that say what to try.

mod meter_support;

use calin_agent::config::Secret;
use calin_agent::meter::cosem::{self, ItemError};
use calin_agent::meter::{MeterError, MethodRef, TransferProgress};
use calin_agent::protocol::apdu::{
    Apdu, DataAccessResult, EntryDescriptor, GetRequest, SelectiveAccess,
};
use calin_agent::protocol::axdr::Data;
use meter_support::*;

#[tokio::test(start_paused = true)]
async fn associates_without_authentication_and_reads_a_register() {
    let (session, log) = open(standard_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    assert_eq!(session.negotiated().server_max_pdu_size, 512);
    assert!(session.hdlc_parameters().is_some());
    let value = session.get(a("3:1.0.1.8.0.255:2"), None).await.unwrap();
    assert_eq!(value, Ok(Data::DoubleLongUnsigned(123_456)));
    let m = cosem::read_register(&mut session, 3, obis("1.0.1.8.0.255"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.to_string(), "1234.56 Wh");
    session.release().await.unwrap();
    let log = log.lock().unwrap();
    assert!(matches!(log.requests.first(), Some(Apdu::Aarq(_))));
    assert!(matches!(log.requests.last(), Some(Apdu::Rlrq(_))));
    assert_eq!(log.disconnects, 1, "DISC after RLRQ");
}

#[tokio::test(start_paused = true)]
async fn associates_with_the_right_password() {
    let mut meter = standard_meter();
    meter.password = Some(b"12345678".to_vec());
    let mut c = config();
    c.client = 1;
    c.password = Some(Secret::new(b"12345678".to_vec()));
    let (session, _log) = open(meter, Faults::default(), c).await;
    let mut session = session.unwrap();
    assert_eq!(
        session.get(a("1:0.0.96.1.0.255:2"), None).await.unwrap(),
        Ok(Data::OctetString(b"CAL12345678".to_vec()))
    );
    assert!(!format!("{session:?}").contains("12345678"));
    session.release().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn wrong_password_is_named_and_the_link_is_taken_down() {
    let mut meter = standard_meter();
    meter.password = Some(b"12345678".to_vec());
    let mut c = config();
    c.client = 1;
    c.password = Some(Secret::new(b"wrong".to_vec()));
    let (session, log) = open(meter.clone(), Faults::default(), c).await;
    let err = session.unwrap_err();
    assert!(
        matches!(err, MeterError::WrongPassword { client: 1 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("password"), "{err}");
    assert_eq!(log.lock().unwrap().disconnects, 1);

    let mut c = config();
    c.client = 1;
    let (session, _) = open(meter, Faults::default(), c).await;
    assert!(matches!(
        session.unwrap_err(),
        MeterError::PasswordRequired { client: 1 }
    ));
}

#[tokio::test(start_paused = true)]
async fn a_silent_meter_is_no_answer_naming_the_address() {
    let faults = Faults {
        to_client: vec![(0, Fault::SilenceFromHere)],
        ..Faults::default()
    };
    let (session, log) = open(standard_meter(), faults, config()).await;
    let err = session.unwrap_err();
    match &err {
        MeterError::NoAnswer { link, address } => {
            assert_eq!(link, "in-memory duplex");
            assert_eq!(address, "physical address 17 (logical device 1)");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("probe --autodetect"));
    // One SNRM and three retries, then it gave up.
    assert_eq!(log.lock().unwrap().frames_received, 4);
}

#[tokio::test(start_paused = true)]
async fn object_not_found_is_a_value_and_the_session_goes_on() {
    let (session, _) = open(standard_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    let r = session.get(a("3:1.0.2.8.0.255:2"), None).await.unwrap();
    assert_eq!(r, Err(DataAccessResult::ObjectUndefined));
    let e = MeterError::refused(a("3:1.0.2.8.0.255:2"), r.unwrap_err());
    assert!(matches!(e, MeterError::ObjectNotFound { .. }));
    let m = cosem::read_register(&mut session, 3, obis("1.0.2.8.0.255"))
        .await
        .unwrap();
    assert!(m.as_ref().unwrap_err().is_not_found(), "{m:?}");
    // Still associated.
    assert!(session
        .get(a("3:1.0.1.8.0.255:2"), None)
        .await
        .unwrap()
        .is_ok());
}

#[tokio::test(start_paused = true)]
async fn exception_response_is_an_error_but_not_fatal() {
    let mut meter = standard_meter();
    meter.exception_on.push(a("1:0.0.96.1.0.255:2"));
    let (session, _) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let err = session
        .get(a("1:0.0.96.1.0.255:2"), None)
        .await
        .unwrap_err();
    assert!(matches!(err, MeterError::Exception(_)), "{err:?}");
    assert!(!err.is_fatal());
    assert!(session
        .get(a("3:1.0.1.8.0.255:2"), None)
        .await
        .unwrap()
        .is_ok());
}

#[tokio::test(start_paused = true)]
async fn block_transfer_reassembles_a_long_value_with_progress() {
    let (session, log) = open(standard_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    let mut seen: Vec<TransferProgress> = Vec::new();
    let value = session
        .get_with_progress(a("1:0.0.96.99.0.255:2"), None, &mut |p| seen.push(p))
        .await
        .unwrap()
        .unwrap();
    let expected: Vec<u8> = (0..=255u8).cycle().take(1500).collect();
    assert_eq!(value, Data::OctetString(expected));
    // 1503 encoded bytes in blocks of 200: 8 blocks, progress after each but the last.
    assert_eq!(seen.len(), 7);
    assert_eq!(seen.last().unwrap().blocks, 7);
    assert_eq!(seen.last().unwrap().bytes, 1400);
    let nexts = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| matches!(r, Apdu::GetRequest(GetRequest::Next { .. })))
        .count();
    assert_eq!(nexts, 7);
}

#[tokio::test(start_paused = true)]
async fn block_transfer_is_bounded() {
    let mut c = config();
    c.max_response_bytes = 1000;
    let (session, _) = open(standard_meter(), Faults::default(), c).await;
    let mut session = session.unwrap();
    let err = session
        .get(a("1:0.0.96.99.0.255:2"), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MeterError::TooLarge { limit: 1000, .. }),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn get_many_uses_one_list_request_in_order() {
    let (session, log) = open(standard_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    let attrs = [
        a("1:0.0.96.1.0.255:2"),
        a("3:1.0.9.9.9.255:2"),
        a("3:1.0.1.8.0.255:2"),
    ];
    let results = session.get_many(&attrs).await.unwrap();
    assert_eq!(
        results,
        vec![
            Ok(Data::OctetString(b"CAL12345678".to_vec())),
            Err(DataAccessResult::ObjectUndefined),
            Ok(Data::DoubleLongUnsigned(123_456)),
        ]
    );
    let log = log.lock().unwrap();
    let lists: Vec<usize> = log
        .requests
        .iter()
        .filter_map(|r| match r {
            Apdu::GetRequest(GetRequest::WithList { attributes, .. }) => Some(attributes.len()),
            _ => None,
        })
        .collect();
    assert_eq!(lists, vec![3]);
}

#[tokio::test(start_paused = true)]
async fn get_many_splits_long_lists_and_follows_list_block_transfer() {
    let mut meter = standard_meter();
    // The first list's answer (23 bytes) goes out in blocks of 10.
    meter.block_size = 10;
    let mut c = config();
    c.max_list_len = 2;
    let (session, log) = open(meter, Faults::default(), c).await;
    let mut session = session.unwrap();
    let attrs = [
        a("1:0.0.96.1.0.255:2"),
        a("3:1.0.1.8.0.255:3"),
        a("3:1.0.1.8.0.255:2"),
    ];
    let results = session.get_many(&attrs).await.unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0], Ok(Data::OctetString(b"CAL12345678".to_vec())));
    assert_eq!(results[2], Ok(Data::DoubleLongUnsigned(123_456)));
    let log = log.lock().unwrap();
    let count = |f: fn(&Apdu) -> bool| log.requests.iter().filter(|r| f(r)).count();
    assert_eq!(
        count(|r| matches!(r, Apdu::GetRequest(GetRequest::WithList { .. }))),
        2
    );
    assert_eq!(
        count(|r| matches!(r, Apdu::GetRequest(GetRequest::Next { .. }))),
        2,
        "the first list's answer came in three blocks"
    );
}

#[tokio::test(start_paused = true)]
async fn get_many_falls_back_to_single_gets() {
    // A meter without multiple references.
    let mut meter = standard_meter();
    meter.conformance = calin_agent::protocol::apdu::Conformance::from_bits(
        calin_agent::protocol::apdu::Conformance::GET
            | calin_agent::protocol::apdu::Conformance::BLOCK_TRANSFER_WITH_GET_OR_READ,
    );
    let (session, log) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let attrs = [a("1:0.0.96.1.0.255:2"), a("3:1.0.1.8.0.255:2")];
    let results = session.get_many(&attrs).await.unwrap();
    assert!(results.iter().all(Result::is_ok));
    assert!(log
        .lock()
        .unwrap()
        .requests
        .iter()
        .all(|r| !matches!(r, Apdu::GetRequest(GetRequest::WithList { .. }))));

    // A meter that claims multiple references but refuses the list form.
    let mut meter = standard_meter();
    meter.refuse_lists = true;
    let (session, _) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let results = session.get_many(&attrs).await.unwrap();
    assert_eq!(results[1], Ok(Data::DoubleLongUnsigned(123_456)));
}

#[tokio::test(start_paused = true)]
async fn selective_access_by_entry_reaches_the_meter() {
    let mut meter = standard_meter();
    let rows: Vec<Data> = (0..10u16)
        .map(|i| Data::Structure(vec![Data::LongUnsigned(i)]))
        .collect();
    meter.logs.insert(obis("0.0.99.98.0.255"), rows);
    let (session, _) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let access = SelectiveAccess::by_entry(&EntryDescriptor {
        from_entry: 9,
        to_entry: 10,
        from_selected_value: 1,
        to_selected_value: 0,
    });
    let value = session
        .get(a("7:0.0.99.98.0.255:2"), Some(access))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        value,
        Data::Array(vec![
            Data::Structure(vec![Data::LongUnsigned(8)]),
            Data::Structure(vec![Data::LongUnsigned(9)]),
        ])
    );
}

#[tokio::test(start_paused = true)]
async fn set_and_action() {
    let (session, log) = open(standard_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    let r = session
        .set(a("1:0.0.96.1.0.255:2"), Data::OctetString(b"NEW".to_vec()))
        .await
        .unwrap();
    assert_eq!(r, Ok(()));
    assert_eq!(
        session.get(a("1:0.0.96.1.0.255:2"), None).await.unwrap(),
        Ok(Data::OctetString(b"NEW".to_vec()))
    );
    let r = session
        .set(a("1:0.0.96.2.0.255:2"), Data::Unsigned(1))
        .await
        .unwrap();
    assert_eq!(r, Err(DataAccessResult::ObjectUndefined));
    let method = MethodRef {
        class_id: 70,
        obis: obis("0.0.96.3.10.255"),
        method: 2,
    };
    assert_eq!(
        session
            .action(method, Some(Data::Integer(0)))
            .await
            .unwrap(),
        Ok(None)
    );
    let actions = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| matches!(r, Apdu::ActionRequest(_)))
        .count();
    assert_eq!(actions, 1);
}

#[tokio::test(start_paused = true)]
async fn release_tolerates_a_meter_that_skips_rlre() {
    let mut meter = standard_meter();
    meter.answer_rlrq = false;
    let (session, log) = open(meter, Faults::default(), config()).await;
    let session = session.unwrap();
    session.release().await.unwrap();
    // The meter got the RLRQ, never answered it, and still got a DISC.
    let log = log.lock().unwrap();
    assert!(matches!(log.requests.last(), Some(Apdu::Rlrq(_))));
    assert_eq!(log.disconnects, 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_an_unreleased_session_does_not_panic() {
    let (session, _) = open(standard_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    session
        .get(a("3:1.0.1.8.0.255:2"), None)
        .await
        .unwrap()
        .unwrap();
    drop(session);
}

#[tokio::test(start_paused = true)]
async fn clock_and_disconnect_control_helpers() {
    let mut meter = standard_meter();
    let clock = Data::OctetString(vec![0x07, 0xEA, 3, 14, 6, 12, 30, 5, 0, 0x80, 0x00, 0x00]);
    meter.objects.insert(a("8:0.0.1.0.0.255:2"), clock);
    meter
        .objects
        .insert(a("70:0.0.96.3.10.255:2"), Data::Boolean(false));
    meter
        .objects
        .insert(a("70:0.0.96.3.10.255:3"), Data::Enum(2));
    let (session, _) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let t = cosem::read_clock(&mut session, obis("0.0.1.0.0.255"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((t.date.year, t.date.month, t.time.hour), (2026, 3, 12));
    let d = cosem::read_disconnect(&mut session, obis("0.0.96.3.10.255"))
        .await
        .unwrap()
        .unwrap();
    assert!(!d.output_state);
    assert_eq!(d.control_state, cosem::ControlState::ReadyForReconnection);
    let missing = cosem::read_clock(&mut session, obis("0.0.1.0.1.255"))
        .await
        .unwrap();
    assert_eq!(
        missing,
        Err(ItemError::Refused(DataAccessResult::ObjectUndefined))
    );
}

fn object_list_element(class: u16, ln: [u8; 6], attributes: i8) -> Data {
    let attrs = (1..=attributes)
        .map(|id| Data::Structure(vec![Data::Integer(id), Data::Enum(1), Data::NullData]))
        .collect();
    Data::Structure(vec![
        Data::LongUnsigned(class),
        Data::Unsigned(0),
        Data::OctetString(ln.to_vec()),
        Data::Structure(vec![Data::Array(attrs), Data::Array(vec![])]),
    ])
}

#[tokio::test(start_paused = true)]
async fn object_list_by_block_transfer_with_progress() {
    let mut meter = standard_meter();
    let list: Vec<Data> = (0..40u8)
        .map(|i| object_list_element(3, [1, 0, 1, 8, i, 255], 3))
        .collect();
    meter
        .objects
        .insert(a("15:0.0.40.0.0.255:2"), Data::Array(list));
    let (session, _) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let mut blocks = 0;
    let entries = cosem::read_object_list(&mut session, &mut |p| blocks = p.blocks)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entries.len(), 40);
    assert_eq!(entries[39].obis, obis("1.0.1.8.39.255"));
    assert!(entries.iter().all(|e| e.attributes.len() == 3));
    assert!(blocks >= 5, "the list came in blocks: {blocks}");
}

#[tokio::test(start_paused = true)]
async fn limiter_threshold_is_scaled_like_the_monitored_register() {
    let mut meter = standard_meter();
    meter
        .objects
        .insert(a("71:0.0.17.0.0.255:3"), Data::LongUnsigned(5000));
    meter.objects.insert(
        a("71:0.0.17.0.0.255:2"),
        Data::Structure(vec![
            Data::LongUnsigned(3),
            Data::OctetString(vec![1, 0, 1, 7, 0, 255]),
            Data::Integer(2),
        ]),
    );
    meter.objects.insert(
        a("3:1.0.1.7.0.255:3"),
        Data::Structure(vec![Data::Integer(-1), Data::Enum(27)]),
    );
    let (session, _) = open(meter, Faults::default(), config()).await;
    let mut session = session.unwrap();
    let t = cosem::read_limiter_threshold(&mut session, obis("0.0.17.0.0.255"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(t.to_string(), "500.0 W");
}
