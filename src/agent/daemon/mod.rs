//! The field-gateway daemon: one task per bus, a schedule per bus, the alert engine and
//! the store; `run(config, shutdown, notifier)` so tests can start and stop it.
//!
//! Shape: `run` opens (and locks) the state directory, starts the recorder thread that
//! owns the store, then one task per bus; it stays in a supervisor loop that feeds the
//! systemd watchdog while every bus loop beats, reloads the config on request and
//! stops everything on shutdown. Nothing here parses wire bytes (that is `meter`) or
//! decides alerts (that is the engine); only a bad start (the state directory) is an
//! error, everything later is logged and retried.

mod bus;
pub mod convert;
pub mod events;
mod generation;
pub mod heartbeat;
mod link;
mod lock;
pub mod notify;
mod options;
mod recorder;
pub mod schedule;
mod services;

pub use events::{DaemonEvent, Stats};
pub use notify::Notifier;
pub use options::{Clock, Control, RunOptions, SHUTDOWN_GRACE};

use crate::agent::engine::AlertPolicy;
use crate::agent::metrics::Metrics;
use crate::agent::store::{Retention as StoreRetention, Store, StoreConfig, StoreError};
use crate::config::Config;
use events::Events;
use generation::{reload, reloading_state, start_buses, Outputs};
use heartbeat::Heartbeat;
use options::STATUS_EVERY;
use recorder::{Job, Recorder};
use services::Services;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("the state directory {} cannot be used: {source}", dir.display())]
    State {
        dir: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("the state directory {} is used by another running calin-agent (lock file {}): stop it first", dir.display(), lock.display())]
    Locked { dir: PathBuf, lock: PathBuf },
    #[error("cannot lock the state directory {}: {source}", dir.display())]
    Lock {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the recorder thread: {0}")]
    Thread(#[source] std::io::Error),
    #[error("cannot serve metrics on {listen}: {source} (set [metrics] listen to a free address, or enabled = false)")]
    Metrics {
        listen: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start MQTT publishing: {0}")]
    Publisher(#[source] crate::agent::publish::PublishError),
    /// The recorder thread ended while the daemon ran (a bug): nothing could be
    /// recorded any more, so the daemon stops rather than poll for nothing.
    #[error("the recorder thread ended unexpectedly; stopping so that the service is restarted")]
    RecorderGone,
}

impl DaemonError {
    /// Whether something the daemon needs is not there (exit 69, "unavailable"): the
    /// state directory, the metrics port, the MQTT TLS files or outbox.
    pub fn is_unavailable(&self) -> bool {
        !matches!(self, DaemonError::Thread(_) | DaemonError::RecorderGone)
    }
}

/// Run the daemon until `shutdown` turns true. See `run_with`.
pub async fn run(
    config: Config,
    shutdown: watch::Receiver<bool>,
    notifier: Notifier,
) -> Result<(), DaemonError> {
    let control = Control {
        shutdown,
        reload: None,
    };
    run_with(config, control, RunOptions::new(notifier)).await
}

/// The store settings from the config's `[agent]` paths and retention section.
pub fn store_config(config: &Config) -> StoreConfig {
    let r = &config.retention;
    StoreConfig {
        dir: config.agent.state_dir.clone(),
        // Relative to the state directory, as the config documents; the store
        // resolves it the same way as `AgentSettings::alerts_file_path`.
        alert_file: config.agent.alerts_file.clone(),
        retention: StoreRetention {
            readings_per_meter: r.readings_per_meter,
            reading_max_age_ms: i64::try_from(r.readings_max_age.0.as_millis()).unwrap_or(i64::MAX),
            max_alerts: r.alerts_max,
            ..StoreRetention::default()
        },
    }
}

fn policy(config: &Config) -> AlertPolicy {
    AlertPolicy {
        unreachable_after: config.agent.unreachable_after.max(1),
        reminder_interval_ms: i64::try_from(config.agent.reminder_interval.0.as_millis())
            .ok()
            .filter(|ms| *ms > 0),
    }
}

/// Resolves once `rx` holds `true`, or its sender is gone.
// Design: the `watch::Ref` that `wait_for` returns is not `Send`; it must not live
// across another branch's await in a `select!`.
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Run the daemon: open the state directory, start the buses, supervise until stopped.
/// Returns an error only when it cannot start.
pub async fn run_with(
    config: Config,
    mut control: Control,
    options: RunOptions,
) -> Result<(), DaemonError> {
    let store_cfg = store_config(&config);
    let _lock = lock::StateLock::acquire(&store_cfg.dir)?;
    let mut store = Store::open(store_cfg.clone()).map_err(|source| DaemonError::State {
        dir: store_cfg.dir.clone(),
        source,
    })?;
    let metrics = Metrics::new();
    let (services_stop, services_rx) = watch::channel(false);
    let services = Services::start(&config, &mut store, &metrics, services_rx).await?;
    let events = Events::new(options.events.clone());
    if let Some(server) = &services.metrics {
        events.send(DaemonEvent::MetricsServing {
            addr: server.local_addr,
        });
    }
    let stats = Arc::new(Stats::default());
    let recorder = Recorder::start(
        store,
        config.lookup.clone(),
        policy(&config),
        options.clock,
        recorder::Outputs {
            events: events.clone(),
            stats: stats.clone(),
            metrics: metrics.clone(),
        },
    )?;
    let heartbeat = Heartbeat::new();
    let notifier = &options.notifier;
    let mut config = config;
    let outputs = Outputs {
        events: &events,
        stats: &stats,
        metrics: &metrics,
        heartbeat: &heartbeat,
    };
    let mut generation = start_buses(&config, &recorder, &options, &outputs);
    notifier.ready();
    notifier.status(&stats.status_line());
    tracing::info!(config = %config.path.display(), state_dir = %store_cfg.dir.display(),
        alerts_file = %store_cfg.alert_file_path().display(),
        watchdog_ms = options.watchdog.map(|d| d.as_millis() as u64), "calin-agent running");
    let tick_every = options.watchdog.unwrap_or(STATUS_EVERY);
    let mut tick = tokio::time::interval(tick_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stuck_reported = false;
    let mut recorder_gone = false;
    loop {
        tokio::select! {
            () = stopped(&mut control.shutdown) => break,
            Some(()) = recv(&mut control.reload) => {
                if let Some(new) = reload(&config, notifier, &events) {
                    notifier.notify(&reloading_state());
                    generation.stop().await;
                    heartbeat.clear();
                    let _ = recorder.tx.send(Job::Reconfigure {
                        lookup: new.lookup.clone(),
                        policy: policy(&new),
                    }).await;
                    config = new;
                    generation = start_buses(&config, &recorder, &options, &outputs);
                    notifier.ready();
                    events.send(DaemonEvent::Reloaded { ok: true, message: format!("{} reloaded", config.path.display()) });
                }
            }
            _ = tick.tick() => {
                if recorder.tx.is_closed() {
                    tracing::error!("the recorder thread has ended; stopping");
                    recorder_gone = true;
                    break;
                }
                let stale = heartbeat.stale(tick_every.saturating_mul(2));
                if stale.is_empty() {
                    if options.watchdog.is_some() {
                        notifier.watchdog();
                    }
                    stuck_reported = false;
                } else if !stuck_reported {
                    stuck_reported = true;
                    tracing::error!(loops = ?stale, "a bus loop has not moved: the watchdog is no longer fed");
                }
                notifier.status(&stats.status_line());
            }
        }
    }
    notifier.notify("STOPPING=1");
    tracing::info!("stopping: finishing conversations in flight");
    let started = Instant::now();
    generation.stop().await;
    let store = recorder.finish().await;
    drop(store);
    // Last: the publisher sends what the final polls committed, then `offline`.
    services_stop.send_replace(true);
    services.stop().await;
    tracing::info!(took_ms = started.elapsed().as_millis() as u64, status = %stats.status_line(), "stopped");
    events.send(DaemonEvent::Stopped);
    if recorder_gone {
        return Err(DaemonError::RecorderGone);
    }
    Ok(())
}

async fn recv(rx: &mut Option<mpsc::UnboundedReceiver<()>>) -> Option<()> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}
