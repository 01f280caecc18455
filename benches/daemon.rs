//! Daemon benchmark: resident memory and CPU time of the real `calin-agent run`
//! polling simulated meters on several buses for a fixed number of cycles.
//!
//! The simulator runs in this process (its CPU is not counted); the agent is a child
//! process measured through /proc: CPU time (utime + stime, which leaves out time on
//! the wire and in fsync), peak RSS (VmHWM), and CPU while idle between cycles. The
//! agent's `STATUS=` notifications (paced by a short `WATCHDOG_USEC`) say how many
//! polls are done.
//!
//! Run: `cargo bench --bench daemon` (release build). Knobs (environment):
//! `CALIN_BENCH_METERS` (1000), `CALIN_BENCH_BUSES` (4), `CALIN_BENCH_CYCLES` (3),
//! `CALIN_BENCH_INTERVAL_S` (20), `CALIN_BENCH_IDLE_S` (5).

use calin_agent::sim::{Framing, Scenario, SimOptions, Simulator};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::net::UnixDatagram;

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn scenario(n: usize) -> Scenario {
    let mut text = String::from("start = \"2024-05-01T08:00:00Z\"\n");
    for k in 0..n {
        text.push_str(&format!(
            r#"
[[meter]]
physical = {}
serial = "B{k:06}"
status = 1000
relay = "connected"
inactivity_timeout = 0
[meter.codes]
01 = {{ value = {}, scaler = 0, unit = "Wh" }}
14 = 5000
31 = {{ value = 640, scaler = 0, unit = "W" }}
35 = {{ value = 970, scaler = -3 }}
40 = 1
46 = 2
52 = 3
58 = 0
87 = 0
[[meter.events]]
log = "0.0.99.98.0.255"
entries = [
  {{ time = "2024-02-11T02:14:00Z", code = 1 }},
  {{ time = "2024-03-30T17:45:12Z", code = 1 }},
  {{ time = "2024-04-22T09:03:40Z", code = 1 }},
]
[[meter.events]]
log = "0.0.99.98.1.255"
entries = [{{ time = "2024-04-02T19:31:05Z", code = 44 }}]
"#,
            17 + k,
            100_000 + k
        ));
    }
    Scenario::parse("<bench>", &text).expect("bench scenario")
}

fn config(
    state: &Path,
    addr: std::net::SocketAddr,
    meters: usize,
    buses: usize,
    every: u64,
) -> String {
    let mut t = format!(
        "[agent]\nstate_dir = \"{}\"\nlog_format = \"text\"\n\n[metrics]\nlisten = \"127.0.0.1:0\"\n\n[poll]\nstatus = \"{every}s\"\nenergy = \"{every}s\"\ncounters = \"{every}s\"\njitter = 0.0\n",
        state.display()
    );
    for b in 0..buses {
        t.push_str(&format!(
            "\n[[bus]]\nname = \"bus-{b}\"\ntcp = \"{addr}\"\nresponse_timeout = \"1s\"\ninter_char_timeout = \"50ms\"\nretries = 2\n"
        ));
        for k in (b..meters).step_by(buses) {
            t.push_str(&format!(
                "[[bus.meter]]\nserial = \"B{k:06}\"\nphysical_address = {}\n",
                17 + k
            ));
        }
    }
    t
}

/// utime + stime of a process, and its peak and current RSS in KiB.
fn usage(pid: u32) -> (Duration, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    // SAFETY: sysconf has no preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap();
    let cpu = Duration::from_micros(ticks * 1_000_000 / hz);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (cpu, kib("VmHWM:"), kib("VmRSS:"))
}

/// Polls done, from the agent's `STATUS=` lines, read as they come (a reader that
/// stops reading would make the agent drop its notifications).
struct Progress {
    rx: tokio::sync::watch::Receiver<(u64, u64)>,
}

impl Progress {
    fn start(socket: UnixDatagram) -> Progress {
        let (tx, rx) = tokio::sync::watch::channel((0, 0));
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok(n) = socket.recv(&mut buf).await {
                let msg = String::from_utf8_lossy(&buf[..n]);
                if let Some(s) = msg.strip_prefix("STATUS=") {
                    // "1000 meters; 3000 polls, 2 failed; 0 alerts"
                    let num = |word: &str| {
                        s.split([';', ','])
                            .find(|p| p.trim().ends_with(word))
                            .and_then(|p| p.split_whitespace().next())
                            .and_then(|n| n.parse::<u64>().ok())
                    };
                    if let (Some(p), Some(f)) = (num("polls"), num("failed")) {
                        tx.send_replace((p, f));
                    }
                }
            }
        });
        Progress { rx }
    }

    fn polls(&self) -> u64 {
        self.rx.borrow().0
    }

    fn failed(&self) -> u64 {
        self.rx.borrow().1
    }

    async fn until(&mut self, polls: u64) {
        tokio::time::timeout(
            Duration::from_secs(900),
            self.rx.wait_for(|(p, _)| *p >= polls),
        )
        .await
        .expect("the agent reports progress")
        .expect("the reader runs");
    }
}

fn main() {
    let meters = knob("CALIN_BENCH_METERS", 1000) as usize;
    let buses = knob("CALIN_BENCH_BUSES", 4) as usize;
    let cycles = knob("CALIN_BENCH_CYCLES", 3).max(2);
    let every = knob("CALIN_BENCH_INTERVAL_S", 20);
    let idle_s = knob("CALIN_BENCH_IDLE_S", 5);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let sim = Simulator::new(scenario(meters), SimOptions::default()).unwrap();
        let (addr, _serving) = sim
            .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc)
            .await
            .unwrap();
        let path = dir.path().join("agent.toml");
        std::fs::write(&path, config(&dir.path().join("state"), addr, meters, buses, every)).unwrap();
        let notify = dir.path().join("notify.sock");
        let socket = UnixDatagram::bind(&notify).unwrap();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_calin-agent"))
            .arg("--config")
            .arg(&path)
            .arg("run")
            .env("NOTIFY_SOCKET", &notify)
            // STATUS= comes with each watchdog tick: every second here (30 s under
            // the shipped unit), so idle bus loops wake as they do in the field.
            .env("WATCHDOG_USEC", "2000000")
            .env("CALIN_LOG", std::env::var("CALIN_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        let mut p = Progress::start(socket);
        let m = meters as u64;
        let started = Instant::now();
        p.until(m).await;
        let first_cycle = started.elapsed();
        let (cpu1, _, _) = usage(pid);
        // Idle: every meter polled, none due for a while.
        let polls_before = p.polls();
        let (idle_a, _, _) = usage(pid);
        tokio::time::sleep(Duration::from_secs(idle_s)).await;
        let (idle_b, _, _) = usage(pid);
        let idle_clean = p.polls() == polls_before;
        let t1 = Instant::now();
        p.until(m * cycles).await;
        let rest = t1.elapsed();
        let (cpu_end, hwm, rss) = usage(pid);
        // SAFETY: kill(2) on our own child.
        unsafe { libc::kill(i32::try_from(pid).unwrap(), libc::SIGTERM) };
        let status = child.wait().await.unwrap();
        let polls = m * (cycles - 1);
        let per_poll = (cpu_end - cpu1).as_secs_f64() * 1000.0 / polls as f64;
        println!("daemon benchmark: {meters} meters on {buses} buses (loopback TCP, unpaced), all groups every {every}s, {cycles} cycles");
        println!("  first cycle (start, {m} polls)    {:.1} s wall, {:.0} ms CPU", first_cycle.as_secs_f64(), cpu1.as_secs_f64() * 1000.0);
        println!("  CPU per poll (cycles 2..{cycles})       {per_poll:.3} ms  ({polls} polls, {:.0} ms CPU, {:.1} s wall)", (cpu_end - cpu1).as_secs_f64() * 1000.0, rest.as_secs_f64());
        println!("  idle CPU ({idle_s} s, no poll due)     {:.2} %{}", (idle_b - idle_a).as_secs_f64() * 100.0 / idle_s as f64, if idle_clean { "" } else { "  (polls happened in the window)" });
        println!("  RSS peak / at end               {:.1} MiB / {:.1} MiB", hwm as f64 / 1024.0, rss as f64 / 1024.0);
        println!("  failed polls                    {}", p.failed());
        println!("  exit                            {status}");
    });
}
