//! [`SimHandle`]: what tests and the demo use to change meters while links are served,
//! and to wait for what the simulator did (no sleeps: await an event instead).

use core::time::Duration;
use std::sync::Arc;

use tokio::sync::broadcast;

use crate::codes::ShortCode;
use crate::protocol::obis::ObisCode;
use crate::sim::fault::FaultKind;
use crate::sim::fleet::SimEvent;
use crate::sim::meter::{MeterSnapshot, SimMeter};
use crate::sim::scenario::RelayState;

use super::{Shared, SimError};

/// Changes meters and watches the simulator, for tests and the demo. Every change takes
/// effect for the next request any link receives.
#[derive(Clone)]
pub struct SimHandle {
    pub(super) shared: Arc<Shared>,
}

impl SimHandle {
    /// Index of the meter with this name or serial number.
    pub fn meter_index(&self, name_or_serial: &str) -> Option<usize> {
        self.shared.scenario.meter_index(name_or_serial)
    }

    /// Scenario time now (time since start, times the time scale).
    pub fn scenario_time(&self) -> Duration {
        self.shared.fleet().scenario_time(self.shared.now())
    }

    fn with_meter<T>(
        &self,
        meter: usize,
        f: impl FnOnce(&mut SimMeter, Duration) -> T,
    ) -> Result<T, SimError> {
        let mut fleet = self.shared.fleet();
        let t = fleet.scenario_time(self.shared.now());
        let m = fleet.meter_mut(meter).ok_or(SimError::NoSuchMeter(meter))?;
        Ok(f(m, t))
    }

    pub fn set_status(&self, meter: usize, status: u32) -> Result<(), SimError> {
        self.with_meter(meter, |m, _| m.set_status(status))
    }

    pub fn set_code(&self, meter: usize, code: ShortCode, value: i64) -> Result<(), SimError> {
        self.with_meter(meter, |m, _| m.set_code(code, value))
    }

    /// Add `by` to a counter (or any integer short code).
    pub fn bump_counter(&self, meter: usize, code: ShortCode, by: i64) -> Result<(), SimError> {
        self.with_meter(meter, |m, _| m.add_code(code, by))
    }

    pub fn set_relay(&self, meter: usize, state: RelayState) -> Result<(), SimError> {
        self.with_meter(meter, |m, _| m.set_relay(state))
    }

    /// Append an event with the meter's clock now.
    pub fn add_event(&self, meter: usize, log: ObisCode, code: u16) -> Result<(), SimError> {
        self.with_meter(meter, |m, t| {
            let now = m.clock(t);
            m.add_event(log, code, now)
        })
    }

    /// Power a meter off (it answers nothing) or back on (with fresh sessions).
    pub fn set_offline(&self, meter: usize, offline: bool) -> Result<(), SimError> {
        self.with_meter(meter, |m, _| m.set_offline(offline))
    }

    /// Apply `fault` to the meter's next response frame (or next AARQ, for association faults).
    pub fn inject_fault(&self, meter: usize, fault: FaultKind) -> Result<(), SimError> {
        self.with_meter(meter, |m, _| m.faults.inject(fault))
    }

    pub fn snapshot(&self, meter: usize) -> Result<MeterSnapshot, SimError> {
        self.with_meter(meter, |m, _| m.snapshot())
    }

    /// Everything that happens from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<SimEvent> {
        self.shared.events.subscribe()
    }

    /// Stop every link and listener.
    pub fn shutdown(&self) {
        self.shared.shutdown.send_replace(true);
    }
}

/// Wait for the first event `pick` accepts (events missed by a lagging receiver are
/// skipped); `None` once the simulator is gone.
pub async fn wait_for<T>(
    rx: &mut broadcast::Receiver<SimEvent>,
    mut pick: impl FnMut(&SimEvent) -> Option<T>,
) -> Option<T> {
    loop {
        match rx.recv().await {
            Ok(event) => {
                if let Some(t) = pick(&event) {
                    return Some(t);
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "event receiver lagged");
            }
            Err(broadcast::error::RecvError::Closed) => return None,
        }
    }
}
