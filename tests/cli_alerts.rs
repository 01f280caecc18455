//! `calin-agent alerts` lists what the daemon's store holds.

use calin_agent::agent::{
    AlertEngine, AlertPolicy, MeterId, MeterReading, PollOutcome, Store, StoreConfig,
};
use calin_agent::codes::{Lookup, Mode, OperatingStatus};
use std::process::Command;

#[test]
fn lists_alerts_from_the_store_by_meter() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    {
        let mut store = Store::open(StoreConfig::in_dir(&state)).unwrap();
        let now = 1_790_000_000_000;
        for (serial, status) in [("CAL-A", 1015), ("CAL-B", 1008)] {
            let mut r = MeterReading::new(MeterId::new(serial), now, Mode::Postpaid);
            r.status = Some(OperatingStatus(status));
            let outcome = PollOutcome::Read(r);
            let ev = engine.evaluate(None, &outcome, now);
            assert!(!ev.alerts.is_empty());
            store.record(&outcome, &ev, now).unwrap();
        }
    }
    let cfg = dir.path().join("agent.toml");
    std::fs::write(
        &cfg,
        format!("[agent]\nstate_dir = \"{}\"\n", state.display()),
    )
    .unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_calin-agent"))
            .arg("--config")
            .arg(&cfg)
            .args(args)
            .output()
            .unwrap()
    };
    let o = run(&["alerts"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("CAL-A") && text.contains("CAL-B"), "{text}");
    assert!(
        text.contains("critical"),
        "1015 is a critical tamper: {text}"
    );

    let o = run(&["alerts", "--meter", "CAL-B", "--json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!lines.is_empty());
    assert!(lines.iter().all(|a| a["meter"] == "CAL-B"));
    assert!(lines.iter().any(|a| a["code"] == 1008));

    let o = run(&["alerts", "--since", "nonsense"]);
    assert_eq!(o.status.code(), Some(64));

    std::fs::write(&cfg, "[agent]\nstate_dir = \"/nonexistent/calin\"\n").unwrap();
    let o = run(&["alerts"]);
    assert_eq!(o.status.code(), Some(69));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/calin"));
}

/// Beside a running daemon (its store open, an append to the alert file pending), the
/// listing reads the committed alerts and writes nothing: the daemon stays the only
/// writer of the database and of alerts.jsonl.
#[test]
fn listing_beside_a_running_daemon_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    let mut store = Store::open(StoreConfig::in_dir(&state)).unwrap();
    let now = 1_790_000_000_000;
    let mut r = MeterReading::new(MeterId::new("CAL-C"), now, Mode::Postpaid);
    r.status = Some(OperatingStatus(1005));
    let outcome = PollOutcome::Read(r);
    let ev = engine.evaluate(None, &outcome, now);
    store.record(&outcome, &ev, now).unwrap();
    // The daemon's append is "pending": the file is emptied and the cursor set back, as
    // between the daemon's commit and its append. A writer opening the store now would
    // append the alert itself (and the daemon then again).
    let file = state.join("alerts.jsonl");
    std::fs::write(&file, b"").unwrap();
    rusqlite::Connection::open(state.join("state.db"))
        .unwrap()
        .execute("UPDATE alert_file_cursor SET seq = 0", [])
        .unwrap();
    let db_before = std::fs::read(state.join("state.db-wal")).unwrap_or_default();
    let cfg = dir.path().join("agent.toml");
    std::fs::write(
        &cfg,
        format!("[agent]\nstate_dir = \"{}\"\n", state.display()),
    )
    .unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("--config")
        .arg(&cfg)
        .args(["alerts", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("CAL-C") && text.contains("1005"), "{text}");
    assert!(
        std::fs::read(&file).unwrap().is_empty(),
        "alerts.jsonl untouched: the daemon appends the pending alert, not the listing"
    );
    assert_eq!(
        std::fs::read(state.join("state.db-wal")).unwrap_or_default(),
        db_before,
        "the database untouched"
    );
    drop(store);
}
