//! Client and meter sessions driven together on a virtual clock (see `sim`), and each
//! alone for the paths the other never takes.

use core::time::Duration;

use super::super::client::{ClientMode, Phase};
use super::super::server::{MeterEvent, SessionEnd, SwitchCheck};
use super::super::*;
use super::sim::*;

const T: Duration = Duration::from_secs(30);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn wire300(chars: usize) -> Duration {
    wire_time(chars, 300, Framing::SevenE1)
}

fn pw(s: &str) -> Password {
    Password::new(s).unwrap()
}

#[test]
fn mode_c_readout_with_timed_switch() {
    let mut sim = Sim::new(client(ClientMode::DataReadout), meter(false));
    let log = sim.run(T);
    let r = log.readout();
    assert_eq!(r.data_sets, meter_data());
    assert_eq!((r.baud, r.identification.ident()), (9600, "CALIN-EM2"));
    assert!(r.bcc_warnings.is_empty());

    let (t_sign_on, sign_on) = &log.client_sent[0];
    assert_eq!(sign_on, b"/?!\r\n");
    // The meter answers after its reaction time; we ack after our reply delay.
    let (t_ident, _) = log.meter_sent[0];
    assert_eq!(t_ident, *t_sign_on + ms(200));
    let (t_ack, ack) = &log.client_sent[1];
    assert_eq!(ack, b"\x06050\r\n");
    assert_eq!(*t_ack, t_ident + ms(200));
    // The switch comes once the 6 ack characters have left at 300 baud (200 ms),
    // plus the 10 ms switch delay; the meter switched as soon as it had the ack.
    assert_eq!(
        log.client_switches,
        vec![(*t_ack + ms(210), 9600, Framing::SevenE1)]
    );
    assert_eq!(log.meter_switches[0], (*t_ack, 9600, Framing::SevenE1));
    // The meter puts the end of the ack at first byte + 5 more characters.
    assert_eq!(
        log.switch_checks(),
        vec![SwitchCheck::InTime {
            after: ms(210) - wire300(5)
        }]
    );
    // The readout comes at the new rate after the reaction time, then back to 300.
    let (t_readout, readout) = &log.meter_sent[1];
    assert_eq!(*t_readout, *t_ack + wire300(5) + ms(200));
    let back = *t_readout + wire_time(readout.len(), 9600, Framing::SevenE1);
    assert_eq!(log.meter_switches[1], (back, 300, Framing::SevenE1));
    assert!(log
        .events
        .contains(&MeterEvent::Ended(SessionEnd::ReadoutSent)));
}

#[test]
fn readout_through_an_echoing_optical_head() {
    let mut sim = Sim::new(client(ClientMode::DataReadout), meter(false));
    sim.echo = true;
    let log = sim.run(T);
    assert_eq!(log.readout().data_sets, meter_data());
    assert_eq!(log.readout().echoes_skipped, 2); // sign-on and option select
}

#[test]
fn rate_capped_by_the_client() {
    let mut opts = client(ClientMode::DataReadout);
    opts.baud = client::BaudChoice::AtMost(4000);
    let mut sim = Sim::new(opts, meter(false));
    let log = sim.run(T);
    assert_eq!(log.client_sent[1].1, b"\x06030\r\n"); // '3': 2400 baud
    assert_eq!(log.readout().baud, 2400);
}

#[test]
fn sign_on_with_address() {
    let mut opts = client(ClientMode::DataReadout);
    opts.address = Some(DeviceAddress::new("45654").unwrap());
    let mut m = meter(false);
    m.address = Some(DeviceAddress::new("45654").unwrap());
    let mut sim = Sim::new(opts.clone(), m);
    let log = sim.run(T);
    assert_eq!(log.client_sent[0].1, b"/?45654!\r\n");
    assert_eq!(log.readout().data_sets, meter_data());

    // Another meter on the bus stays silent.
    let mut other = meter(false);
    other.address = Some(DeviceAddress::new("99999").unwrap());
    let mut sim = Sim::new(opts, other);
    let log = sim.run(T);
    assert!(log.meter_sent.is_empty());
    assert_eq!(
        log.events,
        vec![MeterEvent::SignOnIgnored {
            address: DeviceAddress::new("45654").unwrap()
        }]
    );
    assert_eq!(
        log.failure(),
        &ClientFailure::Timeout {
            phase: Phase::Identification
        }
    );
}

fn programming(registers: &[&str]) -> ClientOptions {
    client(ClientMode::Programming {
        registers: registers.iter().map(|r| id(r)).collect(),
    })
}

fn meter_with_password() -> MeterConfig {
    let mut m = meter(false);
    m.password = Some(pw("00000000"));
    m.password_operand = Value::new("45654", None).unwrap();
    m
}

#[test]
fn programming_reads_registers_with_password() {
    let mut opts = programming(&["1.8.0", "9.9.9", "F.F"]);
    opts.password = Some(pw("00000000"));
    let mut sim = Sim::new(opts, meter_with_password());
    let log = sim.run(T);
    let r = log.readout();
    let data = meter_data();
    assert_eq!(r.data_sets, vec![data[1].clone(), data[5].clone()]);
    assert_eq!(
        r.register_errors,
        vec![client::RegisterError {
            id: id("9.9.9"),
            text: "ERROR".into()
        }]
    );
    let sent: Vec<&[u8]> = log.client_sent.iter().map(|(_, b)| b.as_slice()).collect();
    assert_eq!(sent[1], b"\x06051\r\n");
    assert_eq!(sent[2], b"\x01P1\x02(00000000)\x03a");
    assert_eq!(sent[3], b"\x01R1\x021.8.0()\x03Z");
    assert_eq!(sent.last().unwrap(), b"\x01B0\x03q");
    assert_eq!(sent.len(), 7);
    assert_eq!(log.meter_sent[1].1, b"\x01P0\x02(45654)\x03V");
    assert!(log.events.contains(&MeterEvent::PasswordAccepted));
    assert!(log.events.contains(&MeterEvent::Ended(SessionEnd::Break)));
    assert!(sim.meter.is_idle());
}

#[test]
fn wrong_password_is_refused_once_and_signed_off() {
    let mut opts = programming(&["1.8.0"]);
    opts.password = Some(pw("11111111"));
    let mut sim = Sim::new(opts, meter_with_password());
    let log = sim.run(T);
    assert_eq!(log.failure(), &ClientFailure::PasswordRejected);
    let p1_count = log
        .client_sent
        .iter()
        .filter(|(_, b)| b.starts_with(b"\x01P1"))
        .count();
    assert_eq!(p1_count, 1);
    assert_eq!(log.client_sent.last().unwrap().1, b"\x01B0\x03q");
    assert!(log.events.contains(&MeterEvent::PasswordRejected));
    assert!(log.events.contains(&MeterEvent::Ended(SessionEnd::Break)));
}

#[test]
fn programming_without_password_request_reads_after_waiting() {
    let mut sim = Sim::new(programming(&["1.8.0"]), meter(false));
    let log = sim.run(T);
    assert_eq!(log.readout().data_sets, vec![meter_data()[1].clone()]);
    assert!(!log.client_sent.iter().any(|(_, b)| b.starts_with(b"\x01P")));
    // R1 goes out after the P0 wait (from the end of the ack) and the reply delay.
    let (t_ack, _) = log.client_sent[1];
    let (t_r1, _) = log.client_sent[2];
    assert_eq!(t_r1, t_ack + wire300(6) + ms(2000) + ms(200));
}

#[test]
fn password_asked_but_not_configured() {
    let mut sim = Sim::new(programming(&["1.8.0"]), meter_with_password());
    let log = sim.run(T);
    assert_eq!(log.failure(), &ClientFailure::PasswordRequired);
    assert_eq!(log.client_sent.last().unwrap().1, b"\x01B0\x03q");
}

#[test]
fn mode_e_hands_over_to_hdlc() {
    let mut sim = Sim::new(client(ClientMode::ModeE), meter(true));
    let log = sim.run(T);
    let (t_enter, enter) = log.outcome.clone().unwrap();
    assert_eq!(enter, ClientAction::EnterHdlc { baud: 9600 });
    let (t_ack, ack) = &log.client_sent[1];
    assert_eq!(ack, b"\x06252\r\n");
    assert_eq!(
        log.client_switches,
        vec![(*t_ack + ms(210), 9600, Framing::EightN1)]
    );
    assert_eq!(t_enter, *t_ack + wire300(6) + ms(300));
    assert_eq!(log.meter_switches[0], (*t_ack, 9600, Framing::EightN1));
    assert_eq!(log.meter_hdlc, Some((9600, SNRM.to_vec())));
    assert_eq!(
        log.switch_checks(),
        vec![
            SwitchCheck::InTime {
                after: ms(210) - wire300(5)
            },
            SwitchCheck::InTime {
                after: ms(300) + wire300(6) - wire300(5)
            },
        ]
    );
    // When HDLC is done the meter returns to 300 baud 7E1.
    sim.meter.end_hdlc();
    let mut back = None;
    while let Some(a) = sim.meter.poll_action() {
        if let MeterAction::SwitchLine { baud, framing } = a {
            back = Some((baud, framing));
        }
    }
    assert_eq!(back, Some((300, Framing::SevenE1)));
    assert!(sim.meter.is_idle());
}

#[test]
fn mode_e_not_offered() {
    let mut sim = Sim::new(client(ClientMode::ModeE), meter(false));
    let log = sim.run(T);
    assert_eq!(log.failure(), &ClientFailure::ModeEUnavailable);
    assert_eq!(log.client_sent.len(), 1);
}

#[test]
fn too_early_hdlc_start_is_detected_by_the_meter() {
    let mut opts = client(ClientMode::ModeE);
    opts.hdlc_delay = Duration::ZERO;
    let mut sim = Sim::new(opts, meter(true));
    let log = sim.run(T);
    // The SNRM follows the switch (10 ms after the ack left), far below 200 ms.
    let after = ms(10) + wire300(6) - wire300(5);
    assert_eq!(
        log.switch_checks()[1],
        SwitchCheck::SwitchTooEarly {
            after,
            min: ms(200)
        }
    );
}

#[test]
fn too_late_switch_loses_the_readout() {
    let mut opts = client(ClientMode::DataReadout);
    opts.switch_delay = ms(500);
    let mut sim = Sim::new(opts, meter(false));
    let log = sim.run(T);
    assert_eq!(
        log.switch_checks(),
        vec![SwitchCheck::SwitchTooLate {
            after: ms(500) + wire300(6) - wire300(5),
            reply_started: ms(200)
        }]
    );
    assert_eq!(
        log.failure(),
        &ClientFailure::Timeout {
            phase: Phase::Readout
        }
    );
}

#[test]
fn bad_bcc_readout_strict_fails() {
    let mut m = meter(false);
    m.faults.corrupt_bcc = 1;
    let mut sim = Sim::new(client(ClientMode::DataReadout), m);
    let log = sim.run(T);
    let good = log.meter_sent[1].1.last().unwrap() ^ 0x55;
    let sent = *log.meter_sent[1].1.last().unwrap();
    assert_eq!(
        log.failure(),
        &ClientFailure::BadBcc(BccMismatch {
            expected: good,
            found: sent
        })
    );
}

#[test]
fn bad_bcc_readout_warn_only_delivers_with_flag() {
    let mut m = meter(false);
    m.faults.corrupt_bcc = 1;
    let mut opts = client(ClientMode::DataReadout);
    opts.bcc_policy = BccPolicy::WarnOnly;
    let mut sim = Sim::new(opts, m);
    let log = sim.run(T);
    assert_eq!(log.readout().data_sets, meter_data());
    assert_eq!(log.readout().bcc_warnings.len(), 1);
}

#[test]
fn bad_bcc_in_programming_is_repeated_on_nak() {
    let mut m = meter_with_password();
    m.faults.corrupt_bcc = 1; // the P0
    let mut opts = programming(&["1.8.0"]);
    opts.password = Some(pw("00000000"));
    let mut sim = Sim::new(opts, m);
    let log = sim.run(T);
    assert_eq!(log.readout().data_sets, vec![meter_data()[1].clone()]);
    assert_eq!(log.client_sent[2].1, vec![NAK]);
    assert!(log.readout().bcc_warnings.is_empty());
}

#[test]
fn bad_bcc_in_programming_gives_up_after_repeats() {
    let mut m = meter_with_password();
    m.faults.corrupt_bcc = 100;
    let mut opts = programming(&["1.8.0"]);
    opts.password = Some(pw("00000000"));
    let mut sim = Sim::new(opts, m);
    let log = sim.run(T);
    assert!(matches!(log.failure(), ClientFailure::BadBcc(_)));
    let naks = log.client_sent.iter().filter(|(_, b)| b == &[NAK]).count();
    assert_eq!(naks, 3);
    assert_eq!(log.client_sent.last().unwrap().1, b"\x01B0\x03q");
}
