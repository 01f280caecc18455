//! DL/T 645 on RS-485, sans-IO: every meter that speaks it on one line, each with the
//! protocol crate's `Responder` and a [`table::MeterTable`] of its current values.
//!
//! - Multi-drop: every meter sees every frame and answers its own address, the `AA`
//!   wildcard (so a lone meter can be discovered with a wildcard read-address) and
//!   nothing addressed to others. Several meters answering one wildcard collide on a real
//!   bus; here their replies follow each other.
//! - A meter's edition (`[meter.dlt645] version`, or the link's override) decides its
//!   standard identifiers. Design: a 2007 meter also answers 1997 read frames (function
//!   codes 0x01..0x10), because the Calin vendor identifiers (`C1 11`, `E4 21`, `EF F5`)
//!   are two-byte, 1997-style; a 1997 meter answers 1997 frames only and ignores the
//!   2007 codes (so a 2007 wildcard read-address finds only the 2007 meters).
//! - Replies start with the `FE FE FE FE` wake-up preamble, as meters send them, and go
//!   through the meter's wire faults. Values come from the meter's state when the frame
//!   arrives, so scripted changes show up as in DLMS.

pub mod table;

use core::time::Duration;

use crate::protocol::dlt645::{Deframer, Frame, Request, Responder, Response, Version};

use super::fault::WireFormat;
use super::fleet::{Fleet, SimEvent};
use super::readings::Readings;
use super::station::{emit, Step};
use table::MeterTable;

/// Function codes of the 1997 edition (0x08, broadcast time, is in both).
const FUNCTIONS_1997: core::ops::RangeInclusive<u8> = 0x01..=0x10;
const BROADCAST_TIME: u8 = 0x08;

/// The DL/T 645 meters on one link.
#[derive(Debug)]
pub struct Dlt645Line {
    deframer: Deframer,
    meters: Vec<Dlt645Meter>,
}

#[derive(Debug)]
struct Dlt645Meter {
    meter: usize,
    epoch: u64,
    version: Version,
    v2007: Responder,
    v1997: Responder,
}

impl Dlt645Meter {
    fn responders(
        meter: usize,
        epoch: u64,
        version: Version,
        spec: &crate::sim::scenario::Dlt645Spec,
    ) -> Self {
        Dlt645Meter {
            meter,
            epoch,
            version,
            v2007: Responder::new(spec.address, Version::V2007),
            v1997: Responder::new(spec.address, Version::V1997),
        }
    }

    /// The edition a frame is read in; `None`: a 1997 meter does not know the code.
    fn edition(&self, frame: &Frame) -> Option<Version> {
        let code = frame.control.function_code();
        let in_1997 = FUNCTIONS_1997.contains(&code);
        match self.version {
            Version::V2007 if in_1997 && code != BROADCAST_TIME => Some(Version::V1997),
            Version::V2007 => Some(Version::V2007),
            Version::V1997 => in_1997.then_some(Version::V1997),
        }
    }
}

impl Dlt645Line {
    /// `version` overrides every meter's own edition.
    pub fn new(fleet: &Fleet, version: Option<Version>) -> Dlt645Line {
        let meters = fleet
            .meters()
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                let spec = m.spec.dlt645.as_ref()?;
                let v = version.unwrap_or(spec.version);
                Some(Dlt645Meter::responders(i, m.power_epoch(), v, spec))
            })
            .collect();
        Dlt645Line {
            deframer: Deframer::new(),
            meters,
        }
    }

    pub fn handle_bytes(
        &mut self,
        fleet: &mut Fleet,
        now: Duration,
        bytes: &[u8],
        step: &mut Step,
    ) {
        let mut rest = bytes;
        loop {
            let taken = self.deframer.push(rest);
            rest = rest.get(taken..).unwrap_or_default();
            loop {
                match self.deframer.next_frame() {
                    Ok(Some(frame)) => self.on_frame(fleet, now, &frame, step),
                    Ok(None) => break,
                    Err(e) => tracing::debug!(%e, "DL/T 645 frame dropped"),
                }
            }
            if rest.is_empty() || taken == 0 {
                break;
            }
        }
    }

    fn on_frame(&mut self, fleet: &mut Fleet, now: Duration, frame: &Frame, step: &mut Step) {
        let t = fleet.scenario_time(now);
        for d in &mut self.meters {
            let Some(m) = fleet.meter_mut(d.meter) else {
                continue;
            };
            let Some(spec) = m.spec.dlt645 else { continue };
            if m.is_offline() || !frame.address.reaches(&spec.address) {
                continue;
            }
            if m.power_epoch() != d.epoch {
                // Back from power-off: no follow-up is pending any more.
                *d = Dlt645Meter::responders(d.meter, m.power_epoch(), d.version, &spec);
            }
            let Some(version) = d.edition(frame) else {
                tracing::debug!(meter = %m.name(), "not a 1997 function code: no answer");
                continue;
            };
            let table = MeterTable {
                readings: Readings::of(m, t),
                address: spec.address,
                credit: spec.credit,
            };
            let responder = match version {
                Version::V2007 => &mut d.v2007,
                Version::V1997 => &mut d.v1997,
            };
            match responder.respond(frame, &table) {
                Response::Reply(reply) => {
                    let di = match Request::decode(frame, version) {
                        Ok(Request::Read { di, .. } | Request::ReadFollowUp { di, .. }) => Some(di),
                        _ => None,
                    };
                    step.events.push(SimEvent::Dlt645Served {
                        meter: d.meter,
                        function: frame.control.function(version),
                        di,
                        abnormal: reply.control.is_abnormal(),
                    });
                    emit(
                        m,
                        d.meter,
                        reply.to_bytes_with_preamble(),
                        WireFormat::Dlt645,
                        t,
                        step,
                    );
                }
                Response::Silent(why) => {
                    tracing::debug!(meter = %m.name(), ?why, "DL/T 645 request not answered")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
