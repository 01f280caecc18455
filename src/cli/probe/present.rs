//! How one reading is shown to a technician: value in the short code's unit, and for
//! coded values the lookup core's meaning, severity and field action.

use crate::codes::{Lookup, Mode, ValueKind};
use crate::meter::read::{Item, ReadValue, Reading};
use crate::profile::Reads;

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

pub fn show(r: &Reading, lookup: &Lookup, mode: Mode) -> Shown {
    let mut s = match &r.what {
        Item::Reads(reads) => show_reads(*reads, &r.value, lookup, mode),
        Item::Attribute(a) => show_value(
            a.to_string(),
            "Attribute".into(),
            None,
            &r.value,
            lookup,
            mode,
        ),
    };
    if let Value::Object(m) = &mut s.json {
        m.insert("class".into(), json!(r.attr.class_id));
        m.insert("obis".into(), json!(r.attr.obis.to_string()));
        m.insert("attribute".into(), json!(r.attr.attribute));
        m.insert(
            "raw".into(),
            serde_json::to_value(&r.raw).unwrap_or(Value::Null),
        );
    }
    s
}

/// A value read for a profile entry (whatever protocol carried it): label and name from
/// the entry, the value in its short code's unit.
pub fn show_reads(reads: Reads, value: &ReadValue, lookup: &Lookup, mode: Mode) -> Shown {
    let (label, name) = match reads {
        Reads::Short(c) => (format!("{c}"), lookup.short_code(c).name),
        Reads::Status => (reads.to_string(), "Operating status".into()),
        Reads::Relay => (reads.to_string(), "Relay (output state)".into()),
        Reads::RelayControl => (reads.to_string(), "Relay control state".into()),
        Reads::Serial => (reads.to_string(), "Serial number".into()),
        Reads::DeviceName => (reads.to_string(), "Logical device name".into()),
        Reads::Firmware => (reads.to_string(), "Firmware".into()),
        Reads::Clock => (reads.to_string(), "Clock".into()),
    };
    let sk = match reads {
        Reads::Short(c) => c.entry().map(|e| (c, e.kind)),
        _ => None,
    };
    show_value(label, name, sk.map(|s| s.1), value, lookup, mode)
}

/// A value with its label and name; `kind` picks the unit (kWh, kW) for quantities.
/// The JSON has `reads`, `name`, `value`, `value_text`, `unit` and, for coded values, the
/// lookup core's fields.
pub fn show_value(
    label: String,
    name: String,
    kind: Option<ValueKind>,
    value: &ReadValue,
    lookup: &Lookup,
    mode: Mode,
) -> Shown {
    let mut coded = None;
    let mut number = None;
    let (text, unit) = match value {
        ReadValue::Quantity(q) => {
            let (v, u) = crate::meter::read::in_code_unit(q, kind);
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
            let unit = if matches!(value, ReadValue::Count(_)) {
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
    m.insert(
        "value".into(),
        number.clone().unwrap_or_else(|| json!(text)),
    );
    m.insert("value_text".into(), json!(text));
    m.insert("unit".into(), json!(unit));
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
        value: text,
        unit,
        number,
        coded,
        json: Value::Object(m),
    }
}
