//! The real `calin-agent run` binary as a child process: its JSON log lines on stderr
//! arrive on a channel, systemd notifications on a datagram socket; waits end on a
//! line or a message, or fail after `BOUND`.

use super::BOUND;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;
use tokio::net::UnixDatagram;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// One log line of the agent (its JSON log format).
pub type LogLine = serde_json::Value;

pub struct Agent {
    pub child: Child,
    lines: mpsc::UnboundedReceiver<LogLine>,
    /// Every line seen so far, for failure messages.
    pub seen: Vec<LogLine>,
}

/// Start `calin-agent --config CONFIG run` with extra environment.
pub fn spawn(config: &Path, env: &[(&str, String)]) -> Agent {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_calin-agent"));
    cmd.arg("--config")
        .arg(config)
        .arg("run")
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("JOURNAL_STREAM")
        .env("CALIN_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("calin-agent starts");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (tx, lines) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        use tokio::io::AsyncBufReadExt;
        let mut lines = tokio::io::BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let value =
                serde_json::from_str(&line).unwrap_or_else(|_| serde_json::json!({ "raw": line }));
            if tx.send(value).is_err() {
                break;
            }
        }
    });
    Agent {
        child,
        lines,
        seen: Vec::new(),
    }
}

/// The message of a log line.
pub fn message(l: &LogLine) -> &str {
    l["fields"]["message"]
        .as_str()
        .or(l["raw"].as_str())
        .unwrap_or("")
}

/// A field of a log line, as text.
pub fn field(l: &LogLine, name: &str) -> Option<String> {
    let v = &l["fields"][name];
    v.as_str()
        .map(str::to_owned)
        .or_else(|| (!v.is_null()).then(|| v.to_string()))
}

/// Whether a log line is an alert (the recorder logs one per committed alert).
pub fn is_alert(l: &LogLine) -> bool {
    l["target"].as_str() == Some("calin_agent::agent::daemon::recorder")
        && field(l, "id").is_some()
        && field(l, "kind").is_some()
}

impl Agent {
    pub fn pid(&self) -> i32 {
        i32::try_from(self.child.id().expect("still running")).unwrap()
    }

    /// Wait for the first log line `pick` accepts.
    pub async fn line<T>(&mut self, what: &str, mut pick: impl FnMut(&LogLine) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + BOUND;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(l)) => {
                    let found = pick(&l);
                    self.seen.push(l);
                    if let Some(t) = found {
                        return t;
                    }
                }
                Ok(None) => panic!("the agent ended while waiting for {what}: {:#?}", self.seen),
                Err(_) => panic!("timed out waiting for {what}: {:#?}", self.seen),
            }
        }
    }

    /// Wait for an alert of `kind` about `meter`; returns its id.
    pub async fn alert(&mut self, meter: &str, kind: &str) -> String {
        self.line(&format!("{kind} of {meter}"), |l| {
            (is_alert(l)
                && field(l, "meter").as_deref() == Some(meter)
                && field(l, "kind").as_deref() == Some(kind))
            .then(|| field(l, "id").unwrap_or_default())
        })
        .await
    }

    /// Ids of every alert logged so far (including lines read while waiting).
    pub fn logged_alert_ids(&self) -> Vec<String> {
        self.seen
            .iter()
            .filter(|l| is_alert(l))
            .filter_map(|l| field(l, "id"))
            .collect()
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(self.pid(), sig) };
        assert_eq!(rc, 0, "signal {sig} sent");
    }

    /// Wait for the process to end (bounded); returns its status and how long it took.
    pub async fn wait_exit(&mut self) -> (ExitStatus, Duration) {
        let started = tokio::time::Instant::now();
        let status = tokio::time::timeout(BOUND, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the agent did not exit: {:#?}", self.seen))
            .unwrap();
        let took = started.elapsed();
        // The stderr reader ends when the pipe closes: take every line it still has.
        while let Some(l) = self.lines.recv().await {
            self.seen.push(l);
        }
        (status, took)
    }

    /// SIGKILL and reap; then read what it logged before dying.
    pub async fn kill9(&mut self) {
        self.signal(libc::SIGKILL);
        let (status, _) = self.wait_exit().await;
        assert!(!status.success());
    }
}

/// A datagram socket standing in for systemd's notification socket.
pub struct NotifySocket {
    pub path: PathBuf,
    socket: UnixDatagram,
    /// Every message received so far.
    pub got: Vec<String>,
}

impl NotifySocket {
    pub fn bind(dir: &Path) -> NotifySocket {
        let path = dir.join("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        NotifySocket {
            path,
            socket,
            got: Vec::new(),
        }
    }

    /// Wait for a message that starts with `prefix`.
    pub async fn expect(&mut self, prefix: &str) -> String {
        let deadline = tokio::time::Instant::now() + BOUND;
        let mut buf = vec![0u8; 4096];
        loop {
            let n = tokio::time::timeout_at(deadline, self.socket.recv(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("no {prefix} among {:?}", self.got))
                .unwrap();
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.got.push(msg.clone());
            if msg.starts_with(prefix) {
                return msg;
            }
        }
    }
}
