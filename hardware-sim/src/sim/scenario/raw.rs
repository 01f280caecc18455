//! The scenario file as written (serde, `deny_unknown_fields`) and its validation into
//! [`Scenario`], with the line of every mistake.

use core::time::Duration;
use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::{
    Change, CodeValue, EventLogSpec, EventRecord, IntType, MeterSpec, NewEvent, Password,
    PublicReads, RelayState, Scenario, ScenarioError,
};
use crate::codes::{ShortCode, ValueKind, MAX_SUB_CODE};
use crate::profile::{Profile, Reads};
use crate::protocol::hdlc::address::AddressSize;
use crate::protocol::hdlc::HdlcAddress;
use crate::protocol::obis::ObisCode;
use crate::protocol::units::{ScalerUnit, Unit};
use crate::sim::fault::{FaultKind, FaultSpec, Trigger};
use crate::sim::time::LocalTime;

const DEFAULT_START: &str = "2024-05-01T08:00:00Z";
const DEFAULT_MAX_PDU: u16 = 512;
const DEFAULT_MAX_INFO: u16 = 128;
const DEFAULT_INACTIVITY_SECS: u64 = 120;
const DEFAULT_CONTROL_MODE: u8 = 1;
/// Lowest physical address a station may use (0x00..=0x0F are reserved, IEC 62056-46 6.4.2.2).
const MIN_PHYSICAL: u16 = 0x10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScenario {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    start: Option<Spanned<String>>,
    #[serde(default)]
    meter: Vec<Spanned<RawMeter>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeter {
    #[serde(default)]
    name: Option<Spanned<String>>,
    physical: Spanned<u16>,
    #[serde(default)]
    logical: Option<Spanned<u16>>,
    #[serde(default)]
    address_size: Option<Spanned<u8>>,
    serial: Spanned<String>,
    #[serde(default)]
    device_name: Option<Spanned<String>>,
    #[serde(default)]
    firmware: Option<String>,
    #[serde(default)]
    password: Option<Spanned<String>>,
    #[serde(default)]
    public_reads: Option<Spanned<String>>,
    #[serde(default)]
    max_pdu: Option<Spanned<u16>>,
    #[serde(default)]
    max_info: Option<Spanned<u16>>,
    #[serde(default)]
    inactivity_timeout: Option<u64>,
    #[serde(default)]
    status: Option<Spanned<u32>>,
    #[serde(default)]
    relay: Option<Spanned<String>>,
    #[serde(default)]
    control_mode: Option<Spanned<u8>>,
    #[serde(default)]
    offline: bool,
    #[serde(default)]
    codes: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    events: Vec<RawEventLog>,
    #[serde(default)]
    change: Vec<RawChange>,
    #[serde(default)]
    fault: Vec<RawFault>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEventLog {
    log: Spanned<String>,
    #[serde(default)]
    entries: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    time: Spanned<String>,
    code: u16,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChange {
    at: Spanned<f64>,
    #[serde(default)]
    status: Option<Spanned<u32>>,
    #[serde(default)]
    set: BTreeMap<Spanned<String>, Spanned<i64>>,
    #[serde(default)]
    add: BTreeMap<Spanned<String>, Spanned<i64>>,
    #[serde(default)]
    relay: Option<Spanned<String>>,
    #[serde(default)]
    events: Vec<RawNewEvent>,
    #[serde(default)]
    offline: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNewEvent {
    log: Spanned<String>,
    code: u16,
    #[serde(default)]
    time: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFault {
    kind: Spanned<String>,
    #[serde(default)]
    nth: Option<Spanned<u64>>,
    #[serde(default)]
    from: Option<Spanned<f64>>,
    #[serde(default)]
    until: Option<Spanned<f64>>,
    #[serde(default)]
    probability: Option<Spanned<f64>>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    times: Option<Spanned<u64>>,
    #[serde(default)]
    delay_ms: Option<Spanned<u64>>,
    #[serde(default)]
    count: Option<Spanned<usize>>,
    #[serde(default)]
    bit: Option<Spanned<usize>>,
    #[serde(default)]
    physical: Option<Spanned<u16>>,
}

/// Validation context: where errors point.
struct Ctx<'a> {
    source: &'a str,
    text: &'a str,
    profile: &'a Profile,
}

impl Ctx<'_> {
    fn err<T>(
        &self,
        at: &Spanned<T>,
        key: impl Into<String>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.source, self.text, at.span(), key, msg)
    }
}

pub(super) fn parse(
    source: &str,
    text: &str,
    profile: &Profile,
) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario =
        toml::from_str(text).map_err(|e| ScenarioError::from_toml(source, text, &e))?;
    let cx = Ctx {
        source,
        text,
        profile,
    };
    let start = match &raw.start {
        Some(s) => LocalTime::parse(s.get_ref()).map_err(|m| cx.err(s, "start", m))?,
        None => LocalTime::parse(DEFAULT_START).map_err(|m| ScenarioError::Invalid {
            source: source.to_owned(),
            line: 0,
            column: 0,
            key: Some("start".into()),
            message: m,
        })?,
    };
    if raw.meter.is_empty() {
        return Err(ScenarioError::at(
            source,
            text,
            0..0,
            "meter",
            "a scenario needs at least one [[meter]]",
        ));
    }
    let mut meters: Vec<MeterSpec> = Vec::new();
    for (i, m) in raw.meter.iter().enumerate() {
        let key = format!("meter[{i}]");
        let spec = meter(&cx, m.get_ref(), &key)?;
        if meters
            .iter()
            .any(|o| o.address.lower() == spec.address.lower())
        {
            return Err(cx.err(
                &m.get_ref().physical,
                format!("{key}.physical"),
                format!(
                    "physical address {} is used twice: each meter on a line needs its own",
                    m.get_ref().physical.get_ref()
                ),
            ));
        }
        if meters.iter().any(|o| o.name == spec.name) {
            return Err(cx.err(
                m,
                format!("{key}.name"),
                format!("meter name `{}` is used twice", spec.name),
            ));
        }
        meters.push(spec);
    }
    Ok(Scenario {
        description: raw.description,
        start,
        meters,
    })
}

fn meter(cx: &Ctx<'_>, m: &RawMeter, key: &str) -> Result<MeterSpec, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let serial = m.serial.get_ref().trim().to_owned();
    if serial.is_empty() {
        return Err(cx.err(&m.serial, k("serial"), "the serial number is empty"));
    }
    let address = address(cx, m, key)?;
    let password = m
        .password
        .as_ref()
        .map(|p| {
            if p.get_ref().is_empty() {
                Err(cx.err(
                    p,
                    k("password"),
                    "an empty password: leave the key out for no authentication",
                ))
            } else {
                Ok(Password::new(p.get_ref().as_bytes()))
            }
        })
        .transpose()?;
    let public_reads = match &m.public_reads {
        None if password.is_some() => PublicReads::Identity,
        None => PublicReads::All,
        Some(s) => match s.get_ref().as_str() {
            "all" => PublicReads::All,
            "identity" => PublicReads::Identity,
            other => {
                return Err(cx.err(
                    s,
                    k("public_reads"),
                    format!("`{other}`: use \"all\" or \"identity\""),
                ))
            }
        },
    };
    let max_pdu = bounded(cx, &m.max_pdu, &k("max_pdu"), DEFAULT_MAX_PDU, 64, u16::MAX)?;
    let max_info = bounded(cx, &m.max_info, &k("max_info"), DEFAULT_MAX_INFO, 32, 2030)?;
    let status = match &m.status {
        Some(s) if *s.get_ref() > u32::from(u16::MAX) => {
            return Err(cx.err(
                s,
                k("status"),
                "the operating status is served as long-unsigned: 0..65535",
            ))
        }
        Some(s) => *s.get_ref(),
        None => 1000,
    };
    let relay = match &m.relay {
        Some(s) => RelayState::parse(s.get_ref()).map_err(|e| cx.err(s, k("relay"), e))?,
        None => RelayState::Connected,
    };
    let control_mode = match &m.control_mode {
        Some(c) if *c.get_ref() > 6 => {
            return Err(cx.err(
                c,
                k("control_mode"),
                "control_mode is 0..6 (Blue Book class 70)",
            ))
        }
        Some(c) => *c.get_ref(),
        None => DEFAULT_CONTROL_MODE,
    };
    let codes = codes(cx, m, key)?;
    let event_logs = event_logs(cx, m, key)?;
    let mut changes = m
        .change
        .iter()
        .enumerate()
        .map(|(i, c)| change(cx, c, &format!("{key}.change[{i}]"), &codes))
        .collect::<Result<Vec<_>, _>>()?;
    changes.sort_by_key(|c| c.at);
    let faults = m
        .fault
        .iter()
        .enumerate()
        .map(|(i, f)| fault(cx, f, &format!("{key}.fault[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MeterSpec {
        name: m
            .name
            .as_ref()
            .map_or_else(|| serial.clone(), |n| n.get_ref().clone()),
        address,
        device_name: m
            .device_name
            .as_ref()
            .map_or_else(|| format!("CLN{serial}"), |d| d.get_ref().clone()),
        serial,
        firmware: m.firmware.clone().unwrap_or_else(|| "CALIN-SIM-1.0".into()),
        password,
        public_reads,
        max_pdu,
        max_info,
        inactivity_timeout: match m.inactivity_timeout {
            Some(0) => None,
            Some(s) => Some(Duration::from_secs(s)),
            None => Some(Duration::from_secs(DEFAULT_INACTIVITY_SECS)),
        },
        status,
        relay,
        control_mode,
        codes,
        event_logs,
        changes,
        faults,
        offline: m.offline,
    })
}

fn bounded(
    cx: &Ctx<'_>,
    v: &Option<Spanned<u16>>,
    key: &str,
    default: u16,
    min: u16,
    max: u16,
) -> Result<u16, ScenarioError> {
    match v {
        None => Ok(default),
        Some(s) if (min..=max).contains(s.get_ref()) => Ok(*s.get_ref()),
        Some(s) => Err(cx.err(s, key, format!("must be {min}..{max}"))),
    }
}

fn address(cx: &Ctx<'_>, m: &RawMeter, key: &str) -> Result<HdlcAddress, ScenarioError> {
    let physical = *m.physical.get_ref();
    let logical = m.logical.as_ref().map_or(1, |l| *l.get_ref());
    let size = match &m.address_size {
        None => None,
        Some(s) => match s.get_ref() {
            2 => Some(AddressSize::Two),
            4 => Some(AddressSize::Four),
            _ => {
                return Err(cx.err(
                    s,
                    format!("{key}.address_size"),
                    "a server address is 2 or 4 bytes",
                ))
            }
        },
    };
    // The highest two values of each size are the calling and all-station addresses.
    let max = match size {
        Some(AddressSize::Two) => 0x7D,
        _ => 0x3FFD,
    };
    if !(MIN_PHYSICAL..=max).contains(&physical) {
        return Err(cx.err(
            &m.physical,
            format!("{key}.physical"),
            format!("physical address {physical} is outside {MIN_PHYSICAL}..{max}"),
        ));
    }
    if logical == 0 || logical > max {
        let at = m.logical.as_ref().map_or(&m.physical, |l| l);
        return Err(cx.err(
            at,
            format!("{key}.logical"),
            format!("logical address must be 1..{max}"),
        ));
    }
    let built = match size {
        Some(size) => HdlcAddress::server_sized(logical, Some(physical), size),
        None => HdlcAddress::server(logical, Some(physical)),
    };
    built.map_err(|e| cx.err(&m.physical, format!("{key}.physical"), e.to_string()))
}

/// Default value of a short code, by what it measures and the class that serves it.
fn default_code(kind: ValueKind, class_id: u16) -> CodeValue {
    let register = matches!(class_id, 3 | 4);
    let (value, data_type, scaler, unit) = match kind {
        ValueKind::Energy => (0, IntType::DoubleLongUnsigned, 0, Unit::WattHour),
        ValueKind::Power if class_id == 71 => (0, IntType::DoubleLongUnsigned, 0, Unit::Watt),
        ValueKind::Power => (0, IntType::DoubleLong, 0, Unit::Watt),
        ValueKind::PowerFactor => (1000, IntType::Long, -3, Unit::Count),
        ValueKind::Count | ValueKind::Timestamp => (0, IntType::DoubleLongUnsigned, 0, Unit::Count),
        ValueKind::RelayReason => (0, IntType::Unsigned, 0, Unit::Count),
    };
    CodeValue {
        value,
        data_type,
        scaler_unit: register.then_some(ScalerUnit { scaler, unit }),
    }
}

fn short_code(s: &str) -> Option<ShortCode> {
    s.parse::<u8>()
        .ok()
        .map(ShortCode)
        .filter(|c| c.entry().is_some())
}

fn codes(
    cx: &Ctx<'_>,
    m: &RawMeter,
    key: &str,
) -> Result<BTreeMap<ShortCode, CodeValue>, ScenarioError> {
    let mut out = BTreeMap::new();
    for o in &cx.profile.objects {
        if let Reads::Short(code) = o.reads {
            if let Some(entry) = code.entry() {
                if entry.kind != ValueKind::Timestamp {
                    out.insert(code, default_code(entry.kind, o.target.class_id));
                }
            }
        }
    }
    for (name, value) in &m.codes {
        let k = format!("{key}.codes.{}", name.get_ref());
        let code = short_code(name.get_ref()).ok_or_else(|| {
            cx.err(
                name,
                &k,
                format!("`{}` is not a short code of the code table", name.get_ref()),
            )
        })?;
        let Some(current) = out.get(&code).copied() else {
            let why = if code.entry().is_some_and(|e| e.kind == ValueKind::Timestamp) {
                "is an event time: add entries to the event log instead (`[[meter.events]]`)"
            } else {
                "is not mapped to an object by the profile"
            };
            return Err(cx.err(name, &k, format!("short code {code} {why}")));
        };
        let parsed = code_value(cx, value, &k, current)?;
        check_code_range(cx, value, &k, code, &parsed, parsed.value)?;
        out.insert(code, parsed);
    }
    Ok(out)
}

fn check_code_range(
    cx: &Ctx<'_>,
    at: &Spanned<toml::Value>,
    key: &str,
    code: ShortCode,
    cv: &CodeValue,
    value: i64,
) -> Result<(), ScenarioError> {
    if cv.data_type.to_data(value).is_none() {
        return Err(cx.err(
            at,
            key,
            format!("{value} does not fit the type {:?}", cv.data_type),
        ));
    }
    if code.0 == crate::codes::RELAY_REASON_CODE && !(0..=i64::from(MAX_SUB_CODE)).contains(&value)
    {
        return Err(cx.err(
            at,
            key,
            format!("a relay reason is a sub-code 0..{MAX_SUB_CODE}"),
        ));
    }
    Ok(())
}

fn code_value(
    cx: &Ctx<'_>,
    v: &Spanned<toml::Value>,
    key: &str,
    default: CodeValue,
) -> Result<CodeValue, ScenarioError> {
    let table = match v.get_ref() {
        toml::Value::Integer(i) => {
            return Ok(CodeValue {
                value: *i,
                ..default
            })
        }
        toml::Value::Table(t) => t,
        _ => {
            return Err(cx.err(
                v,
                key,
                "give an integer or a table { value = .., scaler = .., unit = .., type = .. }",
            ))
        }
    };
    let mut out = default;
    for (field, value) in table {
        let bad = |m: String| cx.err(v, format!("{key}.{field}"), m);
        match (field.as_str(), value) {
            ("value", toml::Value::Integer(i)) => out.value = *i,
            ("type", toml::Value::String(s)) => out.data_type = IntType::parse(s).map_err(bad)?,
            ("scaler", toml::Value::Integer(i)) => {
                let su = out.scaler_unit.as_mut().ok_or_else(|| {
                    bad(
                        "this short code is a plain value (not a register): it has no scaler"
                            .into(),
                    )
                })?;
                su.scaler = i8::try_from(*i).map_err(|_| bad("a scaler is -128..127".into()))?;
            }
            ("unit", u) => {
                let su = out.scaler_unit.as_mut().ok_or_else(|| {
                    bad("this short code is a plain value (not a register): it has no unit".into())
                })?;
                su.unit = unit(u).map_err(bad)?;
            }
            ("value" | "type" | "scaler", _) => return Err(bad("wrong type for this key".into())),
            (other, _) => {
                return Err(bad(format!(
                    "unknown key `{other}`: use value, scaler, unit, type"
                )))
            }
        }
    }
    if !table.contains_key("value") {
        return Err(cx.err(v, key, "the table needs a `value`"));
    }
    Ok(out)
}

/// A unit by symbol ("Wh", "W", "var"), by name ("count", "other") or by Blue Book code.
fn unit(v: &toml::Value) -> Result<Unit, String> {
    match v {
        toml::Value::Integer(i) => u8::try_from(*i)
            .map(Unit::from_code)
            .map_err(|_| "a unit code is 0..255".into()),
        toml::Value::String(s) if s == "count" || s.is_empty() => Ok(Unit::Count),
        toml::Value::String(s) if s == "other" => Ok(Unit::Other),
        toml::Value::String(s) => Unit::TABLE
            .iter()
            .find(|(_, _, sym)| *sym == Some(s.as_str()))
            .map(|(_, u, _)| *u)
            .ok_or_else(|| {
                format!("`{s}` is not a unit symbol (Wh, W, var, VA, V, A, Hz, count ...)")
            }),
        _ => Err("a unit is a symbol like \"Wh\" or a Blue Book unit code".into()),
    }
}

fn log_obis(cx: &Ctx<'_>, s: &Spanned<String>, key: &str) -> Result<ObisCode, ScenarioError> {
    let obis: ObisCode = s
        .get_ref()
        .parse()
        .map_err(|e: crate::protocol::obis::ObisParseError| cx.err(s, key, e.to_string()))?;
    if !cx.profile.events.iter().any(|e| e.log == obis) {
        let mut logs: Vec<String> = cx
            .profile
            .events
            .iter()
            .map(|e| e.log.to_string())
            .collect();
        logs.dedup();
        return Err(cx.err(
            s,
            key,
            format!(
                "{obis} is not an event log of the profile (its logs: {})",
                logs.join(", ")
            ),
        ));
    }
    Ok(obis)
}

fn time(cx: &Ctx<'_>, s: &Spanned<String>, key: &str) -> Result<LocalTime, ScenarioError> {
    LocalTime::parse(s.get_ref()).map_err(|m| cx.err(s, key, m))
}

fn event_logs(cx: &Ctx<'_>, m: &RawMeter, key: &str) -> Result<Vec<EventLogSpec>, ScenarioError> {
    let mut out: Vec<EventLogSpec> = Vec::new();
    for (i, l) in m.events.iter().enumerate() {
        let k = format!("{key}.events[{i}]");
        let log = log_obis(cx, &l.log, &format!("{k}.log"))?;
        if out.iter().any(|o| o.log == log) {
            return Err(cx.err(
                &l.log,
                format!("{k}.log"),
                format!("log {log} is listed twice"),
            ));
        }
        let mut entries: Vec<EventRecord> = Vec::new();
        for (j, e) in l.entries.iter().enumerate() {
            let t = time(cx, &e.time, &format!("{k}.entries[{j}].time"))?;
            if entries
                .last()
                .is_some_and(|prev| prev.time.utc_secs() > t.utc_secs())
            {
                return Err(cx.err(
                    &e.time,
                    format!("{k}.entries[{j}].time"),
                    "entries must be oldest first (a log buffer is in capture order)",
                ));
            }
            entries.push(EventRecord {
                time: t,
                code: e.code,
            });
        }
        out.push(EventLogSpec { log, entries });
    }
    Ok(out)
}

fn seconds(cx: &Ctx<'_>, s: &Spanned<f64>, key: &str) -> Result<Duration, ScenarioError> {
    Duration::try_from_secs_f64(*s.get_ref())
        .map_err(|_| cx.err(s, key, "a time in seconds, 0 or more"))
}

fn change(
    cx: &Ctx<'_>,
    c: &RawChange,
    key: &str,
    codes: &BTreeMap<ShortCode, CodeValue>,
) -> Result<Change, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let code_list = |map: &BTreeMap<Spanned<String>, Spanned<i64>>, field: &str, is_set: bool| {
        map.iter()
            .map(|(name, v)| {
                let kk = format!("{key}.{field}.{}", name.get_ref());
                let code = short_code(name.get_ref())
                    .filter(|c| codes.contains_key(c))
                    .ok_or_else(|| {
                        cx.err(
                            name,
                            &kk,
                            format!("`{}` is not a short code this meter serves", name.get_ref()),
                        )
                    })?;
                let cv = codes.get(&code).copied().unwrap_or(CodeValue {
                    value: 0,
                    data_type: IntType::Long64,
                    scaler_unit: None,
                });
                if is_set && cv.data_type.to_data(*v.get_ref()).is_none() {
                    return Err(cx.err(
                        v,
                        &kk,
                        format!("{} does not fit the type {:?}", v.get_ref(), cv.data_type),
                    ));
                }
                if is_set
                    && code.0 == crate::codes::RELAY_REASON_CODE
                    && !(0..=i64::from(MAX_SUB_CODE)).contains(v.get_ref())
                {
                    return Err(cx.err(
                        v,
                        &kk,
                        format!("a relay reason is a sub-code 0..{MAX_SUB_CODE}"),
                    ));
                }
                Ok((code, *v.get_ref()))
            })
            .collect::<Result<Vec<_>, ScenarioError>>()
    };
    let status = match &c.status {
        Some(s) if *s.get_ref() > u32::from(u16::MAX) => {
            return Err(cx.err(
                s,
                k("status"),
                "the operating status is served as long-unsigned: 0..65535",
            ))
        }
        other => other.as_ref().map(|s| *s.get_ref()),
    };
    let events = c
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let kk = format!("{key}.events[{i}]");
            Ok(NewEvent {
                log: log_obis(cx, &e.log, &format!("{kk}.log"))?,
                code: e.code,
                time: e
                    .time
                    .as_ref()
                    .map(|t| time(cx, t, &format!("{kk}.time")))
                    .transpose()?,
            })
        })
        .collect::<Result<Vec<_>, ScenarioError>>()?;
    Ok(Change {
        at: seconds(cx, &c.at, &k("at"))?,
        status,
        set: code_list(&c.set, "set", true)?,
        add: code_list(&c.add, "add", false)?,
        relay: c
            .relay
            .as_ref()
            .map(|r| RelayState::parse(r.get_ref()).map_err(|e| cx.err(r, k("relay"), e)))
            .transpose()?,
        events,
        offline: c.offline,
    })
}

fn fault(cx: &Ctx<'_>, f: &RawFault, key: &str) -> Result<FaultSpec, ScenarioError> {
    let k = |s: &str| format!("{key}.{s}");
    let name = f.kind.get_ref().as_str();
    // Which parameter keys each kind takes.
    let params: &[&str] = match name {
        "delay" => &["delay_ms"],
        "drop-bytes" | "truncate" => &["count"],
        "flip-bit" => &["bit"],
        "wrong-source" => &["physical"],
        n if FaultKind::NAMES.contains(&n) => &[],
        other => {
            return Err(cx.err(
                &f.kind,
                k("kind"),
                format!(
                    "`{other}` is not a fault: use one of {}",
                    FaultKind::NAMES.join(", ")
                ),
            ))
        }
    };
    let given: [(&str, Option<core::ops::Range<usize>>); 4] = [
        ("delay_ms", f.delay_ms.as_ref().map(Spanned::span)),
        ("count", f.count.as_ref().map(Spanned::span)),
        ("bit", f.bit.as_ref().map(Spanned::span)),
        ("physical", f.physical.as_ref().map(Spanned::span)),
    ];
    for (param, span) in given {
        if let (Some(span), false) = (span, params.contains(&param)) {
            return Err(ScenarioError::at(
                cx.source,
                cx.text,
                span,
                k(param),
                format!("a `{name}` fault takes no `{param}`"),
            ));
        }
    }
    let kind = match name {
        "delay" => {
            let d = f
                .delay_ms
                .as_ref()
                .ok_or_else(|| cx.err(&f.kind, k("delay_ms"), "a delay fault needs `delay_ms`"))?;
            FaultKind::Delay(Duration::from_millis(*d.get_ref()))
        }
        "drop-bytes" => FaultKind::DropBytes {
            count: f.count.as_ref().map_or(1, |c| *c.get_ref()),
        },
        "flip-bit" => FaultKind::FlipBit {
            bit: f.bit.as_ref().map(|b| *b.get_ref()),
        },
        "truncate" => FaultKind::Truncate {
            count: f.count.as_ref().map(|c| *c.get_ref()),
        },
        "silence" => FaultKind::Silence,
        "duplicate" => FaultKind::Duplicate,
        "wrong-source" => FaultKind::WrongSource {
            physical: f.physical.as_ref().map(|p| *p.get_ref()),
        },
        "frmr" => FaultKind::Frmr,
        "refuse-association" => FaultKind::RefuseAssociation,
        _ => FaultKind::RejectPassword,
    };
    let from = f
        .from
        .as_ref()
        .map(|s| seconds(cx, s, &k("from")))
        .transpose()?;
    let until = f
        .until
        .as_ref()
        .map(|s| seconds(cx, s, &k("until")))
        .transpose()?;
    if let (Some(a), Some(b), Some(u)) = (from, until, &f.until) {
        if b <= a {
            return Err(cx.err(u, k("until"), "`until` must be after `from`"));
        }
    }
    if let Some(n) = f.nth.as_ref().filter(|n| *n.get_ref() == 0) {
        return Err(cx.err(n, k("nth"), "occurrences count from 1"));
    }
    if let Some(t) = f.times.as_ref().filter(|t| *t.get_ref() == 0) {
        return Err(cx.err(
            t,
            k("times"),
            "`times` must be 1 or more (leave the fault out instead)",
        ));
    }
    if let Some(p) = f
        .probability
        .as_ref()
        .filter(|p| !(0.0..=1.0).contains(p.get_ref()))
    {
        return Err(cx.err(p, k("probability"), "a probability is 0.0..1.0"));
    }
    Ok(FaultSpec {
        kind,
        trigger: Trigger {
            nth: f.nth.as_ref().map(|n| *n.get_ref()),
            from,
            until,
            probability: f.probability.as_ref().map(|p| *p.get_ref()),
            seed: f.seed.unwrap_or(0),
            times: f.times.as_ref().map(|t| *t.get_ref()),
        },
    })
}
