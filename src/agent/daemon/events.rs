//! What the daemon tells the world besides its log: events for tests and tools that
//! watch it run, and the counters behind systemd's `STATUS=` line.
//!
//! Sending never blocks and never fails the daemon: without a subscriber an event is
//! simply dropped.

use crate::agent::alerts::Alert;
use crate::agent::reading::MeterId;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::broadcast;

/// Something the daemon did.
#[derive(Clone, Debug)]
pub enum DaemonEvent {
    /// The store is open and the bus tasks are starting (also after a reload).
    Started { buses: usize, meters: usize },
    /// `/metrics` is served at this address (the real port when 0 was configured).
    MetricsServing { addr: std::net::SocketAddr },
    /// A bus's link was opened.
    LinkOpened { bus: String },
    /// A bus's link could not be opened; its due meters fail until it can.
    LinkFailed { bus: String, error: String },
    /// One poll of one meter ended (before it is recorded).
    Polled {
        bus: String,
        meter: MeterId,
        ok: bool,
        /// Why it failed.
        reason: Option<String>,
    },
    /// A poll is committed; `alerts` are the ones it added.
    Recorded { meter: MeterId, alerts: Vec<Alert> },
    /// A poll could not be recorded (its alerts will be raised again).
    RecordFailed { meter: MeterId, error: String },
    /// SIGHUP: the new config is in use (`ok`), or was refused and the old one kept.
    Reloaded { ok: bool, message: String },
    /// The daemon is stopping: every bus task has ended and the store is flushed.
    Stopped,
}

/// An optional broadcast of `DaemonEvent`s.
#[derive(Clone, Debug, Default)]
pub struct Events(Option<broadcast::Sender<DaemonEvent>>);

impl Events {
    pub fn new(tx: Option<broadcast::Sender<DaemonEvent>>) -> Self {
        Events(tx)
    }

    pub fn send(&self, event: DaemonEvent) {
        if let Some(tx) = &self.0 {
            let _ = tx.send(event);
        }
    }
}

/// Counters since start, for `STATUS=` and the shutdown log line.
#[derive(Debug, Default)]
pub struct Stats {
    pub meters: AtomicU64,
    pub polls: AtomicU64,
    pub failures: AtomicU64,
    pub alerts: AtomicU64,
    pub record_errors: AtomicU64,
}

impl Stats {
    /// The `STATUS=` text: what an operator sees in `systemctl status`.
    pub fn status_line(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut s = format!(
            "{} meters; {} polls, {} failed; {} alerts",
            get(&self.meters),
            get(&self.polls),
            get(&self.failures),
            get(&self.alerts)
        );
        let errors = get(&self.record_errors);
        if errors > 0 {
            s.push_str(&format!("; {errors} NOT RECORDED (disk?)"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_counts_and_flags_record_errors() {
        let s = Stats::default();
        s.meters.store(3, Ordering::Relaxed);
        s.polls.store(10, Ordering::Relaxed);
        s.failures.store(2, Ordering::Relaxed);
        s.alerts.store(4, Ordering::Relaxed);
        assert_eq!(s.status_line(), "3 meters; 10 polls, 2 failed; 4 alerts");
        s.record_errors.store(1, Ordering::Relaxed);
        assert!(s.status_line().ends_with("; 1 NOT RECORDED (disk?)"));
    }

    #[test]
    fn sending_without_subscribers_is_harmless() {
        Events::default().send(DaemonEvent::Stopped);
        let (tx, mut rx) = broadcast::channel(4);
        let e = Events::new(Some(tx));
        e.send(DaemonEvent::Stopped);
        assert!(matches!(rx.try_recv(), Ok(DaemonEvent::Stopped)));
    }
}
