//! The client (reader) side of IEC 62056-21 as a sans-IO state machine: sign-on,
//! identification, option select, timed baud switch, then a data readout, a
//! programming-mode read of registers (P1/R1/B0), or the mode E hand-over to HDLC.
//!
//! Inputs are bytes and time (`Duration` since the caller's origin); outputs are
//! `ClientAction`s. This module must not do I/O, sleep or read a clock.

mod options;
mod steps;

use core::fmt;
use core::time::Duration;
use std::collections::VecDeque;

pub use options::{
    BaudChoice, ClientAction, ClientFailure, ClientMode, ClientOptions, Phase, Readout,
    RegisterError,
};

use super::bcc::BccMismatch;
use super::dataset::DataSet;
use super::decoder::{Frame, Framer};
use super::error::MessageError;
use super::ident::Identification;
use super::message::DataMessage;
use super::request::SignOn;

/// What to await once a scheduled message has been sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    /// The option select: switch the line when it has left the wire.
    Switch,
    PasswordAck,
    /// A repeat of the P0 we NAKed.
    PasswordRequest,
    /// The answer to register `n`.
    Answer(usize),
    /// B0 went out: deliver.
    Finish,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    AwaitIdent,
    /// A message waits for the timer (our reply delay).
    ToSend {
        bytes: Vec<u8>,
        then: Then,
        remember: bool,
    },
    AwaitSwitch,
    AwaitHdlc,
    AwaitReadout,
    AwaitPasswordRequest,
    AwaitPasswordAck,
    AwaitAnswer(usize),
    Finished,
}

/// Our echo, expected back from the optical head before anything else.
struct Echo {
    bytes: Vec<u8>,
    matched: usize,
}

/// A client session; see the module docs. Drive it with `start`, `handle_bytes` and
/// `handle_timeout`, and carry out what `poll_action` returns, in order.
pub struct ClientSession {
    opts: ClientOptions,
    state: State,
    deadline: Option<Duration>,
    actions: VecDeque<ClientAction>,
    framer: Framer,
    echo: Option<Echo>,
    /// The last command sent, repeated on a NAK. May hold a password: never printed.
    last_command: Vec<u8>,
    repeats: u8,
    ident: Option<Identification>,
    line_baud: u32,
    target_baud: u32,
    ack_end: Duration,
    next_register: usize,
    /// `data_sets.len()` when the current R1 went out.
    answer_start: usize,
    data_sets: Vec<DataSet>,
    register_errors: Vec<RegisterError>,
    bcc_warnings: Vec<BccMismatch>,
    echoes_skipped: u32,
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::ToSend { then, .. } => format!("ToSend({then:?})"),
            other => format!("{other:?}"),
        };
        f.debug_struct("ClientSession")
            .field("state", &state)
            .field("deadline", &self.deadline)
            .field("line_baud", &self.line_baud)
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    pub fn new(opts: ClientOptions) -> Self {
        let framer = Framer::new(false, opts.limits.max_block_len);
        let line_baud = opts.initial_baud;
        ClientSession {
            opts,
            state: State::Idle,
            deadline: None,
            actions: VecDeque::new(),
            framer,
            echo: None,
            last_command: Vec::new(),
            repeats: 0,
            ident: None,
            line_baud,
            target_baud: line_baud,
            ack_end: Duration::ZERO,
            next_register: 0,
            answer_start: 0,
            data_sets: Vec::new(),
            register_errors: Vec::new(),
            bcc_warnings: Vec::new(),
            echoes_skipped: 0,
        }
    }

    /// Sends the sign-on. The line must be at `initial_baud`, 7E1.
    pub fn start(&mut self, now: Duration) {
        if self.state != State::Idle {
            return;
        }
        let request = SignOn {
            address: self.opts.address.clone(),
        }
        .to_vec();
        let end = self.send(now, request);
        self.state = State::AwaitIdent;
        self.set_timer(end.saturating_add(self.opts.reply_timeout));
    }

    /// The next thing to do, in order.
    pub fn poll_action(&mut self) -> Option<ClientAction> {
        self.actions.pop_front()
    }

    /// When `handle_timeout` is due next.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Whether the session has delivered, handed over or failed.
    pub fn is_finished(&self) -> bool {
        self.state == State::Finished
    }

    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        for &b in bytes {
            if self.state == State::Finished {
                return;
            }
            if let Some(held) = self.skip_echo(b) {
                for h in held {
                    self.take_byte(now, h);
                }
                self.take_byte(now, b);
            }
        }
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        match self.deadline {
            Some(at) if now >= at => self.deadline = None,
            _ => return,
        }
        match core::mem::replace(&mut self.state, State::Idle) {
            State::ToSend {
                bytes,
                then,
                remember,
            } => self.send_scheduled(now, bytes, then, remember),
            State::AwaitSwitch => self.switch_line(now),
            State::AwaitHdlc => self.finish_with(ClientAction::EnterHdlc {
                baud: self.line_baud,
            }),
            State::AwaitPasswordRequest => self.next_command(now),
            State::AwaitIdent => self.fail(ClientFailure::Timeout {
                phase: Phase::Identification,
            }),
            State::AwaitReadout => self.fail(ClientFailure::Timeout {
                phase: Phase::Readout,
            }),
            State::AwaitPasswordAck => self.fail_with_break(
                now,
                ClientFailure::Timeout {
                    phase: Phase::PasswordAck,
                },
            ),
            State::AwaitAnswer(_) => self.fail_with_break(
                now,
                ClientFailure::Timeout {
                    phase: Phase::Answer,
                },
            ),
            other @ (State::Idle | State::Finished) => self.state = other,
        }
    }

    /// Returns `None` when `b` continues our echo, else the bytes to process (a partial
    /// echo that turned out to be data first, then `b`).
    fn skip_echo(&mut self, b: u8) -> Option<Vec<u8>> {
        let Some(echo) = &mut self.echo else {
            return Some(Vec::new());
        };
        if echo.bytes.get(echo.matched) == Some(&b) {
            echo.matched += 1;
            if echo.matched == echo.bytes.len() {
                self.echo = None;
                self.echoes_skipped = self.echoes_skipped.saturating_add(1);
            }
            return None;
        }
        let held = echo.bytes.get(..echo.matched).unwrap_or(&[]).to_vec();
        self.echo = None;
        Some(held)
    }

    fn take_byte(&mut self, now: Duration, b: u8) {
        if matches!(
            self.state,
            State::AwaitIdent | State::AwaitReadout | State::AwaitAnswer(_)
        ) {
            // §6.3.14 t_a: each character restarts the wait for the next one.
            self.set_timer(now.saturating_add(self.opts.reply_timeout));
        }
        match self.framer.push(b) {
            Ok(None) => {}
            Ok(Some(frame)) => self.on_frame(now, frame),
            Err(too_long) => {
                let phase = self.phase();
                if let Some(phase) = phase {
                    self.fail(ClientFailure::Decode {
                        phase,
                        error: too_long.into(),
                    });
                }
            }
        }
    }

    fn phase(&self) -> Option<Phase> {
        match self.state {
            State::AwaitIdent => Some(Phase::Identification),
            State::AwaitReadout => Some(Phase::Readout),
            State::AwaitPasswordRequest => Some(Phase::PasswordRequest),
            State::AwaitPasswordAck => Some(Phase::PasswordAck),
            State::AwaitAnswer(_) => Some(Phase::Answer),
            _ => None,
        }
    }

    /// Frames arriving while nothing is awaited (e.g. before our switch) are dropped:
    /// on a real line they would have been garbled anyway.
    fn on_frame(&mut self, now: Duration, frame: Frame) {
        match (&self.state, frame) {
            (State::AwaitIdent, Frame::Line(line)) => match Identification::parse(&line) {
                Ok(ident) => self.on_identification(now, ident),
                Err(e) => self.fail_decode(Phase::Identification, e),
            },
            (State::AwaitReadout, Frame::Block(bytes)) => {
                match DataMessage::parse(&bytes, &self.opts.limits, self.opts.bcc_policy) {
                    Ok(checked) => self.on_readout(checked),
                    Err(MessageError::BadBcc(m)) => self.fail(ClientFailure::BadBcc(m)),
                    Err(e) => self.fail_decode(Phase::Readout, e),
                }
            }
            (State::AwaitPasswordRequest, Frame::Block(bytes)) => {
                self.on_password_request(now, &bytes)
            }
            (State::AwaitPasswordAck, Frame::Ack) => {
                self.repeats = 0;
                self.next_command(now);
            }
            (State::AwaitPasswordAck, Frame::Nak) => {
                // Design: no repeat; resending a wrong password can lock the meter.
                self.fail_with_break(now, ClientFailure::PasswordRejected);
            }
            (State::AwaitPasswordAck, Frame::Block(bytes)) => self.on_meter_block(now, &bytes),
            (State::AwaitAnswer(i), frame) => {
                let i = *i;
                self.on_answer(now, i, frame)
            }
            _ => {}
        }
    }
}
