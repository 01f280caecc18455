//! How a daemon run is driven and timed from outside: the clock, the control
//! channels (shutdown, reload) and the run options. Plain data; nothing here runs.

use super::events::DaemonEvent;
use super::notify::{self, Notifier};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::Instant;

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
pub(super) const STATUS_EVERY: Duration = Duration::from_secs(30);
/// An idle bus loop beats at least this often.
pub(super) const BEAT_EVERY: Duration = Duration::from_secs(10);

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
