//! `probe --autodetect`: "the meter doesn't answer" is the most common complaint in the
//! field. Try the usual settings in a sensible order, a short timeout each, and print
//! what answered and the exact settings to put in the config.
//!
//! First the one-frame checks of the other protocols (an IEC 62056-21 sign-on at 300
//! baud 7E1, a DL/T 645 address read from `AA..AA` at 2400 and 1200 8E1), then the DLMS
//! combinations, which are many.

use super::{link_spec, session_config, ProbeArgs};
use crate::cli::exit;
use crate::meter::dlt645::{line_8e1, Dlt645Config, Dlt645Error, Dlt645Meter};
use crate::meter::optical::{self, OpticalConfig, OpticalError};
use crate::meter::{Framing, MeterError, Session, SessionConfig};
use crate::protocol::dlt645::Version;
use crate::protocol::hdlc::HdlcAddress;
use crate::protocol::iec62056_21::ident::REACTION_TIME_MAX;
use crate::transport::{LineSettings, LinkSpec};
use std::io::Write;
use std::time::Duration;

/// One combination of settings to try.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub spec: LinkSpec,
    pub config: SessionConfig,
    pub label: String,
}

/// Baud rates in the order field meters use them most (RS-485 DLMS first).
pub const BAUDS: [u32; 5] = [9600, 19200, 4800, 2400, 1200];

/// The candidate list, most likely first: for each baud (serial) the direct HDLC
/// address, then the broadcast and serial-derived physical addresses; clients 16 then 1;
/// over TCP also the wrapper.
pub fn candidates(a: &ProbeArgs, serial: Option<u64>) -> Vec<Candidate> {
    let timeout = Duration::from_secs_f64(a.timeout.clamp(0.05, 120.0).min(1.0));
    // Given address, point-to-point one-byte address, the serial-derived address (a
    // convention many vendors follow: 1000 + SN mod 10000), the all-station address
    // (some meters answer it on an optical port), then the low factory range.
    let mut physicals: Vec<Option<u16>> = vec![a.physical_address, None];
    if let Some(sn) = serial {
        physicals.push(Some(1000 + (sn % 10_000) as u16));
    }
    physicals.push(Some(0x3FFF));
    physicals.extend((16..=31).map(Some));
    let mut seen = std::collections::HashSet::new();
    physicals.retain(|p| seen.insert(*p));
    let mut specs: Vec<(LinkSpec, String)> = Vec::new();
    match (&a.port, &a.tcp) {
        (Some(port), _) => {
            for baud in BAUDS {
                let line = LineSettings::new_8n1(baud);
                specs.push((
                    LinkSpec::Serial {
                        port: port.clone(),
                        line,
                    },
                    format!("{baud} 8N1"),
                ));
            }
        }
        (None, Some(_)) => {
            if let Ok(s) = link_spec(a) {
                specs.push((s, "tcp".into()));
            }
        }
        _ => {}
    }
    let mut out = Vec::new();
    let mut clients = vec![a.client, 16, 1];
    clients.dedup();
    for (spec, line) in &specs {
        for physical in &physicals {
            for &client in &clients {
                let Ok(server) = HdlcAddress::server(a.logical_address, *physical) else {
                    continue;
                };
                let mut c = SessionConfig::new(client, server);
                c.response_timeout = timeout;
                c.retries = 1;
                let addr =
                    physical.map_or("one-byte address".to_owned(), |p| format!("physical {p}"));
                out.push(Candidate {
                    spec: spec.clone(),
                    config: c.clone(),
                    label: format!(
                        "{line}, HDLC, client {client}, logical {}, {addr}",
                        a.logical_address
                    ),
                });
                if matches!(spec, LinkSpec::Tcp { .. }) && physical.is_none() {
                    c.framing = Framing::Wrapper {
                        client_wport: u16::from(client),
                        server_wport: a.logical_address,
                    };
                    out.push(Candidate {
                        spec: spec.clone(),
                        config: c,
                        label: format!(
                            "tcp, wrapper, client wPort {client}, server wPort {}",
                            a.logical_address
                        ),
                    });
                }
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    out.retain(|c| seen.insert(c.label.clone()));
    out
}

/// A one-frame check of another protocol.
#[derive(Debug, Clone)]
pub enum Quick {
    /// IEC 62056-21 sign-on at 300 baud 7E1 and a mode C readout.
    Optical { spec: LinkSpec, label: String },
    /// DL/T 645: the lone meter's address from `AA..AA`.
    Dlt645 {
        spec: LinkSpec,
        line: Option<LineSettings>,
        version: Version,
        label: String,
    },
}

impl Quick {
    pub fn label(&self) -> &str {
        match self {
            Quick::Optical { label, .. } | Quick::Dlt645 { label, .. } => label,
        }
    }
}

/// The one-frame checks: optical, then DL/T 645 (2007 read address, then the 1997
/// meter number) at 2400 and 1200 8E1 on a serial port, once over TCP.
pub fn quick_candidates(a: &ProbeArgs) -> Vec<Quick> {
    let mut out = Vec::new();
    match (&a.port, &a.tcp) {
        (Some(port), _) => {
            out.push(Quick::Optical {
                spec: LinkSpec::Serial {
                    port: port.clone(),
                    line: LineSettings::new_7e1(300),
                },
                label: "300 7E1, IEC 62056-21 optical sign-on".into(),
            });
            for baud in [2400, 1200] {
                let line = line_8e1(baud);
                for version in [Version::V2007, Version::V1997] {
                    out.push(Quick::Dlt645 {
                        spec: LinkSpec::Serial {
                            port: port.clone(),
                            line,
                        },
                        line: Some(line),
                        version,
                        label: format!("{line}, {version}, address from AA..AA"),
                    });
                }
            }
        }
        (None, Some(_)) => {
            if let Ok(spec) = link_spec(a) {
                out.push(Quick::Optical {
                    spec: spec.clone(),
                    label: "tcp, IEC 62056-21 optical sign-on".into(),
                });
                for version in [Version::V2007, Version::V1997] {
                    out.push(Quick::Dlt645 {
                        spec: spec.clone(),
                        line: None,
                        version,
                        label: format!("tcp, {version}, address from AA..AA"),
                    });
                }
            }
        }
        _ => {}
    }
    out
}

/// What a quick check found.
enum Found {
    Optical(crate::protocol::iec62056_21::Identification),
    Dlt645(crate::protocol::dlt645::Address),
}

async fn try_quick(q: &Quick, timeout: Duration) -> Result<Option<Found>, String> {
    match q {
        Quick::Optical { spec, .. } => {
            let mut link = spec.open().await.map_err(|e| format!("cannot open: {e}"))?;
            let mut cfg = OpticalConfig::new();
            // Design: a meter may take up to 1.5 s to answer a sign-on (IEC 62056-21
            // t_r); a shorter wait would miss slow meters, whatever --timeout says.
            cfg.reply_timeout = timeout.max(REACTION_TIME_MAX + Duration::from_millis(100));
            match optical::read_out(&mut link, &cfg).await {
                Ok(r) => Ok(Some(Found::Optical(r.identification))),
                Err(OpticalError::NoAnswer { .. }) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        }
        Quick::Dlt645 {
            spec,
            line,
            version,
            ..
        } => {
            let link = spec.open().await.map_err(|e| format!("cannot open: {e}"))?;
            let mut cfg = Dlt645Config::new(*version);
            cfg.line = *line;
            cfg.reply_timeout = timeout;
            cfg.max_attempts = 1;
            match Dlt645Meter::connect(link, cfg).await {
                Ok(m) => Ok(Some(Found::Dlt645(m.address()))),
                Err(Dlt645Error::NoAnswer { .. }) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        }
    }
}

fn print_quick(out: &mut dyn Write, q: &Quick, found: &Found) {
    let _ = writeln!(
        out,
        "\nPut this in the config (/etc/calin-agent/agent.toml):\n"
    );
    let _ = writeln!(out, "[[bus]]\nname = \"bus-1\"");
    let spec = match q {
        Quick::Optical { spec, .. } | Quick::Dlt645 { spec, .. } => spec,
    };
    // Design: an optical bus has no `line` (the sign-on is 300 baud 7E1 by the
    // standard); a DL/T 645 bus keeps the line that answered.
    let _ = match (spec, found) {
        (LinkSpec::Serial { port, .. }, Found::Optical(_)) => writeln!(out, "port = \"{port}\""),
        (LinkSpec::Serial { port, line }, _) => {
            writeln!(out, "port = \"{port}\"\nline = \"{line}\"")
        }
        (LinkSpec::Tcp { endpoint, .. }, _) => writeln!(out, "tcp = \"{endpoint}\""),
    };
    let _ = match (q, found) {
        (_, Found::Optical(id)) => writeln!(
            out,
            "protocol = \"optical\"\n# identification: {}{} {:?}\n[bus.optical]\nmode = \"{}\"{}\n\n[[bus.meter]]\nserial = \"CHANGE-ME\"",
            id.manufacturer().as_str(),
            char::from(id.baud_char().as_byte()),
            id.ident(),
            if id.offers_mode_e() { "mode-e" } else { "readout" },
            if id.offers_mode_e() {
                "   # mode E offered: DLMS over HDLC (or \"readout\" for a mode C readout)"
            } else {
                ""
            }
        ),
        (Quick::Dlt645 { version, .. }, Found::Dlt645(address)) => writeln!(
            out,
            "protocol = \"dlt645\"\n# DL/T 645 meter address {address}\n\n[[bus.meter]]\nserial = \"CHANGE-ME\"\n[bus.meter.dlt645]\naddress = \"{address}\"\nversion = \"{}\"",
            match version {
                Version::V1997 => "1997",
                Version::V2007 => "2007",
            }
        ),
        (_, Found::Dlt645(address)) => writeln!(out, "protocol = \"dlt645\"\n# DL/T 645 meter address {address}"),
    };
}

pub async fn run(a: &ProbeArgs, out: &mut dyn Write, _err: &mut dyn Write) -> u8 {
    let password = super::read_password(a).ok().flatten();
    let base = session_config(a, password.clone());
    if let Err(e) = base {
        let _ = writeln!(out, "error: {e}");
        return exit::USAGE;
    }
    let quick = quick_candidates(a);
    let list = candidates(a, a.serial);
    let _ = writeln!(
        out,
        "Trying {} combinations (short timeout each)...",
        quick.len() + list.len()
    );
    let timeout = Duration::from_secs_f64(a.timeout.clamp(0.05, 120.0).min(1.0));
    for q in &quick {
        let _ = write!(out, "  {:<70} ", q.label());
        let _ = out.flush();
        match try_quick(q, timeout).await {
            Ok(Some(found)) => {
                let _ = writeln!(out, "ANSWERED");
                print_quick(out, q, &found);
                return exit::OK;
            }
            Ok(None) => {
                let _ = writeln!(out, "no answer");
            }
            Err(e) => {
                let _ = writeln!(out, "{e}");
            }
        }
    }
    let mut needs_password = None;
    for cand in list {
        let _ = write!(out, "  {:<70} ", cand.label);
        let _ = out.flush();
        let link = match cand.spec.open().await {
            Ok(l) => l,
            Err(e) => {
                let _ = writeln!(out, "cannot open: {e}");
                return exit::UNAVAILABLE;
            }
        };
        let mut config = cand.config.clone();
        config.password = password.clone();
        match Session::open(link, config.clone()).await {
            Ok(s) => {
                let stats = s.link_stats();
                let _ = s.release().await;
                let _ = writeln!(out, "ANSWERED");
                if stats.echoes > 0 {
                    let _ = writeln!(
                        out,
                        "  note: the adapter echoes what is sent ({} echoed frames skipped)",
                        stats.echoes
                    );
                }
                print_config(out, &cand, &config);
                return exit::OK;
            }
            Err(e @ (MeterError::WrongPassword { .. } | MeterError::PasswordRequired { .. })) => {
                let _ = writeln!(out, "answers, but: {e}");
                needs_password.get_or_insert(cand.label.clone());
            }
            Err(e) => {
                let short = match e {
                    MeterError::NoAnswer { .. } | MeterError::Link { .. } => "no answer".to_owned(),
                    other => other.to_string(),
                };
                let _ = writeln!(out, "{short}");
            }
        }
    }
    match needs_password {
        Some(label) => {
            let _ = writeln!(
                out,
                "The meter answered at {label} but wants a password: give --password-file FILE."
            );
            77
        }
        None => {
            let _ = writeln!(out, "Nothing answered. Check the wiring (A/B swapped?), the meter's power, and for an optical head its position and that the meter's optical port is enabled.");
            exit::UNAVAILABLE
        }
    }
}

fn print_config(out: &mut dyn Write, cand: &Candidate, c: &SessionConfig) {
    let _ = writeln!(
        out,
        "\nPut this in the config (/etc/calin-agent/agent.toml):\n"
    );
    let _ = writeln!(out, "[[bus]]\nname = \"bus-1\"");
    match &cand.spec {
        LinkSpec::Serial { port, line } => {
            let _ = writeln!(
                out,
                "port = \"{port}\"\nline = \"{line}\"\nprotocol = \"hdlc\""
            );
        }
        LinkSpec::Tcp { endpoint, .. } => {
            let proto = if matches!(c.framing, Framing::Wrapper { .. }) {
                "wrapper"
            } else {
                "hdlc"
            };
            let _ = writeln!(out, "tcp = \"{endpoint}\"\nprotocol = \"{proto}\"");
        }
    }
    let _ = writeln!(out, "\n[[bus.meter]]\nserial = \"CHANGE-ME\"");
    if let Some(p) = c.server.lower() {
        let _ = writeln!(out, "physical_address = {p}");
    }
    let _ = writeln!(
        out,
        "logical_address = {}\nclient = {}",
        c.server.upper(),
        c.client
    );
}
