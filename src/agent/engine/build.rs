//! Building alerts: decoding through the lookup core, wording, ids.
//!
//! Constructors only: which alert to raise is decided in `engine/mod.rs`. No I/O.

use crate::agent::alerts::{Alert, AlertDetail, AlertId, AlertKind, Previous, Subject};
use crate::agent::reading::{Counter, MeterId};
use crate::agent::rfc3339::format_unix_ms;
use crate::agent::state::{ActiveCondition, MeterState};
use crate::codes::{Lookup, Mode, OperatingStatus, Severity, SiteVisit, StatusInfo};

/// What every alert of one evaluation shares.
pub(super) struct Ctx<'a> {
    pub lookup: &'a Lookup,
    pub meter: &'a MeterId,
    /// The observation time (reading or failed poll).
    pub read_at: i64,
    /// The engine's time.
    pub now: i64,
    pub mode: Mode,
}

/// A status or relay-reason condition to raise.
#[derive(Clone)]
pub(super) struct Raise<'i> {
    pub kind: AlertKind,
    pub subject: Subject,
    pub info: &'i StatusInfo,
    /// The raw value that identifies the condition (status or sub-code).
    pub raw: u64,
    pub sub_code: Option<u32>,
    pub previous: Option<Previous>,
}

const UNREACHABLE_MEANING: &str = "Meter not answering polls";
const UNREACHABLE_ACTION: &str = "Check the gateway's link to the meter (bus cable, RS-485 wiring, optical head, modem) and the meter's supply; visit the meter if the link is sound.";
const REACHABLE_MEANING: &str = "Meter answering polls again";

fn duration_words(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    match mins {
        0..=59 => format!("{mins} min"),
        60..=2879 => format!("{} h {} min", mins / 60, mins % 60),
        _ => format!("{} days", mins / 1440),
    }
}

impl Ctx<'_> {
    fn base(&self, kind: AlertKind, subject: Subject, id: AlertId) -> Alert {
        Alert {
            id,
            meter: self.meter.clone(),
            kind,
            subject,
            read_at: self.read_at,
            raised_at: self.now,
            raised_at_utc: format_unix_ms(self.now),
            first_raised_at: self.now,
            code: None,
            sub_code: None,
            meaning: String::new(),
            category: None,
            severity: Severity::Info,
            action: String::new(),
            site_visit: SiteVisit::No,
            mode: self.mode,
            relevant: true,
            previous: None,
            message: String::new(),
            detail: AlertDetail::Code {
                text: String::new(),
                severity_reason: String::new(),
                known: true,
                overridden: false,
            },
        }
    }

    fn id(
        &self,
        kind: AlertKind,
        subject: Subject,
        code: u64,
        first: i64,
        instance: i64,
    ) -> AlertId {
        AlertId::derive(self.meter, kind, subject, code, first, instance)
    }

    /// A status or relay-reason alert, decoded.
    pub fn code_alert(&self, r: &Raise) -> Alert {
        let info = r.info;
        let mut a = self.base(
            r.kind,
            r.subject,
            self.id(r.kind, r.subject, r.raw, self.now, 0),
        );
        a.code = Some(info.code);
        a.sub_code = r.sub_code;
        a.meaning = info.meaning.clone();
        a.category = Some(info.category);
        // Design: a code that does not apply in the meter's mode (1001 "no credit" on a
        // postpaid meter) is recorded and said once at info level, not dropped: seeing
        // it at all means the meter or the site's mode setting is wrong, which someone
        // should notice, but it must not page anyone.
        a.severity = if info.relevant {
            info.severity
        } else {
            info.severity.min(Severity::Info)
        };
        a.action = info.action.clone();
        a.site_visit = if info.relevant {
            info.site_visit
        } else {
            SiteVisit::No
        };
        a.relevant = info.relevant;
        a.previous = r.previous.clone();
        a.detail = AlertDetail::Code {
            text: info.detail.clone(),
            severity_reason: info.severity_reason.clone(),
            known: info.known,
            overridden: info.overridden,
        };
        let what = match r.subject {
            Subject::RelayReason => format!("relay reason {:02}", r.raw),
            _ => format!("status {}", info.code),
        };
        let was = r
            .previous
            .as_ref()
            .map_or(String::new(), |p| format!(" (was {})", p.words));
        let scope = if info.relevant {
            String::new()
        } else {
            format!(" Not applicable in {} mode.", self.mode)
        };
        a.message = format!(
            "{}: {what} {}{was}.{scope} {}",
            self.meter, info.meaning, info.action
        );
        a
    }

    /// The status returned to 1000: `cond` ended.
    pub fn status_cleared(
        &self,
        normal: &StatusInfo,
        cond: &ActiveCondition,
        was: Previous,
    ) -> Alert {
        let kind = AlertKind::StatusCleared;
        let mut a = self.code_alert(&Raise {
            kind,
            subject: Subject::Status,
            info: normal,
            raw: cond.code,
            sub_code: normal.sub_code.map(u32::from),
            previous: Some(was.clone()),
        });
        a.id = self.id(
            kind,
            Subject::Status,
            cond.code,
            cond.first_raised_at,
            self.now,
        );
        a.first_raised_at = cond.first_raised_at;
        a.message = format!(
            "{}: status back to {} {} after {}; {} ended.",
            self.meter,
            normal.code,
            normal.meaning,
            duration_words(self.now - cond.first_raised_at),
            was.words
        );
        a
    }

    pub fn counter_changed(&self, counter: Counter, old: u64, new: u64, times: &[i64]) -> Alert {
        let grew = new > old;
        let kind = if grew {
            AlertKind::CounterGrew
        } else {
            AlertKind::CounterReset
        };
        let subject = Subject::Counter(counter);
        let code = counter.short_code();
        let sc = self.lookup.short_code(code);
        let delta = i64::try_from(i128::from(new) - i128::from(old)).unwrap_or(i64::MAX);
        // Design: on growth, the first `delta` event times (most recent first) are the
        // events since the last poll; older ones were reported before.
        let times: Vec<i64> = if grew {
            times
                .iter()
                .copied()
                .take(usize::try_from(delta).unwrap_or(usize::MAX))
                .collect()
        } else {
            times.to_vec()
        };
        let instance = i64::try_from(old).unwrap_or(i64::MAX);
        let mut a = self.base(
            kind,
            subject,
            self.id(kind, subject, new, self.now, instance),
        );
        a.code = Some(u32::from(code.0));
        a.meaning = sc.name.clone();
        let (category, severity, visit) = counter.weight();
        a.category = Some(category);
        if grew {
            a.severity = severity;
            a.site_visit = visit;
            a.action = sc.action.clone();
            a.message = format!(
                "{}: {} grew from {old} to {new} (+{delta}). {}",
                self.meter, sc.name, sc.action
            );
        } else {
            a.severity = Severity::Info;
            a.action = "Confirm whether the meter was reset or replaced; the new count is the baseline from now on.".to_owned();
            a.message = format!(
                "{}: {} went down from {old} to {new}: meter reset or replaced? {}",
                self.meter, sc.name, a.action
            );
        }
        a.previous = Some(Previous {
            raw: Some(old),
            words: format!("{old} ({})", sc.name),
        });
        a.detail = AlertDetail::Counter {
            counter,
            short_code: code.0,
            old,
            new,
            delta,
            event_times_utc: times.iter().map(|t| format_unix_ms(*t)).collect(),
            event_times: times,
        };
        a
    }

    pub fn unreachable(&self, failures: u32, reason: &str, failing_since: i64) -> Alert {
        let kind = AlertKind::Unreachable;
        let mut a = self.base(
            kind,
            Subject::Reachability,
            self.id(kind, Subject::Reachability, 0, self.now, 0),
        );
        a.meaning = UNREACHABLE_MEANING.to_owned();
        a.severity = Severity::Medium;
        a.site_visit = SiteVisit::IfUnresolved;
        a.action = UNREACHABLE_ACTION.to_owned();
        a.previous = Some(Previous {
            raw: None,
            words: "answering polls".to_owned(),
        });
        a.message = format!(
            "{}: no answer to {failures} polls in a row since {} (last: {reason}). {UNREACHABLE_ACTION}",
            self.meter,
            format_unix_ms(failing_since)
        );
        a.detail = AlertDetail::Unreachable {
            consecutive_failures: failures,
            reason: reason.to_owned(),
            failing_since,
        };
        a
    }

    pub fn reachable(&self, cond: &ActiveCondition, failures: u32) -> Alert {
        let kind = AlertKind::Reachable;
        let id = self.id(
            kind,
            Subject::Reachability,
            0,
            cond.first_raised_at,
            self.now,
        );
        let mut a = self.base(kind, Subject::Reachability, id);
        a.first_raised_at = cond.first_raised_at;
        a.meaning = REACHABLE_MEANING.to_owned();
        a.severity = Severity::Ok;
        a.action = "No action: the meter answers again.".to_owned();
        a.previous = Some(Previous {
            raw: None,
            words: UNREACHABLE_MEANING.to_owned(),
        });
        let down = self.now - cond.first_raised_at;
        a.message = format!(
            "{}: answering again after {} unreachable ({failures} failed polls).",
            self.meter,
            duration_words(down)
        );
        a.detail = AlertDetail::Reachable {
            unreachable_since: cond.first_raised_at,
            unreachable_for_ms: down,
            consecutive_failures: failures,
        };
        a
    }

    /// A still-active condition, raised again: decoded as it reads now.
    pub fn reminder(&self, cond: &ActiveCondition, state: &MeterState) -> Alert {
        let mut a = match cond.subject {
            Subject::Status => {
                let status = OperatingStatus(u32::try_from(cond.code).unwrap_or(u32::MAX));
                let info = self.lookup.status(status, self.mode);
                let sub_code = info.sub_code.map(u32::from);
                self.code_alert(&Raise {
                    kind: cond.kind,
                    subject: cond.subject,
                    info: &info,
                    raw: cond.code,
                    sub_code,
                    previous: None,
                })
            }
            Subject::RelayReason => {
                let reason = u32::try_from(cond.code).unwrap_or(u32::MAX);
                let info = self.lookup.relay_reason(reason, self.mode);
                self.code_alert(&Raise {
                    kind: cond.kind,
                    subject: cond.subject,
                    info: &info,
                    raw: cond.code,
                    sub_code: Some(reason),
                    previous: None,
                })
            }
            Subject::Reachability | Subject::Counter(_) => self.unreachable(
                state.consecutive_failures,
                state.last_failure.as_deref().unwrap_or(""),
                state.failing_since.unwrap_or(cond.first_raised_at),
            ),
        };
        let kind = AlertKind::Reminder;
        a.kind = kind;
        a.id = self.id(
            kind,
            cond.subject,
            cond.code,
            cond.first_raised_at,
            self.now,
        );
        a.first_raised_at = cond.first_raised_at;
        let active_for_ms = self.now - cond.first_raised_at;
        a.message = format!(
            "Reminder #{}, active for {}: {}",
            cond.reminders,
            duration_words(active_for_ms),
            a.message
        );
        a.detail = AlertDetail::Reminder {
            of: cond.kind,
            first_alert_id: cond.first_alert_id.clone(),
            reminder: cond.reminders,
            active_for_ms,
        };
        a
    }
}
