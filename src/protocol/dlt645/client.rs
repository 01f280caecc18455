//! A read exchange, sans-IO: build the request, match the meter's replies to it, follow
//! long data through follow-up frames, and retry a bounded number of times.
//!
//! The caller owns the port and the timer. It sends the bytes of each [`Action::Send`],
//! arms a timer for its `deadline` (a `Duration` since an origin the caller picks), feeds
//! every frame its deframer finds to [`Exchange::handle_frame`], and calls
//! [`Exchange::handle_timeout`] when the timer fires. Nothing here reads a clock or does I/O.
//!
//! A meter's refusal (abnormal reply) is [`Action::Refused`], a value, distinct from
//! [`Action::Fail`] (no answer, or an answer that breaks the protocol). Frames that are not
//! the answer (another meter, our own echo on a two-wire bus, a stale reply) are
//! [`Action::Ignored`] and the exchange keeps waiting.

use core::time::Duration;

use super::address::Address;
use super::control::{Direction, Function};
use super::di::{DataId, Version};
use super::error_word::ErrorWord;
use super::frame::Frame;
use super::message::{MessageError, Reply, Request};

/// How an exchange behaves. Plain data: the caller chooses, the exchange obeys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeConfig {
    pub version: Version,
    /// Times each request frame is sent before giving up (at least 1).
    pub max_attempts: u8,
    /// How long to wait for each reply. DL/T 645-2007 (transmission rules) allows the meter 20..500 ms to
    /// start answering; add the frame's transmission time at the line's baud rate.
    pub reply_timeout: Duration,
    /// Send the `FE FE FE FE` wake-up preamble before each request.
    pub preamble: bool,
    /// Bound on the data collected over all follow-up frames.
    pub max_data_len: usize,
    /// Bound on the number of reply frames (first plus follow-ups).
    pub max_frames: u8,
}

impl ExchangeConfig {
    /// Sensible defaults for an edition: 3 attempts, 1 s per reply, preamble on,
    /// at most 4096 data bytes over at most 32 frames.
    pub const fn new(version: Version) -> Self {
        ExchangeConfig {
            version,
            max_attempts: 3,
            reply_timeout: Duration::from_secs(1),
            preamble: true,
            max_data_len: 4096,
            max_frames: 32,
        }
    }
}

/// What the exchange asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Query {
    Read(DataId),
    Address,
}

/// What the meter answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The data of an identifier, follow-up frames joined; `address` is the replying meter's.
    Data {
        address: Address,
        di: DataId,
        data: Vec<u8>,
    },
    /// The meter's address (read-address exchange).
    Address(Address),
}

/// Why an exchange could not be built, or gave up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExchangeError {
    #[error("no reply after {attempts} attempts")]
    NoResponse { attempts: u8 },
    #[error("identifier {di} is not a {version} identifier")]
    WrongEdition { di: DataId, version: Version },
    #[error("{0} has no read-address command; read an identifier from AA..AA instead")]
    NoReadAddress(Version),
    #[error("reply data exceeds {limit} bytes")]
    TooMuchData { limit: usize },
    #[error("more than {limit} reply frames")]
    TooManyFrames { limit: u8 },
    #[error("the meter's reply breaks the protocol: {0}")]
    BadReply(MessageError),
    #[error("the exchange is already finished")]
    Finished,
    #[error("could not build the request: {0}")]
    Request(MessageError),
}

/// Why a frame was not taken as the answer. For diagnostics; the exchange keeps waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// A request (our own echo, or another master).
    NotAReply,
    /// A reply from a meter we did not ask.
    OtherMeter(Address),
    /// A reply to another function.
    OtherFunction(Function),
    /// A reply about another identifier.
    OtherIdentifier(DataId),
    /// A follow-up reply with another sequence number.
    OtherSequence { expected: u8, found: Option<u8> },
    /// No request is outstanding.
    NotWaiting,
}

/// What the caller must do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write `bytes`, then wait for a reply until `deadline` (this is attempt `attempt` of
    /// `max_attempts` for this frame).
    Send {
        bytes: Vec<u8>,
        deadline: Duration,
        attempt: u8,
        max_attempts: u8,
    },
    /// The exchange succeeded.
    Done(Answer),
    /// The meter answered with an abnormal reply: it refuses, for these reasons.
    Refused {
        function: Function,
        error: ErrorWord,
    },
    /// The exchange gave up.
    Fail(ExchangeError),
    /// The frame was not the answer; keep waiting until the deadline.
    Ignored(Ignored),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Ready,
    /// Waiting for the answer to `request` (the frame last sent).
    Waiting {
        request: Frame,
        attempt: u8,
    },
    Finished,
}

/// One request and its answer, possibly over several follow-up frames. See the module docs.
#[derive(Debug, Clone)]
pub struct Exchange {
    cfg: ExchangeConfig,
    target: Address,
    query: Query,
    state: State,
    data: Vec<u8>,
    frames: u8,
    /// 2007 follow-up sequence number of the frame awaited (0 = the first reply).
    seq: u8,
    answered_by: Option<Address>,
}

impl Exchange {
    /// Read identifier `di` from the meter at `target` (the wildcard `AA..AA` reaches a lone
    /// meter; the answer carries its real address).
    pub fn read(cfg: ExchangeConfig, target: Address, di: DataId) -> Result<Self, ExchangeError> {
        if di.version() != cfg.version {
            return Err(ExchangeError::WrongEdition {
                di,
                version: cfg.version,
            });
        }
        Ok(Self::new(cfg, target, Query::Read(di)))
    }

    /// Read the address of the lone meter on the line (2007 only: command 0x13 to
    /// `AA AA AA AA AA AA`). DL/T 645-2007, read communication address.
    pub fn read_address(cfg: ExchangeConfig) -> Result<Self, ExchangeError> {
        if cfg.version != Version::V2007 {
            return Err(ExchangeError::NoReadAddress(cfg.version));
        }
        Ok(Self::new(cfg, Address::WILDCARD, Query::Address))
    }

    fn new(cfg: ExchangeConfig, target: Address, query: Query) -> Self {
        Exchange {
            cfg,
            target,
            query,
            state: State::Ready,
            data: Vec::new(),
            frames: 0,
            seq: 0,
            answered_by: None,
        }
    }

    /// Send the first request.
    pub fn start(&mut self, now: Duration) -> Action {
        if self.state != State::Ready {
            return Action::Fail(ExchangeError::Finished);
        }
        let request = match self.query {
            Query::Read(di) => Request::Read {
                di,
                params: Vec::new(),
            },
            Query::Address => Request::ReadAddress,
        };
        self.send(now, &request, self.target)
    }

    /// The reply timer fired: resend the last request, or give up after `max_attempts`.
    pub fn handle_timeout(&mut self, now: Duration) -> Action {
        let State::Waiting { request, attempt } = &self.state else {
            return Action::Ignored(Ignored::NotWaiting);
        };
        let max = self.cfg.max_attempts.max(1);
        if *attempt >= max {
            return self.finish(Action::Fail(ExchangeError::NoResponse {
                attempts: *attempt,
            }));
        }
        let (request, attempt) = (request.clone(), attempt + 1);
        self.transmit(now, request, attempt)
    }

    /// A frame arrived from the line.
    pub fn handle_frame(&mut self, now: Duration, frame: &Frame) -> Action {
        let State::Waiting { request, .. } = &self.state else {
            return Action::Ignored(Ignored::NotWaiting);
        };
        if frame.control.direction() != Direction::FromMeter {
            return Action::Ignored(Ignored::NotAReply);
        }
        let expected_from = self.answered_by.unwrap_or(self.target);
        if !expected_from.reaches(&frame.address) || frame.address.has_wildcard() {
            return Action::Ignored(Ignored::OtherMeter(frame.address));
        }
        let version = self.cfg.version;
        let asked = request.control.function(version);
        let function = frame.control.function(version);
        if function != asked {
            return Action::Ignored(Ignored::OtherFunction(function));
        }
        let reply = match Reply::decode(frame, version) {
            Ok(r) => r,
            Err(e) => return self.finish(Action::Fail(ExchangeError::BadReply(e))),
        };
        self.answered_by = Some(frame.address);
        match reply {
            Reply::Abnormal { function, error } => self.finish(Action::Refused { function, error }),
            Reply::Address(a) => self.finish(Action::Done(Answer::Address(a))),
            Reply::Read { di, data, more } => self.take_data(now, di, data, more, None),
            Reply::ReadFollowUp {
                di,
                data,
                seq,
                more,
            } => self.take_data(now, di, data, more, seq),
            Reply::WriteAck | Reply::Other { .. } => {
                Action::Ignored(Ignored::OtherFunction(function))
            }
        }
    }

    /// True once the exchange has produced `Done`, `Refused` or `Fail`.
    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    fn take_data(
        &mut self,
        now: Duration,
        di: DataId,
        data: Vec<u8>,
        more: bool,
        seq: Option<u8>,
    ) -> Action {
        let Query::Read(asked) = self.query else {
            return Action::Ignored(Ignored::OtherFunction(Function::ReadData));
        };
        if di != asked {
            return Action::Ignored(Ignored::OtherIdentifier(di));
        }
        if self.cfg.version == Version::V2007 && self.seq > 0 && seq != Some(self.seq) {
            return Action::Ignored(Ignored::OtherSequence {
                expected: self.seq,
                found: seq,
            });
        }
        if self.data.len() + data.len() > self.cfg.max_data_len {
            let limit = self.cfg.max_data_len;
            return self.finish(Action::Fail(ExchangeError::TooMuchData { limit }));
        }
        self.data.extend_from_slice(&data);
        self.frames = self.frames.saturating_add(1);
        if !more {
            let address = self.answered_by.unwrap_or(self.target);
            let data = std::mem::take(&mut self.data);
            return self.finish(Action::Done(Answer::Data { address, di, data }));
        }
        if self.frames >= self.cfg.max_frames {
            let limit = self.cfg.max_frames;
            return self.finish(Action::Fail(ExchangeError::TooManyFrames { limit }));
        }
        self.seq = self.seq.wrapping_add(1);
        let follow_up = Request::ReadFollowUp {
            di,
            seq: (self.cfg.version == Version::V2007).then_some(self.seq),
        };
        let to = self.answered_by.unwrap_or(self.target);
        self.send(now, &follow_up, to)
    }

    fn send(&mut self, now: Duration, request: &Request, to: Address) -> Action {
        match request.encode(to, self.cfg.version) {
            Ok(frame) => self.transmit(now, frame, 1),
            Err(e) => self.finish(Action::Fail(ExchangeError::Request(e))),
        }
    }

    fn transmit(&mut self, now: Duration, request: Frame, attempt: u8) -> Action {
        let bytes = if self.cfg.preamble {
            request.to_bytes_with_preamble()
        } else {
            request.to_bytes()
        };
        self.state = State::Waiting { request, attempt };
        Action::Send {
            bytes,
            deadline: now.saturating_add(self.cfg.reply_timeout),
            attempt,
            max_attempts: self.cfg.max_attempts.max(1),
        }
    }

    fn finish(&mut self, action: Action) -> Action {
        self.state = State::Finished;
        action
    }
}
