//! The simulator's optical port (IEC 62056-21) on real links: the readout's bytes over
//! loopback TCP checked by hand (BCC, values against the meter's state, a change made
//! through the handle), mode E handing the same connection to a DLMS association, and
//! on a pty the check of when the client switched baud. Only 127.0.0.1.

use std::time::Duration;

use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::iec62056_21::{MeterEvent, SessionEnd, SwitchCheck};
use calin_agent::protocol::obis::ObisCode;
use calin_agent::sim::testkit::RawClient;
use calin_agent::sim::{wait_for, Framing, Scenario, SimEvent, SimOptions, Simulator};
use calin_agent::transport::{LineSettings, Link, SerialLink, TcpLink};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::broadcast;

const WAIT: Duration = Duration::from_secs(10);
const SIGN_ON: &[u8] = b"/?!\r\n";
const STX: u8 = 0x02;
const ETX: u8 = 0x03;

const SCENARIO: &str = r#"
start = "2024-05-01T08:00:00Z"
[[meter]]
name = "a"
physical = 17
serial = "47001234567"
[meter.codes]
01 = { value = 9876543, scaler = -1, unit = "Wh" }
31 = { value = 2500, scaler = 0, unit = "W" }
35 = { value = 987, scaler = -3 }
40 = 3
52 = 7
87 = 0
"#;

/// Meter a with a long reaction time: a wide window for the client's switch on a pty.
const SLOW: &str = r#"
[[meter]]
physical = 17
serial = "123"
[meter.optical]
reaction_ms = 1500
"#;

fn sim(text: &str) -> Simulator {
    Simulator::new(
        Scenario::parse("optical.toml", text).unwrap(),
        SimOptions::default(),
    )
    .unwrap()
}

/// Read until `done` says the bytes are whole.
async fn read_until(link: &mut (impl AsyncRead + Unpin), done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !done(&got) {
        let n = tokio::time::timeout(WAIT, link.read(&mut buf))
            .await
            .expect("the meter answers in time")
            .unwrap();
        assert!(n > 0, "link closed after {got:?}");
        got.extend_from_slice(&buf[..n]);
    }
    got
}

fn line_done(b: &[u8]) -> bool {
    b.ends_with(b"\r\n")
}

/// A block is whole once the byte after ETX (the BCC) is there.
fn block_done(b: &[u8]) -> bool {
    b.iter()
        .position(|&c| c == ETX)
        .is_some_and(|i| b.len() > i + 1)
}

/// The data lines of a readout, after checking STX, the end line, ETX and the BCC (XOR
/// of everything after STX up to and including ETX), computed here.
fn readout_lines(block: &[u8]) -> Vec<String> {
    assert_eq!(block[0], STX, "{block:?}");
    let etx = block.iter().position(|&c| c == ETX).unwrap();
    assert_eq!(block.len(), etx + 2, "nothing after the BCC");
    let bcc = block[1..=etx].iter().fold(0u8, |a, b| a ^ b);
    assert_eq!(block[etx + 1], bcc, "BCC");
    assert!(block.iter().all(|b| *b < 0x80), "7-bit characters");
    let text = std::str::from_utf8(&block[1..etx]).unwrap();
    let body = text.strip_suffix("!\r\n").expect("the end line");
    body.split_terminator("\r\n").map(str::to_owned).collect()
}

async fn readout(link: &mut (impl AsyncRead + AsyncWriteExt + Unpin)) -> Vec<String> {
    link.write_all(SIGN_ON).await.unwrap();
    assert_eq!(read_until(link, line_done).await, b"/CLN5\\2CALIN-SIM\r\n");
    link.write_all(b"\x06050\r\n").await.unwrap();
    readout_lines(&read_until(link, block_done).await)
}

fn value<'a>(lines: &'a [String], id: &str) -> &'a str {
    let prefix = format!("{id}(");
    lines
        .iter()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no {id} in {lines:?}"))
}

async fn wait_event<T>(
    rx: &mut broadcast::Receiver<SimEvent>,
    pick: impl FnMut(&SimEvent) -> Option<T>,
) -> T {
    tokio::time::timeout(WAIT, wait_for(rx, pick))
        .await
        .expect("the event in time")
        .expect("the simulator is running")
}

#[tokio::test]
async fn the_readout_over_tcp_is_the_meter_state_and_follows_changes() {
    let sim = sim(SCENARIO);
    let (addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Optical)
        .await
        .unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let lines = readout(&mut tcp).await;
    assert_eq!(value(&lines, "C.1.0"), "47001234567");
    // 9876543 × 10^-1 Wh = 987.6543 kWh, printed with three decimals.
    assert_eq!(value(&lines, "1.8.0"), "000987.654*kWh");
    assert_eq!(value(&lines, "1.7.0"), "02.500*kW");
    assert_eq!(value(&lines, "13.7.0"), "0.987");
    assert_eq!(value(&lines, "C.20.0"), "3");
    assert_eq!(value(&lines, "C.7.0"), "7");
    assert_eq!(value(&lines, "C.5.0"), "1000");
    assert_eq!(value(&lines, "C.87.0"), "0");
    assert_eq!(value(&lines, "C.3.10"), "1");

    // Magnetic tamper, the relay opened for it: the next session sees both.
    let h = sim.handle();
    h.set_status(0, 1015).unwrap();
    h.set_code(0, calin_agent::codes::ShortCode(87), 15)
        .unwrap();
    h.set_relay(0, calin_agent::sim::RelayState::Disconnected)
        .unwrap();
    h.bump_counter(0, calin_agent::codes::ShortCode(40), 1)
        .unwrap();
    let lines = readout(&mut tcp).await;
    assert_eq!(value(&lines, "C.5.0"), "1015");
    assert_eq!(value(&lines, "C.87.0"), "15");
    assert_eq!(value(&lines, "C.3.10"), "0");
    assert_eq!(value(&lines, "C.20.0"), "4");
    sim.handle().shutdown();
}

#[tokio::test]
async fn a_sign_on_for_another_address_gets_no_answer() {
    let sim = sim(SCENARIO);
    let mut events = sim.handle().subscribe();
    let (addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Optical)
        .await
        .unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"/?12345!\r\n").await.unwrap();
    let answered = wait_event(&mut events, |e| match e {
        SimEvent::OpticalSignOn { meter, .. } => Some(*meter),
        _ => None,
    })
    .await;
    assert_eq!(answered, None, "no meter has address 12345");
    // The same connection, the meter's own address: answered.
    tcp.write_all(b"/?47001234567!\r\n").await.unwrap();
    assert_eq!(
        read_until(&mut tcp, line_done).await,
        b"/CLN5\\2CALIN-SIM\r\n",
        "and nothing was sent for the first sign-on"
    );
    sim.handle().shutdown();
}

#[tokio::test]
async fn mode_e_hands_the_connection_to_dlms_and_back() {
    let sim = sim(SCENARIO);
    let mut events = sim.handle().subscribe();
    let (addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Optical)
        .await
        .unwrap();
    let mut link = TcpLink::connect(&addr.to_string(), WAIT).await.unwrap();
    link.write_all(SIGN_ON).await.unwrap();
    read_until(&mut link, line_done).await;
    // Protocol control 2 (HDLC), 9600 baud, mode 2 (binary).
    link.write_all(b"\x06252\r\n").await.unwrap();
    let mut c = RawClient::public(link, 17).unwrap();
    c.connect().await.unwrap();
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
    assert_eq!(
        c.get(3, ObisCode::new(1, 0, 1, 8, 0, 255), 2, None)
            .await
            .unwrap(),
        Ok(Data::DoubleLongUnsigned(9_876_543))
    );
    c.disconnect().await.unwrap();
    // Over TCP the client's SNRM came at once, sooner than its reaction time allows:
    // reported, and served anyway.
    let first = wait_event(&mut events, |e| match e {
        SimEvent::Optical {
            event: MeterEvent::SwitchChecked(c),
            ..
        } => Some(*c),
        _ => None,
    })
    .await;
    assert!(
        matches!(first, SwitchCheck::SwitchTooEarly { .. }),
        "{first:?}"
    );
    let baud = wait_event(&mut events, |e| match e {
        SimEvent::OpticalModeE { meter: 0, baud } => Some(*baud),
        _ => None,
    })
    .await;
    assert_eq!(baud, 9600);
    let end = wait_event(&mut events, |e| match e {
        SimEvent::Optical {
            event: MeterEvent::Ended(end),
            ..
        } => Some(*end),
        _ => None,
    })
    .await;
    assert_eq!(end, SessionEnd::HdlcEnded);
    // Back at the start: a new sign-on on the same connection is answered.
    let mut link = c.into_link();
    link.write_all(SIGN_ON).await.unwrap();
    assert_eq!(
        read_until(&mut link, line_done).await,
        b"/CLN5\\2CALIN-SIM\r\n"
    );
    sim.handle().shutdown();
}

/// Sign on and select readout at 9600 over a pty opened at 300 7E1.
async fn pty_to_ack(sim: &Simulator) -> SerialLink {
    let (path, _task) = sim.serve_pty(Framing::Optical).unwrap();
    let mut port = SerialLink::open(path.to_str().unwrap(), LineSettings::new_7e1(300))
        .await
        .unwrap();
    port.write_all(SIGN_ON).await.unwrap();
    read_until(&mut port, line_done).await;
    port.write_all(b"\x06050\r\n").await.unwrap();
    port
}

async fn switch_check(events: &mut broadcast::Receiver<SimEvent>) -> SwitchCheck {
    wait_event(events, |e| match e {
        SimEvent::Optical {
            event: MeterEvent::SwitchChecked(c),
            ..
        } => Some(*c),
        _ => None,
    })
    .await
}

#[tokio::test]
async fn on_a_pty_switching_right_after_the_ack_is_too_early() {
    let sim = sim(SLOW);
    let mut events = sim.handle().subscribe();
    let mut port = pty_to_ack(&sim).await;
    // At once: at 300 baud the ack is still on the wire for 167 ms.
    port.set_line(LineSettings::new_7e1(9600)).await.unwrap();
    let check = switch_check(&mut events).await;
    assert!(
        matches!(check, SwitchCheck::SwitchDuringAck { .. }),
        "{check:?}"
    );
}

#[tokio::test]
async fn on_a_pty_switching_after_the_reply_began_is_too_late() {
    let sim = sim(SLOW);
    let mut events = sim.handle().subscribe();
    let mut port = pty_to_ack(&sim).await;
    // Stay at 300 baud until the readout's first byte has arrived, then switch.
    let first = read_until(&mut port, |b| !b.is_empty()).await;
    assert_eq!(first[0], STX);
    port.set_line(LineSettings::new_7e1(9600)).await.unwrap();
    let check = switch_check(&mut events).await;
    assert!(
        matches!(check, SwitchCheck::SwitchTooLate { .. }),
        "{check:?}"
    );
}

#[tokio::test]
async fn on_a_pty_switching_between_ack_and_reply_is_in_time_and_the_rate_is_checked() {
    let sim = sim(SLOW);
    let mut events = sim.handle().subscribe();
    let mut port = pty_to_ack(&sim).await;
    // Design: the client's protocol wait, not synchronisation: the ack has left the wire
    // after 167 ms and the meter answers 1500 ms after that; 400 ms is well inside.
    tokio::time::sleep(Duration::from_millis(400)).await;
    port.set_line(LineSettings::new_7e1(4800)).await.unwrap();
    let check = switch_check(&mut events).await;
    assert!(matches!(check, SwitchCheck::InTime { .. }), "{check:?}");
    let wrong = wait_event(&mut events, |e| match e {
        SimEvent::OpticalPeerBaud { agreed, seen, .. } => Some((*agreed, *seen)),
        _ => None,
    })
    .await;
    assert_eq!(
        wrong,
        (9600, 4800),
        "4800 is not what the option select asked for"
    );
    // The readout still arrives (a pty carries bytes at any rate).
    let lines = readout_lines(&read_until(&mut port, block_done).await);
    assert_eq!(value(&lines, "C.1.0"), "123");
}

/// With pacing on, the port runs at 300 baud 7E1 until the option select and at the
/// agreed rate after it (virtual time: the wire times are exact).
#[tokio::test(start_paused = true)]
async fn paced_the_port_follows_the_sessions_baud_rate() {
    let options = SimOptions {
        baud: Some(19200),
        ..SimOptions::default()
    };
    let sim = Simulator::new(Scenario::parse("o.toml", SCENARIO).unwrap(), options).unwrap();
    let (mut client, sim_end) = tokio::io::duplex(4096);
    sim.serve_link(sim_end, Framing::Optical);
    let at_300 = LineSettings::new_7e1(300);
    let t0 = tokio::time::Instant::now();
    client.write_all(SIGN_ON).await.unwrap();
    let ident = read_until(&mut client, line_done).await;
    // The reaction time, then 18 characters at 300 baud (the last one whole).
    let expected = Duration::from_millis(200) + at_300.wire_time(ident.len() as u64);
    let took = t0.elapsed();
    assert!(
        took >= expected && took < expected + Duration::from_millis(5),
        "{took:?} vs {expected:?}"
    );
    let t1 = tokio::time::Instant::now();
    client.write_all(b"\x06050\r\n").await.unwrap();
    let block = read_until(&mut client, block_done).await;
    // The ack's wire time at 300, the reaction time, then the block at 9600.
    let at_9600 = LineSettings::new_7e1(9600);
    let expected =
        at_300.wire_time(5) + Duration::from_millis(200) + at_9600.wire_time(block.len() as u64);
    let took = t1.elapsed();
    assert!(
        took >= expected && took < expected + Duration::from_millis(5),
        "{took:?} vs {expected:?}: the block went out at 9600, not 300 or 19200"
    );
    readout_lines(&block);
}

/// The agent's own optical reader (`meter::optical`) against the simulator on a pty: the
/// readout maps onto the readings the agent's id table expects, and the simulator finds
/// that the agent switched baud in time. Both ends are ours; the Python peer in
/// `interop_iec21.rs` is the independent check.
#[tokio::test]
async fn the_agents_optical_reader_reads_the_simulator_and_switches_in_time() {
    use calin_agent::codes::{OperatingStatus, ShortCode};
    use calin_agent::meter::optical::{self, OpticalConfig, ReadoutMap};
    use calin_agent::meter::read::ReadValue;
    use calin_agent::profile::Reads;

    let sim = sim(SCENARIO);
    sim.handle().set_status(0, 1015).unwrap();
    let mut events = sim.handle().subscribe();
    let (path, _task) = sim.serve_pty(Framing::Optical).unwrap();
    let mut port = SerialLink::open(path.to_str().unwrap(), LineSettings::new_7e1(300))
        .await
        .unwrap();
    let readout = tokio::time::timeout(WAIT, optical::read_out(&mut port, &OpticalConfig::new()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(readout.baud, 9600);
    let readings = ReadoutMap::builtin().readings(&readout.data_sets);
    let mapped = |reads: Reads| {
        readings
            .iter()
            .find_map(|r| match r {
                Ok(r) if r.reads == Some(reads) => Some(r.value.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {reads} in {readings:?}"))
    };
    assert!(readings.iter().all(Result::is_ok), "{readings:?}");
    assert_eq!(mapped(Reads::Serial), ReadValue::Text("47001234567".into()));
    assert_eq!(
        mapped(Reads::Status),
        ReadValue::Status(OperatingStatus(1015))
    );
    assert_eq!(mapped(Reads::Short(ShortCode(40))), ReadValue::Count(3));
    assert_eq!(mapped(Reads::Short(ShortCode(52))), ReadValue::Count(7));
    let energy = format!("{:?}", mapped(Reads::Short(ShortCode(1))));
    assert!(energy.contains("987654"), "{energy}");
    let check = switch_check(&mut events).await;
    assert!(matches!(check, SwitchCheck::InTime { .. }), "{check:?}");
}
