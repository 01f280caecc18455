//! Push-style decoders: feed bytes one at a time, get `Ok(None)` until a message is
//! whole (IEC 62056-21:2002 §6.3 message shapes).
//!
//! `Framer` finds message boundaries (lines `/…CR LF` and `ACK…CR LF`, blocks
//! `SOH|STX…ETX|EOT BCC`, single ACK/NAK); `Decoder<K>` parses one message kind on top.
//! Bytes between messages (wake-up NULs, line noise) are dropped and counted. Buffers
//! are bounded; nothing here panics.

use core::marker::PhantomData;

use super::bcc::BccPolicy;
use super::block::Checked;
use super::command::Command;
use super::dataset::Limits;
use super::error::MessageError;
use super::ident::Identification;
use super::message::{AnswerMessage, DataMessage};
use super::option::OptionSelect;
use super::request::SignOn;
use super::{ACK, EOT, ETX, LF, NAK, SOH, STX};

/// Longest line frame accepted: a request with a 32-character address is 37 bytes.
pub const MAX_LINE_FRAME: usize = 64;

/// One message's bytes, boundaries found, content not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `/…LF` or (when configured) `ACK…LF`, line end included.
    Line(Vec<u8>),
    /// `SOH|STX … ETX|EOT BCC`.
    Block(Vec<u8>),
    /// A lone ACK (positive acknowledgement, §6.3.5).
    Ack,
    /// A lone NAK (repeat request, §6.3.6).
    Nak,
}

/// A frame longer than its bound; the framer has dropped it and starts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("frame exceeds {max} bytes")]
pub struct FrameTooLong {
    pub max: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Line,
    Block,
    Bcc,
}

/// Splits a byte stream into frames.
#[derive(Clone)]
pub struct Framer {
    ack_starts_line: bool,
    max_block: usize,
    state: State,
    buf: Vec<u8>,
    dropped: usize,
}

/// Design: a partial frame may be a password command on its way in, so `Debug` shows
/// its length only.
impl core::fmt::Debug for Framer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Framer")
            .field("state", &self.state)
            .field("buffered", &self.buf.len())
            .field("dropped", &self.dropped)
            .finish()
    }
}

impl Framer {
    /// `ack_starts_line`: the meter side before an option select reads `ACK V Z Y CR LF`
    /// as a line; everywhere else an ACK stands alone. `max_block` bounds a block's body.
    pub fn new(ack_starts_line: bool, max_block: usize) -> Self {
        Framer {
            ack_starts_line,
            max_block,
            state: State::Idle,
            buf: Vec::new(),
            dropped: 0,
        }
    }

    pub fn set_ack_starts_line(&mut self, yes: bool) {
        self.ack_starts_line = yes;
    }

    /// Bytes dropped outside frames (and frames dropped as too long) so far.
    pub fn dropped(&self) -> usize {
        self.dropped
    }

    /// Whether a frame has begun and is not yet whole.
    pub fn in_frame(&self) -> bool {
        self.state != State::Idle
    }

    /// Forgets a partial frame.
    pub fn reset(&mut self) {
        self.dropped = self.dropped.saturating_add(self.buf.len());
        self.buf.clear();
        self.state = State::Idle;
    }

    pub fn push(&mut self, byte: u8) -> Result<Option<Frame>, FrameTooLong> {
        match self.state {
            State::Idle => Ok(self.start(byte)),
            // Design: no line message holds '/', SOH or STX, so one of them inside a
            // line means the line was noise: resynchronise on it.
            State::Line if matches!(byte, b'/' | SOH | STX) => {
                self.dropped = self.dropped.saturating_add(self.buf.len());
                self.state = State::Idle;
                Ok(self.start(byte))
            }
            State::Line => {
                self.buf.push(byte);
                if byte == LF {
                    self.state = State::Idle;
                    return Ok(Some(Frame::Line(core::mem::take(&mut self.buf))));
                }
                self.bound(MAX_LINE_FRAME)
            }
            State::Block => {
                self.buf.push(byte);
                if byte == ETX || byte == EOT {
                    self.state = State::Bcc;
                    return Ok(None);
                }
                // Start byte + body: the body alone is bounded by `max_block`.
                self.bound(self.max_block.saturating_add(1))
            }
            State::Bcc => {
                self.buf.push(byte);
                self.state = State::Idle;
                Ok(Some(Frame::Block(core::mem::take(&mut self.buf))))
            }
        }
    }

    fn start(&mut self, byte: u8) -> Option<Frame> {
        match byte {
            b'/' => self.begin(State::Line, byte),
            ACK if self.ack_starts_line => self.begin(State::Line, byte),
            ACK => return Some(Frame::Ack),
            NAK => return Some(Frame::Nak),
            SOH | STX => self.begin(State::Block, byte),
            _ => self.dropped = self.dropped.saturating_add(1),
        }
        None
    }

    fn begin(&mut self, state: State, byte: u8) {
        self.buf.clear();
        self.buf.push(byte);
        self.state = state;
    }

    fn bound(&mut self, max: usize) -> Result<Option<Frame>, FrameTooLong> {
        if self.buf.len() > max {
            self.reset();
            return Err(FrameTooLong { max });
        }
        Ok(None)
    }
}

/// Why a decoder rejected what it was fed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error(transparent)]
    TooLong(#[from] FrameTooLong),
    #[error(transparent)]
    Message(#[from] MessageError),
    /// A whole frame of another kind than the decoder reads.
    #[error("unexpected frame: {0:?}")]
    UnexpectedFrame(Frame),
}

/// A message kind a `Decoder` reads.
pub trait MessageKind {
    type Output;
    /// Whether an ACK begins a line (`ACK V Z Y CR LF`) for this kind.
    const ACK_STARTS_LINE: bool = false;
    fn decode(
        frame: Frame,
        limits: &Limits,
        policy: BccPolicy,
    ) -> Result<Self::Output, DecodeError>;
}

/// A push-style decoder for one message kind.
#[derive(Debug, Clone)]
pub struct Decoder<K: MessageKind> {
    framer: Framer,
    limits: Limits,
    policy: BccPolicy,
    kind: PhantomData<K>,
}

impl<K: MessageKind> Decoder<K> {
    pub fn new(limits: Limits, policy: BccPolicy) -> Self {
        Decoder {
            framer: Framer::new(K::ACK_STARTS_LINE, limits.max_block_len),
            limits,
            policy,
            kind: PhantomData,
        }
    }

    /// `Ok(None)` until a message is whole. After an error the decoder starts over.
    pub fn push(&mut self, byte: u8) -> Result<Option<K::Output>, DecodeError> {
        match self.framer.push(byte)? {
            None => Ok(None),
            Some(frame) => K::decode(frame, &self.limits, self.policy).map(Some),
        }
    }

    /// Feeds bytes up to the end of the first message or error; returns how many bytes
    /// were used, so the rest can go to the next decoder.
    pub fn push_slice(&mut self, bytes: &[u8]) -> (usize, Result<Option<K::Output>, DecodeError>) {
        for (i, &b) in bytes.iter().enumerate() {
            match self.push(b) {
                Ok(None) => {}
                done => return (i + 1, done),
            }
        }
        (bytes.len(), Ok(None))
    }

    /// Bytes dropped between messages so far.
    pub fn dropped(&self) -> usize {
        self.framer.dropped()
    }
}

/// Reads a request (sign-on) message.
#[derive(Debug, Clone, Copy)]
pub enum SignOnKind {}
impl MessageKind for SignOnKind {
    type Output = SignOn;
    fn decode(frame: Frame, _: &Limits, _: BccPolicy) -> Result<SignOn, DecodeError> {
        match frame {
            Frame::Line(bytes) => Ok(SignOn::parse(&bytes)?),
            other => Err(DecodeError::UnexpectedFrame(other)),
        }
    }
}

/// Reads an identification message.
#[derive(Debug, Clone, Copy)]
pub enum IdentificationKind {}
impl MessageKind for IdentificationKind {
    type Output = Identification;
    fn decode(frame: Frame, _: &Limits, _: BccPolicy) -> Result<Identification, DecodeError> {
        match frame {
            Frame::Line(bytes) => Ok(Identification::parse(&bytes)?),
            other => Err(DecodeError::UnexpectedFrame(other)),
        }
    }
}

/// Reads an acknowledgement/option select message.
#[derive(Debug, Clone, Copy)]
pub enum OptionSelectKind {}
impl MessageKind for OptionSelectKind {
    type Output = OptionSelect;
    const ACK_STARTS_LINE: bool = true;
    fn decode(frame: Frame, _: &Limits, _: BccPolicy) -> Result<OptionSelect, DecodeError> {
        match frame {
            Frame::Line(bytes) => Ok(OptionSelect::parse(&bytes)?),
            other => Err(DecodeError::UnexpectedFrame(other)),
        }
    }
}

/// Reads a data readout message.
#[derive(Debug, Clone, Copy)]
pub enum DataMessageKind {}
impl MessageKind for DataMessageKind {
    type Output = Checked<DataMessage>;
    fn decode(
        frame: Frame,
        limits: &Limits,
        policy: BccPolicy,
    ) -> Result<Self::Output, DecodeError> {
        match frame {
            Frame::Block(bytes) => Ok(DataMessage::parse(&bytes, limits, policy)?),
            other => Err(DecodeError::UnexpectedFrame(other)),
        }
    }
}

/// What a meter sends in programming mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    Ack,
    Nak,
    /// A data or error message (STX block).
    Answer(Checked<AnswerMessage>),
    /// A command from the meter: P0 password request, B0 break (SOH block).
    Command(Checked<Command>),
}

/// Reads a meter's programming-mode reply.
#[derive(Debug, Clone, Copy)]
pub enum ReplyKind {}
impl MessageKind for ReplyKind {
    type Output = Reply;
    fn decode(frame: Frame, limits: &Limits, policy: BccPolicy) -> Result<Reply, DecodeError> {
        decode_block_or_ack(frame, limits, policy, |bytes, limits, policy| {
            Ok(Reply::Answer(AnswerMessage::parse(bytes, limits, policy)?))
        })
        .map(|r| match r {
            BlockOrAck::Ack => Reply::Ack,
            BlockOrAck::Nak => Reply::Nak,
            BlockOrAck::Command(c) => Reply::Command(c),
            BlockOrAck::Other(r) => r,
        })
    }
}

pub(crate) enum BlockOrAck<T> {
    Ack,
    Nak,
    Command(Checked<Command>),
    Other(T),
}

/// Splits ACK, NAK and SOH command frames from STX frames, which `stx` parses.
pub(crate) fn decode_block_or_ack<T>(
    frame: Frame,
    limits: &Limits,
    policy: BccPolicy,
    stx: impl FnOnce(&[u8], &Limits, BccPolicy) -> Result<T, MessageError>,
) -> Result<BlockOrAck<T>, DecodeError> {
    match frame {
        Frame::Ack => Ok(BlockOrAck::Ack),
        Frame::Nak => Ok(BlockOrAck::Nak),
        Frame::Block(bytes) if bytes.first() == Some(&SOH) => {
            Ok(BlockOrAck::Command(Command::parse(&bytes, limits, policy)?))
        }
        Frame::Block(bytes) => Ok(BlockOrAck::Other(stx(&bytes, limits, policy)?)),
        other => Err(DecodeError::UnexpectedFrame(other)),
    }
}

pub type SignOnDecoder = Decoder<SignOnKind>;
pub type IdentificationDecoder = Decoder<IdentificationKind>;
pub type OptionSelectDecoder = Decoder<OptionSelectKind>;
pub type DataMessageDecoder = Decoder<DataMessageKind>;
pub type ReplyDecoder = Decoder<ReplyKind>;

/// What a client sends a meter in programming mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandInput {
    Ack,
    Nak,
    Command(Checked<Command>),
}

/// Reads a client's programming-mode message (the meter side).
#[derive(Debug, Clone, Copy)]
pub enum CommandKind {}
impl MessageKind for CommandKind {
    type Output = CommandInput;
    fn decode(
        frame: Frame,
        limits: &Limits,
        policy: BccPolicy,
    ) -> Result<CommandInput, DecodeError> {
        let unexpected_stx = |bytes: &[u8], _: &Limits, _: BccPolicy| -> Result<(), MessageError> {
            Err(MessageError::Unexpected {
                at: 0,
                expected: SOH,
                found: bytes.first().copied().unwrap_or(0),
            })
        };
        match decode_block_or_ack(frame, limits, policy, unexpected_stx)? {
            BlockOrAck::Ack => Ok(CommandInput::Ack),
            BlockOrAck::Nak => Ok(CommandInput::Nak),
            BlockOrAck::Command(c) => Ok(CommandInput::Command(c)),
            BlockOrAck::Other(()) => Err(DecodeError::Message(MessageError::Unexpected {
                at: 0,
                expected: SOH,
                found: STX,
            })),
        }
    }
}

pub type CommandDecoder = Decoder<CommandKind>;
