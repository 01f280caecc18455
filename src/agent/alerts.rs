//! Alerts: what the engine raises and what the JSON-lines file and MQTT carry.
//!
//! Data and its wire format only (serde JSON, field names are the contract). No I/O,
//! no clock: times come from the engine's caller.

use super::reading::{Counter, MeterId};
use super::serde_codes;
use crate::codes::{Category, Mode, Severity, SiteVisit};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A stable alert identity: the same condition raised at the same time always has the
/// same id, so a consumer can drop duplicates and the store can prove it has none.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AlertId(pub String);

impl AlertId {
    /// The id of an alert about `subject` of `meter`, of `kind`, for the condition
    /// identified by `code` (status, sub-code, count; 0 when none) that was first
    /// raised at `first_raised`; `instance` separates repeats (a reminder's time).
    // Design: FNV-1a with 128 bits over length-prefixed fields, written out here, because
    // std's hasher is allowed to change between releases and ids are persisted for
    // years. 128 bits make an accidental collision (which a consumer would read as a
    // duplicate and drop) negligible for any number of alerts a gateway can raise.
    pub fn derive(
        meter: &MeterId,
        kind: AlertKind,
        subject: Subject,
        code: u64,
        first_raised: i64,
        instance: i64,
    ) -> AlertId {
        let mut h = FNV128_OFFSET;
        let mut feed = |bytes: &[u8]| {
            h = fnv1a_128(h, &(bytes.len() as u64).to_le_bytes());
            h = fnv1a_128(h, bytes);
        };
        feed(meter.as_str().as_bytes());
        feed(kind.as_str().as_bytes());
        feed(subject.as_str().as_bytes());
        feed(&code.to_le_bytes());
        feed(&first_raised.to_le_bytes());
        feed(&instance.to_le_bytes());
        AlertId(format!("{h:032x}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const FNV128_OFFSET: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
const FNV128_PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;

/// FNV-1a, 128 bits: continue hash `h` over `bytes`.
fn fnv1a_128(mut h: u128, bytes: &[u8]) -> u128 {
    for b in bytes {
        h ^= u128::from(*b);
        h = h.wrapping_mul(FNV128_PRIME);
    }
    h
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The operating status changed to an abnormal value the guide defines.
    StatusChanged,
    /// The operating status returned to 1000: the status condition ended.
    StatusCleared,
    /// The code-87 relay disconnect reason changed (to 0 it ends the condition).
    RelayReasonChanged,
    /// An event counter grew.
    CounterGrew,
    /// An event counter went down: the meter was reset or replaced.
    CounterReset,
    /// The meter failed to answer the configured number of polls in a row.
    Unreachable,
    /// An unreachable meter answered again.
    Reachable,
    /// The status or relay reason is a number the guide does not define.
    UnknownCode,
    /// A condition is still active after the reminder interval.
    Reminder,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::StatusChanged => "status_changed",
            AlertKind::StatusCleared => "status_cleared",
            AlertKind::RelayReasonChanged => "relay_reason_changed",
            AlertKind::CounterGrew => "counter_grew",
            AlertKind::CounterReset => "counter_reset",
            AlertKind::Unreachable => "unreachable",
            AlertKind::Reachable => "reachable",
            AlertKind::UnknownCode => "unknown_code",
            AlertKind::Reminder => "reminder",
        }
    }
}

impl fmt::Display for AlertKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of the meter's state an alert is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// The operating status (1000–1025 and unknowns).
    Status,
    /// The code-87 relay disconnect reason.
    RelayReason,
    /// One of the event counters.
    Counter(Counter),
    /// Whether the meter answers polls.
    Reachability,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Status => "status",
            Subject::RelayReason => "relay_reason",
            Subject::Counter(c) => c.as_str(),
            Subject::Reachability => "reachability",
        }
    }

    /// Every subject, for parsing and tests.
    pub fn all() -> impl Iterator<Item = Subject> {
        [Subject::Status, Subject::RelayReason, Subject::Reachability]
            .into_iter()
            .chain(Counter::ALL.into_iter().map(Subject::Counter))
    }
}

// Design: a subject is always one flat string on the wire ("status", "cover_open"),
// never an object, so consumers can filter on it without knowing the Rust enum.
impl Serialize for Subject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Subject {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Subject::all()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown alert subject `{name}`")))
    }
}

/// The state before the change, in words and as the raw value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previous {
    /// The raw value (status, sub-code or count); `None` when nothing was known.
    pub raw: Option<u64>,
    pub words: String,
}

/// The part of an alert that depends on its kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AlertDetail {
    /// A status or relay reason, decoded.
    Code {
        /// What the condition means for the supply.
        text: String,
        severity_reason: String,
        /// Whether the guide defines the number.
        known: bool,
        /// Whether a site override changed the action or severity.
        overridden: bool,
    },
    Counter {
        counter: Counter,
        /// The count short code (40, 46, 52, 58).
        short_code: u8,
        old: u64,
        new: u64,
        /// `new - old`: positive for growth, negative for a reset.
        delta: i64,
        /// The event times the meter reported (unix ms, most recent first), when read.
        event_times: Vec<i64>,
        /// The same times as RFC 3339 UTC text.
        event_times_utc: Vec<String>,
    },
    Unreachable {
        consecutive_failures: u32,
        /// The last poll's failure reason.
        reason: String,
        /// When the first failure of this run happened (unix ms).
        failing_since: i64,
    },
    Reachable {
        /// When it was declared unreachable (unix ms).
        unreachable_since: i64,
        /// How long it was unreachable, in milliseconds.
        unreachable_for_ms: i64,
        consecutive_failures: u32,
    },
    Reminder {
        /// The kind of the alert that first raised the condition.
        of: AlertKind,
        first_alert_id: AlertId,
        /// Which reminder this is (1 for the first).
        reminder: u32,
        /// How long the condition has been active, in milliseconds.
        active_for_ms: i64,
    },
}

/// One alert. Serialized as one JSON object: a line of the alert file, an MQTT message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub meter: MeterId,
    pub kind: AlertKind,
    pub subject: Subject,
    /// When the observation was made (the reading, or the failed poll): unix ms UTC.
    pub read_at: i64,
    /// When the engine raised it: unix ms UTC.
    pub raised_at: i64,
    /// `raised_at` as RFC 3339 UTC text, for people reading the file.
    pub raised_at_utc: String,
    /// When the condition was first raised (equal to `raised_at` except for reminders
    /// and clears).
    pub first_raised_at: i64,
    /// The raw code: the status value (1005), the relay reason as a status
    /// (1000 + sub-code), or the count short code (40, 46, 52, 58). `None` for
    /// reachability.
    pub code: Option<u32>,
    /// The code-87 sub-code, when the code lies in the 1000–1025 family or the alert is
    /// about a relay reason (then it is the raw value read, whatever its size).
    pub sub_code: Option<u32>,
    pub meaning: String,
    /// The lookup core's category; `None` for reachability, which the guide has no
    /// category for.
    #[serde(with = "opt_category")]
    pub category: Option<Category>,
    pub severity: Severity,
    pub action: String,
    #[serde(with = "serde_codes::site_visit")]
    pub site_visit: SiteVisit,
    /// The meter's billing mode when it was raised.
    pub mode: Mode,
    /// Whether the code matters in that mode (a credit code in postpaid does not).
    pub relevant: bool,
    pub previous: Option<Previous>,
    /// One line for a person: what happened, what to do.
    pub message: String,
    pub detail: AlertDetail,
}

impl Alert {
    /// The alert as one line of JSON (no newline).
    pub fn to_json_line(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

mod opt_category {
    use super::serde_codes;
    use crate::codes::Category;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(c: &Option<Category>, s: S) -> Result<S::Ok, S::Error> {
        c.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Category>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "serde_codes::category")] Category);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_separate_every_field() {
        let m = MeterId::new("47001234");
        let base = AlertId::derive(&m, AlertKind::StatusChanged, Subject::Status, 1005, 10, 0);
        // Pinned: a change here would make a restarted agent's ids differ from the
        // ones already sent.
        assert_eq!(
            base,
            AlertId::derive(&m, AlertKind::StatusChanged, Subject::Status, 1005, 10, 0)
        );
        assert_eq!(base.as_str().len(), 32);
        let variants = [
            AlertId::derive(
                &MeterId::new("47001235"),
                AlertKind::StatusChanged,
                Subject::Status,
                1005,
                10,
                0,
            ),
            AlertId::derive(&m, AlertKind::UnknownCode, Subject::Status, 1005, 10, 0),
            AlertId::derive(
                &m,
                AlertKind::StatusChanged,
                Subject::RelayReason,
                1005,
                10,
                0,
            ),
            AlertId::derive(&m, AlertKind::StatusChanged, Subject::Status, 1006, 10, 0),
            AlertId::derive(&m, AlertKind::StatusChanged, Subject::Status, 1005, 11, 0),
            AlertId::derive(&m, AlertKind::StatusChanged, Subject::Status, 1005, 10, 1),
        ];
        for v in &variants {
            assert_ne!(*v, base);
        }
        // Length prefixes keep "ab"+"c" apart from "a"+"bc".
        assert_ne!(
            AlertId::derive(
                &MeterId::new("status"),
                AlertKind::Reachable,
                Subject::Status,
                0,
                0,
                0
            ),
            AlertId::derive(
                &MeterId::new("statu"),
                AlertKind::Reachable,
                Subject::Status,
                0,
                0,
                0
            ),
        );
    }

    #[test]
    fn id_value_is_pinned() {
        let id = AlertId::derive(
            &MeterId::new("m"),
            AlertKind::Unreachable,
            Subject::Reachability,
            0,
            0,
            0,
        );
        assert_eq!(
            id.as_str(),
            PINNED_ID,
            "the id function changed: persisted ids would no longer match"
        );
    }

    // Computed independently (outside Rust) from the same field layout.
    const PINNED_ID: &str = "90d1a1cfd86764226012b3106bd6ec85";

    #[test]
    fn fnv1a_128_matches_the_published_vector() {
        assert_eq!(fnv1a_128(FNV128_OFFSET, b""), FNV128_OFFSET);
        assert_eq!(
            fnv1a_128(FNV128_OFFSET, b"a"),
            0xd228_cb69_6f1a_8caf_7891_2b70_4e4a_8964
        );
    }
}
