//! The daemon wired to MQTT: an alert it raises while polling a simulated meter
//! reaches a real broker (Mosquitto on 127.0.0.1) with the id the store gave it, and a
//! clean stop leaves the gateway `offline`.

mod daemon_support;
#[path = "mqtt_support/mod.rs"]
mod mqtt_support;

use calin_agent::agent::AlertKind;
use daemon_support::*;
use mqtt_support::{Broker, Subscriber};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_raised_while_polling_are_published() {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.port, "daemon-test", "test/#").await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(1, 0, 17));
    let addr = hdlc_over_tcp(&sim).await;
    let mqtt = format!(
        "[mqtt]\nbroker = \"127.0.0.1:{}\"\ngateway = \"gw-1\"\ntopic_prefix = \"test\"\nreconnect_min = \"50ms\"\nreconnect_max = \"400ms\"\n\n[poll]",
        broker.port
    );
    let text = config_text(&state, &[TestBus::tcp("tcp-1", addr, meters(1, 0, 17))], "")
        .replace("[poll]", &mqtt);
    let (_, config) = write_config(dir.path(), &text);
    let mut d = start(config);
    let m = serial(0);
    sub.until(|r| r.topic == "test/gw-1/online" && r.text() == "online")
        .await;

    sim.handle().set_status(0, 1015).unwrap();
    let alert = d
        .wait_alert(&m, AlertKind::StatusChanged, |a| a.code == Some(1015))
        .await;
    let topic = format!("test/gw-1/{m}/alert");
    let got = sub
        .until(|r| r.topic == topic && r.text().contains(alert.id.as_str()))
        .await;
    let published = got.last().unwrap().json();
    assert!(published.to_string().contains("1015"), "{published}");

    d.stop().await;
    sub.until(|r| r.topic == "test/gw-1/online" && r.text() == "offline")
        .await;
}
