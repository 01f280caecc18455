//! Typed reads of COSEM interface classes (Blue Book 4.3-4.5): Register and Extended
//! Register (value with scaler_unit), Clock, Disconnect control, Limiter, Profile
//! generic, Association LN object list.
//!
//! Each class has a pure function from `Data` to a typed value (tested without I/O) and
//! an async helper that reads the attributes it needs through a `Session`. A value of an
//! unexpected shape is an `ItemError::BadValue`, never a guess. Nothing here decides what
//! a value means for the site (that is `agent`).

mod object_list;
mod profile_generic;

use std::fmt;

use super::error::MeterError;
use super::session::{GetResult, Session};
use crate::profile::AttributeRef;
use crate::protocol::apdu::DataAccessResult;
use crate::protocol::axdr::{Data, DateTime};
use crate::protocol::obis::ObisCode;
use crate::protocol::units::{Quantity, ScalerUnit, Unit};

pub use object_list::{
    parse_object_list, read_object_list, AttributeAccess, MethodAccess, ObjectListEntry,
};
pub use profile_generic::{
    find_columns, parse_buffer, parse_capture_objects, read_buffer, read_capture_objects,
    BufferSelection, EventColumns, SortMethod,
};

pub use crate::protocol::cosem::{
    CLASS_ASSOCIATION_LN, CLASS_CLOCK, CLASS_DATA, CLASS_DISCONNECT_CONTROL,
    CLASS_EXTENDED_REGISTER, CLASS_LIMITER, CLASS_PROFILE_GENERIC, CLASS_REGISTER,
    CURRENT_ASSOCIATION,
};

/// Why one item has no value although the session is fine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ItemError {
    /// The meter refused the attribute (object-undefined: not in this meter).
    #[error("refused by the meter: {0:?}")]
    Refused(DataAccessResult),
    /// The value is not of the shape the class defines.
    #[error("expected {expected}, got {found}")]
    BadValue {
        expected: &'static str,
        found: String,
    },
    /// The request failed without losing the association (exception-response, ...).
    #[error("{0}")]
    Failed(String),
    /// Not read: the association was lost before this item.
    #[error("not read: {0}")]
    NotRead(String),
    /// The profile has no entry for what was asked.
    #[error("not in the profile")]
    NotInProfile,
}

impl ItemError {
    /// The meter does not have the object.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ItemError::Refused(DataAccessResult::ObjectUndefined))
    }
}

impl From<DataAccessResult> for ItemError {
    fn from(e: DataAccessResult) -> Self {
        ItemError::Refused(e)
    }
}

/// A typed read: the value, or why this item has none; `MeterError` for the session.
pub type ItemResult<T> = Result<Result<T, ItemError>, MeterError>;

pub(crate) fn bad(expected: &'static str, found: &Data) -> ItemError {
    ItemError::BadValue {
        expected,
        found: format!("{found:?}"),
    }
}

/// `CLASS:OBIS:ATTR`.
pub fn attr(class_id: u16, obis: ObisCode, attribute: i8) -> AttributeRef {
    AttributeRef {
        class_id,
        obis,
        attribute,
    }
}

/// A register value with its scaler and unit applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Measurement {
    /// An integer register: exact.
    Exact(Quantity),
    /// A float register (value × 10^scaler, already applied).
    Float { value: f64, unit: Unit },
}

impl fmt::Display for Measurement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Measurement::Exact(q) => write!(f, "{q}"),
            Measurement::Float { value, unit } => match unit.symbol() {
                Some(s) => write!(f, "{value} {s}"),
                None => write!(f, "{value}"),
            },
        }
    }
}

/// Register value (attribute 2) and scaler_unit (attribute 3) to a measurement.
pub fn register_value(value: &Data, scaler_unit: &Data) -> Result<Measurement, ItemError> {
    let su = ScalerUnit::from_data(scaler_unit)
        .ok_or_else(|| bad("scaler_unit structure { integer, enum }", scaler_unit))?;
    scaled(value, su)
}

/// Apply a scaler and unit to a numeric value.
pub fn scaled(value: &Data, su: ScalerUnit) -> Result<Measurement, ItemError> {
    if let Some(raw) = value.as_integer() {
        return Ok(Measurement::Exact(su.apply(raw)));
    }
    let float = match value {
        Data::Float32(v) => f64::from(*v),
        Data::Float64(v) => *v,
        other => return Err(bad("a number", other)),
    };
    Ok(Measurement::Float {
        value: float * 10f64.powi(i32::from(su.scaler)),
        unit: su.unit,
    })
}

/// Disconnect control control_state (Blue Book 4.5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlState {
    Disconnected,
    Connected,
    ReadyForReconnection,
    Unknown(u8),
}

impl ControlState {
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => ControlState::Disconnected,
            1 => ControlState::Connected,
            2 => ControlState::ReadyForReconnection,
            other => ControlState::Unknown(other),
        }
    }

    pub fn from_data(d: &Data) -> Result<Self, ItemError> {
        match d {
            Data::Enum(v) | Data::Unsigned(v) => Ok(Self::from_code(*v)),
            other => Err(bad("control_state enum", other)),
        }
    }
}

impl fmt::Display for ControlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlState::Disconnected => f.write_str("disconnected"),
            ControlState::Connected => f.write_str("connected"),
            ControlState::ReadyForReconnection => f.write_str("ready for reconnection"),
            ControlState::Unknown(v) => write!(f, "unknown control state {v}"),
        }
    }
}

/// Disconnect control output_state (attribute 2): `true` = connected (supply on).
pub fn output_state(d: &Data) -> Result<bool, ItemError> {
    match d {
        Data::Boolean(b) => Ok(*b),
        other => Err(bad("output_state boolean", other)),
    }
}

/// A date-time, typed or as the 12-byte octet-string (Clock time, event log columns).
pub fn date_time(d: &Data) -> Result<DateTime, ItemError> {
    d.as_date_time()
        .ok_or_else(|| bad("date-time (or its 12-byte octet-string)", d))
}

/// The state of a Disconnect control object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisconnectState {
    pub output_state: bool,
    pub control_state: ControlState,
}

fn item<T>(r: GetResult, f: impl FnOnce(&Data) -> Result<T, ItemError>) -> Result<T, ItemError> {
    r.map_err(ItemError::Refused).and_then(|d| f(&d))
}

/// Read a Register or Extended Register: value and scaler_unit in one request.
pub async fn read_register(
    session: &mut Session,
    class_id: u16,
    obis: ObisCode,
) -> ItemResult<Measurement> {
    let got = session
        .get_many(&[attr(class_id, obis, 2), attr(class_id, obis, 3)])
        .await?;
    let mut got = got.into_iter();
    let (Some(value), Some(su)) = (got.next(), got.next()) else {
        return Ok(Err(ItemError::Failed("missing results".into())));
    };
    Ok(value
        .map_err(ItemError::Refused)
        .and_then(|v| item(su, |su| register_value(&v, su))))
}

/// Read a Clock's time (attribute 2).
pub async fn read_clock(session: &mut Session, obis: ObisCode) -> ItemResult<DateTime> {
    let r = session.get(attr(CLASS_CLOCK, obis, 2), None).await?;
    Ok(item(r, date_time))
}

/// Read a Disconnect control's output_state and control_state.
pub async fn read_disconnect(session: &mut Session, obis: ObisCode) -> ItemResult<DisconnectState> {
    let got = session
        .get_many(&[
            attr(CLASS_DISCONNECT_CONTROL, obis, 2),
            attr(CLASS_DISCONNECT_CONTROL, obis, 3),
        ])
        .await?;
    let mut got = got.into_iter();
    let (Some(out), Some(control)) = (got.next(), got.next()) else {
        return Ok(Err(ItemError::Failed("missing results".into())));
    };
    Ok(item(out, output_state).and_then(|output_state| {
        item(control, ControlState::from_data).map(|control_state| DisconnectState {
            output_state,
            control_state,
        })
    }))
}

/// Read a Limiter's threshold_active (attribute 3), scaled like the value it monitors
/// (attribute 2, a value_definition) when that is a register; unscaled otherwise.
pub async fn read_limiter_threshold(
    session: &mut Session,
    obis: ObisCode,
) -> ItemResult<Measurement> {
    let got = session
        .get_many(&[attr(CLASS_LIMITER, obis, 3), attr(CLASS_LIMITER, obis, 2)])
        .await?;
    let mut got = got.into_iter();
    let (Some(threshold), Some(monitored)) = (got.next(), got.next()) else {
        return Ok(Err(ItemError::Failed("missing results".into())));
    };
    let threshold = match threshold {
        Ok(t) => t,
        Err(e) => return Ok(Err(ItemError::Refused(e))),
    };
    let unscaled = ScalerUnit {
        scaler: 0,
        unit: Unit::Count,
    };
    let Some(register) = monitored.ok().as_ref().and_then(monitored_register) else {
        return Ok(scaled(&threshold, unscaled));
    };
    let su = session
        .get(attr(register.class_id, register.obis, 3), None)
        .await?;
    let su = su
        .ok()
        .as_ref()
        .and_then(ScalerUnit::from_data)
        .unwrap_or(unscaled);
    Ok(scaled(&threshold, su))
}

/// value_definition ::= structure { class_id, logical_name, attribute_index }, when it
/// names a register's value.
pub fn monitored_register(d: &Data) -> Option<AttributeRef> {
    match d.as_elements()? {
        [Data::LongUnsigned(class_id), Data::OctetString(ln), index]
            if matches!(*class_id, CLASS_REGISTER | CLASS_EXTENDED_REGISTER) =>
        {
            Some(attr(
                *class_id,
                ObisCode::from_slice(ln)?,
                i8::try_from(index.as_integer()?).ok()?,
            ))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;
