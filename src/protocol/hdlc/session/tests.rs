//! Session tests: each side alone against byte-exact frames, then client and server together
//! over a lossy wire driven by a virtual clock.

use super::*;
use crate::protocol::hdlc::address::AddressSize;
use crate::protocol::hdlc::frmr::FRMR_Z_INVALID_NR;
use crate::protocol::hdlc::vectors::*;
use crate::protocol::hdlc::{DeframeError, Frame};
use proptest::prelude::*;

const T0: Duration = Duration::ZERO;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn client_addr() -> HdlcAddress {
    HdlcAddress::client(0x10).unwrap()
}

fn server_addr() -> HdlcAddress {
    HdlcAddress::server(1, None).unwrap()
}

fn client() -> HdlcClient {
    HdlcClient::new(ClientConfig::new(client_addr(), server_addr()))
}

fn server() -> HdlcServer {
    HdlcServer::new(ServerConfig::new(server_addr()))
}

fn drain_client(c: &mut HdlcClient) -> Vec<Action> {
    core::iter::from_fn(|| c.poll_action()).collect()
}

fn drain_server(s: &mut HdlcServer) -> Vec<Action> {
    core::iter::from_fn(|| s.poll_action()).collect()
}

fn sends(actions: &[Action]) -> Vec<Vec<u8>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

/// Frame from server 1 to client 0x10.
fn from_server(control: Control, info: &[u8], segmented: bool) -> Vec<u8> {
    let mut f = Frame::new(client_addr(), server_addr(), control, info.to_vec());
    f.segmented = segmented;
    f.to_bytes().unwrap()
}

/// A client connected with default parameters (UA without information field).
fn connected_client() -> HdlcClient {
    let mut c = client();
    c.connect(T0).unwrap();
    c.handle_bytes(T0, UA_PLAIN);
    drain_client(&mut c);
    assert_eq!(c.state(), ClientState::Idle);
    c
}

// ---------------------------------------------------------------- client alone

#[test]
fn client_snrm_matches_gurux_and_ua_connects() {
    let mut c = client();
    c.connect(T0).unwrap();
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::Send(SNRM_GURUX.to_vec()),
            Action::SetTimer(ms(3000))
        ]
    );
    c.handle_bytes(ms(10), UA_PLAIN);
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::CancelTimer,
            Action::Connected(HdlcParameters::default())
        ]
    );
    assert_eq!(c.connect(ms(20)), Err(SessionError::AlreadyConnected));
}

#[test]
fn client_proposal_and_ua_parameters_are_negotiated() {
    let server = HdlcAddress::server(1, Some(17)).unwrap();
    let mut config = ClientConfig::new(client_addr(), server);
    config.params.max_info_tx = 512;
    config.params.max_info_rx = 512;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    let snrm = sends(&drain_client(&mut c));
    assert_eq!(
        Frame::parse(&snrm[0]).unwrap().info,
        SNRM_FOUR_BYTE_GURUX[11..22]
    );
    // u9n UA: 128 both ways.
    c.handle_bytes(T0, UA_PARAMS_U9N);
    let expected = HdlcParameters::default();
    assert!(drain_client(&mut c).contains(&Action::Connected(expected)));
    assert_eq!(c.parameters(), Some(expected));
}

#[test]
fn client_refused_by_dm() {
    let mut c = client();
    c.connect(T0).unwrap();
    drain_client(&mut c);
    c.handle_bytes(T0, DM_SERVER);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Fail(FailReason::Refused)]
    );
    assert_eq!(c.state(), ClientState::Disconnected);
}

#[test]
fn client_first_i_frame_matches_gurux_aarq() {
    let mut c = connected_client();
    let aarq = &I_AARQ_GURUX[11..42];
    c.send_apdu(ms(5), aarq).unwrap();
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::Send(I_AARQ_GURUX.to_vec()),
            Action::SetTimer(ms(3005))
        ]
    );
    assert_eq!(c.send_apdu(ms(6), aarq), Err(SessionError::Busy));
}

#[test]
fn client_delivers_response_without_llc() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0, 0x01]).unwrap();
    drain_client(&mut c);
    let control = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(
        T0,
        &from_server(control, &[0xE6, 0xE7, 0x00, 0xC4, 0x01], false),
    );
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Deliver(vec![0xC4, 0x01])]
    );
    assert_eq!(c.state(), ClientState::Idle);
}

#[test]
fn client_acknowledges_each_response_segment_with_gurux_rr() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let seg1 = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(ms(1), &from_server(seg1, &[0xE6, 0xE7, 0x00, 0xAA], true));
    // RR N(R)=1, P=1: the same bytes gurux-dlms sends.
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Send(RR_GURUX.to_vec()), Action::SetTimer(ms(3001))]
    );
    let seg2 = Control::I {
        ns: 1,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(ms(2), &from_server(seg2, &[0xBB], false));
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Deliver(vec![0xAA, 0xBB])]
    );
}

#[test]
fn client_waits_for_rr_between_request_segments() {
    let mut config = ClientConfig::new(client_addr(), server_addr());
    config.params.max_info_tx = 32;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    // The server accepts 32 bytes: UA with max receive 32 (server view).
    let ua_params = HdlcParameters {
        max_info_rx: 32,
        ..Default::default()
    };
    c.handle_bytes(
        T0,
        &from_server(Control::Ua { poll: true }, &ua_params.encode_full(), false),
    );
    drain_client(&mut c);
    let apdu: Vec<u8> = (0..70).collect();
    c.send_apdu(T0, &apdu).unwrap();
    let first = sends(&drain_client(&mut c));
    assert_eq!(first.len(), 1, "one segment, then wait");
    let f1 = Frame::parse(&first[0]).unwrap();
    assert!(f1.segmented);
    assert_eq!(f1.info.len(), 32);
    assert_eq!(&f1.info[..3], &[0xE6, 0xE6, 0x00]);
    c.handle_bytes(
        T0,
        &from_server(Control::Rr { nr: 1, poll: true }, &[], false),
    );
    let f2 = Frame::parse(&sends(&drain_client(&mut c))[0]).unwrap();
    assert!(f2.segmented);
    assert_eq!(
        f2.control,
        Control::I {
            ns: 1,
            nr: 0,
            poll: true
        }
    );
    c.handle_bytes(
        T0,
        &from_server(Control::Rr { nr: 2, poll: true }, &[], false),
    );
    let f3 = Frame::parse(&sends(&drain_client(&mut c))[0]).unwrap();
    assert!(!f3.segmented, "last segment clears the segmentation bit");
    assert_eq!(f3.info.len(), 73 - 64);
    let mut all = f1.info.clone();
    all.extend(&f2.info);
    all.extend(&f3.info);
    assert_eq!(&all[3..], &apdu[..]);
    assert_eq!(c.state(), ClientState::AwaitingResponse);
}

#[test]
fn client_polls_on_timeout_then_fails_after_bounded_retries() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    // Early timer calls do nothing.
    c.handle_timeout(ms(2999));
    assert!(drain_client(&mut c).is_empty());
    let mut now = ms(3000);
    for _ in 0..3 {
        c.handle_timeout(now);
        let actions = drain_client(&mut c);
        let polls = sends(&actions);
        assert_eq!(polls.len(), 1);
        assert_eq!(
            Frame::parse(&polls[0]).unwrap().control,
            Control::Rr { nr: 0, poll: true }
        );
        now += ms(3000);
        assert_eq!(actions.last(), Some(&Action::SetTimer(now)));
    }
    c.handle_timeout(now);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::NoResponse { attempts: 4 })]
    );
    assert_eq!(c.state(), ClientState::Disconnected);
}

#[test]
fn client_resends_i_frame_when_rr_says_it_was_not_received() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    let sent = sends(&drain_client(&mut c));
    c.handle_timeout(ms(3000));
    drain_client(&mut c);
    // Server answers the poll with N(R)=0: it never got N(S)=0.
    c.handle_bytes(
        ms(3001),
        &from_server(Control::Rr { nr: 0, poll: true }, &[], false),
    );
    assert_eq!(sends(&drain_client(&mut c)), sent);
}

#[test]
fn client_ignores_a_stale_rr_it_did_not_poll_for() {
    let mut config = ClientConfig::new(client_addr(), server_addr());
    config.params.max_info_tx = 32;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    let ua_params = HdlcParameters {
        max_info_rx: 32,
        ..Default::default()
    };
    c.handle_bytes(
        T0,
        &from_server(Control::Ua { poll: true }, &ua_params.encode_full(), false),
    );
    c.send_apdu(T0, &[0; 100]).unwrap();
    drain_client(&mut c);
    let rr1 = from_server(Control::Rr { nr: 1, poll: true }, &[], false);
    c.handle_bytes(T0, &rr1);
    assert_eq!(sends(&drain_client(&mut c)).len(), 1, "second segment");
    // The same RR again (line duplicate): N(R)=1 no longer acknowledges our last frame, but we
    // did not poll, so it is stale: no retransmission.
    c.handle_bytes(T0, &rr1);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Discarded(Discard::Duplicate(Control::Rr {
            nr: 1,
            poll: true
        }))]
    );
    assert_eq!(c.state(), ClientState::Sending);
}

#[test]
fn client_fails_on_dm_frmr_and_bad_nr() {
    let mut c = connected_client();
    c.handle_bytes(T0, DM_SERVER);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::PeerDisconnected)]
    );

    let mut c = connected_client();
    let reject = [0x10, 0x00, FRMR_Z_INVALID_NR];
    c.handle_bytes(
        T0,
        &from_server(Control::Frmr { poll: true }, &reject, false),
    );
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::FrameRejected(FrameReject::parse(
            &reject
        )))]
    );
    let mut c = connected_client();
    c.handle_bytes(T0, FRMR_SERVER);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::Fail(FailReason::FrameRejected(None))]
    );

    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let wrong_nr = Control::I {
        ns: 0,
        nr: 3,
        poll: true,
    };
    c.handle_bytes(T0, &from_server(wrong_nr, &[0xE6, 0xE7, 0x00, 0x01], false));
    assert_eq!(
        drain_client(&mut c),
        vec![
            Action::CancelTimer,
            Action::Fail(FailReason::SequenceError {
                expected: 1,
                found: 3
            })
        ]
    );
}

#[test]
fn client_rejects_response_without_llc() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let i = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    c.handle_bytes(T0, &from_server(i, &[0xC4, 0x01, 0x00, 0x01], false));
    let actions = drain_client(&mut c);
    assert!(matches!(
        actions.last(),
        Some(Action::Fail(FailReason::BadLlc(_)))
    ));
    assert!(!actions.iter().any(|a| matches!(a, Action::Deliver(_))));
}

#[test]
fn client_skips_its_own_echo() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0, 0x01]).unwrap();
    let sent = sends(&drain_client(&mut c));
    c.handle_bytes(T0, &sent[0]);
    assert_eq!(drain_client(&mut c), vec![Action::Discarded(Discard::Echo)]);
    assert_eq!(c.state(), ClientState::AwaitingResponse);
    // With echo skipping off, the same frame is simply not for us.
    let mut config = ClientConfig::new(client_addr(), server_addr());
    config.skip_echo = false;
    let mut c = HdlcClient::new(config);
    c.connect(T0).unwrap();
    let snrm = sends(&drain_client(&mut c));
    c.handle_bytes(T0, &snrm[0]);
    assert!(matches!(
        drain_client(&mut c)[..],
        [Action::Discarded(Discard::NotForUs { .. })]
    ));
}

#[test]
fn client_ignores_other_meters_on_the_bus() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let other = HdlcAddress::server(1, Some(18)).unwrap();
    let i = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    let f = Frame::new(client_addr(), other, i, vec![0xE6, 0xE7, 0x00, 0x01]);
    c.handle_bytes(T0, &f.to_bytes().unwrap());
    assert!(matches!(
        drain_client(&mut c)[..],
        [Action::Discarded(Discard::NotForUs { .. })]
    ));
    assert_eq!(c.state(), ClientState::AwaitingResponse);
}

#[test]
fn client_damaged_frame_is_reported_not_delivered() {
    let mut c = connected_client();
    c.send_apdu(T0, &[0xC0]).unwrap();
    drain_client(&mut c);
    let i = Control::I {
        ns: 0,
        nr: 1,
        poll: true,
    };
    let mut bytes = from_server(i, &[0xE6, 0xE7, 0x00, 0x01, 0x02], false);
    bytes[10] ^= 0x04;
    c.handle_bytes(T0, &bytes);
    assert!(matches!(
        drain_client(&mut c)[..],
        [Action::Discarded(Discard::Damaged(DeframeError {
            kind: FrameError::BadFcs { .. },
            ..
        }))]
    ));
    assert_eq!(c.state(), ClientState::AwaitingResponse);
}

#[test]
fn client_disconnect_matches_gurux_disc() {
    let mut c = connected_client();
    c.disconnect(T0).unwrap();
    assert_eq!(sends(&drain_client(&mut c)), vec![DISC_GURUX.to_vec()]);
    c.handle_bytes(T0, UA_PLAIN);
    assert_eq!(
        drain_client(&mut c),
        vec![Action::CancelTimer, Action::Disconnected]
    );
    assert_eq!(c.disconnect(T0), Err(SessionError::NotConnected));
    assert_eq!(c.send_apdu(T0, &[1]), Err(SessionError::NotConnected));
}

#[test]
fn client_to_four_byte_server_disconnects() {
    let server = HdlcAddress::server_sized(1, Some(17), AddressSize::Four).unwrap();
    let mut c = HdlcClient::new(ClientConfig::new(client_addr(), server));
    c.connect(T0).unwrap();
    drain_client(&mut c);
    c.handle_bytes(T0, UA_FOUR_BYTE);
    drain_client(&mut c);
    c.disconnect(T0).unwrap();
    assert_eq!(sends(&drain_client(&mut c)), vec![DISC_FOUR_BYTE.to_vec()]);
}

// ---------------------------------------------------------------- server alone

#[test]
fn server_answers_snrm_with_negotiated_ua() {
    let mut config = ServerConfig::new(server_addr());
    config.params.max_info_tx = 256;
    config.params.max_info_rx = 256;
    let mut s = HdlcServer::new(config);
    s.handle_bytes(T0, SNRM_PARAMS_GURUX); // client proposes 32 / 32
    let actions = drain_server(&mut s);
    let ua = Frame::parse(&sends(&actions)[0]).unwrap();
    assert_eq!(ua.control, Control::Ua { poll: true });
    let expected = HdlcParameters {
        max_info_tx: 32,
        max_info_rx: 32,
        window_tx: 1,
        window_rx: 1,
    };
    assert_eq!(HdlcParameters::parse(&ua.info), Ok(expected));
    assert!(actions.contains(&Action::Connected(expected)));
    assert_eq!(s.client(), Some(client_addr()));
}

#[test]
fn server_reassembles_gurux_segments() {
    let mut s = server();
    s.handle_bytes(T0, SNRM_PARAMS_GURUX);
    drain_server(&mut s);
    s.handle_bytes(T0, I_SEGMENT_1_GURUX);
    let rr = sends(&drain_server(&mut s));
    assert_eq!(
        Frame::parse(&rr[0]).unwrap().control,
        Control::Rr { nr: 1, poll: true }
    );
    s.handle_bytes(T0, I_SEGMENT_2_GURUX);
    let mut aarq = I_SEGMENT_1_GURUX[11..37].to_vec();
    aarq.extend_from_slice(&I_SEGMENT_2_GURUX[8..38]);
    assert_eq!(drain_server(&mut s), vec![Action::Deliver(aarq)]);
    assert_eq!(s.state(), ServerState::Processing);
}

#[test]
fn server_segments_response_and_repeats_on_poll() {
    let mut config = ServerConfig::new(server_addr());
    config.params.max_info_tx = 32;
    let mut s = HdlcServer::new(config);
    s.handle_bytes(T0, SNRM_GURUX); // client proposes defaults: server sends 32, takes 128
    drain_server(&mut s);
    s.handle_bytes(T0, I_AARQ_GURUX);
    drain_server(&mut s);
    let response: Vec<u8> = (0..40).collect();
    s.send_apdu(T0, &response).unwrap();
    let seg1 = sends(&drain_server(&mut s));
    let f1 = Frame::parse(&seg1[0]).unwrap();
    assert!(f1.segmented);
    assert_eq!(
        f1.control,
        Control::I {
            ns: 0,
            nr: 1,
            poll: true
        }
    );
    // Poll with N(R)=0: segment 0 not received, so it comes again, byte for byte.
    let poll = |nr| {
        Frame::new(
            server_addr(),
            client_addr(),
            Control::Rr { nr, poll: true },
            vec![],
        )
        .to_bytes()
        .unwrap()
    };
    s.handle_bytes(T0, &poll(0));
    assert_eq!(sends(&drain_server(&mut s)), seg1);
    // N(R)=1 acknowledges it: the last segment follows.
    s.handle_bytes(T0, &poll(1));
    let f2 = Frame::parse(&sends(&drain_server(&mut s))[0]).unwrap();
    assert!(!f2.segmented);
    assert_eq!(f1.info.len() + f2.info.len(), 3 + 40);
    assert_eq!(s.state(), ServerState::Idle);
    // N(R)=5 acknowledges nothing we sent: frame reject.
    s.handle_bytes(T0, &poll(5));
    let frmr = Frame::parse(&sends(&drain_server(&mut s))[0]).unwrap();
    assert_eq!(frmr.control, Control::Frmr { poll: true });
    let reject = FrameReject::parse(&frmr.info).unwrap();
    assert_eq!(reject.reasons, FRMR_Z_INVALID_NR);
    assert_eq!(s.state(), ServerState::Rejected);
}

#[test]
fn server_answers_dm_when_disconnected_and_handles_disc() {
    let mut s = server();
    s.handle_bytes(T0, RR_GURUX);
    let dm = Frame::parse(&sends(&drain_server(&mut s))[0]).unwrap();
    assert_eq!(dm.control, Control::Dm { poll: true });
    assert_eq!(dm.destination, client_addr());
    s.handle_bytes(T0, DISC_GURUX);
    assert_eq!(sends(&drain_server(&mut s)), vec![DM_SERVER.to_vec()]);
    s.handle_bytes(T0, SNRM_GURUX);
    drain_server(&mut s);
    s.handle_bytes(T0, DISC_GURUX);
    assert_eq!(
        drain_server(&mut s),
        vec![Action::Send(UA_PLAIN.to_vec()), Action::Disconnected]
    );
    assert_eq!(s.state(), ServerState::Disconnected);
}

#[test]
fn server_ignores_frames_for_other_meters() {
    let mut s = HdlcServer::new(ServerConfig::new(HdlcAddress::server(1, Some(17)).unwrap()));
    s.handle_bytes(T0, SNRM_GURUX); // addressed to server 1 (one byte)
    assert!(matches!(
        drain_server(&mut s)[..],
        [Action::Discarded(Discard::NotForUs { .. })]
    ));
    assert_eq!(s.state(), ServerState::Disconnected);
}

#[test]
fn server_inactivity_timeout_disconnects() {
    let mut config = ServerConfig::new(server_addr());
    config.inactivity_timeout = Some(ms(1000));
    let mut s = HdlcServer::new(config);
    s.handle_bytes(T0, SNRM_GURUX);
    assert_eq!(
        drain_server(&mut s).last(),
        Some(&Action::SetTimer(ms(1000)))
    );
    s.handle_timeout(ms(999));
    assert!(drain_server(&mut s).is_empty());
    s.handle_timeout(ms(1000));
    assert_eq!(drain_server(&mut s), vec![Action::Disconnected]);
}

// ---------------------------------------------------------------- together, over a wire

/// Deterministic xorshift for the wire's faults.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

/// A half-duplex line that may drop, corrupt (one bit) or duplicate each frame, split it
/// into chunks, and echo the client's own frames back to it.
struct Wire {
    rng: Rng,
    drop: u64,
    corrupt: u64,
    duplicate: u64,
    echo: bool,
}

impl Wire {
    fn clean() -> Self {
        Wire {
            rng: Rng(0x9E37_79B9_7F4A_7C15),
            drop: 0,
            corrupt: 0,
            duplicate: 0,
            echo: false,
        }
    }

    /// What arrives at the far end for one frame sent: zero or more chunks.
    fn carry(&mut self, frame: &[u8]) -> Vec<Vec<u8>> {
        if self.rng.chance(self.drop) {
            return Vec::new();
        }
        let mut bytes = frame.to_vec();
        if self.rng.chance(self.corrupt) {
            let i = self.rng.below(bytes.len() as u64) as usize;
            bytes[i] ^= 1 << self.rng.below(8);
        }
        let copies = if self.rng.chance(self.duplicate) {
            2
        } else {
            1
        };
        let mut out = Vec::new();
        for _ in 0..copies {
            let cut = self.rng.below(bytes.len() as u64 + 1) as usize;
            out.push(bytes[..cut].to_vec());
            out.push(bytes[cut..].to_vec());
        }
        out
    }
}

/// Client, server, a wire and a virtual clock.
struct Link {
    client: HdlcClient,
    server: HdlcServer,
    wire: Wire,
    now: Duration,
    timer: Option<Duration>,
    /// Requests the server delivered, in order.
    server_got: Vec<Vec<u8>>,
}

/// How one exchange ended, from the client's side.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Connected(HdlcParameters),
    Delivered(Vec<u8>),
    Disconnected,
    Failed(FailReason),
}

impl Link {
    fn new(client: ClientConfig, server: ServerConfig, wire: Wire) -> Self {
        Link {
            client: HdlcClient::new(client),
            server: HdlcServer::new(server),
            wire,
            now: Duration::ZERO,
            timer: None,
            server_got: Vec::new(),
        }
    }

    /// Run until the client reports an outcome; `respond` is the server application.
    fn run(&mut self, respond: &dyn Fn(&[u8]) -> Vec<u8>) -> Outcome {
        for _ in 0..10_000 {
            let mut quiet = true;
            let mut to_server = Vec::new();
            let mut to_client = Vec::new();
            let mut outcome = None;
            while let Some(action) = self.client.poll_action() {
                quiet = false;
                match action {
                    Action::Send(bytes) => {
                        if self.wire.echo {
                            to_client.extend(self.wire.carry(&bytes));
                        }
                        to_server.extend(self.wire.carry(&bytes));
                    }
                    Action::SetTimer(t) => self.timer = Some(t),
                    Action::CancelTimer => self.timer = None,
                    Action::Deliver(apdu) => outcome = Some(Outcome::Delivered(apdu)),
                    Action::Connected(p) => outcome = Some(Outcome::Connected(p)),
                    Action::Disconnected => outcome = Some(Outcome::Disconnected),
                    Action::Fail(r) => outcome = Some(Outcome::Failed(r)),
                    Action::Discarded(_) => {}
                }
            }
            if let Some(outcome) = outcome {
                assert!(self.client.poll_action().is_none());
                return outcome;
            }
            self.now += ms(1);
            for chunk in to_server {
                self.server.handle_bytes(self.now, &chunk);
            }
            while let Some(action) = self.server.poll_action() {
                quiet = false;
                match action {
                    Action::Send(bytes) => to_client.extend(self.wire.carry(&bytes)),
                    Action::Deliver(request) => {
                        let response = respond(&request);
                        self.server_got.push(request);
                        self.server.send_apdu(self.now, &response).unwrap();
                    }
                    Action::Fail(r) => panic!("server failed: {r}"),
                    _ => {}
                }
            }
            self.now += ms(1);
            for chunk in to_client {
                self.client.handle_bytes(self.now, &chunk);
            }
            if quiet {
                let t = self
                    .timer
                    .take()
                    .expect("stalled: nothing to send and no timer");
                self.now = self.now.max(t);
                self.client.handle_timeout(self.now);
            }
        }
        panic!("no outcome after 10000 steps: livelock");
    }
}

fn configs(max_info: u16) -> (ClientConfig, ServerConfig) {
    let server = HdlcAddress::server(1, Some(17)).unwrap();
    let mut c = ClientConfig::new(client_addr(), server);
    c.params.max_info_tx = max_info;
    c.params.max_info_rx = max_info;
    let mut s = ServerConfig::new(server);
    s.params.max_info_tx = 512;
    s.params.max_info_rx = 512;
    (c, s)
}

/// The "meter": answers each request with a response derived from it, `len` bytes long.
fn echo_response(len: usize) -> impl Fn(&[u8]) -> Vec<u8> {
    move |req: &[u8]| {
        let seed = req
            .iter()
            .fold(7u8, |a, b| a.wrapping_mul(31).wrapping_add(*b));
        (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
    }
}

#[test]
fn clean_wire_many_exchanges_wrap_sequence_numbers() {
    let (c, s) = configs(64);
    let mut link = Link::new(c, s, Wire::clean());
    link.client.connect(link.now).unwrap();
    let negotiated = HdlcParameters {
        max_info_tx: 64,
        max_info_rx: 64,
        window_tx: 1,
        window_rx: 1,
    };
    assert_eq!(link.run(&|_| vec![]), Outcome::Connected(negotiated));
    let respond = echo_response(300);
    for n in 0..12u8 {
        let request: Vec<u8> = (0..(50 + usize::from(n) * 20))
            .map(|i| i as u8 ^ n)
            .collect();
        link.client.send_apdu(link.now, &request).unwrap();
        assert_eq!(link.run(&respond), Outcome::Delivered(respond(&request)));
        assert_eq!(link.server_got.last(), Some(&request));
    }
    assert_eq!(link.server_got.len(), 12);
    link.client.disconnect(link.now).unwrap();
    assert_eq!(link.run(&respond), Outcome::Disconnected);
    assert_eq!(link.server.state(), ServerState::Disconnected);
}

#[test]
fn dead_wire_fails_with_no_response_after_bounded_retries() {
    let (c, s) = configs(128);
    let mut wire = Wire::clean();
    wire.drop = 1000;
    let mut link = Link::new(c, s, wire);
    link.client.connect(link.now).unwrap();
    assert_eq!(
        link.run(&|_| vec![]),
        Outcome::Failed(FailReason::NoResponse { attempts: 4 })
    );
    // Three retries of 3 s after the first SNRM: the clock shows the bound.
    assert!(link.now >= Duration::from_secs(12) && link.now < Duration::from_secs(13));
}

#[test]
fn every_third_frame_lost_still_delivers() {
    let (mut c, s) = configs(32);
    c.max_retries = 10;
    let mut wire = Wire::clean();
    wire.drop = 333;
    wire.rng = Rng(12345);
    let mut link = Link::new(c, s, wire);
    link.client.connect(link.now).unwrap();
    assert!(matches!(link.run(&|_| vec![]), Outcome::Connected(_)));
    let respond = echo_response(200);
    let request: Vec<u8> = (0..100).collect();
    link.client.send_apdu(link.now, &request).unwrap();
    assert_eq!(link.run(&respond), Outcome::Delivered(respond(&request)));
    assert_eq!(link.server_got, vec![request]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Whatever the wire does, each exchange ends with exactly the right response or a
    /// typed failure after bounded retries; the server sees each request at most once and
    /// intact; nothing corrupted is ever delivered.
    #[test]
    fn lossy_wire_delivers_intact_or_fails_typed(
        seed in 1u64..,
        drop in 0u64..250,
        corrupt in 0u64..250,
        duplicate in 0u64..250,
        echo in any::<bool>(),
        max_info in 16u16..300,
        requests in proptest::collection::vec(0usize..700, 1..4),
        response_len in 0usize..1200,
    ) {
        let (c, s) = configs(max_info);
        let wire = Wire { rng: Rng(seed), drop, corrupt, duplicate, echo };
        let mut link = Link::new(c, s, wire);
        link.client.connect(link.now).unwrap();
        match link.run(&|_| vec![]) {
            Outcome::Connected(p) => prop_assert_eq!(p.max_info_tx, max_info),
            Outcome::Failed(FailReason::NoResponse { .. }) => return Ok(()),
            other => prop_assert!(false, "connect: {:?}", other),
        }
        let respond = echo_response(response_len);
        for (n, len) in requests.into_iter().enumerate() {
            let request: Vec<u8> = (0..len).map(|i| (i + n) as u8).collect();
            let before = link.server_got.len();
            link.client.send_apdu(link.now, &request).unwrap();
            let outcome = link.run(&respond);
            let got = &link.server_got[before..];
            prop_assert!(got.len() <= 1, "request delivered {} times", got.len());
            prop_assert!(got.iter().all(|r| *r == request), "server got a corrupted request");
            match outcome {
                Outcome::Delivered(response) => {
                    prop_assert_eq!(got.len(), 1);
                    prop_assert_eq!(response, respond(&request));
                }
                Outcome::Failed(FailReason::NoResponse { .. } | FailReason::NotAcknowledged { .. }) => {
                    prop_assert_eq!(link.client.state(), ClientState::Disconnected);
                    return Ok(());
                }
                other => prop_assert!(false, "exchange {}: {:?}", n, other),
            }
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic_either_side(
        chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..6)
    ) {
        let mut c = connected_client();
        c.send_apdu(T0, &[0xC0]).unwrap();
        let mut s = server();
        s.handle_bytes(T0, SNRM_GURUX);
        for chunk in &chunks {
            c.handle_bytes(T0, chunk);
            s.handle_bytes(T0, chunk);
        }
        drain_client(&mut c);
        drain_server(&mut s);
    }
}

#[test]
fn duplicated_frames_alone_never_cost_the_exchange() {
    // Every frame has a 30% chance of arriving twice; nothing is lost. A stale RR must not
    // trigger retransmissions that eat the retry budget: every exchange succeeds.
    for seed in 1..200u64 {
        let (c, s) = configs(40);
        let mut wire = Wire::clean();
        wire.rng = Rng(seed);
        wire.duplicate = 300;
        wire.echo = seed % 2 == 0;
        let mut link = Link::new(c, s, wire);
        link.client.connect(link.now).unwrap();
        assert!(matches!(link.run(&|_| vec![]), Outcome::Connected(_)));
        let respond = echo_response(500);
        let request: Vec<u8> = (0..300).map(|i| i as u8).collect();
        link.client.send_apdu(link.now, &request).unwrap();
        assert_eq!(
            link.run(&respond),
            Outcome::Delivered(respond(&request)),
            "seed {seed}"
        );
        assert_eq!(link.server_got, vec![request]);
        assert!(link.now < Duration::from_secs(1), "no timeout was needed");
    }
}
