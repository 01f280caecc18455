//! `calin-agent demo`: the daemon polling the built-in demo fleet (the in-process
//! simulator on pseudo-terminals: an RS-485 DLMS bus, a DL/T 645 line and an optical
//! head), printing each alert as it is raised.
//!
//! Everything is real but the meters: the serial links, the DLMS, DL/T 645 and
//! IEC 62056-21 conversations, the alert engine and the store. Scenario time runs `--time-scale` times faster than
//! the clock, and the poll plan is scaled with it. Nothing here decides alerts.

use super::exit;
use crate::agent::daemon::{run_with, Control, DaemonEvent, Notifier, RunOptions};
use crate::agent::Alert;
use crate::config::Config;
use crate::sim::{Framing, Scenario, SimOptions, Simulator};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Scenario seconds the demo runs for: the demo fleet's last change is at 110 s, and
/// a meter that was silent is polled again within four poll intervals.
const SCENARIO_SECONDS: f64 = 150.0;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Scenario seconds per real second (the story lasts 150 scenario seconds).
    #[arg(long, default_value_t = 10.0, value_name = "F")]
    pub time_scale: f64,
    /// Keep the state (database and alerts.jsonl) in this directory instead of a
    /// temporary one, e.g. to look at it with `calin-agent alerts` afterwards.
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Print each alert as one JSON line (the alert wire format).
    #[arg(long)]
    pub json: bool,
}

/// One simulated line of the demo and the meters on it.
struct DemoBus {
    name: &'static str,
    framing: Framing,
    /// `protocol = ...` and the bus's own table.
    keys: &'static str,
    port: PathBuf,
    meters: Vec<usize>,
}

/// The demo's lines: the DLMS meters on RS-485, the DL/T 645-only meters on a second
/// line, the optical-only meters behind an optical head (each line only when used).
fn demo_buses(scenario: &Scenario) -> Vec<DemoBus> {
    let kinds: [(&str, Framing, &str); 3] = [
        ("rs485-dlms", Framing::Hdlc, "protocol = \"hdlc\""),
        (
            "rs485-dlt645",
            Framing::Dlt645 { version: None },
            "protocol = \"dlt645\"",
        ),
        (
            "optical-head",
            Framing::Optical,
            "protocol = \"optical\"\n[bus.optical]\nmode = \"readout\"",
        ),
    ];
    let mut buses: Vec<DemoBus> = kinds
        .into_iter()
        .map(|(name, framing, keys)| DemoBus {
            name,
            framing,
            keys,
            port: PathBuf::new(),
            meters: Vec::new(),
        })
        .collect();
    for (i, m) in scenario.meters.iter().enumerate() {
        // A meter is polled on the first line it speaks: DLMS, then DL/T 645, then optical.
        let line = if m.dlms {
            0
        } else if m.dlt645.is_some() {
            1
        } else {
            2
        };
        if let Some(b) = buses.get_mut(line) {
            b.meters.push(i);
        }
    }
    buses.retain(|b| !b.meters.is_empty());
    buses
}

/// The agent config for the demo fleet on `buses`, polls scaled by `scale`.
fn config_text(scenario: &Scenario, buses: &[DemoBus], state: &Path, scale: f64) -> String {
    // Every 10 scenario seconds, and a reminder after 30.
    let every = ((10_000.0 / scale) as u64).max(100);
    let remind = ((30_000.0 / scale) as u64).max(500);
    let mut t = format!(
        "[site]\nname = \"calin-agent demo\"\n\n[agent]\nstate_dir = \"{}\"\nreminder_interval = \"{remind}ms\"\nunreachable_after = 2\n\n[metrics]\nenabled = false\n\n[poll]\nstatus = \"{every}ms\"\nenergy = \"{every}ms\"\ncounters = \"{every}ms\"\njitter = 0.0\n",
        state.display(),
    );
    for b in buses {
        t.push_str(&format!(
            "\n[[bus]]\nname = \"{}\"\nport = \"{}\"\nresponse_timeout = \"300ms\"\ninter_char_timeout = \"50ms\"\nretries = 2\n{}\n",
            b.name,
            b.port.display(),
            b.keys
        ));
        for m in b.meters.iter().filter_map(|i| scenario.meters.get(*i)) {
            t.push_str(&format!("\n[[bus.meter]]\nserial = \"{}\"\n", m.serial));
            match b.framing {
                Framing::Dlt645 { .. } => {
                    if let Some(d) = &m.dlt645 {
                        t.push_str(&format!(
                            "[bus.meter.dlt645]\naddress = \"{}\"\n",
                            d.address
                        ));
                    }
                }
                Framing::Optical => {
                    if let Some(o) = &m.optical {
                        t.push_str(&format!(
                            "[bus.meter.optical]\naddress = \"{}\"\n",
                            o.address.as_str()
                        ));
                    }
                }
                _ => t.push_str(&format!(
                    "physical_address = {}\n",
                    m.address.lower().unwrap_or(17)
                )),
            }
        }
    }
    t
}

pub fn run(args: DemoArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        let _ = writeln!(err, "error: --time-scale must be a positive number");
        return exit::USAGE;
    }
    if std::env::var_os("CALIN_LOG").is_some() {
        super::logging::init(crate::config::LogFormat::Text);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the runtime: {e}");
            return exit::SOFTWARE;
        }
    };
    runtime.block_on(demo(args, out, err))
}

async fn demo(args: DemoArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let scenario = match Scenario::demo() {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: the demo scenario: {e}");
            return exit::SOFTWARE;
        }
    };
    let options = SimOptions {
        time_scale: args.time_scale,
        ..SimOptions::default()
    };
    let sim = match Simulator::new(scenario.clone(), options) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "error: the simulator: {e}");
            return exit::SOFTWARE;
        }
    };
    let mut buses = demo_buses(&scenario);
    // Dropping a serving task's handle detaches it: each line is served until the end.
    for b in &mut buses {
        match sim.serve_pty(b.framing) {
            Ok((port, _serving)) => b.port = port,
            Err(e) => {
                let _ = writeln!(err, "error: cannot create a pseudo-terminal: {e}");
                return exit::UNAVAILABLE;
            }
        }
    }
    let temp = args.state_dir.is_none().then(TempState::new);
    let state = match (&args.state_dir, &temp) {
        (Some(dir), _) => dir.clone(),
        (None, Some(t)) => t.0.clone(),
        (None, None) => return exit::SOFTWARE,
    };
    let text = config_text(&scenario, &buses, &state, args.time_scale);
    let config = match Config::parse(Path::new("<demo>"), &text) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: the demo config: {e}");
            return exit::SOFTWARE;
        }
    };
    let seconds = SCENARIO_SECONDS / args.time_scale;
    if !args.json {
        let lines: Vec<String> = buses
            .iter()
            .map(|b| format!("{} ({} on {})", b.name, b.meters.len(), b.port.display()))
            .collect();
        let _ = writeln!(
            out,
            "demo: {} simulated meters on {}; {seconds:.0} s; alerts as they are raised:",
            scenario.meters.len(),
            lines.join(", ")
        );
    }
    let (events_tx, mut events) = broadcast::channel(4096);
    let (stop, stop_rx) = watch::channel(false);
    let mut run_options = RunOptions::new(Notifier::disabled());
    run_options.watchdog = None;
    run_options.events = Some(events_tx);
    let control = Control {
        shutdown: stop_rx,
        reload: None,
    };
    let daemon = tokio::spawn(run_with(config, control, run_options));
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut alerts = 0usize;
    let (mut polls, mut failed) = (0usize, 0usize);
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => break,
            _ = tokio::signal::ctrl_c() => break,
            event = events.recv() => match event {
                Ok(DaemonEvent::Recorded { alerts: new, .. }) => {
                    for a in &new {
                        alerts += 1;
                        print_alert(out, a, started.elapsed(), args.json);
                    }
                }
                Ok(DaemonEvent::Polled { ok, .. }) => {
                    polls += 1;
                    failed += usize::from(!ok);
                }
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
        }
    }
    stop.send_replace(true);
    match daemon.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            let _ = writeln!(err, "error: {e}");
            return if e.is_unavailable() {
                exit::UNAVAILABLE
            } else {
                exit::SOFTWARE
            };
        }
        Err(e) => {
            let _ = writeln!(err, "error: the daemon task failed: {e}");
            return exit::SOFTWARE;
        }
    }
    if !args.json {
        let _ = writeln!(
            out,
            "demo: {polls} polls ({failed} failed), {alerts} alerts."
        );
        if let Some(dir) = &args.state_dir {
            let _ = writeln!(
                out,
                "demo: the state is in {}: list it with `calin-agent alerts` and agent.state_dir = \"{}\"",
                dir.display(),
                dir.display()
            );
        }
    }
    exit::OK
}

/// A state directory of this run only, removed when the demo ends.
struct TempState(PathBuf);

impl TempState {
    fn new() -> TempState {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!("calin-demo-{}-{nanos}", std::process::id());
        TempState(std::env::temp_dir().join(name))
    }
}

impl Drop for TempState {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn print_alert(out: &mut dyn Write, a: &Alert, at: Duration, json: bool) {
    let _ = if json {
        writeln!(out, "{}", a.to_json_line())
    } else {
        writeln!(
            out,
            "[{:>5.1}s] {:<8} {:<20} {}",
            at.as_secs_f64(),
            a.severity.as_str().to_uppercase(),
            a.kind.as_str(),
            a.message
        )
    };
    let _ = out.flush();
}
