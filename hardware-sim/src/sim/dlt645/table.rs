//! Which DL/T 645 identifiers a simulated meter answers, and with what: the catalogue's
//! identifiers, filled from [`Readings`].
//!
//! Answered: every catalogue identifier that names a short code the meter has (energy,
//! power, power factor, counters, event record times), date, time, the address and meter
//! number, and the Calin identifiers: `C1 11` status word from the operating status and
//! the relay (1015 magnetic, 1006 terminal cover, 1005 and 1014 cover, 1013 current
//! reverse, 1016 imbalance, relay open), `EF F5` running status = the code-87 relay
//! reason, `E4 21` credit (`[meter.dlt645] credit`) and relay. Anything else (terminal
//! cover, over-current and relay trip counts, which the meter model does not keep) gets
//! the abnormal reply "no requested data". Byte layouts are the protocol crate's.

use crate::codes::OperatingStatus;
use crate::protocol::dlt645::calin::{
    CreditRelay, RelayState, RunningStatus, StatusBit, StatusWord,
};
use crate::protocol::dlt645::catalog::{self, CatalogEntry};
use crate::protocol::dlt645::{
    Address, DataId, DataSource, Decimal, MeterDate, MeterDateTime, MeterTime, Value, ValueFormat,
};
use crate::sim::readings::{Readings, Scaled, ENERGY, POWER, POWER_FACTOR};
use crate::sim::time::LocalTime;

/// Status 1014 (meter enclosure opened) also sets the cover bit.
const ENCLOSURE_STATUS: u32 = 1014;

/// One meter's answers at one moment.
#[derive(Debug, Clone)]
pub struct MeterTable {
    pub readings: Readings,
    pub address: Address,
    pub credit: Decimal,
}

impl DataSource for MeterTable {
    fn value(&self, di: DataId) -> Option<Vec<u8>> {
        let entry = catalog::lookup(di)?;
        let value = self.value_of(entry)?;
        entry.format.encode(&value).ok()
    }
}

impl MeterTable {
    fn value_of(&self, e: &CatalogEntry) -> Option<Value> {
        let r = &self.readings;
        Some(match e.format {
            ValueFormat::Bcd { decimals, .. } => {
                let code = e.short_code?;
                let n = match code {
                    ENERGY => r.energy_kwh?,
                    POWER => r.power_kw?,
                    POWER_FACTOR => r.power_factor?,
                    other => Scaled {
                        mantissa: r.count(other)?,
                        exp: 0,
                    },
                };
                let v = i64::try_from(n.fixed(u32::from(decimals))?).ok()?;
                Value::Number(Decimal::new(v, decimals))
            }
            ValueFormat::Date => Value::Date(date(r.clock)),
            ValueFormat::Time => Value::Time(time(r.clock)),
            ValueFormat::DateTime => Value::DateTime(date_time(r.clock)),
            ValueFormat::RecordStart { .. } => {
                let code = e.short_code?;
                let recorded = r.event_times.get(&code)?;
                Value::EventTime(recorded.map(date_time))
            }
            ValueFormat::Address => Value::Address(self.address),
            ValueFormat::CalinCreditRelay => Value::CreditRelay(CreditRelay {
                credit: self.credit,
                relay: relay(r),
            }),
            ValueFormat::CalinRunningStatus => Value::RunningStatus(RunningStatus {
                sub_code: u8::try_from(r.relay_reason?).ok()?,
            }),
            ValueFormat::CalinStatusWord => Value::Status(status_word(r)),
        })
    }
}

fn relay(r: &Readings) -> RelayState {
    match r.relay_connected {
        Some(false) => RelayState::Open,
        _ => RelayState::Closed,
    }
}

/// The `C1 11` bits of the operating status and the relay.
pub fn status_word(r: &Readings) -> StatusWord {
    let mut bits: Vec<StatusBit> = Vec::new();
    if let Some(status) = r.status {
        let status = if status == ENCLOSURE_STATUS {
            OperatingStatus::from_sub_code(5)
        } else {
            OperatingStatus(status)
        };
        bits.extend(
            StatusBit::ALL
                .into_iter()
                .filter(|b| b.operating_status() == Some(status)),
        );
    }
    if relay(r) == RelayState::Open {
        bits.push(StatusBit::RelayOpen);
    }
    StatusWord::from_bits(&bits)
}

fn date(t: LocalTime) -> MeterDate {
    let dt = t.to_date_time();
    MeterDate {
        year: (dt.date.year % 100) as u8,
        month: dt.date.month,
        day: dt.date.day_of_month,
        // COSEM counts Monday as 1 .. Sunday as 7; DL/T 645 Sunday as 0.
        weekday: dt.date.day_of_week % 7,
    }
}

fn time(t: LocalTime) -> MeterTime {
    let dt = t.to_date_time();
    MeterTime {
        hour: dt.time.hour,
        minute: dt.time.minute,
        second: dt.time.second,
    }
}

fn date_time(t: LocalTime) -> MeterDateTime {
    let (d, h) = (date(t), time(t));
    MeterDateTime {
        year: d.year,
        month: d.month,
        day: d.day,
        hour: h.hour,
        minute: h.minute,
        second: h.second,
    }
}
