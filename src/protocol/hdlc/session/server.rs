//! The HDLC server session (secondary station), as a meter runs it; the simulator uses it.
//!
//! Sans-IO: see the parent module for the action contract. The server speaks only when
//! polled (P=1), answers SNRM with UA and its negotiated parameters, DISC with UA (or DM
//! when not connected), reassembles segmented requests (RR after each segment), delivers
//! each request once, segments long responses (waiting for RR between segments), and
//! answers a poll whose N(R) does not acknowledge its last I-frame by sending that frame
//! again. An invalid N(R) or a frame with no place in the state is answered with FRMR; only
//! SNRM or DISC leave that condition (ISO/IEC 13239 NRM). It never sets a retry timer; the
//! only timer is the optional inactivity timeout.

use core::time::Duration;
use std::collections::VecDeque;

use super::{Action, Discard, Reassembly, Segmenter, SessionError, DEFAULT_MAX_APDU_LEN};
use crate::protocol::hdlc::control::{seq_next, seq_prev};
use crate::protocol::hdlc::frmr::{
    FrameReject, FRMR_W_INVALID_CONTROL, FRMR_Y_INFO_TOO_LONG, FRMR_Z_INVALID_NR,
};
use crate::protocol::hdlc::llc::LlcHeader;
use crate::protocol::hdlc::params::HdlcParameters;
use crate::protocol::hdlc::{Control, DeframeError, Deframer, Frame, HdlcAddress};

/// How a server session behaves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Our address; frames for any other destination are ignored (multi-drop bus).
    pub address: HdlcAddress,
    /// Our limits (our point of view); the UA carries the smaller of these and the SNRM's.
    pub params: HdlcParameters,
    /// Largest reassembled request (LLC header included).
    pub max_apdu_len: usize,
    /// Drop the connection after this long without a frame for us (none: never).
    pub inactivity_timeout: Option<Duration>,
}

impl ServerConfig {
    /// Defaults: parameters 128/128/1/1, no inactivity timeout.
    pub fn new(address: HdlcAddress) -> Self {
        ServerConfig {
            address,
            params: HdlcParameters::default(),
            max_apdu_len: DEFAULT_MAX_APDU_LEN,
            inactivity_timeout: None,
        }
    }
}

/// Where the server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Normal disconnected mode: answers SNRM, and DM to anything polled.
    Disconnected,
    /// Connected, waiting for a request.
    Idle,
    /// Part of a segmented request arrived.
    Receiving,
    /// A request was delivered; `send_apdu` must answer it.
    Processing,
    /// A segment of the response (not the last) was sent; waiting for RR.
    Sending,
    /// FRMR sent; waiting for SNRM or DISC.
    Rejected,
}

/// The server session. See the module documentation.
#[derive(Debug, Clone)]
pub struct HdlcServer {
    config: ServerConfig,
    state: ServerState,
    deframer: Deframer,
    actions: VecDeque<Action>,
    client: Option<HdlcAddress>,
    params: HdlcParameters,
    vs: u8,
    vr: u8,
    segmenter: Option<Segmenter>,
    rx: Reassembly,
    /// Last I-frame sent, for a client that did not get it.
    last_response: Option<Frame>,
    /// FRMR sent, repeated while rejected.
    last_reject: Option<Frame>,
    deadline: Option<Duration>,
}

impl HdlcServer {
    pub fn new(config: ServerConfig) -> Self {
        HdlcServer {
            config,
            state: ServerState::Disconnected,
            deframer: Deframer::new(),
            actions: VecDeque::new(),
            client: None,
            params: HdlcParameters::default(),
            vs: 0,
            vr: 0,
            segmenter: None,
            rx: Reassembly::default(),
            last_response: None,
            last_reject: None,
            deadline: None,
        }
    }

    pub fn state(&self) -> ServerState {
        self.state
    }

    /// Address of the connected client.
    pub fn client(&self) -> Option<HdlcAddress> {
        self.client
    }

    /// Negotiated parameters (our point of view), while connected.
    pub fn parameters(&self) -> Option<HdlcParameters> {
        (self.state != ServerState::Disconnected).then_some(self.params)
    }

    /// Next action to carry out, oldest first.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Answer the request last delivered (LLC response header added here).
    pub fn send_apdu(&mut self, now: Duration, apdu: &[u8]) -> Result<(), SessionError> {
        match self.state {
            ServerState::Processing => {}
            ServerState::Disconnected => return Err(SessionError::NotConnected),
            _ => return Err(SessionError::NoPendingRequest),
        }
        let data = LlcHeader::Response.prepend(apdu);
        self.segmenter = Some(Segmenter::new(data, self.params.max_info_tx));
        self.send_next_segment();
        self.touch(now);
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

    /// The inactivity timer fired (early or stale calls are ignored).
    pub fn handle_timeout(&mut self, now: Duration) {
        match self.deadline {
            Some(deadline) if now >= deadline => self.deadline = None,
            _ => return,
        }
        if self.state != ServerState::Disconnected {
            self.reset();
            self.actions.push_back(Action::Disconnected);
        }
    }

    fn next_frame(&mut self) -> Option<Result<Frame, DeframeError>> {
        self.deframer.next_frame().transpose()
    }

    fn handle_frame(&mut self, now: Duration, frame: Frame) {
        let from_other_client = self.state != ServerState::Disconnected
            && self.client.is_some_and(|c| c != frame.source);
        if frame.destination != self.config.address || from_other_client {
            self.actions.push_back(Action::Discarded(Discard::NotForUs {
                destination: frame.destination,
                source: frame.source,
            }));
            return;
        }
        let control = frame.control;
        match (self.state, control) {
            (_, Control::Snrm { .. }) => self.on_snrm(frame),
            (_, Control::Disc { .. }) => self.on_disc(frame.source),
            (ServerState::Disconnected, _) => {
                if control.poll() {
                    self.send_to(frame.source, Control::Dm { poll: true }, Vec::new());
                } else {
                    self.discard_unexpected(control);
                }
            }
            (ServerState::Rejected, _) => {
                if let (true, Some(frmr)) = (control.poll(), self.last_reject.clone()) {
                    self.send(frmr);
                }
            }
            (_, Control::I { .. }) => self.on_i(control, frame),
            (_, Control::Rr { .. } | Control::Rnr { .. }) => self.on_rr(control),
            (_, Control::Unknown(_)) => self.reject(control, FRMR_W_INVALID_CONTROL),
            (_, _) => self.discard_unexpected(control),
        }
        self.touch(now);
    }

    fn on_snrm(&mut self, frame: Frame) {
        match HdlcParameters::parse(&frame.info) {
            Err(_) => {
                // Design: a proposal we cannot read is refused, not guessed at.
                self.send_to(frame.source, Control::Dm { poll: true }, Vec::new());
            }
            Ok(proposal) => {
                self.reset();
                self.params = self.config.params.answer(&proposal);
                self.client = Some(frame.source);
                self.state = ServerState::Idle;
                let info = self.params.encode_full();
                self.send_to(frame.source, Control::Ua { poll: true }, info);
                self.actions.push_back(Action::Connected(self.params));
            }
        }
    }

    fn on_disc(&mut self, source: HdlcAddress) {
        if self.state == ServerState::Disconnected {
            self.send_to(source, Control::Dm { poll: true }, Vec::new());
            return;
        }
        self.send_to(source, Control::Ua { poll: true }, Vec::new());
        self.reset();
        self.actions.push_back(Action::Disconnected);
    }

    fn on_i(&mut self, control: Control, frame: Frame) {
        let Control::I { ns, nr, poll } = control else {
            return;
        };
        if ns == seq_prev(self.vr) {
            // The client did not get our answer to this frame: give it again.
            self.actions
                .push_back(Action::Discarded(Discard::Duplicate(control)));
            if poll {
                self.answer_poll();
            }
            return;
        }
        if ns != self.vr {
            // Out of sequence: our RR says which N(S) we expect.
            self.discard_unexpected(control);
            if poll {
                self.send_rr();
            }
            return;
        }
        if !matches!(self.state, ServerState::Idle | ServerState::Receiving) {
            // A new request while we still owe an answer.
            self.reject(control, FRMR_W_INVALID_CONTROL);
            return;
        }
        if nr != self.vs {
            self.reject(control, FRMR_Z_INVALID_NR);
            return;
        }
        if frame.info.len() > usize::from(self.params.max_info_rx)
            || self.rx.push(&frame.info, self.config.max_apdu_len).is_err()
        {
            self.reject(control, FRMR_Y_INFO_TOO_LONG);
            return;
        }
        self.vr = seq_next(self.vr);
        if frame.segmented {
            self.state = ServerState::Receiving;
            if poll {
                self.send_rr();
            }
            return;
        }
        let data = self.rx.take();
        match LlcHeader::Command.strip(&data) {
            Ok(apdu) => {
                self.state = ServerState::Processing;
                self.last_response = None;
                self.actions.push_back(Action::Deliver(apdu.to_vec()));
            }
            // Design: a request without the LLC command header is not ours to interpret.
            Err(_) => self.reject(control, FRMR_W_INVALID_CONTROL),
        }
    }

    fn on_rr(&mut self, control: Control) {
        let (nr, ready) = match control {
            Control::Rr { nr, .. } => (nr, true),
            Control::Rnr { nr, .. } => (nr, false),
            _ => return,
        };
        match self.state {
            ServerState::Sending | ServerState::Idle if nr == seq_prev(self.vs) => {
                if self.last_response.is_some() {
                    self.answer_poll();
                } else if control.poll() {
                    self.send_rr();
                }
            }
            ServerState::Sending if nr == self.vs => {
                if ready {
                    self.send_next_segment();
                } else if control.poll() {
                    self.send_rr();
                }
            }
            ServerState::Sending | ServerState::Idle if nr != self.vs => {
                self.reject(control, FRMR_Z_INVALID_NR)
            }
            _ => {
                if control.poll() {
                    self.send_rr();
                }
            }
        }
    }

    /// Answer a poll: our last I-frame if there is one to repeat, else RR.
    fn answer_poll(&mut self) {
        match (self.state, self.last_response.clone()) {
            (ServerState::Idle | ServerState::Sending, Some(frame)) => self.send(frame),
            _ => self.send_rr(),
        }
    }

    fn send_next_segment(&mut self) {
        let Some((info, more)) = self.segmenter.as_mut().and_then(Segmenter::next_segment) else {
            self.state = ServerState::Idle;
            return;
        };
        let control = Control::I {
            ns: self.vs,
            nr: self.vr,
            poll: true,
        };
        let Some(client) = self.client else {
            return;
        };
        let mut frame = Frame::new(client, self.config.address, control, info);
        frame.segmented = more;
        self.vs = seq_next(self.vs);
        self.state = if more {
            ServerState::Sending
        } else {
            ServerState::Idle
        };
        self.last_response = Some(frame.clone());
        self.send(frame);
    }

    fn reject(&mut self, control: Control, reasons: u8) {
        let info = FrameReject {
            rejected_control: control.to_byte(),
            vs: self.vs,
            vr: self.vr,
            rejected_response: false,
            reasons,
        }
        .encode()
        .to_vec();
        if let Some(client) = self.client {
            let frame = Frame::new(
                client,
                self.config.address,
                Control::Frmr { poll: true },
                info,
            );
            self.last_reject = Some(frame.clone());
            self.state = ServerState::Rejected;
            self.send(frame);
        }
    }

    fn send_rr(&mut self) {
        if let Some(client) = self.client {
            let control = Control::Rr {
                nr: self.vr,
                poll: true,
            };
            self.send_to(client, control, Vec::new());
        }
    }

    fn send_to(&mut self, to: HdlcAddress, control: Control, info: Vec<u8>) {
        self.send(Frame::new(to, self.config.address, control, info));
    }

    fn send(&mut self, frame: Frame) {
        // Our frames are built within the negotiated limits, which fit a frame: an error here
        // is a bug, reported as a discard rather than as bytes that were never sent.
        match frame.to_bytes() {
            Ok(bytes) => self.actions.push_back(Action::Send(bytes)),
            Err(e) => self
                .actions
                .push_back(Action::Fail(super::FailReason::Emit(e))),
        }
    }

    /// Re-arm the inactivity timer while connected.
    fn touch(&mut self, now: Duration) {
        match (self.state, self.config.inactivity_timeout) {
            (ServerState::Disconnected, _) => {
                if self.deadline.take().is_some() {
                    self.actions.push_back(Action::CancelTimer);
                }
            }
            (_, Some(timeout)) => {
                let deadline = now.saturating_add(timeout);
                self.deadline = Some(deadline);
                self.actions.push_back(Action::SetTimer(deadline));
            }
            (_, None) => {}
        }
    }

    fn discard_unexpected(&mut self, control: Control) {
        self.actions
            .push_back(Action::Discarded(Discard::Unexpected(control)));
    }

    fn reset(&mut self) {
        self.state = ServerState::Disconnected;
        self.client = None;
        self.params = HdlcParameters::default();
        self.vs = 0;
        self.vr = 0;
        self.segmenter = None;
        self.rx.clear();
        self.last_response = None;
        self.last_reject = None;
    }
}
