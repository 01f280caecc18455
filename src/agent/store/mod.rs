//! The durable state store: meter states, readings and alerts in SQLite, plus the
//! append-only JSON-lines alert file.
//!
//! One poll cycle of one meter is recorded in one transaction (state, reading, alerts,
//! commit hooks such as a future MQTT outbox, one bounded pruning step), so after a
//! crash the engine resumes from a state that matches the alerts committed with it.
//! The alert file is written from committed rows only, after the commit, and is
//! reconciled on open. It does not decide alerts (that is the engine) and holds no
//! clock: times come from the caller.

mod alert_file;
mod error;
mod file_sync;
mod queries;
mod retention;
mod schema;
#[cfg(test)]
mod tests;

pub use error::{HookFailure, StoreError};
pub use retention::{PruneReport, Retention};

use super::alerts::{Alert, AlertId};
use super::engine::Evaluation;
use super::reading::PollOutcome;
use alert_file::AlertFile;
use error::db;
use rusqlite::{params, Connection, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where an installed gateway keeps its state.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/calin-agent";
/// The database file's name in the state directory.
pub const DB_FILE: &str = "state.db";
/// The alert file's name in the state directory, when no other path is configured.
pub const ALERT_FILE: &str = "alerts.jsonl";

/// Alerts read from the database per append batch of the alert file.
const FILE_BATCH: usize = 1000;

/// Where the store lives and how much it keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreConfig {
    /// The state directory (created if missing).
    pub dir: PathBuf,
    /// The JSON-lines alert file; a relative path is under `dir`. `None`:
    /// `<dir>/alerts.jsonl`. Its directory must exist unless it is `dir`; it is rotated
    /// to `<file>.1` beside it.
    pub alert_file: Option<PathBuf>,
    pub retention: Retention,
}

impl StoreConfig {
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        StoreConfig {
            dir: dir.into(),
            alert_file: None,
            retention: Retention::default(),
        }
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }

    pub fn alert_file_path(&self) -> PathBuf {
        // Design: `join` keeps an absolute path as it is, so one rule covers both.
        self.dir
            .join(self.alert_file.as_deref().unwrap_or(Path::new(ALERT_FILE)))
    }
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig::in_dir(DEFAULT_STATE_DIR)
    }
}

/// One poll cycle of one meter, as handed to commit hooks.
#[derive(Clone, Copy, Debug)]
pub struct Cycle<'a> {
    pub outcome: &'a PollOutcome,
    pub evaluation: &'a Evaluation,
    /// The alerts this cycle added (an alert id already stored is left out).
    pub new_alerts: &'a [&'a Alert],
    pub now: i64,
}

/// Work done inside the record transaction, committed or rolled back with it. The
/// MQTT outbox is meant to be one: it inserts `cycle.new_alerts` into its own table.
pub trait CommitHook: Send {
    /// A short name for errors and logs.
    fn name(&self) -> &str;
    /// Create or migrate the hook's own tables; called once when the hook is added.
    fn prepare(&mut self, conn: &Connection) -> Result<(), HookFailure> {
        let _ = conn;
        Ok(())
    }
    /// Write inside the cycle's transaction; an error rolls the whole cycle back.
    fn within(&mut self, tx: &Transaction<'_>, cycle: &Cycle<'_>) -> Result<(), HookFailure>;
}

/// What `record` did.
#[derive(Debug)]
pub struct Recorded {
    /// Ids of the alerts committed by this cycle, in order.
    pub committed: Vec<AlertId>,
    /// Alerts whose id was already stored: kept out, not duplicated.
    pub duplicates: Vec<AlertId>,
    pub pruned: PruneReport,
    /// The cycle is committed; writing the alert file failed and is retried with the
    /// next cycle (and on open).
    pub alert_file_error: Option<StoreError>,
}

/// The state store. One per state directory and process: it is the only writer.
pub struct Store {
    conn: Connection,
    config: StoreConfig,
    file: AlertFile,
    hooks: Vec<Box<dyn CommitHook>>,
    /// The highest alert seq known to be in the alert file.
    file_cursor: i64,
    /// Set when an append may have failed halfway: check the tail before the next one.
    file_suspect: bool,
}

impl Store {
    /// Open (or create) the store in `config.dir`, migrate its schema and reconcile the
    /// alert file with the committed alerts.
    pub fn open(config: StoreConfig) -> Result<Store, StoreError> {
        std::fs::create_dir_all(&config.dir).map_err(|source| StoreError::CreateDir {
            path: config.dir.clone(),
            source,
        })?;
        let path = config.db_path();
        let mut conn = Connection::open(&path).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        configure(&conn, &path)?;
        schema::migrate(&mut conn, &path)?;
        let file_cursor = conn
            .query_row(
                "SELECT seq FROM alert_file_cursor WHERE only = 1",
                [],
                |r| r.get(0),
            )
            .map_err(db("read the alert file cursor"))?;
        let file = AlertFile::new(
            config.alert_file_path(),
            config.retention.alert_file_max_bytes,
        );
        // Design: an alert file that cannot be written (a missing directory, a path
        // that systemd's ProtectSystem keeps read-only) fails the start, rather than a
        // warning with every cycle while the backlog waits in the database.
        file.check_writable()?;
        let mut store = Store {
            conn,
            config,
            file,
            hooks: Vec::new(),
            file_cursor,
            file_suspect: true,
        };
        store.flush_alert_file()?;
        Ok(store)
    }

    /// Open an existing store for queries only, beside a daemon that may be writing it
    /// (`calin-agent alerts`): read-only, no migration, the alert file untouched (only
    /// the daemon appends to it). A store of another schema version is refused.
    pub fn open_read_only(config: StoreConfig) -> Result<Store, StoreError> {
        let path = config.db_path();
        let conn = Connection::open_with_flags(
            &path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(db("set the busy timeout"))?;
        let found = schema::current(&conn)?;
        if found != schema::latest() {
            return Err(StoreError::SchemaMismatch {
                path,
                found,
                supported: schema::latest(),
            });
        }
        let file_cursor = conn
            .query_row(
                "SELECT seq FROM alert_file_cursor WHERE only = 1",
                [],
                |r| r.get(0),
            )
            .map_err(db("read the alert file cursor"))?;
        let file = AlertFile::new(
            config.alert_file_path(),
            config.retention.alert_file_max_bytes,
        );
        Ok(Store {
            conn,
            config,
            file,
            hooks: Vec::new(),
            file_cursor,
            file_suspect: false,
        })
    }

    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        schema::current(&self.conn)
    }

    /// Add work to every future record transaction (e.g. the MQTT outbox).
    pub fn add_hook(&mut self, mut hook: Box<dyn CommitHook>) -> Result<(), StoreError> {
        hook.prepare(&self.conn)
            .map_err(|source| StoreError::Hook {
                name: hook.name().to_owned(),
                source,
            })?;
        self.hooks.push(hook);
        Ok(())
    }

    /// Record one poll cycle: the evaluation's new meter state, the poll outcome and
    /// the alerts, in one transaction; then append the committed alerts to the alert
    /// file. `now` is the engine's time (used for age-based pruning).
    pub fn record(
        &mut self,
        outcome: &PollOutcome,
        evaluation: &Evaluation,
        now: i64,
    ) -> Result<Recorded, StoreError> {
        let (committed, duplicates, pruned) = self.commit(outcome, evaluation, now)?;
        let alert_file_error = self.flush_alert_file().err();
        if let Some(e) = &alert_file_error {
            tracing::warn!(error = %e, "alert file not written; retrying with the next cycle");
        }
        Ok(Recorded {
            committed,
            duplicates,
            pruned,
            alert_file_error,
        })
    }

    /// The database part of `record`. A crash after it returns and before the alert
    /// file is written is what `open` reconciles.
    fn commit(
        &mut self,
        outcome: &PollOutcome,
        ev: &Evaluation,
        now: i64,
    ) -> Result<(Vec<AlertId>, Vec<AlertId>, PruneReport), StoreError> {
        let meter = outcome.meter();
        if ev.state.meter != *meter {
            return Err(StoreError::MeterMismatch {
                state: ev.state.meter.to_string(),
                outcome: meter.to_string(),
            });
        }
        let encode = |what, r: serde_json::Result<String>| {
            r.map_err(|e| StoreError::Encode {
                what,
                meter: meter.to_string(),
                message: e.to_string(),
            })
        };
        let state_json = encode("meter state", serde_json::to_string(&ev.state))?;
        let outcome_json = encode("poll outcome", serde_json::to_string(outcome))?;
        let Store {
            conn,
            hooks,
            config,
            file_cursor,
            ..
        } = self;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("begin a cycle"))?;
        tx.prepare_cached(
            "INSERT INTO meter_state (meter, updated_at, state) VALUES (?1, ?2, ?3)
             ON CONFLICT (meter) DO UPDATE SET updated_at = excluded.updated_at, state = excluded.state",
        )
        .and_then(|mut statement| statement.execute(params![meter.as_str(), now, state_json]))
        .map_err(db("write the meter state"))?;
        let kind = match outcome {
            PollOutcome::Read(_) => "read",
            PollOutcome::Unreachable { .. } => "unreachable",
        };
        tx.prepare_cached(
            "INSERT INTO readings (meter, at, outcome, body) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut statement| {
            statement.execute(params![meter.as_str(), outcome.at(), kind, outcome_json])
        })
        .map_err(db("write the reading"))?;
        let mut new_alerts = Vec::new();
        let mut duplicates = Vec::new();
        for alert in &ev.alerts {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO alerts (id, meter, kind, raised_at, body) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (id) DO NOTHING",
                )
                .and_then(|mut statement| statement.execute(params![
                        alert.id.as_str(),
                        alert.meter.as_str(),
                        alert.kind.as_str(),
                        alert.raised_at,
                        alert.to_json_line()
                    ]))
                .map_err(db("write an alert"))?;
            if inserted == 1 {
                new_alerts.push(alert);
            } else {
                tracing::warn!(id = %alert.id, meter = %alert.meter, "alert already stored; not duplicated");
                duplicates.push(alert.id.clone());
            }
        }
        let cycle = Cycle {
            outcome,
            evaluation: ev,
            new_alerts: &new_alerts,
            now,
        };
        for hook in hooks.iter_mut() {
            hook.within(&tx, &cycle)
                .map_err(|source| StoreError::Hook {
                    name: hook.name().to_owned(),
                    source,
                })?;
        }
        let pruned = retention::prune_step(
            &tx,
            &config.retention,
            Some(meter.as_str()),
            *file_cursor,
            now,
        )?;
        tx.commit().map_err(db("commit a cycle"))?;
        let committed = new_alerts.iter().map(|a| a.id.clone()).collect();
        Ok((committed, duplicates, pruned))
    }

    /// Run pruning steps until nothing is left to prune (each step its own short
    /// transaction), e.g. at startup or after lowering the retention limits.
    pub fn prune(&mut self, now: i64) -> Result<PruneReport, StoreError> {
        let mut total = PruneReport::default();
        loop {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db("begin pruning"))?;
            let step =
                retention::prune_step(&tx, &self.config.retention, None, self.file_cursor, now)?;
            tx.commit().map_err(db("commit pruning"))?;
            total.add(&step);
            if step.is_empty() {
                return Ok(total);
            }
        }
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The alert file being appended to.
    pub fn alert_file_path(&self) -> &Path {
        self.file.path()
    }

    #[cfg(test)]
    fn commit_only(
        &mut self,
        outcome: &PollOutcome,
        ev: &Evaluation,
        now: i64,
    ) -> Result<Vec<AlertId>, StoreError> {
        self.commit(outcome, ev, now).map(|(c, _, _)| c)
    }
}

/// Connection settings, checked.
fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(db("set the busy timeout"))?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(db("set WAL mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::NotWal {
            path: path.to_owned(),
            found: mode,
        });
    }
    // Design: synchronous=FULL, not NORMAL. In WAL mode NORMAL keeps the database
    // consistent but may lose the last commits on a power cut, after their alerts were
    // already appended to the alert file or sent: the engine would then resume from an
    // older state and raise them again. FULL costs one fsync per cycle, which a
    // gateway polling meters every few minutes does not notice.
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db("set synchronous"))?;
    // Keep the WAL file small after checkpoints: the gateway's disk is small.
    conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)
        .map_err(db("set the WAL size limit"))?;
    Ok(())
}
