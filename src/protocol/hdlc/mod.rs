//! IEC 62056-46 HDLC: frames, addresses, HCS/FCS, segmentation and the session state machine.
//!
//! Layout, bottom up: [`fcs`] (CRC-16/X.25), [`address`], [`control`], [`frame`] (one frame,
//! parse/emit), [`params`] (SNRM/UA negotiation), [`llc`] (E6 E6 00 / E6 E7 00), [`deframer`]
//! (frames out of a byte stream), [`frmr`] (frame-reject reasons), [`session`] (the client and
//! server state machines). All of it is pure: bytes and durations in, values and actions out.

pub mod address;
pub mod control;
pub mod deframer;
pub mod fcs;
pub mod frame;
pub mod frmr;
pub mod llc;
pub mod params;
pub mod session;

#[cfg(test)]
pub(crate) mod vectors;

pub use address::{AddressError, AddressSize, HdlcAddress};
pub use control::Control;
pub use deframer::{DeframeError, Deframer};
pub use frame::{Frame, FrameError};
pub use llc::LlcHeader;
pub use params::{HdlcParameters, ParamsError};
pub use session::{
    Action, ClientConfig, ClientState, Discard, FailReason, HdlcClient, HdlcServer, ServerConfig,
    ServerState, SessionError,
};
