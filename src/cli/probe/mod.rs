//! `calin-agent probe`: a technician's one-shot read of a meter at the meter, every
//! value decoded through the lookup core; `--trace`, `--list-objects`, `--json`.
//! DLMS/COSEM by default; `--optical` for IEC 62056-21 (mode C readout, or `--mode-e`
//! into DLMS), `--protocol dlt645` for DL/T 645.

mod autodetect;
mod dlt645;
mod optical;
mod present;

use super::exit;
use crate::codes::{Lookup, Mode, ShortCode};
use crate::config::Secret;
use crate::meter::cosem::read_object_list;
use crate::meter::read::{read_profile, ReadProgress, Selection};
use crate::meter::{trace, Framing, MeterError, Session, SessionConfig};
use crate::profile::{AttributeRef, Profile, Reads};
use crate::protocol::dlt645::Version;
use crate::protocol::hdlc::HdlcAddress;
use crate::transport::{BoxLink, LineSettings, LinkSpec, TransportError};
use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// How to reach the meter and what to read.
#[derive(Debug, Clone, Args)]
pub struct ProbeArgs {
    /// Serial port of the RS-485 adapter or optical head (e.g. /dev/ttyUSB0).
    #[arg(long, conflicts_with = "tcp", required_unless_present = "tcp")]
    pub port: Option<String>,
    /// Baud rate on the serial port [default: 9600 for DLMS, 2400 for DL/T 645].
    #[arg(long)]
    pub baud: Option<u32>,
    /// Full line settings, overriding --baud (e.g. "9600 8N1", "2400 8E1").
    #[arg(long)]
    pub line: Option<String>,
    /// TCP endpoint HOST:PORT (serial-to-Ethernet converter, meter modem, calin-sim).
    #[arg(long)]
    pub tcp: Option<String>,
    /// Use the IEC 62056-47 wrapper instead of HDLC (TCP only).
    #[arg(long, requires = "tcp")]
    pub wrapper: bool,
    /// HDLC logical device (upper) address.
    #[arg(long, default_value_t = 1)]
    pub logical_address: u16,
    /// HDLC physical (lower) address on a multi-drop bus; absent: a one-byte address.
    #[arg(long)]
    pub physical_address: Option<u16>,
    /// Client SAP (16 public, 1 management...).
    #[arg(long, default_value_t = 16)]
    pub client: u8,
    /// File holding the LLS password on its first line.
    #[arg(long)]
    pub password_file: Option<PathBuf>,
    /// Refused: a password on the command line lands in shell history.
    #[arg(long, hide = true)]
    pub password: Option<String>,
    /// What to read: all | status | short codes (01,14,40,87) | CLASS:OBIS:ATTR, comma-separated.
    #[arg(long, default_value = "all")]
    pub read: String,
    /// Read the meter's own object list (Association LN) instead.
    #[arg(long)]
    pub list_objects: bool,
    /// Billing mode for decoding (credit codes are ignored in postpaid).
    #[arg(long)]
    pub mode: Option<Mode>,
    /// One JSON object per line, per object read.
    #[arg(long)]
    pub json: bool,
    /// Print every frame sent and received (hex and decoded) on stderr.
    #[arg(long)]
    pub trace: bool,
    /// Seconds to wait for an answer.
    #[arg(long, default_value_t = 3.0)]
    pub timeout: f64,
    /// Also write a site-visit report (PDF, or HTML for a .html/.htm name): what to do
    /// now, identity, status, every value, counters with a timeline, what failed.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Paper size of the PDF report.
    #[arg(long, value_enum, default_value = "a4")]
    pub paper: crate::cli::card::PaperSize,
    /// The site name for the report (from the config's `[site] name`, not a flag).
    #[arg(skip)]
    pub site: Option<String>,
    /// Try the usual settings until the meter answers, and print the settings to use.
    #[arg(long)]
    pub autodetect: bool,
    /// The meter's serial number (from its label), for --autodetect to try the
    /// serial-derived HDLC address.
    #[arg(long)]
    pub serial: Option<u64>,
    /// Read through the optical port (IEC 62056-21): sign-on at 300 baud, then a mode C
    /// data readout (or --mode-e, or --registers).
    #[arg(long)]
    pub optical: bool,
    /// With --optical: switch to HDLC (mode E) and read by profile over DLMS.
    #[arg(long, requires = "optical", conflicts_with = "registers")]
    pub mode_e: bool,
    /// With --optical: read these registers in programming mode (R1), e.g. "1.8.0,C.87.0";
    /// the meter's P1 password comes from --password-file.
    #[arg(long, requires = "optical")]
    pub registers: Option<String>,
    /// With --optical: the highest baud rate to switch to [default: what the meter offers].
    #[arg(long, requires = "optical")]
    pub optical_baud: Option<u32>,
    /// With --optical: take data blocks with a bad BCC and warn (for meters known to send them).
    #[arg(long, requires = "optical")]
    pub bcc_warn_only: bool,
    /// With --optical: milliseconds between the acknowledgement leaving the wire and the
    /// baud switch (raise it if the meter's answer is lost right after the switch).
    #[arg(long, requires = "optical", value_parser = clap::value_parser!(u32).range(0..=2000))]
    pub switch_delay: Option<u32>,
    /// With --optical: the head sits behind an 8-bit-only (8N1) converter, so add and
    /// strip the even-parity bit of the 7E1 sign-on here.
    #[arg(long, requires = "optical")]
    pub soft_parity: bool,
    /// Wire protocol: dlms (DLMS/COSEM, the default) or dlt645 (DL/T 645 on RS-485).
    #[arg(long, default_value = "dlms", value_parser = parse_protocol)]
    pub protocol: ProbeProtocol,
    /// DL/T 645 meter address (12 digits, as on the nameplate) [default: find the lone
    /// meter with the AA..AA wildcard].
    #[arg(long)]
    pub dlt645_address: Option<String>,
    /// DL/T 645 edition: 2007 or 1997.
    #[arg(long, default_value = "2007", value_parser = parse_dlt645_version)]
    pub dlt645_version: Version,
}

/// Which wire protocol the probe speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeProtocol {
    Dlms,
    Dlt645,
}

fn parse_protocol(s: &str) -> Result<ProbeProtocol, String> {
    match s {
        "dlms" => Ok(ProbeProtocol::Dlms),
        "dlt645" => Ok(ProbeProtocol::Dlt645),
        other => Err(format!(
            "`{other}`: use dlms or dlt645 (for the optical port, use --optical)"
        )),
    }
}

fn parse_dlt645_version(s: &str) -> Result<Version, String> {
    match s {
        "2007" => Ok(Version::V2007),
        "1997" => Ok(Version::V1997),
        other => Err(format!("`{other}`: use 2007 or 1997")),
    }
}

/// What `--read` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadPlan {
    pub selection: Vec<Selection>,
}

/// Parse `--read`: `all`, `status`, or a comma list of short codes, reading names and
/// `CLASS:OBIS:ATTR` references.
pub fn parse_read(s: &str) -> Result<ReadPlan, String> {
    match s.trim() {
        "all" => {
            return Ok(ReadPlan {
                selection: vec![Selection::All],
            })
        }
        "status" => {
            return Ok(ReadPlan {
                selection: vec![Selection::Status],
            })
        }
        _ => {}
    }
    let mut reads = Vec::new();
    let mut attrs = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        if item.contains(':') {
            attrs.push(item.parse::<AttributeRef>()?);
        } else {
            reads.push(item.parse::<Reads>()?);
        }
    }
    let mut selection = Vec::new();
    if !reads.is_empty() {
        selection.push(Selection::Reads(reads));
    }
    if !attrs.is_empty() {
        selection.push(Selection::Attributes(attrs));
    }
    if selection.is_empty() {
        return Err("nothing to read: use all, status, 01,14,40 or CLASS:OBIS:ATTR".into());
    }
    Ok(ReadPlan { selection })
}

/// The session settings from the command line.
pub fn session_config(a: &ProbeArgs, password: Option<Secret>) -> Result<SessionConfig, String> {
    let server = HdlcAddress::server(a.logical_address, a.physical_address)
        .map_err(|e| format!("bad server address: {e}"))?;
    let mut c = SessionConfig::new(a.client, server);
    c.password = password;
    c.response_timeout = Duration::from_secs_f64(a.timeout.clamp(0.05, 120.0));
    if a.wrapper {
        c.framing = Framing::Wrapper {
            client_wport: u16::from(a.client),
            server_wport: a.logical_address,
        };
    }
    Ok(c)
}

pub fn link_spec(a: &ProbeArgs) -> Result<LinkSpec, String> {
    match (&a.port, &a.tcp) {
        (Some(port), None) => {
            let line = match &a.line {
                Some(l) => l.parse::<LineSettings>().map_err(|e| e.to_string())?,
                None => LineSettings::new_8n1(a.baud.unwrap_or(9600)),
            };
            Ok(LinkSpec::Serial {
                port: port.clone(),
                line,
            })
        }
        (None, Some(tcp)) => Ok(LinkSpec::Tcp {
            endpoint: tcp.clone(),
            connect_timeout: Duration::from_secs(5),
        }),
        _ => Err("give --port DEVICE or --tcp HOST:PORT".into()),
    }
}

pub(crate) fn read_password(a: &ProbeArgs) -> Result<Option<Secret>, (u8, String)> {
    if a.password.is_some() {
        return Err((exit::USAGE, "a password on the command line is refused (it would land in shell history): put it in a file and use --password-file FILE".into()));
    }
    let Some(path) = &a.password_file else {
        return Ok(None);
    };
    let bytes = std::fs::read(path).map_err(|e| {
        (
            exit::CONFIG,
            format!("cannot read password file {}: {e}", path.display()),
        )
    })?;
    Secret::from_file_text(&bytes).map(Some).ok_or_else(|| {
        (
            exit::CONFIG,
            format!("password file {} is empty", path.display()),
        )
    })
}

/// Exit code for a failed probe.
pub(crate) fn exit_for(e: &MeterError) -> u8 {
    match e {
        MeterError::WrongPassword { .. } | MeterError::PasswordRequired { .. } => 77,
        MeterError::Transport(
            TransportError::PortMissing { .. } | TransportError::PortBusy { .. },
        ) => exit::UNAVAILABLE,
        MeterError::NoAnswer { .. } | MeterError::Link { .. } | MeterError::Transport(_) => {
            exit::UNAVAILABLE
        }
        _ => exit::DATA,
    }
}

pub fn run(
    a: ProbeArgs,
    profile: &Profile,
    lookup: &Lookup,
    default_mode: Mode,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the runtime: {e}");
            return exit::SOFTWARE;
        }
    };
    if a.autodetect {
        return rt.block_on(autodetect::run(&a, out, err));
    }
    rt.block_on(probe(a, profile, lookup, default_mode, out, err))
}

async fn probe(
    a: ProbeArgs,
    profile: &Profile,
    lookup: &Lookup,
    default_mode: Mode,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let plan = match parse_read(&a.read) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "error: --read: {e}");
            return exit::USAGE;
        }
    };
    let password = match read_password(&a) {
        Ok(p) => p,
        Err((code, msg)) => {
            let _ = writeln!(err, "error: {msg}");
            return code;
        }
    };
    let (config, spec) = match session_config(&a, password).and_then(|c| Ok((c, link_spec(&a)?))) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    let mode = a.mode.unwrap_or(default_mode);
    if a.optical && a.protocol == ProbeProtocol::Dlt645 {
        let _ = writeln!(
            err,
            "error: --optical and --protocol dlt645 exclude each other"
        );
        return exit::USAGE;
    }
    let dlms = (!a.optical && a.protocol != ProbeProtocol::Dlt645) || a.mode_e;
    if a.report.is_some() && !dlms {
        // Design: the visit report is built from a DLMS read (settings of the
        // association, the event logs for the timeline); refusing beats a silent skip.
        let _ = writeln!(
            err,
            "error: --report needs a DLMS session: read the meter over RS-485/TCP, or through the optical head with --optical --mode-e"
        );
        return exit::USAGE;
    }
    if a.optical {
        let ctx = Context {
            profile,
            lookup,
            mode,
            plan: &plan,
        };
        return optical::run(&a, spec, config, ctx, out, err).await;
    }
    if a.protocol == ProbeProtocol::Dlt645 {
        let ctx = Context {
            profile,
            lookup,
            mode,
            plan: &plan,
        };
        return dlt645::run(&a, ctx, out, err).await;
    }
    let mut link: BoxLink = match spec.open().await {
        Ok(l) => l,
        Err(e) => {
            let _ = writeln!(err, "error: {e}: check the port name (ls /dev/ttyUSB* /dev/ttyACM*) and that nothing else holds it");
            return exit::UNAVAILABLE;
        }
    };
    if a.trace {
        link = trace::traced(link, config.framing, |line| eprintln!("{line}"));
    }
    let address = config.describe_address();
    let session = match Session::open(link, config).await {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit_for(&e);
        }
    };
    if !a.json {
        let _ = writeln!(out, "Meter at {address} on {}", session.link_description());
    }
    let ctx = Context {
        profile,
        lookup,
        mode,
        plan: &plan,
    };
    read_session(session, &a, ctx, out, err).await
}

/// What every protocol's read needs besides the link.
#[derive(Clone, Copy)]
pub(crate) struct Context<'a> {
    pub profile: &'a Profile,
    pub lookup: &'a Lookup,
    pub mode: Mode,
    pub plan: &'a ReadPlan,
}

/// Read an open DLMS session as asked, print, release.
async fn read_session(
    mut session: Session,
    a: &ProbeArgs,
    ctx: Context<'_>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let Context {
        profile,
        lookup,
        mode,
        plan,
    } = ctx;
    let tty = std::io::stderr().is_terminal() && !a.json;
    let mut reports = Vec::new();
    let code = if a.list_objects {
        list_objects(&mut session, a.json, tty, out, err).await
    } else {
        let mut code = exit::OK;
        for sel in &plan.selection {
            let (c, report) = read(
                &mut session,
                profile,
                sel,
                lookup,
                mode,
                a.json,
                tty,
                out,
                err,
            )
            .await;
            reports.push(report);
            code = code.max(c);
        }
        code
    };
    let code = match &a.report {
        Some(path) if !a.list_objects => {
            let c = visit_report(&mut session, path, a, profile, lookup, mode, &reports, err).await;
            code.max(c)
        }
        _ => code,
    };
    if let Err(e) = session.release().await {
        let _ = writeln!(err, "warning: release: {e}");
    }
    code
}

#[allow(clippy::too_many_arguments)]
async fn read(
    session: &mut Session,
    profile: &Profile,
    sel: &Selection,
    lookup: &Lookup,
    mode: Mode,
    json: bool,
    tty: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> (u8, crate::meter::read::ReadReport) {
    let mut progress = |p: ReadProgress| {
        if tty {
            match p {
                ReadProgress::Step { done, total, what } => {
                    eprint!("\r\x1b[2K reading {done}/{total} {what}")
                }
                ReadProgress::Transfer { what, progress } => {
                    eprint!(
                        "\r\x1b[2K reading {what}: {} bytes in {} blocks",
                        progress.bytes, progress.blocks
                    )
                }
            }
        }
    };
    let report = read_profile(session, profile, sel, &mut progress).await;
    if tty {
        eprint!("\r\x1b[2K");
    }
    let mut code = exit::OK;
    // What a technician needs first: the status and relay, then the values.
    let mut items: Vec<_> = report.items.iter().collect();
    items.sort_by_key(|i| {
        let what = match i {
            Ok(r) => &r.what,
            Err(f) => &f.what,
        };
        match what {
            crate::meter::read::Item::Reads(Reads::Status) => 0,
            crate::meter::read::Item::Reads(Reads::Short(ShortCode(87))) => 1,
            crate::meter::read::Item::Reads(Reads::Relay | Reads::RelayControl) => 2,
            _ => 3,
        }
    });
    for item in items {
        match item {
            Ok(r) => {
                let s = present::show(r, lookup, mode);
                let _ = if json {
                    writeln!(out, "{}", s.json)
                } else {
                    write_human(out, &s)
                };
            }
            Err(f) => {
                code = exit::DATA;
                if json {
                    let v = serde_json::json!({
                        "reads": f.what.to_string(),
                        "class": f.attr.map(|a| a.class_id),
                        "obis": f.attr.map(|a| a.obis.to_string()),
                        "attribute": f.attr.map(|a| a.attribute),
                        "error": f.error.to_string(),
                    });
                    let _ = writeln!(out, "{v}");
                } else {
                    let _ = writeln!(out, "{:<14} not read: {}", f.what.to_string(), f.error);
                }
            }
        }
    }
    if let Some(e) = &report.aborted {
        let _ = writeln!(err, "error: {e}");
        code = exit_for(e);
    }
    (code, report)
}

pub(crate) fn write_human(out: &mut dyn Write, s: &present::Shown) -> std::io::Result<()> {
    let value = if s.unit.is_empty() {
        s.value.clone()
    } else {
        format!("{} {}", s.value, s.unit)
    };
    writeln!(out, "{:<14} {:<26} {value}", s.label, s.name)?;
    if let Some(i) = &s.coded {
        let note = if i.relevant {
            String::new()
        } else {
            format!(" (not applicable in {})", i.mode)
        };
        writeln!(
            out,
            "{:<14}   {} [{}, {}]{note}",
            "", i.meaning, i.category, i.severity
        )?;
        writeln!(
            out,
            "{:<14}   Action: {} Site visit: {}.",
            "", i.action, i.site_visit
        )?;
    }
    Ok(())
}

async fn list_objects(
    session: &mut Session,
    json: bool,
    tty: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let mut progress = |p: crate::meter::TransferProgress| {
        if tty {
            eprint!(
                "\r\x1b[2K object list: {} bytes in {} blocks",
                p.bytes, p.blocks
            );
        }
    };
    let result = read_object_list(session, &mut progress).await;
    if tty {
        eprint!("\r\x1b[2K");
    }
    match result {
        Ok(Ok(list)) => {
            for o in &list {
                let _ = if json {
                    writeln!(out, "{}", serde_json::to_value(o).unwrap_or_default())
                } else {
                    let attrs: Vec<String> = o
                        .attributes
                        .iter()
                        .map(|a| a.attribute.to_string())
                        .collect();
                    writeln!(
                        out,
                        "class {:>3} v{}  {:<20} attributes {}",
                        o.class_id,
                        o.version,
                        o.obis,
                        attrs.join(",")
                    )
                };
            }
            if !json {
                let _ = writeln!(out, "{} objects", list.len());
            }
            exit::OK
        }
        Ok(Err(e)) => {
            let _ = writeln!(err, "error: object list: {e}");
            exit::DATA
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            exit_for(&e)
        }
    }
}

/// The short codes a profile can answer (for help texts).
pub fn answerable(profile: &Profile) -> Vec<ShortCode> {
    profile.short_codes()
}

/// Write the site-visit report of this read (the event logs are read first, whole, for
/// the timeline). Returns the exit code for a report that could not be written.
#[allow(clippy::too_many_arguments)]
async fn visit_report(
    session: &mut Session,
    path: &std::path::Path,
    a: &ProbeArgs,
    profile: &Profile,
    lookup: &Lookup,
    mode: Mode,
    reports: &[crate::meter::read::ReadReport],
    err: &mut dyn Write,
) -> u8 {
    use crate::report::{
        read_event_logs, render_html, render_pdf, ReadSettings, VisitInput, VisitReport,
    };
    let settings = ReadSettings::from_session(session);
    let events = read_event_logs(session, profile, &mut |_| {}).await;
    if let Err(e) = &events {
        let _ = writeln!(err, "warning: event logs not read for the report: {e}");
    }
    let read_at = crate::agent::format_unix_ms(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0)),
    );
    let report = VisitReport::build(&VisitInput {
        reports,
        settings: &settings,
        read_at: &read_at,
        lookup,
        mode,
        site: a.site.as_deref(),
        event_log: events.as_ref().ok(),
    });
    let html = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    let bytes = if html {
        Ok(render_html(&report).into_bytes())
    } else {
        let paper = match a.paper {
            crate::cli::card::PaperSize::A4 => crate::report::Paper::A4,
            crate::cli::card::PaperSize::Letter => crate::report::Paper::LETTER,
        };
        render_pdf(&report, paper).map_err(|e| e.to_string())
    };
    match bytes.and_then(|b| std::fs::write(path, b).map_err(|e| e.to_string())) {
        Ok(()) => {
            let _ = writeln!(err, "report written to {}", path.display());
            exit::OK
        }
        Err(e) => {
            let _ = writeln!(
                err,
                "error: cannot write the report {}: {e}",
                path.display()
            );
            73
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_lists_parse() {
        assert_eq!(parse_read("all").unwrap().selection, vec![Selection::All]);
        assert_eq!(
            parse_read("status").unwrap().selection,
            vec![Selection::Status]
        );
        let p = parse_read("01,14,40,87").unwrap();
        assert_eq!(
            p.selection,
            vec![Selection::Reads(vec![
                Reads::Short(ShortCode(1)),
                Reads::Short(ShortCode(14)),
                Reads::Short(ShortCode(40)),
                Reads::Short(ShortCode(87)),
            ])]
        );
        let p = parse_read("87, 3:1.0.1.8.0.255:2").unwrap();
        assert_eq!(p.selection.len(), 2);
        assert!(parse_read("99").is_err());
        assert!(parse_read("3:1.0.1.8.0.255").is_err());
        assert!(parse_read(",").is_err());
    }
}
