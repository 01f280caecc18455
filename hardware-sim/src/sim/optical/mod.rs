//! The optical port (IEC 62056-21) of the simulated meters, sans-IO: sign-on routing,
//! one `MeterSession` per session, the check of the client's baud switch, and mode E's
//! hand-over to the meter's HDLC server.
//!
//! - A sign-on `/?[address]!` starts a session with a fresh readout taken from the
//!   meter's state at that moment ([`readout`]), so scripted changes show up as in DLMS.
//!   It reaches the meter whose `[meter.optical] address` it names; without an address
//!   the first meter with an optical port answers. Design: on a real bus every meter
//!   would answer an unaddressed sign-on and collide; the simulator lets one answer.
//! - Mode C readout and programming mode (P1 with the meter's password, R1, B0) are the
//!   protocol crate's meter session. Mode E switches to 8N1 at the agreed rate and hands
//!   every later byte to an HDLC server with its own DLMS association; when HDLC ends
//!   (DISC, inactivity) the port returns to 300 baud 7E1.
//! - Line changes go out as [`Write`]s with a `line`, in order with the bytes.
//! - Characters are 7-bit: bit 7 of what arrives in 7E1 is dropped (it is the parity bit
//!   of a client that emulates 7E1 on an 8-bit link), and what we send has it clear.
//! - The client's baud switch: when the caller can see the client's line (a pty shows
//!   the rate its user set) it reports every change through `handle_peer_baud`; the
//!   first change after the option select is checked by the session ("in time", "during
//!   the ack", "too late") and a rate other than the agreed one is reported as well. A
//!   change seen before the option select was even read is kept and checked with its own
//!   time. Over TCP nobody reports a rate: the option select is taken and the session
//!   goes on; only "first bytes too early" (mode E) can be checked there.

pub mod readout;

use core::time::Duration;

use crate::protocol::iec62056_21::decoder::MAX_LINE_FRAME;
use crate::protocol::iec62056_21::{
    Framing as CharFraming, MeterAction, MeterSession, SignOn, INITIAL_BAUD, LF,
};
use crate::transport::LineSettings;

use super::fault::WireFormat;
use super::fleet::{Fleet, SimEvent};
use super::readings::Readings;
use super::station::{emit, LineMeter, Step, Write};

/// Bit 7 of a 7E1 character on an 8-bit link: the parity bit.
const SEVEN_BITS: u8 = 0x7F;

/// The optical port of every meter that has one, on one link.
#[derive(Debug)]
pub struct OpticalLine {
    /// Meters with `[meter.optical]`, in scenario order.
    meters: Vec<usize>,
    /// A sign-on being collected while no session runs.
    scan: Vec<u8>,
    active: Option<Active>,
    /// The client's rate as last reported.
    peer_baud: Option<u32>,
}

/// The session in progress.
#[derive(Debug)]
struct Active {
    meter: usize,
    epoch: u64,
    session: MeterSession,
    framing: CharFraming,
    /// The option select has been taken.
    option_taken: bool,
    /// The rate it agreed on, until the client's switch has been checked.
    agreed: Option<u32>,
    /// A change of the client's line seen before the option select was taken.
    early: Option<(Duration, u32)>,
    /// The client switched to another rate than agreed: reported after the check itself.
    wrong_rate: Option<SimEvent>,
    /// Our side of the line now.
    line: LineSettings,
    /// Mode E: the HDLC server that owns the line now.
    hdlc: Option<LineMeter>,
}

fn settings(baud: u32, framing: CharFraming) -> LineSettings {
    match framing {
        CharFraming::SevenE1 => LineSettings::new_7e1(baud),
        CharFraming::EightN1 => LineSettings::new_8n1(baud),
    }
}

fn line_write(meter: usize, line: LineSettings) -> Write {
    Write {
        meter,
        delay: Duration::ZERO,
        line: Some(line),
        bytes: Vec::new(),
    }
}

impl OpticalLine {
    pub fn new(fleet: &Fleet) -> OpticalLine {
        OpticalLine {
            meters: fleet
                .meters()
                .iter()
                .enumerate()
                .filter(|(_, m)| m.spec.optical.is_some())
                .map(|(i, _)| i)
                .collect(),
            scan: Vec::new(),
            active: None,
            peer_baud: None,
        }
    }

    /// Every session starts at 300 baud, 7E1 (IEC 62056-21 §6.4).
    pub fn initial_line() -> LineSettings {
        LineSettings::new_7e1(INITIAL_BAUD)
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        let a = self.active.as_ref()?;
        let hdlc = a.hdlc.as_ref().and_then(LineMeter::deadline);
        [a.session.next_deadline(), hdlc]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether a session still waits to see the client switch.
    pub fn watches_peer_baud(&self) -> bool {
        self.active.as_ref().is_some_and(|a| {
            a.hdlc.is_none() && !a.session.is_idle() && (a.agreed.is_some() || !a.option_taken)
        })
    }

    pub fn handle_bytes(
        &mut self,
        fleet: &mut Fleet,
        now: Duration,
        bytes: &[u8],
        step: &mut Step,
    ) {
        for (i, &byte) in bytes.iter().enumerate() {
            self.power_check(fleet, step);
            let scan = match &mut self.active {
                Some(a) if a.hdlc.is_some() => {
                    let rest = bytes.get(i..).unwrap_or_default();
                    a.feed_hdlc(fleet, now, rest, step);
                    return;
                }
                Some(a) if !a.session.is_idle() => {
                    let b = match a.framing {
                        CharFraming::SevenE1 => byte & SEVEN_BITS,
                        CharFraming::EightN1 => byte,
                    };
                    a.session.handle_bytes(now, &[b]);
                    a.drain(fleet, now, step);
                    // Design: a sign-on in the middle of a session starts a new one (the
                    // client gave up, or over TCP it did not wait for the readout's
                    // wire time), with a fresh readout.
                    (a.framing == CharFraming::SevenE1 && a.hdlc.is_none()).then_some(b)
                }
                _ => Some(byte & SEVEN_BITS),
            };
            if let Some(b) = scan {
                self.scan_byte(fleet, now, b, step);
            }
        }
    }

    pub fn handle_timeout(&mut self, fleet: &mut Fleet, now: Duration, step: &mut Step) {
        self.power_check(fleet, step);
        let Some(a) = &mut self.active else { return };
        if let Some(h) = &mut a.hdlc {
            if h.fire(fleet, now, step) {
                a.end_hdlc(fleet, now, step);
            }
        }
        if a.session.next_deadline().is_some_and(|d| d <= now) {
            a.session.handle_timeout(now);
            a.drain(fleet, now, step);
        }
    }

    /// The client's line is at `baud` now; see the module documentation.
    pub fn handle_peer_baud(
        &mut self,
        fleet: &mut Fleet,
        now: Duration,
        baud: u32,
        step: &mut Step,
    ) {
        // Until the first report, the client is taken to be where every session starts.
        let before = self.peer_baud.replace(baud).unwrap_or(INITIAL_BAUD);
        if before == baud {
            return;
        }
        let Some(a) = &mut self.active else { return };
        if a.hdlc.is_some() || a.session.is_idle() {
            return;
        }
        if a.agreed.is_some() {
            a.report_switch(now, baud);
            a.drain(fleet, now, step);
        } else if !a.option_taken {
            a.early = Some((now, baud));
        }
    }

    /// A meter that lost power forgets its session; the port goes back to 300 baud.
    fn power_check(&mut self, fleet: &Fleet, step: &mut Step) {
        let Some(a) = &self.active else { return };
        let gone = fleet
            .meter(a.meter)
            .is_none_or(|m| m.is_offline() || m.power_epoch() != a.epoch);
        if gone {
            if !a.session.is_idle() || a.hdlc.is_some() {
                step.writes.push(line_write(a.meter, Self::initial_line()));
            }
            self.active = None;
        }
    }

    fn scan_byte(&mut self, fleet: &mut Fleet, now: Duration, b: u8, step: &mut Step) {
        if b == b'/' {
            self.scan.clear();
            self.scan.push(b);
            return;
        }
        if self.scan.is_empty() {
            return; // noise between messages
        }
        self.scan.push(b);
        if self.scan.len() > MAX_LINE_FRAME {
            self.scan.clear();
        } else if b == LF {
            let line = core::mem::take(&mut self.scan);
            self.sign_on(fleet, now, &line, step);
        }
    }

    fn sign_on(&mut self, fleet: &mut Fleet, now: Duration, line: &[u8], step: &mut Step) {
        let sign_on = match SignOn::parse(line) {
            Ok(s) => s,
            Err(e) => return tracing::debug!(%e, "not a sign-on"),
        };
        let address = sign_on.address.as_ref().map(|a| a.as_str().to_owned());
        let chosen = self.meters.iter().copied().find(|&i| {
            fleet.meter(i).is_some_and(|m| {
                let Some(spec) = &m.spec.optical else {
                    return false;
                };
                !m.is_offline()
                    && sign_on
                        .address
                        .as_ref()
                        .is_none_or(|a| spec.address.matches(a))
            })
        });
        step.events.push(SimEvent::OpticalSignOn {
            meter: chosen,
            address,
        });
        let Some(meter) = chosen else { return };
        let t = fleet.scenario_time(now);
        let Some(m) = fleet.meter(meter) else { return };
        let Some(spec) = &m.spec.optical else { return };
        let sets = readout::data_sets(spec, &Readings::of(m, t), m.profile());
        let session = match MeterSession::new(readout::meter_config(spec, &m.spec.serial, sets)) {
            Ok(s) => s,
            Err(e) => return tracing::warn!(meter = %m.name(), %e, "optical session not started"),
        };
        tracing::info!(meter = %m.name(), "optical sign-on");
        if let Some(old) = self.active.take() {
            if old.line != Self::initial_line() {
                step.writes
                    .push(line_write(old.meter, Self::initial_line()));
            }
        }
        let mut a = Active {
            meter,
            epoch: m.power_epoch(),
            session,
            framing: CharFraming::SevenE1,
            option_taken: false,
            agreed: None,
            early: None,
            wrong_rate: None,
            line: Self::initial_line(),
            hdlc: None,
        };
        a.session.handle_bytes(now, line);
        a.drain(fleet, now, step);
        self.active = Some(a);
    }
}

impl Active {
    /// Carry out the session's actions.
    fn drain(&mut self, fleet: &mut Fleet, now: Duration, step: &mut Step) {
        let t = fleet.scenario_time(now);
        let meter = self.meter;
        while let Some(action) = self.session.poll_action() {
            match action {
                MeterAction::Send(bytes) => {
                    if let Some(m) = fleet.meter_mut(meter) {
                        emit(m, meter, bytes, WireFormat::Optical, t, step);
                    }
                }
                // The session keeps its deadline; `next_deadline` reads it.
                MeterAction::SetTimer(_) => {}
                MeterAction::SwitchLine { baud, framing } => {
                    self.framing = framing;
                    self.line = settings(baud, framing);
                    step.writes.push(line_write(meter, self.line));
                    if self.session.is_idle() {
                        self.agreed = None;
                    } else {
                        // The option select was taken: this is the agreed rate.
                        self.option_taken = true;
                        self.agreed = Some(baud);
                        if let Some((at, seen)) = self.early.take() {
                            self.report_switch(at, seen);
                        }
                    }
                }
                MeterAction::EnterHdlc { baud, pending } => {
                    tracing::info!(meter, baud, "optical port in mode E: HDLC");
                    step.events.push(SimEvent::OpticalModeE { meter, baud });
                    let Some(m) = fleet.meter(meter) else {
                        continue;
                    };
                    self.hdlc = Some(LineMeter::new(meter, m));
                    self.feed_hdlc(fleet, now, &pending, step);
                }
                MeterAction::Event(event) => {
                    tracing::debug!(meter, ?event, "optical session");
                    step.events.push(SimEvent::Optical { meter, event });
                }
            }
        }
        step.events.extend(self.wrong_rate.take());
    }

    /// Check the client's first line change after the option select.
    fn report_switch(&mut self, at: Duration, seen: u32) {
        self.session.handle_peer_switch(at);
        if let Some(agreed) = self.agreed.take() {
            if agreed != seen {
                self.wrong_rate = Some(SimEvent::OpticalPeerBaud {
                    meter: self.meter,
                    agreed,
                    seen,
                });
            }
        }
    }

    fn feed_hdlc(&mut self, fleet: &mut Fleet, now: Duration, bytes: &[u8], step: &mut Step) {
        let Some(h) = &mut self.hdlc else { return };
        if !bytes.is_empty() && h.feed(fleet, now, bytes, step) {
            self.end_hdlc(fleet, now, step);
        }
    }

    /// HDLC is done with the line: the session returns to 300 baud and idles.
    fn end_hdlc(&mut self, fleet: &mut Fleet, now: Duration, step: &mut Step) {
        self.hdlc = None;
        self.session.end_hdlc();
        self.drain(fleet, now, step);
    }
}

#[cfg(test)]
mod tests;
