//! One link's worth of meters, sans-IO: bytes from the client in, frames to write out.
//!
//! HDLC: one `HdlcServer` per meter on the line (multi-drop: every meter sees every frame
//! and answers only its own address), each with its own application association. The
//! IEC 62056-47 wrapper: one meter behind the connection, one association per client
//! wPort. Every response frame goes through the meter's faults after framing. A meter
//! that is offline hears nothing; when it comes back its sessions start from scratch.
//!
//! The optical port (IEC 62056-21, [`OpticalLine`]) and DL/T 645 ([`Dlt645Line`]) have
//! their own stations in `sim::optical` and `sim::dlt645`; mode E of the optical port
//! hands the line to a [`LineMeter`] like the ones here.
//!
//! The caller owns the link and the clock: it passes `now` (time since the simulator
//! started), writes each [`Write`] no earlier than `delay` after the call that produced
//! it (changing the line first when the write says so), calls `handle_timeout` at
//! [`Station::next_deadline`], and reports the client's baud rate when it can see it
//! ([`Station::handle_peer_baud`]).

use core::time::Duration;

use crate::protocol::dlt645::Version;
use crate::protocol::hdlc::{Action, HdlcParameters, HdlcServer, ServerConfig};
use crate::protocol::wrapper::{WrapperDecoder, WrapperFrame, MAX_APDU_LEN};
use crate::transport::LineSettings;

use super::dlms::Association;
use super::dlt645::Dlt645Line;
use super::fault::{apply_wire, WireFormat};
use super::fleet::{Fleet, SimEvent};
use super::meter::SimMeter;
use super::optical::OpticalLine;

/// Bytes for the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub meter: usize,
    /// Hold the bytes this long after the step that produced them (a delay fault).
    pub delay: Duration,
    /// First set the line to this, once the bytes before it have left (the optical
    /// port's baud switch); `bytes` may then be empty.
    pub line: Option<LineSettings>,
    pub bytes: Vec<u8>,
}

/// What one input produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Step {
    pub writes: Vec<Write>,
    pub events: Vec<SimEvent>,
    /// The stream is beyond repair (a wrapper header with a wrong version): close it.
    pub close: bool,
}

/// How a link is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// IEC 62056-46 HDLC, all meters of the scenario on one line.
    Hdlc,
    /// IEC 62056-47 wrapper, the meter with this index behind the connection.
    Wrapper { meter: usize },
    /// IEC 62056-21 optical port: every meter with `[meter.optical]`; a sign-on with an
    /// address reaches that meter, one without reaches the first. Mode E hands the line
    /// over to the meter's HDLC server and DLMS.
    Optical,
    /// DL/T 645 on RS-485, every meter that speaks it on one line. `version` overrides
    /// each meter's own edition (`[meter.dlt645] version`).
    Dlt645 { version: Option<Version> },
}

impl Framing {
    /// Whether meter `m` is on a link of this framing.
    pub fn serves(self, m: &super::scenario::MeterSpec) -> bool {
        match self {
            Framing::Hdlc | Framing::Wrapper { .. } => m.dlms,
            Framing::Optical => m.optical.is_some(),
            Framing::Dlt645 { .. } => m.dlt645.is_some(),
        }
    }

    /// The protocol's name, for errors.
    pub fn protocol(self) -> &'static str {
        match self {
            Framing::Hdlc | Framing::Wrapper { .. } => "dlms",
            Framing::Optical => "iec62056-21",
            Framing::Dlt645 { .. } => "dlt645",
        }
    }
}

/// The meters behind one link.
#[derive(Debug)]
pub enum Station {
    Hdlc(Vec<LineMeter>),
    Wrapper(WrapperStation),
    Optical(Box<OpticalLine>),
    Dlt645(Dlt645Line),
}

/// One meter on an HDLC line.
#[derive(Debug)]
pub struct LineMeter {
    meter: usize,
    server: HdlcServer,
    association: Association,
    epoch: u64,
    deadline: Option<Duration>,
}

/// One meter behind a wrapper connection.
#[derive(Debug)]
pub struct WrapperStation {
    meter: usize,
    decoder: WrapperDecoder,
    /// One association per client wPort.
    associations: Vec<(u16, Association)>,
    epoch: u64,
}

pub(crate) fn hdlc_server(m: &SimMeter) -> HdlcServer {
    let mut config = ServerConfig::new(m.spec.address);
    config.params = HdlcParameters {
        max_info_tx: m.spec.max_info,
        max_info_rx: m.spec.max_info,
        window_tx: 1,
        window_rx: 1,
    };
    config.inactivity_timeout = m.spec.inactivity_timeout;
    HdlcServer::new(config)
}

impl Station {
    pub fn new(fleet: &Fleet, framing: Framing) -> Station {
        match framing {
            Framing::Hdlc => Station::Hdlc(
                fleet
                    .meters()
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| m.spec.dlms)
                    .map(|(i, m)| LineMeter::new(i, m))
                    .collect(),
            ),
            Framing::Wrapper { meter } => Station::Wrapper(WrapperStation {
                meter,
                decoder: WrapperDecoder::new(MAX_APDU_LEN),
                associations: Vec::new(),
                epoch: fleet.meter(meter).map_or(0, SimMeter::power_epoch),
            }),
            Framing::Optical => Station::Optical(Box::new(OpticalLine::new(fleet))),
            Framing::Dlt645 { version } => Station::Dlt645(Dlt645Line::new(fleet, version)),
        }
    }

    /// The line settings a link starts with (the optical port signs on at 300 baud 7E1);
    /// `None`: whatever the simulator was told.
    pub fn initial_line(&self) -> Option<LineSettings> {
        match self {
            Station::Optical(_) => Some(OpticalLine::initial_line()),
            _ => None,
        }
    }

    /// Whether the caller should keep reporting the client's baud rate: an optical
    /// session waits to see the client switch.
    pub fn watches_peer_baud(&self) -> bool {
        match self {
            Station::Optical(o) => o.watches_peer_baud(),
            _ => false,
        }
    }

    /// The client's line is at `baud` now (a pty shows what its user set). Only the
    /// optical port cares; see `OpticalLine::handle_peer_baud`.
    pub fn handle_peer_baud(&mut self, fleet: &mut Fleet, now: Duration, baud: u32) -> Step {
        let mut step = Step {
            events: fleet.advance(now),
            ..Step::default()
        };
        if let Station::Optical(o) = self {
            o.handle_peer_baud(fleet, now, baud, &mut step);
        }
        step
    }

    /// The earliest timer any meter asked for.
    pub fn next_deadline(&self) -> Option<Duration> {
        match self {
            Station::Hdlc(drops) => drops.iter().filter_map(|d| d.deadline).min(),
            Station::Wrapper(_) | Station::Dlt645(_) => None,
            Station::Optical(o) => o.next_deadline(),
        }
    }

    pub fn handle_bytes(&mut self, fleet: &mut Fleet, now: Duration, bytes: &[u8]) -> Step {
        let mut step = Step {
            events: fleet.advance(now),
            ..Step::default()
        };
        match self {
            Station::Hdlc(drops) => {
                for d in drops {
                    let Some(m) = fleet.meter(d.meter) else {
                        continue;
                    };
                    if m.is_offline() {
                        continue;
                    }
                    d.power_check(m);
                    d.server.handle_bytes(now, bytes);
                    d.drain(fleet, now, &mut step);
                }
            }
            Station::Wrapper(w) => w.handle_bytes(fleet, now, bytes, &mut step),
            Station::Optical(o) => o.handle_bytes(fleet, now, bytes, &mut step),
            Station::Dlt645(d) => d.handle_bytes(fleet, now, bytes, &mut step),
        }
        step
    }

    /// Timers due at `now` fire (early calls do nothing).
    pub fn handle_timeout(&mut self, fleet: &mut Fleet, now: Duration) -> Step {
        let mut step = Step {
            events: fleet.advance(now),
            ..Step::default()
        };
        match self {
            Station::Hdlc(drops) => {
                for d in drops.iter_mut() {
                    d.fire(fleet, now, &mut step);
                }
            }
            Station::Optical(o) => o.handle_timeout(fleet, now, &mut step),
            Station::Wrapper(_) | Station::Dlt645(_) => {}
        }
        step
    }
}

impl LineMeter {
    pub(crate) fn new(meter: usize, m: &SimMeter) -> LineMeter {
        LineMeter {
            meter,
            server: hdlc_server(m),
            association: Association::new(m.spec.address.upper()),
            epoch: m.power_epoch(),
            deadline: None,
        }
    }

    pub(crate) fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Bytes from the line; true when the HDLC connection ended (DISC, a failure).
    pub(crate) fn feed(
        &mut self,
        fleet: &mut Fleet,
        now: Duration,
        bytes: &[u8],
        step: &mut Step,
    ) -> bool {
        self.server.handle_bytes(now, bytes);
        self.drain(fleet, now, step)
    }

    /// The timer, if due; true when the HDLC connection ended (inactivity).
    pub(crate) fn fire(&mut self, fleet: &mut Fleet, now: Duration, step: &mut Step) -> bool {
        if self.deadline.is_none_or(|t| t > now) {
            return false;
        }
        self.deadline = None;
        self.server.handle_timeout(now);
        self.drain(fleet, now, step)
    }

    /// A meter back from power-off has forgotten every session.
    fn power_check(&mut self, m: &SimMeter) {
        if m.power_epoch() != self.epoch {
            self.epoch = m.power_epoch();
            self.server = hdlc_server(m);
            self.association.reset();
            self.deadline = None;
        }
    }

    /// Carry out the server's actions, answering each delivered request; true when the
    /// connection ended.
    fn drain(&mut self, fleet: &mut Fleet, now: Duration, step: &mut Step) -> bool {
        let t = fleet.scenario_time(now);
        let meter = self.meter;
        let Some(m) = fleet.meter_mut(meter) else {
            return false;
        };
        let mut ended = false;
        while let Some(action) = self.server.poll_action() {
            match action {
                Action::Send(bytes) => emit(m, meter, bytes, WireFormat::Hdlc, t, step),
                Action::SetTimer(at) => self.deadline = Some(at),
                Action::CancelTimer => self.deadline = None,
                Action::Deliver(apdu) => {
                    let client = self.server.client().map_or(0, |c| c.upper());
                    let (response, served) = self.association.handle(m, client, &apdu, t);
                    tracing::debug!(meter = %m.name(), ?served, "request served");
                    step.events.push(SimEvent::Served { meter, served });
                    if let Err(e) = self.server.send_apdu(now, &response) {
                        tracing::warn!(meter = %m.name(), %e, "response not sent");
                    }
                }
                Action::Connected(params) => {
                    self.association.reset();
                    let client = self.server.client().map_or(0, |c| c.upper());
                    tracing::info!(meter = %m.name(), client, ?params, "HDLC connected");
                    step.events.push(SimEvent::HdlcConnected { meter, client });
                }
                Action::Disconnected => {
                    self.association.reset();
                    tracing::info!(meter = %m.name(), "HDLC disconnected");
                    step.events.push(SimEvent::HdlcDisconnected { meter });
                    ended = true;
                }
                Action::Fail(reason) => {
                    self.association.reset();
                    tracing::warn!(meter = %m.name(), %reason, "HDLC session failed");
                    step.events.push(SimEvent::HdlcDisconnected { meter });
                    ended = true;
                }
                Action::Discarded(why) => {
                    tracing::trace!(meter = %m.name(), ?why, "frame ignored");
                }
            }
        }
        ended
    }
}

impl WrapperStation {
    fn handle_bytes(&mut self, fleet: &mut Fleet, now: Duration, bytes: &[u8], step: &mut Step) {
        let t = fleet.scenario_time(now);
        let meter = self.meter;
        let Some(m) = fleet.meter_mut(meter) else {
            return;
        };
        if m.is_offline() {
            return;
        }
        if m.power_epoch() != self.epoch {
            self.epoch = m.power_epoch();
            self.associations.clear();
        }
        let server_wport = m.spec.address.upper();
        let mut rest = bytes;
        while !rest.is_empty() {
            let taken = self.decoder.push(rest);
            rest = rest.get(taken..).unwrap_or_default();
            loop {
                let frame = match self.decoder.next_frame() {
                    Ok(Some(frame)) => frame,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(meter = %m.name(), %e, "wrapper stream broken");
                        step.close = true;
                        return;
                    }
                };
                if frame.destination != server_wport {
                    tracing::debug!(meter = %m.name(), wport = frame.destination, "not our wPort");
                    continue;
                }
                let client = frame.source;
                let index = match self.associations.iter().position(|(c, _)| *c == client) {
                    Some(i) => i,
                    None => {
                        self.associations
                            .push((client, Association::new(server_wport)));
                        self.associations.len() - 1
                    }
                };
                let Some((_, association)) = self.associations.get_mut(index) else {
                    continue;
                };
                let (response, served) = association.handle(m, client, &frame.apdu, t);
                step.events.push(SimEvent::Served { meter, served });
                match WrapperFrame::new(server_wport, client, response).to_bytes() {
                    Ok(out) => emit(m, meter, out, WireFormat::Wrapper, t, step),
                    Err(e) => tracing::warn!(meter = %m.name(), %e, "response not framed"),
                }
            }
            if taken == 0 {
                // The decoder is full without a frame: it already reported why.
                break;
            }
        }
    }
}

/// One response frame through the meter's faults, onto the write list.
pub(crate) fn emit(
    m: &mut SimMeter,
    meter: usize,
    bytes: Vec<u8>,
    format: WireFormat,
    t: Duration,
    step: &mut Step,
) {
    let faults = m.faults.on_frame(t);
    let len = bytes.len();
    for fault in &faults {
        tracing::info!(meter = %m.name(), %fault, "fault injected");
        step.events.push(SimEvent::FaultApplied {
            meter,
            fault: fault.clone(),
        });
    }
    let outcome = apply_wire(&faults, bytes, format);
    step.events.push(SimEvent::FrameSent {
        meter,
        len,
        copies: outcome.copies.len(),
    });
    for copy in outcome.copies {
        step.writes.push(Write {
            meter,
            delay: outcome.delay,
            line: None,
            bytes: copy,
        });
    }
}

#[cfg(test)]
#[path = "station_tests.rs"]
mod tests;
