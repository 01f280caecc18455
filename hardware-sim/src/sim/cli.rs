//! The `calin-sim` command line: arguments, the `listening ...` line, exit codes.
//!
//! The binary only parses, sets up logging and the runtime, and maps [`Failure`] to an
//! exit code (sysexits: 64 usage, 69 unavailable, 78 configuration).

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use super::scenario::Scenario;
use super::serve::{SimOptions, Simulator};
use super::station::Framing;

/// Exit codes (sysexits.h).
pub const EX_USAGE: u8 = 64;
pub const EX_UNAVAILABLE: u8 = 69;
pub const EX_CONFIG: u8 = 78;

/// calin-sim: a simulated CalinMeter electricity meter (or a bus of them) speaking
/// DLMS/COSEM over HDLC or the IEC 62056-47 wrapper.
///
/// The first line on stdout is `listening tcp HOST:PORT` or `listening pty /dev/pts/N`;
/// logs go to stderr (RUST_LOG sets the level, default info).
#[derive(Debug, clap::Parser)]
#[command(name = "calin-sim", version)]
pub struct Args {
    /// Serve on this TCP address (port 0 picks a free port), HDLC unless --wrapper.
    #[arg(long, value_name = "ADDR", conflicts_with = "pty", required_unless_present_any = ["pty", "check"])]
    pub tcp: Option<SocketAddr>,
    /// Serve HDLC on a new pseudo-terminal; open the printed path as a serial port.
    #[arg(long)]
    pub pty: bool,
    /// Speak the IEC 62056-47 wrapper on TCP instead of HDLC (one meter per connection).
    #[arg(long)]
    pub wrapper: bool,
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
                "meter {} at {} serial {}: {} change(s), {} fault(s)",
                m.name,
                m.address,
                m.serial,
                m.changes.len(),
                m.faults.len()
            )
            .map_err(io)?;
        }
        return Ok(());
    }
    // Design: checked here rather than by clap's `requires`, which does not hold for these
    // flags next to the --tcp/--pty conflict.
    if args.wrapper && args.tcp.is_none() {
        return Err(Failure::new(
            EX_USAGE,
            "--wrapper needs --tcp (the wrapper is for TCP)",
        ));
    }
    if args.meter.is_some() && !args.wrapper {
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
    let framing = match (&args.meter, args.wrapper) {
        (_, false) => Framing::Hdlc,
        (None, true) => Framing::Wrapper { meter: 0 },
        (Some(name), true) => Framing::Wrapper {
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
    let unavailable = |e: super::serve::SimError| Failure::new(EX_UNAVAILABLE, e.to_string());
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
