//! From a raw `Data` value to a typed `ReadValue`, by what the profile says the value
//! is. Pure: every shape the class does not define is an `ItemError::BadValue`.

use super::{Item, ReadValue};
use crate::codes::{OperatingStatus, ValueKind};
use crate::meter::cosem::{
    date_time, output_state, register_value, ControlState, ItemError, Measurement, CLASS_CLOCK,
    CLASS_DISCONNECT_CONTROL, CLASS_EXTENDED_REGISTER, CLASS_REGISTER,
};
use crate::profile::{AttributeRef, Reads};
use crate::protocol::axdr::Data;
use crate::protocol::units::Unit;

/// Whether a target is a register value, read together with its scaler_unit.
pub(super) fn is_register_value(target: AttributeRef) -> bool {
    matches!(target.class_id, CLASS_REGISTER | CLASS_EXTENDED_REGISTER) && target.attribute == 2
}

/// The scaler_unit attribute of a register value.
pub(super) fn scaler_of(target: AttributeRef) -> AttributeRef {
    AttributeRef {
        attribute: 3,
        ..target
    }
}

/// Type `value`, read from `target` for `what`; `scaler_unit` is given for a register value.
pub(super) fn convert(
    what: Item,
    target: AttributeRef,
    value: &Data,
    scaler_unit: Option<&Data>,
) -> Result<ReadValue, ItemError> {
    let kind = match what {
        Item::Reads(Reads::Short(code)) => code.entry().map(|e| e.kind),
        _ => None,
    };
    if let Some(su) = scaler_unit {
        let m = register_value(value, su)?;
        return Ok(match (kind, m) {
            (Some(ValueKind::Count), Measurement::Exact(q)) if q.scaler == 0 => {
                ReadValue::Count(q.mantissa)
            }
            (_, m) => measurement(m),
        });
    }
    match what {
        Item::Reads(reads) => by_reads(reads, kind, value),
        Item::Attribute(_) => by_class(target, value),
    }
}

pub(super) fn measurement(m: Measurement) -> ReadValue {
    match m {
        Measurement::Exact(q) => ReadValue::Quantity(q),
        Measurement::Float { value, unit } => ReadValue::Float { value, unit },
    }
}

fn by_reads(reads: Reads, kind: Option<ValueKind>, value: &Data) -> Result<ReadValue, ItemError> {
    match reads {
        Reads::Short(_) => match kind {
            Some(ValueKind::Count) => integer(value, "a count").map(ReadValue::Count),
            Some(ValueKind::Timestamp) => date_time(value).map(ReadValue::Timestamp),
            Some(ValueKind::RelayReason) => {
                u32_value(value, "a relay reason sub-code").map(ReadValue::RelayReason)
            }
            // Energy, power, power factor without a scaler: the number as given.
            _ => number(value),
        },
        Reads::Status => {
            u32_value(value, "an operating status").map(|v| ReadValue::Status(OperatingStatus(v)))
        }
        Reads::Relay => output_state(value).map(ReadValue::Relay),
        Reads::RelayControl => ControlState::from_data(value).map(ReadValue::RelayControl),
        Reads::Serial | Reads::DeviceName | Reads::Firmware => text(value),
        Reads::Clock => date_time(value).map(ReadValue::Timestamp),
    }
}

/// An explicit attribute: typed by its class where the Blue Book says, else by its type.
fn by_class(target: AttributeRef, value: &Data) -> Result<ReadValue, ItemError> {
    match (target.class_id, target.attribute) {
        (CLASS_CLOCK, 2) => date_time(value).map(ReadValue::Timestamp),
        (CLASS_DISCONNECT_CONTROL, 2) => output_state(value).map(ReadValue::Relay),
        (CLASS_DISCONNECT_CONTROL, 3) => {
            ControlState::from_data(value).map(ReadValue::RelayControl)
        }
        _ => Ok(generic(value)),
    }
}

/// By A-XDR type alone.
pub(super) fn generic(value: &Data) -> ReadValue {
    match value {
        Data::Boolean(b) => ReadValue::Boolean(*b),
        Data::DateTime(dt) => ReadValue::Timestamp(*dt),
        Data::OctetString(_) | Data::VisibleString(_) | Data::Utf8String(_) => {
            text(value).unwrap_or(ReadValue::Other)
        }
        other => number(other).unwrap_or(ReadValue::Other),
    }
}

fn integer(value: &Data, expected: &'static str) -> Result<i128, ItemError> {
    value.as_integer().ok_or_else(|| ItemError::BadValue {
        expected,
        found: format!("{value:?}"),
    })
}

fn u32_value(value: &Data, expected: &'static str) -> Result<u32, ItemError> {
    integer(value, expected).and_then(|v| {
        u32::try_from(v).map_err(|_| ItemError::BadValue {
            expected,
            found: v.to_string(),
        })
    })
}

fn number(value: &Data) -> Result<ReadValue, ItemError> {
    match value {
        Data::Float32(v) => Ok(ReadValue::Float {
            value: f64::from(*v),
            unit: Unit::Count,
        }),
        Data::Float64(v) => Ok(ReadValue::Float {
            value: *v,
            unit: Unit::Count,
        }),
        other => integer(other, "a number").map(ReadValue::Number),
    }
}

/// Identification strings: text when printable (trailing NULs and spaces dropped),
/// else the bytes; an integer serial number is shown in decimal.
pub(super) fn text(value: &Data) -> Result<ReadValue, ItemError> {
    if let Some(n) = value.as_integer() {
        return Ok(ReadValue::Text(n.to_string()));
    }
    let Some(bytes) = value.as_bytes() else {
        return Err(ItemError::BadValue {
            expected: "a string",
            found: format!("{value:?}"),
        });
    };
    let trimmed = bytes
        .iter()
        .rposition(|b| *b != 0 && *b != b' ')
        .map_or(&[][..], |end| bytes.get(..=end).unwrap_or(bytes));
    match std::str::from_utf8(trimmed) {
        Ok(s) if !s.chars().any(char::is_control) => Ok(ReadValue::Text(s.to_string())),
        _ => Ok(ReadValue::Bytes(bytes.to_vec())),
    }
}
