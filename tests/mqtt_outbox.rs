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

/// Every payload the hook writes matches its schema, across a varied history: values,
/// relay reasons, counter growth and reset, an unknown status, failed polls up to
/// unreachable and back.
#[test]
fn every_payload_matches_its_schema() {
    use calin_agent::agent::ReadingValue;
    use calin_agent::agent::{AlertEngine, AlertPolicy, Counter, MeterReading, PollOutcome};
    use calin_agent::codes::{Lookup, Mode, OperatingStatus};
    let dir = state_dir();
    let settings = calin_agent::config::MqttSettings::new("127.0.0.1", 1, "gw-s");
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    let lookup = Lookup::builtin();
    let policy = AlertPolicy {
        unreachable_after: 2,
        reminder_interval_ms: Some(2 * PERIOD),
    };
    let engine = AlertEngine::new(&lookup, policy);
    let meter = MeterId::new("CAL/7");
    let statuses = [1000, 1005, 1005, 1019, 1099, 1000, 1000, 1000, 1000, 1003];
    for (i, status) in statuses.into_iter().enumerate() {
        let at = T0 + i as i64 * PERIOD;
        let o = if (5..8).contains(&i) {
            PollOutcome::Unreachable {
                meter: meter.clone(),
                at,
                reason: "no answer to SNRM".into(),
            }
        } else {
            let mut r = MeterReading::new(meter.clone(), at, Mode::Prepaid);
            r.status = Some(OperatingStatus(status));
            r.relay_reason = Some(if i > 2 { 8 } else { 0 });
            r.counters
                .insert(Counter::CoverOpen, [1, 1, 2, 3, 0, 0, 0, 0, 0, 1][i]);
            r.counters.insert(Counter::PowerDown, 4);
            r.event_times
                .insert(Counter::CoverOpen, vec![at - 1000, at - 2000]);
            r.values.insert(
                1,
                ReadingValue::Decimal {
                    mantissa: 123_456 + i as i64,
                    exponent: -2,
                    unit: "kWh".into(),
                },
            );
            r.values.insert(
                35,
                ReadingValue::Float {
                    value: 0.93,
                    unit: String::new(),
                },
            );
            PollOutcome::Read(r)
        };
        let prev = store.last_state(&meter).unwrap();
        let ev = engine.evaluate(prev.as_ref(), &o, at);
        store.record(&o, &ev, at).unwrap();
        // Check the status of every cycle, before the next one replaces it.
        check_all(&db);
    }
    let rows = outbox_rows(&db);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT json_extract(payload, '$.kind') FROM mqtt_outbox WHERE kind = 'alert'",
        )
        .unwrap();
    let kinds: std::collections::BTreeSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    for want in [
        "status_changed",
        "unknown_code",
        "counter_grew",
        "counter_reset",
        "unreachable",
        "reachable",
        "relay_reason_changed",
    ] {
        assert!(kinds.contains(want), "no {want} alert in {kinds:?}");
    }
    assert_eq!(ids_of(&rows, "reading").len(), 7);
}

fn check_all(db: &std::path::Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT kind, payload FROM mqtt_outbox ORDER BY id")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    for row in rows {
        let (kind, payload) = row.unwrap();
        let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let file = format!("{kind}.json");
        if let Err(e) = schema::check(&file, &v) {
            panic!("{kind} payload does not match {file}: {e:?}\n{v:#}");
        }
    }
}

#[test]
fn schemas_reject_what_they_do_not_describe() {
    let dir = state_dir();
    let settings = calin_agent::config::MqttSettings::new("127.0.0.1", 1, "gw-s");
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    record(&mut store, "CAL1", 0..2);
    let conn = rusqlite::Connection::open(StoreConfig::in_dir(dir.path()).db_path()).unwrap();
    for kind in ["reading", "alert", "status"] {
        let payload: String = conn
            .query_row(
                "SELECT payload FROM mqtt_outbox WHERE kind = ?1",
                [kind],
                |r| r.get(0),
            )
            .unwrap();
        let good: serde_json::Value = serde_json::from_str(&payload).unwrap();
        let file = format!("{kind}.json");
        assert!(schema::check(&file, &good).is_ok());
        let mut extra = good.clone();
        extra["surprise"] = 1.into();
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove("message_id");
        let mut wrong_type = good.clone();
        wrong_type["meter"] = 7.into();
        let mut wrong_schema = good.clone();
        wrong_schema["schema"] = "calin-agent/other/9".into();
        for bad in [extra, missing, wrong_type, wrong_schema] {
            assert!(
                schema::check(&file, &bad).is_err(),
                "{kind}: accepted {bad}"
            );
        }
    }
}
