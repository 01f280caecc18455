//! The meter's side of an exchange, for the simulator: given a request frame and a table of
//! identifier → data bytes, build the normal, abnormal or follow-up reply.
//!
//! Sans-IO: the simulator deframes the request, calls [`Responder::respond`], and writes the
//! reply's bytes (if any). Long data is split into frames of at most `max_chunk` data bytes
//! with D5 set on all but the last; the master fetches the rest with read follow-up requests
//! (2007: numbered 1, 2, ...; a repeated number gets the same frame again). Writes are
//! refused (the simulator's meters are read-only). Nothing here does I/O.

use std::collections::BTreeMap;

use super::address::Address;
use super::control::{Direction, Function};
use super::di::{DataId, Version};
use super::error_word::{ErrorCondition, ErrorWord};
use super::frame::{Frame, MAX_DATA_LEN};
use super::message::{MessageError, Reply, Request};

/// Where the responder finds an identifier's data (offset not applied, LSB first).
pub trait DataSource {
    fn value(&self, di: DataId) -> Option<Vec<u8>>;
}

impl DataSource for BTreeMap<DataId, Vec<u8>> {
    fn value(&self, di: DataId) -> Option<Vec<u8>> {
        self.get(&di).cloned()
    }
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Send this frame.
    Reply(Frame),
    /// Send nothing, for this reason.
    Silent(NoReply),
}

/// Why a meter stays silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoReply {
    /// Addressed to another meter.
    NotForUs(Address),
    /// Broadcast (time synchronisation): never answered. DL/T 645-2007, broadcast time.
    Broadcast,
    /// A reply frame, not a request (another meter, or an echo).
    NotARequest,
    /// A request we cannot read and have no function to refuse.
    Undecodable(MessageError),
}

#[derive(Debug, Clone)]
struct Pending {
    di: DataId,
    data: Vec<u8>,
    /// Bytes of `data` already sent.
    sent: usize,
    /// 2007 sequence number of the last frame sent (0 = the first reply).
    seq: u8,
    last: Frame,
}

/// One simulated meter's protocol side. See the module documentation.
#[derive(Debug, Clone)]
pub struct Responder {
    address: Address,
    version: Version,
    max_chunk: usize,
    pending: Option<Pending>,
}

impl Responder {
    /// Default data bytes per reply frame: 2007 caps a read reply's data field at 200 bytes
    /// (DL/T 645-2007, read data); minus four identifier bytes and one sequence byte.
    pub const DEFAULT_MAX_CHUNK: usize = 195;

    pub fn new(address: Address, version: Version) -> Self {
        Responder {
            address,
            version,
            max_chunk: Self::DEFAULT_MAX_CHUNK,
            pending: None,
        }
    }

    /// Split data into frames of at most `n` bytes (clamped so every frame fits L).
    pub fn with_max_chunk(mut self, n: usize) -> Self {
        let room = MAX_DATA_LEN - self.version.di_len() - 1;
        self.max_chunk = n.clamp(1, room);
        self
    }

    pub fn address(&self) -> Address {
        self.address
    }

    /// The reply to `request`, or why there is none.
    pub fn respond(&mut self, request: &Frame, table: &impl DataSource) -> Response {
        if request.control.direction() != Direction::FromMaster {
            return Response::Silent(NoReply::NotARequest);
        }
        if !request.address.reaches(&self.address) {
            return Response::Silent(NoReply::NotForUs(request.address));
        }
        let function = request.control.function(self.version);
        if request.address.is_broadcast() || function == Function::BroadcastTime {
            return Response::Silent(NoReply::Broadcast);
        }
        let decoded = match Request::decode(request, self.version) {
            Ok(r) => r,
            Err(e) => {
                return match function {
                    Function::Unknown(_) => Response::Silent(NoReply::Undecodable(e)),
                    known => self.refuse(known, self.malformed()),
                }
            }
        };
        match decoded {
            Request::ReadAddress => self.reply(&Reply::Address(self.address)),
            Request::Read { di, .. } => match table.value(di) {
                Some(data) => self.first_reply(di, data),
                None => self.refuse(Function::ReadData, self.no_data()),
            },
            Request::ReadFollowUp { di, seq } => self.follow_up(di, seq),
            Request::Write { .. } => self.refuse(Function::WriteData, ErrorCondition::Unauthorised),
            Request::BroadcastTime(_) => Response::Silent(NoReply::Broadcast),
            Request::Other { function, .. } => self.refuse(function, self.malformed()),
        }
    }

    fn first_reply(&mut self, di: DataId, data: Vec<u8>) -> Response {
        let chunk = data.get(..self.max_chunk).unwrap_or(&data).to_vec();
        let sent = chunk.len();
        let more = sent < data.len();
        let reply = Reply::Read {
            di,
            data: chunk,
            more,
        };
        let Ok(frame) = reply.encode(self.address, self.version) else {
            return self.refuse(Function::ReadData, self.malformed());
        };
        self.pending = Some(Pending {
            di,
            data,
            sent,
            seq: 0,
            last: frame.clone(),
        });
        Response::Reply(frame)
    }

    fn follow_up(&mut self, di: DataId, seq: Option<u8>) -> Response {
        let (address, version, max_chunk) = (self.address, self.version, self.max_chunk);
        let Some(p) = self.pending.as_mut().filter(|p| p.di == di) else {
            return self.refuse(Function::ReadFollowUp, self.no_data());
        };
        if let Some(s) = seq {
            if s == p.seq && s > 0 {
                // The master missed our last follow-up frame: send it again.
                return Response::Reply(p.last.clone());
            }
            if s != p.seq.wrapping_add(1) {
                return self.refuse(Function::ReadFollowUp, self.malformed());
            }
        }
        let Some(rest) = p.data.get(p.sent..).filter(|r| !r.is_empty()) else {
            return self.refuse(Function::ReadFollowUp, self.no_data());
        };
        let chunk = rest.get(..max_chunk).unwrap_or(rest).to_vec();
        let more = chunk.len() < rest.len();
        let reply = Reply::ReadFollowUp {
            di,
            data: chunk.clone(),
            seq,
            more,
        };
        let Ok(frame) = reply.encode(address, version) else {
            return self.refuse(Function::ReadFollowUp, self.malformed());
        };
        p.sent += chunk.len();
        p.seq = seq.unwrap_or(p.seq.wrapping_add(1));
        p.last = frame.clone();
        Response::Reply(frame)
    }

    fn reply(&self, reply: &Reply) -> Response {
        match reply.encode(self.address, self.version) {
            Ok(frame) => Response::Reply(frame),
            Err(e) => Response::Silent(NoReply::Undecodable(e)),
        }
    }

    fn refuse(&self, function: Function, condition: ErrorCondition) -> Response {
        self.reply(&Reply::Abnormal {
            function,
            error: ErrorWord::from_condition(self.version, condition),
        })
    }

    /// "No such data": 2007 bit 1 (no requested data), 1997 bit 1 (wrong identifier).
    fn no_data(&self) -> ErrorCondition {
        match self.version {
            Version::V2007 => ErrorCondition::NoRequestedData,
            Version::V1997 => ErrorCondition::DataIdError,
        }
    }

    /// "Bad request": 2007 bit 0 (other error), 1997 bit 0 (illegal data).
    fn malformed(&self) -> ErrorCondition {
        match self.version {
            Version::V2007 => ErrorCondition::Other,
            Version::V1997 => ErrorCondition::IllegalData,
        }
    }
}
