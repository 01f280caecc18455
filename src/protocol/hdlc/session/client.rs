//! The HDLC client session (primary station): connect, exchange APDUs, disconnect.
//!
//! Sans-IO: see the parent module for the action contract. Window size 1 in both directions.
//! Recovery (Green Book 8.4, after ISO/IEC 13239 NRM): on a response timeout the client polls
//! with RR (P=1) carrying its N(R); the server's answer says what to do: an RR whose N(R) does
//! not acknowledge our last I-frame makes us send it again, an I-frame we already have is
//! dropped, a missing one is sent again by the server. Timeouts count against `max_retries`;
//! any progress resets the count. The client never delivers an APDU unless every segment
//! passed its FCS and arrived in sequence.
//!
//! Design: on timeout we poll instead of re-sending the I-frame: a meter that ignores N(S)
//! would execute a re-sent request twice (an ACTION, a relay command), a poll cannot.
//! Design: an RR saying "not received" is acted on only in answer to our poll. A server sends
//! one only then; at any other time it is a stale copy (line duplicate, late answer), and
//! re-sending on it would make every duplicate cost a retransmission.

use core::time::Duration;
use std::collections::VecDeque;

use super::{
    Action, Discard, FailReason, Reassembly, Segmenter, SessionError, DEFAULT_MAX_APDU_LEN,
};
use crate::protocol::hdlc::control::{seq_next, seq_prev};
use crate::protocol::hdlc::frmr::FrameReject;
use crate::protocol::hdlc::llc::LlcHeader;
use crate::protocol::hdlc::params::HdlcParameters;
use crate::protocol::hdlc::{Control, Deframer, Frame, HdlcAddress};

/// How a client session behaves. Build with [`ClientConfig::new`] and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Our address (one byte; 0x10 is the public client).
    pub client: HdlcAddress,
    /// The meter's address.
    pub server: HdlcAddress,
    /// What we propose in SNRM (our point of view). Defaults are left out of the SNRM.
    pub params: HdlcParameters,
    /// How long to wait for any answer before polling or re-sending.
    pub response_timeout: Duration,
    /// Polls or retransmissions in a row without progress before giving up.
    pub max_retries: u8,
    /// Largest reassembled APDU (LLC header included) we accept.
    pub max_apdu_len: usize,
    /// Recognise and skip our own frames echoed by the line.
    pub skip_echo: bool,
}

impl ClientConfig {
    /// Defaults: parameters 128/128/1/1, 3 s response timeout, 3 retries, echo skipping on.
    pub fn new(client: HdlcAddress, server: HdlcAddress) -> Self {
        ClientConfig {
            client,
            server,
            params: HdlcParameters::default(),
            response_timeout: Duration::from_secs(3),
            max_retries: 3,
            max_apdu_len: DEFAULT_MAX_APDU_LEN,
            skip_echo: true,
        }
    }
}

/// Where the client is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    Disconnected,
    /// SNRM sent, waiting for UA or DM.
    Connecting,
    /// Connected, no exchange in progress: `send_apdu` may be called.
    Idle,
    /// A segment (not the last) was sent; waiting for the RR that acknowledges it.
    Sending,
    /// The whole request was sent; waiting for the first response frame.
    AwaitingResponse,
    /// Part of a segmented response arrived; waiting for the next segment.
    Receiving,
    /// DISC sent, waiting for UA or DM.
    Disconnecting,
}

/// What a timeout re-sends.
#[derive(Debug, Clone, Copy)]
enum Retry {
    Snrm,
    Disc,
    Poll,
}

/// The client session. See the module documentation.
#[derive(Debug, Clone)]
pub struct HdlcClient {
    config: ClientConfig,
    state: ClientState,
    deframer: Deframer,
    actions: VecDeque<Action>,
    params: HdlcParameters,
    /// V(S): N(S) of the next I-frame we send.
    vs: u8,
    /// V(R): N(S) we expect in the next I-frame.
    vr: u8,
    segmenter: Option<Segmenter>,
    rx: Reassembly,
    /// Last frame sent, to recognise its echo.
    last_sent: Option<Frame>,
    /// Last I-frame sent, to send again when the server did not get it.
    last_i: Option<Frame>,
    deadline: Option<Duration>,
    /// Timeouts in a row without progress.
    retries: u8,
    /// An RR poll went out since our last I-frame: an RR with the old N(R) answers it.
    polled: bool,
    /// The server's last answer to a poll said it had not received our I-frame.
    nacked: bool,
}

impl HdlcClient {
    pub fn new(config: ClientConfig) -> Self {
        HdlcClient {
            config,
            state: ClientState::Disconnected,
            deframer: Deframer::new(),
            actions: VecDeque::new(),
            params: HdlcParameters::default(),
            vs: 0,
            vr: 0,
            segmenter: None,
            rx: Reassembly::default(),
            last_sent: None,
            last_i: None,
            deadline: None,
            retries: 0,
            polled: false,
            nacked: false,
        }
    }

    pub fn state(&self) -> ClientState {
        self.state
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Negotiated parameters (our point of view), while connected.
    pub fn parameters(&self) -> Option<HdlcParameters> {
        match self.state {
            ClientState::Disconnected | ClientState::Connecting => None,
            _ => Some(self.params),
        }
    }

    /// The pending timer deadline, if any (the same value last given by `SetTimer`).
    pub fn deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Next action to carry out, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Send SNRM with our proposed parameters.
    pub fn connect(&mut self, now: Duration) -> Result<(), SessionError> {
        if self.state != ClientState::Disconnected {
            return Err(SessionError::AlreadyConnected);
        }
        self.deframer.clear();
        self.reset();
        self.state = ClientState::Connecting;
        self.send_retry(now, Retry::Snrm);
        Ok(())
    }

    /// Send one APDU (LLC header added here), segmented if longer than the negotiated maximum.
    pub fn send_apdu(&mut self, now: Duration, apdu: &[u8]) -> Result<(), SessionError> {
        match self.state {
            ClientState::Idle => {}
            ClientState::Disconnected | ClientState::Connecting | ClientState::Disconnecting => {
                return Err(SessionError::NotConnected)
            }
            ClientState::Sending | ClientState::AwaitingResponse | ClientState::Receiving => {
                return Err(SessionError::Busy)
            }
        }
        let data = LlcHeader::Command.prepend(apdu);
        self.segmenter = Some(Segmenter::new(data, self.params.max_info_tx));
        self.rx.clear();
        self.progress();
        self.send_next_segment(now);
        Ok(())
    }

    /// Send DISC. Allowed in any state but `Disconnected`; an exchange in progress is abandoned.
    pub fn disconnect(&mut self, now: Duration) -> Result<(), SessionError> {
        if self.state == ClientState::Disconnected {
            return Err(SessionError::NotConnected);
        }
        self.segmenter = None;
        self.rx.clear();
        self.retries = 0;
        self.state = ClientState::Disconnecting;
        self.send_retry(now, Retry::Disc);
        Ok(())
    }

    /// Bytes read from the link (any chunking).
    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        let mut rest = bytes;
        loop {
            let taken = self.deframer.push(rest);
            rest = rest.get(taken..).unwrap_or(&[]);
            while let Some(result) = self.next_frame() {
                match result {
                    Ok(frame) => self.handle_frame(now, frame),
                    Err(e) => self
                        .actions
                        .push_back(Action::Discarded(Discard::Damaged(e))),
                }
            }
            if rest.is_empty() {
                return;
            }
            if taken == 0 {
                // Unreachable: after `next_frame` returns `None` the buffer has room.
                self.deframer.clear();
            }
        }
    }

    /// The timer set by the last `SetTimer` fired (early or stale calls are ignored).
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.deadline {
            Some(deadline) if now >= deadline => self.deadline = None,
            _ => return,
        }
        let retry = match self.state {
            ClientState::Disconnected | ClientState::Idle => return,
            ClientState::Connecting => Retry::Snrm,
            ClientState::Disconnecting => Retry::Disc,
            ClientState::Sending | ClientState::AwaitingResponse | ClientState::Receiving => {
                Retry::Poll
            }
        };
        self.retry_or_fail(now, retry);
    }

    fn next_frame(&mut self) -> Option<Result<Frame, crate::protocol::hdlc::DeframeError>> {
        self.deframer.next_frame().transpose()
    }

    fn handle_frame(&mut self, now: Duration, frame: Frame) {
        if self.is_echo(&frame) {
            self.actions.push_back(Action::Discarded(Discard::Echo));
            return;
        }
        if frame.destination != self.config.client || frame.source != self.config.server {
            self.actions.push_back(Action::Discarded(Discard::NotForUs {
                destination: frame.destination,
                source: frame.source,
            }));
            return;
        }
        use ClientState as S;
        match (self.state, frame.control) {
            (S::Connecting, Control::Ua { .. }) => self.on_ua(&frame),
            (S::Connecting, Control::Dm { .. }) => self.fail(FailReason::Refused),
            (S::Disconnecting, Control::Ua { .. } | Control::Dm { .. }) => {
                self.reset();
                self.disarm();
                self.actions.push_back(Action::Disconnected);
            }
            (S::Disconnecting | S::Disconnected, control) => self.discard_unexpected(control),
            (_, Control::Frmr { .. }) => {
                self.fail(FailReason::FrameRejected(FrameReject::parse(&frame.info)))
            }
            (S::Connecting, control) => self.discard_unexpected(control),
            (_, Control::Dm { .. }) => self.fail(FailReason::PeerDisconnected),
            (_, control @ Control::I { .. }) => self.on_i(now, control, frame),
            (_, control @ (Control::Rr { .. } | Control::Rnr { .. })) => self.on_rr(now, control),
            (_, control) => self.discard_unexpected(control),
        }
    }

    fn is_echo(&self, frame: &Frame) -> bool {
        if !self.config.skip_echo {
            return false;
        }
        let reversed = self.config.client != self.config.server
            && frame.destination == self.config.server
            && frame.source == self.config.client;
        reversed || self.last_sent.as_ref() == Some(frame)
    }

    fn on_ua(&mut self, frame: &Frame) {
        match HdlcParameters::parse(&frame.info) {
            Err(e) => self.fail(FailReason::BadParameters(e)),
            Ok(ua) => {
                self.params = self.config.params.accept(&ua);
                self.vs = 0;
                self.vr = 0;
                self.progress();
                self.state = ClientState::Idle;
                self.disarm();
                self.actions.push_back(Action::Connected(self.params));
            }
        }
    }

    fn on_i(&mut self, now: Duration, control: Control, frame: Frame) {
        let Control::I { ns, nr, poll } = control else {
            return;
        };
        if ns == seq_prev(self.vr) {
            self.actions
                .push_back(Action::Discarded(Discard::Duplicate(control)));
            return;
        }
        if !matches!(
            self.state,
            ClientState::AwaitingResponse | ClientState::Receiving
        ) {
            self.discard_unexpected(control);
            return;
        }
        if ns != self.vr {
            // Out of sequence: a frame in between was lost. Ask again from V(R).
            self.discard_unexpected(control);
            if poll {
                self.retry_or_fail(now, Retry::Poll);
            }
            return;
        }
        if nr != self.vs {
            self.fail(FailReason::SequenceError {
                expected: self.vs,
                found: nr,
            });
            return;
        }
        self.vr = seq_next(self.vr);
        self.progress();
        if let Err(reason) = self.rx.push(&frame.info, self.config.max_apdu_len) {
            self.fail(reason);
            return;
        }
        if frame.segmented {
            self.state = ClientState::Receiving;
            if poll {
                self.send_rr();
                self.arm(now);
            }
            // Without F, more frames follow before the server hands back the poll.
            return;
        }
        let data = self.rx.take();
        match LlcHeader::Response.strip(&data) {
            Ok(apdu) => {
                self.state = ClientState::Idle;
                self.segmenter = None;
                self.last_i = None;
                self.disarm();
                self.actions.push_back(Action::Deliver(apdu.to_vec()));
            }
            Err(e) => self.fail(FailReason::BadLlc(e)),
        }
    }

    fn on_rr(&mut self, now: Duration, control: Control) {
        let (nr, ready) = match control {
            Control::Rr { nr, .. } => (nr, true),
            Control::Rnr { nr, .. } => (nr, false),
            _ => return,
        };
        if !matches!(
            self.state,
            ClientState::Sending | ClientState::AwaitingResponse
        ) {
            self.discard_unexpected(control);
            return;
        }
        if nr == self.vs {
            // Our last I-frame arrived. Go on, unless the server is busy (RNR) or the request
            // is complete and the answer is still being prepared: then wait for the timer.
            if ready && self.state == ClientState::Sending {
                self.progress();
                self.send_next_segment(now);
            }
        } else if nr == seq_prev(self.vs) && self.polled {
            // Answer to our poll: the server never got our last I-frame. Send it again.
            self.nacked = true;
            if let Some(frame) = self.last_i.clone() {
                self.polled = false;
                if self.send(frame) {
                    self.arm(now);
                }
            }
        } else if nr == seq_prev(self.vs) {
            self.actions
                .push_back(Action::Discarded(Discard::Duplicate(control)));
        } else {
            self.fail(FailReason::SequenceError {
                expected: self.vs,
                found: nr,
            });
        }
    }

    /// Count one more attempt and send `retry` again, or give up after `max_retries`.
    fn retry_or_fail(&mut self, now: Duration, retry: Retry) {
        if self.retries >= self.config.max_retries {
            let attempts = self.retries.saturating_add(1);
            self.fail(if self.nacked {
                FailReason::NotAcknowledged { attempts }
            } else {
                FailReason::NoResponse { attempts }
            });
            return;
        }
        self.retries += 1;
        self.send_retry(now, retry);
    }

    fn progress(&mut self) {
        self.retries = 0;
        self.nacked = false;
    }

    fn send_next_segment(&mut self, now: Duration) {
        let Some((info, more)) = self.segmenter.as_mut().and_then(Segmenter::next_segment) else {
            self.state = ClientState::AwaitingResponse;
            return;
        };
        let control = Control::I {
            ns: self.vs,
            nr: self.vr,
            poll: true,
        };
        let mut frame = self.frame(control, info);
        frame.segmented = more;
        self.last_i = Some(frame.clone());
        self.polled = false;
        self.vs = seq_next(self.vs);
        self.state = if more {
            ClientState::Sending
        } else {
            ClientState::AwaitingResponse
        };
        if self.send(frame) {
            self.arm(now);
        }
    }

    /// Send (again) the frame a state waits on: SNRM, DISC or an RR poll.
    fn send_retry(&mut self, now: Duration, retry: Retry) {
        let sent = match retry {
            Retry::Snrm => {
                let info = self.config.params.encode_compact();
                self.send(self.frame(Control::Snrm { poll: true }, info))
            }
            Retry::Disc => self.send(self.frame(Control::Disc { poll: true }, Vec::new())),
            Retry::Poll => {
                self.polled = true;
                self.send_rr()
            }
        };
        if sent {
            self.arm(now);
        }
    }

    fn send_rr(&mut self) -> bool {
        let control = Control::Rr {
            nr: self.vr,
            poll: true,
        };
        self.send(self.frame(control, Vec::new()))
    }

    fn frame(&self, control: Control, info: Vec<u8>) -> Frame {
        Frame::new(self.config.server, self.config.client, control, info)
    }

    fn send(&mut self, frame: Frame) -> bool {
        match frame.to_bytes() {
            Ok(bytes) => {
                self.actions.push_back(Action::Send(bytes));
                self.last_sent = Some(frame);
                true
            }
            Err(e) => {
                self.fail(FailReason::Emit(e));
                false
            }
        }
    }

    fn arm(&mut self, now: Duration) {
        let deadline = now.saturating_add(self.config.response_timeout);
        self.deadline = Some(deadline);
        self.actions.push_back(Action::SetTimer(deadline));
    }

    fn disarm(&mut self) {
        if self.deadline.take().is_some() {
            self.actions.push_back(Action::CancelTimer);
        }
    }

    fn discard_unexpected(&mut self, control: Control) {
        self.actions
            .push_back(Action::Discarded(Discard::Unexpected(control)));
    }

    fn fail(&mut self, reason: FailReason) {
        self.reset();
        self.disarm();
        self.actions.push_back(Action::Fail(reason));
    }

    fn reset(&mut self) {
        self.state = ClientState::Disconnected;
        self.params = HdlcParameters::default();
        self.vs = 0;
        self.vr = 0;
        self.segmenter = None;
        self.rx.clear();
        self.last_i = None;
        self.retries = 0;
        self.polled = false;
        self.nacked = false;
    }
}
