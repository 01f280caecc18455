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
