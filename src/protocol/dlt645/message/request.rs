//! Requests from the master: decode a frame, encode a frame. Layouts: see `message/mod.rs`.

use super::{check_edition, function_code, read_di, Credentials, MessageError, Request};
use crate::protocol::dlt645::address::Address;
use crate::protocol::dlt645::control::{Control, Direction, Function};
use crate::protocol::dlt645::di::Version;
use crate::protocol::dlt645::frame::Frame;

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
