//! The optical port driven byte by byte on a virtual clock: sign-on routing, the readout's
//! bytes and values, the checks of the client's baud switch, programming mode, mode E and
//! its return to 300 baud. No I/O, no sleeps.

use core::time::Duration;

use super::*;
use crate::profile::Profile;
use crate::protocol::hdlc::{ClientConfig, Control, Frame, HdlcAddress, HdlcClient};
use crate::protocol::iec62056_21::{add_even_parity, MeterEvent, SessionEnd, SwitchCheck};
use crate::sim::scenario::Scenario;
use crate::sim::station::{Framing, Station};

const SCENARIO: &str = r#"
start = "2024-05-01T08:00:00Z"
[[meter]]
name = "a"
physical = 17
serial = "47001234567"
password = "12345678"
firmware = "FW-1.04"
[meter.optical]
reaction_ms = 200
[meter.codes]
01 = { value = 1234567, scaler = 0, unit = "Wh" }
31 = { value = -1820, scaler = 0, unit = "W" }
35 = { value = 950, scaler = -3 }
52 = 5
87 = 0
[[meter.events]]
log = "0.0.99.98.0.255"
entries = [{ time = "2024-04-29T23:59:59Z", code = 1 }]

[[meter]]
name = "b"
physical = 18
serial = "47001234568"
protocols = ["dlms", "iec62056-21"]
[meter.optical]
baud = 4800
mode_e = false
"#;

const SIGN_ON: &[u8] = b"/?!\r\n";
const ACK_READOUT_9600: &[u8] = b"\x06050\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

struct Bench {
    fleet: Fleet,
    station: Station,
    now: Duration,
    writes: Vec<Write>,
    events: Vec<SimEvent>,
}

impl Bench {
    fn new(text: &str) -> Bench {
        let s = Scenario::parse("t.toml", text).unwrap();
        let fleet = Fleet::new(&s, &Profile::calin(), 1.0).unwrap();
        let station = Station::new(&fleet, Framing::Optical);
        Bench {
            fleet,
            station,
            now: Duration::ZERO,
            writes: Vec::new(),
            events: Vec::new(),
        }
    }

    fn record(&mut self, step: Step) {
        self.writes.extend(step.writes);
        self.events.extend(step.events);
    }

    fn send(&mut self, at: Duration, bytes: &[u8]) {
        self.run_until(at);
        let step = self.station.handle_bytes(&mut self.fleet, at, bytes);
        self.record(step);
    }

    /// Fire every timer due by `until`, in order.
    fn run_until(&mut self, until: Duration) {
        while let Some(d) = self.station.next_deadline().filter(|d| *d <= until) {
            self.now = self.now.max(d);
            let step = self.station.handle_timeout(&mut self.fleet, self.now);
            self.record(step);
        }
        self.now = self.now.max(until);
    }

    fn peer(&mut self, at: Duration, baud: u32) {
        self.run_until(at);
        let step = self.station.handle_peer_baud(&mut self.fleet, at, baud);
        self.record(step);
    }

    /// Bytes written since the last call.
    fn take_bytes(&mut self) -> Vec<u8> {
        self.writes.drain(..).flat_map(|w| w.bytes).collect()
    }

    fn lines(&self) -> Vec<LineSettings> {
        self.writes.iter().filter_map(|w| w.line).collect()
    }

    fn checks(&self) -> Vec<SwitchCheck> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SimEvent::Optical {
                    event: MeterEvent::SwitchChecked(c),
                    ..
                } => Some(*c),
                _ => None,
            })
            .collect()
    }

    fn ended(&self) -> Vec<SessionEnd> {
        self.events
            .iter()
            .filter_map(|e| match e {
                SimEvent::Optical {
                    event: MeterEvent::Ended(end),
                    ..
                } => Some(*end),
                _ => None,
            })
            .collect()
    }

    /// Sign on, take the identification, select readout at 9600 at 1 s.
    fn sign_on_and_select(&mut self) {
        self.send(ms(0), SIGN_ON);
        self.run_until(ms(900));
        assert_eq!(self.take_bytes(), b"/CLN5\\2CALIN-SIM\r\n");
        self.send(ms(1000), ACK_READOUT_9600);
    }
}

/// XOR of everything after the opening STX/SOH up to and including ETX (§6.3.12), done
/// here independently of the protocol crate.
fn bcc(block: &[u8]) -> u8 {
    block
        .get(1..block.len() - 1)
        .unwrap()
        .iter()
        .fold(0, |a, b| a ^ b)
}

/// The lines of a readout block, checked: STX, lines, `!`, CR LF, ETX, BCC.
fn readout_lines(block: &[u8]) -> Vec<String> {
    assert_eq!(block.first(), Some(&0x02), "STX first: {block:?}");
    assert_eq!(block[block.len() - 2], 0x03, "ETX before the BCC");
    assert_eq!(*block.last().unwrap(), bcc(block), "BCC");
    let text = std::str::from_utf8(&block[1..block.len() - 2]).unwrap();
    let body = text.strip_suffix("!\r\n").expect("the end line");
    assert!(body.ends_with("\r\n"));
    body.split_terminator("\r\n").map(str::to_owned).collect()
}

#[test]
fn readout_is_the_meter_state_in_a_block_with_a_correct_bcc() {
    let mut b = Bench::new(SCENARIO);
    b.sign_on_and_select();
    // The ack's last character arrives 5 characters (166.7 ms at 300 baud) after its
    // first; the meter answers its reaction time later, at 9600 baud 7E1.
    assert_eq!(b.lines(), vec![LineSettings::new_7e1(9600)]);
    b.writes.clear();
    b.run_until(ms(1366));
    assert!(b.writes.is_empty(), "not before the reaction time");
    b.run_until(ms(1367));
    let block = b.take_bytes();
    assert_eq!(
        readout_lines(&block),
        [
            "0.0.0(47001234567)",
            "C.1.0(47001234567)",
            "0.2.0(FW-1.04)",
            // The readout is taken at sign-on.
            "0.9.1(08:00:00)",
            "0.9.2(24-05-01)",
            "1.8.0(001234.567*kWh)",
            "1.7.0(00.000*kW)",
            "16.7.0(-01.820*kW)",
            "13.7.0(0.950)",
            "0-0:17.0.0(00.000*kW)",
            "C.5.0(1000)",
            "C.3.10(1)",
            "C.87.0(0)",
            "C.20.0(0)",
            "C.128.46(0)",
            "C.7.0(5)",
            "C.128.58(0)",
            "C.53.0(24-04-29 23:59:59)",
            "F.F(00000000)",
        ]
    );
    // Once the block has left the wire (BCC included) the port returns to 300 baud.
    let wire = LineSettings::new_7e1(9600).wire_time(block.len() as u64);
    b.run_until(ms(1367) + wire + ms(1));
    assert_eq!(b.lines(), vec![LineSettings::new_7e1(300)]);
    assert_eq!(b.ended(), vec![SessionEnd::ReadoutSent]);
    assert!(b.station.next_deadline().is_none());
}

#[test]
fn a_status_change_shows_in_the_next_readout() {
    let mut b = Bench::new(SCENARIO);
    b.fleet.meter_mut(0).unwrap().set_status(1015);
    b.fleet
        .meter_mut(0)
        .unwrap()
        .set_code(crate::codes::ShortCode(87), 15);
    b.sign_on_and_select();
    b.run_until(ms(1400));
    let lines = readout_lines(&b.take_bytes());
    assert!(lines.contains(&"C.5.0(1015)".to_owned()), "{lines:?}");
    assert!(lines.contains(&"C.87.0(15)".to_owned()), "{lines:?}");
}

#[test]
fn a_sign_on_reaches_the_addressed_meter_only() {
    let mut b = Bench::new(SCENARIO);
    b.send(ms(0), b"/?47001234568!\r\n");
    assert_eq!(
        b.events.last(),
        Some(&SimEvent::OpticalSignOn {
            meter: Some(1),
            address: Some("47001234568".into())
        })
    );
    b.run_until(ms(300));
    // Meter b offers 4800 baud (4) and no mode E.
    assert_eq!(b.take_bytes(), b"/CLN4CALIN-SIM\r\n");

    let mut b = Bench::new(SCENARIO);
    b.send(ms(0), b"/?99!\r\n");
    assert_eq!(
        b.events.last(),
        Some(&SimEvent::OpticalSignOn {
            meter: None,
            address: Some("99".into())
        })
    );
    b.run_until(ms(5000));
    assert!(b.take_bytes().is_empty(), "nobody answers");
    // Leading zeros are not significant.
    b.send(ms(6000), b"/?0047001234567!\r\n");
    b.run_until(ms(6300));
    assert_eq!(b.take_bytes(), b"/CLN5\\2CALIN-SIM\r\n");
}

#[test]
fn parity_bits_on_the_way_in_are_dropped_and_a_powered_off_meter_is_silent() {
    let mut b = Bench::new(SCENARIO);
    let with_parity: Vec<u8> = SIGN_ON.iter().map(|c| add_even_parity(*c)).collect();
    assert_ne!(with_parity, SIGN_ON, "some characters carry a parity bit");
    b.send(ms(0), &with_parity);
    b.run_until(ms(300));
    assert_eq!(b.take_bytes(), b"/CLN5\\2CALIN-SIM\r\n");

    let mut b = Bench::new(SCENARIO);
    b.fleet.meter_mut(0).unwrap().set_offline(true);
    b.send(ms(0), SIGN_ON);
    // The first meter is off: the unaddressed sign-on goes to the next one.
    assert_eq!(
        b.events.last(),
        Some(&SimEvent::OpticalSignOn {
            meter: Some(1),
            address: None
        })
    );
}

#[test]
fn a_switch_between_the_ack_and_the_reply_is_in_time() {
    let mut b = Bench::new(SCENARIO);
    b.sign_on_and_select();
    assert!(b.station.watches_peer_baud());
    b.peer(ms(1250), 9600);
    match b.checks().as_slice() {
        [SwitchCheck::InTime { after }] => {
            assert!(*after > ms(83) && *after < ms(84), "{after:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(!b.station.watches_peer_baud(), "checked once");
    assert!(!b
        .events
        .iter()
        .any(|e| matches!(e, SimEvent::OpticalPeerBaud { .. })));
}

#[test]
fn a_switch_while_the_ack_is_on_the_wire_is_too_early() {
    let mut b = Bench::new(SCENARIO);
    b.sign_on_and_select();
    b.peer(ms(1100), 9600);
    assert!(
        matches!(b.checks().as_slice(), [SwitchCheck::SwitchDuringAck { before_end }] if *before_end > ms(66) && *before_end < ms(67)),
        "{:?}",
        b.checks()
    );
}

#[test]
fn a_switch_seen_before_the_ack_was_read_counts_from_when_it_was_seen() {
    let mut b = Bench::new(SCENARIO);
    b.send(ms(0), SIGN_ON);
    b.run_until(ms(900));
    b.peer(ms(950), 300); // first report: the client's line as it was
    b.peer(ms(990), 9600); // the client switched before we read its ack
    assert!(
        b.checks().is_empty(),
        "nothing to check before the option select"
    );
    b.send(ms(1000), ACK_READOUT_9600);
    assert!(
        matches!(b.checks().as_slice(), [SwitchCheck::SwitchDuringAck { .. }]),
        "{:?}",
        b.checks()
    );
}

#[test]
fn a_switch_after_the_reply_began_is_too_late_and_a_wrong_rate_is_reported() {
    let mut b = Bench::new(SCENARIO);
    b.peer(ms(0), 300);
    b.sign_on_and_select();
    b.run_until(ms(1400));
    assert!(
        !b.take_bytes().is_empty(),
        "the readout went out at 1366.7 ms"
    );
    b.peer(ms(1400), 4800);
    assert!(
        matches!(b.checks().as_slice(), [SwitchCheck::SwitchTooLate { .. }]),
        "{:?}",
        b.checks()
    );
    assert!(b.events.contains(&SimEvent::OpticalPeerBaud {
        meter: 0,
        agreed: 9600,
        seen: 4800
    }));
}

/// A block `SOH|STX ... ETX BCC` with the BCC computed here.
fn block(start: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![start];
    out.extend_from_slice(body);
    out.push(0x03);
    let x = bcc(&[&out[..], &[0]].concat());
    out.push(x);
    out
}

#[test]
fn programming_mode_asks_for_the_password_and_reads_a_register() {
    let mut b = Bench::new(SCENARIO);
    b.send(ms(0), SIGN_ON);
    b.run_until(ms(900));
    b.take_bytes();
    b.send(ms(1000), b"\x06051\r\n");
    b.run_until(ms(1400));
    // P0 with the serial number as operand.
    assert_eq!(b.take_bytes(), block(0x01, b"P0\x02(47001234567)"));
    b.send(ms(2000), &block(0x01, b"P1\x02(wrong)"));
    b.run_until(ms(2300));
    assert_eq!(b.take_bytes(), [0x15], "NAK");
    b.send(ms(3000), &block(0x01, b"P1\x02(12345678)"));
    b.run_until(ms(3300));
    assert_eq!(b.take_bytes(), [0x06], "ACK");
    b.send(ms(4000), &block(0x01, b"R1\x021.8.0()"));
    b.run_until(ms(4300));
    assert_eq!(b.take_bytes(), block(0x02, b"1.8.0(001234.567*kWh)"));
    b.send(ms(5000), &block(0x01, b"B0"));
    assert_eq!(b.ended(), vec![SessionEnd::Break]);
    let accepted: Vec<&MeterEvent> = b
        .events
        .iter()
        .filter_map(|e| match e {
            SimEvent::Optical { event, .. } => Some(event),
            _ => None,
        })
        .filter(|e| {
            matches!(
                e,
                MeterEvent::PasswordAccepted | MeterEvent::PasswordRejected
            )
        })
        .collect();
    assert_eq!(
        accepted,
        [&MeterEvent::PasswordRejected, &MeterEvent::PasswordAccepted]
    );
}

fn hdlc_client() -> HdlcClient {
    HdlcClient::new(ClientConfig::new(
        HdlcAddress::client(0x10).unwrap(),
        HdlcAddress::server(1, Some(17)).unwrap(),
    ))
}

#[test]
fn mode_e_hands_the_line_to_hdlc_and_returns_to_300_baud_after_disc() {
    let mut b = Bench::new(SCENARIO);
    b.send(ms(0), SIGN_ON);
    b.run_until(ms(900));
    b.take_bytes();
    b.send(ms(1000), b"\x06252\r\n");
    assert_eq!(b.lines(), vec![LineSettings::new_8n1(9600)]);
    b.writes.clear();
    let mut c = hdlc_client();
    c.connect(ms(1500)).unwrap();
    let mut sent = Vec::new();
    while let Some(a) = c.poll_action() {
        if let crate::protocol::hdlc::Action::Send(bytes) = a {
            sent.extend(bytes);
        }
    }
    b.send(ms(1500), &sent);
    assert!(b.events.contains(&SimEvent::OpticalModeE {
        meter: 0,
        baud: 9600
    }));
    assert!(b.events.contains(&SimEvent::HdlcConnected {
        meter: 0,
        client: 0x10
    }));
    let ua = Frame::parse(&b.take_bytes()).unwrap();
    assert!(matches!(ua.control, Control::Ua { .. }), "{ua:?}");
    // 500 ms after the ack: the client waited its reaction time.
    assert!(
        matches!(b.checks().as_slice(), [SwitchCheck::InTime { .. }]),
        "{:?}",
        b.checks()
    );
    // DISC: UA, then the port is back at 300 baud 7E1 and a new sign-on is answered.
    let disc = Frame::new(
        HdlcAddress::server(1, Some(17)).unwrap(),
        HdlcAddress::client(0x10).unwrap(),
        Control::Disc { poll: true },
        Vec::new(),
    )
    .to_bytes()
    .unwrap();
    b.send(ms(2000), &disc);
    let after: Vec<&Write> = b.writes.iter().collect();
    assert!(matches!(
        Frame::parse(&after[0].bytes).map(|f| f.control),
        Ok(Control::Ua { .. })
    ));
    assert_eq!(after[1].line, Some(LineSettings::new_7e1(300)));
    assert_eq!(b.ended(), vec![SessionEnd::HdlcEnded]);
    b.writes.clear();
    b.send(ms(3000), SIGN_ON);
    b.run_until(ms(3300));
    assert_eq!(b.take_bytes(), b"/CLN5\\2CALIN-SIM\r\n");
}

#[test]
fn mode_e_bytes_sooner_than_the_reaction_time_are_flagged() {
    let mut b = Bench::new(SCENARIO);
    b.send(ms(0), SIGN_ON);
    b.run_until(ms(900));
    b.send(ms(1000), b"\x06252\r\n");
    // The SNRM's first byte 50 ms after the ack ended (before the 200 ms minimum).
    let at = ms(1000) + LineSettings::new_7e1(300).wire_time(5) + ms(50);
    b.send(at, &[0x7E]);
    assert!(
        matches!(b.checks().as_slice(), [SwitchCheck::SwitchTooEarly { min, .. }] if *min == ms(200)),
        "{:?}",
        b.checks()
    );
}

#[test]
fn a_sign_on_before_the_readout_has_left_the_wire_starts_a_fresh_session() {
    let mut b = Bench::new(SCENARIO);
    b.sign_on_and_select();
    b.run_until(ms(1400));
    assert!(!b.take_bytes().is_empty(), "the readout");
    b.writes.clear();
    // Over TCP the readout arrives at once; the client signs on again at once.
    b.send(ms(1400), SIGN_ON);
    assert_eq!(
        b.lines(),
        vec![LineSettings::new_7e1(300)],
        "back to 300 first"
    );
    b.run_until(ms(1600));
    assert_eq!(b.take_bytes(), b"/CLN5\\2CALIN-SIM\r\n");
}

#[test]
fn a_scripted_change_shows_in_the_readout() {
    let change =
        "[[meter.change]]\nat = 2.0\nstatus = 1015\nset = { 87 = 15 }\n\n[[meter]]\nname = \"b\"";
    let text = SCENARIO.replace("[[meter]]\nname = \"b\"", change);
    let mut b = Bench::new(&text);
    b.send(ms(3000), SIGN_ON);
    b.run_until(ms(3900));
    b.take_bytes();
    b.send(ms(4000), ACK_READOUT_9600);
    b.run_until(ms(4400));
    let lines = readout_lines(&b.take_bytes());
    assert!(lines.contains(&"C.5.0(1015)".to_owned()), "{lines:?}");
    assert!(lines.contains(&"C.87.0(15)".to_owned()), "{lines:?}");
    assert!(b.events.contains(&SimEvent::ChangeApplied {
        meter: 0,
        at: Duration::from_secs(2)
    }));
}

#[test]
fn wire_faults_act_on_optical_messages() {
    use crate::sim::fault::FaultKind;
    let mut b = Bench::new(SCENARIO);
    let faults = &mut b.fleet.meter_mut(0).unwrap().faults;
    faults.inject(FaultKind::Silence); // the identification
    b.send(ms(0), SIGN_ON);
    b.run_until(ms(900));
    assert!(b.take_bytes().is_empty(), "silenced");
    b.send(ms(1000), SIGN_ON);
    b.run_until(ms(1900));
    assert_eq!(b.take_bytes(), b"/CLN5\\2CALIN-SIM\r\n");
    b.fleet
        .meter_mut(0)
        .unwrap()
        .faults
        .inject(FaultKind::FlipBit { bit: None });
    b.send(ms(2000), ACK_READOUT_9600);
    b.run_until(ms(2400));
    let block = b.take_bytes();
    // By default the last byte, the BCC, is damaged.
    assert_eq!(*block.last().unwrap(), bcc(&block) ^ 0x01);
}
