//! The persisted state of one meter: what the alert engine remembers between polls.
//!
//! Plain serde data, stored as one JSON row per meter. It holds only what is needed to
//! decide the next alerts (last values, open conditions, failure run), never history.

use super::alerts::{AlertId, AlertKind, Subject};
use super::reading::{Counter, MeterId};
use crate::codes::Mode;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A condition that was raised and has not ended: at most one per subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveCondition {
    pub subject: Subject,
    /// The raw value that identifies it: the status (1005), the relay reason sub-code,
    /// or 0 for reachability.
    pub code: u64,
    /// The kind of the alert that raised it.
    pub kind: AlertKind,
    pub first_alert_id: AlertId,
    /// When it was first raised (engine time, unix ms).
    pub first_raised_at: i64,
    /// When it was last raised or reminded (engine time, unix ms).
    pub last_raised_at: i64,
    /// How many reminders were raised for it.
    pub reminders: u32,
    /// Whether reminders apply (not for info-level or not-applicable conditions).
    pub remind: bool,
}

/// Everything the engine knows about one meter after the last poll it recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeterState {
    pub meter: MeterId,
    pub mode: Mode,
    /// The last successful reading's time (unix ms), if any.
    pub last_read_at: Option<i64>,
    /// The last poll's time, successful or not (unix ms).
    pub last_poll_at: Option<i64>,
    /// The last operating status read (raw).
    pub status: Option<u32>,
    /// The last code-87 relay reason read (raw sub-code).
    pub relay_reason: Option<u32>,
    /// The last value of each counter ever read; a counter absent here has no baseline.
    pub counters: BTreeMap<Counter, u64>,
    pub conditions: Vec<ActiveCondition>,
    /// Failed polls since the last successful one.
    pub consecutive_failures: u32,
    /// When the current run of failures began (unix ms).
    pub failing_since: Option<i64>,
    /// Whether an unreachable alert was raised and no reading has come since.
    pub unreachable: bool,
    /// The last failure's reason.
    pub last_failure: Option<String>,
}

impl MeterState {
    /// The state of a meter never polled before.
    pub fn new(meter: MeterId, mode: Mode) -> Self {
        MeterState {
            meter,
            mode,
            last_read_at: None,
            last_poll_at: None,
            status: None,
            relay_reason: None,
            counters: BTreeMap::new(),
            conditions: Vec::new(),
            consecutive_failures: 0,
            failing_since: None,
            unreachable: false,
            last_failure: None,
        }
    }

    pub fn condition(&self, subject: Subject) -> Option<&ActiveCondition> {
        self.conditions.iter().find(|c| c.subject == subject)
    }

    pub(crate) fn condition_mut(&mut self, subject: Subject) -> Option<&mut ActiveCondition> {
        self.conditions.iter_mut().find(|c| c.subject == subject)
    }

    /// Replace the condition of its subject (or add it).
    pub(crate) fn set_condition(&mut self, condition: ActiveCondition) {
        self.end_condition(condition.subject);
        self.conditions.push(condition);
        self.conditions.sort_by_key(|c| c.subject);
    }

    /// End the condition of `subject`, returning it if one was active.
    pub(crate) fn end_condition(&mut self, subject: Subject) -> Option<ActiveCondition> {
        let i = self.conditions.iter().position(|c| c.subject == subject)?;
        Some(self.conditions.remove(i))
    }
}
