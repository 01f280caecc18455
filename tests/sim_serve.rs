//! The simulator served in-process over in-memory links with a virtual clock, driven by the
//! protocol crate's own HDLC client (`sim::testkit`): whole exchanges, multi-drop, the
//! handle, scripted changes over time, pacing.

use std::time::Duration;

use calin_agent::codes::ShortCode;
use calin_agent::protocol::apdu::{
    Apdu, AttributeDescriptor, DataAccessResult, InvokeIdAndPriority, MethodDescriptor,
    SelectiveAccess,
};
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::hdlc::{Control, Deframer, Frame, HdlcAddress};
use calin_agent::protocol::obis::ObisCode;
use calin_agent::sim::dlms::Served;
use calin_agent::sim::testkit::RawClient;
use calin_agent::sim::{wait_for, Framing, RelayState, Scenario, SimEvent, SimOptions, Simulator};
use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::time::Instant;

const ENERGY: ObisCode = ObisCode::new(1, 0, 1, 8, 0, 255);
const STATUS: ObisCode = ObisCode::new(0, 0, 96, 5, 0, 255);
const SERIAL: ObisCode = ObisCode::new(0, 0, 96, 1, 0, 255);
const COVER_COUNT: ObisCode = ObisCode::new(0, 0, 96, 20, 0, 255);
const RELAY: ObisCode = ObisCode::new(0, 0, 96, 3, 10, 255);
const FRAUD_LOG: ObisCode = ObisCode::new(0, 0, 99, 98, 1, 255);
const ASSOCIATION: ObisCode = ObisCode::new(0, 0, 40, 0, 0, 255);

fn start(scenario: Scenario, options: SimOptions) -> (Simulator, DuplexStream) {
    let sim = Simulator::new(scenario, options).unwrap();
    let (agent_end, sim_end) = duplex(1 << 16);
    sim.serve_link(sim_end, Framing::Hdlc);
    (sim, agent_end)
}

async fn public_session(link: DuplexStream, physical: u16) -> RawClient<DuplexStream> {
    let mut c = RawClient::public(link, physical).unwrap();
    c.connect().await.unwrap();
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
    c
}

#[tokio::test(start_paused = true)]
async fn the_builtin_meter_answers_every_kind_of_read() {
    let (sim, link) = start(Scenario::builtin(), SimOptions::default());
    let mut events = sim.handle().subscribe();
    let mut c = public_session(link, 17).await;
    assert_eq!(
        c.get(3, ENERGY, 2, None).await.unwrap(),
        Ok(Data::DoubleLongUnsigned(1_234_567))
    );
    assert_eq!(
        c.get(1, SERIAL, 2, None).await.unwrap(),
        Ok(Data::OctetString(b"47001234567".to_vec()))
    );
    // The object list is longer than the 512-byte PDU: block transfer, reassembled.
    let Ok(Data::Array(list)) = c.get(15, ASSOCIATION, 2, None).await.unwrap() else {
        panic!()
    };
    assert!(list.len() > 20, "{} objects", list.len());
    let object_list_in_blocks = wait_for(&mut events, |e| match e {
        SimEvent::Served {
            served: Served::Get { obis, blocks, .. },
            ..
        } if *obis == ASSOCIATION => Some(*blocks),
        _ => None,
    })
    .await;
    assert_eq!(
        object_list_in_blocks,
        Some(true),
        "longer than the 512-byte PDU"
    );
    // Selective access by range on the disconnector log: April 15th to 30th.
    let stamp = |s: &str| {
        let t = calin_agent::sim::time::LocalTime::parse(s).unwrap();
        Data::OctetString(t.to_date_time().to_bytes().to_vec())
    };
    let range = SelectiveAccess {
        selector: SelectiveAccess::BY_RANGE,
        parameters: Data::Structure(vec![
            Data::Structure(vec![
                Data::LongUnsigned(8),
                Data::OctetString(vec![0, 0, 1, 0, 0, 255]),
                Data::Integer(2),
                Data::LongUnsigned(0),
            ]),
            stamp("2024-04-15T00:00:00Z"),
            stamp("2024-04-30T00:00:00Z"),
            Data::Array(vec![]),
        ]),
    };
    let log = ObisCode::new(0, 0, 99, 98, 2, 255);
    let Ok(Data::Array(rows)) = c.get(7, log, 2, Some(range)).await.unwrap() else {
        panic!()
    };
    assert_eq!(rows.len(), 1, "only the April 20th trip");
    assert_eq!(rows[0].as_elements().unwrap()[1], Data::Unsigned(63));
    assert_eq!(
        c.get(3, ObisCode::new(1, 0, 99, 1, 0, 255), 2, None)
            .await
            .unwrap(),
        Err(DataAccessResult::ObjectUndefined)
    );
    c.disconnect().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn on_a_bus_each_meter_answers_for_its_own_address() {
    let demo = Scenario::demo().unwrap();
    let (_sim, link) = start(demo, SimOptions::default());
    let mut link = Some(link);
    for (physical, serial) in [
        (18u16, "47001000002"),
        (20, "47001000004"),
        (17, "47001000001"),
    ] {
        let mut c = public_session(link.take().unwrap(), physical).await;
        assert_eq!(
            c.get(1, SERIAL, 2, None).await.unwrap(),
            Ok(Data::OctetString(serial.as_bytes().to_vec()))
        );
        // Every frame on the line came from the meter addressed.
        for f in c.received.iter().filter_map(|r| r.as_ref().ok()) {
            assert_eq!(f.source, HdlcAddress::server(1, Some(physical)).unwrap());
        }
        c.disconnect().await.unwrap();
        link = Some(c.into_link());
    }
    // An address nobody has: no answer at all, the client gives up.
    let mut c = RawClient::public(link.take().unwrap(), 33).unwrap();
    assert!(c.connect().await.is_err());
    assert!(c.received.is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_handle_changes_what_the_next_read_sees() {
    let (sim, link) = start(Scenario::builtin(), SimOptions::default());
    let handle = sim.handle();
    let mut events = handle.subscribe();
    let mut c = public_session(link, 17).await;
    assert_eq!(
        c.get(1, STATUS, 2, None).await.unwrap(),
        Ok(Data::LongUnsigned(1000))
    );
    handle.set_status(0, 1015).unwrap();
    handle.bump_counter(0, ShortCode(40), 2).unwrap();
    handle.add_event(0, FRAUD_LOG, 44).unwrap();
    assert_eq!(
        c.get(1, STATUS, 2, None).await.unwrap(),
        Ok(Data::LongUnsigned(1015))
    );
    assert_eq!(
        c.get(1, COVER_COUNT, 2, None).await.unwrap(),
        Ok(Data::DoubleLongUnsigned(3))
    );
    let Ok(Data::Array(rows)) = c.get(7, FRAUD_LOG, 2, None).await.unwrap() else {
        panic!()
    };
    assert_eq!(rows.len(), 2);
    // The events tell what was served, in order.
    let first = wait_for(&mut events, |e| match e {
        SimEvent::Served {
            meter: 0,
            served: Served::Associated { client_sap, .. },
        } => Some(*client_sap),
        _ => None,
    })
    .await;
    assert_eq!(first, Some(0x10));
    assert_eq!(handle.snapshot(0).unwrap().status, Some(1015));
    assert!(handle.set_status(7, 1000).is_err(), "no meter 7");
}

#[tokio::test(start_paused = true)]
async fn an_operator_opens_and_closes_the_relay() {
    let (sim, link) = start(Scenario::builtin(), SimOptions::default());
    let server = HdlcAddress::server(1, Some(17)).unwrap();
    let mut c = RawClient::with_client(link, 1, server).unwrap();
    c.connect().await.unwrap();
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
    let act = |method| {
        Apdu::ActionRequest(calin_agent::protocol::apdu::ActionRequest {
            invoke: InvokeIdAndPriority::default(),
            method: MethodDescriptor::new(70, RELAY, method),
            parameters: Some(Data::Integer(0)),
        })
    };
    let Apdu::ActionResponse(r) = c.request(&act(1)).await.unwrap() else {
        panic!()
    };
    assert_eq!(u8::from(r.result), 0);
    let snap = sim.handle().snapshot(0).unwrap();
    assert_eq!(snap.relay, Some(RelayState::Disconnected));
    assert_eq!(snap.status, Some(1007));
    assert_eq!(
        c.get(70, RELAY, 2, None).await.unwrap(),
        Ok(Data::Boolean(false))
    );
    c.request(&act(2)).await.unwrap();
    assert_eq!(
        c.get(70, RELAY, 2, None).await.unwrap(),
        Ok(Data::Boolean(true))
    );
    let set = Apdu::SetRequest(calin_agent::protocol::apdu::SetRequest {
        invoke: InvokeIdAndPriority::default(),
        attribute: AttributeDescriptor::new(71, ObisCode::new(0, 0, 17, 0, 0, 255), 3),
        access: None,
        value: Data::DoubleLongUnsigned(7000),
    });
    let Apdu::SetResponse(r) = c.request(&set).await.unwrap() else {
        panic!()
    };
    assert_eq!(r.result, DataAccessResult::Success);
    assert_eq!(
        sim.handle().snapshot(0).unwrap().codes[&ShortCode(14)],
        7000
    );
}

#[tokio::test(start_paused = true)]
async fn the_demo_tamper_happens_at_thirty_seconds_and_faster_with_a_time_scale() {
    for (scale, wait) in [(1.0, 30_000), (10.0, 3_000)] {
        let options = SimOptions {
            time_scale: scale,
            ..SimOptions::default()
        };
        let (sim, link) = start(Scenario::demo().unwrap(), options);
        let mut c = public_session(link, 18).await;
        assert_eq!(
            c.get(1, STATUS, 2, None).await.unwrap(),
            Ok(Data::LongUnsigned(1000))
        );
        let before = Instant::now();
        tokio::time::sleep_until(before + Duration::from_millis(wait)).await;
        assert_eq!(
            c.get(1, STATUS, 2, None).await.unwrap(),
            Ok(Data::LongUnsigned(1005)),
            "scale {scale}"
        );
        assert_eq!(
            c.get(1, COVER_COUNT, 2, None).await.unwrap(),
            Ok(Data::DoubleLongUnsigned(1))
        );
        assert!(sim.handle().scenario_time() >= Duration::from_secs(30));
    }
}

#[tokio::test(start_paused = true)]
async fn a_meter_that_goes_silent_returns_later() {
    // kiosk-4: off at 45 s, back at 90 s.
    let (_sim, link) = start(Scenario::demo().unwrap(), SimOptions::default());
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(50)).await;
    let mut c = RawClient::public(link, 20).unwrap();
    assert!(c.connect().await.is_err(), "silent at 50 s");
    assert!(c.received.is_empty());
    tokio::time::sleep_until(start + Duration::from_secs(91)).await;
    let mut c = public_session(c.into_link(), 20).await;
    // Back on with one more power failure counted.
    assert_eq!(
        c.get(1, ObisCode::new(0, 0, 96, 7, 0, 255), 2, None)
            .await
            .unwrap(),
        Ok(Data::DoubleLongUnsigned(1))
    );
}

#[tokio::test(start_paused = true)]
async fn at_9600_baud_a_response_takes_its_wire_time() {
    let options = SimOptions {
        baud: Some(9600),
        ..SimOptions::default()
    };
    let (_sim, mut link) = start(Scenario::builtin(), options);
    // Hand-made SNRM; time the UA from the request to its last byte.
    let snrm = Frame::new(
        HdlcAddress::server(1, Some(17)).unwrap(),
        HdlcAddress::client(0x10).unwrap(),
        Control::Snrm { poll: true },
        Vec::new(),
    )
    .to_bytes()
    .unwrap();
    let sent = Instant::now();
    link.write_all(&snrm).await.unwrap();
    let mut deframer = Deframer::new();
    let mut buf = [0u8; 64];
    let mut total = 0usize;
    let ua = loop {
        let n = link.read(&mut buf).await.unwrap();
        total += n;
        deframer.push(&buf[..n]);
        if let Some(f) = deframer.next_frame().unwrap() {
            break f;
        }
    };
    let took = sent.elapsed();
    assert_eq!(ua.control, Control::Ua { poll: true });
    let wire = Duration::from_secs_f64(total as f64 * 10.0 / 9600.0);
    assert!(
        took >= wire,
        "{total} bytes in {took:?}, the line needs {wire:?}"
    );
    assert!(took < wire + Duration::from_millis(50), "{took:?}");
}
