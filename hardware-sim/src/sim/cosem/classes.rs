//! Attributes and methods of the simple classes: Data, Register, Extended Register, Clock,
//! Disconnect Control and Limiter (Blue Book 4.3.1, 4.3.2, 4.3.3, 4.5.1, 4.5.8, 4.5.9).

use crate::protocol::axdr::{Data, DateTime};
use crate::protocol::obis::ObisCode;

use super::{AccessMode, CosemObject, Refusal};
use crate::sim::time::LocalTime;

use AccessMode::{NoAccess, Read, ReadWrite};

/// Limiter (class 71) state. Thresholds are in the monitored register's unit and scaler.
#[derive(Debug, Clone, PartialEq)]
pub struct Limiter {
    /// The register watched: class id, logical name, attribute.
    pub monitored: (u16, ObisCode, i8),
    pub threshold_active: Data,
    pub threshold_normal: Data,
    pub threshold_emergency: Data,
    pub min_over_threshold_duration: u32,
    pub min_under_threshold_duration: u32,
}

/// A Disconnect Control transition caused by a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayChange {
    /// control_state before and after (0 disconnected, 1 connected, 2 ready for reconnection).
    pub from: u8,
    pub to: u8,
}

/// The native access mode of each attribute (before association limits); `None` when the
/// class has no such attribute.
pub(super) fn attribute_mode(object: &CosemObject, attr: i8) -> Option<AccessMode> {
    let last = match object {
        CosemObject::Data(_) => 2,
        CosemObject::Register { .. } => 3,
        CosemObject::ExtendedRegister { .. } => 5,
        CosemObject::ProfileGeneric(_) => 8,
        CosemObject::Clock { .. } => 9,
        CosemObject::AssociationLn => 8,
        CosemObject::DisconnectControl { .. } => 4,
        CosemObject::Limiter(_) => 11,
    };
    if !(1..=last).contains(&attr) {
        return None;
    }
    Some(match (object, attr) {
        (CosemObject::Clock { .. }, 2) => ReadWrite,
        // The LLS secret can be written by a suitably authorised client, never read.
        (CosemObject::AssociationLn, 7) => NoAccess,
        (CosemObject::DisconnectControl { .. }, 4) => ReadWrite,
        (CosemObject::Limiter(_), 3..=7) => ReadWrite,
        _ => Read,
    })
}

/// Whether a method can be invoked at all (by an operator); `None` when there is no such method.
pub(super) fn method_allowed(object: &CosemObject, method: i8) -> Option<bool> {
    let (count, allowed): (i8, &[i8]) = match object {
        CosemObject::Data(_) => (0, &[]),
        CosemObject::Register { .. } | CosemObject::ExtendedRegister { .. } => (1, &[]),
        CosemObject::ProfileGeneric(_) => (4, &[]),
        CosemObject::Clock { .. } => (6, &[]),
        CosemObject::AssociationLn => (6, &[]),
        CosemObject::DisconnectControl { .. } => (2, &[1, 2]),
        CosemObject::Limiter(_) => (0, &[]),
    };
    (1..=count)
        .contains(&method)
        .then(|| allowed.contains(&method))
}

pub(super) fn get(object: &CosemObject, attr: i8) -> Result<Data, Refusal> {
    Ok(match (object, attr) {
        (CosemObject::Data(v), 2) => v.clone(),
        (CosemObject::Register { value, .. }, 2) => value.clone(),
        (CosemObject::Register { scaler_unit, .. }, 3) => scaler_unit.to_data(),
        (CosemObject::ExtendedRegister { value, .. }, 2) => value.clone(),
        (CosemObject::ExtendedRegister { scaler_unit, .. }, 3) => scaler_unit.to_data(),
        (CosemObject::ExtendedRegister { status, .. }, 4) => status.clone(),
        (CosemObject::ExtendedRegister { capture_time, .. }, 5) => match capture_time {
            Some(t) => date_time(t.to_date_time()),
            None => Data::OctetString(vec![0xFF; DateTime::LEN]),
        },
        (CosemObject::DisconnectControl { output_state, .. }, 2) => Data::Boolean(*output_state),
        (CosemObject::DisconnectControl { control_state, .. }, 3) => Data::Enum(*control_state),
        (CosemObject::DisconnectControl { control_mode, .. }, 4) => Data::Enum(*control_mode),
        (CosemObject::Limiter(l), _) => limiter_get(l, attr)?,
        _ => return Err(Refusal::AttributeUndefined),
    })
}

/// A date-time as most meters send it: a 12-byte octet-string (Blue Book 4.1.6.1).
pub(super) fn date_time(dt: DateTime) -> Data {
    Data::OctetString(dt.to_bytes().to_vec())
}

pub(super) fn clock_get(attr: i8, now: LocalTime) -> Result<Data, Refusal> {
    let dt = now.to_date_time();
    Ok(match attr {
        2 => date_time(dt),
        3 => Data::Long(dt.deviation),
        4 => Data::Unsigned(dt.clock_status.0),
        // No daylight saving: begin and end "not specified".
        5 | 6 => Data::OctetString(vec![0xFF; DateTime::LEN]),
        7 => Data::Integer(0),
        8 => Data::Boolean(false),
        // clock_base: 1 = internal crystal.
        9 => Data::Enum(1),
        _ => return Err(Refusal::AttributeUndefined),
    })
}

fn limiter_get(l: &Limiter, attr: i8) -> Result<Data, Refusal> {
    let (class_id, obis, index) = l.monitored;
    let no_script = || Data::Structure(vec![Data::OctetString(vec![0; 6]), Data::LongUnsigned(0)]);
    Ok(match attr {
        2 => Data::Structure(vec![
            Data::LongUnsigned(class_id),
            Data::OctetString(obis.0.to_vec()),
            Data::Integer(index),
        ]),
        3 => l.threshold_active.clone(),
        4 => l.threshold_normal.clone(),
        5 => l.threshold_emergency.clone(),
        6 => Data::DoubleLongUnsigned(l.min_over_threshold_duration),
        7 => Data::DoubleLongUnsigned(l.min_under_threshold_duration),
        8 => Data::Structure(vec![
            Data::LongUnsigned(0),
            Data::OctetString(vec![0xFF; DateTime::LEN]),
            Data::DoubleLongUnsigned(0),
        ]),
        9 => Data::Array(Vec::new()),
        10 => Data::Boolean(false),
        11 => Data::Structure(vec![no_script(), no_script()]),
        _ => return Err(Refusal::AttributeUndefined),
    })
}

/// SET by a client, access already checked: the value must have the current type.
pub(super) fn set(
    object: &mut CosemObject,
    attr: i8,
    value: Data,
    base: LocalTime,
) -> Result<(), Refusal> {
    match (object, attr) {
        (CosemObject::Clock { offset_secs }, 2) => {
            let dt = value.as_date_time().ok_or(Refusal::TypeUnmatched)?;
            let t = LocalTime::from_date_time(&dt).ok_or(Refusal::TypeUnmatched)?;
            *offset_secs = t.secs.saturating_sub(base.secs);
            Ok(())
        }
        (CosemObject::DisconnectControl { control_mode, .. }, 4) => match value {
            Data::Enum(m) if m <= 6 => {
                *control_mode = m;
                Ok(())
            }
            _ => Err(Refusal::TypeUnmatched),
        },
        (CosemObject::Limiter(l), 3..=7) => {
            let slot = match attr {
                3 => &mut l.threshold_active,
                4 => &mut l.threshold_normal,
                5 => &mut l.threshold_emergency,
                _ => {
                    let Data::DoubleLongUnsigned(v) = value else {
                        return Err(Refusal::TypeUnmatched);
                    };
                    if attr == 6 {
                        l.min_over_threshold_duration = v;
                    } else {
                        l.min_under_threshold_duration = v;
                    }
                    return Ok(());
                }
            };
            if slot.data_type() != value.data_type() {
                return Err(Refusal::TypeUnmatched);
            }
            *slot = value;
            Ok(())
        }
        _ => Err(Refusal::Denied),
    }
}

/// The meter's own change of an attribute (no access rights).
pub(super) fn put(object: &mut CosemObject, attr: i8, value: Data) -> Result<(), Refusal> {
    match (object, attr) {
        (CosemObject::Data(v), 2)
        | (CosemObject::Register { value: v, .. }, 2)
        | (CosemObject::ExtendedRegister { value: v, .. }, 2)
        | (
            CosemObject::Limiter(Limiter {
                threshold_active: v,
                ..
            }),
            3,
        )
        | (
            CosemObject::Limiter(Limiter {
                threshold_normal: v,
                ..
            }),
            4,
        )
        | (
            CosemObject::Limiter(Limiter {
                threshold_emergency: v,
                ..
            }),
            5,
        ) => {
            *v = value;
            Ok(())
        }
        (CosemObject::DisconnectControl { output_state, .. }, 2) => match value {
            Data::Boolean(b) => {
                *output_state = b;
                Ok(())
            }
            _ => Err(Refusal::TypeUnmatched),
        },
        (
            CosemObject::DisconnectControl {
                control_state,
                output_state,
                ..
            },
            3,
        ) => match value {
            Data::Enum(s) if s <= 2 => {
                *control_state = s;
                *output_state = s == 1;
                Ok(())
            }
            _ => Err(Refusal::TypeUnmatched),
        },
        _ => Err(Refusal::AttributeUndefined),
    }
}

/// Disconnect Control methods (Blue Book 4.5.8): 1 remote_disconnect, 2 remote_reconnect,
/// each with the parameter `integer(0)`.
///
/// Design: the state machine is reduced to what a head-end sees. remote_disconnect opens the
/// relay from any state (modes 1..6). remote_reconnect closes it in modes 1, 3 and 5, and
/// only makes it ready for a manual reconnection in modes 2, 4 and 6. Mode 0 has no remote
/// control: both methods are refused as read-write-denied.
pub(super) fn action(
    object: &mut CosemObject,
    method: i8,
    parameters: Option<&Data>,
) -> Result<Option<RelayChange>, Refusal> {
    let CosemObject::DisconnectControl {
        output_state,
        control_state,
        control_mode,
    } = object
    else {
        return Err(Refusal::Denied);
    };
    match parameters {
        None | Some(Data::Integer(_)) | Some(Data::NullData) => {}
        Some(_) => return Err(Refusal::TypeUnmatched),
    }
    if *control_mode == 0 {
        return Err(Refusal::Denied);
    }
    let from = *control_state;
    let to = match method {
        1 => 0,
        _ if from == 1 => 1,
        _ if matches!(*control_mode, 2 | 4 | 6) => 2,
        _ => 1,
    };
    *control_state = to;
    *output_state = to == 1;
    Ok(Some(RelayChange { from, to }))
}
