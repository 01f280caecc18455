//! Client and server together over a wire that drops, corrupts, duplicates and echoes
//! frames, driven by a virtual clock.

use super::*;
use proptest::prelude::*;

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
