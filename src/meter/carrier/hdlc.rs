//! The HDLC carrier: drives the sans-IO `HdlcClient` over a link. It writes what the
//! session says to send, reads with the response and inter-character timeouts, feeds
//! every burst to the session, arms its one timer and turns `Fail` into a `MeterError`.
//! Recovery of lost or damaged frames is the session's (bounded polls and
//! retransmissions); this loop only keeps time.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

use super::{write_all, LinkStats, Phase};
use crate::meter::config::SessionConfig;
use crate::meter::error::MeterError;
use crate::protocol::hdlc::session::Discard;
use crate::protocol::hdlc::{
    Action, ClientConfig, Control, Deframer, FailReason, Frame, HdlcAddress, HdlcClient,
    HdlcParameters,
};
use crate::transport::{
    read_frame, read_some, BoxLink, Link, ReadTimeouts, TimeoutPhase, TransportError,
};

/// Bytes read without a whole frame before the line counts as babbling.
const MAX_BURST: usize = 4 * crate::protocol::hdlc::frame::MAX_WIRE_LEN;

/// The HDLC client session and its clock, timer and delivered APDUs.
pub(crate) struct HdlcCarrier {
    client: HdlcClient,
    origin: Instant,
    deadline: Option<Instant>,
    response_timeout: Duration,
    inter_char: Duration,
    address: String,
    delivered: VecDeque<Vec<u8>>,
    /// Actions taken from the session, not yet carried out.
    pending: VecDeque<Action>,
    pub(super) stats: LinkStats,
}

/// What the loop waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    Connected,
    Deliver,
    Disconnected,
}

impl HdlcCarrier {
    pub(super) fn new(config: &SessionConfig) -> Result<Self, MeterError> {
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
            pending: VecDeque::new(),
            stats: LinkStats::default(),
        })
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    pub(super) async fn connect(
        &mut self,
        link: &mut BoxLink,
    ) -> Result<HdlcParameters, MeterError> {
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

    pub(super) async fn exchange(
        &mut self,
        link: &mut BoxLink,
        apdu: &[u8],
    ) -> Result<Vec<u8>, MeterError> {
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

    /// Negotiated parameters, while connected.
    pub(super) fn parameters(&self) -> Option<HdlcParameters> {
        self.client.parameters()
    }

    pub(super) async fn disconnect(&mut self, link: &mut BoxLink) -> Result<(), MeterError> {
        let now = self.now();
        if self.client.disconnect(now).is_ok() {
            return self
                .run(link, Goal::Disconnected, Phase::Disconnecting)
                .await;
        }
        // Design: the session gave up (e.g. a meter that never answers RLRQ) but the
        // meter may still be connected: send one DISC anyway and wait one response
        // timeout for UA or DM, so that the next session does not find it busy.
        self.disc_once(link).await
    }

    async fn disc_once(&mut self, link: &mut BoxLink) -> Result<(), MeterError> {
        let config = self.client.config();
        let disc = Frame::new(
            config.server,
            config.client,
            Control::Disc { poll: true },
            Vec::new(),
        );
        let (us, meter) = (config.client, config.server);
        let bytes = disc.to_bytes().map_err(|e| MeterError::Link {
            link: link.describe(),
            reason: FailReason::Emit(e),
        })?;
        write_all(link, &bytes).await?;
        self.stats.frames_sent += 1;
        let deadline = Instant::now() + self.response_timeout;
        let mut deframer = Deframer::new();
        let mut buf = vec![0u8; 512];
        loop {
            let n = match read_some(link.as_mut(), &mut buf, deadline, self.inter_char).await {
                Ok(n) => n,
                Err(TransportError::Timeout { .. }) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            deframer.push(buf.get(..n).unwrap_or(&[]));
            while let Some(frame) = deframer.next_frame().transpose() {
                let answered = frame.is_ok_and(|f| {
                    f.destination == us
                        && f.source == meter
                        && matches!(f.control, Control::Ua { .. } | Control::Dm { .. })
                });
                if answered {
                    return Ok(());
                }
            }
        }
    }

    /// Carry out actions and read until `goal` is reached or the session fails.
    async fn run(
        &mut self,
        link: &mut BoxLink,
        goal: Goal,
        phase: Phase,
    ) -> Result<(), MeterError> {
        loop {
            self.collect_actions();
            if self.carry_out(link, goal, phase).await? {
                return Ok(());
            }
            let deadline = match self.deadline {
                Some(d) => d,
                // Design: the session always arms its timer while it waits; if it did
                // not, wait one response timeout and give up rather than hang.
                None => Instant::now() + self.response_timeout,
            };
            let timeouts = ReadTimeouts {
                first_byte: deadline.saturating_duration_since(Instant::now()),
                inter_char: self.inter_char,
            };
            // Design: every chunk goes to the session as it arrives, and the read ends
            // as soon as the session has something to do: a whole answer costs no
            // inter-character wait (that would add up over hundreds of blocks).
            let (client, pending, origin) = (&mut self.client, &mut self.pending, self.origin);
            let read = read_frame(link.as_mut(), timeouts, MAX_BURST, |chunk| {
                client.handle_bytes(Instant::now().saturating_duration_since(origin), chunk);
                pending.extend(std::iter::from_fn(|| client.poll_action()));
                (!pending.is_empty()).then_some(())
            })
            .await;
            match read {
                Ok(()) => {}
                // Bytes came but no frame completed before the line went quiet: noise or
                // a cut frame. The session's own timer decides what happens next.
                Err(TransportError::Timeout {
                    phase: TimeoutPhase::InterCharacter,
                    ..
                }) => {}
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

    fn collect_actions(&mut self) {
        let client = &mut self.client;
        self.pending
            .extend(std::iter::from_fn(|| client.poll_action()));
    }

    /// Carry out every queued action; `Ok(true)` once `goal` was reached.
    async fn carry_out(
        &mut self,
        link: &mut BoxLink,
        goal: Goal,
        phase: Phase,
    ) -> Result<bool, MeterError> {
        let mut reached = false;
        while let Some(action) = self.pending.pop_front() {
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
