//! Stations driven by a sans-IO HDLC client and a virtual clock: multi-drop addressing,
//! whole exchanges, power loss, inactivity, the wrapper, faults in the write list.

use super::*;
use crate::profile::Profile;
use crate::protocol::apdu::{
    Aarq, Apdu, AttributeDescriptor, DataBlockResult, GetRequest, GetResponse, InitiateRequest,
    InvokeIdAndPriority,
};
use crate::protocol::axdr::{Data, Limits};
use crate::protocol::hdlc::{ClientConfig, Control, Frame, HdlcAddress, HdlcClient};
use crate::protocol::obis::ObisCode;
use crate::sim::dlms::Served;
use crate::sim::fault::FaultKind;
use crate::sim::scenario::Scenario;

const BUS: &str = "[[meter]]\nname = \"a\"\nphysical = 17\nserial = \"1\"\n\
                   [[meter]]\nname = \"b\"\nphysical = 18\nserial = \"2\"\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

struct Bench {
    fleet: Fleet,
    station: Station,
}

impl Bench {
    fn new(text: &str, framing: Framing, scale: f64) -> Bench {
        let s = Scenario::parse("t.toml", text).unwrap();
        let fleet = Fleet::new(&s, &Profile::calin(), scale).unwrap();
        let station = Station::new(&fleet, framing);
        Bench { fleet, station }
    }

    fn send(&mut self, now: Duration, bytes: &[u8]) -> Step {
        self.station.handle_bytes(&mut self.fleet, now, bytes)
    }
}

fn server(physical: u16) -> HdlcAddress {
    HdlcAddress::server(1, Some(physical)).unwrap()
}

fn client_for(physical: u16) -> HdlcClient {
    HdlcClient::new(ClientConfig::new(
        HdlcAddress::client(0x10).unwrap(),
        server(physical),
    ))
}

fn frame(bytes: &[u8]) -> Frame {
    Frame::parse(bytes).expect("a valid frame")
}

/// Run the client against the bench at `now` until it has nothing more to send; the
/// APDUs it delivered.
fn converse(b: &mut Bench, c: &mut HdlcClient, now: Duration) -> Vec<Vec<u8>> {
    let mut delivered = Vec::new();
    let mut guard = 0;
    while let Some(action) = c.poll_action() {
        guard += 1;
        assert!(guard < 10_000, "runaway conversation");
        match action {
            crate::protocol::hdlc::Action::Send(bytes) => {
                for w in b.send(now, &bytes).writes {
                    c.handle_bytes(now, &w.bytes);
                }
            }
            crate::protocol::hdlc::Action::Deliver(apdu) => delivered.push(apdu),
            crate::protocol::hdlc::Action::Fail(r) => panic!("client failed: {r}"),
            _ => {}
        }
    }
    delivered
}

fn connected(b: &mut Bench, physical: u16) -> HdlcClient {
    let mut c = client_for(physical);
    c.connect(Duration::ZERO).unwrap();
    converse(b, &mut c, Duration::ZERO);
    assert_eq!(c.state(), crate::protocol::hdlc::ClientState::Idle);
    c
}

fn request(b: &mut Bench, c: &mut HdlcClient, now: Duration, apdu: &Apdu) -> Apdu {
    c.send_apdu(now, &apdu.to_bytes()).unwrap();
    let got = converse(b, c, now);
    assert_eq!(got.len(), 1, "one response");
    Apdu::decode(&got[0]).unwrap()
}

fn snrm_to(physical: u16) -> Vec<u8> {
    let mut c = client_for(physical);
    c.connect(Duration::ZERO).unwrap();
    match c.poll_action() {
        Some(crate::protocol::hdlc::Action::Send(b)) => b,
        other => panic!("{other:?}"),
    }
}

#[test]
fn on_a_bus_only_the_addressed_meter_answers() {
    let mut b = Bench::new(BUS, Framing::Hdlc, 1.0);
    let step = b.send(ms(0), &snrm_to(18));
    assert_eq!(step.writes.len(), 1);
    let ua = frame(&step.writes[0].bytes);
    assert_eq!(ua.control, Control::Ua { poll: true });
    assert_eq!(ua.source, server(18));
    assert_eq!(step.writes[0].meter, 1);
    assert!(step.events.contains(&SimEvent::HdlcConnected {
        meter: 1,
        client: 0x10
    }));

    assert!(
        b.send(ms(1), &snrm_to(19)).writes.is_empty(),
        "nobody is 19"
    );
    let step = b.send(ms(2), &snrm_to(17));
    assert_eq!(frame(&step.writes[0].bytes).source, server(17));
    // The same physical address on a four-byte address is another station.
    let four = HdlcAddress::server_sized(
        1,
        Some(17),
        crate::protocol::hdlc::address::AddressSize::Four,
    )
    .unwrap();
    let mut c = HdlcClient::new(ClientConfig::new(HdlcAddress::client(0x10).unwrap(), four));
    c.connect(Duration::ZERO).unwrap();
    let Some(crate::protocol::hdlc::Action::Send(snrm)) = c.poll_action() else {
        panic!()
    };
    assert!(b.send(ms(3), &snrm).writes.is_empty());
}

#[test]
fn a_whole_exchange_with_segments_and_blocks() {
    let mut b = Bench::new(BUS, Framing::Hdlc, 1.0);
    let mut c = connected(&mut b, 18);
    let aare = request(
        &mut b,
        &mut c,
        ms(10),
        &Apdu::Aarq(Aarq::logical_name(None, InitiateRequest::new(256))),
    );
    assert!(
        matches!(aare, Apdu::Aare(ref a) if a.is_accepted()),
        "{aare:?}"
    );
    let invoke = InvokeIdAndPriority::default();
    let mut next = request(
        &mut b,
        &mut c,
        ms(20),
        &Apdu::GetRequest(GetRequest::Normal {
            invoke,
            attribute: AttributeDescriptor::new(15, ObisCode::new(0, 0, 40, 0, 0, 255), 2),
            access: None,
        }),
    );
    let mut raw = Vec::new();
    loop {
        let Apdu::GetResponse(GetResponse::WithDataBlock {
            last_block,
            block_number,
            result: DataBlockResult::RawData(chunk),
            ..
        }) = next
        else {
            panic!("{next:?}")
        };
        raw.extend(chunk);
        if last_block {
            break;
        }
        next = request(
            &mut b,
            &mut c,
            ms(30),
            &Apdu::GetRequest(GetRequest::Next {
                invoke,
                block_number,
            }),
        );
    }
    let (Data::Array(list), _) = Data::decode(&raw, &Limits::default()).unwrap() else {
        panic!()
    };
    assert_eq!(list.len(), b.fleet.meter(1).unwrap().objects.iter().count());
    // The other meter saw none of it.
    assert_eq!(b.fleet.meter(0).unwrap().faults.frames_sent(), 0);
}

#[test]
fn an_offline_meter_hears_nothing_and_comes_back_fresh() {
    let text = "[[meter]]\nphysical = 17\nserial = \"1\"\n\
                [[meter.change]]\nat = 10\noffline = true\n\
                [[meter.change]]\nat = 20\noffline = false\n";
    let mut b = Bench::new(text, Framing::Hdlc, 1.0);
    connected(&mut b, 17);
    // A poll while the meter is off: no answer.
    let rr = Frame::new(
        HdlcAddress::server(1, Some(17)).unwrap(),
        HdlcAddress::client(0x10).unwrap(),
        Control::Rr { nr: 0, poll: true },
        Vec::new(),
    )
    .to_bytes()
    .unwrap();
    assert!(b.send(Duration::from_secs(15), &rr).writes.is_empty());
    // Back on: the old session is gone, so the same poll is answered DM.
    let step = b.send(Duration::from_secs(25), &rr);
    assert_eq!(
        frame(&step.writes[0].bytes).control,
        Control::Dm { poll: true }
    );
    // A new connection works.
    connected(&mut b, 17);
}

#[test]
fn an_idle_connection_times_out() {
    let text = "[[meter]]\nphysical = 17\nserial = \"1\"\ninactivity_timeout = 5\n";
    let mut b = Bench::new(text, Framing::Hdlc, 1.0);
    connected(&mut b, 17);
    assert_eq!(b.station.next_deadline(), Some(Duration::from_secs(5)));
    assert!(b
        .station
        .handle_timeout(&mut b.fleet, Duration::from_secs(4))
        .events
        .is_empty());
    let step = b
        .station
        .handle_timeout(&mut b.fleet, Duration::from_secs(5));
    assert!(
        step.events
            .contains(&SimEvent::HdlcDisconnected { meter: 0 }),
        "{:?}",
        step.events
    );
    assert_eq!(b.station.next_deadline(), None);
}

#[test]
fn scripted_changes_follow_the_time_scale() {
    let text =
        "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.change]]\nat = 30\nstatus = 1015\n";
    let mut b = Bench::new(text, Framing::Hdlc, 10.0);
    assert!(b.send(Duration::from_millis(2_900), &[]).events.is_empty());
    let step = b.send(Duration::from_secs(3), &[]);
    assert_eq!(
        step.events,
        vec![SimEvent::ChangeApplied {
            meter: 0,
            at: Duration::from_secs(30)
        }]
    );
    assert_eq!(b.fleet.meter(0).unwrap().snapshot().status, Some(1015));
}

#[test]
fn faults_shape_the_writes() {
    let mut b = Bench::new(BUS, Framing::Hdlc, 1.0);
    b.fleet
        .meter_mut(0)
        .unwrap()
        .faults
        .inject(FaultKind::Delay(ms(700)));
    let step = b.send(ms(0), &snrm_to(17));
    assert_eq!(step.writes[0].delay, ms(700));
    assert!(step.events.contains(&SimEvent::FaultApplied {
        meter: 0,
        fault: FaultKind::Delay(ms(700))
    }));
    b.fleet
        .meter_mut(0)
        .unwrap()
        .faults
        .inject(FaultKind::Silence);
    let step = b.send(ms(1), &snrm_to(17));
    assert!(step.writes.is_empty());
    assert!(
        step.events.iter().any(|e| matches!(
            e,
            SimEvent::FrameSent {
                meter: 0,
                copies: 0,
                ..
            }
        )),
        "{:?}",
        step.events
    );
    b.fleet
        .meter_mut(0)
        .unwrap()
        .faults
        .inject(FaultKind::Duplicate);
    assert_eq!(b.send(ms(2), &snrm_to(17)).writes.len(), 2);
}

fn wrapped(source: u16, destination: u16, apdu: &Apdu) -> Vec<u8> {
    WrapperFrame::new(source, destination, apdu.to_bytes())
        .to_bytes()
        .unwrap()
}

#[test]
fn wrapper_serves_one_meter_per_client_wport() {
    let mut b = Bench::new(BUS, Framing::Wrapper { meter: 1 }, 1.0);
    let aarq = Apdu::Aarq(Aarq::logical_name(None, InitiateRequest::new(512)));
    let step = b.send(ms(0), &wrapped(16, 1, &aarq));
    assert_eq!(step.writes.len(), 1);
    let out = WrapperFrame::parse(&step.writes[0].bytes).unwrap();
    assert_eq!((out.source, out.destination), (1, 16));
    assert!(matches!(Apdu::decode(&out.apdu), Ok(Apdu::Aare(a)) if a.is_accepted()));
    assert!(step.events.iter().any(|e| matches!(
        e,
        SimEvent::Served {
            meter: 1,
            served: Served::Associated { client_sap: 16, .. }
        }
    )));
    // Client 102 has its own association: a GET before its AARQ is refused.
    let get = Apdu::GetRequest(GetRequest::Normal {
        invoke: InvokeIdAndPriority::default(),
        attribute: AttributeDescriptor::new(1, ObisCode::new(0, 0, 96, 1, 0, 255), 2),
        access: None,
    });
    let step = b.send(ms(1), &wrapped(102, 1, &get));
    let out = WrapperFrame::parse(&step.writes[0].bytes).unwrap();
    assert!(matches!(
        Apdu::decode(&out.apdu),
        Ok(Apdu::ExceptionResponse(_))
    ));
    // Split across reads: still one frame.
    let bytes = wrapped(16, 1, &get);
    assert!(b.send(ms(2), &bytes[..5]).writes.is_empty());
    let step = b.send(ms(3), &bytes[5..]);
    let out = WrapperFrame::parse(&step.writes[0].bytes).unwrap();
    assert!(matches!(Apdu::decode(&out.apdu), Ok(Apdu::GetResponse(_))));
    // Another server wPort: ignored. A wrong version: the stream is closed.
    assert!(b.send(ms(4), &wrapped(16, 2, &get)).writes.is_empty());
    assert!(b.send(ms(5), &[0, 2, 0, 16, 0, 1, 0, 0]).close);
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any bytes, in any chunks, on an HDLC line or a wrapper port: no panic, and every
        /// write is a whole frame the protocol crate parses (no fault is armed).
        #[test]
        fn arbitrary_bytes_never_break_a_station(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..16)) {
            let mut b = Bench::new(BUS, Framing::Hdlc, 1.0);
            for (i, chunk) in chunks.iter().enumerate() {
                for w in b.send(ms(i as u64), chunk).writes {
                    prop_assert!(Frame::parse(&w.bytes).is_ok());
                }
            }
            let mut b = Bench::new(BUS, Framing::Wrapper { meter: 0 }, 1.0);
            for (i, chunk) in chunks.iter().enumerate() {
                for w in b.send(ms(i as u64), chunk).writes {
                    prop_assert!(WrapperFrame::parse(&w.bytes).is_ok());
                }
            }
        }

        /// Any APDU bytes inside a well-formed I-frame: the meter answers with an APDU that
        /// decodes (an exception-response for garbage), and the session stays usable.
        #[test]
        fn arbitrary_apdus_get_a_decodable_answer(apdu in proptest::collection::vec(any::<u8>(), 1..200)) {
            let mut b = Bench::new(BUS, Framing::Hdlc, 1.0);
            let mut c = connected(&mut b, 17);
            c.send_apdu(ms(1), &apdu).unwrap();
            let got = converse(&mut b, &mut c, ms(1));
            prop_assert_eq!(got.len(), 1);
            prop_assert!(Apdu::decode(&got[0]).is_ok());
            let aarq = Apdu::Aarq(Aarq::logical_name(None, InitiateRequest::new(512)));
            prop_assert!(matches!(request(&mut b, &mut c, ms(2), &aarq), Apdu::Aare(_)));
        }
    }
}
