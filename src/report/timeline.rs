//! The event timeline: when each kind of event happened over the period the log covers,
//! as positions 0.0–1.0 along a time axis with date ticks. Pure calendar arithmetic on
//! the meter's own (local) clock fields: no clock, no time zones.

use crate::agent::reading::Counter;
use crate::protocol::axdr::DateTime;

/// Most date ticks on the axis (their labels must not collide on A4).
pub const MAX_TICKS: usize = 7;

/// One event kind's lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub kind: Counter,
    /// "Cover opens", with the number of marks.
    pub label: String,
    pub marks: Vec<Mark>,
}

/// One event on a lane.
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Position along the axis, 0.0 (left) to 1.0 (right).
    pub at: f32,
    /// The event's time as printed.
    pub when: String,
}

/// A date tick on the axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub at: f32,
    pub label: String,
}

/// The chart's content.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// Where the events come from ("event logs ..." or "event times 41–57").
    pub source: String,
    pub lanes: Vec<Lane>,
    pub ticks: Vec<Tick>,
    /// First and last instant of the axis, as printed ("" when there are no events).
    pub from: String,
    pub to: String,
    /// Events that could not be placed, or why the chart is empty.
    pub note: Option<String>,
}

impl Timeline {
    /// Every mark on every lane.
    pub fn mark_count(&self) -> usize {
        self.lanes.iter().map(|l| l.marks.len()).sum()
    }
}

/// The lanes every report shows, in this order (phase down has no event times).
pub const LANES: [Counter; 3] = [
    Counter::CoverOpen,
    Counter::OverloadTrip,
    Counter::PowerDown,
];

pub fn lane_name(kind: Counter) -> &'static str {
    match kind {
        Counter::CoverOpen => "Cover opens",
        Counter::OverloadTrip => "Overload trips",
        Counter::PowerDown => "Power downs",
        Counter::PhaseDown => "Phase downs",
    }
}

/// Build the chart from events (kind, time). `until` (the meter clock at the read)
/// extends the axis to the moment of the read, so a quiet recent period shows as such.
pub fn build(source: String, events: &[(Counter, DateTime)], until: Option<&DateTime>) -> Timeline {
    let placed: Vec<(Counter, f64, String)> = events
        .iter()
        .filter_map(|(k, t)| minutes(t).map(|m| (*k, m, when(t))))
        .collect();
    let unplaced = events.len() - placed.len();
    let mut kinds: Vec<Counter> = LANES.to_vec();
    for (k, _, _) in &placed {
        if !kinds.contains(k) {
            kinds.push(*k);
        }
    }
    let first = placed.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
    let mut last = placed.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
    if let Some(end) = until.and_then(minutes) {
        if placed.is_empty() || end >= first {
            last = last.max(end);
        }
    }
    let mut note = (unplaced > 0)
        .then(|| format!("{unplaced} event(s) with an incomplete or invalid time are not drawn."));
    if placed.is_empty() {
        note = Some(match note {
            Some(n) => format!("No event with a usable time. {n}"),
            None => "No cover open, overload trip or power down event was recorded.".to_owned(),
        });
        let lanes = kinds.iter().map(|k| lane(*k, Vec::new())).collect();
        return Timeline {
            source,
            lanes,
            ticks: Vec::new(),
            from: String::new(),
            to: String::new(),
            note,
        };
    }
    // A lone instant gets a day either side; otherwise 3 % of the span either side, so
    // that a mark at either end does not sit on the end of the axis.
    let span = last - first;
    let pad = if span < 1.0 { 1440.0 } else { span * 0.03 };
    let (lo, hi) = (first - pad, last + pad);
    let at = |m: f64| ((m - lo) / (hi - lo)) as f32;
    let lanes = kinds
        .iter()
        .map(|k| {
            let mut marks: Vec<(f64, String)> = placed
                .iter()
                .filter(|p| p.0 == *k)
                .map(|p| (p.1, p.2.clone()))
                .collect();
            marks.sort_by(|a, b| a.0.total_cmp(&b.0));
            marks.dedup();
            lane(
                *k,
                marks
                    .into_iter()
                    .map(|(m, w)| Mark { at: at(m), when: w })
                    .collect(),
            )
        })
        .collect();
    let ticks = ticks(lo, hi)
        .into_iter()
        .map(|(m, label)| Tick { at: at(m), label })
        .collect();
    Timeline {
        source,
        lanes,
        ticks,
        from: stamp(first),
        to: stamp(last),
        note,
    }
}

fn lane(kind: Counter, marks: Vec<Mark>) -> Lane {
    Lane {
        kind,
        label: format!("{} ({})", lane_name(kind), marks.len()),
        marks,
    }
}

/// A meter time as printed in the report: `2024-03-02 10:15:00`, or the raw form
/// (with `*` for fields the meter leaves unspecified) when it is not a plain instant.
pub fn when(t: &DateTime) -> String {
    if minutes(t).is_none() {
        return t.to_string();
    }
    let (d, c) = (t.date, t.time);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        d.year, d.month, d.day_of_month, c.hour, c.minute, c.second
    )
}

/// Minutes since 1970-01-01 00:00 on the meter's clock; `None` when a field is not
/// specified or out of range (such a time cannot be placed on an axis).
pub fn minutes(t: &DateTime) -> Option<f64> {
    let (d, c) = (t.date, t.time);
    let valid = d.year != 0xFFFF
        && (1..=12).contains(&d.month)
        && (1..=days_in_month(i64::from(d.year), u32::from(d.month)))
            .contains(&u32::from(d.day_of_month))
        && c.hour <= 23
        && c.minute <= 59
        && c.second <= 59;
    if !valid {
        return None;
    }
    let days = days_from_civil(
        i64::from(d.year),
        u32::from(d.month),
        u32::from(d.day_of_month),
    );
    Some(
        days as f64 * 1440.0
            + f64::from(c.hour) * 60.0
            + f64::from(c.minute)
            + f64::from(c.second) / 60.0,
    )
}

/// `2024-03-02 10:15` of a minute count.
fn stamp(m: f64) -> String {
    let whole = m.floor() as i64;
    let (y, mo, d) = civil_from_days(whole.div_euclid(1440));
    let in_day = whole.rem_euclid(1440);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02}",
        in_day / 60,
        in_day % 60
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a proleptic Gregorian date (March-based years, so the leap
/// day is the last day of a year and needs no special case).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let m = i64::from(m);
    let month_from_march = if m > 2 { m - 3 } else { m + 9 };
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(d) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day count from 1970-01-01 (the inverse of [`days_from_civil`]).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let d = day_of_year - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = year_of_era + era * 400 + i64::from(m <= 2);
    (y, m as u32, d as u32)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

fn month_name(m: u32) -> &'static str {
    MONTHS
        .get(m.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("?")
}

/// Tick spacing, finest first.
#[derive(Clone, Copy, Debug)]
enum Step {
    Hours(i64),
    Days(i64),
    Months(u32),
    Years(i64),
}

const STEPS: [Step; 17] = [
    Step::Hours(1),
    Step::Hours(3),
    Step::Hours(6),
    Step::Hours(12),
    Step::Days(1),
    Step::Days(2),
    Step::Days(7),
    Step::Days(14),
    Step::Months(1),
    Step::Months(2),
    Step::Months(3),
    Step::Months(6),
    Step::Years(1),
    Step::Years(2),
    Step::Years(5),
    Step::Years(10),
    Step::Years(100),
];

impl Step {
    /// About how many minutes apart its ticks are.
    fn approx(self) -> f64 {
        match self {
            Step::Hours(n) => n as f64 * 60.0,
            Step::Days(n) => n as f64 * 1440.0,
            Step::Months(n) => f64::from(n) * 43_830.0,
            Step::Years(n) => n as f64 * 525_960.0,
        }
    }

    /// Ticks from `lo` to `hi` (minutes), on round instants of this step.
    fn ticks(self, lo: f64, hi: f64) -> Vec<(f64, String)> {
        let mut out = Vec::new();
        match self {
            Step::Hours(n) | Step::Days(n) => {
                let every = match self {
                    Step::Hours(_) => n * 60,
                    _ => n * 1440,
                };
                let mut m = (lo / every as f64).ceil() as i64 * every;
                while (m as f64) <= hi {
                    let (y, mo, d) = civil_from_days(m.div_euclid(1440));
                    let in_day = m.rem_euclid(1440);
                    let label = if matches!(self, Step::Hours(_)) && in_day != 0 {
                        format!("{:02}:00", in_day / 60)
                    } else if matches!(self, Step::Hours(_)) {
                        format!("{d} {}", month_name(mo))
                    } else {
                        format!("{d} {} {y}", month_name(mo))
                    };
                    out.push((m as f64, label));
                    m += every;
                }
            }
            Step::Months(n) => {
                let (mut y, mut mo, _) = civil_from_days((lo / 1440.0).floor() as i64);
                loop {
                    let m = days_from_civil(y, mo, 1) as f64 * 1440.0;
                    if m > hi {
                        break;
                    }
                    if m >= lo && (mo - 1) % n == 0 {
                        out.push((m, format!("{} {y}", month_name(mo))));
                    }
                    (y, mo) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
                }
            }
            Step::Years(n) => {
                let (first, _, _) = civil_from_days((lo / 1440.0).floor() as i64);
                let mut y = first.div_euclid(n) * n;
                loop {
                    let m = days_from_civil(y, 1, 1) as f64 * 1440.0;
                    if m > hi {
                        break;
                    }
                    if m >= lo {
                        out.push((m, y.to_string()));
                    }
                    y += n;
                }
            }
        }
        out
    }
}

/// Date ticks for the axis `lo..=hi` (minutes): the finest round step that gives at
/// most [`MAX_TICKS`] of them.
fn ticks(lo: f64, hi: f64) -> Vec<(f64, String)> {
    for step in STEPS {
        // Skip steps far too fine before generating anything.
        if (hi - lo) / step.approx() > (MAX_TICKS + 2) as f64 {
            continue;
        }
        let t = step.ticks(lo, hi);
        if t.len() <= MAX_TICKS {
            return t;
        }
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::axdr::{ClockStatus, Date, Time};

    fn t(y: u16, mo: u8, d: u8, h: u8, mi: u8) -> DateTime {
        DateTime {
            date: Date {
                year: y,
                month: mo,
                day_of_month: d,
                day_of_week: 0xFF,
            },
            time: Time {
                hour: h,
                minute: mi,
                second: 0,
                hundredths: 0,
            },
            deviation: 0,
            clock_status: ClockStatus(0),
        }
    }

    #[test]
    fn calendar_round_trips_and_knows_leap_years() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28),
            2
        );
        assert_eq!(
            days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28),
            1
        );
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
        }
        assert_eq!(minutes(&t(1970, 1, 2, 1, 1)), Some(1440.0 + 61.0));
        assert_eq!(
            stamp(minutes(&t(2024, 2, 29, 23, 59)).unwrap()),
            "2024-02-29 23:59"
        );
    }

    #[test]
    fn unspecified_or_impossible_times_are_not_placed() {
        assert_eq!(minutes(&t(0xFFFF, 1, 1, 0, 0)), None);
        assert_eq!(minutes(&t(2023, 2, 29, 0, 0)), None);
        assert_eq!(minutes(&t(2024, 13, 1, 0, 0)), None);
        assert_eq!(minutes(&t(2024, 1, 1, 24, 0)), None);
        assert_eq!(when(&t(2024, 3, 2, 10, 15)), "2024-03-02 10:15:00");
        assert!(when(&t(0xFFFF, 3, 2, 10, 15)).starts_with("****"));
    }

    #[test]
    fn months_of_events_get_monthly_ticks_and_marks_in_order() {
        let events = [
            (Counter::PowerDown, t(2024, 1, 15, 3, 0)),
            (Counter::CoverOpen, t(2024, 3, 2, 10, 15)),
            (Counter::PowerDown, t(2024, 4, 29, 23, 59)),
            (Counter::CoverOpen, t(0xFFFF, 3, 2, 10, 15)),
        ];
        let tl = build("test".into(), &events, Some(&t(2024, 5, 1, 8, 0)));
        let labels: Vec<&str> = tl.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["Feb 2024", "Mar 2024", "Apr 2024", "May 2024"]);
        assert!(tl.ticks.windows(2).all(|w| w[0].at < w[1].at));
        assert_eq!(tl.from, "2024-01-15 03:00");
        assert_eq!(tl.to, "2024-05-01 08:00");
        let power = &tl.lanes[2];
        assert_eq!(power.label, "Power downs (2)");
        assert!(power.marks[0].at > 0.0 && power.marks[0].at < 0.05);
        assert!(power.marks[1].at > 0.9 && power.marks[1].at < 1.0);
        assert_eq!(tl.lanes[1].marks.len(), 0);
        assert_eq!(tl.mark_count(), 3);
        assert!(tl.note.as_deref().unwrap().contains("1 event(s)"));
    }

    #[test]
    fn spans_from_hours_to_decades_stay_within_the_tick_limit() {
        let start = t(2020, 6, 30, 22, 0);
        for end in [
            t(2020, 6, 30, 23, 30),
            t(2020, 7, 1, 9, 0),
            t(2020, 7, 9, 0, 0),
            t(2020, 8, 20, 0, 0),
            t(2022, 1, 1, 0, 0),
            t(2049, 1, 1, 0, 0),
        ] {
            let tl = build(
                "x".into(),
                &[(Counter::CoverOpen, start), (Counter::PowerDown, end)],
                None,
            );
            assert!(tl.ticks.len() <= MAX_TICKS, "{:?}", tl.ticks);
            assert!(!tl.ticks.is_empty() || end == t(2020, 6, 30, 23, 30));
            assert!(tl.ticks.iter().all(|k| (0.0..=1.0).contains(&k.at)));
        }
    }

    #[test]
    fn no_events_is_an_empty_axis_with_a_note() {
        let tl = build("x".into(), &[], Some(&t(2024, 5, 1, 8, 0)));
        assert_eq!(tl.lanes.len(), 3);
        assert!(tl.ticks.is_empty());
        assert!(tl.note.unwrap().contains("No cover open"));
        let one = build(
            "x".into(),
            &[(Counter::CoverOpen, t(2024, 5, 1, 8, 0))],
            None,
        );
        assert!((one.lanes[0].marks[0].at - 0.5).abs() < 1e-3);
    }
}
