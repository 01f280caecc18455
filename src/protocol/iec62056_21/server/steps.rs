//! The meter session's steps: what each client message leads to. Same rules as the
//! parent module.

use core::time::Duration;

use super::{AckTiming, After, MeterAction, MeterEvent, MeterSession, SessionEnd, State};
use crate::protocol::iec62056_21::baud::ProtocolMode;
use crate::protocol::iec62056_21::bcc::BccPolicy;
use crate::protocol::iec62056_21::command::{Command, CommandId};
use crate::protocol::iec62056_21::decoder::{CommandInput, CommandKind, Frame, MessageKind};
use crate::protocol::iec62056_21::framing::{wire_time, Framing};
use crate::protocol::iec62056_21::message::AnswerMessage;
use crate::protocol::iec62056_21::option::{ModeControl, OptionSelect, ProtocolControl};
use crate::protocol::iec62056_21::request::SignOn;
use crate::protocol::iec62056_21::{ACK, NAK};

/// Design: the error text of refused reads; §6.3.10 leaves it to the manufacturer.
const ERROR_TEXT: &str = "ERROR";

impl MeterSession {
    pub(super) fn on_frame(&mut self, now: Duration, frame: Frame) {
        match (&self.state, frame) {
            (State::Idle | State::AwaitOption, Frame::Line(line))
                if line.first() == Some(&b'/') =>
            {
                match SignOn::parse(&line) {
                    Ok(sign_on) => self.on_sign_on(now, sign_on),
                    Err(e) => self.event(MeterEvent::BadMessage(e.into())),
                }
            }
            (State::AwaitOption, Frame::Line(line)) => match OptionSelect::parse(&line) {
                Ok(option) => self.on_option(now, option, line.len()),
                Err(e) => self.event(MeterEvent::BadMessage(e.into())),
            },
            (State::AwaitPassword | State::Programming, frame) => self.on_programming(now, frame),
            _ => {}
        }
    }

    fn on_sign_on(&mut self, now: Duration, sign_on: SignOn) {
        if let (Some(asked), Some(mine)) = (&sign_on.address, &self.cfg.address) {
            if !mine.matches(asked) {
                let address = asked.clone();
                return self.event(MeterEvent::SignOnIgnored { address });
            }
        }
        self.ack = None;
        self.state = State::ToIdent;
        self.set_timer(now.saturating_add(self.cfg.reaction_time));
    }

    pub(super) fn send_identification(&mut self, now: Duration) {
        let bytes = self.cfg.identification.to_vec();
        let end = now.saturating_add(wire_time(bytes.len(), self.line_baud, Framing::SevenE1));
        self.actions.push_back(MeterAction::Send(bytes));
        self.state = State::AwaitOption;
        self.set_timer(end.saturating_add(self.cfg.option_timeout));
    }

    fn on_option(&mut self, now: Duration, option: OptionSelect, len: usize) {
        let ident = &self.cfg.identification;
        let offered = ident.baud_char().baud().unwrap_or(0);
        let rate = match option.baud.protocol_mode() {
            ProtocolMode::C => option.baud.baud().filter(|&r| r <= offered),
            _ => None,
        };
        let mode_e = ident.offers_mode_e();
        let next = match (rate, option.protocol, option.mode) {
            (Some(r), ProtocolControl::Hdlc, ModeControl::BinaryHdlc) if mode_e => {
                Some((r, Framing::EightN1, None))
            }
            (Some(r), ProtocolControl::Normal, ModeControl::DataReadout) => {
                Some((r, Framing::SevenE1, Some(After::Return)))
            }
            (Some(r), ProtocolControl::Normal, ModeControl::Programming) => {
                let then = match self.cfg.password {
                    Some(_) => After::AwaitPassword,
                    None => After::Programming,
                };
                Some((r, Framing::SevenE1, Some(then)))
            }
            _ => None,
        };
        let Some((baud, framing, then)) = next else {
            self.event(MeterEvent::OptionRefused { option });
            return self.end(SessionEnd::Refused);
        };
        // The ack's last character arrived no sooner than the first one plus the wire
        // time of the others (a PTY delivers them all at once).
        let rest = wire_time(len.saturating_sub(1), self.line_baud, Framing::SevenE1);
        let ack_end = now.max(self.frame_start.saturating_add(rest));
        self.ack = Some(AckTiming {
            end: ack_end,
            reply_started: None,
            switch_checked: false,
            bytes_checked: false,
        });
        self.switch(baud, framing);
        let reply_at = ack_end.saturating_add(self.cfg.reaction_time);
        match then {
            None => {
                self.state = State::AwaitHdlcBytes;
                self.set_timer(ack_end.saturating_add(self.cfg.option_timeout));
            }
            Some(After::Return) => self.schedule(reply_at, self.readout(), After::Return),
            Some(After::AwaitPassword) => {
                let p0 = self.password_request();
                self.schedule(reply_at, p0, After::AwaitPassword)
            }
            Some(After::Programming) => {
                self.state = State::Programming;
                self.set_timer(ack_end.saturating_add(self.cfg.inactivity_timeout));
            }
        }
    }

    /// Sends `bytes` at `at`, then goes on with `then`.
    fn schedule(&mut self, at: Duration, bytes: Vec<u8>, then: After) {
        self.state = State::ToReply { bytes, then };
        self.set_timer(at);
    }

    pub(super) fn send_reply(&mut self, now: Duration, bytes: Vec<u8>, then: After) {
        let len = bytes.len();
        self.send_block(bytes);
        if let Some(ack) = &mut self.ack {
            ack.reply_started.get_or_insert(now);
        }
        match then {
            After::Return => {
                self.state = State::Returning;
                self.set_timer(now.saturating_add(wire_time(
                    len,
                    self.line_baud,
                    Framing::SevenE1,
                )));
            }
            After::AwaitPassword => {
                self.state = State::AwaitPassword;
                self.set_timer(now.saturating_add(self.cfg.inactivity_timeout));
            }
            After::Programming => {
                self.state = State::Programming;
                self.set_timer(now.saturating_add(self.cfg.inactivity_timeout));
            }
        }
    }

    /// Sends a reply; blocks are remembered for a NAK and corrupted while the fault
    /// counter lasts.
    fn send_block(&mut self, mut bytes: Vec<u8>) {
        let is_block = bytes.len() > 1;
        if is_block {
            self.last_reply = bytes.clone();
            if self.corrupt_left > 0 {
                self.corrupt_left -= 1;
                if let Some(bcc) = bytes.last_mut() {
                    *bcc ^= 0x55;
                }
            }
        }
        self.actions.push_back(MeterAction::Send(bytes));
    }

    fn on_programming(&mut self, now: Duration, frame: Frame) {
        let reply_at = now.saturating_add(self.cfg.reaction_time);
        let stay = match self.state {
            State::AwaitPassword => After::AwaitPassword,
            _ => After::Programming,
        };
        let is_block = matches!(frame, Frame::Block(_));
        let input = match CommandKind::decode(frame, &self.cfg.limits, BccPolicy::Strict) {
            Ok(input) => input,
            Err(e) => {
                self.event(MeterEvent::BadMessage(e));
                if is_block {
                    // §6.3.6: a garbled command is answered with a repeat request.
                    self.schedule(reply_at, vec![NAK], stay);
                }
                return;
            }
        };
        let command = match input {
            CommandInput::Ack => return,
            CommandInput::Nak => {
                let again = self.last_reply.clone();
                return self.schedule(reply_at, again, stay);
            }
            CommandInput::Command(c) => c.message,
        };
        match (stay, command.command, command.command_type) {
            (_, CommandId::Break, _) => self.end(SessionEnd::Break),
            (After::AwaitPassword, CommandId::Password, 1) => {
                let given = command.first_value().unwrap_or("");
                let right = self
                    .cfg
                    .password
                    .as_ref()
                    .is_some_and(|p| p.expose() == given);
                if right {
                    self.event(MeterEvent::PasswordAccepted);
                    self.schedule(reply_at, vec![ACK], After::Programming);
                } else {
                    self.event(MeterEvent::PasswordRejected);
                    self.schedule(reply_at, vec![NAK], After::AwaitPassword);
                }
            }
            (After::Programming, CommandId::Read, 1) => {
                let answer = self.read_register(&command);
                self.schedule(reply_at, answer, After::Programming);
            }
            _ => {
                let error = self.error_answer();
                self.schedule(reply_at, error, stay);
            }
        }
    }

    fn read_register(&self, command: &Command) -> Vec<u8> {
        let wanted = command.data.as_ref().and_then(|d| d.id.as_ref());
        let found = self
            .cfg
            .data_sets
            .iter()
            .find(|s| s.id.is_some() && s.id.as_ref() == wanted);
        match found {
            Some(set) => AnswerMessage {
                data_sets: vec![set.clone()],
                ..AnswerMessage::default()
            }
            .to_vec()
            .unwrap_or_default(),
            None => self.error_answer(),
        }
    }

    /// P0 with the configured operand (validated in `new`).
    fn password_request(&self) -> Vec<u8> {
        Command {
            command: CommandId::Password,
            command_type: 0,
            data: Some(self.operand_set()),
        }
        .to_vec()
        .unwrap_or_default()
    }

    fn error_answer(&self) -> Vec<u8> {
        AnswerMessage::error(ERROR_TEXT)
            .ok()
            .and_then(|a| a.to_vec().ok())
            .unwrap_or_default()
    }
}
