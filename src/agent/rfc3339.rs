//! Unix milliseconds as RFC 3339 UTC text (`2023-11-14T22:13:20.000Z`), for people
//! reading the alert file. Formatting only: no clock, no parsing, no time zones.

// Design: a dozen lines of calendar arithmetic instead of a date crate: the current
// date crates require a newer compiler than the workspace's rust-version.

const MS_PER_DAY: i64 = 86_400_000;
/// Days in 400 Gregorian years: the calendar repeats with this period.
const DAYS_PER_400Y: i64 = 146_097;

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_year(year: i64) -> i64 {
    if is_leap(year) {
        366
    } else {
        365
    }
}

fn days_in_month(year: i64, month: usize) -> i64 {
    const DAYS: [i64; 12] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if month == 1 && is_leap(year) {
        29
    } else {
        DAYS[month]
    }
}

/// (year, month 1-12, day 1-31) of a day counted from 1970-01-01.
fn civil(days: i64) -> (i64, usize, i64) {
    // 1970 and 2370 start the same 400-year cycle position.
    let cycles = days.div_euclid(DAYS_PER_400Y);
    let mut rest = days.rem_euclid(DAYS_PER_400Y);
    let mut year = 1970 + cycles * 400;
    while rest >= days_in_year(year) {
        rest -= days_in_year(year);
        year += 1;
    }
    let mut month = 0;
    while rest >= days_in_month(year, month) {
        rest -= days_in_month(year, month);
        month += 1;
    }
    (year, month + 1, rest + 1)
}

/// RFC 3339 text of a unix time in milliseconds, always UTC with millisecond precision.
pub fn format_unix_ms(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (y, mo, d) = civil(days);
    let (h, rest) = (in_day / 3_600_000, in_day % 3_600_000);
    let (mi, rest) = (rest / 60_000, rest % 60_000);
    let (s, milli) = (rest / 1000, rest % 1000);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::format_unix_ms;

    #[test]
    fn known_instants() {
        assert_eq!(format_unix_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_unix_ms(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        // Leap day, and the last millisecond of a leap year.
        assert_eq!(format_unix_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(
            format_unix_ms(1_735_689_599_999),
            "2024-12-31T23:59:59.999Z"
        );
        // 2100 is not a leap year.
        assert_eq!(
            format_unix_ms(4_107_542_400_000),
            "2100-03-01T00:00:00.000Z"
        );
        // Before the epoch.
        assert_eq!(format_unix_ms(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn consecutive_days_advance_by_one() {
        // Walk 900 years of midnights: the date text must change every day and stay sorted.
        let mut prev = format_unix_ms(-86_400_000 * 365 * 100);
        let mut day = -365 * 100;
        while day < 365 * 800 {
            day += 1;
            let next = format_unix_ms(day * 86_400_000);
            assert!(next > prev, "{prev} !< {next}");
            assert!(next.ends_with("T00:00:00.000Z"));
            prev = next;
        }
    }
}
