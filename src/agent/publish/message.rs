//! What goes on the broker: topic names and the JSON payloads of the status, reading
//! and alert messages (documented by `schema/*.json`; field names are the contract).
//!
//! Pure functions over the agent's data: no I/O, no clock. Every payload carries a
//! stable `message_id` so that a consumer drops the duplicates that at-least-once
//! delivery (and republishing after a reconnect) produces.

use crate::agent::alerts::Alert;
use crate::agent::reading::{Counter, MeterId, MeterReading, ReadingValue};
use crate::agent::rfc3339::format_unix_ms;
use crate::agent::state::{ActiveCondition, MeterState};
use crate::agent::Subject;
use crate::codes::{Category, Lookup, Mode, OperatingStatus, Severity, SiteVisit, StatusInfo};
use serde::Serialize;
use std::collections::BTreeMap;

/// The `schema` field of each payload: name and major version.
pub const STATUS_SCHEMA: &str = "calin-agent/status/1";
pub const READING_SCHEMA: &str = "calin-agent/reading/1";
pub const ALERT_SCHEMA: &str = "calin-agent/alert/1";

/// The payloads of `<prefix>/<gateway>/online` (retained; "offline" is the last will).
pub const ONLINE: &str = "online";
pub const OFFLINE: &str = "offline";

/// Which stream a message belongs to: its topic's last level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// The latest decoded state of a meter (retained).
    Status,
    /// One successful reading.
    Reading,
    /// One alert.
    Alert,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Status => "status",
            MessageKind::Reading => "reading",
            MessageKind::Alert => "alert",
        }
    }

    pub fn parse(s: &str) -> Option<MessageKind> {
        [
            MessageKind::Status,
            MessageKind::Reading,
            MessageKind::Alert,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Only the status is retained: a new subscriber gets each meter's latest state.
    pub fn retained(self) -> bool {
        self == MessageKind::Status
    }
}

/// Topic names under `<prefix>/<gateway>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topics {
    base: String,
}

impl Topics {
    /// `prefix` and `gateway` are validated by the config (no wildcards).
    pub fn new(prefix: &str, gateway: &str) -> Self {
        Topics {
            base: format!("{prefix}/{gateway}"),
        }
    }

    /// `<prefix>/<gateway>/online`.
    pub fn online(&self) -> String {
        format!("{}/online", self.base)
    }

    /// `<prefix>/<gateway>/<meter>/<kind>`.
    pub fn meter(&self, meter: &str, kind: MessageKind) -> String {
        format!("{}/{}/{}", self.base, topic_level(meter), kind.as_str())
    }
}

/// A meter serial as one topic level: the characters MQTT gives a meaning (`/`, `+`,
/// `#`, NUL) become `_`. The payload carries the serial unchanged.
pub fn topic_level(serial: &str) -> String {
    let level: String = serial
        .chars()
        .map(|c| {
            if matches!(c, '/' | '+' | '#' | '\0') {
                '_'
            } else {
                c
            }
        })
        .collect();
    if level.is_empty() {
        "_".to_owned()
    } else {
        level
    }
}

/// The message id of a reading: the meter and the time it was read.
pub fn reading_message_id(meter: &MeterId, read_at: i64) -> String {
    format!("{meter}@{read_at}")
}

/// The wire name of a category (`load_power_quality`), as payloads and metric labels
/// carry it.
pub fn category_label(c: Category) -> String {
    serde_json::to_value(c)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| c.as_str().to_owned())
}

/// The category an active condition counts under: the decoded code's category for a
/// status or relay reason, `unreachable` for reachability, `counter` otherwise.
pub fn condition_category(c: &ActiveCondition, mode: Mode, lookup: &Lookup) -> String {
    let code = u32::try_from(c.code).unwrap_or(u32::MAX);
    match c.subject {
        Subject::Status => category_label(lookup.status(OperatingStatus(code), mode).category),
        Subject::RelayReason => category_label(lookup.relay_reason(code, mode).category),
        Subject::Reachability => "unreachable".to_owned(),
        Subject::Counter(_) => "counter".to_owned(),
    }
}

/// A decoded code as the status message carries it.
#[derive(Serialize)]
struct Decoded {
    code: u32,
    sub_code: Option<u8>,
    known: bool,
    meaning: String,
    category: Category,
    severity: Severity,
    action: String,
    site_visit: SiteVisit,
    relevant: bool,
    overridden: bool,
}

impl From<StatusInfo> for Decoded {
    fn from(i: StatusInfo) -> Self {
        Decoded {
            code: i.code,
            sub_code: i.sub_code,
            known: i.known,
            meaning: i.meaning,
            category: i.category,
            severity: i.severity,
            action: i.action,
            site_visit: i.site_visit,
            relevant: i.relevant,
            overridden: i.overridden,
        }
    }
}

#[derive(Serialize)]
struct Condition<'a> {
    subject: Subject,
    code: u64,
    kind: &'a str,
    category: String,
    first_alert_id: &'a str,
    first_raised_at: i64,
    reminders: u32,
}

#[derive(Serialize)]
struct StatusMessage<'a> {
    schema: &'static str,
    message_id: String,
    gateway: &'a str,
    meter: &'a MeterId,
    mode: Mode,
    polled_at: Option<i64>,
    polled_at_utc: Option<String>,
    reachable: bool,
    consecutive_failures: u32,
    last_failure: Option<&'a str>,
    last_read_at: Option<i64>,
    last_read_at_utc: Option<String>,
    status: Option<Decoded>,
    relay_reason: Option<Decoded>,
    counters: &'a BTreeMap<Counter, u64>,
    active: Vec<Condition<'a>>,
}

/// The retained status of a meter after a poll: `(message_id, json)`.
pub fn status_payload(gateway: &str, state: &MeterState, lookup: &Lookup) -> (String, String) {
    let message_id = format!("{}@{}", state.meter, state.last_poll_at.unwrap_or(0));
    let msg = StatusMessage {
        schema: STATUS_SCHEMA,
        message_id: message_id.clone(),
        gateway,
        meter: &state.meter,
        mode: state.mode,
        polled_at: state.last_poll_at,
        polled_at_utc: state.last_poll_at.map(format_unix_ms),
        reachable: !state.unreachable,
        consecutive_failures: state.consecutive_failures,
        last_failure: state.last_failure.as_deref(),
        last_read_at: state.last_read_at,
        last_read_at_utc: state.last_read_at.map(format_unix_ms),
        status: state
            .status
            .map(|s| lookup.status(OperatingStatus(s), state.mode).into()),
        relay_reason: state
            .relay_reason
            .map(|r| lookup.relay_reason(r, state.mode).into()),
        counters: &state.counters,
        active: state
            .conditions
            .iter()
            .map(|c| Condition {
                subject: c.subject,
                code: c.code,
                kind: c.kind.as_str(),
                category: condition_category(c, state.mode, lookup),
                first_alert_id: c.first_alert_id.as_str(),
                first_raised_at: c.first_raised_at,
                reminders: c.reminders,
            })
            .collect(),
    };
    (message_id, to_json(&msg))
}

#[derive(Serialize)]
struct Value<'a> {
    /// The value as a number (rounded when the meter gave mantissa and scaler).
    value: f64,
    unit: &'a str,
    /// The exact value is `mantissa × 10^exponent`, when the meter gave it so.
    #[serde(skip_serializing_if = "Option::is_none")]
    mantissa: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exponent: Option<i8>,
}

#[derive(Serialize)]
struct ReadingMessage<'a> {
    schema: &'static str,
    message_id: String,
    gateway: &'a str,
    meter: &'a MeterId,
    read_at: i64,
    read_at_utc: String,
    mode: Mode,
    status: Option<u32>,
    relay_reason: Option<u32>,
    counters: &'a BTreeMap<Counter, u64>,
    event_times: &'a BTreeMap<Counter, Vec<i64>>,
    /// By two-digit short code ("01", "31").
    values: BTreeMap<String, Value<'a>>,
}

/// One successful reading: `(message_id, json)`.
pub fn reading_payload(gateway: &str, r: &MeterReading) -> (String, String) {
    let message_id = reading_message_id(&r.meter, r.read_at);
    let values = r
        .values
        .iter()
        .map(|(code, v)| {
            let (mantissa, exponent) = match v {
                ReadingValue::Decimal {
                    mantissa, exponent, ..
                } => (Some(*mantissa), Some(*exponent)),
                ReadingValue::Float { .. } => (None, None),
            };
            let value = Value {
                value: v.as_f64(),
                unit: v.unit(),
                mantissa,
                exponent,
            };
            (format!("{code:02}"), value)
        })
        .collect();
    let msg = ReadingMessage {
        schema: READING_SCHEMA,
        message_id: message_id.clone(),
        gateway,
        meter: &r.meter,
        read_at: r.read_at,
        read_at_utc: format_unix_ms(r.read_at),
        mode: r.mode,
        status: r.status.map(|s| s.0),
        relay_reason: r.relay_reason,
        counters: &r.counters,
        event_times: &r.event_times,
        values,
    };
    (message_id, to_json(&msg))
}

/// One alert: its wire format (the alert file's line) plus `schema`, `message_id` (the
/// alert id) and `gateway`: `(message_id, json)`.
pub fn alert_payload(gateway: &str, alert: &Alert) -> (String, String) {
    let mut v = serde_json::to_value(alert).unwrap_or(serde_json::Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("schema".into(), ALERT_SCHEMA.into());
        o.insert("message_id".into(), alert.id.as_str().into());
        o.insert("gateway".into(), gateway.into());
    }
    (alert.id.as_str().to_owned(), v.to_string())
}

fn to_json<T: Serialize>(v: &T) -> String {
    // Plain data with string keys: serializing cannot fail.
    serde_json::to_string(v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_levels() {
        let t = Topics::new("utility/meters", "gw-17");
        assert_eq!(t.online(), "utility/meters/gw-17/online");
        assert_eq!(
            t.meter("CAL0001", MessageKind::Alert),
            "utility/meters/gw-17/CAL0001/alert"
        );
        assert_eq!(
            t.meter("a/b+#", MessageKind::Status),
            "utility/meters/gw-17/a_b__/status"
        );
        assert_eq!(topic_level(""), "_");
        for k in [
            MessageKind::Status,
            MessageKind::Reading,
            MessageKind::Alert,
        ] {
            assert_eq!(MessageKind::parse(k.as_str()), Some(k));
        }
        assert!(MessageKind::Status.retained() && !MessageKind::Alert.retained());
    }

    #[test]
    fn reading_payload_has_its_id_and_exact_values() {
        let mut r = MeterReading::new(MeterId::new("CAL1"), 1_700_000_000_000, Mode::Prepaid);
        r.status = Some(OperatingStatus(1005));
        r.values.insert(
            1,
            ReadingValue::Decimal {
                mantissa: 123_456,
                exponent: -2,
                unit: "kWh".into(),
            },
        );
        let (id, json) = reading_payload("gw", &r);
        assert_eq!(id, "CAL1@1700000000000");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["message_id"], "CAL1@1700000000000");
        assert_eq!(v["schema"], READING_SCHEMA);
        assert_eq!(v["status"], 1005);
        assert_eq!(v["values"]["01"]["mantissa"], 123_456);
        assert_eq!(v["values"]["01"]["exponent"], -2);
        assert!((v["values"]["01"]["value"].as_f64().unwrap() - 1234.56).abs() < 1e-9);
        assert_eq!(v["read_at_utc"], "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn status_payload_decodes_the_code() {
        let mut s = MeterState::new(MeterId::new("CAL1"), Mode::Prepaid);
        s.status = Some(1005);
        s.last_poll_at = Some(7);
        let (id, json) = status_payload("gw", &s, &Lookup::builtin());
        assert_eq!(id, "CAL1@7");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["status"]["code"], 1005);
        assert_eq!(v["status"]["known"], true);
        assert!(!v["status"]["meaning"].as_str().unwrap().is_empty());
        assert_eq!(v["reachable"], true);
        assert_eq!(v["relay_reason"], serde_json::Value::Null);
    }
}
