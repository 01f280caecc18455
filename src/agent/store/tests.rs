use super::*;
use crate::agent::alerts::{Alert, AlertKind};
use crate::agent::engine::{AlertEngine, AlertPolicy};
use crate::agent::reading::{Counter, MeterId, MeterReading, PollOutcome};
use crate::codes::{Lookup, Mode, OperatingStatus};
use std::collections::HashSet;
use std::io::Write;

const T0: i64 = 1_700_000_000_000;
const MIN: i64 = 60_000;
const DAY: i64 = 86_400_000;

fn config(dir: &Path, retention: Retention) -> StoreConfig {
    StoreConfig {
        dir: dir.to_owned(),
        alert_file: None,
        retention,
    }
}

fn reading(meter: &str, at: i64, status: u32, cover: u64) -> PollOutcome {
    let mut r = MeterReading::new(MeterId::new(meter), at, Mode::Postpaid);
    r.status = Some(OperatingStatus(status));
    r.counters.insert(Counter::CoverOpen, cover);
    PollOutcome::Read(r)
}

/// One daemon cycle: evaluate from the committed state, record, return the alerts.
fn cycle(store: &mut Store, outcome: &PollOutcome, now: i64) -> Vec<Alert> {
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    let prev = store.last_state(outcome.meter()).unwrap();
    let ev = engine.evaluate(prev.as_ref(), outcome, now);
    let rec = store.record(outcome, &ev, now).unwrap();
    assert!(rec.alert_file_error.is_none(), "{:?}", rec.alert_file_error);
    assert!(rec.duplicates.is_empty());
    assert_eq!(
        rec.committed,
        ev.alerts.iter().map(|a| a.id.clone()).collect::<Vec<_>>()
    );
    ev.alerts
}

/// Ids of the alert file's lines (rotated file first), in file order.
fn file_ids(store: &Store) -> Vec<String> {
    let rotated = AlertFile::new(store.alert_file_path().to_owned(), 0).rotated_path();
    let mut ids = Vec::new();
    for path in [rotated.as_path(), store.alert_file_path()] {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        for line in text.lines() {
            let a: Alert = serde_json::from_str(line).expect("every line is a whole alert");
            ids.push(a.id.0);
        }
    }
    ids
}

fn db_ids(store: &Store) -> Vec<String> {
    let mut stmt = store
        .connection()
        .prepare("SELECT id FROM alerts ORDER BY seq")
        .unwrap();
    let rows = stmt.query_map([], |r| r.get(0)).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[test]
fn opens_in_wal_with_full_sync_and_a_versioned_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("state");
    let store = Store::open(StoreConfig::in_dir(&sub)).unwrap();
    assert!(sub.join(DB_FILE).exists());
    let c = store.connection();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
    assert_eq!(sync, 2, "FULL");
    assert_eq!(store.schema_version().unwrap(), schema::latest());
    let n: i64 = c
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, i64::from(schema::latest()));
    drop(store);
    // Reopening applies nothing again.
    let store = Store::open(StoreConfig::in_dir(&sub)).unwrap();
    let n2: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n2, n);
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    store
        .connection()
        .execute("INSERT INTO schema_migrations VALUES (99, 'future', 0)", [])
        .unwrap();
    drop(store);
    match Store::open(StoreConfig::in_dir(dir.path())) {
        Err(StoreError::SchemaTooNew {
            found: 99,
            supported,
            ..
        }) => assert_eq!(supported, schema::latest()),
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("opened a database from the future"),
    }
}

#[test]
fn round_trip_of_state_reading_and_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    let m = MeterId::new("A1");
    assert_eq!(store.last_state(&m).unwrap(), None);
    let first = reading("A1", T0, 1000, 2);
    assert!(cycle(&mut store, &first, T0).is_empty());
    let second = reading("A1", T0 + MIN, 1005, 3);
    let alerts = cycle(&mut store, &second, T0 + MIN);
    assert_eq!(alerts.len(), 2, "{alerts:#?}");

    let state = store.last_state(&m).unwrap().unwrap();
    assert_eq!(state.status, Some(1005));
    assert_eq!(state.counters.get(&Counter::CoverOpen), Some(&3));
    assert_eq!(store.states().unwrap(), vec![state]);
    assert_eq!(
        store.readings(&m, 0, 10).unwrap(),
        vec![first, second.clone()]
    );
    assert_eq!(store.readings(&m, T0 + 1, 10).unwrap(), vec![second]);
    assert_eq!(store.readings(&m, 0, 1).unwrap().len(), 1);
    assert_eq!(store.alerts(0, Some(&m), 100).unwrap(), alerts);
    assert_eq!(store.alerts(0, None, 100).unwrap(), alerts);
    assert!(store.alerts(T0 + MIN + 1, None, 100).unwrap().is_empty());
    assert!(store
        .alerts(0, Some(&MeterId::new("B")), 100)
        .unwrap()
        .is_empty());
    assert_eq!(store.alerts(0, None, 1).unwrap().len(), 1);
    assert_eq!(
        file_ids(&store),
        alerts.iter().map(|a| a.id.0.clone()).collect::<Vec<_>>()
    );
}

#[test]
fn reopening_raises_nothing_for_an_unchanged_condition() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
        assert_eq!(cycle(&mut store, &reading("A1", T0, 1005, 1), T0).len(), 1);
    }
    let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    assert!(cycle(&mut store, &reading("A1", T0 + MIN, 1005, 1), T0 + MIN).is_empty());
    assert_eq!(store.alert_count().unwrap(), 1);
    assert_eq!(file_ids(&store).len(), 1);
}

#[test]
fn recording_the_same_evaluation_twice_stores_its_alerts_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    let o = reading("A1", T0, 1009, 0);
    let ev = engine.evaluate(None, &o, T0);
    assert_eq!(store.record(&o, &ev, T0).unwrap().committed.len(), 1);
    let again = store.record(&o, &ev, T0).unwrap();
    assert!(again.committed.is_empty());
    assert_eq!(again.duplicates, vec![ev.alerts[0].id.clone()]);
    assert_eq!(store.alert_count().unwrap(), 1);
    assert_eq!(file_ids(&store).len(), 1);
}

struct FailingHook;
impl CommitHook for FailingHook {
    fn name(&self) -> &str {
        "failing"
    }
    fn within(&mut self, _: &Transaction<'_>, _: &Cycle<'_>) -> Result<(), HookFailure> {
        Err("outbox full".into())
    }
}

#[test]
fn a_failing_hook_rolls_the_whole_cycle_back() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    store.add_hook(Box::new(FailingHook)).unwrap();
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    let o = reading("A1", T0, 1005, 0);
    let ev = engine.evaluate(None, &o, T0);
    let err = store.record(&o, &ev, T0).unwrap_err();
    assert!(
        matches!(&err, StoreError::Hook { name, .. } if name == "failing"),
        "{err}"
    );
    assert!(err.to_string().contains("outbox full"));
    let m = MeterId::new("A1");
    assert_eq!(store.last_state(&m).unwrap(), None);
    assert_eq!(store.reading_count(&m).unwrap(), 0);
    assert_eq!(store.alert_count().unwrap(), 0);
    assert!(file_ids(&store).is_empty());
}

/// What an MQTT outbox will look like: rows written in the cycle's transaction.
struct Outbox;
impl CommitHook for Outbox {
    fn name(&self) -> &str {
        "outbox"
    }
    fn prepare(&mut self, conn: &Connection) -> Result<(), HookFailure> {
        conn.execute_batch("CREATE TABLE IF NOT EXISTS test_outbox (alert_id TEXT PRIMARY KEY, payload TEXT NOT NULL)")?;
        Ok(())
    }
    fn within(&mut self, tx: &Transaction<'_>, cycle: &Cycle<'_>) -> Result<(), HookFailure> {
        for a in cycle.new_alerts {
            tx.execute(
                "INSERT INTO test_outbox VALUES (?1, ?2)",
                params![a.id.as_str(), a.to_json_line()],
            )?;
        }
        Ok(())
    }
}

#[test]
fn a_hook_writes_in_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    store.add_hook(Box::new(Outbox)).unwrap();
    let alerts = cycle(&mut store, &reading("A1", T0, 1005, 0), T0);
    let ids: Vec<String> = {
        let mut stmt = store
            .connection()
            .prepare("SELECT alert_id FROM test_outbox")
            .unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.collect::<Result<_, _>>().unwrap()
    };
    assert_eq!(ids, vec![alerts[0].id.0.clone()]);
}

#[test]
fn a_crash_between_commit_and_file_append_is_reconciled_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    {
        let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
        cycle(&mut store, &reading("A1", T0, 1003, 0), T0);
        let o = reading("A1", T0 + MIN, 1005, 0);
        let ev = engine.evaluate(
            store.last_state(&MeterId::new("A1")).unwrap().as_ref(),
            &o,
            T0 + MIN,
        );
        assert_eq!(store.commit_only(&o, &ev, T0 + MIN).unwrap().len(), 1);
        assert_eq!(
            file_ids(&store).len(),
            1,
            "the crash left the second alert out of the file"
        );
    }
    let store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    assert_eq!(file_ids(&store), db_ids(&store));
    assert_eq!(db_ids(&store).len(), 2);
}

#[test]
fn a_crash_after_the_append_but_before_the_cursor_moved_writes_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
        cycle(&mut store, &reading("A1", T0, 1003, 0), T0);
        cycle(&mut store, &reading("A1", T0 + MIN, 1005, 0), T0 + MIN);
        // As if the process died before the cursor update reached the database.
        store
            .connection()
            .execute("UPDATE alert_file_cursor SET seq = 0", [])
            .unwrap();
    }
    let store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    assert_eq!(file_ids(&store), db_ids(&store));
    assert_eq!(file_ids(&store).len(), 2);
}

#[test]
fn a_torn_line_is_replaced_by_the_whole_alert() {
    let dir = tempfile::tempdir().unwrap();
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    {
        let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
        cycle(&mut store, &reading("A1", T0, 1003, 0), T0);
        let o = reading("A1", T0 + MIN, 1005, 0);
        let ev = engine.evaluate(
            store.last_state(&MeterId::new("A1")).unwrap().as_ref(),
            &o,
            T0 + MIN,
        );
        store.commit_only(&o, &ev, T0 + MIN).unwrap();
        // The append was cut halfway by the crash.
        let line = ev.alerts[0].to_json_line();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(store.alert_file_path())
            .unwrap();
        f.write_all(&line.as_bytes()[..line.len() / 2]).unwrap();
    }
    let store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    assert_eq!(file_ids(&store), db_ids(&store));
    assert_eq!(file_ids(&store).len(), 2);
}

#[test]
fn an_unwritable_alert_file_does_not_lose_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    // A directory where the file should be makes every append fail (replacing the
    // empty file the open created while checking that it can be written).
    std::fs::remove_file(store.alert_file_path()).unwrap();
    std::fs::create_dir(store.alert_file_path()).unwrap();
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    let o = reading("A1", T0, 1005, 0);
    let ev = engine.evaluate(None, &o, T0);
    let rec = store.record(&o, &ev, T0).unwrap();
    assert_eq!(rec.committed.len(), 1);
    assert!(
        matches!(rec.alert_file_error, Some(StoreError::AlertFile { .. })),
        "{:?}",
        rec.alert_file_error
    );
    std::fs::remove_dir(store.alert_file_path()).unwrap();
    // The next cycle writes the backlog.
    cycle(&mut store, &reading("A1", T0 + MIN, 1003, 0), T0 + MIN);
    assert_eq!(file_ids(&store), db_ids(&store));
    assert_eq!(file_ids(&store).len(), 2);
}

#[test]
fn readings_are_bounded_per_meter_and_by_age() {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        readings_per_meter: 5,
        reading_max_age_ms: 2 * DAY,
        prune_batch: 2,
        ..Retention::default()
    };
    let mut store = Store::open(config(dir.path(), retention)).unwrap();
    let (a, b) = (MeterId::new("A"), MeterId::new("B"));
    for i in 0..20 {
        cycle(
            &mut store,
            &reading("A", T0 + i * MIN, 1000, 0),
            T0 + i * MIN,
        );
        assert!(store.reading_count(&a).unwrap() <= 5 + 1);
    }
    assert_eq!(store.reading_count(&a).unwrap(), 5);
    // The newest are kept.
    let kept = store.readings(&a, 0, 100).unwrap();
    assert_eq!(kept.first().unwrap().at(), T0 + 15 * MIN);
    assert_eq!(kept.last().unwrap().at(), T0 + 19 * MIN);
    cycle(&mut store, &reading("B", T0, 1000, 0), T0);
    assert_eq!(store.reading_count(&b).unwrap(), 1);

    // Three days later: everything older than two days goes, in bounded steps.
    let later = T0 + 3 * DAY;
    let report = store.prune(later).unwrap();
    assert_eq!(report.readings, 6);
    assert_eq!(store.reading_count(&a).unwrap(), 0);
    assert_eq!(store.reading_count(&b).unwrap(), 0);
    assert!(
        store.last_state(&a).unwrap().is_some(),
        "states are never pruned"
    );
}

#[test]
fn alerts_are_bounded_and_lowering_the_limit_prunes_the_backlog() {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        max_alerts: 10,
        prune_batch: 3,
        ..Retention::default()
    };
    let mut store = Store::open(config(dir.path(), retention)).unwrap();
    let mut raised = 0;
    for i in 0..30 {
        let status = if i % 2 == 0 { 1005 } else { 1000 };
        raised += cycle(
            &mut store,
            &reading("A", T0 + i * MIN, status, 0),
            T0 + i * MIN,
        )
        .len();
        assert!(store.alert_count().unwrap() <= 10);
    }
    assert_eq!(raised, 30);
    assert_eq!(store.alert_count().unwrap(), 10);
    // The newest ten are the ones kept.
    let kept = store.alerts(0, None, 100).unwrap();
    assert_eq!(kept.last().unwrap().raised_at, T0 + 29 * MIN);
    assert_eq!(kept.first().unwrap().raised_at, T0 + 20 * MIN);
    drop(store);

    let retention = Retention {
        max_alerts: 4,
        prune_batch: 1,
        ..Retention::default()
    };
    let mut store = Store::open(config(dir.path(), retention)).unwrap();
    assert_eq!(store.prune(T0 + 30 * MIN).unwrap().alerts, 6);
    assert_eq!(store.alert_count().unwrap(), 4);
    // The file keeps its history: it is rotated by size, not pruned.
    assert_eq!(file_ids(&store).len(), 30);
}

#[test]
fn the_alert_file_rotates_and_keeps_every_alert_once() {
    let dir = tempfile::tempdir().unwrap();
    let retention = Retention {
        alert_file_max_bytes: 3000,
        ..Retention::default()
    };
    let mut store = Store::open(config(dir.path(), retention)).unwrap();
    let mut all = Vec::new();
    for i in 0..6 {
        let status = if i % 2 == 0 { 1005 } else { 1000 };
        all.extend(cycle(
            &mut store,
            &reading("A", T0 + i * MIN, status, 0),
            T0 + i * MIN,
        ));
    }
    let rotated = AlertFile::new(store.alert_file_path().to_owned(), 0).rotated_path();
    assert!(rotated.exists());
    assert!(std::fs::metadata(store.alert_file_path()).unwrap().len() < 3000 + 2000);
    // The two files hold the newest alerts, each once, in order (older ones rotated away).
    let ids = file_ids(&store);
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let tail: Vec<String> = all
        .iter()
        .rev()
        .take(ids.len())
        .rev()
        .map(|a| a.id.0.clone())
        .collect();
    assert_eq!(ids, tail);
    assert_eq!(
        all.iter()
            .filter(|a| a.kind == AlertKind::StatusCleared)
            .count(),
        3
    );
}

#[test]
fn failed_polls_are_kept_as_readings_and_a_mismatched_cycle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(StoreConfig::in_dir(dir.path())).unwrap();
    let m = MeterId::new("A1");
    let failed = PollOutcome::Unreachable {
        meter: m.clone(),
        at: T0,
        reason: "timeout".into(),
    };
    assert!(cycle(&mut store, &failed, T0).is_empty());
    assert_eq!(store.readings(&m, 0, 10).unwrap(), vec![failed]);
    assert_eq!(
        store.last_state(&m).unwrap().unwrap().consecutive_failures,
        1
    );

    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    let ev = engine.evaluate(None, &reading("B2", T0, 1005, 0), T0);
    let err = store
        .record(&reading("A1", T0, 1005, 0), &ev, T0)
        .unwrap_err();
    assert!(matches!(err, StoreError::MeterMismatch { .. }), "{err}");
    assert_eq!(store.alert_count().unwrap(), 0);
}

#[test]
fn a_configured_alert_file_outside_the_state_dir_gets_every_alert_once_and_rotates_there() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let logs = dir.path().join("log");
    std::fs::create_dir(&logs).unwrap();
    let cfg = StoreConfig {
        alert_file: Some(logs.join("site-alerts.jsonl")),
        ..config(
            &state,
            Retention {
                alert_file_max_bytes: 3000,
                ..Retention::default()
            },
        )
    };
    assert_eq!(cfg.alert_file_path(), logs.join("site-alerts.jsonl"));
    let lookup = Lookup::builtin();
    let engine = AlertEngine::new(&lookup, AlertPolicy::default());
    let mut all = Vec::new();
    {
        let mut store = Store::open(cfg.clone()).unwrap();
        assert_eq!(store.alert_file_path(), logs.join("site-alerts.jsonl"));
        for i in 0..6 {
            let status = if i % 2 == 0 { 1005 } else { 1000 };
            let now = T0 + i * MIN;
            all.extend(cycle(&mut store, &reading("A", now, status, 0), now));
        }
        // A crash between the commit and the append: the next open writes the rest.
        let o = reading("A", T0 + 6 * MIN, 1005, 0);
        let prev = store.last_state(o.meter()).unwrap();
        let ev = engine.evaluate(prev.as_ref(), &o, T0 + 6 * MIN);
        assert_eq!(store.commit_only(&o, &ev, T0 + 6 * MIN).unwrap().len(), 1);
        all.extend(ev.alerts);
    }
    let store = Store::open(cfg).unwrap();
    // Rotation happened beside the configured file; the state dir holds no alert file.
    assert!(logs.join("site-alerts.jsonl.1").exists());
    let mut names: Vec<String> = std::fs::read_dir(&state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        names.iter().all(|n| !n.starts_with(ALERT_FILE)),
        "{names:?}"
    );
    // The two files hold the newest alerts, each once, in commit order, ending with the
    // one the crash left out.
    let ids = file_ids(&store);
    assert!(ids.len() >= 2, "{ids:?}");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len());
    let expect: Vec<String> = all[all.len() - ids.len()..]
        .iter()
        .map(|a| a.id.0.clone())
        .collect();
    assert_eq!(ids, expect);
    assert_eq!(db_ids(&store).last(), ids.last());
}

#[test]
fn an_alert_file_in_a_missing_directory_fails_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = StoreConfig {
        alert_file: Some(dir.path().join("no-such-dir/alerts.jsonl")),
        ..StoreConfig::in_dir(dir.path().join("state"))
    };
    let err = Store::open(cfg).err().expect("the open fails");
    assert!(
        matches!(&err, StoreError::AlertFile { path, .. } if path.ends_with("no-such-dir/alerts.jsonl")),
        "{err}"
    );
}

#[test]
fn a_relative_alert_file_is_under_the_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("alerts")).unwrap();
    let cfg = StoreConfig {
        alert_file: Some(PathBuf::from("alerts/all.jsonl")),
        ..StoreConfig::in_dir(dir.path())
    };
    let store = Store::open(cfg).unwrap();
    assert_eq!(store.alert_file_path(), dir.path().join("alerts/all.jsonl"));
    assert!(dir.path().join("alerts/all.jsonl").exists());
}
