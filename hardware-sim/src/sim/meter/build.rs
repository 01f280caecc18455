//! Building a meter's objects: every reading where the profile puts it, with the
//! scenario's initial values, and one event log per log the profile reads.

use crate::codes::ShortCode;
use crate::profile::Reads;
use crate::protocol::axdr::Data;
use crate::protocol::obis::ObisCode;
use crate::protocol::units::{ScalerUnit, Unit};
use crate::sim::cosem::{
    CaptureDef, CosemObject, Limiter, ProfileGeneric, CLASS_CLOCK, CLASS_DATA,
    CLASS_DISCONNECT_CONTROL, CLASS_EXTENDED_REGISTER, CLASS_LIMITER, CLASS_REGISTER,
};
use crate::sim::scenario::CodeValue;
use crate::sim::time::LocalTime;

use super::{BuildError, SimMeter};

/// Default Clock logical name when the profile does not map `clock`.
const CLOCK: ObisCode = ObisCode::new(0, 0, 1, 0, 0, 255);
/// Default instantaneous power register, watched by the limiter.
const ACTIVE_POWER: ObisCode = ObisCode::new(1, 0, 1, 7, 0, 255);
/// Rows an event log keeps (profile_entries).
const LOG_CAPACITY: u32 = 100;

impl SimMeter {
    pub(super) fn build_objects(&mut self) -> Result<(), BuildError> {
        let entries = self.profile.objects.clone();
        let power = self
            .profile
            .object(Reads::Short(ShortCode(31)))
            .map_or((CLASS_REGISTER, ACTIVE_POWER, 2), |o| {
                (o.target.class_id, o.target.obis, o.target.attribute)
            });
        for entry in &entries {
            let (class_id, obis) = (entry.target.class_id, entry.target.obis);
            let reads = entry.reads.to_string();
            let fresh = match class_id {
                CLASS_DATA => CosemObject::Data(Data::NullData),
                CLASS_REGISTER => CosemObject::Register {
                    value: Data::NullData,
                    scaler_unit: ScalerUnit {
                        scaler: 0,
                        unit: Unit::Count,
                    },
                },
                CLASS_EXTENDED_REGISTER => CosemObject::ExtendedRegister {
                    value: Data::NullData,
                    scaler_unit: ScalerUnit {
                        scaler: 0,
                        unit: Unit::Count,
                    },
                    status: Data::Unsigned(0),
                    capture_time: Some(self.start),
                },
                CLASS_CLOCK => CosemObject::Clock { offset_secs: 0 },
                CLASS_DISCONNECT_CONTROL => CosemObject::DisconnectControl {
                    output_state: self.spec.relay.output(),
                    control_state: self.spec.relay as u8,
                    control_mode: self.spec.control_mode,
                },
                CLASS_LIMITER => CosemObject::Limiter(Limiter {
                    monitored: power,
                    threshold_active: Data::NullData,
                    threshold_normal: Data::NullData,
                    threshold_emergency: Data::NullData,
                    min_over_threshold_duration: 60,
                    min_under_threshold_duration: 60,
                }),
                other => {
                    return Err(BuildError::UnsupportedClass {
                        meter: self.spec.name.clone(),
                        reads,
                        class_id: other,
                    })
                }
            };
            match self.objects.object(&obis) {
                None => self.objects.insert(obis, fresh),
                Some(o) if o.class_id() != class_id => {
                    return Err(BuildError::ClassClash {
                        meter: self.spec.name.clone(),
                        reads,
                        obis,
                    })
                }
                Some(_) => {}
            }
            self.place(entry.reads);
        }
        Ok(())
    }

    /// Put the spec's initial value of one reading into its object.
    fn place(&mut self, reads: Reads) {
        let Some(target) = self.profile.object(reads).map(|o| o.target) else {
            return;
        };
        let text = |s: &str| Data::OctetString(s.as_bytes().to_vec());
        let value = match reads {
            Reads::Short(code) => {
                let Some(cv) = self.spec.codes.get(&code).copied() else {
                    return;
                };
                self.set_scaler(target.obis, cv);
                cv.data_type.saturate(cv.value)
            }
            Reads::Status => {
                Data::LongUnsigned(u16::try_from(self.spec.status).unwrap_or(u16::MAX))
            }
            Reads::Relay | Reads::RelayControl | Reads::Clock => return,
            Reads::Serial => text(&self.spec.serial.clone()),
            Reads::DeviceName => text(&self.spec.device_name.clone()),
            Reads::Firmware => text(&self.spec.firmware.clone()),
        };
        if matches!(
            reads,
            Reads::Serial | Reads::DeviceName | Reads::Firmware | Reads::Clock
        ) {
            self.objects.mark_public(target.obis);
        }
        if let Some(CosemObject::Limiter(l)) = self.objects.object_mut(&target.obis) {
            // Design: a meter starts with normal and emergency thresholds equal to the active one.
            l.threshold_normal = value.clone();
            l.threshold_emergency = value.clone();
        }
        if let Err(e) = self.objects.put(&target.obis, target.attribute, value) {
            tracing::warn!(meter = %self.spec.name, %reads, ?e, "profile attribute cannot hold the reading");
        }
    }

    fn set_scaler(&mut self, obis: ObisCode, cv: CodeValue) {
        let Some(su) = cv.scaler_unit else {
            return;
        };
        match self.objects.object_mut(&obis) {
            Some(CosemObject::Register { scaler_unit, .. })
            | Some(CosemObject::ExtendedRegister { scaler_unit, .. }) => *scaler_unit = su,
            _ => {}
        }
    }

    pub(super) fn build_event_logs(&mut self) {
        let clock = self
            .profile
            .object(Reads::Clock)
            .map_or(CLOCK, |o| o.target.obis);
        if self.objects.object(&clock).is_none() {
            self.objects
                .insert(clock, CosemObject::Clock { offset_secs: 0 });
            self.objects.mark_public(clock);
        }
        let mut logs: Vec<ObisCode> = self.profile.events.iter().map(|e| e.log).collect();
        logs.sort();
        logs.dedup();
        for log in logs {
            let [a, b, _, _, e, _] = log.0;
            let code_obj = ObisCode::new(a, b, 96, 11, e, 255);
            let spec = self.spec.event_logs.iter().find(|l| l.log == log);
            let entries = spec.map(|s| s.entries.clone()).unwrap_or_default();
            let mut pg = ProfileGeneric {
                capture_objects: vec![
                    CaptureDef {
                        class_id: CLASS_CLOCK,
                        obis: clock,
                        attribute: 2,
                        data_index: 0,
                    },
                    CaptureDef {
                        class_id: CLASS_DATA,
                        obis: code_obj,
                        attribute: 2,
                        data_index: 0,
                    },
                ],
                buffer: Vec::new(),
                capture_period: 0,
                max_entries: LOG_CAPACITY.max(u32::try_from(entries.len()).unwrap_or(u32::MAX)),
            };
            for e in &entries {
                pg.push(event_row(e.time, e.code));
            }
            let last = entries
                .last()
                .map_or(Data::Unsigned(0), |e| event_code(e.code));
            self.objects.insert(code_obj, CosemObject::Data(last));
            self.objects.insert(log, CosemObject::ProfileGeneric(pg));
            self.event_code_objects.insert(log, code_obj);
        }
    }
}

/// Event codes up to 255 are `unsigned` (IDIS); larger ones `long-unsigned`.
pub(super) fn event_code(code: u16) -> Data {
    match u8::try_from(code) {
        Ok(c) => Data::Unsigned(c),
        Err(_) => Data::LongUnsigned(code),
    }
}

pub(super) fn event_row(time: LocalTime, code: u16) -> Vec<Data> {
    vec![
        Data::OctetString(time.to_date_time().to_bytes().to_vec()),
        event_code(code),
    ]
}
