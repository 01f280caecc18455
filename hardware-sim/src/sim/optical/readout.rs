//! What a simulated meter reads out on its optical port: the data sets of the mode C
//! readout (and of R1 in programming mode), built from [`Readings`] at sign-on, and the
//! [`MeterConfig`] its IEC 62056-21 session runs with.
//!
//! The identifiers are our choice: Calin publishes no readout list. They follow the EDIS
//! value groups `C.D.E` where one exists and use `C.<short code>.0` for Calin short codes
//! that have none. A reading the meter does not have is left out.
//!
//! | ID        | value                                            | source            |
//! |-----------|--------------------------------------------------|-------------------|
//! | `0.0.0`   | device address (what a sign-on names)            | `[meter.optical] address` |
//! | `C.1.0`   | serial number                                    | `serial`          |
//! | `0.2.0`   | firmware version                                 | `firmware`        |
//! | `0.9.1`   | time `hh:mm:ss`                                  | meter clock       |
//! | `0.9.2`   | date `YY-MM-DD`                                  | meter clock       |
//! | `1.8.0`   | active energy import, total, `kWh`, 3 decimals   | code 01           |
//! | `1.7.0`   | active power import, `kW`, 3 decimals (0 while exporting) | code 31  |
//! | `16.7.0`  | active power, net (signed), `kW`, 3 decimals      | code 31           |
//! | `13.7.0`  | power factor, 3 decimals                         | code 35           |
//! | `C.14.0`  | limiter threshold, `kW`, 3 decimals              | code 14           |
//! | `C.5.0`   | operating status, 1000..1025                     | status            |
//! | `96.3.10` | relay: 1 connected, 0 disconnected               | disconnect control|
//! | `C.87.0`  | relay disconnect reason (code-87 sub-code)       | code 87           |
//! | `C.40.0`  | meter cover open count                           | code 40           |
//! | `C.46.0`  | overload trip count                              | code 46           |
//! | `C.7.0`   | power down count (EDIS: number of power failures)| code 52           |
//! | `C.58.0`  | phase down count                                 | code 58           |
//! | `C.NN.0`  | event time `YY-MM-DD hh:mm:ss`, NN = 41-45, 47-51, 53-57, when recorded | event logs |
//! | `F.F`     | fatal error register, `00000000`                 | always 0          |

use crate::codes::ShortCode;
use crate::protocol::iec62056_21::{DataId, DataSet, MeterConfig, Value};
use crate::sim::readings::{Readings, Scaled};
use crate::sim::scenario::OpticalSpec;
use crate::sim::time::LocalTime;

/// Counters with a standard EDIS identifier; the others are `C.<code>.0`.
const POWER_DOWN_COUNT: ShortCode = ShortCode(52);
const DECIMALS: u32 = 3;

/// The readout's data sets, in the order of the table above.
pub fn data_sets(spec: &OpticalSpec, r: &Readings) -> Vec<DataSet> {
    let mut out = Vec::new();
    let dt = r.clock.to_date_time();
    let (date, time) = (dt.date, dt.time);
    push(&mut out, "0.0.0", spec.address.as_str(), None);
    push(&mut out, "C.1.0", &r.serial, None);
    push(&mut out, "0.2.0", &r.firmware, None);
    let hms = format!("{:02}:{:02}:{:02}", time.hour, time.minute, time.second);
    push(&mut out, "0.9.1", &hms, None);
    let ymd = format!(
        "{:02}-{:02}-{:02}",
        date.year % 100,
        date.month,
        date.day_of_month
    );
    push(&mut out, "0.9.2", &ymd, None);
    number(&mut out, "1.8.0", r.energy_kwh, 6, Some("kWh"));
    let import = r.power_kw.map(|p| Scaled {
        mantissa: p.mantissa.max(0),
        ..p
    });
    number(&mut out, "1.7.0", import, 2, Some("kW"));
    number(&mut out, "16.7.0", r.power_kw, 2, Some("kW"));
    number(&mut out, "13.7.0", r.power_factor, 1, None);
    number(&mut out, "C.14.0", r.limiter_kw, 2, Some("kW"));
    if let Some(s) = r.status {
        push(&mut out, "C.5.0", &s.to_string(), None);
    }
    if let Some(on) = r.relay_connected {
        push(&mut out, "96.3.10", if on { "1" } else { "0" }, None);
    }
    if let Some(reason) = r.relay_reason {
        push(&mut out, "C.87.0", &reason.to_string(), None);
    }
    for (code, count) in &r.counts {
        let id = if *code == POWER_DOWN_COUNT {
            "C.7.0".to_owned()
        } else {
            format!("C.{}.0", code.0)
        };
        push(&mut out, &id, &count.to_string(), None);
    }
    for (code, time) in &r.event_times {
        if let Some(t) = time {
            push(&mut out, &format!("C.{}.0", code.0), &stamp(*t), None);
        }
    }
    push(&mut out, "F.F", "00000000", None);
    out
}

/// The session settings of a meter's optical port, with its readout.
pub fn meter_config(spec: &OpticalSpec, serial: &str, data_sets: Vec<DataSet>) -> MeterConfig {
    let mut cfg = MeterConfig::new(spec.identification.clone(), data_sets);
    cfg.address = Some(spec.address.clone());
    cfg.password = spec.password.clone();
    // P0 carries the serial number, as many meters do; the address when the serial
    // cannot be sent.
    cfg.password_operand = Value::new(serial, None)
        .or_else(|_| Value::new(spec.address.as_str(), None))
        .unwrap_or(cfg.password_operand);
    cfg.reaction_time = spec.reaction_time;
    cfg.min_client_reaction = spec.identification.manufacturer().min_reaction_time();
    cfg
}

fn stamp(t: LocalTime) -> String {
    let dt = t.to_date_time();
    format!(
        "{:02}-{:02}-{:02} {:02}:{:02}:{:02}",
        dt.date.year % 100,
        dt.date.month,
        dt.date.day_of_month,
        dt.time.hour,
        dt.time.minute,
        dt.time.second
    )
}

fn number(
    out: &mut Vec<DataSet>,
    id: &str,
    v: Option<Scaled>,
    int_digits: usize,
    unit: Option<&str>,
) {
    if let Some(text) = v.and_then(|v| v.text(DECIMALS, int_digits)) {
        push(out, id, &text, unit);
    }
}

/// Adds a set; text a data set cannot carry (a firmware name with a parenthesis) is
/// left out rather than sent broken.
fn push(out: &mut Vec<DataSet>, id: &str, value: &str, unit: Option<&str>) {
    let (Ok(id), Ok(value)) = (DataId::new(id), Value::new(value, unit)) else {
        tracing::warn!(id, "value cannot go into an optical readout; left out");
        return;
    };
    out.push(DataSet::single(id, value));
}
