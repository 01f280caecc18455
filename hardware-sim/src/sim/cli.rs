//! The `calin-sim` command line: arguments, the `listening ...` line, exit codes.
//!
//! The binary only parses, sets up logging and the runtime, and maps [`Failure`] to an
//! exit code (sysexits: 64 usage, 69 unavailable, 78 configuration).

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::scenario::Scenario;
use super::serve::{SimError, SimOptions, Simulator};
use super::station::Framing;
use crate::protocol::dlt645::Version;

/// Exit codes (sysexits.h).
pub const EX_USAGE: u8 = 64;
pub const EX_UNAVAILABLE: u8 = 69;
pub const EX_CONFIG: u8 = 78;

/// What a link speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    /// DLMS/COSEM over IEC 62056-46 HDLC (RS-485), every meter on one line.
    Hdlc,
    /// DLMS/COSEM over the IEC 62056-47 wrapper (TCP), one meter per connection.
    Wrapper,
    /// The optical port, IEC 62056-21 (mode C readout, programming mode, mode E to HDLC).
    #[value(name = "iec62056-21", alias = "optical")]
    Optical,
    /// DL/T 645 (2007 unless the meter or --dlt645-version says 1997).
    Dlt645,
}

/// calin-sim: a simulated CalinMeter electricity meter (or a bus of them) speaking
/// DLMS/COSEM over HDLC or the IEC 62056-47 wrapper, IEC 62056-21 on its optical port,
/// or DL/T 645.
///
/// The first line on stdout is `listening tcp HOST:PORT` or `listening pty /dev/pts/N`;
/// logs go to stderr (RUST_LOG sets the level, default info).
#[derive(Debug, clap::Parser)]
#[command(name = "calin-sim", version)]
pub struct Args {
    /// Serve on this TCP address (port 0 picks a free port), HDLC unless told otherwise.
    #[arg(long, value_name = "ADDR", conflicts_with = "pty", required_unless_present_any = ["pty", "check"])]
    pub tcp: Option<SocketAddr>,
    /// Serve on a new pseudo-terminal (HDLC unless told otherwise); open the printed path
    /// as a serial port.
    #[arg(long)]
    pub pty: bool,
    /// Speak the IEC 62056-47 wrapper on TCP instead of HDLC (one meter per connection).
    #[arg(long)]
    pub wrapper: bool,
    /// Serve the meters' optical port (IEC 62056-21) instead of HDLC; the same as
    /// `--protocol iec62056-21`. Over TCP the baud switch is not seen, only accepted.
    #[arg(long)]
    pub optical: bool,
    /// What the link speaks (default hdlc).
    #[arg(long, value_enum, value_name = "PROTOCOL")]
    pub protocol: Option<Protocol>,
    /// With --protocol dlt645: serve every meter in this edition (default: each meter's own).
    #[arg(long, value_name = "YEAR", value_parser = ["2007", "1997"])]
    pub dlt645_version: Option<String>,
    /// With --wrapper: the meter behind the port, by name or serial (default: the first).
    #[arg(long, value_name = "METER")]
    pub meter: Option<String>,
    /// Scenario file (default: the built-in single demo meter, config/scenarios/single.toml).
    #[arg(long, value_name = "FILE")]
    pub scenario: Option<PathBuf>,
    /// Send no faster than a serial line at this baud rate (8N1, 10 bits per byte).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(50..))]
    pub baud: Option<u32>,
    /// Scenario seconds per real second (speeds up scripted changes and fault windows).
    #[arg(long, value_name = "F", default_value_t = 1.0)]
    pub time_scale: f64,
    /// Check a scenario file, print a summary, and exit (0 valid, 78 invalid).
    #[arg(long, value_name = "FILE", conflicts_with_all = ["tcp", "pty", "scenario"])]
    pub check: Option<PathBuf>,
}

/// Why the simulator stopped with an error, and the exit code for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    fn new(code: u8, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

fn load(path: Option<&PathBuf>) -> Result<Scenario, Failure> {
    match path {
        Some(p) => Scenario::load(p).map_err(|e| Failure::new(EX_CONFIG, e.to_string())),
        None => Ok(Scenario::builtin()),
    }
}

/// `dlms, iec62056-21 (address 47001234567), dlt645 2007 (address 047001234567)`.
fn speaks(m: &super::scenario::MeterSpec) -> String {
    let mut parts = Vec::new();
    if m.dlms {
        parts.push("dlms".to_owned());
    }
    if let Some(o) = &m.optical {
        parts.push(format!("iec62056-21 (address {})", o.address.as_str()));
    }
    if let Some(d) = &m.dlt645 {
        let year = match d.version {
            Version::V2007 => 2007,
            Version::V1997 => 1997,
        };
        parts.push(format!("dlt645 {year} (address {})", d.address));
    }
    parts.join(", ")
}

/// The protocol the flags ask for: `--protocol`, or its shorthands `--wrapper` and
/// `--optical`, which must agree with it.
fn protocol(args: &Args) -> Result<Protocol, Failure> {
    let shorthands = [
        (args.wrapper, Protocol::Wrapper, "--wrapper"),
        (args.optical, Protocol::Optical, "--optical"),
    ];
    let mut chosen: Option<(Protocol, &str)> = args.protocol.map(|p| (p, "--protocol"));
    for (set, p, flag) in shorthands {
        match (set, chosen) {
            (false, _) => {}
            (true, Some((q, other))) if q != p => {
                return Err(Failure::new(
                    EX_USAGE,
                    format!("{flag} and {other} ask for different protocols"),
                ))
            }
            (true, _) => chosen = Some((p, flag)),
        }
    }
    Ok(chosen.map_or(Protocol::Hdlc, |(p, _)| p))
}

/// Run until `shutdown` resolves. Writes the `listening` line (flushed) to `out`.
pub async fn run(
    args: Args,
    out: &mut impl Write,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Failure> {
    let io = |e: std::io::Error| Failure::new(EX_UNAVAILABLE, format!("stdout: {e}"));
    if let Some(path) = &args.check {
        let s = load(Some(path))?;
        for m in &s.meters {
            writeln!(
                out,
                "meter {} at {} serial {}: {} change(s), {} fault(s); speaks {}",
                m.name,
                m.address,
                m.serial,
                m.changes.len(),
                m.faults.len(),
                speaks(m)
            )
            .map_err(io)?;
        }
        return Ok(());
    }
    // Design: checked here rather than by clap's `requires`, which does not hold for these
    // flags next to the --tcp/--pty conflict.
    let protocol = protocol(&args)?;
    if protocol == Protocol::Wrapper && args.tcp.is_none() {
        return Err(Failure::new(
            EX_USAGE,
            "--wrapper needs --tcp (the wrapper is for TCP)",
        ));
    }
    if args.dlt645_version.is_some() && protocol != Protocol::Dlt645 {
        return Err(Failure::new(
            EX_USAGE,
            "--dlt645-version needs --protocol dlt645",
        ));
    }
    if args.meter.is_some() && protocol != Protocol::Wrapper {
        return Err(Failure::new(
            EX_USAGE,
            "--meter needs --wrapper (HDLC serves every meter)",
        ));
    }
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        return Err(Failure::new(
            EX_USAGE,
            "--time-scale must be a positive number",
        ));
    }
    let scenario = load(args.scenario.as_ref())?;
    let framing = match (protocol, &args.meter) {
        (Protocol::Hdlc, _) => Framing::Hdlc,
        (Protocol::Optical, _) => Framing::Optical,
        (Protocol::Dlt645, _) => Framing::Dlt645 {
            version: match args.dlt645_version.as_deref() {
                Some("1997") => Some(Version::V1997),
                Some(_) => Some(Version::V2007),
                None => None,
            },
        },
        (Protocol::Wrapper, None) => Framing::Wrapper { meter: 0 },
        (Protocol::Wrapper, Some(name)) => Framing::Wrapper {
            meter: scenario.meter_index(name).ok_or_else(|| {
                Failure::new(
                    EX_USAGE,
                    format!("--meter {name}: no meter with that name or serial"),
                )
            })?,
        },
    };
    let options = SimOptions {
        time_scale: args.time_scale,
        baud: args.baud,
        ..SimOptions::default()
    };
    let sim =
        Simulator::new(scenario, options).map_err(|e| Failure::new(EX_CONFIG, e.to_string()))?;
    let unavailable = |e: super::serve::SimError| match e {
        // The scenario has no meter for what the link speaks.
        SimError::NoMeterSpeaks { .. } | SimError::NoSuchMeter(_) => {
            Failure::new(EX_CONFIG, e.to_string())
        }
        other => Failure::new(EX_UNAVAILABLE, other.to_string()),
    };
    match args.tcp {
        Some(addr) => {
            let (local, _task) = sim.serve_tcp(addr, framing).await.map_err(unavailable)?;
            writeln!(out, "listening tcp {local}").map_err(io)?;
        }
        None => {
            let (path, _task) = sim.serve_pty(framing).map_err(unavailable)?;
            writeln!(out, "listening pty {}", path.display()).map_err(io)?;
        }
    }
    out.flush().map_err(io)?;
    for m in &sim.scenario().meters {
        tracing::info!(meter = %m.name, address = %m.address, serial = %m.serial, "meter on the line");
    }
    shutdown.await;
    sim.handle().shutdown();
    Ok(())
}
