//! `probe --protocol dlt645`: DL/T 645 on RS-485 (2400 8E1 by default). Finds a lone
//! meter with the `AA..AA` wildcard unless `--dlt645-address` is given, reads what the
//! catalogue maps, and shows each value like the DLMS probe (status words decoded into
//! operating statuses with their meaning and field action).

use std::io::Write;
use std::time::Duration;

use super::present::show_reads;
use super::{exit, write_human, Context, ProbeArgs};
use crate::codes::ShortCode;
use crate::meter::dlt645::{
    self, all_reads, line_8e1, Dlt645Config, Dlt645Error, Dlt645Meter, Dlt645Reading,
};
use crate::meter::read::Selection;
use crate::profile::Reads;
use crate::protocol::dlt645::Address;
use crate::transport::{BoxLink, LineSettings, LinkSpec};
use serde_json::json;

/// The DL/T 645 settings from the command line.
pub fn dlt645_config(a: &ProbeArgs) -> Result<(Dlt645Config, LinkSpec), String> {
    let mut c = Dlt645Config::new(a.dlt645_version);
    if let Some(text) = &a.dlt645_address {
        c.address =
            Some(Address::from_digits(text.trim()).map_err(|e| format!("--dlt645-address: {e}"))?);
    }
    c.reply_timeout = Duration::from_secs_f64(a.timeout.clamp(0.05, 120.0));
    let spec = match (&a.port, &a.tcp) {
        (Some(port), None) => {
            let line = match &a.line {
                Some(l) => l.parse::<LineSettings>().map_err(|e| e.to_string())?,
                None => line_8e1(a.baud.unwrap_or(2400)),
            };
            c.line = Some(line);
            LinkSpec::Serial {
                port: port.clone(),
                line,
            }
        }
        (None, Some(tcp)) => {
            c.line = None;
            LinkSpec::Tcp {
                endpoint: tcp.clone(),
                connect_timeout: Duration::from_secs(5),
            }
        }
        _ => return Err("give --port DEVICE or --tcp HOST:PORT".into()),
    };
    Ok((c, spec))
}

/// Exit code for a failed DL/T 645 probe.
pub fn exit_for(e: &Dlt645Error) -> u8 {
    if e.is_unreachable() {
        exit::UNAVAILABLE
    } else {
        exit::DATA
    }
}

/// The readings `--read` asks for.
fn selection(ctx: &Context<'_>, c: &Dlt645Config) -> Result<Vec<Reads>, String> {
    let mut out = Vec::new();
    for sel in &ctx.plan.selection {
        match sel {
            Selection::All => out.extend(all_reads(c.version, c.vendor_version)),
            Selection::Status => {
                out.extend([Reads::Status, Reads::Short(ShortCode(87)), Reads::Relay])
            }
            Selection::Reads(list) => out.extend(list.iter().copied()),
            Selection::Codes(list) => out.extend(list.iter().map(|c| Reads::Short(*c))),
            Selection::Attributes(_) => {
                return Err(
                    "CLASS:OBIS:ATTR is DLMS; DL/T 645 reads short codes, status, relay, serial"
                        .into(),
                )
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|r| seen.insert(*r));
    Ok(out)
}

pub(super) async fn run(
    a: &ProbeArgs,
    ctx: Context<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let (cfg, spec) = match dlt645_config(a) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    let wanted = match selection(&ctx, &cfg) {
        Ok(w) => w,
        Err(e) => {
            let _ = writeln!(err, "error: --read: {e}");
            return exit::USAGE;
        }
    };
    if a.list_objects {
        let _ = writeln!(err, "error: --list-objects is DLMS only");
        return exit::USAGE;
    }
    let mut link: BoxLink = match spec.open().await {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(err, "error: {e}: check the port name (ls /dev/ttyUSB* /dev/ttyACM*) and that nothing else holds it");
            return exit::UNAVAILABLE;
        }
    };
    if a.trace {
        link = dlt645::traced(link, |line| eprintln!("{line}"));
    }
    let mut meter = match Dlt645Meter::connect(link, cfg).await {
        Ok(m) => m,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit_for(&e);
        }
    };
    if !a.json {
        let _ = writeln!(
            out,
            "Meter {} ({}) on {}",
            meter.address(),
            cfg.version,
            meter.link_description()
        );
    }
    let report = meter.read(&wanted).await;
    let mut code = exit::OK;
    let mut items: Vec<_> = report.items.iter().collect();
    items.sort_by_key(|i| {
        let what = match i {
            Ok(r) => r.what,
            Err(f) => f.what,
        };
        match what {
            Reads::Status => 0,
            Reads::Short(ShortCode(87)) => 1,
            Reads::Relay => 2,
            _ => 3,
        }
    });
    for item in items {
        match item {
            Ok(r) => {
                let s = shown(r, &ctx);
                let _ = if a.json {
                    writeln!(out, "{}", s.json)
                } else {
                    write_human(out, &s)
                };
            }
            Err(f) => {
                code = exit::DATA;
                if a.json {
                    let v = json!({
                        "reads": f.what.to_string(),
                        "di": f.di.map(|d| d.to_string()),
                        "error": f.error.to_string(),
                    });
                    let _ = writeln!(out, "{v}");
                } else {
                    let _ = writeln!(out, "{:<14} not read: {f}", f.what.to_string());
                }
            }
        }
    }
    if let Some(e) = &report.aborted {
        let _ = writeln!(err, "error: {e}");
        code = exit_for(e);
    }
    code
}

fn shown(r: &Dlt645Reading, ctx: &Context<'_>) -> super::present::Shown {
    let mut s = show_reads(r.what, &r.value, ctx.lookup, ctx.mode);
    if let serde_json::Value::Object(m) = &mut s.json {
        m.insert("di".into(), json!(r.di.map(|d| d.to_string())));
        let hex: Vec<String> = r.raw.iter().map(|b| format!("{b:02X}")).collect();
        m.insert("raw".into(), json!(hex.join(" ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::dlt645::Version;

    #[test]
    fn status_means_status_relay_reason_and_relay() {
        let plan = super::super::parse_read("status").unwrap();
        let profile = crate::profile::Profile::calin();
        let lookup = crate::codes::Lookup::builtin();
        let ctx = Context {
            profile: &profile,
            lookup: &lookup,
            mode: crate::codes::Mode::Postpaid,
            plan: &plan,
        };
        let c = Dlt645Config::new(Version::V1997);
        let list = selection(&ctx, &c).unwrap();
        assert_eq!(
            list,
            [Reads::Status, Reads::Short(ShortCode(87)), Reads::Relay]
        );
        let plan = super::super::parse_read("3:1.0.1.8.0.255:2").unwrap();
        let ctx = Context { plan: &plan, ..ctx };
        assert!(selection(&ctx, &c).is_err());
    }
}
