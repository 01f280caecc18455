//! `calin-agent demo`: the daemon polling the built-in demo fleet (the in-process
//! simulator on a pseudo-terminal), printing each alert as it is raised.
//!
//! Everything is real but the meters: the serial link, the DLMS conversations, the
//! alert engine and the store. Scenario time runs `--time-scale` times faster than
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

/// Scenario seconds the demo runs for: the demo fleet's last change is at 90 s, and
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

/// The agent config for the demo fleet on `port`, polls scaled by `scale`.
fn config_text(scenario: &Scenario, port: &Path, state: &Path, scale: f64) -> String {
    // Every 10 scenario seconds, and a reminder after 30.
    let every = ((10_000.0 / scale) as u64).max(100);
    let remind = ((30_000.0 / scale) as u64).max(500);
    let mut t = format!(
        "[site]\nname = \"calin-agent demo\"\n\n[agent]\nstate_dir = \"{}\"\nreminder_interval = \"{remind}ms\"\nunreachable_after = 2\n\n[metrics]\nenabled = false\n\n[poll]\nstatus = \"{every}ms\"\nenergy = \"{every}ms\"\ncounters = \"{every}ms\"\njitter = 0.0\n\n[[bus]]\nname = \"demo\"\nport = \"{}\"\nresponse_timeout = \"300ms\"\ninter_char_timeout = \"50ms\"\nretries = 2\n",
        state.display(),
        port.display()
    );
    for m in &scenario.meters {
        t.push_str(&format!(
            "\n[[bus.meter]]\nserial = \"{}\"\nphysical_address = {}\n",
            m.serial,
            m.address.lower().unwrap_or(17)
        ));
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
    let (port, _serving) = match sim.serve_pty(Framing::Hdlc) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "error: cannot create a pseudo-terminal: {e}");
            return exit::UNAVAILABLE;
        }
    };
    let temp = args.state_dir.is_none().then(TempState::new);
    let state = match (&args.state_dir, &temp) {
        (Some(dir), _) => dir.clone(),
        (None, Some(t)) => t.0.clone(),
        (None, None) => return exit::SOFTWARE,
    };
    let text = config_text(&scenario, &port, &state, args.time_scale);
    let config = match Config::parse(Path::new("<demo>"), &text) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: the demo config: {e}");
            return exit::SOFTWARE;
        }
    };
    let seconds = SCENARIO_SECONDS / args.time_scale;
    if !args.json {
        let _ = writeln!(
            out,
            "demo: {} meters on {} (simulated), {seconds:.0} s; alerts as they are raised:",
            scenario.meters.len(),
            port.display()
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
