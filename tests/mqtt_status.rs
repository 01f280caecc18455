//! `calin-agent status` summarises the store and, when the daemon answers, its
//! metrics endpoint: meters, last successful poll, active alerts by category, the
//! outbox and the broker link.

mod mqtt_support;

use calin_agent::agent::metrics::{self, BrokerState, Metrics};
use calin_agent::agent::publish::Doorbell;
use mqtt_support::*;
use std::process::{Command, Output};
use tokio::sync::watch;

fn run(cfg: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("--config")
        .arg(cfg)
        .arg("status")
        .args(args)
        .output()
        .expect("run calin-agent status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn summarises_store_and_daemon_metrics() {
    let dir = state_dir();
    let state = dir.path().join("state");
    let settings = calin_agent::config::MqttSettings::new("127.0.0.1", 1883, "gw-s");
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    {
        let mut store = store_with_outbox(&state, &settings, &doorbell, &metrics);
        // CAL1 ends on status 1005 (an active condition), CAL2 on 1000 (none).
        record(&mut store, "CAL1", 0..2);
        record(&mut store, "CAL2", 0..3);
    }
    // The daemon's metrics endpoint, as the daemon would serve it.
    let (stop, shutdown) = watch::channel(false);
    let server = metrics::serve("127.0.0.1:0".parse().unwrap(), metrics.clone(), shutdown)
        .await
        .unwrap();
    metrics.set_broker_state(BrokerState::Connected);
    let cfg = dir.path().join("agent.toml");
    std::fs::write(
        &cfg,
        format!(
            "[site]\nname = \"Kabwe North\"\n[agent]\nstate_dir = \"{}\"\n[mqtt]\nbroker = \"127.0.0.1\"\ngateway = \"gw-s\"\n[metrics]\nlisten = \"{}\"\n\
             [[bus]]\nname = \"b\"\ntcp = \"127.0.0.1:1\"\nprotocol = \"wrapper\"\n[[bus.meter]]\nserial = \"CAL3\"\n",
            state.display(),
            server.local_addr
        ),
    )
    .unwrap();

    let out = run(&cfg, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for want in [
        "calin-agent status: Kabwe North",
        "daemon:  running",
        "broker:  connected: 127.0.0.1:1883 as gateway `gw-s`",
        "outbox:  10 message(s) waiting",
        "0 reading(s) ever dropped",
        "alerts:  active by category: tamper 1",
        "meters:  3",
        "CAL3         never polled",
    ] {
        assert!(text.contains(want), "missing `{want}` in\n{text}");
    }
    let cal1 = text
        .lines()
        .find(|l| l.trim_start().starts_with("CAL1"))
        .unwrap();
    assert!(
        cal1.contains("last read 2023-11-14T22:14:20.000Z"),
        "{cal1}"
    );
    assert!(cal1.contains("status 1005"), "{cal1}");

    let json = run(&cfg, &["--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("one JSON object");
    assert_eq!(v["outbox_depth"], 10);
    assert_eq!(v["broker"], "connected");
    assert_eq!(v["active_alerts"]["tamper"], 1);
    assert_eq!(v["meters"].as_array().unwrap().len(), 3);

    // The daemon gone: the store still answers, the broker state is unknown.
    stop.send_replace(true);
    server.task.await.unwrap();
    let out = run(&cfg, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("daemon:  not answering at"), "{text}");
    assert!(
        text.contains("broker:  unknown (the daemon is not answering)"),
        "{text}"
    );
}

#[test]
fn no_state_yet_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("agent.toml");
    std::fs::write(
        &cfg,
        format!(
            "[agent]\nstate_dir = \"{}\"\n",
            dir.path().join("none").display()
        ),
    )
    .unwrap();
    let out = run(&cfg, &[]);
    assert_eq!(out.status.code(), Some(69));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has not run here yet"));
}
