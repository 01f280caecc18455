//! Typing one readout value (`0012345.678*kWh`) by the reading it answers, or by its
//! own text and unit when the table does not map its id. Exact: decimal text becomes a
//! mantissa and a power of ten, never a float. Pure; never panics.

use crate::codes::{OperatingStatus, ValueKind};
use crate::meter::read::ReadValue;
use crate::profile::Reads;
use crate::protocol::iec62056_21::Value;
use crate::protocol::units::{Quantity, Unit};

/// Why a readout value does not type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("expected {expected}, got {text:?}")]
    NotANumber {
        expected: &'static str,
        text: String,
    },
    #[error("expected a value in {expected}, got unit {unit:?}")]
    UnexpectedUnit {
        expected: &'static str,
        unit: String,
    },
}

/// A decimal text (`0012345.678`, `-1.5`, `42`) as mantissa and number of decimals.
fn decimal(text: &str) -> Option<(i128, u8)> {
    let t = text.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all = || int.bytes().chain(frac.bytes());
    if int.len() + frac.len() == 0
        || int.len() + frac.len() > 30
        || !all().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mantissa = all().fold(0i128, |acc, b| acc * 10 + i128::from(b - b'0'));
    let scale = u8::try_from(frac.len()).ok()?;
    Some((if negative { -mantissa } else { mantissa }, scale))
}

/// A unit text as a unit and a power of ten (`kWh` is Wh × 10^3).
fn unit(text: &str) -> Option<(Unit, i8)> {
    let exact = |s: &str| {
        Unit::TABLE
            .iter()
            .find(|(_, _, symbol)| *symbol == Some(s))
            .map(|(_, u, _)| *u)
    };
    if let Some(u) = exact(text) {
        return Some((u, 0));
    }
    let (exponent, rest) = match text.split_at_checked(1)? {
        ("k", rest) => (3, rest),
        ("M", rest) => (6, rest),
        _ => return None,
    };
    exact(rest).map(|u| (u, exponent))
}

fn quantity(raw: &Value, base: Unit, expected: &'static str) -> Result<ReadValue, ValueProblem> {
    let (mantissa, scale) = decimal(&raw.value).ok_or_else(|| ValueProblem::NotANumber {
        expected: "a number",
        text: raw.value.clone(),
    })?;
    // Design: a value without a unit is taken in the short code's own unit (kWh, kW).
    let exponent = match raw.unit.as_deref() {
        None | Some("") => 3,
        Some(u) => match unit(u) {
            Some((found, exponent)) if found == base => exponent,
            _ => {
                return Err(ValueProblem::UnexpectedUnit {
                    expected,
                    unit: u.to_owned(),
                })
            }
        },
    };
    let scaler = i8::try_from(i16::from(exponent) - i16::from(scale)).unwrap_or(i8::MIN);
    Ok(ReadValue::Quantity(Quantity {
        mantissa,
        scaler,
        unit: base,
    }))
}

fn whole(raw: &Value, expected: &'static str) -> Result<i128, ValueProblem> {
    match decimal(&raw.value) {
        Some((n, 0)) => Ok(n),
        _ => Err(ValueProblem::NotANumber {
            expected,
            text: raw.value.clone(),
        }),
    }
}

fn small(raw: &Value, expected: &'static str) -> Result<u32, ValueProblem> {
    whole(raw, expected).and_then(|n| {
        u32::try_from(n).map_err(|_| ValueProblem::NotANumber {
            expected,
            text: raw.value.clone(),
        })
    })
}

/// Type a value by the reading it answers.
pub(super) fn typed(reads: Reads, raw: &Value) -> Result<ReadValue, ValueProblem> {
    let text = || ReadValue::Text(raw.value.trim().to_owned());
    match reads {
        Reads::Short(code) => match code.entry().map(|e| e.kind) {
            Some(ValueKind::Energy) => quantity(raw, Unit::WattHour, "kWh or Wh"),
            Some(ValueKind::Power) => quantity(raw, Unit::Watt, "kW or W"),
            Some(ValueKind::PowerFactor) => {
                let (mantissa, scale) =
                    decimal(&raw.value).ok_or_else(|| ValueProblem::NotANumber {
                        expected: "a power factor",
                        text: raw.value.clone(),
                    })?;
                Ok(ReadValue::Quantity(Quantity {
                    mantissa,
                    scaler: -i8::try_from(scale).unwrap_or(i8::MAX),
                    unit: Unit::Count,
                }))
            }
            Some(ValueKind::Count) => whole(raw, "a count").map(ReadValue::Count),
            Some(ValueKind::RelayReason) => {
                small(raw, "a relay reason sub-code").map(ReadValue::RelayReason)
            }
            // Design: IEC 62056-21 fixes no date-time format; keep the meter's text.
            Some(ValueKind::Timestamp) | None => Ok(text()),
        },
        Reads::Status => {
            small(raw, "an operating status").map(|s| ReadValue::Status(OperatingStatus(s)))
        }
        Reads::Relay => match raw.value.trim() {
            "1" => Ok(ReadValue::Relay(true)),
            "0" => Ok(ReadValue::Relay(false)),
            other => Err(ValueProblem::NotANumber {
                expected: "0 or 1",
                text: other.to_owned(),
            }),
        },
        Reads::RelayControl => whole(raw, "a control state").map(ReadValue::Number),
        Reads::Serial | Reads::DeviceName | Reads::Firmware | Reads::Clock => Ok(text()),
    }
}

/// Type a value the table does not map, by its own text and unit.
pub(super) fn generic(raw: &Value) -> ReadValue {
    let Some((mantissa, scale)) = decimal(&raw.value) else {
        return ReadValue::Text(raw.value.trim().to_owned());
    };
    match raw.unit.as_deref().map(unit) {
        None if scale == 0 => ReadValue::Number(mantissa),
        None => ReadValue::Quantity(Quantity {
            mantissa,
            scaler: -i8::try_from(scale).unwrap_or(i8::MAX),
            unit: Unit::Count,
        }),
        Some(Some((u, exponent))) => ReadValue::Quantity(Quantity {
            mantissa,
            scaler: i8::try_from(i16::from(exponent) - i16::from(scale)).unwrap_or(i8::MIN),
            unit: u,
        }),
        Some(None) => ReadValue::Text(raw.value.trim().to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_and_units_parse_exactly() {
        assert_eq!(decimal("0012345.678"), Some((12_345_678, 3)));
        assert_eq!(decimal("-1.50"), Some((-150, 2)));
        assert_eq!(decimal("7"), Some((7, 0)));
        for bad in ["", ".", "1.2.3", "1e3", "0x10", "12 3"] {
            assert_eq!(decimal(bad), None, "{bad}");
        }
        assert_eq!(unit("kWh"), Some((Unit::WattHour, 3)));
        assert_eq!(unit("MW"), Some((Unit::Watt, 6)));
        assert_eq!(unit("V"), Some((Unit::Volt, 0)));
        assert_eq!(unit("kvarh"), Some((Unit::VarHour, 3)));
        assert_eq!(unit("furlong"), None);
    }
}
