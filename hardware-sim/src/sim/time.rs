//! Meter clock arithmetic: a local calendar time as seconds, to and from COSEM date-time
//! and the `2024-05-01T08:00:00+03:00` form scenarios use.
//!
//! Pure: no clock is read here. The simulator's notion of "now" is scenario time (a
//! `Duration` since the scenario start) added to the scenario's start time.

use core::fmt;
use core::time::Duration;

use crate::protocol::axdr::{
    ClockStatus, Date, DateTime, Time, DEVIATION_NOT_SPECIFIED, NOT_SPECIFIED,
};

/// A meter's local time: seconds since 1970-01-01 00:00:00 *local*, and the Blue Book
/// deviation (minutes, UTC = local + deviation; `DEVIATION_NOT_SPECIFIED` when unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalTime {
    pub secs: i64,
    pub deviation: i16,
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    // Shift the year to start in March so that the leap day is the last day of a year.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = i64::from((month + 9) % 12);
    let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date `days` after 1970-01-01: (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

impl LocalTime {
    pub fn from_fields(
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Option<LocalTime> {
        let valid = (1..=12).contains(&month)
            && (1..=days_in_month(year, month)).contains(&day)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then(|| LocalTime {
            secs: days_from_civil(year, month, day) * 86_400
                + i64::from(hour * 3600 + minute * 60 + second),
            deviation: DEVIATION_NOT_SPECIFIED,
        })
    }

    /// `YYYY-MM-DDTHH:MM:SS`, optionally followed by `Z` or `+HH:MM` / `-HH:MM` (the
    /// offset of local time from UTC, which sets the deviation).
    pub fn parse(s: &str) -> Result<LocalTime, String> {
        let bad =
            || format!("`{s}` is not a time like 2024-05-01T08:00:00 or 2024-05-01T08:00:00+03:00");
        let (date, rest) = s.split_once('T').ok_or_else(bad)?;
        let (clock, offset) = match rest.find(['Z', '+', '-']) {
            Some(i) => (rest.get(..i).ok_or_else(bad)?, rest.get(i..)),
            None => (rest, None),
        };
        let num = |t: &str| t.parse::<u32>().map_err(|_| bad());
        let d: Vec<&str> = date.split('-').collect();
        let c: Vec<&str> = clock.split(':').collect();
        let ([y, mo, da], [h, mi, se]) = (d.as_slice(), c.as_slice()) else {
            return Err(bad());
        };
        let year = i64::from(num(y)?);
        let mut t = LocalTime::from_fields(year, num(mo)?, num(da)?, num(h)?, num(mi)?, num(se)?)
            .ok_or_else(|| format!("`{s}` is not a valid calendar time"))?;
        if !(1970..=9999).contains(&year) {
            return Err(format!("`{s}`: the year must be 1970..9999"));
        }
        if let Some(offset) = offset {
            t.deviation = parse_offset(offset).ok_or_else(bad)?;
        }
        Ok(t)
    }

    /// This time plus `d` (whole seconds; fractions are dropped).
    pub fn plus(self, d: Duration) -> LocalTime {
        let add = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        LocalTime {
            secs: self.secs.saturating_add(add),
            ..self
        }
    }

    /// The COSEM date-time; hundredths are "not specified", the status is "OK" (0).
    pub fn to_date_time(self) -> DateTime {
        let days = self.secs.div_euclid(86_400);
        let in_day = self.secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        // 1970-01-01 was a Thursday (4); COSEM numbers Monday as 1.
        let day_of_week = ((days + 3).rem_euclid(7) + 1) as u8;
        DateTime {
            date: Date {
                year: u16::try_from(year).unwrap_or(u16::MAX),
                month: month as u8,
                day_of_month: day as u8,
                day_of_week,
            },
            time: Time {
                hour: (in_day / 3600) as u8,
                minute: (in_day / 60 % 60) as u8,
                second: (in_day % 60) as u8,
                hundredths: NOT_SPECIFIED,
            },
            deviation: self.deviation,
            clock_status: ClockStatus(0),
        }
    }

    /// The local time a COSEM date-time names; `None` when a field is not specified or
    /// out of range (wildcards cannot be placed on a line).
    pub fn from_date_time(dt: &DateTime) -> Option<LocalTime> {
        let d = dt.date;
        let t = dt.time;
        if d.year == 0xFFFF {
            return None;
        }
        let mut lt = LocalTime::from_fields(
            i64::from(d.year),
            u32::from(d.month),
            u32::from(d.day_of_month),
            u32::from(t.hour),
            u32::from(t.minute),
            u32::from(t.second),
        )?;
        lt.deviation = dt.deviation;
        Some(lt)
    }

    /// Seconds since the Unix epoch (UTC) when the deviation is known, else the local count.
    pub fn utc_secs(self) -> i64 {
        if self.deviation == DEVIATION_NOT_SPECIFIED {
            self.secs
        } else {
            self.secs.saturating_add(i64::from(self.deviation) * 60)
        }
    }
}

/// `Z`, `+HH:MM` or `-HH:MM` as a Blue Book deviation (UTC - local, minutes).
fn parse_offset(s: &str) -> Option<i16> {
    if s == "Z" {
        return Some(0);
    }
    let (sign, rest) = match s.split_at_checked(1)? {
        ("+", r) => (1, r),
        ("-", r) => (-1, r),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i16, i16) = (h.parse().ok()?, m.parse().ok()?);
    if h > 14 || m > 59 || rest.len() != 5 {
        return None;
    }
    Some(-sign * (h * 60 + m))
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = self.to_date_time();
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.date.year,
            dt.date.month,
            dt.date.day_of_month,
            dt.time.hour,
            dt.time.minute,
            dt.time.second
        )?;
        match self.deviation {
            DEVIATION_NOT_SPECIFIED => Ok(()),
            0 => f.write_str("Z"),
            dev => {
                let offset = -i32::from(dev);
                let sign = if offset < 0 { '-' } else { '+' };
                write!(f, "{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates_convert_both_ways() {
        let t = LocalTime::parse("2024-02-29T23:59:58").unwrap();
        let dt = t.to_date_time();
        assert_eq!(
            (dt.date.year, dt.date.month, dt.date.day_of_month),
            (2024, 2, 29)
        );
        // 2024-02-29 was a Thursday.
        assert_eq!(dt.date.day_of_week, 4);
        assert_eq!((dt.time.hour, dt.time.minute, dt.time.second), (23, 59, 58));
        let next = t.plus(Duration::from_secs(2)).to_date_time();
        assert_eq!(
            (next.date.month, next.date.day_of_month, next.time.hour),
            (3, 1, 0)
        );
        assert_eq!(LocalTime::from_date_time(&dt), Some(t));
        assert_eq!(LocalTime::parse("1970-01-01T00:00:00").unwrap().secs, 0);
        // 1970-01-01 was a Thursday.
        assert_eq!(
            LocalTime::parse("1970-01-01T00:00:00")
                .unwrap()
                .to_date_time()
                .date
                .day_of_week,
            4
        );
    }

    #[test]
    fn every_day_for_a_few_centuries_round_trips() {
        for days in (-30_000..120_000).step_by(7) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }

    #[test]
    fn offsets_set_the_blue_book_deviation() {
        let t = LocalTime::parse("2024-05-01T08:00:00+03:00").unwrap();
        assert_eq!(t.deviation, -180);
        assert_eq!(t.to_date_time().utc_offset_minutes(), Some(180));
        assert_eq!(t.to_string(), "2024-05-01T08:00:00+03:00");
        assert_eq!(
            LocalTime::parse("2024-05-01T08:00:00Z").unwrap().deviation,
            0
        );
        assert_eq!(
            LocalTime::parse("2024-05-01T08:00:00-05:30")
                .unwrap()
                .deviation,
            330
        );
        let plain = LocalTime::parse("2024-05-01T08:00:00").unwrap();
        assert_eq!(plain.deviation, DEVIATION_NOT_SPECIFIED);
        assert_eq!(plain.to_string(), "2024-05-01T08:00:00");
    }

    #[test]
    fn bad_times_are_refused_with_the_text() {
        for bad in [
            "2024-05-01",
            "2024-13-01T00:00:00",
            "2023-02-29T00:00:00",
            "2024-05-01T24:00:00",
            "2024-05-01T08:00:00+3",
            "2024-05-01T08:00:00+03:00:00",
            "1969-12-31T23:59:59",
        ] {
            let e = LocalTime::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
