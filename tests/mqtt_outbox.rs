//! The outbox is filled in the record transaction and bounded: past `outbox_max` the
//! oldest readings go first, alerts never, one status per meter; the drop is counted.
//! What is left then reaches a real broker, in order.

mod mqtt_support;

use calin_agent::agent::metrics::Metrics;
use calin_agent::agent::publish::{outbox, Doorbell, Publisher};
use calin_agent::agent::store::HookFailure;
use calin_agent::agent::{CommitHook, Cycle, MeterId, StoreConfig};
use mqtt_support::*;
use rusqlite::Transaction;
use tokio::sync::watch;

fn ids_of(rows: &[(String, String)], kind: &str) -> Vec<String> {
    rows.iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, id)| id.clone())
        .collect()
}

fn reading_ids(meter: &str, cycles: std::ops::Range<i64>) -> Vec<String> {
    cycles
        .map(|i| format!("{meter}@{}", T0 + i * PERIOD))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_outbox_drops_the_oldest_readings_never_alerts() {
    let dir = state_dir();
    let broker = Broker::start();
    let mut settings = broker.settings("gw-b");
    settings.outbox_max = 30;
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();

    // 20 cycles of two meters, the broker unreachable meanwhile (no publisher yet):
    // 40 readings + 38 alerts + 2 statuses = 80 rows for a bound of 30.
    for i in 0..20 {
        record(&mut store, "A", i..i + 1);
        record(&mut store, "B", i..i + 1);
    }
    let rows = outbox_rows(&db);
    let alerts_a = store.alerts(0, Some(&MeterId::new("A")), 100).unwrap();
    let alerts_b = store.alerts(0, Some(&MeterId::new("B")), 100).unwrap();
    assert_eq!(alerts_a.len() + alerts_b.len(), 38);
    let all_alerts = store.alerts(0, None, 100).unwrap();
    assert_eq!(
        ids_of(&rows, "alert"),
        all_alerts
            .iter()
            .map(|a| a.id.0.clone())
            .collect::<Vec<_>>(),
        "every alert is kept, in commit order"
    );
    assert!(
        ids_of(&rows, "reading").is_empty(),
        "alerts alone exceed the bound"
    );
    assert_eq!(
        ids_of(&rows, "status"),
        ["A@1700001140000", "B@1700001140000"]
    );
    assert_eq!(rows.len(), 40);
    assert_eq!(metrics.outbox_dropped_total(), 40);
    let conn = rusqlite::Connection::open(&db).unwrap();
    assert_eq!(outbox::dropped_total(&conn).unwrap(), 40);
    assert_eq!(metrics.outbox_depth(), 40);
    drop(conn);

    // The broker comes back: everything left is delivered, in outbox order.
    let mut sub = Subscriber::start(broker.port, "consumer", "test/+/+/+").await;
    let (stop, shutdown) = watch::channel(false);
    let publisher = Publisher::spawn(
        settings.clone(),
        &db,
        doorbell.clone(),
        metrics.clone(),
        shutdown,
    )
    .unwrap();
    let mut got = Vec::new();
    for _ in 0..rows.len() {
        got.push(message_id(&sub.next().await));
    }
    assert_eq!(
        got,
        rows.iter().map(|(_, id)| id.clone()).collect::<Vec<_>>()
    );
    stop.send_replace(true);
    publisher.join().await;
    assert!(outbox_rows(&db).is_empty());
}

#[test]
fn readings_are_dropped_oldest_first_when_there_is_room_for_some() {
    let dir = state_dir();
    let mut settings = calin_agent::config::MqttSettings::new("127.0.0.1", 1, "gw-b");
    settings.outbox_max = 30;
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    // 20 cycles of one meter: 20 readings + 19 alerts + 1 status = 40 rows, bound 30.
    record(&mut store, "A", 0..20);
    let rows = outbox_rows(&db);
    assert_eq!(rows.len(), 30);
    assert_eq!(ids_of(&rows, "alert").len(), 19);
    assert_eq!(ids_of(&rows, "reading"), reading_ids("A", 10..20));
    assert_eq!(metrics.outbox_dropped_total(), 10);
    // Readings off: only alerts and the status enter.
    settings.publish_readings = false;
    drop(store);
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &Metrics::new());
    record(&mut store, "A", 20..22);
    let rows = outbox_rows(&db);
    // Two more alerts, no reading; two old readings dropped to stay at the bound.
    assert_eq!(ids_of(&rows, "alert").len(), 21);
    assert_eq!(ids_of(&rows, "reading"), reading_ids("A", 12..20));
    assert_eq!(ids_of(&rows, "status"), ["A@1700001260000"]);
}

/// A hook after the outbox that fails: the whole cycle must roll back.
struct Refuse;

impl CommitHook for Refuse {
    fn name(&self) -> &str {
        "refuse"
    }
    fn within(&mut self, _: &Transaction<'_>, _: &Cycle<'_>) -> Result<(), HookFailure> {
        Err("refused by the test".into())
    }
}

#[test]
fn a_cycle_rolled_back_leaves_no_message_behind() {
    let dir = state_dir();
    let settings = calin_agent::config::MqttSettings::new("127.0.0.1", 1, "gw-b");
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    record(&mut store, "A", 0..2);
    let before = outbox_rows(&db);
    assert_eq!(before.len(), 4);
    store.add_hook(Box::new(Refuse)).unwrap();
    let lookup = calin_agent::codes::Lookup::builtin();
    let engine = calin_agent::agent::AlertEngine::new(&lookup, Default::default());
    let o = outcome("A", 2);
    let prev = store.last_state(o.meter()).unwrap();
    let ev = engine.evaluate(prev.as_ref(), &o, o.at());
    assert_eq!(ev.alerts.len(), 1);
    assert!(store.record(&o, &ev, o.at()).is_err());
    assert_eq!(outbox_rows(&db), before);
}
