//! The durable MQTT outbox: a table in the state database that every alert, reading
//! and status enters in the same transaction that records it (the `OutboxHook`), and
//! that the publisher drains in order, deleting a row only after the broker's PUBACK.
//!
//! The outbox, not the MQTT client, is the source of truth: whatever is still here
//! after a reconnect or a restart is published again. It is bounded: past `outbox_max`
//! rows the oldest readings are dropped (counted and logged); alerts never are, and
//! there is at most one status per meter (a newer one replaces it).

use super::message::{alert_payload, reading_payload, status_payload, MessageKind};
use crate::agent::metrics::Metrics;
use crate::agent::reading::PollOutcome;
use crate::agent::store::{CommitHook, Cycle, HookFailure};
use crate::codes::Lookup;
use crate::config::MqttSettings;
use rusqlite::{params, Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The outbox's own tables, created by whichever side opens the database first.
// Design: the hook owns this DDL rather than the store's migrations, so the store does
// not know about MQTT; `IF NOT EXISTS` makes it idempotent. A later change is a new
// table or an `ALTER` guarded the same way, never an edit of this one.
const DDL: &str = "
    CREATE TABLE IF NOT EXISTS mqtt_outbox (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- publish order
        kind       TEXT NOT NULL CHECK (kind IN ('status', 'reading', 'alert')),
        meter      TEXT NOT NULL,
        message_id TEXT NOT NULL,
        payload    TEXT NOT NULL,                      -- JSON, see schema/*.json
        queued_at  INTEGER NOT NULL                    -- unix ms, the engine's time
    );
    CREATE INDEX IF NOT EXISTS mqtt_outbox_by_kind ON mqtt_outbox (kind, meter, id);
    CREATE TABLE IF NOT EXISTS mqtt_outbox_stats (
        only    INTEGER PRIMARY KEY CHECK (only = 1),
        depth   INTEGER NOT NULL,                      -- rows in mqtt_outbox (triggers)
        dropped INTEGER NOT NULL                       -- readings dropped, ever
    );
    INSERT OR IGNORE INTO mqtt_outbox_stats (only, depth, dropped)
        VALUES (1, (SELECT count(*) FROM mqtt_outbox), 0);
    CREATE TRIGGER IF NOT EXISTS mqtt_outbox_queued AFTER INSERT ON mqtt_outbox
        BEGIN UPDATE mqtt_outbox_stats SET depth = depth + 1 WHERE only = 1; END;
    CREATE TRIGGER IF NOT EXISTS mqtt_outbox_removed AFTER DELETE ON mqtt_outbox
        BEGIN UPDATE mqtt_outbox_stats SET depth = depth - 1 WHERE only = 1; END;
";

/// Create the outbox tables if missing.
pub fn prepare(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(DDL)
}

/// Rings when the outbox got new rows, so the publisher need not poll the database.
#[derive(Clone, Debug, Default)]
pub struct Doorbell(Arc<Notify>);

impl Doorbell {
    pub fn new() -> Self {
        Doorbell::default()
    }

    pub fn ring(&self) {
        self.0.notify_one();
    }

    /// Resolves at the next ring (or at once if one came since the last wait).
    pub async fn rung(&self) {
        self.0.notified().await;
    }
}

/// The commit hook that fills the outbox. Register it with `Store::add_hook`.
pub struct OutboxHook {
    gateway: String,
    publish_readings: bool,
    max: u64,
    lookup: Lookup,
    doorbell: Doorbell,
    metrics: Metrics,
}

impl OutboxHook {
    /// `lookup` decodes the retained status; `doorbell` is the publisher's.
    pub fn new(
        settings: &MqttSettings,
        lookup: Lookup,
        doorbell: Doorbell,
        metrics: Metrics,
    ) -> Self {
        OutboxHook {
            gateway: settings.gateway.clone(),
            publish_readings: settings.publish_readings,
            max: u64::from(settings.outbox_max),
            lookup,
            doorbell,
            metrics,
        }
    }
}

fn insert(
    tx: &Transaction<'_>,
    kind: MessageKind,
    meter: &str,
    (message_id, payload): (String, String),
    now: i64,
) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT INTO mqtt_outbox (kind, meter, message_id, payload, queued_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![kind.as_str(), meter, message_id, payload, now])?;
    Ok(())
}

impl CommitHook for OutboxHook {
    fn name(&self) -> &str {
        "mqtt outbox"
    }

    fn prepare(&mut self, conn: &Connection) -> Result<(), HookFailure> {
        prepare(conn)?;
        self.metrics.set_outbox_depth(depth(conn)?);
        Ok(())
    }

    fn within(&mut self, tx: &Transaction<'_>, cycle: &Cycle<'_>) -> Result<(), HookFailure> {
        let meter = cycle.outcome.meter().as_str();
        if let (PollOutcome::Read(r), true) = (cycle.outcome, self.publish_readings) {
            insert(
                tx,
                MessageKind::Reading,
                meter,
                reading_payload(&self.gateway, r),
                cycle.now,
            )?;
        }
        for alert in cycle.new_alerts {
            insert(
                tx,
                MessageKind::Alert,
                alert.meter.as_str(),
                alert_payload(&self.gateway, alert),
                cycle.now,
            )?;
        }
        // One status per meter: only the latest matters (it is retained).
        tx.prepare_cached("DELETE FROM mqtt_outbox WHERE kind = 'status' AND meter = ?1")?
            .execute([meter])?;
        let status = status_payload(&self.gateway, &cycle.evaluation.state, &self.lookup);
        insert(tx, MessageKind::Status, meter, status, cycle.now)?;
        let mut depth = depth(tx)?;
        if depth > self.max {
            let dropped = drop_oldest_readings(tx, depth - self.max)?;
            if dropped > 0 {
                depth -= dropped;
                self.metrics.outbox_dropped(dropped);
                tracing::warn!(
                    dropped,
                    max = self.max,
                    "MQTT outbox full: oldest readings dropped (alerts are kept)"
                );
            }
        }
        self.metrics.set_outbox_depth(depth);
        // Design: rung inside the transaction. The publisher reads with BEGIN IMMEDIATE,
        // which waits for this transaction's write lock: it cannot read before the
        // commit and miss the rows this ring is about.
        self.doorbell.ring();
        Ok(())
    }
}

/// Rows in the outbox.
// Design: kept by triggers in the same transactions as the rows, because the hook
// checks the bound every cycle and the publisher reports the depth after every
// acknowledged batch, and `count(*)` walks the whole table: 1–2 ms at 100,000 rows on
// the development machine (benches/outbox_drain.rs), 400 times in one drain.
pub fn depth(conn: &Connection) -> rusqlite::Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT depth FROM mqtt_outbox_stats WHERE only = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Readings dropped from a full outbox since the database was created.
pub fn dropped_total(conn: &Connection) -> rusqlite::Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT dropped FROM mqtt_outbox_stats WHERE only = 1",
        [],
        |r| r.get(0),
    )?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Delete up to `n` of the oldest readings; returns how many went.
fn drop_oldest_readings(tx: &Transaction<'_>, n: u64) -> rusqlite::Result<u64> {
    let limit = i64::try_from(n).unwrap_or(i64::MAX);
    let dropped = tx.execute(
        "DELETE FROM mqtt_outbox WHERE id IN
           (SELECT id FROM mqtt_outbox WHERE kind = 'reading' ORDER BY id LIMIT ?1)",
        [limit],
    )?;
    let dropped = dropped as u64;
    tx.execute(
        "UPDATE mqtt_outbox_stats SET dropped = dropped + ?1 WHERE only = 1",
        [i64::try_from(dropped).unwrap_or(i64::MAX)],
    )?;
    Ok(dropped)
}

/// One message waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: MessageKind,
    pub meter: String,
    pub message_id: String,
    pub payload: String,
}

/// The publisher's side of the outbox: its own connection to the state database.
pub struct OutboxReader {
    conn: Connection,
}

impl OutboxReader {
    /// Open the state database at `path` (which the store created) for draining.
    pub fn open(path: &Path) -> rusqlite::Result<OutboxReader> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Design: NORMAL, not the store's FULL. A delete lost to a power cut only means
        // a message is sent twice, which consumers drop by its message id; the fsync
        // per acknowledged batch is what FULL would cost.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Keep the WAL small after checkpoints, as the store does: the disk is small.
        conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024)?;
        prepare(&conn)?;
        Ok(OutboxReader { conn })
    }

    /// Up to `limit` messages with an id above `after`, oldest first.
    pub fn fetch(&mut self, after: i64, limit: usize) -> rusqlite::Result<Vec<OutboxItem>> {
        // IMMEDIATE: see the `Design:` note where the doorbell rings.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let items = {
            let mut stmt = tx.prepare_cached(
                "SELECT id, kind, meter, message_id, payload FROM mqtt_outbox
                 WHERE id > ?1 ORDER BY id LIMIT ?2",
            )?;
            let rows = stmt.query_map(
                params![after, i64::try_from(limit).unwrap_or(i64::MAX)],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )?;
            let mut items = Vec::new();
            for row in rows {
                let (id, kind, meter, message_id, payload) = row?;
                // The CHECK constraint keeps other kinds out.
                let Some(kind) = MessageKind::parse(&kind) else {
                    continue;
                };
                items.push(OutboxItem {
                    id,
                    kind,
                    meter,
                    message_id,
                    payload,
                });
            }
            items
        };
        tx.commit()?;
        Ok(items)
    }

    /// The broker acknowledged these messages: remove them.
    pub fn acknowledge(&mut self, ids: &[i64]) -> rusqlite::Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut stmt = tx.prepare_cached("DELETE FROM mqtt_outbox WHERE id = ?1")?;
            for id in ids {
                stmt.execute([id])?;
            }
        }
        tx.commit()
    }

    pub fn depth(&self) -> rusqlite::Result<u64> {
        depth(&self.conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_kinds(r: &mut OutboxReader) -> Vec<(MessageKind, String)> {
        r.fetch(0, 1000)
            .unwrap()
            .into_iter()
            .map(|i| (i.kind, i.message_id))
            .collect()
    }

    #[test]
    fn reader_fetches_in_order_after_a_cursor_and_deletes_on_ack() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        // The store creates the database; the reader never does.
        assert!(OutboxReader::open(&path).is_err());
        drop(Connection::open(&path).unwrap());
        let mut r = OutboxReader::open(&path).unwrap();
        for i in 0..5 {
            r.conn
                .execute(
                    "INSERT INTO mqtt_outbox (kind, meter, message_id, payload, queued_at)
                     VALUES ('reading', 'm', ?1, '{}', 0)",
                    [format!("m@{i}")],
                )
                .unwrap();
        }
        let all = r.fetch(0, 100).unwrap();
        assert_eq!(all.len(), 5);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
        let after = r.fetch(all[1].id, 2).unwrap();
        assert_eq!(
            after
                .iter()
                .map(|i| i.message_id.as_str())
                .collect::<Vec<_>>(),
            ["m@2", "m@3"]
        );
        r.acknowledge(&[all[0].id, all[2].id]).unwrap();
        assert_eq!(r.depth().unwrap(), 3);
        assert_eq!(
            item_kinds(&mut r)
                .into_iter()
                .map(|(_, m)| m)
                .collect::<Vec<_>>(),
            ["m@1", "m@3", "m@4"]
        );
    }
}
