//! Validation of a meter's values: short codes (with type, scaler and unit), event logs,
//! and scripted changes.

use core::time::Duration;
use std::collections::BTreeMap;

use toml::Spanned;

use super::parse::Ctx;
use super::raw::{RawChange, RawMeter};
use super::{
    Change, CodeValue, EventLogSpec, EventRecord, IntType, NewEvent, RelayState, ScenarioError,
};
use crate::codes::{ShortCode, ValueKind, MAX_SUB_CODE};
use crate::profile::Reads;
use crate::protocol::obis::ObisCode;
use crate::protocol::units::{ScalerUnit, Unit};
use crate::sim::time::LocalTime;

/// Default value of a short code, by what it measures and the class that serves it.
pub(super) fn default_code(kind: ValueKind, class_id: u16) -> CodeValue {
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

pub(super) fn short_code(s: &str) -> Option<ShortCode> {
    s.parse::<u8>()
        .ok()
        .map(ShortCode)
        .filter(|c| c.entry().is_some())
}

pub(super) fn codes(
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

pub(super) fn check_code_range(
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

pub(super) fn code_value(
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
pub(super) fn unit(v: &toml::Value) -> Result<Unit, String> {
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

pub(super) fn log_obis(
    cx: &Ctx<'_>,
    s: &Spanned<String>,
    key: &str,
) -> Result<ObisCode, ScenarioError> {
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

pub(super) fn time(
    cx: &Ctx<'_>,
    s: &Spanned<String>,
    key: &str,
) -> Result<LocalTime, ScenarioError> {
    LocalTime::parse(s.get_ref()).map_err(|m| cx.err(s, key, m))
}

pub(super) fn event_logs(
    cx: &Ctx<'_>,
    m: &RawMeter,
    key: &str,
) -> Result<Vec<EventLogSpec>, ScenarioError> {
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

pub(super) fn seconds(
    cx: &Ctx<'_>,
    s: &Spanned<f64>,
    key: &str,
) -> Result<Duration, ScenarioError> {
    Duration::try_from_secs_f64(*s.get_ref())
        .map_err(|_| cx.err(s, key, "a time in seconds, 0 or more"))
}

pub(super) fn change(
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
