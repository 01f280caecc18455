//! The client session's steps: what each awaited message leads to, and the helpers
//! that send, schedule, repeat and finish. Same rules as the parent module.

use core::time::Duration;

use super::{BaudChoice, RegisterError};
use super::{ClientAction, ClientFailure, ClientMode, ClientSession, Phase, Readout, State, Then};
use crate::protocol::iec62056_21::baud::{BaudChar, ProtocolMode, MODE_C_BAUDS};
use crate::protocol::iec62056_21::bcc::BccMismatch;
use crate::protocol::iec62056_21::block::{BlockEnd, Checked};
use crate::protocol::iec62056_21::command::{Command, CommandId};
use crate::protocol::iec62056_21::dataset::DataId;
use crate::protocol::iec62056_21::decoder::{DecodeError, Frame};
use crate::protocol::iec62056_21::error::MessageError;
use crate::protocol::iec62056_21::framing::{wire_time, Framing};
use crate::protocol::iec62056_21::ident::Identification;
use crate::protocol::iec62056_21::message::{AnswerMessage, DataMessage};
use crate::protocol::iec62056_21::option::{ModeControl, OptionSelect, ProtocolControl};
use crate::protocol::iec62056_21::{ACK, NAK, SOH};

impl ClientSession {
    pub(super) fn on_identification(&mut self, now: Duration, ident: Identification) {
        let z = ident.baud_char();
        let mode = z.protocol_mode();
        let readout = self.opts.mode == ClientMode::DataReadout;
        self.ident = Some(ident.clone());
        match mode {
            ProtocolMode::A | ProtocolMode::B if !readout => {
                self.fail(ClientFailure::ModeUnsupported { mode, baud_char: z })
            }
            ProtocolMode::A => self.await_readout(now),
            ProtocolMode::B => {
                // §6.4.2: the meter switches right after its identification.
                let Some(baud) = z.baud() else {
                    return self.fail(ClientFailure::BaudUnavailable { baud_char: z });
                };
                self.target_baud = baud;
                self.emit_switch(baud, Framing::SevenE1);
                self.await_readout(now);
            }
            ProtocolMode::C => self.select_options(now, &ident, z),
        }
    }

    pub(super) fn select_options(&mut self, now: Duration, ident: &Identification, z: BaudChar) {
        if self.opts.mode == ClientMode::ModeE && !ident.offers_mode_e() {
            return self.fail(ClientFailure::ModeEUnavailable);
        }
        let Some(offered) = z.baud() else {
            return self.fail(ClientFailure::BaudUnavailable { baud_char: z });
        };
        let limit = match self.opts.baud {
            BaudChoice::AsOffered => offered,
            BaudChoice::AtMost(max) => offered.min(max),
        };
        let chosen = MODE_C_BAUDS
            .iter()
            .copied()
            .filter(|&b| b <= limit)
            .max()
            .unwrap_or(MODE_C_BAUDS[0]);
        let baud = BaudChar::mode_c(chosen).unwrap_or(z);
        let (protocol, mode) = match self.opts.mode {
            ClientMode::DataReadout => (ProtocolControl::Normal, ModeControl::DataReadout),
            ClientMode::Programming { .. } => (ProtocolControl::Normal, ModeControl::Programming),
            ClientMode::ModeE => (ProtocolControl::Hdlc, ModeControl::BinaryHdlc),
        };
        let option = OptionSelect {
            protocol,
            baud,
            mode,
        };
        self.target_baud = chosen;
        // Known printable characters: emission cannot fail.
        let bytes = option.to_vec().unwrap_or_default();
        self.schedule(now, bytes, Then::Switch, false);
    }

    pub(super) fn switch_line(&mut self, now: Duration) {
        let framing = match self.opts.mode {
            ClientMode::ModeE => Framing::EightN1,
            _ => Framing::SevenE1,
        };
        self.emit_switch(self.target_baud, framing);
        match self.opts.mode {
            ClientMode::ModeE => {
                let at = self.ack_end.saturating_add(self.opts.hdlc_delay);
                if at <= now {
                    self.finish_with(ClientAction::EnterHdlc {
                        baud: self.line_baud,
                    });
                } else {
                    self.state = State::AwaitHdlc;
                    self.set_timer(at);
                }
            }
            ClientMode::DataReadout => self.await_readout(self.ack_end.max(now)),
            ClientMode::Programming { .. } => {
                self.state = State::AwaitPasswordRequest;
                self.set_timer(self.ack_end.saturating_add(self.opts.password_wait));
            }
        }
    }

    pub(super) fn emit_switch(&mut self, baud: u32, framing: Framing) {
        self.line_baud = baud;
        // Bytes half-received at the old settings are garbage at the new ones.
        self.framer.reset();
        self.actions
            .push_back(ClientAction::SwitchLine { baud, framing });
    }

    pub(super) fn await_readout(&mut self, from: Duration) {
        self.state = State::AwaitReadout;
        self.set_timer(from.saturating_add(self.opts.reply_timeout));
    }

    pub(super) fn on_readout(&mut self, checked: Checked<DataMessage>) {
        self.bcc_warnings.extend(checked.bcc);
        self.data_sets = checked.message.data_sets;
        self.deliver();
    }

    pub(super) fn on_password_request(&mut self, now: Duration, bytes: &[u8]) {
        match Command::parse(bytes, &self.opts.limits, self.opts.bcc_policy) {
            Ok(c) if c.message.command == CommandId::Password && c.message.command_type == 0 => {
                self.bcc_warnings.extend(c.bcc);
                match &self.opts.password {
                    Some(pw) => {
                        let p1 = Command::password(pw).to_vec().unwrap_or_default();
                        self.schedule(now, p1, Then::PasswordAck, true);
                    }
                    None => self.fail_with_break(now, ClientFailure::PasswordRequired),
                }
            }
            Ok(c) if c.message.command == CommandId::Break => self.fail(ClientFailure::MeterBreak),
            Ok(_) => self.state = State::AwaitPasswordRequest,
            Err(MessageError::BadBcc(m)) => self.repeat_request(now, m),
            Err(e) => self.fail_decode(Phase::PasswordRequest, e),
        }
    }

    /// A SOH block where an ACK/answer was awaited: a B0 ends the session.
    pub(super) fn on_meter_block(&mut self, now: Duration, bytes: &[u8]) {
        let is_break = Command::parse(bytes, &self.opts.limits, self.opts.bcc_policy)
            .is_ok_and(|c| c.message.command == CommandId::Break);
        if is_break {
            self.fail(ClientFailure::MeterBreak);
        } else if bytes.first() == Some(&SOH) {
            // Another command from the meter: not ours to answer; keep waiting.
        } else {
            self.fail_with_break(
                now,
                ClientFailure::Decode {
                    phase: Phase::PasswordAck,
                    error: DecodeError::UnexpectedFrame(Frame::Block(bytes.to_vec())),
                },
            );
        }
    }

    pub(super) fn on_answer(&mut self, now: Duration, i: usize, frame: Frame) {
        let bytes = match frame {
            Frame::Nak => return self.repeat_command(now, i),
            Frame::Block(bytes) if bytes.first() == Some(&SOH) => {
                return self.on_meter_block(now, &bytes)
            }
            Frame::Block(bytes) => bytes,
            Frame::Ack | Frame::Line(_) => return,
        };
        let checked = match AnswerMessage::parse(&bytes, &self.opts.limits, self.opts.bcc_policy) {
            Ok(c) => c,
            Err(MessageError::BadBcc(m)) => return self.repeat_request(now, m),
            Err(e) => return self.fail_decode(Phase::Answer, e),
        };
        self.repeats = 0;
        self.bcc_warnings.extend(checked.bcc);
        let answer = checked.message;
        match (answer.error_text(), self.register(i)) {
            (Some(text), Some(id)) => self.register_errors.push(RegisterError {
                id,
                text: text.to_owned(),
            }),
            _ => {
                for mut set in answer.data_sets {
                    // A bare `(value)` answer is the value of the register asked for.
                    if set.id.is_none() && self.data_sets.len() == self.answer_start {
                        set.id = self.register(i);
                    }
                    self.data_sets.push(set);
                }
            }
        }
        if answer.end == BlockEnd::Eot {
            // §6.3.12: a partial block; an ACK asks for the next one.
            return self.schedule(now, vec![ACK], Then::Answer(i), false);
        }
        self.next_register = i + 1;
        self.next_command(now);
    }

    /// The id of register `i` in programming mode.
    pub(super) fn register(&self, i: usize) -> Option<DataId> {
        match &self.opts.mode {
            ClientMode::Programming { registers } => registers.get(i).cloned(),
            _ => None,
        }
    }

    /// After the password (or without one): the next R1, or B0 when all are read.
    pub(super) fn next_command(&mut self, now: Duration) {
        match self.register(self.next_register) {
            Some(id) => {
                self.answer_start = self.data_sets.len();
                let r1 = Command::read(id).to_vec().unwrap_or_default();
                let i = self.next_register;
                self.schedule(now, r1, Then::Answer(i), true);
            }
            None => {
                let b0 = Command::break_message().to_vec().unwrap_or_default();
                self.schedule(now, b0, Then::Finish, false);
            }
        }
    }

    /// The meter sent NAK: repeat our last command (§6.3.6).
    pub(super) fn repeat_command(&mut self, now: Duration, i: usize) {
        if self.repeats >= self.opts.max_repeats {
            let repeats = self.repeats;
            return self.fail_with_break(
                now,
                ClientFailure::TooManyRepeats {
                    phase: Phase::Answer,
                    repeats,
                },
            );
        }
        self.repeats += 1;
        let again = self.last_command.clone();
        self.schedule(now, again, Then::Answer(i), false);
    }

    /// A block with a bad BCC under `Strict`: ask for it again with NAK (§6.3.6).
    pub(super) fn repeat_request(&mut self, now: Duration, mismatch: BccMismatch) {
        if self.repeats >= self.opts.max_repeats {
            return self.fail_with_break(now, ClientFailure::BadBcc(mismatch));
        }
        self.repeats += 1;
        let then = match self.state {
            State::AwaitAnswer(i) => Then::Answer(i),
            _ => Then::PasswordRequest,
        };
        self.schedule(now, vec![NAK], then, false);
    }

    /// Sends `bytes` after the reply delay, then awaits `then`.
    pub(super) fn schedule(&mut self, now: Duration, bytes: Vec<u8>, then: Then, remember: bool) {
        self.state = State::ToSend {
            bytes,
            then,
            remember,
        };
        self.set_timer(now.saturating_add(self.opts.reply_delay));
    }

    pub(super) fn send_scheduled(
        &mut self,
        now: Duration,
        bytes: Vec<u8>,
        then: Then,
        remember: bool,
    ) {
        if remember {
            self.last_command = bytes.clone();
        }
        let end = self.send(now, bytes);
        let wait = end.saturating_add(self.opts.reply_timeout);
        match then {
            Then::Switch => {
                self.ack_end = end;
                self.state = State::AwaitSwitch;
                self.set_timer(end.saturating_add(self.opts.switch_delay));
            }
            Then::PasswordRequest => {
                self.state = State::AwaitPasswordRequest;
                self.set_timer(wait);
            }
            Then::PasswordAck => {
                self.state = State::AwaitPasswordAck;
                self.set_timer(wait);
            }
            Then::Answer(i) => {
                self.state = State::AwaitAnswer(i);
                self.set_timer(wait);
            }
            Then::Finish => self.deliver(),
        }
    }

    /// Queues `bytes` for sending now and expects their echo; returns when the last
    /// character will have left the wire at the current baud.
    pub(super) fn send(&mut self, now: Duration, bytes: Vec<u8>) -> Duration {
        let end = now.saturating_add(wire_time(bytes.len(), self.line_baud, Framing::SevenE1));
        self.echo = Some(super::Echo {
            bytes: bytes.clone(),
            matched: 0,
        });
        self.actions.push_back(ClientAction::Send(bytes));
        end
    }

    pub(super) fn set_timer(&mut self, at: Duration) {
        self.deadline = Some(at);
        self.actions.push_back(ClientAction::SetTimer(at));
    }

    pub(super) fn deliver(&mut self) {
        let Some(identification) = self.ident.take() else {
            return self.finish_with(ClientAction::Fail(ClientFailure::Timeout {
                phase: Phase::Identification,
            }));
        };
        let readout = Readout {
            identification,
            baud: self.line_baud,
            data_sets: core::mem::take(&mut self.data_sets),
            register_errors: core::mem::take(&mut self.register_errors),
            bcc_warnings: core::mem::take(&mut self.bcc_warnings),
            echoes_skipped: self.echoes_skipped,
        };
        self.finish_with(ClientAction::Deliver(readout));
    }

    pub(super) fn finish_with(&mut self, action: ClientAction) {
        self.state = State::Finished;
        self.deadline = None;
        self.echo = None;
        self.last_command.clear();
        self.actions.push_back(action);
    }

    pub(super) fn fail(&mut self, reason: ClientFailure) {
        self.finish_with(ClientAction::Fail(reason));
    }

    pub(super) fn fail_decode(&mut self, phase: Phase, error: MessageError) {
        self.fail(ClientFailure::Decode {
            phase,
            error: error.into(),
        });
    }

    /// Programming mode: sign off with B0 before failing, so the meter leaves
    /// programming mode at once instead of after its inactivity timeout.
    pub(super) fn fail_with_break(&mut self, now: Duration, reason: ClientFailure) {
        let b0 = Command::break_message().to_vec().unwrap_or_default();
        self.send(now, b0);
        self.fail(reason);
    }
}
