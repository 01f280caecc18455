//! A read value as the report prints it: in the unit the guide uses for the short code
//! (energy in kWh, power in kW), times as plain dates, coded values by number.
//!
//! Design: `cli::probe::present::show` makes the same unit choice for the terminal; it
//! is private to the probe and is being changed on another branch, so the report keeps
//! this one function and the two should become one shared function (see the report's
//! module documentation).

use super::timeline::when;
use crate::codes::{ShortCode, ValueKind};
use crate::meter::read::{Item, ReadValue};
use crate::profile::Reads;
use crate::protocol::units::Unit;

/// The value and its unit ("" when it has none).
pub fn value_text(what: &Item, value: &ReadValue) -> (String, String) {
    let kind = match what {
        Item::Reads(Reads::Short(c)) => c.entry().map(|e| e.kind),
        _ => None,
    };
    match value {
        ReadValue::Quantity(q) => crate::meter::read::in_code_unit(q, kind),
        ReadValue::Float { value, unit } => (value.to_string(), symbol(*unit)),
        ReadValue::Count(n) => (n.to_string(), ValueKind::Count.unit().to_owned()),
        ReadValue::Number(n) => (n.to_string(), String::new()),
        ReadValue::Timestamp(t) => (when(t), String::new()),
        ReadValue::Status(s) => (s.to_string(), String::new()),
        ReadValue::RelayReason(sub) => (
            format!(
                "{sub:02} (status {})",
                crate::codes::OperatingStatus::from_sub_code(*sub)
            ),
            String::new(),
        ),
        ReadValue::NoEvent => ("none recorded".to_owned(), String::new()),
        other => (other.to_string(), String::new()),
    }
}

fn symbol(u: Unit) -> String {
    u.symbol().unwrap_or("").to_owned()
}

/// "01 Total active energy" style name of what was read.
pub fn item_name(what: &Item, lookup: &crate::codes::Lookup) -> String {
    match what {
        Item::Reads(Reads::Short(c)) => format!("{c} {}", lookup.short_code(*c).name),
        Item::Reads(r) => reads_name(*r).to_owned(),
        Item::Attribute(a) => format!("Attribute {a}"),
    }
}

/// Names of the non-short-code readings.
pub fn reads_name(r: Reads) -> &'static str {
    match r {
        Reads::Short(ShortCode(_)) => "short code",
        Reads::Status => "Operating status",
        Reads::Relay => "Relay (output state)",
        Reads::RelayControl => "Relay control state",
        Reads::Serial => "Serial number",
        Reads::DeviceName => "Logical device name",
        Reads::Firmware => "Firmware",
        Reads::Clock => "Meter clock",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::units::Quantity;

    fn q(mantissa: i128, scaler: i8, unit: Unit) -> ReadValue {
        ReadValue::Quantity(Quantity {
            mantissa,
            scaler,
            unit,
        })
    }

    fn short(c: u8) -> Item {
        Item::Reads(Reads::Short(ShortCode(c)))
    }

    #[test]
    fn energy_and_power_in_the_guides_units() {
        assert_eq!(
            value_text(&short(1), &q(1_234_567, 0, Unit::WattHour)),
            ("1234.567".into(), "kWh".into())
        );
        assert_eq!(
            value_text(&short(31), &q(1820, 0, Unit::Watt)),
            ("1.820".into(), "kW".into())
        );
        // Already in kWh (scaler 3): no second conversion.
        assert_eq!(
            value_text(&short(1), &q(12, 3, Unit::WattHour)),
            ("12".into(), "kWh".into())
        );
        // An explicit attribute keeps the meter's unit.
        let a: crate::profile::AttributeRef = "3:1.0.1.8.0.255:2".parse().unwrap();
        assert_eq!(
            value_text(&Item::Attribute(a), &q(1500, 0, Unit::WattHour)),
            ("1500".into(), "Wh".into())
        );
    }

    #[test]
    fn counts_reasons_and_missing_events() {
        assert_eq!(
            value_text(&short(40), &ReadValue::Count(2)),
            ("2".into(), "count".into())
        );
        assert_eq!(
            value_text(&short(87), &ReadValue::RelayReason(15)).0,
            "15 (status 1015)"
        );
        assert_eq!(
            value_text(&short(41), &ReadValue::NoEvent).0,
            "none recorded"
        );
    }
}
