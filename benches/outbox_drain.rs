//! Benchmark (not a test): drain an outbox of 100,000 readings to a real Mosquitto
//! broker after an outage, and what it costs on disk.
//!
//! `cargo bench --bench outbox_drain` (env `OUTBOX_BENCH_N` changes the count,
//! `OUTBOX_BENCH_DIR` the state directory's parent; default: the system temp dir, a
//! real disk, not tmpfs). For each publisher setting it fills a fresh state database
//! with N reading messages (the payload a real reading produces), starts the broker
//! (the outage ends), starts the publisher, and measures the time until the outbox is
//! empty; then the database and WAL sizes before and after, and the cost of one record
//! cycle's outbox hook at that depth.

#[path = "../tests/mqtt_support/mod.rs"]
mod mqtt_support;

use calin_agent::agent::metrics::Metrics;
use calin_agent::agent::publish::message::reading_payload;
use calin_agent::agent::publish::{Doorbell, Publisher};
use calin_agent::agent::{Counter, MeterId, MeterReading, ReadingValue, StoreConfig};
use calin_agent::codes::{Mode, OperatingStatus};
use calin_agent::config::{MqttProtocol, MqttSettings};
use mqtt_support::{record, store_with_outbox, Broker, T0};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::sync::watch;

fn reading(meter: &str, i: i64) -> MeterReading {
    let mut r = MeterReading::new(MeterId::new(meter), T0 + i * 900_000, Mode::Prepaid);
    r.status = Some(OperatingStatus(1000));
    r.relay_reason = Some(0);
    for (k, c) in Counter::ALL.into_iter().enumerate() {
        r.counters.insert(c, k as u64 + 3);
    }
    for (code, mantissa, exponent, unit) in [
        (1, 1_234_567 + i, -2, "kWh"),
        (14, 600, 1, "W"),
        (31, 1520 + i % 100, 0, "W"),
        (35, 93, -2, ""),
    ] {
        r.values.insert(
            code,
            ReadingValue::Decimal {
                mantissa,
                exponent,
                unit: unit.into(),
            },
        );
    }
    r
}

fn size(p: &Path) -> u64 {
    std::fs::metadata(p).map_or(0, |m| m.len())
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0))
}

/// Fill the outbox with `n` readings of 100 meters (what a long outage leaves), in
/// one transaction, with the payloads the hook writes.
fn fill(db: &Path, n: i64) {
    let mut conn = rusqlite::Connection::open(db).expect("db");
    let tx = conn.transaction().expect("tx");
    {
        let mut stmt = tx
            .prepare(
                "INSERT INTO mqtt_outbox (kind, meter, message_id, payload, queued_at)
                 VALUES ('reading', ?1, ?2, ?3, ?4)",
            )
            .expect("prepare");
        for i in 0..n {
            let meter = format!("CAL{:04}", i % 100);
            let r = reading(&meter, i / 100);
            let (id, payload) = reading_payload("gw-bench", &r);
            stmt.execute(rusqlite::params![meter, id, payload, r.read_at])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

async fn drain(label: &str, protocol: MqttProtocol, inflight: u16, n: i64, parent: &Path) {
    let dir = tempfile::tempdir_in(parent).expect("state dir");
    let mut hook = MqttSettings::new("127.0.0.1", 1, "gw-bench");
    hook.outbox_max = u32::try_from(n).unwrap_or(u32::MAX).saturating_add(1000);
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &hook, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    let wal = db.with_extension("db-wal");
    record(&mut store, "CAL-HOOK", 0..1);
    let t = Instant::now();
    record(&mut store, "CAL-HOOK", 1..2);
    let empty_cycle = t.elapsed();
    fill(&db, n);
    // The first commit after the bulk fill pays the WAL checkpoint of the fill.
    record(&mut store, "CAL-HOOK", 2..3);
    // One real record cycle at this depth: what the hook's bound check costs.
    let t = Instant::now();
    record(&mut store, "CAL-HOOK", 3..4);
    let hook_cycle = t.elapsed();
    let (db_before, wal_before) = (size(&db), size(&wal));
    // What the trigger-kept depth saves: counting the rows at this depth.
    let conn = rusqlite::Connection::open(&db).expect("db");
    let t = Instant::now();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM mqtt_outbox", [], |r| r.get(0))
        .expect("count");
    let count_cost = t.elapsed();
    drop(conn);

    // The outage ends: the broker is back on its port, the publisher starts.
    let broker = Broker::start();
    let mut settings = broker.settings("gw-bench");
    settings.protocol = protocol;
    settings.inflight = inflight;
    let (stop, shutdown) = watch::channel(false);
    let t = Instant::now();
    let publisher =
        Publisher::spawn(settings, &db, doorbell, metrics.clone(), shutdown).expect("publisher");
    // A benchmark may poll: check the outbox depth gauge every 5 ms.
    while metrics.outbox_depth() > 0 || metrics.published_total() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(
            t.elapsed() < Duration::from_secs(900),
            "drain took too long"
        );
    }
    let took = t.elapsed();
    stop.send_replace(true);
    publisher.join().await;
    let published = metrics.published_total();
    assert!(published >= n as u64, "{published} < {n}");
    println!(
        "{label:<28} {n} readings drained in {:>6.2} s = {:>7.0} msg/s | db {} + wal {} before, db {} + wal {} after | record cycle {:.1} ms at outbox depth 0, {:.1} ms at {n} | count(*) of {rows} rows {:.1} ms",
        took.as_secs_f64(),
        published as f64 / took.as_secs_f64(),
        mib(db_before),
        mib(wal_before),
        mib(size(&db)),
        mib(size(&wal)),
        empty_cycle.as_secs_f64() * 1000.0,
        hook_cycle.as_secs_f64() * 1000.0,
        count_cost.as_secs_f64() * 1000.0,
    );
    drop(store);
}

fn main() {
    // `cargo test --benches` runs this binary too: do nothing unless benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let n: i64 = std::env::var("OUTBOX_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let parent = std::env::var_os("OUTBOX_BENCH_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        drain(
            "MQTT 3.1.1, inflight 32",
            MqttProtocol::V311,
            32,
            n,
            &parent,
        )
        .await;
        drain(
            "MQTT 3.1.1, inflight 128",
            MqttProtocol::V311,
            128,
            n,
            &parent,
        )
        .await;
        drain("MQTT 5, inflight 32", MqttProtocol::V5, 32, n, &parent).await;
    });
}
