//! Liveness of the scheduler loops, for systemd's watchdog: every bus task beats while
//! its loop turns (between polls, while it waits, at each step of a read); the
//! watchdog is fed only while every loop has beaten recently.
//!
//! A loop blocked for good (a wedged disk holding the recorder queue, a conversation
//! that never ends) stops beating, `WATCHDOG=1` stops, and systemd restarts the
//! service. Nothing here sleeps; the caller's timer asks `stale`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// The loops being watched, and when each last beat.
#[derive(Debug)]
pub struct Heartbeat {
    origin: Instant,
    loops: Mutex<Vec<(String, Arc<AtomicU64>)>>,
}

/// One loop's handle: call `beat` whenever the loop makes progress.
#[derive(Clone, Debug)]
pub struct Beat {
    origin: Instant,
    last: Arc<AtomicU64>,
}

impl Beat {
    pub fn beat(&self) {
        self.last.store(elapsed_ms(self.origin), Ordering::Relaxed);
    }
}

fn elapsed_ms(origin: Instant) -> u64 {
    u64::try_from(origin.elapsed().as_millis()).unwrap_or(u64::MAX)
}

impl Heartbeat {
    pub fn new() -> Self {
        Heartbeat {
            origin: Instant::now(),
            loops: Mutex::new(Vec::new()),
        }
    }

    fn loops(&self) -> MutexGuard<'_, Vec<(String, Arc<AtomicU64>)>> {
        self.loops.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Watch a new loop (it counts as having just beaten).
    pub fn register(&self, name: &str) -> Beat {
        let last = Arc::new(AtomicU64::new(elapsed_ms(self.origin)));
        self.loops().push((name.to_owned(), last.clone()));
        Beat {
            origin: self.origin,
            last,
        }
    }

    /// Stop watching every loop (before the bus tasks are restarted).
    pub fn clear(&self) {
        self.loops().clear();
    }

    /// The loops that have not beaten for longer than `max_age`, with how long.
    pub fn stale(&self, max_age: Duration) -> Vec<(String, Duration)> {
        let now = elapsed_ms(self.origin);
        let max = u64::try_from(max_age.as_millis()).unwrap_or(u64::MAX);
        self.loops()
            .iter()
            .filter_map(|(name, last)| {
                let age = now.saturating_sub(last.load(Ordering::Relaxed));
                (age > max).then(|| (name.clone(), Duration::from_millis(age)))
            })
            .collect()
    }
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_loop_that_stops_beating_goes_stale() {
        let hb = Heartbeat::new();
        let a = hb.register("bus a");
        let b = hb.register("bus b");
        tokio::time::advance(Duration::from_secs(20)).await;
        assert!(hb.stale(Duration::from_secs(30)).is_empty());
        a.beat();
        tokio::time::advance(Duration::from_secs(20)).await;
        // b last beat 40 s ago, a 20 s ago.
        let stale = hb.stale(Duration::from_secs(30));
        assert_eq!(stale.len(), 1);
        assert_eq!(stale[0].0, "bus b");
        assert_eq!(stale[0].1, Duration::from_secs(40));
        b.beat();
        assert!(hb.stale(Duration::from_secs(30)).is_empty());
        hb.clear();
        tokio::time::advance(Duration::from_secs(100)).await;
        assert!(
            hb.stale(Duration::from_secs(30)).is_empty(),
            "nothing watched"
        );
    }
}
