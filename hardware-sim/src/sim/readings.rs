//! A meter's state as its other ports report it: one snapshot of the values the optical
//! readout and DL/T 645 serve, taken from the very objects DLMS serves, so a scripted
//! change or a handle call shows up in every protocol alike.
//!
//! Sans-IO and protocol-free: values are exact decimals in the units the field uses
//! (kWh, kW), times are the meter's local clock. The optical and DL/T 645 modules format them.

use core::time::Duration;
use std::collections::BTreeMap;

use crate::codes::{ShortCode, ValueKind};
use crate::profile::Reads;
use crate::protocol::axdr::{Data, DateTime};
use crate::protocol::units::Unit;

use super::cosem::CosemObject;
use super::meter::SimMeter;
use super::time::LocalTime;

pub const ENERGY: ShortCode = ShortCode(1);
pub const LIMITER: ShortCode = ShortCode(14);
pub const POWER: ShortCode = ShortCode(31);
pub const POWER_FACTOR: ShortCode = ShortCode(35);
pub const RELAY_REASON: ShortCode = ShortCode(87);

/// An exact number: `mantissa × 10^exp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scaled {
    pub mantissa: i128,
    pub exp: i32,
}

impl Scaled {
    /// In units of `10^-decimals`, rounded half away from zero; `None` on overflow.
    pub fn fixed(self, decimals: u32) -> Option<i128> {
        let shift = self.exp.checked_add(i32::try_from(decimals).ok()?)?;
        if shift >= 0 {
            let factor = 10i128.checked_pow(u32::try_from(shift).ok()?)?;
            return self.mantissa.checked_mul(factor);
        }
        let factor = 10i128.checked_pow(shift.unsigned_abs())?;
        let (q, r) = (self.mantissa / factor, self.mantissa % factor);
        Some(if 2 * r.abs() >= factor {
            q + self.mantissa.signum()
        } else {
            q
        })
    }

    /// `12.340` for 12.34 with 3 decimals; at least `int_digits` integer digits,
    /// zero-padded ("001234.567").
    pub fn text(self, decimals: u32, int_digits: usize) -> Option<String> {
        let v = self.fixed(decimals)?;
        let digits = v.unsigned_abs().to_string();
        let d = usize::try_from(decimals).ok()?;
        let padded = format!("{digits:0>width$}", width = d + int_digits.max(1));
        let (int, frac) = padded.split_at(padded.len() - d);
        let sign = if v < 0 { "-" } else { "" };
        Some(if d == 0 {
            format!("{sign}{int}")
        } else {
            format!("{sign}{int}.{frac}")
        })
    }
}

/// Everything the optical readout and DL/T 645 answers are made of, at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Readings {
    pub serial: String,
    pub firmware: String,
    /// The meter's clock.
    pub clock: LocalTime,
    /// Active energy import, total, in kWh.
    pub energy_kwh: Option<Scaled>,
    /// Active power, total, in kW (negative: export).
    pub power_kw: Option<Scaled>,
    pub power_factor: Option<Scaled>,
    /// The limiter threshold, in kW.
    pub limiter_kw: Option<Scaled>,
    /// Operating status (1000 + code-87 sub-code).
    pub status: Option<u32>,
    /// The supply is on.
    pub relay_connected: Option<bool>,
    /// Code 87: the relay disconnect reason sub-code.
    pub relay_reason: Option<i128>,
    /// Counters (40, 46, 52, 58) as the meter holds them.
    pub counts: BTreeMap<ShortCode, i128>,
    /// Event times (41-45, 47-51, 53-57), `None` when the log has no such event.
    pub event_times: BTreeMap<ShortCode, Option<LocalTime>>,
}

impl Readings {
    /// The meter at scenario time `t`.
    pub fn of(m: &SimMeter, t: Duration) -> Readings {
        let codes = m.profile().short_codes();
        let kind = |c: &ShortCode| c.entry().map(|e| e.kind);
        Readings {
            serial: m.spec.serial.clone(),
            firmware: m.spec.firmware.clone(),
            clock: m.clock(t),
            energy_kwh: scaled(m, ENERGY).map(|q| to_kilo(q, Unit::WattHour)),
            power_kw: scaled(m, POWER).map(|q| to_kilo(q, Unit::Watt)),
            power_factor: scaled(m, POWER_FACTOR).map(|(s, _)| s),
            limiter_kw: limiter(m),
            status: integer(m, Reads::Status).and_then(|v| u32::try_from(v).ok()),
            relay_connected: relay_connected(m),
            relay_reason: integer(m, Reads::Short(RELAY_REASON)),
            counts: codes
                .iter()
                .filter(|c| kind(c) == Some(ValueKind::Count))
                .filter_map(|c| Some((*c, integer(m, Reads::Short(*c))?)))
                .collect(),
            event_times: codes
                .iter()
                .filter(|c| kind(c) == Some(ValueKind::Timestamp))
                .map(|c| (*c, event_time(m, *c)))
                .collect(),
        }
    }

    pub fn count(&self, code: ShortCode) -> Option<i128> {
        self.counts.get(&code).copied()
    }

    pub fn event_time(&self, code: ShortCode) -> Option<LocalTime> {
        self.event_times.get(&code).copied().flatten()
    }
}

fn integer(m: &SimMeter, reads: Reads) -> Option<i128> {
    m.reading(reads)?.as_integer()
}

/// A short code's value with its register's scaler and unit (plain data: scaler 0).
fn scaled(m: &SimMeter, code: ShortCode) -> Option<(Scaled, Unit)> {
    let raw = integer(m, Reads::Short(code))?;
    let target = m.profile().object(Reads::Short(code))?.target;
    let (scaler, unit) = match m.objects.object(&target.obis) {
        Some(CosemObject::Register { scaler_unit, .. })
        | Some(CosemObject::ExtendedRegister { scaler_unit, .. }) => {
            (scaler_unit.scaler, scaler_unit.unit)
        }
        _ => (0, Unit::Count),
    };
    Some((
        Scaled {
            mantissa: raw,
            exp: i32::from(scaler),
        },
        unit,
    ))
}

/// Wh to kWh, W to kW; a value in any other unit is taken as already in kilo units.
fn to_kilo((s, unit): (Scaled, Unit), base: Unit) -> Scaled {
    if unit == base {
        Scaled {
            exp: s.exp - 3,
            ..s
        }
    } else {
        s
    }
}

/// Code 14 is in the unit and scaler of the power register (31).
fn limiter(m: &SimMeter) -> Option<Scaled> {
    let raw = integer(m, Reads::Short(LIMITER))?;
    let (power, unit) = scaled(m, POWER).unwrap_or((
        Scaled {
            mantissa: 0,
            exp: 0,
        },
        Unit::Watt,
    ));
    let threshold = Scaled {
        mantissa: raw,
        exp: power.exp,
    };
    Some(to_kilo((threshold, unit), Unit::Watt))
}

fn relay_connected(m: &SimMeter) -> Option<bool> {
    match m.reading(Reads::Relay) {
        Some(Data::Boolean(on)) => Some(on),
        _ => match m.reading(Reads::RelayControl)? {
            Data::Enum(state) => Some(state == 1),
            _ => None,
        },
    }
}

/// The nth most recent event of the kinds the profile counts for `code`.
fn event_time(m: &SimMeter, code: ShortCode) -> Option<LocalTime> {
    let entry = m.profile().event(code)?;
    let Some(CosemObject::ProfileGeneric(pg)) = m.objects.object(&entry.log) else {
        return None;
    };
    let nth = usize::from(entry.nth.max(1));
    let row = pg
        .buffer
        .iter()
        .rev()
        .filter(|row| {
            row.get(1)
                .and_then(Data::as_integer)
                .and_then(|c| u16::try_from(c).ok())
                .is_some_and(|c| entry.events.contains(&c))
        })
        .nth(nth - 1)?;
    match row.first()? {
        Data::OctetString(bytes) => LocalTime::from_date_time(&DateTime::from_slice(bytes)?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(mantissa: i128, exp: i32) -> Scaled {
        Scaled { mantissa, exp }
    }

    #[test]
    fn fixed_rounds_half_away_from_zero() {
        assert_eq!(s(1_234_567, -3).fixed(2), Some(123_457));
        assert_eq!(s(-1_234_565, -3).fixed(2), Some(-123_457));
        assert_eq!(s(1_234_564, -3).fixed(2), Some(123_456));
        assert_eq!(s(12, 2).fixed(1), Some(12_000));
        assert_eq!(s(i128::MAX, 5).fixed(3), None);
    }

    #[test]
    fn text_pads_and_keeps_the_decimals() {
        assert_eq!(s(1_234_567, -3).text(3, 6).as_deref(), Some("001234.567"));
        assert_eq!(s(950, -3).text(3, 1).as_deref(), Some("0.950"));
        assert_eq!(s(-1820, -3).text(3, 2).as_deref(), Some("-01.820"));
        assert_eq!(s(7, 0).text(0, 1).as_deref(), Some("7"));
        assert_eq!(s(5, -4).text(2, 1).as_deref(), Some("0.00"));
    }
}
