//! The meter side of IEC 62056-21 as a sans-IO state machine, for the simulator: answers
//! sign-ons (its own address or none), sends its identification, takes the option
//! select, checks when the client switched baud, then sends the readout, serves
//! P1/R1/W1/B0 in programming mode, or hands the line to HDLC in mode E.
//!
//! Inputs are bytes, time and (when the harness can see it) the client's line change;
//! outputs are `MeterAction`s. This module must not do I/O, sleep or read a clock.

mod config;
mod steps;

use core::time::Duration;
use std::collections::VecDeque;

pub use config::{MeterAction, MeterConfig, MeterEvent, MeterFaults, SessionEnd, SwitchCheck};

use super::baud::INITIAL_BAUD;
use super::dataset::DataSet;
use super::decoder::Framer;
use super::error::MessageError;
use super::framing::Framing;
use super::message::DataMessage;

/// The data of P0: `(operand)`.
fn operand_set(cfg: &MeterConfig) -> DataSet {
    DataSet {
        id: None,
        values: vec![cfg.password_operand.clone()],
    }
}

/// What follows a scheduled reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum After {
    /// The readout: return to the initial baud once it has left the wire.
    Return,
    AwaitPassword,
    Programming,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Idle,
    ToIdent,
    AwaitOption,
    ToReply { bytes: Vec<u8>, then: After },
    Returning,
    AwaitHdlcBytes,
    AwaitPassword,
    Programming,
    Hdlc,
}

/// Timing of the accepted option select, for the switch checks.
#[derive(Debug, Clone, Copy)]
struct AckTiming {
    /// When the option select had fully arrived on the wire.
    end: Duration,
    /// When our first reply at the new baud went out.
    reply_started: Option<Duration>,
    switch_checked: bool,
    bytes_checked: bool,
}

/// A simulated meter; see the module docs.
#[derive(Debug)]
pub struct MeterSession {
    cfg: MeterConfig,
    state: State,
    deadline: Option<Duration>,
    actions: VecDeque<MeterAction>,
    framer: Framer,
    /// Arrival of the first byte of the frame in progress.
    frame_start: Duration,
    line_baud: u32,
    ack: Option<AckTiming>,
    /// The last block sent, uncorrupted, repeated on a NAK.
    last_reply: Vec<u8>,
    corrupt_left: u32,
}

impl MeterSession {
    /// Fails if a configured data set could not be sent.
    pub fn new(cfg: MeterConfig) -> Result<Self, MessageError> {
        cfg.data_sets.iter().try_for_each(|s| s.validate())?;
        operand_set(&cfg).validate()?;
        let framer = Framer::new(true, cfg.limits.max_block_len);
        let corrupt_left = cfg.faults.corrupt_bcc;
        Ok(MeterSession {
            cfg,
            state: State::Idle,
            deadline: None,
            actions: VecDeque::new(),
            framer,
            frame_start: Duration::ZERO,
            line_baud: INITIAL_BAUD,
            ack: None,
            last_reply: Vec::new(),
            corrupt_left,
        })
    }

    pub fn poll_action(&mut self) -> Option<MeterAction> {
        self.actions.pop_front()
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        self.deadline
    }

    /// Whether the meter waits for a sign-on.
    pub fn is_idle(&self) -> bool {
        self.state == State::Idle
    }

    pub fn handle_bytes(&mut self, now: Duration, bytes: &[u8]) {
        for (i, &b) in bytes.iter().enumerate() {
            match self.state {
                State::Hdlc => return,
                State::AwaitHdlcBytes => {
                    self.check_first_bytes(now);
                    let pending = bytes.get(i..).unwrap_or(&[]).to_vec();
                    self.state = State::Hdlc;
                    self.deadline = None;
                    self.actions.push_back(MeterAction::EnterHdlc {
                        baud: self.line_baud,
                        pending,
                    });
                    return;
                }
                _ => {}
            }
            self.check_first_bytes(now);
            let before_ack = matches!(
                self.state,
                State::Idle | State::ToIdent | State::AwaitOption
            );
            self.framer.set_ack_starts_line(before_ack);
            if !self.framer.in_frame() {
                self.frame_start = now;
            }
            match self.framer.push(b) {
                Ok(None) => {}
                Ok(Some(frame)) => self.on_frame(now, frame),
                Err(e) => self.event(MeterEvent::BadMessage(e.into())),
            }
        }
    }

    /// The harness saw the client change its line settings (e.g. on a PTY, from the
    /// termios of the other end). Checked once per session, after an option select.
    pub fn handle_peer_switch(&mut self, now: Duration) {
        let Some(ack) = &mut self.ack else { return };
        if ack.switch_checked {
            return;
        }
        ack.switch_checked = true;
        let check = if now < ack.end {
            SwitchCheck::SwitchDuringAck {
                before_end: ack.end - now,
            }
        } else {
            let after = now - ack.end;
            match ack.reply_started {
                Some(started) if now > started => SwitchCheck::SwitchTooLate {
                    after,
                    reply_started: started.saturating_sub(ack.end),
                },
                _ => SwitchCheck::InTime { after },
            }
        };
        self.event(MeterEvent::SwitchChecked(check));
    }

    pub fn handle_timeout(&mut self, now: Duration) {
        match self.deadline {
            Some(at) if now >= at => self.deadline = None,
            _ => return,
        }
        match core::mem::replace(&mut self.state, State::Idle) {
            State::ToIdent => self.send_identification(now),
            State::ToReply { bytes, then } => self.send_reply(now, bytes, then),
            State::Returning => self.end(SessionEnd::ReadoutSent),
            State::AwaitOption
            | State::AwaitHdlcBytes
            | State::AwaitPassword
            | State::Programming => self.end(SessionEnd::Timeout),
            other @ (State::Idle | State::Hdlc) => self.state = other,
        }
    }

    /// The HDLC server is done with the line: back to 300 baud 7E1 and idle.
    pub fn end_hdlc(&mut self) {
        if self.state == State::Hdlc {
            self.end(SessionEnd::HdlcEnded);
        }
    }

    /// The first bytes after an accepted option select must come no sooner than the
    /// client's reaction time allows (§6.3.14).
    fn check_first_bytes(&mut self, now: Duration) {
        let Some(ack) = &mut self.ack else { return };
        if ack.bytes_checked {
            return;
        }
        ack.bytes_checked = true;
        let after = now.saturating_sub(ack.end);
        let min = self.cfg.min_client_reaction;
        let check = if after < min {
            SwitchCheck::SwitchTooEarly { after, min }
        } else {
            SwitchCheck::InTime { after }
        };
        self.event(MeterEvent::SwitchChecked(check));
    }

    fn readout(&self) -> Vec<u8> {
        let message = DataMessage {
            data_sets: self.cfg.data_sets.clone(),
        };
        // Data sets validated in `new`.
        message.to_vec().unwrap_or_default()
    }

    pub(super) fn operand_set(&self) -> DataSet {
        operand_set(&self.cfg)
    }

    fn switch(&mut self, baud: u32, framing: Framing) {
        self.line_baud = baud;
        self.framer.reset();
        self.actions
            .push_back(MeterAction::SwitchLine { baud, framing });
    }

    fn event(&mut self, event: MeterEvent) {
        self.actions.push_back(MeterAction::Event(event));
    }

    fn set_timer(&mut self, at: Duration) {
        self.deadline = Some(at);
        self.actions.push_back(MeterAction::SetTimer(at));
    }

    fn end(&mut self, reason: SessionEnd) {
        if self.line_baud != INITIAL_BAUD || self.state == State::Hdlc {
            self.switch(INITIAL_BAUD, Framing::SevenE1);
        }
        self.state = State::Idle;
        self.deadline = None;
        // Design: a switch reported after the session ended (too late to hear the
        // readout) is still checked; bytes from now on belong to the next session.
        if let Some(ack) = &mut self.ack {
            ack.bytes_checked = true;
        }
        self.framer.reset();
        self.event(MeterEvent::Ended(reason));
    }
}
