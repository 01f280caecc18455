//! What a simulated meter reads out on its optical port: the data sets of the mode C
//! readout (and of R1 in programming mode), built from [`Readings`] at sign-on, and the
//! [`MeterConfig`] its IEC 62056-21 session runs with.
//!
//! The identifiers are our choice: Calin publishes no readout list. A reading the
//! profile places in an object is read out under that object's EDIS short form, the same
//! rule the agent's readout table (`[[readout]]` of `config/profiles/calin.toml`) follows: OBIS
//! `1-0:C.D.E` is `C.D.E`, `0-0:96.D.E` is `C.D.E` (EDIS `C` stands for 96), anything else
//! keeps its full `A-B:C.D.E`. The relay reason, which has no standard object, is `C.87.0`
//! (the agent's guess too), event times `C.<short code>.0`. A reading the meter does not
//! have is left out. With the built-in Calin profile:
//!
//! | ID           | value                                            | source            |
//! |--------------|--------------------------------------------------|-------------------|
//! | `0.0.0`      | device address (what a sign-on names)            | `[meter.optical] address` |
//! | `C.1.0`      | serial number                                    | `serial`          |
//! | `0.2.0`      | firmware version                                 | `firmware`        |
//! | `0.9.1`      | time `hh:mm:ss`                                  | meter clock       |
//! | `0.9.2`      | date `YY-MM-DD`                                  | meter clock       |
//! | `1.8.0`      | active energy import, total, `kWh`, 3 decimals   | code 01           |
//! | `1.7.0`      | active power import, `kW`, 3 decimals (0 while exporting) | code 31  |
//! | `16.7.0`     | active power, net (signed), `kW`, 3 decimals     | code 31           |
//! | `13.7.0`     | power factor, 3 decimals                         | code 35           |
//! | `0-0:17.0.0` | limiter threshold, `kW`, 3 decimals              | code 14           |
//! | `C.5.0`      | operating status, 1000..1025                     | status            |
//! | `C.3.10`     | relay: 1 connected, 0 disconnected               | disconnect control|
//! | `C.87.0`     | relay disconnect reason (code-87 sub-code)       | code 87           |
//! | `C.20.0`     | meter cover open count                           | code 40           |
//! | `C.128.46`   | overload trip count                              | code 46           |
//! | `C.7.0`      | power down count (EDIS: number of power failures)| code 52           |
//! | `C.128.58`   | phase down count                                 | code 58           |
//! | `C.NN.0`     | event time `YY-MM-DD hh:mm:ss`, NN = 41-45, 47-51, 53-57, when recorded | event logs |
//! | `F.F`        | fatal error register, `00000000`                 | always 0          |

use crate::codes::ShortCode;
use crate::profile::{Profile, Reads};
use crate::protocol::iec62056_21::{DataId, DataSet, MeterConfig, Value};
use crate::protocol::obis::ObisCode;
use crate::sim::readings::{Readings, Scaled, ENERGY, LIMITER, POWER, POWER_FACTOR};
use crate::sim::scenario::OpticalSpec;
use crate::sim::time::LocalTime;

const DECIMALS: u32 = 3;
/// EDIS writes value group C = 96 as `C`.
const EDIS_C: u8 = 96;

/// The EDIS short form of an OBIS code; see the module documentation.
pub fn edis(obis: ObisCode) -> String {
    match obis.0 {
        [1, 0, c, d, e, _] => format!("{c}.{d}.{e}"),
        [0, 0, EDIS_C, d, e, _] => format!("C.{d}.{e}"),
        [a, b, c, d, e, _] => format!("{a}-{b}:{c}.{d}.{e}"),
    }
}

/// The id a reading is read out under: its object's EDIS short form, or `fallback`
/// when the profile places it nowhere.
fn id_of(profile: &Profile, reads: Reads, fallback: &str) -> String {
    profile
        .object(reads)
        .map_or_else(|| fallback.to_owned(), |o| edis(o.target.obis))
}

/// The readout's data sets, in the order of the table above.
pub fn data_sets(spec: &OpticalSpec, r: &Readings, profile: &Profile) -> Vec<DataSet> {
    let id = |reads: Reads, fallback: &str| id_of(profile, reads, fallback);
    let code = |c: ShortCode, fallback: &str| id_of(profile, Reads::Short(c), fallback);
    let mut out = Vec::new();
    let dt = r.clock.to_date_time();
    let (date, time) = (dt.date, dt.time);
    push(&mut out, "0.0.0", spec.address.as_str(), None);
    push(&mut out, &id(Reads::Serial, "C.1.0"), &r.serial, None);
    push(&mut out, &id(Reads::Firmware, "0.2.0"), &r.firmware, None);
    let hms = format!("{:02}:{:02}:{:02}", time.hour, time.minute, time.second);
    push(&mut out, "0.9.1", &hms, None);
    let ymd = format!(
        "{:02}-{:02}-{:02}",
        date.year % 100,
        date.month,
        date.day_of_month
    );
    push(&mut out, "0.9.2", &ymd, None);
    number(
        &mut out,
        &code(ENERGY, "1.8.0"),
        r.energy_kwh,
        6,
        Some("kWh"),
    );
    let import = r.power_kw.map(|p| Scaled {
        mantissa: p.mantissa.max(0),
        ..p
    });
    number(&mut out, &code(POWER, "1.7.0"), import, 2, Some("kW"));
    number(&mut out, "16.7.0", r.power_kw, 2, Some("kW"));
    number(
        &mut out,
        &code(POWER_FACTOR, "13.7.0"),
        r.power_factor,
        1,
        None,
    );
    number(
        &mut out,
        &code(LIMITER, "0-0:17.0.0"),
        r.limiter_kw,
        2,
        Some("kW"),
    );
    if let Some(s) = r.status {
        push(&mut out, &id(Reads::Status, "C.5.0"), &s.to_string(), None);
    }
    if let Some(on) = r.relay_connected {
        let relay = id(Reads::Relay, &id(Reads::RelayControl, "C.3.10"));
        push(&mut out, &relay, if on { "1" } else { "0" }, None);
    }
    if let Some(reason) = r.relay_reason {
        push(&mut out, "C.87.0", &reason.to_string(), None);
    }
    for (c, count) in &r.counts {
        let fallback = format!("C.{}.0", c.0);
        push(&mut out, &code(*c, &fallback), &count.to_string(), None);
    }
    for (c, time) in &r.event_times {
        if let Some(t) = time {
            push(&mut out, &format!("C.{}.0", c.0), &stamp(*t), None);
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
