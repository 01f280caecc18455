//! `probe --optical`: IEC 62056-21 on the optical port. A mode C data readout by
//! default (its ids mapped to short codes and decoded like the DLMS probe's values),
//! `--registers` for programming-mode R1 reads, `--mode-e` to continue into DLMS over
//! HDLC and read by profile. Same output (human or `--json`) and `--trace`.

use std::io::Write;

use super::present::{show_reads, show_value, Shown};
use super::{exit, read_session, write_human, Context, ProbeArgs};
use crate::meter::optical::{
    self, OpticalConfig, OpticalError, OpticalItemFailure, OpticalReading, ReadoutMap,
};
use crate::meter::read::Selection;
use crate::meter::SessionConfig;
use crate::profile::Reads;
use crate::protocol::iec62056_21::{BaudChoice, BccPolicy, DataId, Password, Readout};
use crate::transport::{BoxLink, LineSettings, LinkSpec};
use serde_json::json;

/// The optical settings from the command line; the password (P1) from --password-file.
pub fn optical_config(a: &ProbeArgs, dlms: &SessionConfig) -> Result<OpticalConfig, String> {
    let mut c = OpticalConfig::new();
    if let Some(max) = a.optical_baud {
        c.baud = BaudChoice::AtMost(max);
    }
    if a.bcc_warn_only {
        c.bcc_policy = BccPolicy::WarnOnly;
    }
    if let Some(ms) = a.switch_delay {
        c.switch_delay = std::time::Duration::from_millis(u64::from(ms));
    }
    c.soft_parity = a.soft_parity;
    // Design: the reply timeout also bounds the wait for the identification, so a
    // short --timeout makes a quick "is anything there" check (autodetect uses it).
    c.reply_timeout = dlms
        .response_timeout
        .max(std::time::Duration::from_millis(300));
    if !a.mode_e {
        if let Some(secret) = &dlms.password {
            let text = std::str::from_utf8(secret.expose())
                .map_err(|_| "the password file is not text".to_string())?;
            c.password = Some(Password::new(text).map_err(|e| format!("bad P1 password: {e}"))?);
        }
    }
    Ok(c)
}

/// Exit code for a failed optical session.
pub fn exit_for(e: &OpticalError) -> u8 {
    match e {
        OpticalError::Dlms(e) => super::exit_for(e),
        e if e.is_password() => 77,
        e if e.is_unreachable() => exit::UNAVAILABLE,
        _ => exit::DATA,
    }
}

/// The sign-on line on a serial port, whatever --baud says.
fn optical_spec(spec: LinkSpec) -> LinkSpec {
    match spec {
        LinkSpec::Serial { port, .. } => LinkSpec::Serial {
            port,
            line: LineSettings::new_7e1(300),
        },
        tcp => tcp,
    }
}

pub(super) async fn run(
    a: &ProbeArgs,
    spec: LinkSpec,
    dlms: SessionConfig,
    ctx: Context<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let cfg = match optical_config(a, &dlms) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::CONFIG;
        }
    };
    let registers = match a.registers.as_deref().map(parse_registers).transpose() {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: --registers: {e}");
            return exit::USAGE;
        }
    };
    if !a.mode_e && (a.list_objects || has_attributes(&ctx)) {
        let _ = writeln!(
            err,
            "error: --list-objects and CLASS:OBIS:ATTR need DLMS: add --mode-e"
        );
        return exit::USAGE;
    }
    let mut link: BoxLink = match optical_spec(spec).open().await {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(err, "error: {e}: check the port name (ls /dev/ttyUSB* /dev/ttyACM*) and that nothing else holds it");
            return exit::UNAVAILABLE;
        }
    };
    if a.trace {
        link = optical::traced(link, |line| eprintln!("{line}"));
    }
    if a.mode_e {
        let address = dlms.describe_address();
        return match optical::open_mode_e(link, &cfg, dlms).await {
            Ok(session) => {
                if !a.json {
                    let _ = writeln!(
                        out,
                        "Meter at {address} on {} (optical, mode E)",
                        session.link_description()
                    );
                }
                read_session(session, a, ctx, out, err).await
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                exit_for(&e)
            }
        };
    }
    let result = match registers {
        Some(ids) => optical::read_registers(&mut link, &cfg, ids).await,
        None => optical::read_out(&mut link, &cfg).await,
    };
    let readout = match result {
        Ok(r) => r,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit_for(&e);
        }
    };
    print_readout(&readout, &link.describe(), a, ctx, out, err)
}

fn has_attributes(ctx: &Context<'_>) -> bool {
    ctx.plan
        .selection
        .iter()
        .any(|s| matches!(s, Selection::Attributes(_)))
}

fn parse_registers(s: &str) -> Result<Vec<DataId>, String> {
    let ids: Vec<DataId> = s
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|i| DataId::new(i).map_err(|e| format!("`{i}`: {e}")))
        .collect::<Result<_, _>>()?;
    if ids.is_empty() {
        return Err("no register ids (e.g. 1.8.0,C.87.0)".into());
    }
    Ok(ids)
}

/// Whether `--read` asks for this reading (unmapped ids only with `all`).
fn wanted(plan: &[Selection], reads: Option<Reads>) -> bool {
    plan.iter().any(|sel| match (sel, reads) {
        (Selection::All, _) => true,
        (Selection::Status, Some(r)) => {
            matches!(r, Reads::Status | Reads::Relay | Reads::RelayControl)
                || r == Reads::Short(crate::codes::ShortCode(87))
        }
        (Selection::Reads(list), Some(r)) => list.contains(&r),
        (Selection::Codes(list), Some(Reads::Short(c))) => list.contains(&c),
        _ => false,
    })
}

fn print_readout(
    r: &Readout,
    link: &str,
    a: &ProbeArgs,
    ctx: Context<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let id = &r.identification;
    if !a.json {
        let _ = writeln!(
            out,
            "Meter {}{} {:?} on {link}, read at {} baud",
            id.manufacturer().as_str(),
            char::from(id.baud_char().as_byte()),
            id.ident(),
            r.baud
        );
    }
    for m in &r.bcc_warnings {
        let _ = writeln!(
            err,
            "warning: data block taken despite a {m} (warn-only BCC policy)"
        );
    }
    // The readout ids of the profile in use (a site's `[[profile.readout]]` included).
    let map = ReadoutMap::from_profile(ctx.profile);
    let mut code = exit::OK;
    let mut items = map.readings(&r.data_sets);
    // What a technician needs first: the status and relay reason, then the values.
    items.sort_by_key(|i| match i {
        Ok(OpticalReading {
            reads: Some(Reads::Status),
            ..
        }) => 0,
        Ok(OpticalReading {
            reads: Some(Reads::Short(crate::codes::ShortCode(87))),
            ..
        }) => 1,
        Ok(OpticalReading { reads: Some(_), .. }) | Err(_) => 2,
        Ok(OpticalReading { reads: None, .. }) => 3,
    });
    for item in &items {
        match item {
            Ok(reading) if wanted(&ctx.plan.selection, reading.reads) => {
                let s = shown(reading, ctx);
                let _ = if a.json {
                    writeln!(out, "{}", s.json)
                } else {
                    write_human(out, &s)
                };
            }
            Ok(_) => {}
            Err(f) if wanted(&ctx.plan.selection, Some(f.reads)) => {
                code = exit::DATA;
                print_failure(f, a.json, out);
            }
            Err(_) => {}
        }
    }
    for e in &r.register_errors {
        code = exit::DATA;
        if a.json {
            let v = json!({"reads": e.id.as_str(), "id": e.id.as_str(), "error": format!("refused by the meter: {}", e.text)});
            let _ = writeln!(out, "{v}");
        } else {
            let _ = writeln!(
                out,
                "{:<14} not read: refused by the meter ({})",
                e.id.as_str(),
                e.text
            );
        }
    }
    code
}

fn shown(r: &OpticalReading, ctx: Context<'_>) -> Shown {
    let mut s = match r.reads {
        Some(reads) => show_reads(reads, &r.value, ctx.lookup, ctx.mode),
        None => show_value(
            r.id.to_string(),
            "Readout value (id not mapped to a short code)".into(),
            None,
            &r.value,
            ctx.lookup,
            ctx.mode,
        ),
    };
    if s.unit.is_empty() && r.reads.is_none() {
        if let Some(u) = &r.raw.unit {
            s.unit = u.clone();
        }
    }
    if let serde_json::Value::Object(m) = &mut s.json {
        m.insert("id".into(), json!(r.id.as_str()));
        m.insert("raw".into(), json!(r.raw.value));
        m.insert("raw_unit".into(), json!(r.raw.unit));
        m.insert("unit".into(), json!(s.unit));
    }
    s
}

fn print_failure(f: &OpticalItemFailure, json: bool, out: &mut dyn Write) {
    if json {
        let v = json!({"reads": f.reads.to_string(), "id": f.id.as_str(), "error": f.problem.to_string()});
        let _ = writeln!(out, "{v}");
    } else {
        let _ = writeln!(out, "{:<14} not read: {f}", f.reads.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::ShortCode;

    #[test]
    fn register_lists_parse() {
        let ids = parse_registers("1.8.0, C.87.0").unwrap();
        assert_eq!(
            ids.iter().map(DataId::as_str).collect::<Vec<_>>(),
            ["1.8.0", "C.87.0"]
        );
        assert!(parse_registers(" , ").is_err());
        assert!(parse_registers("1.8(0").is_err());
    }

    #[test]
    fn read_selection_filters_readout_values() {
        let all = [Selection::All];
        assert!(wanted(&all, None));
        let status = [Selection::Status];
        assert!(wanted(&status, Some(Reads::Status)));
        assert!(wanted(&status, Some(Reads::Short(ShortCode(87)))));
        assert!(!wanted(&status, Some(Reads::Short(ShortCode(1)))));
        assert!(!wanted(&status, None), "unmapped ids only with all");
        let list = [Selection::Reads(vec![Reads::Short(ShortCode(1))])];
        assert!(wanted(&list, Some(Reads::Short(ShortCode(1)))));
        assert!(!wanted(&list, Some(Reads::Status)));
    }
}
