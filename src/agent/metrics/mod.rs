//! The daemon's metrics: a cheap clonable handle of counters and gauges that the bus
//! tasks, the recorder and the publisher update, rendered as Prometheus text and
//! served by a tiny HTTP server (`server`).
//!
//! Recording never blocks on I/O and never fails; nothing here decides anything. The
//! metric names are a contract with dashboards: rename one only with a changelog note.

mod server;

pub use server::{serve, MetricsServer};

use crate::agent::publish::message::condition_category;
use crate::agent::state::MeterState;
use crate::codes::Lookup;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How one poll of one meter ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PollResult {
    /// The meter answered and was read.
    Read,
    /// The meter did not answer (timeout, link down, refused association).
    Unreachable,
}

impl PollResult {
    pub fn as_str(self) -> &'static str {
        match self {
            PollResult::Read => "read",
            PollResult::Unreachable => "unreachable",
        }
    }
}

/// Which way bytes went on a meter bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Direction {
    Sent,
    Received,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::Sent => "sent",
            Direction::Received => "received",
        }
    }
}

/// The publisher's link to the broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BrokerState {
    /// No `[mqtt]` section: nothing is published.
    #[default]
    Disabled,
    /// Connecting, or waiting to reconnect after a failure.
    Disconnected,
    /// Connected (CONNACK received).
    Connected,
}

impl BrokerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BrokerState::Disabled => "disabled",
            BrokerState::Disconnected => "disconnected",
            BrokerState::Connected => "connected",
        }
    }

    const ALL: [BrokerState; 3] = [
        BrokerState::Disabled,
        BrokerState::Disconnected,
        BrokerState::Connected,
    ];
}

/// Upper bounds (seconds) of the poll latency histogram buckets; `+Inf` follows.
// Design: a poll is one association plus a few GETs over 9600 baud: usually 0.2–3 s,
// up to the response timeout times the retries when a meter is slow or absent.
pub const LATENCY_BUCKETS: [f64; 10] = [0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0];

#[derive(Default)]
struct Histogram {
    /// Count per bucket of `LATENCY_BUCKETS` (not cumulative), then the overflow.
    buckets: [u64; LATENCY_BUCKETS.len() + 1],
    sum_seconds: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        let i = LATENCY_BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[i] += 1;
        self.sum_seconds += seconds;
        self.count += 1;
    }
}

#[derive(Default)]
struct Labelled {
    polls: BTreeMap<(String, PollResult), u64>,
    latency: Histogram,
    wire_bytes: BTreeMap<(String, Direction), u64>,
    active_alerts: BTreeMap<String, u64>,
    last_read: BTreeMap<String, i64>,
    broker: BrokerState,
}

#[derive(Default)]
struct Inner {
    labelled: Mutex<Labelled>,
    outbox_depth: AtomicU64,
    outbox_dropped: AtomicU64,
    published: AtomicU64,
    connections: AtomicU64,
}

/// The metrics handle: clone it into every task that records something.
#[derive(Clone, Default)]
pub struct Metrics(Arc<Inner>);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics::default()
    }

    fn labelled(&self) -> MutexGuard<'_, Labelled> {
        // A panic while holding the lock leaves plain counters: still usable.
        self.0
            .labelled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One poll of `meter` ended with `result` after `latency`; a successful one at
    /// `at_unix_ms` becomes the meter's last successful poll.
    pub fn poll_finished(
        &self,
        meter: &str,
        result: PollResult,
        latency: Duration,
        at_unix_ms: i64,
    ) {
        let mut l = self.labelled();
        *l.polls.entry((meter.to_owned(), result)).or_default() += 1;
        l.latency.observe(latency.as_secs_f64());
        if result == PollResult::Read {
            let last = l.last_read.entry(meter.to_owned()).or_insert(at_unix_ms);
            *last = (*last).max(at_unix_ms);
        }
    }

    /// `n` bytes went `direction` on `bus`.
    pub fn wire_bytes(&self, bus: &str, direction: Direction, n: u64) {
        *self
            .labelled()
            .wire_bytes
            .entry((bus.to_owned(), direction))
            .or_default() += n;
    }

    /// Replace the count of active alert conditions, by category.
    pub fn set_active_alerts(&self, by_category: &BTreeMap<String, u64>) {
        self.labelled().active_alerts = by_category.clone();
    }

    pub fn set_outbox_depth(&self, n: u64) {
        self.0.outbox_depth.store(n, Ordering::Relaxed);
    }

    /// `n` readings were dropped from a full outbox.
    pub fn outbox_dropped(&self, n: u64) {
        self.0.outbox_dropped.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` messages were acknowledged by the broker.
    pub fn published(&self, n: u64) {
        self.0.published.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_broker_state(&self, state: BrokerState) {
        let mut l = self.labelled();
        if state == BrokerState::Connected && l.broker != BrokerState::Connected {
            self.0.connections.fetch_add(1, Ordering::Relaxed);
        }
        l.broker = state;
    }

    pub fn broker_state(&self) -> BrokerState {
        self.labelled().broker
    }

    pub fn outbox_depth(&self) -> u64 {
        self.0.outbox_depth.load(Ordering::Relaxed)
    }

    pub fn outbox_dropped_total(&self) -> u64 {
        self.0.outbox_dropped.load(Ordering::Relaxed)
    }

    pub fn published_total(&self) -> u64 {
        self.0.published.load(Ordering::Relaxed)
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub fn render(&self) -> String {
        let l = self.labelled();
        let mut o = String::new();
        head(
            &mut o,
            "calin_polls_total",
            "counter",
            "Meter polls, by meter and result.",
        );
        for ((meter, result), n) in &l.polls {
            let _ = writeln!(
                o,
                "calin_polls_total{{meter=\"{}\",result=\"{}\"}} {n}",
                esc(meter),
                result.as_str()
            );
        }
        head(
            &mut o,
            "calin_poll_duration_seconds",
            "histogram",
            "Time one poll of one meter took.",
        );
        let mut cumulative = 0;
        for (i, b) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += l.latency.buckets[i];
            let _ = writeln!(
                o,
                "calin_poll_duration_seconds_bucket{{le=\"{b}\"}} {cumulative}"
            );
        }
        let _ = writeln!(
            o,
            "calin_poll_duration_seconds_bucket{{le=\"+Inf\"}} {}",
            l.latency.count
        );
        let _ = writeln!(
            o,
            "calin_poll_duration_seconds_sum {}",
            l.latency.sum_seconds
        );
        let _ = writeln!(o, "calin_poll_duration_seconds_count {}", l.latency.count);
        head(
            &mut o,
            "calin_wire_bytes_total",
            "counter",
            "Bytes on the meter buses, by bus and direction.",
        );
        for ((bus, dir), n) in &l.wire_bytes {
            let _ = writeln!(
                o,
                "calin_wire_bytes_total{{bus=\"{}\",direction=\"{}\"}} {n}",
                esc(bus),
                dir.as_str()
            );
        }
        head(
            &mut o,
            "calin_active_alerts",
            "gauge",
            "Alert conditions still active, by category.",
        );
        for (category, n) in &l.active_alerts {
            let _ = writeln!(
                o,
                "calin_active_alerts{{category=\"{}\"}} {n}",
                esc(category)
            );
        }
        head(
            &mut o,
            "calin_last_successful_poll_timestamp_seconds",
            "gauge",
            "When each meter was last read successfully (unix time).",
        );
        for (meter, at) in &l.last_read {
            let _ = writeln!(
                o,
                "calin_last_successful_poll_timestamp_seconds{{meter=\"{}\"}} {}",
                esc(meter),
                *at as f64 / 1000.0
            );
        }
        head(
            &mut o,
            "calin_outbox_depth",
            "gauge",
            "Messages in the MQTT outbox not yet acknowledged by the broker.",
        );
        let _ = writeln!(o, "calin_outbox_depth {}", self.outbox_depth());
        head(
            &mut o,
            "calin_outbox_dropped_total",
            "counter",
            "Readings dropped from a full outbox (alerts are never dropped).",
        );
        let _ = writeln!(
            o,
            "calin_outbox_dropped_total {}",
            self.outbox_dropped_total()
        );
        head(
            &mut o,
            "calin_mqtt_published_total",
            "counter",
            "Messages acknowledged by the broker.",
        );
        let _ = writeln!(o, "calin_mqtt_published_total {}", self.published_total());
        head(
            &mut o,
            "calin_mqtt_connections_total",
            "counter",
            "Successful connections to the broker.",
        );
        let _ = writeln!(
            o,
            "calin_mqtt_connections_total {}",
            self.0.connections.load(Ordering::Relaxed)
        );
        head(
            &mut o,
            "calin_mqtt_broker_state",
            "gauge",
            "1 for the broker link's current state.",
        );
        for s in BrokerState::ALL {
            let _ = writeln!(
                o,
                "calin_mqtt_broker_state{{state=\"{}\"}} {}",
                s.as_str(),
                u8::from(l.broker == s)
            );
        }
        o
    }
}

/// Active alert conditions of `states`, by category (the `calin_active_alerts` gauge):
/// what the daemon passes to [`Metrics::set_active_alerts`] after each cycle.
pub fn active_by_category(states: &[MeterState], lookup: &Lookup) -> BTreeMap<String, u64> {
    let mut by = BTreeMap::new();
    for s in states {
        for c in &s.conditions {
            *by.entry(condition_category(c, s.mode, lookup)).or_default() += 1;
        }
    }
    by
}

fn head(o: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format wants it: `\`, `"` and newline escaped.
fn esc(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_labels_and_cumulative_buckets() {
        let m = Metrics::new();
        let c = m.clone();
        c.poll_finished(
            "CAL1",
            PollResult::Read,
            Duration::from_millis(300),
            1_700_000_000_500,
        );
        c.poll_finished(
            "CAL1",
            PollResult::Read,
            Duration::from_secs(3),
            1_700_000_000_000,
        );
        c.poll_finished(
            "CAL\"2",
            PollResult::Unreachable,
            Duration::from_secs(90),
            5,
        );
        c.wire_bytes("rs485-1", Direction::Sent, 10);
        c.wire_bytes("rs485-1", Direction::Sent, 5);
        c.set_active_alerts(&BTreeMap::from([("tamper".to_owned(), 2)]));
        c.set_outbox_depth(7);
        c.outbox_dropped(3);
        c.published(11);
        c.set_broker_state(BrokerState::Connected);
        let text = m.render();
        for line in [
            "calin_polls_total{meter=\"CAL1\",result=\"read\"} 2",
            "calin_polls_total{meter=\"CAL\\\"2\",result=\"unreachable\"} 1",
            "calin_poll_duration_seconds_bucket{le=\"0.25\"} 0",
            "calin_poll_duration_seconds_bucket{le=\"0.5\"} 1",
            "calin_poll_duration_seconds_bucket{le=\"5\"} 2",
            "calin_poll_duration_seconds_bucket{le=\"60\"} 2",
            "calin_poll_duration_seconds_bucket{le=\"+Inf\"} 3",
            "calin_poll_duration_seconds_count 3",
            "calin_wire_bytes_total{bus=\"rs485-1\",direction=\"sent\"} 15",
            "calin_active_alerts{category=\"tamper\"} 2",
            // The later of the two reads, whatever order they were recorded in.
            "calin_last_successful_poll_timestamp_seconds{meter=\"CAL1\"} 1700000000.5",
            "calin_outbox_depth 7",
            "calin_outbox_dropped_total 3",
            "calin_mqtt_published_total 11",
            "calin_mqtt_connections_total 1",
            "calin_mqtt_broker_state{state=\"connected\"} 1",
            "calin_mqtt_broker_state{state=\"disconnected\"} 0",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing `{line}` in\n{text}"
            );
        }
        // An unreachable poll is not a successful one.
        assert!(!text.contains("successful_poll_timestamp_seconds{meter=\"CAL\\\"2\"}"));
        // Every sample line belongs to a declared family.
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {family} ")), "{l}");
        }
    }

    #[test]
    fn reconnecting_counts_connections_once_each() {
        let m = Metrics::new();
        m.set_broker_state(BrokerState::Connected);
        m.set_broker_state(BrokerState::Connected);
        m.set_broker_state(BrokerState::Disconnected);
        m.set_broker_state(BrokerState::Connected);
        assert!(m.render().contains("calin_mqtt_connections_total 2\n"));
        assert_eq!(m.broker_state(), BrokerState::Connected);
    }
}
