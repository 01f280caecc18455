//! Serving a scenario on real links: the thin tokio loop around a [`Station`], the
//! [`Simulator`] that starts it on TCP, a pty or any [`Link`], and the [`SimHandle`] tests
//! use to change meters and wait for what happened.
//!
//! The loop reads bytes, hands them to the station with the time since the simulator
//! started, writes what the station returns (held back by delay faults, paced at the
//! configured baud rate), and fires the station's timers. All protocol decisions are in
//! the sans-IO modules below it.

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
use crate::sim::station::{Framing, Station, Step};

/// Events kept for a slow subscriber before it starts missing some.
const EVENT_BACKLOG: usize = 4096;
/// Bytes read from a link at once.
const READ_CHUNK: usize = 4096;

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
}

/// How the simulator runs.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Scenario seconds per real second (scripted changes, fault windows, the meters' clocks).
    pub time_scale: f64,
    /// Pace every link's writes at this baud rate, 8N1 (none: as fast as the link goes).
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
        Ok((path, self.serve_link(pty, framing)))
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
        self.check_framing(framing)?;
        match self.shared.baud {
            Some(baud) => {
                let paced = PacedLink::new(link, LineSettings::new_8n1(baud));
                self.serve_loop(paced, framing).await
            }
            None => self.serve_loop(link, framing).await,
        }
    }

    fn check_framing(&self, framing: Framing) -> Result<(), SimError> {
        match framing {
            Framing::Wrapper { meter } if meter >= self.shared.scenario.meters.len() => {
                Err(SimError::NoSuchMeter(meter))
            }
            _ => Ok(()),
        }
    }

    async fn serve_loop<L: Link>(&self, mut link: L, framing: Framing) -> Result<(), SimError> {
        let shared = &self.shared;
        let name = link.describe();
        let io_err = |source| SimError::Io {
            context: name.clone(),
            source,
        };
        let mut station = Station::new(&shared.fleet(), framing);
        let char_time = shared.baud.map(|b| LineSettings::new_8n1(b).char_time());
        let mut shutdown = shared.shutdown.subscribe();
        let mut queue: VecDeque<(Instant, Vec<u8>)> = VecDeque::new();
        let mut buf = vec![0u8; READ_CHUNK];
        shared.publish(SimEvent::LinkOpened { link: name.clone() });
        tracing::info!(link = %name, "serving");
        let result = loop {
            let next_write = queue.front().map(|(at, _)| *at);
            let deadline = station.next_deadline().map(|d| shared.origin + d);
            tokio::select! {
                biased;
                _ = stopped(&mut shutdown) => break Ok(()),
                _ = sleep_until(next_write), if next_write.is_some() => {
                    if let Some((_, bytes)) = queue.pop_front() {
                        if let Err(e) = write_frame(&mut link, &bytes, char_time).await {
                            break Err(io_err(e));
                        }
                    }
                }
                _ = sleep_until(deadline), if deadline.is_some() => {
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
                    }
                    Err(e) => break Err(io_err(e)),
                },
            }
        };
        tracing::info!(link = %name, "link closed");
        shared.publish(SimEvent::LinkClosed { link: name });
        result
    }

    /// Queue a step's writes (in order, none before its delay) and publish its events;
    /// true when the link must close.
    fn take_step(&self, step: Step, queue: &mut VecDeque<(Instant, Vec<u8>)>) -> bool {
        let now = Instant::now();
        for w in step.writes {
            let at = (now + w.delay).max(queue.back().map_or(now, |(t, _)| *t));
            queue.push_back((at, w.bytes));
        }
        for event in step.events {
            self.shared.publish(event);
        }
        step.close
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

/// Write one frame and wait until it has left (a paced link returns from `flush` then).
///
/// Design: `PacedLink` hands byte k over when the k bytes before it have had their wire
/// time, i.e. at the start of its own slot. A UART delivers a byte when its stop bit has
/// arrived, one character time later; waiting one character before each frame gives the
/// reader that timing, so N bytes arrive N character times after the meter starts.
async fn write_frame<L: Link>(
    link: &mut L,
    bytes: &[u8],
    char_time: Option<Duration>,
) -> io::Result<()> {
    if let Some(c) = char_time {
        tokio::time::sleep(c).await;
    }
    link.write_all(bytes).await?;
    link.flush().await
}
