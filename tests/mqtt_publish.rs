//! Publishing to a real Mosquitto broker: readings, alerts and the retained status
//! arrive in commit order with their schemas, over MQTT 3.1.1 and 5; `online` is
//! retained, a clean stop says `offline`, and an abrupt disconnect lets the broker
//! publish the last will.

mod mqtt_support;

use calin_agent::agent::metrics::{BrokerState, Metrics};
use calin_agent::agent::publish::{Doorbell, Publisher};
use calin_agent::agent::{MeterId, StoreConfig};
use calin_agent::config::MqttProtocol;
use mqtt_support::*;
use tokio::sync::watch;

/// The (kind, message_id) sequence a consumer must see for cycles `0..n` of `meter`:
/// per cycle the reading, then that cycle's alerts in commit order.
fn expected(store: &calin_agent::agent::Store, meter: &str, n: i64) -> Vec<(String, String)> {
    let alerts = store
        .alerts(0, Some(&MeterId::new(meter)), 10_000)
        .expect("alerts");
    let mut out = Vec::new();
    for i in 0..n {
        let at = T0 + i * PERIOD;
        out.push(("reading".to_owned(), format!("{meter}@{at}")));
        for a in alerts.iter().filter(|a| a.read_at == at) {
            out.push(("alert".to_owned(), a.id.0.clone()));
        }
    }
    out
}

async fn publish_and_receive(protocol: MqttProtocol) {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.port, "consumer", "test/#").await;
    let dir = state_dir();
    let mut settings = broker.settings("gw-1");
    settings.protocol = protocol;
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    // Two cycles committed before the publisher starts, four while it runs.
    record(&mut store, "CAL1", 0..2);
    let (stop, shutdown) = watch::channel(false);
    let publisher =
        Publisher::spawn(settings.clone(), &db, doorbell, metrics.clone(), shutdown).unwrap();
    let online = sub.next().await;
    assert_eq!(
        (online.topic.as_str(), online.text().as_str()),
        ("test/gw-1/online", "online")
    );
    record(&mut store, "CAL1", 2..6);
    let last_status = format!("CAL1@{}", T0 + 5 * PERIOD);
    let got = sub
        .until(|m| m.topic.ends_with("/status") && message_id(m) == last_status)
        .await;

    let mut seen = Vec::new();
    for m in &got {
        let kind = m.topic.rsplit('/').next().unwrap().to_owned();
        assert!(m.topic.starts_with("test/gw-1/CAL1/"), "{}", m.topic);
        let v = m.json();
        let schema = schema::for_topic(&m.topic).expect("a payload topic");
        if let Err(e) = schema::check(schema, &v) {
            panic!("{} does not match {schema}: {e:?}\n{v:#}", m.topic);
        }
        assert_eq!(v["gateway"], "gw-1");
        if kind != "status" {
            seen.push((kind, message_id(m)));
        }
    }
    assert_eq!(
        seen,
        expected(&store, "CAL1", 6),
        "order or content differs"
    );
    let alert = got
        .iter()
        .find(|m| m.topic.ends_with("/alert"))
        .unwrap()
        .json();
    assert_eq!(alert["message_id"], alert["id"]);

    // The retained status and online reach a subscriber that comes later.
    let mut late = Subscriber::start(broker.port, "late", "test/gw-1/#").await;
    let first = late.next().await;
    let second = late.next().await;
    let mut retained = [first, second];
    retained.sort_by(|a, b| a.topic.cmp(&b.topic));
    assert_eq!(retained[0].topic, "test/gw-1/CAL1/status");
    assert!(retained[0].retain);
    assert_eq!(message_id(&retained[0]), last_status);
    assert_eq!(retained[0].json()["status"]["code"], 1005);
    assert_eq!(
        (
            retained[1].topic.as_str(),
            retained[1].text().as_str(),
            retained[1].retain
        ),
        ("test/gw-1/online", "online", true)
    );

    // A clean stop: acknowledged messages leave the outbox, and `offline` is said.
    assert_eq!(metrics.broker_state(), BrokerState::Connected);
    stop.send_replace(true);
    publisher.join().await;
    let bye = sub.until(|m| m.topic == "test/gw-1/online").await;
    assert_eq!(bye.last().unwrap().text(), "offline");
    assert_eq!(outbox_rows(&db), Vec::<(String, String)>::new());
    assert_eq!(metrics.outbox_depth(), 0);
    assert_eq!(metrics.published_total(), got.len() as u64);
    assert_eq!(metrics.broker_state(), BrokerState::Disconnected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_in_commit_order_over_mqtt_3_1_1() {
    publish_and_receive(MqttProtocol::V311).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_in_commit_order_over_mqtt_5() {
    publish_and_receive(MqttProtocol::V5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_publishes_the_last_will_when_the_publisher_vanishes() {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.port, "watcher", "test/+/online").await;
    let dir = state_dir();
    let settings = broker.settings("gw-2");
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let _store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let (_stop, shutdown) = watch::channel(false);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    let publisher = Publisher::spawn(settings, &db, doorbell, metrics, shutdown).unwrap();
    assert_eq!(sub.next().await.text(), "online");
    // Dropping the task drops the socket without DISCONNECT: an abrupt end.
    publisher.task.abort();
    let will = sub.next().await;
    assert_eq!(
        (will.topic.as_str(), will.text().as_str()),
        ("test/gw-2/online", "offline")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clean_stop_first_publishes_what_is_committed() {
    let broker = Broker::start();
    let mut sub = Subscriber::start(broker.port, "consumer", "test/#").await;
    let dir = state_dir();
    let settings = broker.settings("gw-3");
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    let (stop, shutdown) = watch::channel(false);
    let publisher = Publisher::spawn(settings, &db, doorbell, metrics, shutdown).unwrap();
    assert_eq!(sub.next().await.text(), "online");
    // The last polls commit, and the daemon asks the publisher to stop at once.
    record(&mut store, "CAL1", 0..300);
    stop.send_replace(true);
    publisher.join().await;
    let got = sub.until(|m| m.topic == "test/gw-3/online").await;
    assert_eq!(got.last().unwrap().text(), "offline");
    let ids = dedup(
        got.iter()
            .filter(|m| !m.topic.ends_with("/status") && !m.topic.ends_with("/online"))
            .map(message_id),
    );
    let want: Vec<String> = expected(&store, "CAL1", 300)
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    assert_eq!(ids, want, "everything committed goes out before `offline`");
    assert!(outbox_rows(&db).is_empty());
}
