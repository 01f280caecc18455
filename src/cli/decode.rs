//! `calin-agent decode`: a technician's offline explanation of one code, shaped like
//! the guide's worked examples (what the code is, what it means in this billing mode,
//! the field action, whether a site visit is needed).

use super::exit;
use crate::codes::{CodeQuery, Lookup, Mode, ShortCodeInfo, StatusInfo, RELAY_REASON_CODE};
use serde_json::{json, Value};
use std::io::Write;

pub fn run(
    lookup: &Lookup,
    input: &str,
    mode: Mode,
    as_json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let query = match input.parse::<CodeQuery>() {
        Ok(q) => q,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::NOT_A_CODE;
        }
    };
    let (known, value, text) = match query {
        CodeQuery::Status(s) => {
            let info = lookup.status(s, mode);
            (info.known, status_json(&info), explain_status(&info))
        }
        CodeQuery::Short(c) => {
            let info = lookup.short_code(c);
            (info.known, short_json(&info), explain_short(&info))
        }
        CodeQuery::Other(n) => (false, other_json(n), explain_other(n)),
    };
    let written = if as_json {
        writeln!(out, "{value}")
    } else {
        out.write_all(text.as_bytes())
    };
    if written.is_err() {
        return exit::SOFTWARE;
    }
    if known {
        exit::OK
    } else {
        exit::UNKNOWN_CODE
    }
}

/// The JSON object for an operating status (family `status`).
pub fn status_json(info: &StatusInfo) -> Value {
    let mut v = serde_json::to_value(info).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("family".into(), json!("status"));
    }
    v
}

/// The JSON object for a short code (family `short_code`).
pub fn short_json(info: &ShortCodeInfo) -> Value {
    let mut v = serde_json::to_value(info).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert("family".into(), json!("short_code"));
        if !info.known {
            m.insert("category".into(), json!("unknown"));
        }
    }
    v
}

fn other_json(n: u64) -> Value {
    json!({
        "family": "unknown",
        "code": n,
        "known": false,
        "category": "unknown",
        "meaning": format!("{n} is not a defined code"),
    })
}

fn explain_status(i: &StatusInfo) -> String {
    let sub = i
        .sub_code
        .map(|s| format!(" = code {RELAY_REASON_CODE} sub-code {s:02}"))
        .unwrap_or_default();
    let mut s = format!("Meter operating status {}{sub}\n\n", i.code);
    s += "1. What the code is\n";
    s += &format!("   {}{sub}: {}\n", i.code, i.meaning);
    s += &format!(
        "   Category: {}    Severity: {} ({})\n\n",
        i.category, i.severity, i.severity_reason
    );
    s += &format!("2. What it means in a {} setup\n", i.mode);
    if !i.relevant {
        s += &format!(
            "   Not applicable in {} mode: credit codes are ignored there.\n",
            i.mode
        );
    }
    s += &format!("   {}\n\n", i.detail);
    s += "3. Field action";
    if i.overridden {
        s += " (site procedure)";
    }
    s += &format!("\n   {}\n\n", i.action);
    s += &format!("Site visit: {}\n", i.site_visit);
    if !i.known {
        s += "\nThis number is not in the CalinMeter guide; it is shown with its raw value so nothing is lost.\n";
    }
    s
}

fn explain_short(i: &ShortCodeInfo) -> String {
    let mut s = format!("Short code {:02}: {}\n", i.code, i.name);
    s += &format!("   Measures: {}\n", i.measures);
    if !i.unit.is_empty() {
        s += &format!("   Unit:     {}\n", i.unit);
    }
    let site = if i.overridden {
        " (site procedure)"
    } else {
        ""
    };
    s += &format!("   Action{site}: {}\n", i.action);
    if i.code == RELAY_REASON_CODE {
        s += "\nIts value is a sub-code: explain it with `calin-agent decode 87:N` (for example 87:8 = status 1008).\n";
    }
    if !i.known {
        s += "\nThis short code is not in the CalinMeter guide (known: 01, 14, 31, 35, 40-58, 87).\n";
    }
    s
}

fn explain_other(n: u64) -> String {
    format!(
        "{n} is not a defined code.\n   Category: unknown\n   One or two digits are short codes (01-87); four digits are an operating status (1000-1025); 87:N is a relay reason.\n"
    )
}
