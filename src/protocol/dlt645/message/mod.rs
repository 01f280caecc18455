//! What a frame means, for an edition: requests from the master and the meter's replies.
//!
//! Data field layouts (offset removed, multi-byte fields least significant byte first):
//! ```text
//! read            2007: DI(4) [N(1) [time(5)]]        1997: DI(2)
//! read reply      2007: DI(4) data                    1997: DI(2) data     (D5 = more follows)
//! read follow-up  2007: DI(4) SEQ(1)                  1997: DI(2)
//! follow-up reply 2007: DI(4) data SEQ(1)             1997: DI(2) data
//! read address    2007: (empty, address AA..AA)        reply: the address (6)
//! write           2007: DI(4) PA P0 P1 P2 C0..C3 data 1997: DI(2) PA P0 P1 P2 data
//! broadcast time  ss mm hh DD MM YY, address 99..99, never answered
//! abnormal reply  one error byte (see error_word.rs)
//! ```
//! DL/T 645-2007 application layer (read data, read follow-up data, read communication
//! address, write data, broadcast time) and the matching DL/T 645-1997 commands.
//!
//! Contract: [`Request::decode`] and [`Reply::decode`] never panic; `encode` builds a frame
//! whose data fits the one-byte length or says why not.

use super::address::Address;
use super::control::{Direction, Function};
use super::di::{DataId, Version};
use super::error_word::ErrorWord;
use super::frame::FrameError;

mod reply;
mod request;

/// Why a frame is not a well-formed message of the edition asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("expected a frame from the {expected:?}, control {control:#04x} says otherwise")]
    WrongDirection { expected: Direction, control: u8 },
    #[error("{function:?} needs at least {needed} data bytes, frame has {len}")]
    TooShort {
        function: Function,
        needed: usize,
        len: usize,
    },
    #[error("{function:?} carries {expected} data bytes, frame has {len}")]
    WrongLength {
        function: Function,
        expected: usize,
        len: usize,
    },
    #[error("identifier {di} is for {}, the exchange uses {version}", di.version())]
    WrongEdition { di: DataId, version: Version },
    #[error("{function:?} does not exist in {version}")]
    NoSuchFunction {
        function: Function,
        version: Version,
    },
    #[error("abnormal reply without its error byte")]
    MissingErrorByte,
    #[error(transparent)]
    Frame(#[from] FrameError),
}

/// Password and operator code of a write. 2007 has both; 1997 has no operator code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credentials {
    /// PA (level) then P0..P2, as on the wire.
    pub password: [u8; 4],
    /// C0..C3 (2007 only).
    pub operator: Option<[u8; 4]>,
}

/// A request from the master station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// Read one identifier. `params` holds the optional 2007 load-record block count and
    /// time (empty for a plain read).
    Read { di: DataId, params: Vec<u8> },
    /// Read the next part of long data. `seq` is the 2007 frame sequence number (1 for the
    /// first follow-up); 1997 has none.
    ReadFollowUp { di: DataId, seq: Option<u8> },
    /// Read the communication address (2007; sent to `AA AA AA AA AA AA`).
    ReadAddress,
    /// Write one identifier.
    Write {
        di: DataId,
        credentials: Credentials,
        value: Vec<u8>,
    },
    /// Broadcast time: the six bytes `ss mm hh DD MM YY` as on the wire (BCD).
    BroadcastTime([u8; 6]),
    /// Any other function, data kept as is.
    Other { function: Function, data: Vec<u8> },
}

/// A reply from a meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// Data for a read; `more` is D5 (a follow-up frame holds the rest).
    Read {
        di: DataId,
        data: Vec<u8>,
        more: bool,
    },
    /// Data for a follow-up read; `seq` echoes the 2007 request's sequence number.
    ReadFollowUp {
        di: DataId,
        data: Vec<u8>,
        seq: Option<u8>,
        more: bool,
    },
    /// The meter's address, in answer to a read-address request.
    Address(Address),
    /// A normal reply to a write (no data).
    WriteAck,
    /// An abnormal reply (D6): the meter refused `function` for the reasons in `error`.
    Abnormal {
        function: Function,
        error: ErrorWord,
    },
    /// Any other function, data kept as is.
    Other {
        function: Function,
        data: Vec<u8>,
        more: bool,
    },
}

pub(super) fn function_code(function: Function, version: Version) -> Result<u8, MessageError> {
    function
        .code(version)
        .ok_or(MessageError::NoSuchFunction { function, version })
}

pub(super) fn check_edition(di: DataId, version: Version) -> Result<(), MessageError> {
    if di.version() == version {
        Ok(())
    } else {
        Err(MessageError::WrongEdition { di, version })
    }
}

pub(super) fn read_di(
    function: Function,
    version: Version,
    data: &[u8],
) -> Result<(DataId, &[u8]), MessageError> {
    DataId::read_wire(version, data).ok_or(MessageError::TooShort {
        function,
        needed: version.di_len(),
        len: data.len(),
    })
}
