//! Fuzz the HDLC sessions: the input is a script of operations (bytes from the line, timer
//! firings, requests) applied to one client and one server. Property: nothing panics, and
//! each side's state stays consistent with what it reports (a client that reports `Fail` or
//! `Disconnected` is disconnected), and every frame either side sends parses.
#![no_main]

use core::time::Duration;

use calin_agent::protocol::hdlc::{
    Action, ClientConfig, ClientState, HdlcAddress, HdlcClient, HdlcServer, ServerConfig,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let client_addr = HdlcAddress::client(0x10).unwrap();
    let server_addr = HdlcAddress::server(1, None).unwrap();
    let mut client = HdlcClient::new(ClientConfig::new(client_addr, server_addr));
    let mut server = HdlcServer::new(ServerConfig::new(server_addr));
    let mut now = Duration::ZERO;
    let mut rest = data;
    while let Some((&op, tail)) = rest.split_first() {
        let len = usize::from(op >> 3).min(tail.len());
        let (arg, tail) = tail.split_at(len);
        rest = tail;
        now += Duration::from_millis(u64::from(op));
        match op & 0x07 {
            0 => client.handle_bytes(now, arg),
            1 => server.handle_bytes(now, arg),
            2 => client.handle_timeout(now),
            3 => server.handle_timeout(now),
            4 => {
                let _ = client.connect(now);
            }
            5 => {
                let _ = client.send_apdu(now, arg);
            }
            6 => {
                let _ = server.send_apdu(now, arg);
            }
            _ => {
                let _ = client.disconnect(now);
            }
        }
        while let Some(action) = client.poll_action() {
            match action {
                Action::Fail(_) | Action::Disconnected => {
                    assert_eq!(client.state(), ClientState::Disconnected)
                }
                // Whatever the client sends must be a valid frame.
                Action::Send(bytes) => {
                    calin_agent::protocol::hdlc::Frame::parse(&bytes).unwrap();
                }
                _ => {}
            }
        }
        while let Some(action) = server.poll_action() {
            if let Action::Send(bytes) = action {
                calin_agent::protocol::hdlc::Frame::parse(&bytes).unwrap();
            }
        }
    }
});
