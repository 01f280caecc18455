//! One simulated meter: its objects placed where the profile says, its scripted changes
//! applied as scenario time passes, its faults, and whether it is powered.
//!
//! Sans-IO: time comes in as scenario time (a `Duration` since the scenario start). This
//! module must not speak any protocol; `dlms` and `station` do that on top of it.

mod build;

#[cfg(test)]
mod tests;

use core::time::Duration;
use std::collections::BTreeMap;

use crate::codes::{ShortCode, RELAY_REASON_CODE};
use crate::profile::{Profile, Reads};
use crate::protocol::axdr::Data;
use crate::protocol::obis::ObisCode;

use super::cosem::{CosemObject, ObjectStore, RelayChange};
use super::fault::FaultBook;
use super::scenario::{Change, MeterSpec, RelayState};
use super::time::LocalTime;
use build::{event_code, event_row};

/// Operating status after a remote disconnect (code-87 sub-code 7).
const REMOTE_DISCONNECT_SUB_CODE: u8 = 7;

/// Why a meter cannot be built from its spec and the profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("meter {meter}: the profile maps {reads} to class {class_id}, which the simulator does not serve")]
    UnsupportedClass {
        meter: String,
        reads: String,
        class_id: u16,
    },
    #[error("meter {meter}: the profile maps {reads} and another reading to {obis} with different classes")]
    ClassClash {
        meter: String,
        reads: String,
        obis: ObisCode,
    },
}

/// A meter's readings as a test or the handle sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeterSnapshot {
    pub name: String,
    pub status: Option<i128>,
    pub relay: Option<RelayState>,
    pub codes: BTreeMap<ShortCode, i128>,
    /// Rows per event log.
    pub event_counts: BTreeMap<ObisCode, usize>,
    pub offline: bool,
    pub frames_sent: u64,
}

/// One meter on the line.
#[derive(Debug, Clone)]
pub struct SimMeter {
    pub spec: MeterSpec,
    pub objects: ObjectStore,
    pub faults: FaultBook,
    profile: Profile,
    start: LocalTime,
    /// Changes of `spec.changes` already applied.
    applied: usize,
    offline: bool,
    /// Counts returns from power-off: a station drops its sessions when it changes.
    power_epoch: u64,
    /// The event code object of each log (0.0.96.11.E.255 for log 0.0.99.98.E.255).
    event_code_objects: BTreeMap<ObisCode, ObisCode>,
}

impl SimMeter {
    pub fn new(spec: MeterSpec, profile: &Profile, start: LocalTime) -> Result<Self, BuildError> {
        let mut meter = SimMeter {
            objects: ObjectStore::new(),
            faults: FaultBook::new(&spec.faults),
            profile: profile.clone(),
            start,
            applied: 0,
            offline: spec.offline,
            power_epoch: 0,
            event_code_objects: BTreeMap::new(),
            spec,
        };
        meter.build_objects()?;
        meter.build_event_logs();
        Ok(meter)
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// Where the meter's readings live.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    pub fn is_offline(&self) -> bool {
        self.offline
    }

    pub fn power_epoch(&self) -> u64 {
        self.power_epoch
    }

    /// The scenario clock (no client offset) at scenario time `t`.
    pub fn base_time(&self, t: Duration) -> LocalTime {
        self.start.plus(t)
    }

    /// The meter's clock at scenario time `t`.
    pub fn clock(&self, t: Duration) -> LocalTime {
        self.objects.clock_time(self.base_time(t))
    }

    /// Apply every scripted change due by scenario time `t`, in order.
    pub fn advance(&mut self, t: Duration) -> Vec<Change> {
        let mut done = Vec::new();
        while let Some(change) = self.spec.changes.get(self.applied).filter(|c| c.at <= t) {
            let change = change.clone();
            self.applied += 1;
            self.apply(&change);
            tracing::info!(meter = %self.spec.name, at = ?change.at, "scripted change applied");
            done.push(change);
        }
        done
    }

    fn apply(&mut self, c: &Change) {
        if let Some(s) = c.status {
            self.set_status(s);
        }
        for (code, v) in &c.set {
            self.set_code(*code, *v);
        }
        for (code, d) in &c.add {
            self.add_code(*code, *d);
        }
        if let Some(r) = c.relay {
            self.set_relay(r);
        }
        let when = self.clock(c.at);
        for e in &c.events {
            self.add_event(e.log, e.code, e.time.unwrap_or(when));
        }
        if let Some(off) = c.offline {
            self.set_offline(off);
        }
    }

    pub fn set_status(&mut self, status: u32) {
        let v = Data::LongUnsigned(u16::try_from(status).unwrap_or(u16::MAX));
        self.put_reading(Reads::Status, v);
    }

    /// Set a short code's value (saturated to its type).
    pub fn set_code(&mut self, code: ShortCode, value: i64) {
        if let Some(cv) = self.spec.codes.get(&code).copied() {
            self.put_reading(Reads::Short(code), cv.data_type.saturate(value));
        }
    }

    /// Add `delta` to a short code's value (saturated to its type).
    pub fn add_code(&mut self, code: ShortCode, delta: i64) {
        let current = self
            .reading(Reads::Short(code))
            .and_then(|d| d.as_integer());
        if let Some(cur) = current {
            let sum = i64::try_from(cur.saturating_add(i128::from(delta))).unwrap_or(i64::MAX);
            self.set_code(code, sum);
        }
    }

    pub fn set_relay(&mut self, state: RelayState) {
        if let Some(t) = self.profile.object(Reads::RelayControl).map(|o| o.target) {
            let _ = self.objects.put(&t.obis, 3, Data::Enum(state as u8));
        } else if let Some(t) = self.profile.object(Reads::Relay).map(|o| o.target) {
            let _ = self.objects.put(&t.obis, 2, Data::Boolean(state.output()));
        }
    }

    /// Append an event to a log and update its event code object.
    pub fn add_event(&mut self, log: ObisCode, code: u16, time: LocalTime) {
        if let Some(CosemObject::ProfileGeneric(pg)) = self.objects.object_mut(&log) {
            pg.push(event_row(time, code));
        } else {
            tracing::warn!(meter = %self.spec.name, %log, "no such event log");
            return;
        }
        if let Some(obj) = self.event_code_objects.get(&log).copied() {
            let _ = self.objects.put(&obj, 2, event_code(code));
        }
    }

    pub fn set_offline(&mut self, offline: bool) {
        if self.offline && !offline {
            self.power_epoch += 1;
        }
        self.offline = offline;
    }

    /// What a remote disconnect/reconnect does beyond the relay: the operating status
    /// and the relay reason follow it (status 1007, reason 7, on disconnect; back to 1000
    /// when the relay closes after a remote disconnect).
    pub fn after_relay_change(&mut self, change: RelayChange) {
        let reason = i64::from(REMOTE_DISCONNECT_SUB_CODE);
        let remote_status = 1000 + u32::from(REMOTE_DISCONNECT_SUB_CODE);
        match change.to {
            0 => {
                self.set_status(remote_status);
                self.set_code(ShortCode(RELAY_REASON_CODE), reason);
            }
            1 if self.reading(Reads::Status).and_then(|d| d.as_integer())
                == Some(i128::from(remote_status)) =>
            {
                self.set_status(1000);
            }
            _ => {}
        }
    }

    fn put_reading(&mut self, reads: Reads, value: Data) {
        if let Some(t) = self.profile.object(reads).map(|o| o.target) {
            if let Err(e) = self.objects.put(&t.obis, t.attribute, value) {
                tracing::warn!(meter = %self.spec.name, %reads, ?e, "cannot change the reading");
            }
        }
    }

    /// The current value of a reading, read straight from its object.
    pub fn reading(&self, reads: Reads) -> Option<Data> {
        let t = self.profile.object(reads)?.target;
        match (self.objects.object(&t.obis)?, t.attribute) {
            (CosemObject::Data(v), 2)
            | (CosemObject::Register { value: v, .. }, 2)
            | (CosemObject::ExtendedRegister { value: v, .. }, 2) => Some(v.clone()),
            (CosemObject::Limiter(l), 3) => Some(l.threshold_active.clone()),
            (CosemObject::DisconnectControl { output_state, .. }, 2) => {
                Some(Data::Boolean(*output_state))
            }
            (CosemObject::DisconnectControl { control_state, .. }, 3) => {
                Some(Data::Enum(*control_state))
            }
            _ => None,
        }
    }

    pub fn snapshot(&self) -> MeterSnapshot {
        let relay = match self.reading(Reads::RelayControl) {
            Some(Data::Enum(0)) => Some(RelayState::Disconnected),
            Some(Data::Enum(1)) => Some(RelayState::Connected),
            Some(Data::Enum(2)) => Some(RelayState::ReadyForReconnection),
            _ => None,
        };
        MeterSnapshot {
            name: self.spec.name.clone(),
            status: self.reading(Reads::Status).and_then(|d| d.as_integer()),
            relay,
            codes: self
                .spec
                .codes
                .keys()
                .filter_map(|c| {
                    let v = self.reading(Reads::Short(*c))?.as_integer()?;
                    Some((*c, v))
                })
                .collect(),
            event_counts: self
                .event_code_objects
                .keys()
                .filter_map(|log| match self.objects.object(log) {
                    Some(CosemObject::ProfileGeneric(pg)) => Some((*log, pg.buffer.len())),
                    _ => None,
                })
                .collect(),
            offline: self.offline,
            frames_sent: self.faults.frames_sent(),
        }
    }
}
