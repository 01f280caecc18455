//! `calin-agent run`: the daemon in the foreground, as systemd starts it.
//!
//! Loads the config (exit 78 when it is bad, naming file and line), installs the log
//! target and the signal handlers (SIGTERM/SIGINT stop, SIGHUP reloads, a second stop
//! signal exits at once), and runs `agent::daemon::run_with` until it returns (exit 69
//! when the state directory cannot be used). Nothing here polls or decides.

use super::{exit, logging};
use crate::agent::daemon::{run_with, Control, Notifier, RunOptions};
use crate::config::Config;
use std::io::Write;
use std::path::Path;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, watch};

/// Run the daemon with the config at `path`; returns the exit code.
pub fn run(path: &Path, err: &mut dyn Write) -> u8 {
    let config = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::CONFIG;
        }
    };
    let target = logging::init(config.agent.log_format);
    tracing::debug!(?target, "log target");
    // Design: one thread runs every bus (they wait on the wire, not the CPU); the
    // store has its own thread so an fsync never holds a bus up.
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = writeln!(err, "error: cannot start the runtime: {e}");
            return exit::SOFTWARE;
        }
    };
    runtime.block_on(async move {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (reload_tx, reload_rx) = mpsc::unbounded_channel();
        if let Err(e) = spawn_signal_handlers(stop_tx, reload_tx) {
            let _ = writeln!(err, "error: cannot install signal handlers: {e}");
            return exit::SOFTWARE;
        }
        let control = Control {
            shutdown: stop_rx,
            reload: Some(reload_rx),
        };
        match run_with(config, control, RunOptions::new(Notifier::from_env())).await {
            Ok(()) => exit::OK,
            Err(e) => {
                tracing::error!(error = %e, "cannot start");
                let _ = writeln!(err, "error: {e}");
                if e.is_unavailable() {
                    exit::UNAVAILABLE
                } else {
                    exit::SOFTWARE
                }
            }
        }
    })
}

fn spawn_signal_handlers(
    stop: watch::Sender<bool>,
    reload: mpsc::UnboundedSender<()>,
) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    tokio::spawn(async move {
        loop {
            let name = tokio::select! {
                Some(()) = term.recv() => "SIGTERM",
                Some(()) = int.recv() => "SIGINT",
                Some(()) = hup.recv() => {
                    let _ = reload.send(());
                    continue;
                }
                else => return,
            };
            if *stop.borrow() {
                tracing::warn!(signal = name, "second stop signal: exiting now");
                std::process::exit(i32::from(exit::SOFTWARE));
            }
            tracing::info!(signal = name, "stop requested");
            stop.send_replace(true);
        }
    });
    Ok(())
}
