//! Every fault has an effect a client sees on the wire, and the protocol crate's HDLC
//! client recovers where the protocol lets it. Virtual clock: the client's 3 s response
//! timeout costs no real time.

use std::time::Duration;

use calin_agent::protocol::apdu::{AcseServiceUserDiagnostic, SourceDiagnostic};
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::hdlc::{
    Control, DeframeError, FailReason, Frame, FrameError, HdlcAddress,
};
use calin_agent::protocol::obis::ObisCode;
use calin_agent::sim::testkit::{RawClient, RawError};
use calin_agent::sim::{
    wait_for, FaultKind, Framing, Scenario, SimEvent, SimHandle, SimOptions, Simulator,
};
use tokio::io::{duplex, DuplexStream};
use tokio::time::Instant;

const SERIAL: ObisCode = ObisCode::new(0, 0, 96, 1, 0, 255);
/// The client's response timeout (ClientConfig default).
const TIMEOUT: Duration = Duration::from_secs(3);

fn scenario(extra: &str) -> Scenario {
    let text = format!("[[meter]]\nphysical = 17\nserial = \"4700\"\npassword = \"pw\"\npublic_reads = \"all\"\n{extra}");
    Scenario::parse("faults.toml", &text).unwrap()
}

fn start(s: Scenario) -> (SimHandle, RawClient<DuplexStream>) {
    let sim = Simulator::new(s, SimOptions::default()).unwrap();
    let (agent_end, sim_end) = duplex(1 << 16);
    sim.serve_link(sim_end, Framing::Hdlc);
    (sim.handle(), RawClient::public(agent_end, 17).unwrap())
}

fn meter() -> HdlcAddress {
    HdlcAddress::server(1, Some(17)).unwrap()
}

fn is_ua_from(r: &Result<Frame, DeframeError>, from: HdlcAddress) -> bool {
    matches!(r, Ok(f) if f.control == Control::Ua { poll: true } && f.source == from)
}

/// Connect with `fault` on the UA: the time it took and what arrived.
async fn connect_through(fault: FaultKind) -> (Duration, Vec<Result<Frame, DeframeError>>) {
    let (handle, mut c) = start(scenario(""));
    let mut events = handle.subscribe();
    handle.inject_fault(0, fault.clone()).unwrap();
    let t0 = Instant::now();
    c.connect().await.expect("the client recovers");
    let took = t0.elapsed();
    let applied = wait_for(&mut events, |e| match e {
        SimEvent::FaultApplied { meter: 0, fault } => Some(fault.clone()),
        _ => None,
    })
    .await;
    assert_eq!(applied, Some(fault));
    (took, c.received)
}

#[tokio::test(start_paused = true)]
async fn delay_holds_the_answer_back() {
    let (took, received) = connect_through(FaultKind::Delay(Duration::from_millis(1500))).await;
    assert!(
        took >= Duration::from_millis(1500) && took < TIMEOUT,
        "{took:?}"
    );
    assert_eq!(received.len(), 1);
    assert!(is_ua_from(&received[0], meter()));
}

#[tokio::test(start_paused = true)]
async fn a_flipped_bit_is_a_bad_fcs_and_the_retry_gets_through() {
    let (took, received) = connect_through(FaultKind::FlipBit { bit: None }).await;
    assert!(took >= TIMEOUT, "{took:?}");
    assert!(
        matches!(
            received[0],
            Err(DeframeError {
                kind: FrameError::BadFcs { .. },
                ..
            })
        ),
        "{received:?}"
    );
    assert!(is_ua_from(received.last().unwrap(), meter()));
}

#[tokio::test(start_paused = true)]
async fn dropped_bytes_damage_the_frame() {
    let (took, received) = connect_through(FaultKind::DropBytes { count: 3 }).await;
    assert!(took >= TIMEOUT);
    assert!(received[0].is_err(), "{received:?}");
    assert!(is_ua_from(received.last().unwrap(), meter()));
}

#[tokio::test(start_paused = true)]
async fn a_truncated_frame_never_completes() {
    let (took, received) = connect_through(FaultKind::Truncate { count: None }).await;
    assert!(took >= TIMEOUT);
    assert!(received[0].is_err(), "{received:?}");
    assert_eq!(received.iter().filter(|r| r.is_ok()).count(), 1);
}

#[tokio::test(start_paused = true)]
async fn silence_costs_a_timeout() {
    let (took, received) = connect_through(FaultKind::Silence).await;
    assert!(took >= TIMEOUT);
    assert_eq!(received.len(), 1, "only the answer to the retry");
}

#[tokio::test(start_paused = true)]
async fn a_frame_from_another_address_is_ignored() {
    let (took, received) = connect_through(FaultKind::WrongSource { physical: Some(99) }).await;
    assert!(took >= TIMEOUT);
    assert!(
        is_ua_from(&received[0], HdlcAddress::server(1, Some(99)).unwrap()),
        "{received:?}"
    );
    assert!(is_ua_from(&received[1], meter()));
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_answer_is_dropped_by_sequence_number() {
    let (handle, mut c) = start(scenario(""));
    c.connect().await.unwrap();
    handle.inject_fault(0, FaultKind::Duplicate).unwrap();
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
    // The copy is still on the line; the next exchange reads past it.
    assert_eq!(
        c.get(1, SERIAL, 2, None).await.unwrap(),
        Ok(Data::OctetString(b"4700".to_vec()))
    );
    let frames: Vec<&Frame> = c.received.iter().filter_map(|r| r.as_ref().ok()).collect();
    let aare = frames[1];
    assert!(matches!(aare.control, Control::I { .. }));
    assert_eq!(frames.iter().filter(|f| **f == aare).count(), 2);
}

#[tokio::test(start_paused = true)]
async fn frmr_ends_the_session() {
    let (handle, mut c) = start(scenario(""));
    c.connect().await.unwrap();
    handle.inject_fault(0, FaultKind::Frmr).unwrap();
    let err = c.associate(None, 512).await.unwrap_err();
    assert!(
        matches!(err, RawError::Session(FailReason::FrameRejected(Some(_)))),
        "{err}"
    );
    let last = c.received.last().unwrap().as_ref().unwrap();
    assert_eq!(last.control, Control::Frmr { poll: true });
    // A new connection starts clean.
    c.connect().await.unwrap();
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
}

fn diagnostic(d: SourceDiagnostic) -> AcseServiceUserDiagnostic {
    match d {
        SourceDiagnostic::ServiceUser(d) => d,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn association_faults_answer_the_aarq() {
    let (handle, mut c) = start(scenario(""));
    c.connect().await.unwrap();
    handle
        .inject_fault(0, FaultKind::RefuseAssociation)
        .unwrap();
    let aare = c.associate(None, 512).await.unwrap();
    assert!(!aare.is_accepted());
    assert_eq!(
        diagnostic(aare.result_source_diagnostic),
        AcseServiceUserDiagnostic::NoReasonGiven
    );

    // Operator client 1 with the right password, refused once by the fault. (The meter
    // serves one client at a time: the public client leaves first.)
    c.disconnect().await.unwrap();
    let mut c = RawClient::with_client(c.into_link(), 1, meter()).unwrap();
    c.connect().await.unwrap();
    handle.inject_fault(0, FaultKind::RejectPassword).unwrap();
    let aare = c.associate(Some(b"pw"), 512).await.unwrap();
    assert_eq!(
        diagnostic(aare.result_source_diagnostic),
        AcseServiceUserDiagnostic::AuthenticationFailure
    );
    assert!(c.associate(Some(b"pw"), 512).await.unwrap().is_accepted());
}

#[tokio::test(start_paused = true)]
async fn scenario_faults_follow_their_triggers() {
    // The 2nd frame is lost; from 60 s to 90 s the meter is mute.
    let (_handle, mut c) = start(scenario(
        "[[meter.fault]]\nkind = \"silence\"\nnth = 2\n\
         [[meter.fault]]\nkind = \"silence\"\nfrom = 60\nuntil = 90\n",
    ));
    let t0 = Instant::now();
    c.connect().await.unwrap(); // frame 1
    assert!(t0.elapsed() < TIMEOUT);
    let t1 = Instant::now();
    assert!(c.associate(None, 512).await.unwrap().is_accepted()); // frame 2 lost, re-sent on poll
    assert!(t1.elapsed() >= TIMEOUT);
    tokio::time::sleep_until(t0 + Duration::from_secs(61)).await;
    let err = c.get(1, SERIAL, 2, None).await.unwrap_err();
    assert!(
        matches!(err, RawError::Session(FailReason::NoResponse { .. })),
        "{err}"
    );
    tokio::time::sleep_until(t0 + Duration::from_secs(90)).await;
    c.connect().await.unwrap();
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
}
