//! One poll at 9600 Bd: our client reads every item of the built-in Calin profile from
//! calin-sim (SNRM/UA, AARQ/AARE, objects, event logs, RLRQ/RLRE, DISC) over loopback
//! TCP, with the bytes counted both ways by a `TraceTap` on the client's link.
//!
//! Reported: wall time ÷ pure wire time of the bytes exchanged (bytes × 10 / 9600 s; 1.0
//! would mean no time spent anywhere but on the line; the goal is at most 1.05), and the
//! bytes per poll with GET-with-list against one GET per object (`max_list_len = 1`).
//!
//! Two ways to put the line's speed in, both measured:
//! - `sim-paced`: the simulator paces its answers itself (`SimOptions { baud: Some(9600) }`,
//!   a `PacedLink` handing over one byte per timer wake-up); the client writes at once,
//!   as into a UART driver's buffer.
//! - `line`: the simulator answers at once and a line emulator between the two sockets
//!   delivers every byte in both directions when its stop bit would arrive on a
//!   9600 Bd 8N1 line (a schedule kept in absolute time, served by a thread with
//!   sub-millisecond sleeps, so late wake-ups never accumulate).
//!
//! `cargo bench --bench poll` runs `CALIN_BENCH_POLLS` polls per case (default 3) and
//! prints the medians. Without `--bench` (as `cargo test --benches` runs it) it does one
//! unpaced poll per list mode, as a smoke test of the harness. `CALIN_BENCH_TRACE=1`
//! prints every chunk with its time.

use std::io::{Read, Write};
use std::net::{TcpListener as StdListener, TcpStream as StdStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use calin_agent::meter::read::{read_profile, Selection};
use calin_agent::meter::{Session, SessionConfig};
use calin_agent::profile::Profile;
use calin_agent::protocol::hdlc::HdlcAddress;
use calin_agent::sim::{Framing, Scenario, SimOptions, Simulator};
use calin_agent::transport::{BoxLink, Direction, LineSettings, TcpLink, TraceTap};

const BAUD: u32 = 9600;

/// How the line's speed is put in (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pacing {
    /// No pacing: the harness smoke test.
    None,
    /// `SimOptions { baud: Some(BAUD) }`.
    Sim,
    /// The line emulator between the sockets.
    Line,
}

/// What one poll cost.
#[derive(Debug, Clone, Copy)]
struct Poll {
    wall: Duration,
    sent: u64,
    received: u64,
    items: usize,
    failed: usize,
}

impl Poll {
    fn bytes(&self) -> u64 {
        self.sent + self.received
    }

    /// Pure wire time: every byte as one 10-bit character (8N1) at `BAUD`.
    fn wire(&self) -> Duration {
        LineSettings::new_8n1(BAUD).wire_time(self.bytes())
    }

    fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / self.wire().as_secs_f64()
    }
}

/// One direction of the emulated line: each byte read from `from` is written to `to`
/// when its stop bit would arrive, (k+1) character times after its burst started (a
/// burst starts when its first byte comes in, or when the line is free again).
fn line_direction(mut from: StdStream, to: StdStream) {
    let char_time = LineSettings::new_8n1(BAUD).char_time();
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    // Delivery: sleep until the byte is due (std sleeps are precise to well under a
    // millisecond), then write every byte due by then.
    let deliver = std::thread::spawn(move || {
        let mut to = to;
        let mut pending: std::collections::VecDeque<(Instant, u8)> = Default::default();
        loop {
            if pending.is_empty() {
                match rx.recv() {
                    Ok((free_at, bytes)) => schedule(&mut pending, free_at, &bytes, char_time),
                    Err(_) => return,
                }
            }
            while let Ok((free_at, bytes)) = rx.try_recv() {
                schedule(&mut pending, free_at, &bytes, char_time);
            }
            let Some(&(due, _)) = pending.front() else {
                continue;
            };
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
                continue;
            }
            let mut out = Vec::new();
            while let Some(&(t, b)) = pending.front() {
                if t > now {
                    break;
                }
                out.push(b);
                pending.pop_front();
            }
            if to.write_all(&out).is_err() {
                return;
            }
        }
    });
    let mut free_at = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let start = free_at.max(Instant::now());
                free_at = start + char_time * n as u32;
                if tx.send((start, buf[..n].to_vec())).is_err() {
                    break;
                }
            }
        }
    }
    drop(tx);
    let _ = deliver.join();
}

/// Byte k of a burst starting at `start` is due at `start + (k + 1) × char`.
fn schedule(
    pending: &mut std::collections::VecDeque<(Instant, u8)>,
    start: Instant,
    bytes: &[u8],
    char_time: Duration,
) {
    for (k, b) in bytes.iter().enumerate() {
        pending.push_back((start + char_time * (k as u32 + 1), *b));
    }
}

/// Listen on loopback; the first connection is joined to `backend` through the line.
fn line_emulator(backend: std::net::SocketAddr) -> std::net::SocketAddr {
    let listener = StdListener::bind("127.0.0.1:0").expect("listen");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let (client, _) = listener.accept().expect("accept");
        let meter = StdStream::connect(backend).expect("connect to the simulator");
        for s in [&client, &meter] {
            s.set_nodelay(true).unwrap();
        }
        let (c2, m2) = (client.try_clone().unwrap(), meter.try_clone().unwrap());
        let up = std::thread::spawn(move || line_direction(client, meter));
        line_direction(m2, c2);
        let _ = up.join();
    });
    addr
}

/// One association reading everything, from TCP connect to DISC.
async fn poll(pacing: Pacing, max_list_len: usize) -> Poll {
    let options = SimOptions {
        baud: (pacing == Pacing::Sim).then_some(BAUD),
        ..SimOptions::default()
    };
    let sim = Simulator::new(Scenario::builtin(), options).expect("built-in scenario");
    let (mut addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc)
        .await
        .expect("listen on loopback");
    if pacing == Pacing::Line {
        addr = line_emulator(addr);
    }
    let sent = Arc::new(AtomicU64::new(0));
    let received = Arc::new(AtomicU64::new(0));
    let (s, r) = (sent.clone(), received.clone());

    let start = Instant::now();
    let tcp = TcpLink::connect(&addr.to_string(), Duration::from_secs(5))
        .await
        .expect("connect");
    let trace = std::env::var_os("CALIN_BENCH_TRACE").is_some();
    let tap = TraceTap::new(tcp, move |e| {
        if trace {
            let at = e.at.into_std().saturating_duration_since(start);
            eprintln!("{:>9.3} ms {e}", at.as_secs_f64() * 1e3);
        }
        let n = e.bytes.len() as u64;
        match e.direction {
            Direction::Sent => s.fetch_add(n, Ordering::Relaxed),
            Direction::Received => r.fetch_add(n, Ordering::Relaxed),
        };
    });
    let link: BoxLink = Box::new(tap);
    let mut config = SessionConfig::new(0x10, HdlcAddress::server(1, Some(17)).unwrap());
    config.max_list_len = max_list_len;
    let mut session = Session::open(link, config).await.expect("associate");
    let report = read_profile(
        &mut session,
        &Profile::calin(),
        &Selection::All,
        &mut |_| {},
    )
    .await;
    session.release().await.expect("release");
    let wall = start.elapsed();
    sim.handle().shutdown();
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    Poll {
        wall,
        sent: sent.load(Ordering::Relaxed),
        received: received.load(Ordering::Relaxed),
        items: report.items.len(),
        failed: report.items.iter().filter(|i| i.is_err()).count(),
    }
}

fn median(mut v: Vec<Poll>) -> Poll {
    v.sort_by(|a, b| a.ratio().total_cmp(&b.ratio()));
    v[v.len() / 2]
}

fn show(label: &str, p: &Poll, pacing: Pacing) {
    print!(
        "poll {label}: {} items ({} failed), {} B sent + {} B received = {} B, wall {:.3} s",
        p.items,
        p.failed,
        p.sent,
        p.received,
        p.bytes(),
        p.wall.as_secs_f64()
    );
    if pacing == Pacing::None {
        println!(" (unpaced)");
    } else {
        println!(
            ", wire {:.3} s, wall/wire {:.3}",
            p.wire().as_secs_f64(),
            p.ratio()
        );
    }
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let polls: usize = std::env::var("CALIN_BENCH_POLLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cases: &[(Pacing, &str)] = if bench {
        &[(Pacing::Line, "line"), (Pacing::Sim, "sim-paced")]
    } else {
        &[(Pacing::None, "unpaced")]
    };
    let runs = if bench { polls } else { 1 };
    let mut bytes = Vec::new();
    for &(pacing, name) in cases {
        let mut ratios = Vec::new();
        for (list, max_list_len) in [("with-list", 10), ("single-gets", 1)] {
            let p = median(
                (0..runs)
                    .map(|_| runtime.block_on(poll(pacing, max_list_len)))
                    .collect(),
            );
            show(&format!("{name} {list}"), &p, pacing);
            ratios.push(p.ratio());
            bytes.push(p.bytes());
        }
        if pacing != Pacing::None {
            println!(
                "summary {name}: wall/wire at {BAUD} Bd (median of {runs}): with-list {:.3}, single GETs {:.3} (goal <= 1.05)",
                ratios[0], ratios[1]
            );
        }
    }
    println!(
        "summary bytes per poll: with-list {} B, single GETs {} B, single/list {:.3}",
        bytes[0],
        bytes[1],
        bytes[1] as f64 / bytes[0] as f64
    );
}
