//! The I/O loop under a session: carries whole APDUs over a link, by HDLC (driving the
//! sans-IO `HdlcClient`) or by the IEC 62056-47 wrapper.
//!
//! It writes what the HDLC session says to send, reads with the response and
//! inter-character timeouts, feeds every burst to the session, arms its one timer and
//! turns `Fail` into a `MeterError`. Recovery of lost or damaged frames is the HDLC
//! session's (bounded polls and retransmissions); this loop only keeps time. It must not
//! interpret APDUs.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::time::Instant;

use super::config::{Framing, SessionConfig};
use super::error::MeterError;
use crate::protocol::hdlc::session::Discard;
use crate::protocol::hdlc::{
    Action, ClientConfig, FailReason, HdlcAddress, HdlcClient, HdlcParameters,
};
use crate::transport::{read_some, BoxLink, Link, TimeoutPhase, TransportError};

/// What the link layer saw and set aside, for diagnostics (`probe`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames written.
    pub frames_sent: u64,
    /// Frames dropped for failing their checks (bad HCS/FCS, bad header).
    pub damaged: u64,
    /// Our own frames echoed back by the line.
    pub echoes: u64,
    /// Repeats of frames already handled.
    pub duplicates: u64,
    /// Valid frames for another station, or with no place in the state.
    pub ignored: u64,
    /// Response timeouts (each followed by a poll or a retransmission, or by failure).
    pub timeouts: u64,
}

/// Which phase a link failure happened in: while connecting, nothing has answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Exchanging,
    Disconnecting,
}

/// Carries APDUs over one link.
pub(crate) enum Carrier {
    Hdlc(HdlcCarrier),
}

impl Carrier {
    pub(crate) fn new(config: &SessionConfig) -> Result<Self, MeterError> {
        match config.framing {
            Framing::Hdlc => Ok(Carrier::Hdlc(HdlcCarrier::new(config)?)),
            Framing::Wrapper { .. } => Err(MeterError::Unexpected {
                expected: "HDLC framing",
                found: "the IEC 62056-47 wrapper, not available in this build yet".into(),
            }),
        }
    }

    /// Bring the link up (SNRM/UA); nothing to do for the wrapper.
    pub(crate) async fn connect(&mut self, link: &mut BoxLink) -> Result<(), MeterError> {
        match self {
            Carrier::Hdlc(h) => h.connect(link).await.map(|_| ()),
        }
    }

    /// Send one APDU and return the APDU that answers it.
    pub(crate) async fn exchange(
        &mut self,
        link: &mut BoxLink,
        apdu: &[u8],
    ) -> Result<Vec<u8>, MeterError> {
        match self {
            Carrier::Hdlc(h) => h.exchange(link, apdu).await,
        }
    }

    /// Take the link down (DISC; UA or DM both count as done).
    pub(crate) async fn disconnect(&mut self, link: &mut BoxLink) -> Result<(), MeterError> {
        match self {
            Carrier::Hdlc(h) => h.disconnect(link).await,
        }
    }

    pub(crate) fn stats(&self) -> LinkStats {
        match self {
            Carrier::Hdlc(h) => h.stats,
        }
    }

    /// Negotiated HDLC parameters, while connected.
    pub(crate) fn hdlc_parameters(&self) -> Option<HdlcParameters> {
        match self {
            Carrier::Hdlc(h) => h.client.parameters(),
        }
    }
}

/// The HDLC client session and its clock, timer and delivered APDUs.
pub(crate) struct HdlcCarrier {
    client: HdlcClient,
    origin: Instant,
    deadline: Option<Instant>,
    response_timeout: Duration,
    inter_char: Duration,
    address: String,
    delivered: VecDeque<Vec<u8>>,
    stats: LinkStats,
}

/// What the loop waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    Connected,
    Deliver,
    Disconnected,
}

impl HdlcCarrier {
    fn new(config: &SessionConfig) -> Result<Self, MeterError> {
        let client_address =
            HdlcAddress::client(config.client).map_err(|e| MeterError::Unexpected {
                expected: "a client address 0..127",
                found: e.to_string(),
            })?;
        let mut hdlc = ClientConfig::new(client_address, config.server);
        hdlc.response_timeout = config.response_timeout;
        hdlc.max_retries = config.retries;
        // LLC header (3 bytes) on top of the largest APDU we accept.
        hdlc.max_apdu_len = config.max_response_bytes.saturating_add(3);
        Ok(HdlcCarrier {
            client: HdlcClient::new(hdlc),
            origin: Instant::now(),
            deadline: None,
            response_timeout: config.response_timeout,
            inter_char: config.inter_char_timeout,
            address: config.describe_address(),
            delivered: VecDeque::new(),
            stats: LinkStats::default(),
        })
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    async fn connect(&mut self, link: &mut BoxLink) -> Result<HdlcParameters, MeterError> {
        let now = self.now();
        self.client
            .connect(now)
            .map_err(|e| session_misuse(link.as_ref(), e))?;
        self.run(link, Goal::Connected, Phase::Connecting).await?;
        self.client
            .parameters()
            .ok_or_else(|| MeterError::NotAssociated {
                reason: "HDLC link went down right after connecting".into(),
            })
    }

    async fn exchange(&mut self, link: &mut BoxLink, apdu: &[u8]) -> Result<Vec<u8>, MeterError> {
        self.delivered.clear();
        let now = self.now();
        self.client
            .send_apdu(now, apdu)
            .map_err(|e| session_misuse(link.as_ref(), e))?;
        self.run(link, Goal::Deliver, Phase::Exchanging).await?;
        self.delivered
            .pop_front()
            .ok_or_else(|| MeterError::NotAssociated {
                reason: "no APDU delivered".into(),
            })
    }

    async fn disconnect(&mut self, link: &mut BoxLink) -> Result<(), MeterError> {
        let now = self.now();
        if self.client.disconnect(now).is_err() {
            return Ok(()); // already disconnected
        }
        self.run(link, Goal::Disconnected, Phase::Disconnecting)
            .await
    }

    /// Carry out actions and read until `goal` is reached or the session fails.
    async fn run(
        &mut self,
        link: &mut BoxLink,
        goal: Goal,
        phase: Phase,
    ) -> Result<(), MeterError> {
        let mut buf = vec![0u8; 4096];
        loop {
            if self.carry_out(link, goal, phase).await? {
                return Ok(());
            }
            let deadline = match self.deadline {
                Some(d) => d,
                // Design: the session always arms its timer while it waits; if it did
                // not, wait one response timeout and give up rather than hang.
                None => Instant::now() + self.response_timeout,
            };
            match read_some(link.as_mut(), &mut buf, deadline, self.inter_char).await {
                Ok(n) => {
                    let now = self.now();
                    self.client.handle_bytes(now, buf.get(..n).unwrap_or(&[]));
                }
                Err(TransportError::Timeout {
                    phase: TimeoutPhase::FirstByte,
                    ..
                }) => {
                    self.stats.timeouts += 1;
                    if self.deadline.is_none() {
                        return Err(self.failure(link.as_ref(), phase, no_response()));
                    }
                    self.deadline = None;
                    let now = deadline
                        .saturating_duration_since(self.origin)
                        .max(self.now());
                    self.client.handle_timeout(now);
                }
                Err(e) => return Err(MeterError::Transport(e)),
            }
        }
    }

    /// Carry out every queued action; `Ok(true)` once `goal` was reached.
    async fn carry_out(
        &mut self,
        link: &mut BoxLink,
        goal: Goal,
        phase: Phase,
    ) -> Result<bool, MeterError> {
        let mut reached = false;
        while let Some(action) = self.client.poll_action() {
            match action {
                Action::Send(bytes) => {
                    write_all(link, &bytes).await?;
                    self.stats.frames_sent += 1;
                }
                Action::SetTimer(at) => self.deadline = Some(self.origin + at),
                Action::CancelTimer => self.deadline = None,
                Action::Deliver(apdu) => {
                    self.delivered.push_back(apdu);
                    reached |= goal == Goal::Deliver;
                }
                Action::Connected(_) => reached |= goal == Goal::Connected,
                Action::Disconnected => {
                    if goal != Goal::Disconnected {
                        return Err(self.failure(
                            link.as_ref(),
                            phase,
                            FailReason::PeerDisconnected,
                        ));
                    }
                    reached = true;
                }
                Action::Fail(reason) => return Err(self.failure(link.as_ref(), phase, reason)),
                Action::Discarded(d) => self.count(&d),
            }
        }
        Ok(reached)
    }

    fn count(&mut self, discard: &Discard) {
        let counter = match discard {
            Discard::Damaged(_) => &mut self.stats.damaged,
            Discard::Echo => &mut self.stats.echoes,
            Discard::Duplicate(_) => &mut self.stats.duplicates,
            Discard::NotForUs { .. } | Discard::Unexpected(_) => &mut self.stats.ignored,
        };
        *counter += 1;
        tracing::debug!(?discard, "HDLC frame set aside");
    }

    /// `NoAnswer` when nothing valid ever came back while connecting, `Link` otherwise.
    fn failure(&self, link: &dyn Link, phase: Phase, reason: FailReason) -> MeterError {
        let silent = matches!(reason, FailReason::NoResponse { .. });
        if phase == Phase::Connecting && silent {
            return MeterError::NoAnswer {
                link: link.describe(),
                address: self.address.clone(),
            };
        }
        MeterError::Link {
            link: link.describe(),
            reason,
        }
    }
}

fn no_response() -> FailReason {
    FailReason::NoResponse { attempts: 1 }
}

fn session_misuse(link: &dyn Link, e: crate::protocol::hdlc::SessionError) -> MeterError {
    MeterError::NotAssociated {
        reason: format!("HDLC session on {}: {e}", link.describe()),
    }
}

async fn write_all(link: &mut BoxLink, bytes: &[u8]) -> Result<(), MeterError> {
    let result = async {
        link.write_all(bytes).await?;
        link.flush().await
    }
    .await;
    result.map_err(|source| {
        MeterError::Transport(TransportError::Io {
            link: link.describe(),
            source,
        })
    })
}
