//! Session tests: each side alone against byte-exact frames (`client`, `server`), then both
//! together over a lossy wire driven by a virtual clock (`wire`). Shared helpers live here.

use super::*;
use crate::protocol::hdlc::address::AddressSize;
use crate::protocol::hdlc::frmr::FRMR_Z_INVALID_NR;
use crate::protocol::hdlc::vectors::*;
use crate::protocol::hdlc::{DeframeError, Frame};

pub(super) const T0: Duration = Duration::ZERO;

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) fn client_addr() -> HdlcAddress {
    HdlcAddress::client(0x10).unwrap()
}

pub(super) fn server_addr() -> HdlcAddress {
    HdlcAddress::server(1, None).unwrap()
}

pub(super) fn client() -> HdlcClient {
    HdlcClient::new(ClientConfig::new(client_addr(), server_addr()))
}

pub(super) fn server() -> HdlcServer {
    HdlcServer::new(ServerConfig::new(server_addr()))
}

pub(super) fn drain_client(c: &mut HdlcClient) -> Vec<Action> {
    core::iter::from_fn(|| c.poll_action()).collect()
}

pub(super) fn drain_server(s: &mut HdlcServer) -> Vec<Action> {
    core::iter::from_fn(|| s.poll_action()).collect()
}

pub(super) fn sends(actions: &[Action]) -> Vec<Vec<u8>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

/// Frame from server 1 to client 0x10.
pub(super) fn from_server(control: Control, info: &[u8], segmented: bool) -> Vec<u8> {
    let mut f = Frame::new(client_addr(), server_addr(), control, info.to_vec());
    f.segmented = segmented;
    f.to_bytes().unwrap()
}

/// A client connected with default parameters (UA without information field).
pub(super) fn connected_client() -> HdlcClient {
    let mut c = client();
    c.connect(T0).unwrap();
    c.handle_bytes(T0, UA_PLAIN);
    drain_client(&mut c);
    assert_eq!(c.state(), ClientState::Idle);
    c
}

mod client;
mod server;
mod wire;
