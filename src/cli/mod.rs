//! Argument parsing and human/JSON output for the subcommands.
//!
//! Each subcommand returns an [`Outcome`] (exit code); `main` only maps it. Output
//! goes to the writer it is given, so tests can capture it.

mod alerts;
mod card;
mod codes_table;
mod decode;
mod demo;
mod frame;
pub mod logging;
pub mod probe;
mod run;
mod status;

use crate::codes::Mode;
use crate::config::{Config, ConfigError, DEFAULT_CONFIG_PATH};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

/// Exit codes (sysexits style, ARCHITECTURE.md §8), plus the decoder's own.
pub mod exit {
    pub const OK: u8 = 0;
    /// `decode`: input that is not a code at all.
    pub const NOT_A_CODE: u8 = 2;
    /// `decode`: a well-formed number the tables do not define.
    pub const UNKNOWN_CODE: u8 = 3;
    pub const USAGE: u8 = 64;
    pub const DATA: u8 = 65;
    pub const UNAVAILABLE: u8 = 69;
    pub const SOFTWARE: u8 = 70;
    /// An output file cannot be written.
    pub const CANT_CREATE: u8 = 73;
    pub const CONFIG: u8 = 78;
}

#[derive(Debug, Parser)]
#[command(
    name = "calin-agent",
    version,
    about = "Meter polling agent and field tool for CalinMeter electricity meters"
)]
pub struct Cli {
    /// Config file (site name, mode, code overrides). Default: /etc/calin-agent/agent.toml
    /// when it exists, else the built-in tables.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain a code: `1008`, `87:8` (same entry), or a short code such as `40`.
    Decode {
        /// The code: a short code (1-2 digits), an operating status (1000-1025) or 87:N.
        #[arg(allow_hyphen_values = true)]
        code: String,
        /// Billing mode of the meter (credit codes are ignored in postpaid).
        #[arg(long)]
        mode: Option<Mode>,
        /// Print one JSON object instead of the explanation.
        #[arg(long)]
        json: bool,
    },
    /// Print the whole code table (short codes and operating status 1000-1025).
    Codes {
        /// Billing mode of the meter (marks codes that do not apply).
        #[arg(long)]
        mode: Option<Mode>,
        /// Print a JSON array instead of the aligned table.
        #[arg(long)]
        json: bool,
    },
    /// Read a meter on the spot: status, short codes or any object, decoded.
    Probe(Box<probe::ProbeArgs>),
    /// Decode a captured HDLC frame, wrapper frame or bare APDU, layer by layer.
    Frame {
        /// The bytes as hex (`7E A0 07 ...`, `7ea007...`, `0x7E,0xA0`); several arguments are joined.
        #[arg(required = true)]
        hex: Vec<String>,
        /// Print the layers as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// List the alerts in the gateway's store (newest last).
    Alerts {
        /// Only alerts raised since: a duration back from now (24h, 7d) or a date (2026-11-27).
        #[arg(long)]
        since: Option<String>,
        /// Only this meter (serial number).
        #[arg(long)]
        meter: Option<String>,
        /// At most this many alerts.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// One JSON object per line (the alert wire format).
        #[arg(long)]
        json: bool,
    },
    /// Write the printable code reference card (PDF or HTML) with the site's overrides.
    Card(card::CardArgs),
    /// Run the polling daemon in the foreground (as systemd does): poll every meter of
    /// the config, raise alerts, store them. SIGTERM stops, SIGHUP reloads the config.
    Run,
    /// Watch the daemon at work on a simulated fleet: four DLMS meters on RS-485, a
    /// DL/T 645 meter and an optical head (a tamper, an over-voltage and its recovery, a
    /// meter that goes silent, a magnet, a power cut): alerts as they come.
    Demo(demo::DemoArgs),
    /// A summary for the technician: meters, last successful polls, active alerts by
    /// category, the MQTT outbox and the broker link.
    Status {
        /// Print one JSON object instead of the summary.
        #[arg(long)]
        json: bool,
    },
    /// Validate a config file without polling; exit 78 when it is bad.
    CheckConfig {
        /// The file to check (default: the global --config, then /etc/calin-agent/agent.toml).
        file: Option<PathBuf>,
    },
}

/// Load the config named on the command line, or the installed one if present.
pub fn load_config(explicit: Option<&PathBuf>) -> Result<Config, ConfigError> {
    match explicit {
        Some(p) => Config::load(p),
        None => {
            let installed = PathBuf::from(DEFAULT_CONFIG_PATH);
            if installed.exists() {
                Config::load(&installed)
            } else {
                Ok(Config::default())
            }
        }
    }
}

/// Run one command; returns the process exit code.
pub fn run(cli: Cli, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if let Command::CheckConfig { file } = &cli.command {
        let path = file
            .clone()
            .or_else(|| cli.config.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
        return match Config::load(&path) {
            Ok(c) => {
                let meters: usize = c.buses.iter().map(|b| b.meters.len()).sum();
                let _ = writeln!(
                    out,
                    "{}: OK ({} bus(es), {meters} meter(s), profile `{}`, {} code override(s), mode {})",
                    path.display(),
                    c.buses.len(),
                    c.profile.name,
                    c.lookup.overrides().len(),
                    c.site.mode
                );
                exit::OK
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                exit::CONFIG
            }
        };
    }
    if let Command::Frame { hex, json } = &cli.command {
        return frame::run(hex, *json, out, err);
    }
    if let Command::Run = &cli.command {
        let path = cli
            .config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_PATH));
        return run::run(&path, err);
    }
    if let Command::Demo(args) = cli.command {
        return demo::run(args, out, err);
    }
    let config = match load_config(cli.config.as_ref()) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::CONFIG;
        }
    };
    match cli.command {
        Command::Decode { code, mode, json } => {
            let mode = mode.unwrap_or(config.site.mode);
            decode::run(&config.lookup, &code, mode, json, out, err)
        }
        Command::Codes { mode, json } => {
            let mode = mode.unwrap_or(config.site.mode);
            codes_table::run(&config.lookup, mode, json, out)
        }
        Command::Alerts {
            since,
            meter,
            limit,
            json,
        } => alerts::run(
            &config,
            since.as_deref(),
            meter.as_deref(),
            limit,
            json,
            out,
            err,
        ),
        Command::Probe(mut args) => {
            args.site.clone_from(&config.site.name);
            probe::run(
                *args,
                &config.profile,
                &config.lookup,
                config.site.mode,
                out,
                err,
            )
        }
        Command::Card(args) => card::run(&config, &args, out, err),
        Command::Status { json } => status::run(&config, json, out, err),
        Command::CheckConfig { .. } | Command::Frame { .. } | Command::Run | Command::Demo(_) => {
            exit::SOFTWARE
        }
    }
}
