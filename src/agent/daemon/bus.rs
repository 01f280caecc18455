//! One bus task: the bus's schedule, its link, and one conversation at a time.
//!
//! For each due meter: take the link (opening it if needed), associate, read every due
//! group, release, and hand the outcome to the recorder. A failed poll is an
//! `Unreachable` outcome and backs the meter off; it never ends the task. On stop the
//! conversation in flight is finished (objects read, association released) within a
//! grace period; only past it is the conversation abandoned.

use super::convert::{apply_items, apply_report, empty_reading, event_reads, object_reads};
use super::events::{DaemonEvent, Events, Stats};
use super::heartbeat::{Beat, Heartbeat};
use super::link::{BusLink, Taken};
use super::recorder::{Job, JobSender};
use super::schedule::{Groups, Schedule};
use super::{stopped, Clock};
use crate::agent::metrics::{Direction as WireDirection, Metrics, PollResult};
use crate::agent::reading::{MeterId, PollOutcome};
use crate::config::{BusConfig, BusEndpoint, BusProtocol, MeterConfig, OpticalMode};
use crate::meter::dlt645::{all_reads, Dlt645Config, Dlt645Meter};
use crate::meter::optical::{self, OpticalConfig, ReadoutMap};
use crate::meter::read::{read_profile, Item, ReadProgress, ReadReport, Selection};
use crate::meter::{Session, SessionConfig};
use crate::profile::{Profile, Reads};
use crate::protocol::iec62056_21::{BaudChoice, Password};
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
    /// The profile's optical readout ids.
    pub readout: Arc<ReadoutMap>,
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

/// How one meter is read.
#[derive(Clone)]
enum MeterPlan {
    /// DLMS/COSEM over HDLC or the wrapper.
    Dlms(SessionConfig),
    /// IEC 62056-21 on the optical port: a readout, R1 reads, or mode E into DLMS.
    Optical {
        cfg: OpticalConfig,
        mode: OpticalMode,
        dlms: SessionConfig,
    },
    /// DL/T 645.
    Dlt645(Dlt645Config),
}

/// What a conversation produced, of whichever protocol.
enum Produced {
    Dlms(Vec<ReadReport>),
    /// Typed values (or why there are none) from an optical readout or DL/T 645.
    Items(Vec<Result<(Item, crate::meter::read::ReadValue), String>>),
}

impl MeterPlan {
    fn for_meter(bus: &BusConfig, meter: &MeterConfig) -> MeterPlan {
        let dlms = SessionConfig::for_meter(bus, meter)
            .unwrap_or_else(|| SessionConfig::new(meter.client, meter.address));
        match meter.protocol {
            BusProtocol::Hdlc | BusProtocol::Wrapper => MeterPlan::Dlms(dlms),
            BusProtocol::Optical => {
                let settings = bus.optical.unwrap_or_default();
                let port = meter.optical.clone().unwrap_or_default();
                let mut cfg = OpticalConfig::new();
                cfg.address = port.address;
                cfg.bcc_policy = port.bcc;
                if let Some(max) = settings.max_baud {
                    cfg.baud = BaudChoice::AtMost(max);
                }
                if let Some(d) = settings.switch_delay {
                    cfg.switch_delay = d;
                }
                cfg.soft_parity = settings.soft_parity;
                cfg.reply_timeout = bus.response_timeout.max(Duration::from_millis(300));
                // Design: in mode E the password is the DLMS (LLS) one; otherwise it is
                // sent as P1 when the meter asks. Its text was checked with the config.
                if settings.mode != OpticalMode::ModeE {
                    cfg.password = meter
                        .password
                        .as_ref()
                        .and_then(|p| std::str::from_utf8(p.expose()).ok())
                        .and_then(|t| Password::new(t).ok());
                }
                MeterPlan::Optical {
                    cfg,
                    mode: settings.mode,
                    dlms,
                }
            }
            BusProtocol::Dlt645 => {
                let port = meter.dlt645.unwrap_or_default();
                let mut cfg = Dlt645Config::new(port.version);
                cfg.address = port.address;
                cfg.preamble = port.preamble;
                cfg.line = match &bus.endpoint {
                    BusEndpoint::Serial { line, .. } => Some(meter.line.unwrap_or(*line)),
                    BusEndpoint::Tcp { .. } => None,
                };
                cfg.reply_timeout = bus.response_timeout;
                cfg.max_attempts = bus.retries.saturating_add(1);
                MeterPlan::Dlt645(cfg)
            }
        }
    }
}

/// One bus's loop. Build with `new`, run with `run`.
pub(super) struct BusTask {
    bus: BusConfig,
    plans: Vec<MeterPlan>,
    /// On a serial bus whose meters do not all use the bus's line (DLMS and DL/T 645
    /// side by side): each meter's line, set before its conversation.
    lines: Option<Vec<crate::transport::LineSettings>>,
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
    pub fn new(bus: BusConfig, shared: Shared, heartbeat: &Heartbeat) -> BusTask {
        let plans = bus
            .meters
            .iter()
            .map(|m| MeterPlan::for_meter(&bus, m))
            .collect();
        let lines = match &bus.endpoint {
            BusEndpoint::Serial { line, .. } if bus.meters.iter().any(|m| m.line.is_some()) => {
                Some(bus.meters.iter().map(|m| m.line.unwrap_or(*line)).collect())
            }
            _ => None,
        };
        let beat = heartbeat.register(&bus.name);
        let polls: Vec<_> = bus.meters.iter().map(|m| m.poll).collect();
        let seed = seed_of(&bus);
        let quickest = polls
            .iter()
            .map(|p| p.status.0)
            .min()
            .unwrap_or(Duration::from_secs(60))
            .max(Duration::from_millis(10));
        BusTask {
            schedule: Schedule::new(&polls, 0, 0, seed),
            link: BusLink::new(&bus, quickest, seed),
            origin: Instant::now(),
            warned: vec![false; bus.meters.len()],
            plans,
            lines,
            bus,
            shared,
            beat,
        }
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
            Ok(produced) => {
                let mut reading = empty_reading(&serial, started, mode);
                let mut failures = Vec::new();
                match &produced {
                    Produced::Dlms(reports) => {
                        for r in reports {
                            failures.extend(apply_report(&mut reading, r).failures);
                        }
                    }
                    Produced::Items(items) => {
                        let items = items.iter().map(|i| match i {
                            Ok((what, value)) => Ok((*what, value)),
                            Err(e) => Err(e.clone()),
                        });
                        failures.extend(apply_items(&mut reading, items).failures);
                    }
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

    /// One conversation with meter `i` over the bus's link, in its protocol.
    async fn converse(
        &mut self,
        i: usize,
        groups: Groups,
        stop: &watch::Receiver<bool>,
    ) -> Result<Produced, Failure> {
        let mut link = self.take_link().await?;
        if let Some(line) = self.lines.as_ref().and_then(|l| l.get(i)) {
            if let Err(e) = link.set_line(*line).await {
                self.link.close();
                return Err(Failure::Poll(e.to_string()));
            }
        }
        let plan = self
            .plans
            .get(i)
            .cloned()
            .ok_or_else(|| Failure::Poll("no such meter".into()))?;
        match plan {
            MeterPlan::Dlms(config) => {
                // Design: until the meter has accepted the association there is nothing
                // to release, so a stop request ends the attempt at once (a silent meter
                // would otherwise hold the shutdown for all its retries).
                let mut watch = stop.clone();
                let session = tokio::select! {
                    opened = Session::open(link, config) => opened.map_err(|e| Failure::Poll(e.to_string()))?,
                    () = stopped(&mut watch) => return Err(Failure::Stopped),
                };
                self.read_dlms(session, groups, stop)
                    .await
                    .map(Produced::Dlms)
            }
            MeterPlan::Optical {
                cfg,
                mode: OpticalMode::ModeE,
                dlms,
            } => {
                let mut watch = stop.clone();
                let session = tokio::select! {
                    opened = optical::open_mode_e(link, &cfg, dlms) => opened.map_err(|e| Failure::Poll(e.to_string()))?,
                    () = stopped(&mut watch) => return Err(Failure::Stopped),
                };
                self.read_dlms(session, groups, stop)
                    .await
                    .map(Produced::Dlms)
            }
            MeterPlan::Optical { cfg, mode, .. } => {
                let mut link = link;
                let readout = match mode {
                    OpticalMode::Registers => {
                        let ids = wanted(groups)
                            .into_iter()
                            .filter_map(|r| self.shared.readout.id_for(r))
                            .collect();
                        optical::read_registers(&mut link, &cfg, ids).await
                    }
                    _ => optical::read_out(&mut link, &cfg).await,
                };
                let readout = match readout {
                    Ok(r) => r,
                    Err(e) => {
                        // The port may be mid-message: sign on afresh next time.
                        self.link.close();
                        return Err(Failure::Poll(e.to_string()));
                    }
                };
                self.link.put_back(link);
                let mut items: Vec<_> = self
                    .shared
                    .readout
                    .readings(&readout.data_sets)
                    .into_iter()
                    .filter_map(|r| match r {
                        Ok(r) => Some(Ok((Item::Reads(r.reads?), r.value))),
                        Err(f) => Some(Err(f.to_string())),
                    })
                    .collect();
                items.extend(
                    readout
                        .register_errors
                        .iter()
                        .map(|e| Err(format!("{e:?}"))),
                );
                Ok(Produced::Items(items))
            }
            MeterPlan::Dlt645(cfg) => {
                let mut meter = match Dlt645Meter::connect(link, cfg).await {
                    Ok(m) => m,
                    Err(e) => {
                        self.link.close();
                        return Err(Failure::Poll(e.to_string()));
                    }
                };
                let known = all_reads(cfg.version, cfg.vendor_version);
                let selection: Vec<Reads> = wanted(groups)
                    .into_iter()
                    .filter(|r| known.contains(r))
                    .collect();
                let report = meter.read(&selection).await;
                if let Some(e) = report.aborted {
                    self.link.close();
                    return Err(Failure::Poll(e.to_string()));
                }
                self.link.put_back(meter.into_link());
                let items = report
                    .items
                    .into_iter()
                    .map(|r| match r {
                        Ok(r) => Ok((Item::Reads(r.what), r.value)),
                        Err(f) => Err(f.to_string()),
                    })
                    .collect();
                Ok(Produced::Items(items))
            }
        }
    }

    /// The bus's link, open (a fresh one announced and counted).
    async fn take_link(&mut self) -> Result<crate::transport::BoxLink, Failure> {
        match self.link.take().await {
            Taken::Open { link, fresh } => {
                if fresh {
                    tracing::info!(bus = %self.bus.name, link = %link.describe(), "link open");
                    self.shared.events.send(DaemonEvent::LinkOpened {
                        bus: self.bus.name.clone(),
                    });
                    Ok(count_bytes(link, &self.bus.name, &self.shared.metrics))
                } else {
                    Ok(link)
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
                Err(Failure::Poll(error))
            }
        }
    }

    /// One association: the objects of every due group, then (unless stop was asked
    /// meanwhile) the event times, then release.
    async fn read_dlms(
        &mut self,
        mut session: Session,
        groups: Groups,
        stop: &watch::Receiver<bool>,
    ) -> Result<Vec<ReadReport>, Failure> {
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

/// Every reading due for `groups` (objects, then event times).
fn wanted(groups: Groups) -> Vec<Reads> {
    let mut reads = object_reads(groups);
    reads.extend(event_reads(groups));
    reads
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
