//! Serving a scenario on real links: the thin tokio loop around a [`Station`], the
//! [`Simulator`] that starts it on TCP, a pty or any [`Link`], and the [`SimHandle`] tests
//! use to change meters and wait for what happened.
//!
//! The loop reads bytes, hands them to the station with the time since the simulator
//! started, writes what the station returns (held back by delay faults, paced at the
//! configured baud rate, line changes in order with the bytes), and fires the station's
//! timers. On a pty it also reports the baud rate the client set on the slave while an
//! optical session waits to see the client switch (polled every [`PEER_BAUD_POLL`], and
//! after every read and before every timer). All protocol decisions are in the sans-IO
//! modules below it.

mod handle;

pub use handle::{wait_for, SimHandle};

use core::time::Duration;
use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::profile::Profile;
use crate::transport::{LineSettings, Link, PacedLink, PtyLink, TcpLink, TransportError};

use crate::sim::fleet::{Fleet, SimEvent};
use crate::sim::meter::BuildError;
use crate::sim::scenario::{Scenario, ScenarioError};
use crate::sim::station::{Framing, Station, Step, Write};

/// Events kept for a slow subscriber before it starts missing some.
const EVENT_BACKLOG: usize = 4096;
/// Bytes read from a link at once.
const READ_CHUNK: usize = 4096;
/// How often the client's baud rate is read from a pty while an optical session waits
/// for the client's switch: a few characters' time at 9600 baud.
pub const PEER_BAUD_POLL: Duration = Duration::from_millis(2);

/// Why the simulator cannot start or serve.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Build(#[from] BuildError),
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
    #[error("no meter number {0} in the scenario")]
    NoSuchMeter(usize),
    #[error("no meter in the scenario speaks {protocol} (see `protocols` in the scenario)")]
    NoMeterSpeaks { protocol: &'static str },
}

/// How the simulator runs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Scenario seconds per real second (scripted changes, fault windows, the meters' clocks).
    pub time_scale: f64,
    /// Pace every link's writes at this baud rate, 8N1 (none: as fast as the link goes).
    /// On the optical port the rate follows the session (300 baud 7E1 at sign-on, the
    /// agreed rate after the option select); this only turns pacing on.
    pub baud: Option<u32>,
    /// Where the meters' objects live (default: the built-in Calin profile).
    pub profile: Profile,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            time_scale: 1.0,
            baud: None,
            profile: Profile::calin(),
        }
    }
}

struct Shared {
    fleet: Mutex<Fleet>,
    scenario: Scenario,
    origin: Instant,
    baud: Option<u32>,
    events: broadcast::Sender<SimEvent>,
    shutdown: watch::Sender<bool>,
}

impl Shared {
    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    /// The fleet, with every change due by now applied.
    fn fleet(&self) -> MutexGuard<'_, Fleet> {
        let mut fleet = self.fleet.lock().unwrap_or_else(|e| e.into_inner());
        for event in fleet.advance(self.now()) {
            self.publish(event);
        }
        fleet
    }

    fn publish(&self, event: SimEvent) {
        tracing::debug!(?event, "sim event");
        // No subscriber is fine.
        let _ = self.events.send(event);
    }
}

/// A running scenario. Cheap to clone; every clone serves the same meters.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
}

impl Simulator {
    /// Build the meters. Call inside a tokio runtime: the simulator's clock starts now.
    pub fn new(scenario: Scenario, options: SimOptions) -> Result<Simulator, SimError> {
        let fleet = Fleet::new(&scenario, &options.profile, options.time_scale)?;
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        let (shutdown, _) = watch::channel(false);
        Ok(Simulator {
            shared: Arc::new(Shared {
                fleet: Mutex::new(fleet),
                scenario,
                origin: Instant::now(),
                baud: options.baud,
                events,
                shutdown,
            }),
        })
    }

    pub fn handle(&self) -> SimHandle {
        SimHandle {
            shared: self.shared.clone(),
        }
    }

    pub fn scenario(&self) -> &Scenario {
        &self.shared.scenario
    }

    /// Listen on `addr` (e.g. `127.0.0.1:0`); every accepted connection is served with
    /// `framing` until it closes or the simulator shuts down.
    pub async fn serve_tcp(
        &self,
        addr: SocketAddr,
        framing: Framing,
    ) -> Result<(SocketAddr, JoinHandle<()>), SimError> {
        self.check_framing(framing)?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Io {
                context: format!("cannot listen on {addr}"),
                source,
            })?;
        let local = listener.local_addr().map_err(|source| SimError::Io {
            context: format!("cannot read the address bound for {addr}"),
            source,
        })?;
        let sim = self.clone();
        let task = tokio::spawn(async move { sim.accept_loop(listener, framing).await });
        Ok((local, task))
    }

    async fn accept_loop(self, listener: TcpListener, framing: Framing) {
        let mut shutdown = self.shared.shutdown.subscribe();
        loop {
            tokio::select! {
                _ = stopped(&mut shutdown) => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        let link = TcpLink::from_stream(stream, format!("tcp {peer}"));
                        self.serve_link(link, framing);
                    }
                    Err(e) => tracing::warn!(%e, "accept failed"),
                },
            }
        }
    }

    /// Create a pty pair and serve its master; the agent opens the slave path as a serial
    /// port, and may close and reopen it any number of times.
    pub fn serve_pty(&self, framing: Framing) -> Result<(PathBuf, JoinHandle<()>), SimError> {
        self.check_framing(framing)?;
        let pty = PtyLink::open()?;
        let path = pty.slave_path().to_owned();
        let sim = self.clone();
        let task = tokio::spawn(async move {
            let name = pty.describe();
            let peer = |p: &PtyLink| p.peer_baud().ok();
            if let Err(e) = sim.run_link_with(pty, framing, peer).await {
                tracing::warn!(link = %name, %e, "link ended with an error");
            }
        });
        Ok((path, task))
    }

    /// Serve one link in a task until it ends or the simulator shuts down.
    pub fn serve_link<L: Link + 'static>(&self, link: L, framing: Framing) -> JoinHandle<()> {
        let sim = self.clone();
        tokio::spawn(async move {
            let name = link.describe();
            if let Err(e) = sim.run_link(link, framing).await {
                tracing::warn!(link = %name, %e, "link ended with an error");
            }
        })
    }

    /// Serve one link on the current task.
    pub async fn run_link<L: Link>(&self, link: L, framing: Framing) -> Result<(), SimError> {
        self.run_link_with(link, framing, |_: &L| None).await
    }

    /// Serve one link; `peer` reads the client's baud rate off it, when it can.
    async fn run_link_with<L: Link>(
        &self,
        link: L,
        framing: Framing,
        peer: impl Fn(&L) -> Option<u32>,
    ) -> Result<(), SimError> {
        self.check_framing(framing)?;
        match self.shared.baud {
            Some(baud) => {
                let paced = PacedLink::new(link, initial_line(framing, baud));
                let peer = move |p: &PacedLink<L>| peer(p.get_ref());
                self.serve_loop(paced, framing, peer).await
            }
            None => self.serve_loop(link, framing, peer).await,
        }
    }

    fn check_framing(&self, framing: Framing) -> Result<(), SimError> {
        let meters = &self.shared.scenario.meters;
        match framing {
            Framing::Wrapper { meter } => match meters.get(meter) {
                None => Err(SimError::NoSuchMeter(meter)),
                Some(m) if !framing.serves(m) => Err(SimError::NoMeterSpeaks {
                    protocol: framing.protocol(),
                }),
                Some(_) => Ok(()),
            },
            _ if !meters.iter().any(|m| framing.serves(m)) => Err(SimError::NoMeterSpeaks {
                protocol: framing.protocol(),
            }),
            _ => Ok(()),
        }
    }

    async fn serve_loop<L: Link>(
        &self,
        mut link: L,
        framing: Framing,
        peer: impl Fn(&L) -> Option<u32>,
    ) -> Result<(), SimError> {
        let shared = &self.shared;
        let name = link.describe();
        let io_err = |source| SimError::Io {
            context: name.clone(),
            source,
        };
        let mut station = Station::new(&shared.fleet(), framing);
        let paced = shared.baud.is_some();
        let mut line = station
            .initial_line()
            .unwrap_or_else(|| LineSettings::new_8n1(shared.baud.unwrap_or(9600)));
        let sees_peer = peer(&link).is_some();
        let mut poll = tokio::time::interval(PEER_BAUD_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut shutdown = shared.shutdown.subscribe();
        let mut queue: VecDeque<(Instant, Write)> = VecDeque::new();
        let mut buf = vec![0u8; READ_CHUNK];
        shared.publish(SimEvent::LinkOpened { link: name.clone() });
        tracing::info!(link = %name, "serving");
        let result = loop {
            let next_write = queue.front().map(|(at, _)| *at);
            let deadline = station.next_deadline().map(|d| shared.origin + d);
            let watching = sees_peer && station.watches_peer_baud();
            tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break Ok(()),
                _ = sleep_until(next_write), if next_write.is_some() => {
                    let Some((_, w)) = queue.pop_front() else { continue };
                    if let Some(l) = w.line {
                        if let Err(e) = link.set_line(l).await {
                            break Err(SimError::Transport(e));
                        }
                        line = l;
                    }
                    if w.bytes.is_empty() {
                        continue;
                    }
                    let char_time = paced.then(|| line.char_time());
                    if let Err(e) = write_frame(&mut link, &w.bytes, char_time).await {
                        break Err(io_err(e));
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
                    if self.report_peer(&mut station, peer(&link), &mut queue) {
                        break Ok(());
                    }
                    let step = station.handle_timeout(&mut shared.fleet(), shared.now());
                    if self.take_step(step, &mut queue) {
                        break Ok(());
                    }
                }
                read = link.read(&mut buf) => match read {
                    Ok(0) => break Ok(()),
                    Ok(n) => {
                        let bytes = buf.get(..n).unwrap_or_default();
                        let step = station.handle_bytes(&mut shared.fleet(), shared.now(), bytes);
                        if self.take_step(step, &mut queue) {
                            break Ok(());
                        }
                        if sees_peer && self.report_peer(&mut station, peer(&link), &mut queue) {
                            break Ok(());
                        }
                    }
                    Err(e) => break Err(io_err(e)),
                },
                _ = poll.tick(), if watching => {
                    if self.report_peer(&mut station, peer(&link), &mut queue) {
                        break Ok(());
                    }
                }
            }
        };
        tracing::info!(link = %name, "link closed");
        shared.publish(SimEvent::LinkClosed { link: name });
        result
    }

    /// Tell the station the client's baud rate, if the link shows it; true when the link
    /// must close.
    fn report_peer(
        &self,
        station: &mut Station,
        baud: Option<u32>,
        queue: &mut VecDeque<(Instant, Write)>,
    ) -> bool {
        let Some(baud) = baud else { return false };
        let shared = &self.shared;
        let step = station.handle_peer_baud(&mut shared.fleet(), shared.now(), baud);
        self.take_step(step, queue)
    }

    /// Queue a step's writes (in order, none before its delay) and publish its events;
    /// true when the link must close.
    fn take_step(&self, step: Step, queue: &mut VecDeque<(Instant, Write)>) -> bool {
        let now = Instant::now();
        for w in step.writes {
            let at = (now + w.delay).max(queue.back().map_or(now, |(t, _)| *t));
            queue.push_back((at, w));
        }
        for event in step.events {
            self.shared.publish(event);
        }
        step.close
    }
}

/// The line a link starts on when paced: 300 baud 7E1 for the optical port, else `baud` 8N1.
fn initial_line(framing: Framing, baud: u32) -> LineSettings {
    match framing {
        Framing::Optical => crate::sim::optical::OpticalLine::initial_line(),
        _ => LineSettings::new_8n1(baud),
    }
}

/// Resolves once shutdown is requested (or the simulator is gone).
// Design: the `watch::Ref` that `wait_for` returns is not `Send`; it must not live in a
// `select!` output across another branch's await.
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Write one frame.
///
/// Design: `PacedLink` hands byte k over when the k bytes before it have had their wire
/// time, i.e. at the start of its own slot. A UART delivers a byte when its stop bit has
/// arrived, one character time later; waiting one character before each frame gives the
/// reader that timing, so N bytes arrive N character times after the meter starts. For
/// the same reason a paced frame is not flushed: by the reader's clock the last byte has
/// arrived when it is handed over, and the loop must be reading again then (an optical
/// client answers the identification at once). The next write or line change waits for
/// the line anyway. An unpaced link is flushed.
async fn write_frame<L: Link>(
    link: &mut L,
    bytes: &[u8],
    char_time: Option<Duration>,
) -> io::Result<()> {
    if let Some(c) = char_time {
        tokio::time::sleep(c).await;
        return link.write_all(bytes).await;
    }
    link.write_all(bytes).await?;
    link.flush().await
}
