//! How one reading is shown to a technician: value in the short code's unit, and for
//! coded values the lookup core's meaning, severity and field action.

use crate::codes::{Lookup, Mode, ShortCode, ValueKind};
use crate::meter::read::{Item, ReadValue, Reading};
use crate::profile::Reads;
use crate::protocol::units::{Quantity, Unit};
use serde_json::{json, Map, Value};

/// A reading ready for the terminal or JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub label: String,
    pub name: String,
    pub value: String,
    pub unit: String,
    /// The number, when the value is one (JSON `value`).
    pub number: Option<Value>,
    pub coded: Option<crate::codes::StatusInfo>,
    pub json: Value,
}

fn short_kind(what: &Item) -> Option<(ShortCode, ValueKind)> {
    match what {
        Item::Reads(Reads::Short(c)) => c.entry().map(|e| (*c, e.kind)),
        _ => None,
    }
}

/// A quantity in the unit the guide uses for the short code (kWh, kW).
fn in_code_unit(q: &Quantity, kind: Option<ValueKind>) -> (String, String) {
    let kilo = matches!(
        (kind, q.unit),
        (Some(ValueKind::Energy), Unit::WattHour) | (Some(ValueKind::Power), Unit::Watt)
    );
    if kilo {
        let k = Quantity {
            scaler: q.scaler.saturating_sub(3),
            ..*q
        };
        let unit = if q.unit == Unit::WattHour {
            "kWh"
        } else {
            "kW"
        };
        return (k.decimal(), unit.to_owned());
    }
    (q.decimal(), q.unit.symbol().unwrap_or("").to_owned())
}

pub fn show(r: &Reading, lookup: &Lookup, mode: Mode) -> Shown {
    let sk = short_kind(&r.what);
    let label = match &r.what {
        Item::Reads(Reads::Short(c)) => format!("{c}"),
        Item::Reads(other) => other.to_string(),
        Item::Attribute(a) => a.to_string(),
    };
    let name = match &r.what {
        Item::Reads(Reads::Short(c)) => lookup.short_code(*c).name,
        Item::Reads(Reads::Status) => "Operating status".into(),
        Item::Reads(Reads::Relay) => "Relay (output state)".into(),
        Item::Reads(Reads::RelayControl) => "Relay control state".into(),
        Item::Reads(Reads::Serial) => "Serial number".into(),
        Item::Reads(Reads::DeviceName) => "Logical device name".into(),
        Item::Reads(Reads::Firmware) => "Firmware".into(),
        Item::Reads(Reads::Clock) => "Clock".into(),
        Item::Attribute(_) => "Attribute".into(),
    };
    let mut coded = None;
    let mut number = None;
    let (value, unit) = match &r.value {
        ReadValue::Quantity(q) => {
            let (v, u) = in_code_unit(q, sk.map(|s| s.1));
            number = v.parse::<f64>().ok().map(|n| json!(n));
            (v, u)
        }
        ReadValue::Float { value, unit } => {
            number = Some(json!(value));
            (value.to_string(), unit.symbol().unwrap_or("").to_owned())
        }
        ReadValue::Number(n) | ReadValue::Count(n) => {
            number = Some(json!(
                i64::try_from(*n).map_or_else(|_| json!(n.to_string()), |i| json!(i))
            ));
            let unit = if matches!(r.value, ReadValue::Count(_)) {
                "count"
            } else {
                ""
            };
            (n.to_string(), unit.to_owned())
        }
        ReadValue::Status(s) => {
            let info = lookup.status(*s, mode);
            number = Some(json!(s.0));
            let v = s.to_string();
            coded = Some(info);
            (v, String::new())
        }
        ReadValue::RelayReason(sub) => {
            let info = lookup.relay_reason(*sub, mode);
            number = Some(json!(sub));
            let v = format!("{sub:02} (status {})", info.code);
            coded = Some(info);
            (v, String::new())
        }
        other => (other.to_string(), String::new()),
    };
    let mut m = Map::new();
    m.insert("reads".into(), json!(label));
    m.insert("name".into(), json!(name));
    m.insert("class".into(), json!(r.attr.class_id));
    m.insert("obis".into(), json!(r.attr.obis.to_string()));
    m.insert("attribute".into(), json!(r.attr.attribute));
    m.insert(
        "value".into(),
        number.clone().unwrap_or_else(|| json!(value)),
    );
    m.insert("value_text".into(), json!(value));
    m.insert("unit".into(), json!(unit));
    m.insert(
        "raw".into(),
        serde_json::to_value(&r.raw).unwrap_or(Value::Null),
    );
    if let Some(i) = &coded {
        for (k, v) in [
            ("code", json!(i.code)),
            ("sub_code", json!(i.sub_code)),
            ("meaning", json!(i.meaning)),
            ("category", json!(i.category)),
            ("severity", json!(i.severity)),
            ("action", json!(i.action)),
            ("site_visit", json!(i.site_visit)),
            ("relevant", json!(i.relevant)),
        ] {
            m.insert(k.into(), v);
        }
    }
    Shown {
        label,
        name,
        value,
        unit,
        number,
        coded,
        json: Value::Object(m),
    }
}
