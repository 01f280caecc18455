//! Each session alone, fed by hand, for the paths the other side never takes: mode B,
//! partial echoes, bare and partial answers, garbled commands, a switch during the ack.

use core::time::Duration;

use super::super::client::ClientMode;
use super::super::server::{MeterEvent, SessionEnd, SwitchCheck};
use super::super::*;
use super::sim::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn wire300(chars: usize) -> Duration {
    wire_time(chars, 300, Framing::SevenE1)
}

fn programming(registers: &[&str]) -> ClientOptions {
    client(ClientMode::Programming {
        registers: registers.iter().map(|r| id(r)).collect(),
    })
}

#[test]
fn switch_while_the_ack_is_on_the_wire() {
    let mut m = MeterSession::new(meter(false)).unwrap();
    let t0 = Duration::from_secs(5);
    m.handle_bytes(t0, b"/?!\r\n");
    m.handle_timeout(t0 + ms(200));
    let t_ack = t0 + ms(500);
    m.handle_bytes(t_ack, b"\x06050\r\n");
    m.handle_peer_switch(t_ack + ms(100));
    let checks: Vec<_> = core::iter::from_fn(|| m.poll_action())
        .filter_map(|a| match a {
            MeterAction::Event(MeterEvent::SwitchChecked(c)) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(
        checks,
        vec![SwitchCheck::SwitchDuringAck {
            before_end: wire300(5) - ms(100)
        }]
    );
}

/// Runs one client alone, feeding it what the test says the meter sends.
fn drain(c: &mut ClientSession) -> Vec<ClientAction> {
    core::iter::from_fn(|| c.poll_action())
        .filter(|a| !matches!(a, ClientAction::SetTimer(_)))
        .collect()
}

fn with_bcc(mut block: Vec<u8>) -> Vec<u8> {
    let bcc = block[1..].iter().fold(0, |a, b| a ^ b);
    block.push(bcc);
    block
}

#[test]
fn partial_echo_is_given_back_as_data() {
    let mut c = ClientSession::new(client(ClientMode::DataReadout));
    let t = Duration::from_secs(1);
    c.start(t);
    drain(&mut c);
    // No echo: the identification's '/' matches the echo's first byte, then differs.
    c.handle_bytes(t + ms(300), b"/CLNEX\r\n");
    // Mode B ('E': 9600): switch at once, no ack.
    assert_eq!(
        drain(&mut c),
        vec![ClientAction::SwitchLine {
            baud: 9600,
            framing: Framing::SevenE1
        }]
    );
    c.handle_bytes(
        t + ms(600),
        &with_bcc(b"\x021.8.0(1*kWh)\r\n!\r\n\x03".to_vec()),
    );
    match drain(&mut c).as_slice() {
        [ClientAction::Deliver(r)] => {
            assert_eq!((r.baud, r.echoes_skipped), (9600, 0));
            assert_eq!(r.data_sets.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bare_and_partial_answers_in_programming() {
    let mut opts = programming(&["1.8.0"]);
    opts.reply_delay = ms(200);
    let mut c = ClientSession::new(opts);
    let mut t = Duration::from_secs(1);
    c.start(t);
    c.handle_bytes(t, b"/?!\r\n"); // echo
    c.handle_bytes(t + ms(300), b"/CLN5X\r\n");
    drain(&mut c);
    // Ack, switch, no P0: R1 after the password wait.
    while !c.is_finished() {
        t = c.next_deadline().unwrap();
        c.handle_timeout(t);
        let acts = drain(&mut c);
        if acts
            .iter()
            .any(|a| matches!(a, ClientAction::Send(b) if b.starts_with(b"\x01R1")))
        {
            break;
        }
    }
    // A partial block without id, ended by EOT: the client asks for more with ACK.
    c.handle_bytes(t + ms(300), &with_bcc(b"\x02(0012.5*kWh)\x04".to_vec()));
    c.handle_timeout(c.next_deadline().unwrap());
    assert_eq!(drain(&mut c), vec![ClientAction::Send(vec![ACK])]);
    c.handle_bytes(t + ms(900), &with_bcc(b"\x02(0.1)\x03".to_vec()));
    c.handle_timeout(c.next_deadline().unwrap());
    let acts = drain(&mut c);
    match acts.as_slice() {
        [ClientAction::Send(b0), ClientAction::Deliver(r)] => {
            assert_eq!(b0, b"\x01B0\x03q");
            assert_eq!(r.data_sets[0].id, Some(id("1.8.0")));
            assert_eq!(r.data_sets[1].id, None);
            assert_eq!(r.data_sets.len(), 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn meter_naks_a_garbled_command_and_repeats_on_nak() {
    let mut m = MeterSession::new(meter(false)).unwrap();
    let mut t = Duration::from_secs(5);
    m.handle_bytes(t, b"/?!\r\n");
    m.handle_timeout(t + ms(200));
    t += ms(500);
    m.handle_bytes(t, b"\x06051\r\n"); // programming, no password configured
    let sends = |m: &mut MeterSession| -> Vec<Vec<u8>> {
        core::iter::from_fn(|| m.poll_action())
            .filter_map(|a| match a {
                MeterAction::Send(b) => Some(b),
                _ => None,
            })
            .collect()
    };
    sends(&mut m);
    t += ms(1000);
    m.handle_bytes(t, b"\x01R1\x021.8.0()\x03X"); // BCC should be 'Z'
    m.handle_timeout(t + ms(200));
    assert_eq!(sends(&mut m), vec![vec![NAK]]);
    t += ms(1000);
    m.handle_bytes(t, b"\x01R1\x021.8.0()\x03Z");
    m.handle_timeout(t + ms(200));
    let answer = AnswerMessage {
        data_sets: vec![meter_data()[1].clone()],
        ..Default::default()
    };
    assert_eq!(sends(&mut m), vec![answer.to_vec().unwrap()]);
    t += ms(1000);
    m.handle_bytes(t, &[NAK]);
    m.handle_timeout(t + ms(200));
    assert_eq!(sends(&mut m), vec![answer.to_vec().unwrap()]);
    m.handle_bytes(t + ms(500), b"\x01B0\x03q");
    let acts: Vec<_> = core::iter::from_fn(|| m.poll_action()).collect();
    assert!(acts.contains(&MeterAction::SwitchLine {
        baud: 300,
        framing: Framing::SevenE1
    }));
    assert!(acts.contains(&MeterAction::Event(MeterEvent::Ended(SessionEnd::Break))));
}
