//! The recorder: the one thread that owns the store. Bus tasks hand it poll outcomes;
//! it evaluates each against the meter's last committed state, records state, outcome
//! and alerts in one transaction, and logs each new alert.
//!
//! It must not talk to meters or sleep; it blocks only on the disk (one fsync per
//! cycle), which is why it is a thread of its own and not an async task.

use super::events::{DaemonEvent, Events, Stats};
use super::{Clock, DaemonError};
use crate::agent::alerts::Alert;
use crate::agent::engine::{AlertEngine, AlertPolicy};
use crate::agent::metrics::Metrics;
use crate::agent::publish::message::condition_category;
use crate::agent::reading::{MeterId, PollOutcome};
use crate::agent::state::MeterState;
use crate::agent::store::Store;
use crate::codes::{Lookup, Severity};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Outcomes waiting for the disk before bus tasks are held back.
// Design: small and bounded: a wedged disk stops the buses (and, through their
// heartbeats, the watchdog) instead of growing memory without limit.
const QUEUE: usize = 64;

/// Work for the recorder thread.
pub(super) enum Job {
    Record(PollOutcome),
    /// New lookup and alert policy after a reload (sent while no bus runs).
    Reconfigure {
        lookup: Lookup,
        policy: AlertPolicy,
    },
}

/// The sending side, cloned into every bus task.
pub(super) type JobSender = mpsc::Sender<Job>;

/// The running recorder thread.
pub(super) struct Recorder {
    pub tx: JobSender,
    done: oneshot::Receiver<Store>,
    thread: std::thread::JoinHandle<()>,
}

impl Recorder {
    /// Start the thread with `store`; `states` are loaded now so that every evaluation
    /// starts from the committed state.
    pub fn start(
        store: Store,
        lookup: Lookup,
        policy: AlertPolicy,
        clock: Clock,
        outputs: Outputs,
    ) -> Result<Recorder, DaemonError> {
        let dir = store.config().dir.clone();
        let states: HashMap<MeterId, MeterState> = store
            .states()
            .map_err(|source| DaemonError::State { dir, source })?
            .into_iter()
            .map(|s| (s.meter.clone(), s))
            .collect();
        let (tx, rx) = mpsc::channel(QUEUE);
        let (done_tx, done) = oneshot::channel();
        let mut worker = Worker {
            store,
            states,
            lookup,
            policy,
            clock,
            out: outputs,
            active: BTreeMap::new(),
        };
        worker.count_active();
        let thread = std::thread::Builder::new()
            .name("calin-recorder".into())
            .spawn(move || {
                worker.run(rx);
                let _ = done_tx.send(worker.store);
            })
            .map_err(DaemonError::Thread)?;
        Ok(Recorder { tx, done, thread })
    }

    /// Drain the queue (every sender must be dropped first, or this waits for them) and
    /// hand the store back.
    pub async fn finish(self) -> Option<Store> {
        let Recorder { tx, done, thread } = self;
        drop(tx);
        let store = done.await.ok();
        let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        store
    }
}

/// Where the recorder reports what it committed.
pub(super) struct Outputs {
    pub events: Events,
    pub stats: Arc<Stats>,
    pub metrics: Metrics,
}

struct Worker {
    store: Store,
    states: HashMap<MeterId, MeterState>,
    lookup: Lookup,
    policy: AlertPolicy,
    clock: Clock,
    out: Outputs,
    /// Active alert conditions by category, for the metrics.
    active: BTreeMap<String, u64>,
}

impl Worker {
    fn run(&mut self, mut rx: mpsc::Receiver<Job>) {
        while let Some(job) = rx.blocking_recv() {
            match job {
                Job::Record(outcome) => self.record(outcome),
                Job::Reconfigure { lookup, policy } => {
                    self.lookup = lookup;
                    self.policy = policy;
                }
            }
        }
    }

    fn record(&mut self, outcome: PollOutcome) {
        let now = self.clock.wall_ms();
        let engine = AlertEngine::new(&self.lookup, self.policy);
        let meter = outcome.meter().clone();
        let evaluation = engine.evaluate(self.states.get(&meter), &outcome, now);
        match self.store.record(&outcome, &evaluation, now) {
            Ok(recorded) => {
                let new: Vec<&Alert> = evaluation
                    .alerts
                    .iter()
                    .filter(|a| recorded.committed.contains(&a.id))
                    .collect();
                for alert in &new {
                    log_alert(alert);
                }
                self.out
                    .stats
                    .alerts
                    .fetch_add(new.len() as u64, Ordering::Relaxed);
                let alerts = new.into_iter().cloned().collect();
                let old = self.states.insert(meter.clone(), evaluation.state);
                let changed = old.as_ref().map(|s| &s.conditions)
                    != self.states.get(&meter).map(|s| &s.conditions);
                if changed {
                    self.count_active();
                }
                self.out
                    .events
                    .send(DaemonEvent::Recorded { meter, alerts });
            }
            Err(e) => {
                // The state is not advanced: the next poll is evaluated against the
                // last committed state, so these alerts are raised again, not lost.
                tracing::error!(meter = %meter, error = %e, "poll not recorded");
                self.out.stats.record_errors.fetch_add(1, Ordering::Relaxed);
                self.out.events.send(DaemonEvent::RecordFailed {
                    meter,
                    error: e.to_string(),
                });
            }
        }
    }
}

impl Worker {
    /// Count the active conditions of every meter by category (they change rarely:
    /// only when a condition opens or ends).
    fn count_active(&mut self) {
        self.active.clear();
        for s in self.states.values() {
            for c in &s.conditions {
                *self
                    .active
                    .entry(condition_category(c, s.mode, &self.lookup))
                    .or_default() += 1;
            }
        }
        self.out.metrics.set_active_alerts(&self.active);
    }
}

/// One log event per alert, with the fields a technician filters on.
fn log_alert(a: &Alert) {
    let category = a.category.map_or("none", |c| c.as_str());
    let code = a.code.map(i64::from).unwrap_or(-1);
    macro_rules! emit {
        ($level:ident) => {
            tracing::$level!(
                meter = %a.meter,
                id = %a.id,
                kind = %a.kind,
                code,
                meaning = %a.meaning,
                severity = %a.severity,
                category = %category,
                action = %a.action,
                site_visit = %a.site_visit,
                "{}",
                a.message
            )
        };
    }
    match a.severity {
        Severity::Critical | Severity::High | Severity::Medium => emit!(warn),
        Severity::Ok | Severity::Info | Severity::Low => emit!(info),
    }
}
