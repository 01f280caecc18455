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
//! DL/T 645-2007 clauses 7.1 (read data), 7.2 (read follow-up), 7.3 (read address),
//! 7.4 (write), 7.5 (broadcast time); DL/T 645-1997 clause 5.
//!
//! Contract: [`Request::decode`] and [`Reply::decode`] never panic; `encode` builds a frame
//! whose data fits the one-byte length or says why not.

use super::address::{Address, ADDRESS_LEN};
use super::control::{Control, Direction, Function};
use super::di::{DataId, Version};
use super::error_word::ErrorWord;
use super::frame::{Frame, FrameError};

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

fn function_code(function: Function, version: Version) -> Result<u8, MessageError> {
    function
        .code(version)
        .ok_or(MessageError::NoSuchFunction { function, version })
}

fn check_edition(di: DataId, version: Version) -> Result<(), MessageError> {
    if di.version() == version {
        Ok(())
    } else {
        Err(MessageError::WrongEdition { di, version })
    }
}

fn read_di(
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

impl Request {
    /// The function this request performs.
    pub fn function(&self) -> Function {
        match self {
            Request::Read { .. } => Function::ReadData,
            Request::ReadFollowUp { .. } => Function::ReadFollowUp,
            Request::ReadAddress => Function::ReadAddress,
            Request::Write { .. } => Function::WriteData,
            Request::BroadcastTime(_) => Function::BroadcastTime,
            Request::Other { function, .. } => *function,
        }
    }

    /// Interpret a frame from the master in `version`.
    pub fn decode(frame: &Frame, version: Version) -> Result<Request, MessageError> {
        if frame.control.direction() != Direction::FromMaster {
            return Err(MessageError::WrongDirection {
                expected: Direction::FromMaster,
                control: frame.control.0,
            });
        }
        let function = frame.control.function(version);
        let data = frame.data.as_slice();
        Ok(match function {
            Function::ReadData => {
                let (di, params) = read_di(function, version, data)?;
                Request::Read {
                    di,
                    params: params.to_vec(),
                }
            }
            Function::ReadFollowUp => {
                let (di, rest) = read_di(function, version, data)?;
                let seq = match (version, rest) {
                    (Version::V1997, []) => None,
                    (Version::V2007, [seq]) => Some(*seq),
                    _ => {
                        return Err(MessageError::WrongLength {
                            function,
                            expected: version.di_len() + usize::from(version == Version::V2007),
                            len: data.len(),
                        })
                    }
                };
                Request::ReadFollowUp { di, seq }
            }
            Function::ReadAddress => Request::ReadAddress,
            Function::WriteData => {
                let (di, rest) = read_di(function, version, data)?;
                let cred_len = if version == Version::V2007 { 8 } else { 4 };
                let too_short = MessageError::TooShort {
                    function,
                    needed: version.di_len() + cred_len,
                    len: data.len(),
                };
                let (password, rest) = rest.split_first_chunk::<4>().ok_or(too_short.clone())?;
                let (operator, value) = if version == Version::V2007 {
                    let (op, value) = rest.split_first_chunk::<4>().ok_or(too_short)?;
                    (Some(*op), value)
                } else {
                    (None, rest)
                };
                Request::Write {
                    di,
                    credentials: Credentials {
                        password: *password,
                        operator,
                    },
                    value: value.to_vec(),
                }
            }
            Function::BroadcastTime => {
                let time: [u8; 6] = data.try_into().map_err(|_| MessageError::WrongLength {
                    function,
                    expected: 6,
                    len: data.len(),
                })?;
                Request::BroadcastTime(time)
            }
            other => Request::Other {
                function: other,
                data: data.to_vec(),
            },
        })
    }

    /// The frame for this request to `address` in `version`.
    pub fn encode(&self, address: Address, version: Version) -> Result<Frame, MessageError> {
        let code = function_code(self.function(), version)?;
        let mut data = Vec::new();
        match self {
            Request::Read { di, params } => {
                check_edition(*di, version)?;
                di.write_wire(&mut data);
                data.extend_from_slice(params);
            }
            Request::ReadFollowUp { di, seq } => {
                check_edition(*di, version)?;
                di.write_wire(&mut data);
                if version == Version::V2007 {
                    data.push(seq.unwrap_or(1));
                }
            }
            Request::ReadAddress => {}
            Request::Write {
                di,
                credentials,
                value,
            } => {
                check_edition(*di, version)?;
                di.write_wire(&mut data);
                data.extend_from_slice(&credentials.password);
                if version == Version::V2007 {
                    data.extend_from_slice(&credentials.operator.unwrap_or_default());
                }
                data.extend_from_slice(value);
            }
            Request::BroadcastTime(time) => data.extend_from_slice(time),
            Request::Other { data: d, .. } => data.extend_from_slice(d),
        }
        Ok(Frame::new(address, Control::request(code), data)?)
    }
}

impl Reply {
    /// The function this reply answers.
    pub fn function(&self) -> Function {
        match self {
            Reply::Read { .. } => Function::ReadData,
            Reply::ReadFollowUp { .. } => Function::ReadFollowUp,
            Reply::Address(_) => Function::ReadAddress,
            Reply::WriteAck => Function::WriteData,
            Reply::Abnormal { function, .. } | Reply::Other { function, .. } => *function,
        }
    }

    /// Interpret a frame from a meter in `version`.
    pub fn decode(frame: &Frame, version: Version) -> Result<Reply, MessageError> {
        let control = frame.control;
        if control.direction() != Direction::FromMeter {
            return Err(MessageError::WrongDirection {
                expected: Direction::FromMeter,
                control: control.0,
            });
        }
        let function = control.function(version);
        let more = control.has_follow_up();
        let data = frame.data.as_slice();
        if control.is_abnormal() {
            // Design: an abnormal reply carries one error byte; extra bytes (seen from some
            // meters) are ignored rather than turning a refusal into a parse failure.
            let raw = *data.first().ok_or(MessageError::MissingErrorByte)?;
            return Ok(Reply::Abnormal {
                function,
                error: ErrorWord::new(version, raw),
            });
        }
        Ok(match function {
            Function::ReadData => {
                let (di, rest) = read_di(function, version, data)?;
                Reply::Read {
                    di,
                    data: rest.to_vec(),
                    more,
                }
            }
            Function::ReadFollowUp => {
                let (di, rest) = read_di(function, version, data)?;
                let (data, seq) = match version {
                    Version::V1997 => (rest, None),
                    Version::V2007 => match rest.split_last() {
                        Some((seq, data)) => (data, Some(*seq)),
                        None => {
                            return Err(MessageError::TooShort {
                                function,
                                needed: version.di_len() + 1,
                                len: frame.data.len(),
                            })
                        }
                    },
                };
                Reply::ReadFollowUp {
                    di,
                    data: data.to_vec(),
                    seq,
                    more,
                }
            }
            Function::ReadAddress => {
                let bytes: [u8; ADDRESS_LEN] =
                    data.try_into().map_err(|_| MessageError::WrongLength {
                        function,
                        expected: ADDRESS_LEN,
                        len: data.len(),
                    })?;
                Reply::Address(Address::from_wire(bytes))
            }
            Function::WriteData if data.is_empty() => Reply::WriteAck,
            other => Reply::Other {
                function: other,
                data: data.to_vec(),
                more,
            },
        })
    }

    /// The frame for this reply from the meter at `address` in `version`.
    pub fn encode(&self, address: Address, version: Version) -> Result<Frame, MessageError> {
        let code = function_code(self.function(), version)?;
        let mut out = Vec::new();
        let (abnormal, more) = match self {
            Reply::Read { di, data, more } => {
                check_edition(*di, version)?;
                di.write_wire(&mut out);
                out.extend_from_slice(data);
                (false, *more)
            }
            Reply::ReadFollowUp {
                di,
                data,
                seq,
                more,
            } => {
                check_edition(*di, version)?;
                di.write_wire(&mut out);
                out.extend_from_slice(data);
                if version == Version::V2007 {
                    out.push(seq.unwrap_or(1));
                }
                (false, *more)
            }
            Reply::Address(a) => {
                out.extend_from_slice(&a.wire());
                (false, false)
            }
            Reply::WriteAck => (false, false),
            Reply::Abnormal { error, .. } => {
                out.push(error.raw);
                (true, false)
            }
            Reply::Other { data, more, .. } => {
                out.extend_from_slice(data);
                (false, *more)
            }
        };
        Ok(Frame::new(
            address,
            Control::reply(code, abnormal, more),
            out,
        )?)
    }
}
