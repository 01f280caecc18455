use super::*;
use crate::agent::alerts::{AlertDetail, AlertId};
use crate::agent::reading::{Counter, MeterId, MeterReading, PollOutcome};
use crate::codes::{
    Category, CodeOverride, Lookup, Mode, OperatingStatus, Overrides, Severity, SiteVisit,
};
use std::collections::BTreeSet;

const T0: i64 = 1_700_000_000_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// Drives the engine like the daemon does: the state of each poll feeds the next.
struct Meter<'l> {
    engine: AlertEngine<'l>,
    state: Option<MeterState>,
    all: Vec<Alert>,
}

impl<'l> Meter<'l> {
    fn new(lookup: &'l Lookup, policy: AlertPolicy) -> Self {
        Meter {
            engine: AlertEngine::new(lookup, policy),
            state: None,
            all: Vec::new(),
        }
    }

    fn poll(&mut self, outcome: PollOutcome, now: i64) -> Vec<Alert> {
        let ev = self.engine.evaluate(self.state.as_ref(), &outcome, now);
        self.state = Some(ev.state);
        self.all.extend(ev.alerts.iter().cloned());
        ev.alerts
    }

    fn read(&mut self, at: i64, fill: impl FnOnce(&mut MeterReading)) -> Vec<Alert> {
        let mut r = MeterReading::new(MeterId::new("47001234"), at, Mode::Postpaid);
        fill(&mut r);
        self.poll(PollOutcome::Read(r), at)
    }

    fn status(&mut self, at: i64, status: u32) -> Vec<Alert> {
        self.read(at, |r| r.status = Some(OperatingStatus(status)))
    }

    fn fail(&mut self, at: i64) -> Vec<Alert> {
        self.poll(
            PollOutcome::Unreachable {
                meter: MeterId::new("47001234"),
                at,
                reason: "no answer to SNRM".into(),
            },
            at,
        )
    }

    fn state(&self) -> &MeterState {
        self.state.as_ref().expect("polled at least once")
    }
}

fn no_reminders() -> AlertPolicy {
    AlertPolicy {
        unreachable_after: 3,
        reminder_interval_ms: None,
    }
}

fn one(alerts: Vec<Alert>) -> Alert {
    assert_eq!(alerts.len(), 1, "expected one alert, got {alerts:#?}");
    alerts.into_iter().next().unwrap()
}

#[test]
fn a_healthy_first_reading_is_a_silent_baseline() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, AlertPolicy::default());
    let alerts = m.read(T0, |r| {
        r.status = Some(OperatingStatus(1000));
        r.relay_reason = Some(0);
        r.counters.insert(Counter::CoverOpen, 4);
        r.counters.insert(Counter::PowerDown, 17);
    });
    assert!(alerts.is_empty(), "{alerts:#?}");
    let s = m.state();
    assert_eq!(s.counters.get(&Counter::CoverOpen), Some(&4));
    assert_eq!(s.counters.get(&Counter::PowerDown), Some(&17));
    assert_eq!(s.status, Some(1000));
    assert_eq!(s.last_read_at, Some(T0));
    assert!(s.conditions.is_empty());
}

#[test]
fn an_abnormal_first_reading_raises_once() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, AlertPolicy::default());
    let a = one(m.status(T0, 1005));
    assert_eq!(a.kind, AlertKind::StatusChanged);
    assert_eq!(a.subject, Subject::Status);
    assert_eq!((a.code, a.sub_code), (Some(1005), Some(5)));
    assert_eq!(a.category, Some(Category::Tamper));
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(a.site_visit, SiteVisit::Yes);
    assert_eq!(a.previous, None);
    assert_eq!((a.read_at, a.raised_at, a.first_raised_at), (T0, T0, T0));
    assert!(a.message.contains("47001234"), "{}", a.message);
    // The same condition on later polls: nothing more.
    for i in 1..5 {
        assert!(m.status(T0 + i * MIN, 1005).is_empty());
    }
    assert_eq!(
        m.state().condition(Subject::Status).unwrap().first_alert_id,
        a.id
    );
}

#[test]
fn status_change_then_clear_then_quiet() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    assert!(m.status(T0, 1000).is_empty());
    let raised = one(m.status(T0 + MIN, 1003));
    assert_eq!(raised.kind, AlertKind::StatusChanged);
    assert_eq!(raised.previous.as_ref().unwrap().raw, Some(1000));
    assert!(raised.previous.as_ref().unwrap().words.contains("1000"));
    assert!(m.status(T0 + 2 * MIN, 1003).is_empty());

    let cleared = one(m.status(T0 + 10 * MIN, 1000));
    assert_eq!(cleared.kind, AlertKind::StatusCleared);
    assert_eq!(cleared.code, Some(1000));
    assert_eq!(cleared.severity, Severity::Ok);
    assert_eq!(cleared.previous.as_ref().unwrap().raw, Some(1003));
    assert_eq!(cleared.first_raised_at, raised.raised_at);
    assert_eq!(cleared.raised_at, T0 + 10 * MIN);
    assert_ne!(cleared.id, raised.id);
    assert!(m.state().condition(Subject::Status).is_none());
    assert!(m.status(T0 + 11 * MIN, 1000).is_empty());

    // The same code again later is a new condition with a new id.
    let again = one(m.status(T0 + 20 * MIN, 1003));
    assert_eq!(again.kind, AlertKind::StatusChanged);
    assert_ne!(again.id, raised.id);
}

#[test]
fn one_abnormal_status_replaced_by_another() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    m.status(T0, 1003);
    let b = one(m.status(T0 + MIN, 1009));
    assert_eq!(b.kind, AlertKind::StatusChanged);
    assert_eq!(b.code, Some(1009));
    assert_eq!(b.severity, Severity::High);
    assert_eq!(b.previous.unwrap().raw, Some(1003));
    assert_eq!(m.state().conditions.len(), 1);
    let c = one(m.status(T0 + 2 * MIN, 1000));
    assert_eq!(c.previous.unwrap().raw, Some(1009));
}

#[test]
fn reminders_follow_the_interval_on_virtual_time() {
    let lookup = Lookup::builtin();
    let policy = AlertPolicy {
        unreachable_after: 3,
        reminder_interval_ms: Some(HOUR),
    };
    let mut m = Meter::new(&lookup, policy);
    let first = one(m.status(T0, 1005));
    assert!(m.status(T0 + 30 * MIN, 1005).is_empty());
    assert!(m.status(T0 + HOUR - 1, 1005).is_empty());
    let r1 = one(m.status(T0 + HOUR, 1005));
    assert_eq!(r1.kind, AlertKind::Reminder);
    assert_eq!(r1.code, Some(1005));
    assert_eq!(r1.severity, Severity::Critical);
    assert_eq!(r1.first_raised_at, T0);
    assert_eq!(r1.raised_at, T0 + HOUR);
    match &r1.detail {
        AlertDetail::Reminder {
            of,
            first_alert_id,
            reminder,
            active_for_ms,
        } => {
            assert_eq!(*of, AlertKind::StatusChanged);
            assert_eq!(*first_alert_id, first.id);
            assert_eq!(*reminder, 1);
            assert_eq!(*active_for_ms, HOUR);
        }
        other => panic!("not a reminder detail: {other:?}"),
    }
    // Measured from the last reminder, not from the first raise.
    assert!(m.status(T0 + HOUR + 59 * MIN, 1005).is_empty());
    let r2 = one(m.status(T0 + 2 * HOUR, 1005));
    assert_eq!(r2.kind, AlertKind::Reminder);
    assert_ne!(r2.id, r1.id);
    // A condition that ended is not reminded.
    assert_eq!(
        one(m.status(T0 + 2 * HOUR + MIN, 1000)).kind,
        AlertKind::StatusCleared
    );
    assert!(m.status(T0 + 10 * HOUR, 1000).is_empty());
}

#[test]
fn no_reminders_when_disabled() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    m.status(T0, 1005);
    assert!(m.status(T0 + 1000 * HOUR, 1005).is_empty());
}

#[test]
fn credit_code_in_postpaid_is_recorded_at_info_level_and_never_reminded() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, AlertPolicy::default());
    let a = one(m.status(T0, 1001));
    assert_eq!(a.kind, AlertKind::StatusChanged);
    assert!(!a.relevant);
    assert_eq!(a.mode, Mode::Postpaid);
    assert_eq!(a.severity, Severity::Info);
    assert_eq!(a.site_visit, SiteVisit::No);
    assert!(
        a.message.contains("Not applicable in postpaid mode"),
        "{}",
        a.message
    );
    assert_eq!(m.state().status, Some(1001));
    assert!(m.status(T0 + 1000 * HOUR, 1001).is_empty());

    // The same code on a prepaid meter matters, at the table's severity.
    let mut p = Meter::new(&lookup, AlertPolicy::default());
    let mut r = MeterReading::new(MeterId::new("47001234"), T0, Mode::Prepaid);
    r.status = Some(OperatingStatus(1001));
    let a = one(p.poll(PollOutcome::Read(r.clone()), T0));
    assert!(a.relevant);
    assert_eq!(a.severity, Severity::Medium);
    r.read_at = T0 + 25 * HOUR;
    assert_eq!(
        one(p.poll(PollOutcome::Read(r), T0 + 25 * HOUR)).kind,
        AlertKind::Reminder
    );
}

#[test]
fn relay_test_is_info_and_not_reminded() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, AlertPolicy::default());
    let a = one(m.status(T0, 1004));
    assert_eq!(a.severity, Severity::Info);
    assert!(a.relevant);
    assert!(m.status(T0 + 100 * HOUR, 1004).is_empty());
}

#[test]
fn unknown_statuses_carry_the_raw_value() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    let a = one(m.status(T0, 1019));
    assert_eq!(a.kind, AlertKind::UnknownCode);
    assert_eq!((a.code, a.sub_code), (Some(1019), Some(19)));
    assert_eq!(a.category, Some(Category::Unknown));
    assert!(matches!(a.detail, AlertDetail::Code { known: false, .. }));
    assert!(m.status(T0 + MIN, 1019).is_empty());
    let b = one(m.status(T0 + 2 * MIN, 4242));
    assert_eq!(b.kind, AlertKind::UnknownCode);
    assert_eq!((b.code, b.sub_code), (Some(4242), None));
    assert_eq!(b.previous.unwrap().raw, Some(1019));
    assert_eq!(
        one(m.status(T0 + 3 * MIN, 1000)).kind,
        AlertKind::StatusCleared
    );
}

#[test]
fn relay_reason_changes_and_returns_to_closed() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    let reason = |m: &mut Meter, at, x| m.read(at, |r| r.relay_reason = Some(x));
    assert!(reason(&mut m, T0, 0).is_empty());
    let a = one(reason(&mut m, T0 + MIN, 3));
    assert_eq!(a.kind, AlertKind::RelayReasonChanged);
    assert_eq!(a.subject, Subject::RelayReason);
    assert_eq!((a.code, a.sub_code), (Some(1003), Some(3)));
    assert_eq!(a.previous.as_ref().unwrap().raw, Some(0));
    assert!(reason(&mut m, T0 + 2 * MIN, 3).is_empty());
    let b = one(reason(&mut m, T0 + 3 * MIN, 7));
    assert_eq!(b.code, Some(1007));
    assert_eq!(b.previous.unwrap().raw, Some(3));
    let closed = one(reason(&mut m, T0 + 4 * MIN, 0));
    assert_eq!(closed.kind, AlertKind::RelayReasonChanged);
    assert_eq!(closed.severity, Severity::Ok);
    assert!(m.state().condition(Subject::RelayReason).is_none());
    assert!(reason(&mut m, T0 + 5 * MIN, 0).is_empty());
    let unknown = one(reason(&mut m, T0 + 6 * MIN, 40));
    assert_eq!(unknown.kind, AlertKind::UnknownCode);
    assert_eq!((unknown.code, unknown.sub_code), (Some(1040), Some(40)));
    assert_eq!(unknown.category, Some(Category::Unknown));
}

#[test]
fn counters_grow_reset_and_baseline() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    assert!(m
        .read(T0, |r| {
            r.counters.insert(Counter::CoverOpen, 3);
        })
        .is_empty());
    let times = vec![T0 + 50_000, T0 + 40_000, T0 - 1, T0 - 2, T0 - 3];
    let grew = one(m.read(T0 + MIN, |r| {
        r.counters.insert(Counter::CoverOpen, 5);
        r.event_times.insert(Counter::CoverOpen, times.clone());
    }));
    assert_eq!(grew.kind, AlertKind::CounterGrew);
    assert_eq!(grew.subject, Subject::Counter(Counter::CoverOpen));
    assert_eq!(grew.code, Some(40));
    assert_eq!(grew.category, Some(Category::Tamper));
    assert_eq!(grew.severity, Severity::High);
    match &grew.detail {
        AlertDetail::Counter {
            counter,
            short_code,
            old,
            new,
            delta,
            event_times,
            event_times_utc,
        } => {
            assert_eq!(
                (*counter, *short_code, *old, *new, *delta),
                (Counter::CoverOpen, 40, 3, 5, 2)
            );
            assert_eq!(event_times, &times[..2]);
            assert_eq!(
                event_times_utc[0],
                crate::agent::format_unix_ms(T0 + 50_000)
            );
        }
        other => panic!("{other:?}"),
    }
    // Unchanged, and not read at all: nothing, and the last value is kept.
    assert!(m
        .read(T0 + 2 * MIN, |r| {
            r.counters.insert(Counter::CoverOpen, 5);
        })
        .is_empty());
    assert!(m.read(T0 + 3 * MIN, |_| {}).is_empty());
    assert_eq!(m.state().counters.get(&Counter::CoverOpen), Some(&5));

    let reset = one(m.read(T0 + 4 * MIN, |r| {
        r.counters.insert(Counter::CoverOpen, 0);
    }));
    assert_eq!(reset.kind, AlertKind::CounterReset);
    assert_eq!(reset.severity, Severity::Info);
    assert!(matches!(
        reset.detail,
        AlertDetail::Counter {
            old: 5,
            new: 0,
            delta: -5,
            ..
        }
    ));
    // Growth is then measured from the new baseline.
    let g = one(m.read(T0 + 5 * MIN, |r| {
        r.counters.insert(Counter::CoverOpen, 1);
    }));
    assert!(matches!(
        g.detail,
        AlertDetail::Counter {
            old: 0,
            new: 1,
            delta: 1,
            ..
        }
    ));

    // A counter first read later is a baseline too.
    assert!(m
        .read(T0 + 6 * MIN, |r| {
            r.counters.insert(Counter::PhaseDown, 9);
        })
        .is_empty());
    let pd = one(m.read(T0 + 7 * MIN, |r| {
        r.counters.insert(Counter::PhaseDown, 10);
    }));
    assert_eq!(pd.subject, Subject::Counter(Counter::PhaseDown));
    assert_eq!(pd.code, Some(58));
}

#[test]
fn several_counters_grow_in_one_reading() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    m.read(T0, |r| {
        for c in Counter::ALL {
            r.counters.insert(c, 1);
        }
    });
    let alerts = m.read(T0 + MIN, |r| {
        for c in Counter::ALL {
            r.counters.insert(c, 2);
        }
    });
    let subjects: BTreeSet<Subject> = alerts.iter().map(|a| a.subject).collect();
    assert_eq!(
        subjects,
        Counter::ALL.into_iter().map(Subject::Counter).collect()
    );
    let ids: BTreeSet<&AlertId> = alerts.iter().map(|a| &a.id).collect();
    assert_eq!(ids.len(), 4);
}

#[test]
fn unreachable_after_n_failures_then_reachable_once() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    m.status(T0, 1000);
    assert!(m.fail(T0 + MIN).is_empty());
    assert!(m.fail(T0 + 2 * MIN).is_empty());
    let down = one(m.fail(T0 + 3 * MIN));
    assert_eq!(down.kind, AlertKind::Unreachable);
    assert_eq!(down.subject, Subject::Reachability);
    assert_eq!(down.category, None);
    assert_eq!(down.code, None);
    assert!(
        matches!(&down.detail, AlertDetail::Unreachable { consecutive_failures: 3, failing_since, .. } if *failing_since == T0 + MIN)
    );
    assert!(m.fail(T0 + 4 * MIN).is_empty());
    assert!(m.fail(T0 + 5 * MIN).is_empty());
    assert_eq!(m.state().consecutive_failures, 5);

    let up = one(m.status(T0 + 6 * MIN, 1000));
    assert_eq!(up.kind, AlertKind::Reachable);
    assert_eq!(up.severity, Severity::Ok);
    assert_eq!(up.first_raised_at, down.raised_at);
    assert!(
        matches!(up.detail, AlertDetail::Reachable { consecutive_failures: 5, unreachable_for_ms, .. } if unreachable_for_ms == 3 * MIN)
    );
    assert!(m.status(T0 + 7 * MIN, 1000).is_empty());
    assert!(!m.state().unreachable);
    assert_eq!(m.state().consecutive_failures, 0);
}

#[test]
fn failures_below_the_threshold_are_forgotten_on_an_answer() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(&lookup, no_reminders());
    for round in 0..3 {
        let t = T0 + round * 10 * MIN;
        assert!(m.fail(t).is_empty());
        assert!(m.fail(t + MIN).is_empty());
        assert!(m.status(t + 2 * MIN, 1000).is_empty());
    }
    assert!(m.all.is_empty());
}

#[test]
fn an_unreachable_meter_is_reminded_and_its_status_is_not() {
    let lookup = Lookup::builtin();
    let policy = AlertPolicy {
        unreachable_after: 2,
        reminder_interval_ms: Some(HOUR),
    };
    let mut m = Meter::new(&lookup, policy);
    m.status(T0, 1005);
    m.fail(T0 + MIN);
    assert_eq!(one(m.fail(T0 + 2 * MIN)).kind, AlertKind::Unreachable);
    let r = one(m.fail(T0 + 2 * MIN + HOUR));
    assert_eq!(r.kind, AlertKind::Reminder);
    assert_eq!(r.subject, Subject::Reachability);
    // Back, still tampered: reachable, and the status reminder (due for an hour) now.
    let alerts = m.status(T0 + 3 * HOUR, 1005);
    let kinds: Vec<(AlertKind, Subject)> = alerts.iter().map(|a| (a.kind, a.subject)).collect();
    assert_eq!(
        kinds,
        vec![
            (AlertKind::Reachable, Subject::Reachability),
            (AlertKind::Reminder, Subject::Status)
        ]
    );
}

#[test]
fn unreachable_first_contact_uses_the_default_mode() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(
        &lookup,
        AlertPolicy {
            unreachable_after: 1,
            reminder_interval_ms: None,
        },
    );
    let a = one(m.fail(T0));
    assert_eq!(a.kind, AlertKind::Unreachable);
    assert_eq!(m.state().mode, Mode::Postpaid);
}

#[test]
fn site_overrides_reach_the_alert() {
    let mut o = Overrides::default();
    o.insert(
        "1008",
        CodeOverride {
            action: Some("Call the commissioning desk on 123.".into()),
            severity: Some(Severity::High),
        },
    )
    .unwrap();
    let lookup = Lookup::with_overrides(o);
    let mut m = Meter::new(&lookup, no_reminders());
    let a = one(m.status(T0, 1008));
    assert_eq!(a.severity, Severity::High);
    assert_eq!(a.action, "Call the commissioning desk on 123.");
    assert!(matches!(
        a.detail,
        AlertDetail::Code {
            overridden: true,
            ..
        }
    ));
}

#[test]
fn evaluation_is_deterministic_and_ids_unique() {
    let lookup = Lookup::builtin();
    let policy = AlertPolicy {
        unreachable_after: 2,
        reminder_interval_ms: Some(HOUR),
    };
    let mut m = Meter::new(&lookup, policy);
    let statuses = [1000, 1005, 1005, 1003, 1000, 1001, 1099, 1000, 1009, 1009];
    for (i, s) in statuses.iter().enumerate() {
        let t = T0 + i as i64 * 40 * MIN;
        m.read(t, |r| {
            r.status = Some(OperatingStatus(*s));
            r.counters.insert(Counter::OverloadTrip, i as u64 / 2);
        });
        if i % 3 == 0 {
            m.fail(t + MIN);
            m.fail(t + 2 * MIN);
        }
    }
    let ids: BTreeSet<&AlertId> = m.all.iter().map(|a| &a.id).collect();
    assert_eq!(ids.len(), m.all.len());
    assert!(m.all.len() > 10, "{}", m.all.len());

    // Same inputs, same outputs, alert ids included.
    let state = m.state().clone();
    let mut r = MeterReading::new(MeterId::new("47001234"), T0 + 100 * HOUR, Mode::Postpaid);
    r.status = Some(OperatingStatus(1006));
    let o = PollOutcome::Read(r);
    let a = m.engine.evaluate(Some(&state), &o, T0 + 100 * HOUR);
    let b = m.engine.evaluate(Some(&state), &o, T0 + 100 * HOUR);
    assert_eq!(a, b);
    assert!(!a.alerts.is_empty());
}

#[test]
fn a_state_of_another_meter_is_not_used() {
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, no_reminders());
    let mut other = MeterState::new(MeterId::new("other"), Mode::Postpaid);
    other.status = Some(1005);
    other.counters.insert(Counter::CoverOpen, 1);
    let mut r = MeterReading::new(MeterId::new("47001234"), T0, Mode::Postpaid);
    r.counters.insert(Counter::CoverOpen, 9);
    let ev = engine.evaluate(Some(&other), &PollOutcome::Read(r), T0);
    assert!(ev.alerts.is_empty(), "{:?}", ev.alerts);
    assert_eq!(ev.state.meter, MeterId::new("47001234"));
}

#[test]
fn alerts_round_trip_through_their_json_wire_format() {
    let lookup = Lookup::builtin();
    let mut m = Meter::new(
        &lookup,
        AlertPolicy {
            unreachable_after: 1,
            reminder_interval_ms: Some(HOUR),
        },
    );
    m.read(T0, |r| {
        r.counters.insert(Counter::CoverOpen, 1);
    });
    m.read(T0 + MIN, |r| {
        r.status = Some(OperatingStatus(1005));
        r.relay_reason = Some(5);
        r.counters.insert(Counter::CoverOpen, 2);
        r.event_times.insert(Counter::CoverOpen, vec![T0 + 30_000]);
    });
    m.fail(T0 + 2 * MIN);
    m.fail(T0 + 2 * HOUR);
    m.status(T0 + 3 * HOUR, 1000);
    let kinds: BTreeSet<AlertKind> = m.all.iter().map(|a| a.kind).collect();
    assert!(kinds.len() >= 6, "{kinds:?}");
    for a in &m.all {
        let line = a.to_json_line();
        assert!(!line.contains('\n'));
        let back: Alert = serde_json::from_str(&line).unwrap();
        assert_eq!(&back, a, "{line}");
    }
    let v: serde_json::Value = serde_json::from_str(&m.all[0].to_json_line()).unwrap();
    assert_eq!(v["subject"], "status");
    assert_eq!(v["kind"], "status_changed");
    assert_eq!(v["category"], "tamper");
    assert_eq!(v["severity"], "critical");
    assert_eq!(v["raised_at_utc"], "2023-11-14T22:14:20.000Z");
}
