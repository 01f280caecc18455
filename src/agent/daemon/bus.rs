//! One bus task: the bus's schedule, its link, and one conversation at a time.
//!
//! For each due meter: take the link (opening it if needed), associate, read every due
//! group, release, and hand the outcome to the recorder. A failed poll is an
//! `Unreachable` outcome and backs the meter off; it never ends the task. On stop the
//! conversation in flight is finished (objects read, association released) within a
//! grace period; only past it is the conversation abandoned.

use super::convert::{apply_report, empty_reading, event_reads, object_reads};
use super::events::{DaemonEvent, Events, Stats};
use super::heartbeat::{Beat, Heartbeat};
use super::link::{BusLink, Taken};
use super::recorder::{Job, JobSender};
use super::schedule::{Groups, Schedule};
use super::{stopped, Clock};
use crate::agent::metrics::{Direction as WireDirection, Metrics, PollResult};
use crate::agent::reading::{MeterId, PollOutcome};
use crate::config::{BusConfig, BusProtocol};
use crate::meter::read::{read_profile, ReadProgress, ReadReport, Selection};
use crate::meter::{Session, SessionConfig};
use crate::profile::Profile;
use crate::transport::{BoxLink, Direction as TraceDirection, TraceTap};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What every bus task shares.
#[derive(Clone)]
pub(super) struct Shared {
    pub profile: Arc<Profile>,
    pub jobs: JobSender,
    pub events: Events,
    pub stats: Arc<Stats>,
    pub metrics: Metrics,
    pub clock: Clock,
    /// How long a conversation in flight may still take once stop is asked.
    pub grace: Duration,
    /// The longest an idle loop waits before beating again.
    pub beat_every: Duration,
}

/// Why a bus is not polled.
pub(super) fn unsupported(bus: &BusConfig) -> Option<&'static str> {
    match bus.protocol {
        BusProtocol::Hdlc | BusProtocol::Wrapper => None,
        BusProtocol::Optical => Some(
            "optical (IEC 62056-21) buses are read with `probe`; the daemon does not poll them yet",
        ),
        BusProtocol::Dlt645 => {
            Some("DL/T 645 buses are read with `probe`; the daemon does not poll them yet")
        }
    }
}

/// One bus's loop. Build with `new`, run with `run`.
pub(super) struct BusTask {
    bus: BusConfig,
    sessions: Vec<SessionConfig>,
    schedule: Schedule,
    link: BusLink,
    origin: Instant,
    /// Meters whose unreadable items were already reported at warn level.
    warned: Vec<bool>,
    shared: Shared,
    beat: Beat,
}

struct Polled {
    outcome: PollOutcome,
    ok: bool,
}

/// Why a conversation ended without a reading.
enum Failure {
    /// The meter or the link failed: a failed poll.
    Poll(String),
    /// Stop was asked before the association: not a poll at all.
    Stopped,
}

impl BusTask {
    /// `None` for a bus whose protocol the daemon does not speak.
    pub fn new(bus: BusConfig, shared: Shared, heartbeat: &Heartbeat) -> Option<BusTask> {
        let sessions = bus
            .meters
            .iter()
            .map(|m| SessionConfig::for_meter(&bus, m))
            .collect::<Option<Vec<_>>>()?;
        let beat = heartbeat.register(&bus.name);
        let plans: Vec<_> = bus.meters.iter().map(|m| m.poll).collect();
        let seed = seed_of(&bus);
        let quickest = plans
            .iter()
            .map(|p| p.status.0)
            .min()
            .unwrap_or(Duration::from_secs(60))
            .max(Duration::from_millis(10));
        Some(BusTask {
            schedule: Schedule::new(&plans, 0, 0, seed),
            link: BusLink::new(&bus, quickest, seed),
            origin: Instant::now(),
            warned: vec![false; bus.meters.len()],
            sessions,
            bus,
            shared,
            beat,
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Poll until `stop` turns true (or its sender is gone).
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        tracing::info!(bus = %self.bus.name, link = %self.link.target(), meters = self.bus.meters.len(), "bus started");
        loop {
            self.beat.beat();
            if *stop.borrow() {
                break;
            }
            let now = self.now_ms();
            let beat_ms = u64::try_from(self.shared.beat_every.as_millis()).unwrap_or(1000);
            let wait = match self.schedule.next_due() {
                Some((_, at)) if at <= now => 0,
                Some((_, at)) => (at - now).min(beat_ms),
                None => beat_ms,
            };
            if wait > 0 {
                tokio::select! {
                    () = stopped(&mut stop) => break,
                    () = tokio::time::sleep(Duration::from_millis(wait)) => continue,
                }
            }
            let Some((meter, _)) = self.schedule.next_due() else {
                continue;
            };
            let groups = self.schedule.due(meter, now);
            let began = Instant::now();
            let Some(polled) = self.poll_within_grace(meter, groups, &stop).await else {
                break;
            };
            let result = if polled.ok {
                PollResult::Read
            } else {
                PollResult::Unreachable
            };
            self.shared.metrics.poll_finished(
                polled.outcome.meter().as_str(),
                result,
                began.elapsed(),
                polled.outcome.at(),
            );
            let done = self.now_ms();
            self.schedule.complete(meter, groups, done, polled.ok);
            self.report(&polled);
            if self
                .shared
                .jobs
                .send(Job::Record(polled.outcome))
                .await
                .is_err()
            {
                tracing::error!(bus = %self.bus.name, "the recorder is gone; bus stops");
                break;
            }
        }
        self.link.close();
        tracing::info!(bus = %self.bus.name, "bus stopped");
    }

    fn report(&self, polled: &Polled) {
        let stats = &self.shared.stats;
        stats.polls.fetch_add(1, Ordering::Relaxed);
        let reason = match &polled.outcome {
            PollOutcome::Unreachable { reason, .. } => {
                stats.failures.fetch_add(1, Ordering::Relaxed);
                Some(reason.clone())
            }
            PollOutcome::Read(_) => None,
        };
        self.shared.events.send(DaemonEvent::Polled {
            bus: self.bus.name.clone(),
            meter: polled.outcome.meter().clone(),
            ok: polled.ok,
            reason,
        });
    }

    /// Poll one meter; once stop is asked, give the conversation `grace` to end.
    /// `None`: stopped without a poll to record.
    async fn poll_within_grace(
        &mut self,
        meter: usize,
        groups: Groups,
        stop: &watch::Receiver<bool>,
    ) -> Option<Polled> {
        let mut watch = stop.clone();
        let grace = self.shared.grace;
        let name = self.bus.name.clone();
        let poll = self.poll(meter, groups, stop.clone());
        tokio::pin!(poll);
        tokio::select! {
            polled = &mut poll => polled,
            () = async { stopped(&mut watch).await; tokio::time::sleep(grace).await } => {
                tracing::warn!(bus = %name, grace_ms = grace.as_millis() as u64,
                    "conversation still running after the shutdown grace; abandoned");
                None
            }
        }
    }

    /// `None` when stop came before the meter was reached (nothing to record).
    async fn poll(
        &mut self,
        i: usize,
        groups: Groups,
        stop: watch::Receiver<bool>,
    ) -> Option<Polled> {
        let (serial, mode) = match self.bus.meters.get(i) {
            Some(m) => (m.serial.clone(), m.mode),
            None => (String::new(), Default::default()),
        };
        let started = self.shared.clock.wall_ms();
        match self.converse(i, groups, &stop).await {
            Ok(reports) => {
                let mut reading = empty_reading(&serial, started, mode);
                let mut failures = Vec::new();
                for r in &reports {
                    failures.extend(apply_report(&mut reading, r).failures);
                }
                if !failures.is_empty() {
                    let first = !std::mem::replace(&mut self.warned[i], true);
                    if first {
                        tracing::warn!(bus = %self.bus.name, meter = %serial, items = ?failures, "some items could not be read (reported once per meter; later at debug level)");
                    } else {
                        tracing::debug!(bus = %self.bus.name, meter = %serial, items = ?failures, "items not read");
                    }
                }
                Some(Polled {
                    outcome: PollOutcome::Read(reading),
                    ok: true,
                })
            }
            Err(Failure::Stopped) => None,
            Err(Failure::Poll(reason)) => {
                tracing::info!(bus = %self.bus.name, meter = %serial, reason = %reason, "poll failed");
                Some(Polled {
                    outcome: PollOutcome::Unreachable {
                        meter: MeterId::new(serial),
                        at: self.shared.clock.wall_ms(),
                        reason,
                    },
                    ok: false,
                })
            }
        }
    }

    /// One association: the objects of every due group, then (unless stop was asked
    /// meanwhile) the event times, then release.
    async fn converse(
        &mut self,
        i: usize,
        groups: Groups,
        stop: &watch::Receiver<bool>,
    ) -> Result<Vec<ReadReport>, Failure> {
        let link = match self.link.take().await {
            Taken::Open { link, fresh } => {
                if fresh {
                    tracing::info!(bus = %self.bus.name, link = %link.describe(), "link open");
                    self.shared.events.send(DaemonEvent::LinkOpened {
                        bus: self.bus.name.clone(),
                    });
                    count_bytes(link, &self.bus.name, &self.shared.metrics)
                } else {
                    link
                }
            }
            Taken::Unavailable { error, tried } => {
                if tried {
                    tracing::warn!(bus = %self.bus.name, error = %error, "cannot open the link; retrying with backoff");
                    self.shared.events.send(DaemonEvent::LinkFailed {
                        bus: self.bus.name.clone(),
                        error: error.clone(),
                    });
                }
                return Err(Failure::Poll(error));
            }
        };
        let config = self
            .sessions
            .get(i)
            .cloned()
            .ok_or_else(|| Failure::Poll("no such meter".into()))?;
        // Design: until the meter has accepted the association there is nothing to
        // release, so a stop request ends the attempt at once (a silent meter would
        // otherwise hold the shutdown for all its retries).
        let mut watch = stop.clone();
        let mut session = tokio::select! {
            opened = Session::open(link, config) => opened.map_err(|e| Failure::Poll(e.to_string()))?,
            () = stopped(&mut watch) => return Err(Failure::Stopped),
        };
        let beat = self.beat.clone();
        let mut progress = move |_: ReadProgress| beat.beat();
        let profile = self.shared.profile.clone();
        let mut reports = Vec::with_capacity(2);
        let objects = Selection::Reads(object_reads(groups));
        let report = read_profile(&mut session, &profile, &objects, &mut progress).await;
        if let Some(e) = &report.aborted {
            return Err(Failure::Poll(e.to_string()));
        }
        reports.push(report);
        let events = event_reads(groups);
        if !events.is_empty() && !*stop.borrow() {
            let selection = Selection::Reads(events);
            let report = read_profile(&mut session, &profile, &selection, &mut progress).await;
            if let Some(e) = &report.aborted {
                return Err(Failure::Poll(e.to_string()));
            }
            reports.push(report);
        }
        let (released, link) = session.release_keep_link().await;
        if let Err(e) = released {
            tracing::debug!(bus = %self.bus.name, error = %e, "release failed; the link will be reopened");
        }
        match link {
            Some(link) => self.link.put_back(link),
            None => self.link.close(),
        }
        Ok(reports)
    }
}

/// The link, with every chunk it carries counted in the metrics.
fn count_bytes(link: BoxLink, bus: &str, metrics: &Metrics) -> BoxLink {
    let (bus, metrics) = (bus.to_owned(), metrics.clone());
    Box::new(TraceTap::new(link, move |e| {
        let direction = match e.direction {
            TraceDirection::Sent => WireDirection::Sent,
            TraceDirection::Received => WireDirection::Received,
        };
        metrics.wire_bytes(&bus, direction, e.bytes.len() as u64);
    }))
}

/// A per-bus seed for jitter: the same config always spreads the same way.
fn seed_of(bus: &BusConfig) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let names =
        std::iter::once(bus.name.as_str()).chain(bus.meters.iter().map(|m| m.serial.as_str()));
    for b in names.flat_map(|n| n.bytes().chain([0])) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    h
}
