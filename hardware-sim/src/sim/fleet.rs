//! The meters of a scenario, shared by every connection, with the simulator's timeline:
//! `now` (time since the simulator started) scaled into scenario time.
//!
//! Sans-IO: callers pass `now`; nothing here reads a clock.

use core::time::Duration;

use crate::profile::Profile;
use crate::protocol::dlt645::{DataId, Function};
use crate::protocol::iec62056_21::MeterEvent;

use super::dlms::Served;
use super::fault::FaultKind;
use super::meter::{BuildError, SimMeter};
use super::scenario::Scenario;

/// Something that happened in the simulator, for logs and tests that wait on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEvent {
    /// A link started being served (a TCP connection, a pty, an in-memory link).
    LinkOpened {
        link: String,
    },
    LinkClosed {
        link: String,
    },
    /// A meter's HDLC server accepted an SNRM from this client SAP.
    HdlcConnected {
        meter: usize,
        client: u16,
    },
    HdlcDisconnected {
        meter: usize,
    },
    /// A meter answered a request.
    Served {
        meter: usize,
        served: Served,
    },
    /// A meter put a response frame on the wire (after faults: `copies` frames, maybe 0).
    FrameSent {
        meter: usize,
        len: usize,
        copies: usize,
    },
    FaultApplied {
        meter: usize,
        fault: FaultKind,
    },
    /// A scripted change took effect.
    ChangeApplied {
        meter: usize,
        at: Duration,
    },
    /// A sign-on on the optical port, and the meter that answers it (`None`: no meter with
    /// that address, or it is powered off).
    OpticalSignOn {
        meter: Option<usize>,
        address: Option<String>,
    },
    /// What a meter's optical session reported: the check of the client's baud switch,
    /// a password accepted or rejected, a refused option, the end of the session.
    Optical {
        meter: usize,
        event: MeterEvent,
    },
    /// The client switched to another rate than its option select asked for (seen on a pty).
    OpticalPeerBaud {
        meter: usize,
        agreed: u32,
        seen: u32,
    },
    /// Mode E: the optical port went over to HDLC at this rate.
    OpticalModeE {
        meter: usize,
        baud: u32,
    },
    /// A meter answered a DL/T 645 request (`abnormal`: with an error word).
    Dlt645Served {
        meter: usize,
        function: Function,
        di: Option<DataId>,
        abnormal: bool,
    },
}

/// All meters and the time scale.
#[derive(Debug, Clone)]
pub struct Fleet {
    meters: Vec<SimMeter>,
    time_scale: f64,
}

impl Fleet {
    pub fn new(
        scenario: &Scenario,
        profile: &Profile,
        time_scale: f64,
    ) -> Result<Self, BuildError> {
        let meters = scenario
            .meters
            .iter()
            .map(|spec| SimMeter::new(spec.clone(), profile, scenario.start))
            .collect::<Result<_, _>>()?;
        Ok(Fleet {
            meters,
            time_scale: if time_scale.is_finite() && time_scale > 0.0 {
                time_scale
            } else {
                1.0
            },
        })
    }

    /// Scenario time at simulator time `now`.
    pub fn scenario_time(&self, now: Duration) -> Duration {
        // Saturates instead of panicking on an absurd scale.
        Duration::try_from_secs_f64(now.as_secs_f64() * self.time_scale).unwrap_or(Duration::MAX)
    }

    /// Apply the scripted changes due at `now`; what changed.
    pub fn advance(&mut self, now: Duration) -> Vec<SimEvent> {
        let t = self.scenario_time(now);
        let mut events = Vec::new();
        for (meter, m) in self.meters.iter_mut().enumerate() {
            for change in m.advance(t) {
                events.push(SimEvent::ChangeApplied {
                    meter,
                    at: change.at,
                });
            }
        }
        events
    }

    pub fn meters(&self) -> &[SimMeter] {
        &self.meters
    }

    pub fn meter(&self, i: usize) -> Option<&SimMeter> {
        self.meters.get(i)
    }

    pub fn meter_mut(&mut self, i: usize) -> Option<&mut SimMeter> {
        self.meters.get_mut(i)
    }

    pub fn len(&self) -> usize {
        self.meters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.meters.is_empty()
    }
}
