//! Shared pieces of the daemon's end-to-end tests: simulated meters (the in-process
//! `calin_agent::sim`), agent configs written to a temporary directory, the daemon
//! started in-process with its event channel, and waits that end on an event or fail
//! after a bound (never a sleep standing in for synchronisation).

#![allow(dead_code)]

use calin_agent::agent::daemon::{run_with, Control, DaemonEvent, Notifier, RunOptions};
use calin_agent::agent::{Alert, AlertKind, MeterId, Store, StoreConfig};
use calin_agent::config::Config;
use calin_agent::sim::{Scenario, SimOptions, Simulator};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

/// The longest any single wait in these tests may take before it counts as a failure.
pub const BOUND: Duration = Duration::from_secs(30);

/// Serial of test meter `i`.
pub fn serial(i: usize) -> String {
    format!("DT{i:06}")
}

/// A scenario of `n` healthy meters, physical addresses from `first_physical`, serials
/// `serial(first_index ..)`.
pub fn scenario(n: usize, first_index: usize, first_physical: u16) -> Scenario {
    let mut text = String::from("start = \"2024-05-01T08:00:00Z\"\n");
    for k in 0..n {
        text.push_str(&format!(
            r#"
[[meter]]
physical = {}
serial = "{}"
status = 1000
relay = "connected"
[meter.codes]
01 = {{ value = {}, scaler = 0, unit = "Wh" }}
14 = 5000
31 = {{ value = 640, scaler = 0, unit = "W" }}
35 = {{ value = 970, scaler = -3 }}
40 = 0
46 = 0
52 = 0
58 = 0
87 = 0
"#,
            first_physical + k as u16,
            serial(first_index + k),
            1000 + k
        ));
    }
    Scenario::parse("<test scenario>", &text).expect("test scenario parses")
}

/// A simulator of `scenario` (no pacing: the wire takes no time).
pub fn simulator(scenario: Scenario) -> Simulator {
    Simulator::new(scenario, SimOptions::default()).expect("simulator starts")
}

/// Serve `sim`'s meters over HDLC on a loopback TCP port (until `sim` is dropped:
/// dropping the serving task's handle detaches it).
pub async fn hdlc_over_tcp(sim: &Simulator) -> std::net::SocketAddr {
    let (addr, _serving) = sim
        .serve_tcp(
            "127.0.0.1:0".parse().unwrap(),
            calin_agent::sim::Framing::Hdlc,
        )
        .await
        .unwrap();
    addr
}

/// One bus of a test config.
pub struct TestBus {
    pub name: String,
    /// `port = "..."` or `tcp = "..."`.
    pub endpoint: String,
    /// (serial, physical address)
    pub meters: Vec<(String, u16)>,
}

impl TestBus {
    pub fn tcp(name: &str, addr: std::net::SocketAddr, meters: Vec<(String, u16)>) -> Self {
        TestBus {
            name: name.into(),
            endpoint: format!("tcp = \"{addr}\""),
            meters,
        }
    }

    pub fn serial(name: &str, port: &Path, meters: Vec<(String, u16)>) -> Self {
        TestBus {
            name: name.into(),
            endpoint: format!("port = \"{}\"", port.display()),
            meters,
        }
    }
}

/// `n` meters as (serial, physical), matching `scenario(n, first_index, first_physical)`.
pub fn meters(n: usize, first_index: usize, first_physical: u16) -> Vec<(String, u16)> {
    (0..n)
        .map(|k| (serial(first_index + k), first_physical + k as u16))
        .collect()
}

/// Config text: fast polls, short timeouts, unreachable after 2, reminders every 1 s.
pub fn config_text(state_dir: &Path, buses: &[TestBus], extra_agent: &str) -> String {
    let mut t = format!(
        r#"[agent]
state_dir = "{}"
log_format = "text"
reminder_interval = "1s"
unreachable_after = 2
{extra_agent}

[metrics]
listen = "127.0.0.1:0"

[poll]
status = "200ms"
energy = "200ms"
counters = "200ms"
jitter = 0.0
"#,
        state_dir.display()
    );
    for b in buses {
        t.push_str(&format!(
            "\n[[bus]]\nname = \"{}\"\n{}\nresponse_timeout = \"300ms\"\ninter_char_timeout = \"50ms\"\nretries = 1\n",
            b.name, b.endpoint
        ));
        for (serial, physical) in &b.meters {
            t.push_str(&format!(
                "[[bus.meter]]\nserial = \"{serial}\"\nphysical_address = {physical}\n"
            ));
        }
    }
    t
}

/// Write `text` as `dir/agent.toml` and load it.
pub fn write_config(dir: &Path, text: &str) -> (PathBuf, Config) {
    let path = dir.join("agent.toml");
    std::fs::write(&path, text).unwrap();
    let config = Config::load(&path).unwrap_or_else(|e| panic!("{e}\n{text}"));
    (path, config)
}

/// A daemon running in this process.
pub struct Running {
    pub events: broadcast::Receiver<DaemonEvent>,
    pub reload: mpsc::UnboundedSender<()>,
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), calin_agent::agent::daemon::DaemonError>>,
}

/// Start `config` in-process with its event channel.
pub fn start(config: Config) -> Running {
    let (events_tx, events) = broadcast::channel(100_000);
    let (stop, stop_rx) = watch::channel(false);
    let (reload, reload_rx) = mpsc::unbounded_channel();
    let mut options = RunOptions::new(Notifier::disabled());
    options.watchdog = None;
    options.events = Some(events_tx);
    let control = Control {
        shutdown: stop_rx,
        reload: Some(reload_rx),
    };
    let task = tokio::spawn(run_with(config, control, options));
    Running {
        events,
        reload,
        stop,
        task,
    }
}

impl Running {
    /// Ask it to stop and wait until it has; returns how long that took.
    pub async fn stop(self) -> Duration {
        let started = tokio::time::Instant::now();
        self.stop.send_replace(true);
        tokio::time::timeout(BOUND, self.task)
            .await
            .expect("the daemon stops within the bound")
            .expect("the daemon task does not panic")
            .expect("the daemon ends without error");
        started.elapsed()
    }

    /// Wait for the first event `pick` accepts.
    pub async fn wait_for<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&DaemonEvent) -> Option<T>,
    ) -> T {
        let rx = &mut self.events;
        let found = tokio::time::timeout(BOUND, async {
            loop {
                match rx.recv().await {
                    Ok(e) => {
                        if let Some(t) = pick(&e) {
                            return t;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        panic!("the test fell {n} events behind")
                    }
                    Err(broadcast::error::RecvError::Closed) => panic!("the daemon is gone"),
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    }

    /// The address `/metrics` is served at (the first event of a run).
    pub async fn metrics_addr(&mut self) -> std::net::SocketAddr {
        self.wait_for("the metrics server", |e| match e {
            DaemonEvent::MetricsServing { addr } => Some(*addr),
            _ => None,
        })
        .await
    }

    /// Wait for an alert of `kind` about `meter` that `also` accepts.
    pub async fn wait_alert(
        &mut self,
        meter: &str,
        kind: AlertKind,
        also: impl Fn(&Alert) -> bool,
    ) -> Alert {
        let m = MeterId::new(meter);
        self.wait_for(&format!("{kind} of {meter}"), |e| match e {
            DaemonEvent::Recorded { alerts, .. } => alerts
                .iter()
                .find(|a| a.meter == m && a.kind == kind && also(a))
                .cloned(),
            _ => None,
        })
        .await
    }

    /// Wait until `n` more polls of `meter` are recorded; returns their alerts.
    pub async fn recorded_polls(&mut self, meter: &str, n: usize) -> Vec<Alert> {
        let m = MeterId::new(meter);
        let mut seen = 0;
        let mut alerts = Vec::new();
        self.wait_for(&format!("{n} recorded polls of {meter}"), |e| match e {
            DaemonEvent::Recorded { meter, alerts: a } if *meter == m => {
                alerts.extend(a.iter().cloned());
                seen += 1;
                (seen >= n).then_some(())
            }
            _ => None,
        })
        .await;
        alerts
    }

    /// Wait until `n` more polls of `meter` end as `ok` says.
    pub async fn polls(&mut self, meter: &str, ok: bool, n: usize) {
        let m = MeterId::new(meter);
        let mut seen = 0;
        self.wait_for(&format!("{n} polls of {meter} ok={ok}"), |e| match e {
            DaemonEvent::Polled { meter, ok: o, .. } if *meter == m && *o == ok => {
                seen += 1;
                (seen >= n).then_some(())
            }
            _ => None,
        })
        .await;
    }
}

/// `GET /metrics` from the daemon's metrics server.
pub async fn scrape(addr: std::net::SocketAddr) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut body = String::new();
    tokio::time::timeout(BOUND, s.read_to_string(&mut body))
        .await
        .expect("the metrics server answers")
        .unwrap();
    body
}

/// Every alert in the store, oldest first.
pub fn stored_alerts(state_dir: &Path) -> Vec<Alert> {
    stored_alerts_with(StoreConfig::in_dir(state_dir))
}

/// Every alert in the store opened with `config`, oldest first.
pub fn stored_alerts_with(config: StoreConfig) -> Vec<Alert> {
    let store = Store::open(config).expect("the store opens");
    store.alerts(0, None, 100_000).expect("alerts read")
}

/// Ids of the alerts in the state directory's JSON-lines file, in file order.
pub fn file_alert_ids(state_dir: &Path) -> Vec<String> {
    file_alert_ids_at(&state_dir.join("alerts.jsonl"))
}

/// Ids of the alerts in the JSON-lines file `path`, in file order.
pub fn file_alert_ids_at(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON line");
            v["id"].as_str().expect("an id").to_owned()
        })
        .collect()
}

/// The store and the file hold the same alerts, each exactly once.
pub fn assert_store_and_file_agree(state_dir: &Path) -> Vec<Alert> {
    assert_store_and_file_agree_with(StoreConfig::in_dir(state_dir))
}

/// As `assert_store_and_file_agree`, for the store and alert file of `config`.
pub fn assert_store_and_file_agree_with(config: StoreConfig) -> Vec<Alert> {
    let file_path = config.alert_file_path();
    let alerts = stored_alerts_with(config);
    let ids: Vec<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate alert ids in the store");
    let file = file_alert_ids_at(&file_path);
    let file_unique: HashSet<&str> = file.iter().map(String::as_str).collect();
    assert_eq!(
        file_unique.len(),
        file.len(),
        "duplicate alert ids in the file"
    );
    assert_eq!(file_unique, unique, "the file and the store differ");
    alerts
}

/// How many alerts of `kind` about `meter`.
pub fn count(alerts: &[Alert], meter: &str, kind: AlertKind) -> usize {
    alerts
        .iter()
        .filter(|a| a.meter.as_str() == meter && a.kind == kind)
        .count()
}
pub mod process;
