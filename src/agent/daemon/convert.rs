//! From schedule groups to what the meter session reads, and from what it read to the
//! agent's `MeterReading`. Pure: no I/O, no clock (the read time is passed in).
//!
//! It must not judge values (that is the alert engine); it only types them: operating
//! status, relay reason, counters as `u64`, event times as unix ms, other values as
//! exact decimals.

use super::schedule::{Group, Groups};
use crate::agent::reading::{Counter, MeterId, MeterReading, ReadingValue};
use crate::codes::{Mode, OperatingStatus, ShortCode, MAX_SUB_CODE, RELAY_REASON_CODE};
use crate::meter::read::{Item, ReadReport, ReadValue};
use crate::profile::Reads;
use crate::protocol::axdr::DateTime;
use crate::protocol::units::{Quantity, Unit};

/// Energy (01), load threshold (14), power (31), power factor (35).
pub const ENERGY_CODES: [u8; 4] = [1, 14, 31, 35];

/// The objects (not event times) to read for `groups`, in one association.
pub fn object_reads(groups: Groups) -> Vec<Reads> {
    let mut reads = Vec::new();
    if groups.contains(Group::Status) {
        reads.push(Reads::Status);
        reads.push(Reads::Short(ShortCode(RELAY_REASON_CODE)));
        reads.push(Reads::Relay);
    }
    if groups.contains(Group::Energy) {
        reads.extend(ENERGY_CODES.map(|c| Reads::Short(ShortCode(c))));
    }
    if groups.contains(Group::Counters) {
        reads.extend(Counter::ALL.map(|c| Reads::Short(c.short_code())));
    }
    reads
}

/// The event times (41–45, 47–51, 53–57) to read for `groups`.
// Design: event times are read in a second step of the same association, after the
// objects, so that a shutdown arriving meanwhile can skip them (the slow part: one
// profile-generic buffer per log) and still release the association cleanly.
pub fn event_reads(groups: Groups) -> Vec<Reads> {
    if !groups.contains(Group::Counters) {
        return Vec::new();
    }
    Counter::ALL
        .iter()
        .flat_map(|c| c.event_time_codes().iter().map(|t| Reads::Short(*t)))
        .collect()
}

/// What a poll read and could not read, for the reading and for logs.
#[derive(Debug, Default)]
pub struct Converted {
    /// Items the meter refused or sent in a shape we do not understand.
    pub failures: Vec<String>,
}

/// Fill `reading` from one read report. Items that failed are left absent (never
/// zero) and described in the returned `Converted`.
pub fn apply_report(reading: &mut MeterReading, report: &ReadReport) -> Converted {
    apply_items(
        reading,
        report.items.iter().map(|item| match item {
            Ok(r) => Ok((r.what, &r.value)),
            Err(f) => Err(f.to_string()),
        }),
    )
}

/// Fill `reading` from typed values of any protocol (DLMS, an optical readout, DL/T 645):
/// each a reading and its value, or why it has none. Several statuses in one poll (a
/// DL/T 645 status word with several bits set) keep the most severe.
pub fn apply_items<'a>(
    reading: &mut MeterReading,
    items: impl IntoIterator<Item = Result<(Item, &'a ReadValue), String>>,
) -> Converted {
    let mut out = Converted::default();
    for item in items {
        match item {
            Ok((what, value)) => {
                if let Err(why) = apply_value(reading, what, value) {
                    out.failures.push(format!("{what}: {why}"));
                }
            }
            Err(f) => out.failures.push(f),
        }
    }
    for times in reading.event_times.values_mut() {
        // Most recent first, as the engine and the alert wire format expect.
        times.sort_unstable_by(|a, b| b.cmp(a));
        times.dedup();
    }
    out
}

/// The more severe of two statuses read in one poll (the built-in table's severity, an
/// unknown code as the lookup rates it; ties keep the first).
fn worse(first: OperatingStatus, second: OperatingStatus) -> OperatingStatus {
    let lookup = crate::codes::Lookup::builtin();
    let rank = |s: OperatingStatus| lookup.status(s, Mode::Prepaid).severity;
    if rank(second) > rank(first) {
        second
    } else {
        first
    }
}

/// A reading with nothing read yet.
pub fn empty_reading(serial: &str, read_at: i64, mode: Mode) -> MeterReading {
    MeterReading::new(MeterId::new(serial), read_at, mode)
}

fn apply_value(reading: &mut MeterReading, what: Item, value: &ReadValue) -> Result<(), String> {
    let Item::Reads(reads) = what else {
        return Ok(());
    };
    match (reads, value) {
        (Reads::Status, ReadValue::Status(s)) => {
            let now = operating_status(s.0);
            reading.status = Some(reading.status.map_or(now, |before| worse(before, now)));
        }
        (Reads::Serial, _) => {}
        (Reads::Relay, ReadValue::Relay(connected)) => reading.relay_connected = Some(*connected),
        (Reads::Short(c), ReadValue::RelayReason(r)) if c.0 == RELAY_REASON_CODE => {
            reading.relay_reason = Some(*r)
        }
        (Reads::Short(c), _) if Counter::from_short_code(c).is_some() => {
            let counter = Counter::from_short_code(c).unwrap_or(Counter::CoverOpen);
            let n = count(value).ok_or_else(|| format!("{value} is not a count"))?;
            reading.counters.insert(counter, n);
        }
        (Reads::Short(c), ReadValue::NoEvent) if event_counter(c).is_some() => {}
        (Reads::Short(c), ReadValue::Timestamp(t)) if event_counter(c).is_some() => {
            let counter = event_counter(c).unwrap_or(Counter::CoverOpen);
            let ms = unix_ms(t).ok_or_else(|| format!("event time {t} is not a full date"))?;
            reading.event_times.entry(counter).or_default().push(ms);
        }
        (Reads::Short(c), v) if ENERGY_CODES.contains(&c.0) => {
            let v = reading_value(v).ok_or_else(|| format!("{v} is not a number"))?;
            reading.values.insert(c.0, v);
        }
        (_, v) => return Err(format!("unexpected value {v}")),
    }
    Ok(())
}

/// The operating status as the engine knows it (1000 + sub-code).
// Design: the profile reads the status object as "1000 + code-87 sub-code", but a
// meter may well hold the bare sub-code (0..=25) there, as the code-87 object does. A
// value in 0..=25 is taken as that sub-code (0 -> 1000 normal, 5 -> 1005): no other
// reading of such a small number makes sense, and taking it raw would report every
// healthy meter as an unknown code. Anything else is kept raw, so an odd value is seen
// (as an unknown code) rather than hidden.
pub fn operating_status(raw: u32) -> OperatingStatus {
    if raw <= u32::from(MAX_SUB_CODE) {
        OperatingStatus::from_sub_code(raw)
    } else {
        OperatingStatus(raw)
    }
}

/// The counter whose event time this short code is.
fn event_counter(code: ShortCode) -> Option<Counter> {
    Counter::ALL
        .into_iter()
        .find(|c| c.event_time_codes().contains(&code))
}

fn count(value: &ReadValue) -> Option<u64> {
    match value {
        ReadValue::Count(n) | ReadValue::Number(n) => u64::try_from(*n).ok(),
        ReadValue::Quantity(q) if q.scaler >= 0 => {
            let factor = 10i128.checked_pow(u32::from(q.scaler.unsigned_abs()))?;
            u64::try_from(q.mantissa.checked_mul(factor)?).ok()
        }
        _ => None,
    }
}

fn unit_text(unit: Unit) -> String {
    match (unit, unit.symbol()) {
        (_, Some(s)) => s.to_owned(),
        (Unit::Count, None) => String::new(),
        (u, None) => u.to_string(),
    }
}

/// A measured value, exactly where the meter gave it exactly.
pub fn reading_value(value: &ReadValue) -> Option<ReadingValue> {
    Some(match value {
        ReadValue::Quantity(q) => decimal(q),
        ReadValue::Number(n) | ReadValue::Count(n) => match i64::try_from(*n) {
            Ok(m) => ReadingValue::Decimal {
                mantissa: m,
                exponent: 0,
                unit: String::new(),
            },
            Err(_) => ReadingValue::Float {
                value: *n as f64,
                unit: String::new(),
            },
        },
        ReadValue::Float { value, unit } => ReadingValue::Float {
            value: *value,
            unit: unit_text(*unit),
        },
        _ => return None,
    })
}

fn decimal(q: &Quantity) -> ReadingValue {
    match i64::try_from(q.mantissa) {
        Ok(mantissa) => ReadingValue::Decimal {
            mantissa,
            exponent: q.scaler,
            unit: unit_text(q.unit),
        },
        // A mantissa past 64 bits cannot be stored exactly; keep its magnitude.
        Err(_) => ReadingValue::Float {
            value: q.mantissa as f64 * 10f64.powi(i32::from(q.scaler)),
            unit: unit_text(q.unit),
        },
    }
}

/// A COSEM date-time as unix milliseconds (UTC), or `None` when a field that fixes the
/// instant is not specified or out of range.
// Design: the meter's deviation places its local time; a clock that does not state
// one is taken to run on UTC (what a gateway without a site time zone can assume).
pub fn unix_ms(t: &DateTime) -> Option<i64> {
    let (d, tm) = (t.date, t.time);
    if !(1..=12).contains(&d.month)
        || !(1..=31).contains(&d.day_of_month)
        || d.year == 0xFFFF
        || tm.hour > 23
        || tm.minute > 59
        || tm.second > 59
    {
        return None;
    }
    let hundredths = if tm.hundredths <= 99 {
        i64::from(tm.hundredths)
    } else {
        0
    };
    let days = days_from_civil(
        i64::from(d.year),
        u32::from(d.month),
        u32::from(d.day_of_month),
    );
    let local_ms = ((days * 24 + i64::from(tm.hour)) * 60 + i64::from(tm.minute)) * 60_000
        + i64::from(tm.second) * 1000
        + hundredths * 10;
    let offset_min = i64::from(t.utc_offset_minutes().unwrap_or(0));
    Some(local_ms - offset_min * 60_000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
