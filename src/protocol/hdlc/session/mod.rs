//! HDLC sessions, sans-IO: a client (primary station) and a server (secondary station).
//!
//! Both take bytes and the time as inputs (`handle_bytes(now, ..)`, `handle_timeout(now)`) and
//! queue [`Action`]s for the caller to carry out, in order, via `poll_action()`. Time is a
//! [`Duration`] since an origin the caller picks; nothing here reads a clock, sleeps or does
//! I/O. The caller owns the port and the timer: it writes `Send` bytes, arms one timer per
//! session at `SetTimer(deadline)` (replacing any earlier one) and calls `handle_timeout` when
//! it fires.
//!
//! Both sessions use window size 1 (the default every DLMS HDLC station supports): every I-frame
//! and RR carries P/F = 1 and waits for its answer. A long APDU is split into segments with
//! the segmentation bit set on all but the last; the receiver answers each with RR.

use core::time::Duration;

use super::deframer::DeframeError;
use super::frame::FrameError;
use super::frmr::FrameReject;
use super::llc::LlcError;
use super::params::{HdlcParameters, ParamsError};
use super::{Control, HdlcAddress};

mod client;
mod server;

pub use client::{ClientConfig, ClientState, HdlcClient};
pub use server::{HdlcServer, ServerConfig, ServerState};

/// Something the caller must do, in the order queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes (one whole frame) to the link.
    Send(Vec<u8>),
    /// Call `handle_timeout` at this time (since the caller's origin); replaces any earlier timer.
    SetTimer(Duration),
    /// No timer is needed any more.
    CancelTimer,
    /// A whole APDU arrived (LLC header removed).
    Deliver(Vec<u8>),
    /// The link is up with these parameters (this station's point of view).
    Connected(HdlcParameters),
    /// The link was closed in an orderly way.
    Disconnected,
    /// The link is down because of this; the session is back to disconnected.
    Fail(FailReason),
    /// A frame or bytes were ignored; for diagnostics only, nothing to do.
    Discarded(Discard),
}

/// Why a session gave up. After a `Fail` the session is disconnected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FailReason {
    #[error("no response after {attempts} attempts")]
    NoResponse { attempts: u8 },
    #[error("peer answers but did not receive our frame, after {attempts} attempts")]
    NotAcknowledged { attempts: u8 },
    #[error("connection refused (DM in answer to SNRM)")]
    Refused,
    #[error("peer reports disconnected mode (DM)")]
    PeerDisconnected,
    #[error("peer rejected a frame (FRMR): {0:?}")]
    FrameRejected(Option<FrameReject>),
    #[error("sequence error: expected N(R) {expected}, got {found}")]
    SequenceError { expected: u8, found: u8 },
    #[error("bad HDLC parameters in UA: {0}")]
    BadParameters(ParamsError),
    #[error("bad LLC header: {0}")]
    BadLlc(LlcError),
    #[error("APDU longer than {max} bytes")]
    ApduTooLong { max: usize },
    #[error("cannot emit frame: {0}")]
    Emit(FrameError),
}

/// Why a frame was ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discard {
    /// Bytes that failed the frame checks (bad HCS/FCS, bad header...).
    Damaged(DeframeError),
    /// Our own frame, echoed by the line (optical head, RS-485 adapter).
    Echo,
    /// A valid frame between other stations.
    NotForUs {
        destination: HdlcAddress,
        source: HdlcAddress,
    },
    /// A repeat of a frame already handled: an I-frame we already have, or an RR that
    /// answers nothing we asked (line duplicate, late answer).
    Duplicate(Control),
    /// A valid frame with no place in the current state.
    Unexpected(Control),
}

/// A request the session cannot take in its current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    #[error("not connected")]
    NotConnected,
    #[error("already connected or connecting")]
    AlreadyConnected,
    #[error("an exchange is in progress")]
    Busy,
    #[error("no request is waiting for a response")]
    NoPendingRequest,
}

/// Cuts LLC header + APDU into information fields of at most `max` bytes.
#[derive(Debug, Clone)]
struct Segmenter {
    data: Vec<u8>,
    offset: usize,
    max: usize,
}

impl Segmenter {
    fn new(data: Vec<u8>, max: u16) -> Self {
        Segmenter {
            data,
            offset: 0,
            max: usize::from(max.max(1)),
        }
    }

    /// The next segment and whether more follow; `None` once all were handed out.
    fn next_segment(&mut self) -> Option<(Vec<u8>, bool)> {
        let rest = self.data.get(self.offset..).filter(|r| !r.is_empty())?;
        let take = rest.len().min(self.max);
        let chunk = rest.get(..take)?.to_vec();
        self.offset += take;
        Some((chunk, self.offset < self.data.len()))
    }
}

/// Collects the information fields of a segmented APDU, up to a bound.
#[derive(Debug, Clone, Default)]
struct Reassembly {
    buf: Vec<u8>,
}

impl Reassembly {
    fn push(&mut self, info: &[u8], max: usize) -> Result<(), FailReason> {
        if self.buf.len().saturating_add(info.len()) > max {
            self.buf.clear();
            return Err(FailReason::ApduTooLong { max });
        }
        self.buf.extend_from_slice(info);
        Ok(())
    }

    fn take(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.buf)
    }

    fn clear(&mut self) {
        self.buf.clear();
    }
}

/// Largest reassembled APDU (LLC header included) by default: a 65535-byte DLMS PDU + LLC.
pub const DEFAULT_MAX_APDU_LEN: usize = 0xFFFF + 3;

#[cfg(test)]
mod tests;
