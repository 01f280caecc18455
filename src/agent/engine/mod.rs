//! The alert engine: previous meter state + one poll outcome -> new state + alerts.
//!
//! Pure: no I/O, no clock (the caller passes `now`), no randomness. The same inputs
//! always give the same state and the same alert ids, which is what lets the store
//! resume from its last committed state without raising anything twice. It must not
//! read or write the store itself.

mod build;
#[cfg(test)]
mod tests;

use super::alerts::{Alert, AlertKind, Previous, Subject};
use super::reading::{MeterReading, PollOutcome};
use super::state::{ActiveCondition, MeterState};
use crate::codes::{Lookup, Mode, OperatingStatus, Severity, StatusInfo};
use build::{Ctx, Raise};

/// When to raise what: the engine's tunables (from the agent config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlertPolicy {
    /// Failed polls in a row before a meter is reported unreachable (at least 1).
    pub unreachable_after: u32,
    /// Raise a still-active condition again after this many milliseconds; `None` never.
    pub reminder_interval_ms: Option<i64>,
}

impl Default for AlertPolicy {
    fn default() -> Self {
        AlertPolicy {
            unreachable_after: 3,
            reminder_interval_ms: Some(24 * 3_600_000),
        }
    }
}

/// What one evaluation produced: the state to persist and the alerts to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub state: MeterState,
    pub alerts: Vec<Alert>,
}

/// Decides alerts from readings, decoding codes through the site's lookup.
#[derive(Clone, Debug)]
pub struct AlertEngine<'l> {
    lookup: &'l Lookup,
    policy: AlertPolicy,
}

impl<'l> AlertEngine<'l> {
    pub fn new(lookup: &'l Lookup, policy: AlertPolicy) -> Self {
        AlertEngine { lookup, policy }
    }

    pub fn policy(&self) -> AlertPolicy {
        self.policy
    }

    /// Evaluate one poll of a meter against its previous state (`None` for a meter
    /// never seen, or a state that belongs to another meter). `now` is the engine's
    /// time in unix ms: alerts are raised at it and reminders are measured with it.
    pub fn evaluate(
        &self,
        previous: Option<&MeterState>,
        outcome: &PollOutcome,
        now: i64,
    ) -> Evaluation {
        let meter = outcome.meter();
        let previous = previous.filter(|p| p.meter == *meter);
        let mode = match outcome {
            PollOutcome::Read(r) => r.mode,
            PollOutcome::Unreachable { .. } => previous.map_or(Mode::default(), |p| p.mode),
        };
        let mut state = previous
            .cloned()
            .unwrap_or_else(|| MeterState::new(meter.clone(), mode));
        state.mode = mode;
        state.last_poll_at = Some(outcome.at());
        let ctx = Ctx {
            lookup: self.lookup,
            meter,
            read_at: outcome.at(),
            now,
            mode,
        };
        let mut alerts = Vec::new();
        match outcome {
            PollOutcome::Read(r) => {
                self.answered(&ctx, &mut state, &mut alerts);
                self.status(&ctx, &mut state, r, &mut alerts);
                self.relay_reason(&ctx, &mut state, r, &mut alerts);
                self.counters(&ctx, &mut state, r, &mut alerts);
                // After the changes: a condition raised just now is not yet due, and
                // one that ended is not reminded.
                self.reminders(
                    &ctx,
                    &mut state,
                    &[Subject::Status, Subject::RelayReason],
                    &mut alerts,
                );
                state.last_read_at = Some(r.read_at);
            }
            PollOutcome::Unreachable { reason, .. } => {
                self.failed(&ctx, &mut state, reason, &mut alerts);
                // Design: while a meter does not answer, its last status is not known
                // to be still active, so only the reachability condition is reminded.
                self.reminders(&ctx, &mut state, &[Subject::Reachability], &mut alerts);
            }
        }
        Evaluation { state, alerts }
    }

    /// A reading came: end a run of failures, and an unreachable condition with it.
    fn answered(&self, ctx: &Ctx, state: &mut MeterState, alerts: &mut Vec<Alert>) {
        if let Some(cond) = state.end_condition(Subject::Reachability) {
            alerts.push(ctx.reachable(&cond, state.consecutive_failures));
        }
        state.unreachable = false;
        state.consecutive_failures = 0;
        state.failing_since = None;
    }

    fn failed(&self, ctx: &Ctx, state: &mut MeterState, reason: &str, alerts: &mut Vec<Alert>) {
        state.consecutive_failures = state.consecutive_failures.saturating_add(1);
        let since = *state.failing_since.get_or_insert(ctx.read_at);
        state.last_failure = Some(reason.to_owned());
        if !state.unreachable && state.consecutive_failures >= self.policy.unreachable_after.max(1)
        {
            let alert = ctx.unreachable(state.consecutive_failures, reason, since);
            state.set_condition(condition(&alert, 0, true));
            state.unreachable = true;
            alerts.push(alert);
        }
    }

    fn status(&self, ctx: &Ctx, state: &mut MeterState, r: &MeterReading, alerts: &mut Vec<Alert>) {
        let Some(status) = r.status else { return };
        let previous = state.status.replace(status.0);
        let active = state.condition(Subject::Status).map(|c| c.code);
        if status.is_normal() {
            if let Some(cond) = state.end_condition(Subject::Status) {
                let was = ctx
                    .lookup
                    .status(OperatingStatus(code_u32(cond.code)), ctx.mode);
                let now_info = ctx.lookup.status(status, ctx.mode);
                alerts.push(ctx.status_cleared(&now_info, &cond, describe(&was)));
            }
            return;
        }
        if active == Some(u64::from(status.0)) {
            return;
        }
        let info = ctx.lookup.status(status, ctx.mode);
        let prev = previous.map(|p| describe(&ctx.lookup.status(OperatingStatus(p), ctx.mode)));
        let kind = if info.known {
            AlertKind::StatusChanged
        } else {
            AlertKind::UnknownCode
        };
        self.raise(
            ctx,
            state,
            Raise {
                kind,
                subject: Subject::Status,
                info: &info,
                raw: u64::from(status.0),
                sub_code: info.sub_code.map(u32::from),
                previous: prev,
            },
            alerts,
        );
    }

    fn relay_reason(
        &self,
        ctx: &Ctx,
        state: &mut MeterState,
        r: &MeterReading,
        alerts: &mut Vec<Alert>,
    ) {
        let Some(reason) = r.relay_reason else { return };
        let previous = state.relay_reason.replace(reason);
        let active = state.condition(Subject::RelayReason).map(|c| c.code);
        if active == Some(u64::from(reason)) {
            return;
        }
        let info = ctx.lookup.relay_reason(reason, ctx.mode);
        let prev = previous.map(|p| describe_reason(&ctx.lookup.relay_reason(p, ctx.mode), p));
        if reason == 0 {
            // Design: the relay reason has no "cleared" kind of its own: returning to 0
            // is reported once as a change (severity ok) and ends the condition, so a
            // consumer sees the relay close and reminders stop.
            if active.is_some() {
                state.end_condition(Subject::RelayReason);
                alerts.push(ctx.code_alert(&Raise {
                    kind: AlertKind::RelayReasonChanged,
                    subject: Subject::RelayReason,
                    info: &info,
                    raw: 0,
                    sub_code: Some(0),
                    previous: prev,
                }));
            }
            return;
        }
        let kind = if info.known {
            AlertKind::RelayReasonChanged
        } else {
            AlertKind::UnknownCode
        };
        self.raise(
            ctx,
            state,
            Raise {
                kind,
                subject: Subject::RelayReason,
                info: &info,
                raw: u64::from(reason),
                sub_code: Some(reason),
                previous: prev,
            },
            alerts,
        );
    }

    /// Raise a status or relay-reason condition and remember it as active.
    fn raise(&self, ctx: &Ctx, state: &mut MeterState, raise: Raise, alerts: &mut Vec<Alert>) {
        let alert = ctx.code_alert(&raise);
        // Design: reminders repeat only conditions worth acting on: relevant in the
        // meter's mode and above info level. An info note (a relay test, a credit code
        // in postpaid) is said once.
        let remind = raise.info.relevant && alert.severity > Severity::Info;
        state.set_condition(condition(&alert, raise.raw, remind));
        alerts.push(alert);
    }

    fn counters(
        &self,
        ctx: &Ctx,
        state: &mut MeterState,
        r: &MeterReading,
        alerts: &mut Vec<Alert>,
    ) {
        for (&counter, &new) in &r.counters {
            let Some(old) = state.counters.insert(counter, new) else {
                // First value ever seen: the baseline, nothing to compare with.
                continue;
            };
            if new != old {
                let times = r.event_times.get(&counter).map_or(&[][..], Vec::as_slice);
                alerts.push(ctx.counter_changed(counter, old, new, times));
            }
        }
    }

    /// Raise again each still-active condition of `subjects` whose interval has passed.
    fn reminders(
        &self,
        ctx: &Ctx,
        state: &mut MeterState,
        subjects: &[Subject],
        alerts: &mut Vec<Alert>,
    ) {
        let Some(interval) = self.policy.reminder_interval_ms else {
            return;
        };
        for &subject in subjects {
            let Some(cond) = state.condition_mut(subject) else {
                continue;
            };
            if !cond.remind || ctx.now.saturating_sub(cond.last_raised_at) < interval.max(1) {
                continue;
            }
            cond.reminders += 1;
            cond.last_raised_at = ctx.now;
            let cond = cond.clone();
            alerts.push(ctx.reminder(&cond, state));
        }
    }
}

/// The active condition an alert opens.
fn condition(alert: &Alert, code: u64, remind: bool) -> ActiveCondition {
    ActiveCondition {
        subject: alert.subject,
        code,
        kind: alert.kind,
        first_alert_id: alert.id.clone(),
        first_raised_at: alert.raised_at,
        last_raised_at: alert.raised_at,
        reminders: 0,
        remind,
    }
}

fn code_u32(code: u64) -> u32 {
    u32::try_from(code).unwrap_or(u32::MAX)
}

fn describe(info: &StatusInfo) -> Previous {
    Previous {
        raw: Some(u64::from(info.code)),
        words: format!("{} ({})", info.meaning, info.code),
    }
}

fn describe_reason(info: &StatusInfo, reason: u32) -> Previous {
    Previous {
        raw: Some(u64::from(reason)),
        words: format!("{} (relay reason {reason:02})", info.meaning),
    }
}
