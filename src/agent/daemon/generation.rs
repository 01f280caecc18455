//! One generation of bus tasks (started at start-up and again after each good
//! reload), and the reload itself: read the config file again, keep the running one
//! when the new one is bad.

use super::bus::{self, BusTask};
use super::events::{DaemonEvent, Events, Stats};
use super::heartbeat::Heartbeat;
use super::notify::Notifier;
use super::options::{RunOptions, BEAT_EVERY};
use super::recorder::Recorder;
use crate::agent::metrics::Metrics;
use crate::config::{Config, ConfigError};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running bus tasks of one config.
pub(super) struct Generation {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Generation {
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "a bus task ended abnormally");
            }
        }
    }
}

pub(super) fn reloading_state() -> String {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    // time_t and c_long are 32 bits on some gateway targets (armhf).
    #[allow(clippy::useless_conversion)]
    let usec = i64::from(ts.tv_sec) * 1_000_000 + i64::from(ts.tv_nsec) / 1000;
    format!("RELOADING=1\nMONOTONIC_USEC={usec}")
}

/// Read the config file again; `None` (old config kept) when it is bad.
pub(super) fn reload(current: &Config, notifier: &Notifier, events: &Events) -> Option<Config> {
    tracing::info!(config = %current.path.display(), "SIGHUP: reading the config again");
    match Config::load(&current.path) {
        Ok(new) => {
            if new.agent.state_dir != current.agent.state_dir
                || new.agent.alerts_file != current.agent.alerts_file
                || new.retention != current.retention
                || new.mqtt != current.mqtt
                || new.metrics != current.metrics
            {
                tracing::warn!(
                    "state_dir, alerts_file, retention, [mqtt] and [metrics] changes take effect at the next restart"
                );
            }
            Some(new)
        }
        Err(e) => {
            refused(&e, notifier, events);
            None
        }
    }
}

fn refused(e: &ConfigError, notifier: &Notifier, events: &Events) {
    tracing::error!(error = %e, "the new config is refused; the running one is kept");
    notifier.status(&format!("config reload refused: {e}"));
    events.send(DaemonEvent::Reloaded {
        ok: false,
        message: e.to_string(),
    });
}

/// Where the bus tasks report.
pub(super) struct Outputs<'a> {
    pub events: &'a Events,
    pub stats: &'a Arc<Stats>,
    pub metrics: &'a Metrics,
    pub heartbeat: &'a Heartbeat,
}

pub(super) fn start_buses(
    config: &Config,
    recorder: &Recorder,
    options: &RunOptions,
    out: &Outputs<'_>,
) -> Generation {
    let Outputs {
        events,
        stats,
        metrics,
        heartbeat,
    } = *out;
    let (stop, stop_rx) = watch::channel(false);
    let shared = bus::Shared {
        profile: Arc::new(config.profile.clone()),
        readout: Arc::new(crate::meter::optical::ReadoutMap::from_profile(
            &config.profile,
        )),
        jobs: recorder.tx.clone(),
        events: events.clone(),
        stats: stats.clone(),
        metrics: metrics.clone(),
        clock: options.clock,
        grace: options.shutdown_grace,
        beat_every: options
            .watchdog
            .map_or(BEAT_EVERY, |w| (w / 2).min(BEAT_EVERY))
            .max(Duration::from_millis(10)),
    };
    let mut tasks = Vec::new();
    let mut meters = 0;
    for b in &config.buses {
        let task = BusTask::new(b.clone(), shared.clone(), heartbeat);
        meters += b.meters.len();
        tasks.push(tokio::spawn(task.run(stop_rx.clone())));
    }
    stats.meters.store(meters as u64, Ordering::Relaxed);
    events.send(DaemonEvent::Started {
        buses: tasks.len(),
        meters,
    });
    Generation { stop, tasks }
}
