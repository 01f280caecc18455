//! The database schema and its migrations: each version is applied once, in its own
//! transaction, and recorded in `schema_migrations`.
//!
//! Only DDL lives here. A migration is never edited once released; a change is a new
//! version appended to `MIGRATIONS`.

use super::error::{db, StoreError};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};
use std::path::Path;

struct Migration {
    version: u32,
    description: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "meter state, readings, alerts, alert file cursor",
    sql: "
        CREATE TABLE meter_state (
            meter      TEXT PRIMARY KEY NOT NULL,
            updated_at INTEGER NOT NULL,
            state      TEXT NOT NULL        -- MeterState as JSON
        );
        CREATE TABLE readings (
            id      INTEGER PRIMARY KEY AUTOINCREMENT,
            meter   TEXT NOT NULL,
            at      INTEGER NOT NULL,       -- unix ms of the poll
            outcome TEXT NOT NULL,          -- 'read' | 'unreachable'
            body    TEXT NOT NULL           -- PollOutcome as JSON
        );
        CREATE INDEX readings_by_meter ON readings (meter, id);
        CREATE INDEX readings_by_time ON readings (at);
        CREATE TABLE alerts (
            seq       INTEGER PRIMARY KEY AUTOINCREMENT,  -- commit order
            id        TEXT NOT NULL UNIQUE,
            meter     TEXT NOT NULL,
            kind      TEXT NOT NULL,
            raised_at INTEGER NOT NULL,
            body      TEXT NOT NULL         -- Alert as JSON: byte for byte the file's line
        );
        CREATE INDEX alerts_by_time ON alerts (raised_at, seq);
        CREATE INDEX alerts_by_meter ON alerts (meter, raised_at, seq);
        -- The highest alert seq known to be in the alert file (fsync'd).
        CREATE TABLE alert_file_cursor (
            only INTEGER PRIMARY KEY CHECK (only = 1),
            seq  INTEGER NOT NULL
        );
        INSERT INTO alert_file_cursor (only, seq) VALUES (1, 0);
    ",
}];

/// The schema version this build writes.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The version recorded in the database (0 for a new file).
pub fn current(conn: &Connection) -> Result<u32, StoreError> {
    conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| {
        r.get::<_, Option<u32>>(0)
    })
    .optional()
    .map(|v| v.flatten().unwrap_or(0))
    .map_err(db("read the schema version"))
}

/// Bring the schema to `latest()`; refuse a database written by a newer agent.
pub fn migrate(conn: &mut Connection, path: &Path) -> Result<u32, StoreError> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version     INTEGER PRIMARY KEY,
            description TEXT NOT NULL,
            applied_at  INTEGER NOT NULL    -- unix ms, the database's clock
        );",
    )
    .map_err(db("create the migrations table"))?;
    let found = current(conn)?;
    if found > latest() {
        return Err(StoreError::SchemaTooNew {
            path: path.to_owned(),
            found,
            supported: latest(),
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db("begin a migration"))?;
        tx.execute_batch(m.sql).map_err(db("apply a migration"))?;
        tx.execute(
            "INSERT INTO schema_migrations (version, description, applied_at)
             VALUES (?1, ?2, CAST(strftime('%s', 'now') AS INTEGER) * 1000)",
            rusqlite::params![m.version, m.description],
        )
        .map_err(db("record a migration"))?;
        tx.commit().map_err(db("commit a migration"))?;
    }
    Ok(latest())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version as usize, i + 1, "{}", m.description);
        }
    }
}
