//! COSEM date, time and date-time (Blue Book 4.1.6.1), kept as raw fields.
//!
//! Every byte of the wire form is kept, including the "not specified" markers (0xFF,
//! 0xFFFF, deviation 0x8000) and the special month/day values (0xFD, 0xFE), so that a
//! decoded value re-encodes to the same bytes. No calendar validation happens here: a
//! meter's odd clock is data to report, not a parse failure.

use core::fmt;

/// "Not specified" marker of the one-byte fields (Blue Book 4.1.6.1).
pub const NOT_SPECIFIED: u8 = 0xFF;
/// "Not specified" marker of the year.
pub const YEAR_NOT_SPECIFIED: u16 = 0xFFFF;
/// "Not specified" marker of the deviation (Blue Book 4.1.6.1: 0x8000).
pub const DEVIATION_NOT_SPECIFIED: i16 = i16::MIN;
/// Month value: daylight saving end.
pub const MONTH_DST_END: u8 = 0xFD;
/// Month value: daylight saving begin.
pub const MONTH_DST_BEGIN: u8 = 0xFE;
/// Day-of-month value: second last day of the month.
pub const DAY_SECOND_LAST: u8 = 0xFD;
/// Day-of-month value: last day of the month.
pub const DAY_LAST: u8 = 0xFE;

/// date (Blue Book 4.1.6.1): year (u16), month, day of month, day of week (1 = Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day_of_month: u8,
    pub day_of_week: u8,
}

/// time (Blue Book 4.1.6.1): hour, minute, second, hundredths of a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Time {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub hundredths: u8,
}

/// date-time (Blue Book 4.1.6.1): date, time, deviation and clock status, 12 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateTime {
    pub date: Date,
    pub time: Time,
    /// Raw deviation in minutes, "local time to UTC" (UTC = local + deviation), 0x8000 = not specified.
    pub deviation: i16,
    pub clock_status: ClockStatus,
}

/// Clock status byte (Blue Book 4.1.6.1); 0xFF means "not specified".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClockStatus(pub u8);

impl ClockStatus {
    pub const INVALID_VALUE: u8 = 0x01;
    pub const DOUBTFUL_VALUE: u8 = 0x02;
    pub const DIFFERENT_CLOCK_BASE: u8 = 0x04;
    pub const INVALID_CLOCK_STATUS: u8 = 0x08;
    pub const DAYLIGHT_SAVING_ACTIVE: u8 = 0x80;
    pub const NOT_SPECIFIED: ClockStatus = ClockStatus(NOT_SPECIFIED);

    pub fn is_specified(self) -> bool {
        self.0 != NOT_SPECIFIED
    }

    /// True if the status is specified and has `flag` set.
    pub fn has(self, flag: u8) -> bool {
        self.is_specified() && self.0 & flag != 0
    }
}

impl Date {
    pub const LEN: usize = 5;

    pub fn from_bytes(b: [u8; 5]) -> Self {
        Date {
            year: u16::from_be_bytes([b[0], b[1]]),
            month: b[2],
            day_of_month: b[3],
            day_of_week: b[4],
        }
    }

    pub fn to_bytes(self) -> [u8; 5] {
        let y = self.year.to_be_bytes();
        [y[0], y[1], self.month, self.day_of_month, self.day_of_week]
    }
}

impl Time {
    pub const LEN: usize = 4;

    pub fn from_bytes(b: [u8; 4]) -> Self {
        Time {
            hour: b[0],
            minute: b[1],
            second: b[2],
            hundredths: b[3],
        }
    }

    pub fn to_bytes(self) -> [u8; 4] {
        [self.hour, self.minute, self.second, self.hundredths]
    }
}

impl DateTime {
    pub const LEN: usize = 12;

    pub fn from_bytes(b: [u8; 12]) -> Self {
        DateTime {
            date: Date::from_bytes([b[0], b[1], b[2], b[3], b[4]]),
            time: Time::from_bytes([b[5], b[6], b[7], b[8]]),
            deviation: i16::from_be_bytes([b[9], b[10]]),
            clock_status: ClockStatus(b[11]),
        }
    }

    /// Parse the 12-byte form from a slice (e.g. a Clock `time` attribute sent as octet-string).
    pub fn from_slice(b: &[u8]) -> Option<Self> {
        <[u8; 12]>::try_from(b).ok().map(Self::from_bytes)
    }

    pub fn to_bytes(self) -> [u8; 12] {
        let d = self.date.to_bytes();
        let t = self.time.to_bytes();
        let dev = self.deviation.to_be_bytes();
        [
            d[0],
            d[1],
            d[2],
            d[3],
            d[4],
            t[0],
            t[1],
            t[2],
            t[3],
            dev[0],
            dev[1],
            self.clock_status.0,
        ]
    }

    /// Offset of local time from UTC in minutes (ISO sign: UTC+01:00 is +60), reading the
    /// deviation the Blue Book way (deviation = UTC - local). `None` if not specified.
    // Design: some national companion standards (e.g. India) store the opposite sign; the
    // raw `deviation` field is kept so a meter profile can override this interpretation.
    pub fn utc_offset_minutes(&self) -> Option<i32> {
        (self.deviation != DEVIATION_NOT_SPECIFIED).then(|| -i32::from(self.deviation))
    }
}

/// Write a one-byte field: `*` for not specified, decimal if `<= max`, else `xHH`.
fn field(f: &mut fmt::Formatter<'_>, v: u8, width: usize, max: u8) -> fmt::Result {
    if v == NOT_SPECIFIED {
        write!(f, "{}", "*".repeat(width))
    } else if v <= max {
        write!(f, "{v:0width$}")
    } else {
        write!(f, "x{v:02X}")
    }
}

/// ISO-like: `2024-03-15`; `*` marks a field that is not specified and `xFE`-style hex a
/// special or out-of-range value (e.g. month xFE = DST begin). Day of week is not shown.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.year == YEAR_NOT_SPECIFIED {
            f.write_str("****")?;
        } else {
            write!(f, "{:04}", self.year)?;
        }
        f.write_str("-")?;
        field(f, self.month, 2, 12)?;
        f.write_str("-")?;
        field(f, self.day_of_month, 2, 31)
    }
}

/// ISO-like: `12:30:05.00`, with the same markers as `Date`.
impl fmt::Display for Time {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        field(f, self.hour, 2, 23)?;
        f.write_str(":")?;
        field(f, self.minute, 2, 59)?;
        f.write_str(":")?;
        field(f, self.second, 2, 59)?;
        f.write_str(".")?;
        field(f, self.hundredths, 2, 99)
    }
}

/// ISO-like: `2024-03-15T12:30:05.00+01:00`, then ` status=0xNN` if the clock status is
/// specified and not zero. The offset follows `utc_offset_minutes` and is left out when the
/// deviation is not specified.
impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}T{}", self.date, self.time)?;
        if let Some(off) = self.utc_offset_minutes() {
            let sign = if off < 0 { '-' } else { '+' };
            let abs = off.unsigned_abs();
            write!(f, "{sign}{:02}:{:02}", abs / 60, abs % 60)?;
        }
        if self.clock_status.is_specified() && self.clock_status.0 != 0 {
            write!(f, " status=0x{:02X}", self.clock_status.0)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rustfmt::skip]
    const CET_NOON: [u8; 12] = [
        0x07, 0xE8,       // year 2024
        0x03,             // month 3
        0x0F,             // day 15
        0x05,             // Friday
        0x0C, 0x1E, 0x05, // 12:30:05
        0x00,             // hundredths 0
        0xFF, 0xC4,       // deviation -60 (Blue Book: UTC = local - 60, i.e. UTC+01:00)
        0x00,             // clock status OK
    ];

    #[test]
    fn decodes_and_displays_cet() {
        let dt = DateTime::from_bytes(CET_NOON);
        assert_eq!(dt.date.year, 2024);
        assert_eq!(dt.date.day_of_week, 5);
        assert_eq!(dt.deviation, -60);
        assert_eq!(dt.utc_offset_minutes(), Some(60));
        assert_eq!(dt.to_string(), "2024-03-15T12:30:05.00+01:00");
        assert_eq!(dt.to_bytes(), CET_NOON);
    }

    #[test]
    fn not_specified_and_special_fields_survive() {
        #[rustfmt::skip]
        let raw = [
            0xFF, 0xFF, // year not specified
            0xFE,       // month: DST begin
            0xFE,       // day: last day of month
            0x07,       // Sunday
            0x02, 0x00, 0x00, 0xFF, // 02:00:00, hundredths not specified
            0x80, 0x00, // deviation not specified
            0x80,       // daylight saving active
        ];
        let dt = DateTime::from_bytes(raw);
        assert_eq!(dt.utc_offset_minutes(), None);
        assert!(dt.clock_status.has(ClockStatus::DAYLIGHT_SAVING_ACTIVE));
        assert!(!dt.clock_status.has(ClockStatus::INVALID_VALUE));
        assert_eq!(dt.to_string(), "****-xFE-xFET02:00:00.** status=0x80");
        assert_eq!(dt.to_bytes(), raw);
    }

    #[test]
    fn negative_offset_and_unspecified_status() {
        let mut dt = DateTime::from_bytes(CET_NOON);
        dt.deviation = 300; // UTC-05:00
        dt.clock_status = ClockStatus::NOT_SPECIFIED;
        assert!(!dt.clock_status.has(ClockStatus::DAYLIGHT_SAVING_ACTIVE));
        assert_eq!(dt.to_string(), "2024-03-15T12:30:05.00-05:00");
        assert_eq!(DateTime::from_slice(&CET_NOON[..11]), None);
    }
}
