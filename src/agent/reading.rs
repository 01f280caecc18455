//! The agent's input model: what one poll of one meter produced.
//!
//! Plain data, filled by whoever reads the meter (the meter session, a simulator, a
//! test). Nothing here decodes codes, reads a clock or does I/O; the alert engine
//! decides what the values mean.

use super::serde_codes;
use crate::codes::{Mode, OperatingStatus, ShortCode};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A meter, named by its serial number as printed on it and read from it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MeterId(pub String);

impl MeterId {
    pub fn new(serial: impl Into<String>) -> Self {
        MeterId(serial.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MeterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An event counter the meter keeps, and the short codes that report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counter {
    /// Meter cover open count (short code 40).
    CoverOpen,
    /// Overload trip count (short code 46).
    OverloadTrip,
    /// Power down count (short code 52).
    PowerDown,
    /// Phase down count (short code 58).
    PhaseDown,
}

impl Counter {
    /// How much events of this counter matter: category, severity, site visit.
    /// Alerts and the site-visit report use the same weights, so they agree.
    pub fn weight(
        self,
    ) -> (
        crate::codes::Category,
        crate::codes::Severity,
        crate::codes::SiteVisit,
    ) {
        use crate::codes::{Category, Severity, SiteVisit};
        match self {
            // A cover opened at any time is tamper evidence: the seals must be inspected.
            Counter::CoverOpen => (Category::Tamper, Severity::High, SiteVisit::Yes),
            Counter::OverloadTrip => (
                Category::LoadPowerQuality,
                Severity::Medium,
                SiteVisit::IfUnresolved,
            ),
            Counter::PowerDown => (Category::LoadPowerQuality, Severity::Low, SiteVisit::No),
            Counter::PhaseDown => (
                Category::LoadPowerQuality,
                Severity::Medium,
                SiteVisit::IfUnresolved,
            ),
        }
    }

    pub const ALL: [Counter; 4] = [
        Counter::CoverOpen,
        Counter::OverloadTrip,
        Counter::PowerDown,
        Counter::PhaseDown,
    ];

    /// The short code whose value is this count.
    pub fn short_code(self) -> ShortCode {
        ShortCode(match self {
            Counter::CoverOpen => 40,
            Counter::OverloadTrip => 46,
            Counter::PowerDown => 52,
            Counter::PhaseDown => 58,
        })
    }

    /// The short codes of the 1st (most recent) to 5th event times, in that order.
    /// The guide defines none for phase down.
    pub fn event_time_codes(self) -> &'static [ShortCode] {
        match self {
            Counter::CoverOpen => &[
                ShortCode(41),
                ShortCode(42),
                ShortCode(43),
                ShortCode(44),
                ShortCode(45),
            ],
            Counter::OverloadTrip => &[
                ShortCode(47),
                ShortCode(48),
                ShortCode(49),
                ShortCode(50),
                ShortCode(51),
            ],
            Counter::PowerDown => &[
                ShortCode(53),
                ShortCode(54),
                ShortCode(55),
                ShortCode(56),
                ShortCode(57),
            ],
            Counter::PhaseDown => &[],
        }
    }

    /// The counter reported by a count short code (40, 46, 52, 58).
    pub fn from_short_code(code: ShortCode) -> Option<Counter> {
        Counter::ALL.into_iter().find(|c| c.short_code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Counter::CoverOpen => "cover_open",
            Counter::OverloadTrip => "overload_trip",
            Counter::PowerDown => "power_down",
            Counter::PhaseDown => "phase_down",
        }
    }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A measured value (energy 01, threshold 14, power 31, power factor 35, …).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReadingValue {
    /// Exactly `mantissa × 10^exponent` in `unit`: a COSEM register value with its scaler.
    Decimal {
        mantissa: i64,
        exponent: i8,
        unit: String,
    },
    /// A value the meter gave as a float.
    Float { value: f64, unit: String },
}

impl ReadingValue {
    /// The value as a float, for display and comparisons that tolerate rounding.
    pub fn as_f64(&self) -> f64 {
        match self {
            ReadingValue::Decimal {
                mantissa, exponent, ..
            } => *mantissa as f64 * 10f64.powi(i32::from(*exponent)),
            ReadingValue::Float { value, .. } => *value,
        }
    }

    pub fn unit(&self) -> &str {
        match self {
            ReadingValue::Decimal { unit, .. } | ReadingValue::Float { unit, .. } => unit,
        }
    }
}

/// What one successful poll of one meter read. Anything the profile could not read is
/// absent, never zero.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MeterReading {
    pub meter: MeterId,
    /// When the agent read it: unix milliseconds, UTC.
    pub read_at: i64,
    pub mode: Mode,
    #[serde(with = "serde_codes::opt_status")]
    pub status: Option<OperatingStatus>,
    /// The code-87 relay disconnect reason (a sub-code, 0 = relay closed).
    pub relay_reason: Option<u32>,
    /// The disconnect control's output state: `true` = the supply is connected.
    #[serde(default)]
    pub relay_connected: Option<bool>,
    pub counters: BTreeMap<Counter, u64>,
    /// For each counter, the last event times (unix ms), most recent first, as far as
    /// the profile can read them (short codes 41–45, 47–51, 53–57).
    #[serde(default)]
    pub event_times: BTreeMap<Counter, Vec<i64>>,
    /// Other values by short code number.
    #[serde(default)]
    pub values: BTreeMap<u8, ReadingValue>,
}

impl MeterReading {
    /// A reading with nothing read yet: fill the fields the profile provides.
    pub fn new(meter: MeterId, read_at: i64, mode: Mode) -> Self {
        MeterReading {
            meter,
            read_at,
            mode,
            status: None,
            relay_reason: None,
            relay_connected: None,
            counters: BTreeMap::new(),
            event_times: BTreeMap::new(),
            values: BTreeMap::new(),
        }
    }
}

/// The result of one poll: a reading, or the reason the meter did not answer.
// Design: externally tagged (`{"read": {...}}`): an internally tagged enum buffers its
// content and then cannot read the integer keys of `values` back.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PollOutcome {
    Read(MeterReading),
    Unreachable {
        meter: MeterId,
        /// When the poll gave up: unix milliseconds, UTC.
        at: i64,
        reason: String,
    },
}

impl PollOutcome {
    pub fn meter(&self) -> &MeterId {
        match self {
            PollOutcome::Read(r) => &r.meter,
            PollOutcome::Unreachable { meter, .. } => meter,
        }
    }

    /// When the poll happened (the reading time, or when it gave up).
    pub fn at(&self) -> i64 {
        match self {
            PollOutcome::Read(r) => r.read_at,
            PollOutcome::Unreachable { at, .. } => *at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ValueKind;

    #[test]
    fn counter_codes_match_the_short_code_table() {
        for c in Counter::ALL {
            let entry = c.short_code().entry().expect("count code is in the table");
            assert_eq!(entry.kind, ValueKind::Count, "{c}");
            assert_eq!(Counter::from_short_code(c.short_code()), Some(c));
            for t in c.event_time_codes() {
                let e = t.entry().expect("time code is in the table");
                assert_eq!(e.kind, ValueKind::Timestamp, "{c} {t}");
                assert_eq!(
                    t.0 - c.short_code().0,
                    c.event_time_codes().iter().position(|x| x == t).unwrap() as u8 + 1
                );
            }
        }
        assert_eq!(Counter::from_short_code(ShortCode(41)), None);
    }

    #[test]
    fn outcome_round_trips_through_json() {
        let mut r = MeterReading::new(MeterId::new("0123"), 1_700_000_000_000, Mode::Prepaid);
        r.status = Some(OperatingStatus(1005));
        r.relay_reason = Some(5);
        r.counters.insert(Counter::CoverOpen, 3);
        r.event_times
            .insert(Counter::CoverOpen, vec![1_699_999_000_000]);
        r.values.insert(
            1,
            ReadingValue::Decimal {
                mantissa: 123456,
                exponent: -2,
                unit: "kWh".into(),
            },
        );
        r.values.insert(
            35,
            ReadingValue::Float {
                value: 0.93,
                unit: String::new(),
            },
        );
        for o in [
            PollOutcome::Read(r),
            PollOutcome::Unreachable {
                meter: MeterId::new("9"),
                at: 5,
                reason: "timeout".into(),
            },
        ] {
            let json = serde_json::to_string(&o).unwrap();
            let back: PollOutcome = serde_json::from_str(&json).unwrap();
            assert_eq!(back, o, "{json}");
        }
    }

    #[test]
    fn decimal_value_is_exact_mantissa_and_scaler() {
        let v = ReadingValue::Decimal {
            mantissa: 123456,
            exponent: -2,
            unit: "kWh".into(),
        };
        assert!((v.as_f64() - 1234.56).abs() < 1e-9);
        assert_eq!(v.unit(), "kWh");
    }
}
