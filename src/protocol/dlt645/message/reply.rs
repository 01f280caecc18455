//! Replies from a meter: decode a frame, encode a frame. Layouts: see `message/mod.rs`.

use super::{check_edition, function_code, read_di, MessageError, Reply};
use crate::protocol::dlt645::address::{Address, ADDRESS_LEN};
use crate::protocol::dlt645::control::{Control, Direction, Function};
use crate::protocol::dlt645::di::Version;
use crate::protocol::dlt645::error_word::ErrorWord;
use crate::protocol::dlt645::frame::Frame;

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
