//! The meters of a scenario, shared by every connection, with the simulator's timeline:
//! `now` (time since the simulator started) scaled into scenario time.
//!
//! Sans-IO: callers pass `now`; nothing here reads a clock.

use core::time::Duration;

use crate::profile::Profile;

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
