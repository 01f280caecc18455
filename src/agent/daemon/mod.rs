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
pub mod heartbeat;
mod link;
mod lock;
pub mod notify;
mod recorder;
pub mod schedule;

pub use events::{DaemonEvent, Stats};
pub use notify::Notifier;

use crate::agent::engine::AlertPolicy;
use crate::agent::metrics::{self, Metrics, MetricsServer};
use crate::agent::publish::{Doorbell, OutboxHook, Publisher, PublisherHandle};
use crate::agent::store::{Retention as StoreRetention, Store, StoreConfig, StoreError};
use crate::config::{Config, ConfigError};
use bus::BusTask;
use events::Events;
use heartbeat::Heartbeat;
use recorder::{Job, Recorder};
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;
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
}

impl DaemonError {
    /// Whether something the daemon needs is not there (exit 69, "unavailable"): the
    /// state directory, the metrics port, the MQTT TLS files or outbox.
    pub fn is_unavailable(&self) -> bool {
        !matches!(self, DaemonError::Thread(_))
    }
}

/// Where alert and reading times come from.
#[derive(Clone, Copy, Debug)]
pub enum Clock {
    /// The system's real-time clock (production: it follows NTP corrections).
    System,
    /// `wall_at_start` plus tokio's monotonic time since `origin`: with
    /// `tokio::time::pause` a test moves it by advancing time.
    Tokio { wall_at_start: i64, origin: Instant },
}

impl Clock {
    /// A clock that starts at `wall_at_start` (unix ms) now and follows tokio's time.
    pub fn tokio_from(wall_at_start: i64) -> Clock {
        Clock::Tokio {
            wall_at_start,
            origin: Instant::now(),
        }
    }

    /// Unix milliseconds, UTC.
    pub fn wall_ms(&self) -> i64 {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Clock::Tokio {
                wall_at_start,
                origin,
            } => wall_at_start
                .saturating_add(i64::try_from(origin.elapsed().as_millis()).unwrap_or(i64::MAX)),
        }
    }
}

/// How `run_with` is driven from outside.
pub struct Control {
    /// `true` asks the daemon to stop.
    pub shutdown: watch::Receiver<bool>,
    /// Each message asks for the config file to be read again (SIGHUP).
    pub reload: Option<mpsc::UnboundedReceiver<()>>,
}

/// Everything about a run that is not the config.
pub struct RunOptions {
    pub notifier: Notifier,
    /// Send `WATCHDOG=1` this often (half of systemd's `WATCHDOG_USEC`), `None` for no
    /// watchdog.
    pub watchdog: Option<Duration>,
    /// Where to publish `DaemonEvent`s (tests, tools).
    pub events: Option<broadcast::Sender<DaemonEvent>>,
    /// How long a conversation in flight may take to finish once stop is asked.
    pub shutdown_grace: Duration,
    pub clock: Clock,
}

/// Default shutdown grace: well inside the unit's `TimeoutStopSec=15s`.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// `STATUS=` is refreshed this often when there is no watchdog to pace it.
const STATUS_EVERY: Duration = Duration::from_secs(30);
/// An idle bus loop beats at least this often.
const BEAT_EVERY: Duration = Duration::from_secs(10);

impl RunOptions {
    /// Production options: watchdog from `WATCHDOG_USEC`, system clock.
    pub fn new(notifier: Notifier) -> Self {
        RunOptions {
            notifier,
            watchdog: notify::watchdog_interval(),
            events: None,
            shutdown_grace: SHUTDOWN_GRACE,
            clock: Clock::System,
        }
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

/// The store settings from the config's retention section.
pub fn store_config(config: &Config) -> StoreConfig {
    let r = &config.retention;
    StoreConfig {
        dir: config.agent.state_dir.clone(),
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

/// The running bus tasks of one config.
struct Generation {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Generation {
    async fn stop(self) {
        self.stop.send_replace(true);
        for t in self.tasks {
            if let Err(e) = t.await {
                tracing::error!(error = %e, "a bus task ended abnormally");
            }
        }
    }
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
    if let Some(file) = &config.agent.alerts_file {
        if *file != store.alert_file_path() {
            tracing::warn!(configured = %file.display(), used = %store.alert_file_path().display(),
                "agent.alerts_file is not supported yet; alerts go to the state directory's file");
        }
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
        watchdog_ms = options.watchdog.map(|d| d.as_millis() as u64), "calin-agent running");
    let tick_every = options.watchdog.unwrap_or(STATUS_EVERY);
    let mut tick = tokio::time::interval(tick_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut stuck_reported = false;
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
    Ok(())
}

/// The metrics server and the MQTT publisher, when the config asks for them.
struct Services {
    metrics: Option<MetricsServer>,
    publisher: Option<PublisherHandle>,
}

impl Services {
    /// Add the outbox hook to `store` and start the publisher (`[mqtt]`), and serve
    /// `/metrics` (`[metrics]`); both stop when `stop` turns true.
    async fn start(
        config: &Config,
        store: &mut Store,
        m: &Metrics,
        stop: watch::Receiver<bool>,
    ) -> Result<Services, DaemonError> {
        let publisher = match &config.mqtt {
            None => None,
            Some(mqtt) => {
                let doorbell = Doorbell::new();
                let hook =
                    OutboxHook::new(mqtt, config.lookup.clone(), doorbell.clone(), m.clone());
                store
                    .add_hook(Box::new(hook))
                    .map_err(|source| DaemonError::State {
                        dir: store.config().dir.clone(),
                        source,
                    })?;
                let db = store.config().db_path();
                let handle = Publisher::spawn(mqtt.clone(), &db, doorbell, m.clone(), stop.clone())
                    .map_err(DaemonError::Publisher)?;
                Some(handle)
            }
        };
        let metrics = if config.metrics.enabled {
            let listen = config.metrics.listen;
            let server = metrics::serve(listen, m.clone(), stop)
                .await
                .map_err(|source| DaemonError::Metrics { listen, source })?;
            tracing::info!(listen = %server.local_addr, "serving /metrics");
            Some(server)
        } else {
            None
        };
        Ok(Services { metrics, publisher })
    }

    async fn stop(self) {
        if let Some(p) = self.publisher {
            p.join().await;
        }
        if let Some(m) = self.metrics {
            let _ = m.task.await;
        }
    }
}

async fn recv(rx: &mut Option<mpsc::UnboundedReceiver<()>>) -> Option<()> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

fn reloading_state() -> String {
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
fn reload(current: &Config, notifier: &Notifier, events: &Events) -> Option<Config> {
    tracing::info!(config = %current.path.display(), "SIGHUP: reading the config again");
    match Config::load(&current.path) {
        Ok(new) => {
            if new.agent.state_dir != current.agent.state_dir
                || new.retention != current.retention
                || new.mqtt != current.mqtt
                || new.metrics != current.metrics
            {
                tracing::warn!(
                    "state_dir, retention, [mqtt] and [metrics] changes take effect at the next restart"
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
struct Outputs<'a> {
    events: &'a Events,
    stats: &'a Arc<Stats>,
    metrics: &'a Metrics,
    heartbeat: &'a Heartbeat,
}

fn start_buses(
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
        if let Some(why) = bus::unsupported(b) {
            tracing::error!(bus = %b.name, "{why}; this bus is not polled");
            continue;
        }
        if let Some(task) = BusTask::new(b.clone(), shared.clone(), heartbeat) {
            meters += b.meters.len();
            tasks.push(tokio::spawn(task.run(stop_rx.clone())));
        }
    }
    stats.meters.store(meters as u64, Ordering::Relaxed);
    events.send(DaemonEvent::Started {
        buses: tasks.len(),
        meters,
    });
    Generation { stop, tasks }
}
