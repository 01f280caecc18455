//! Keeping the alert file in step with the committed alerts: append what the file
//! lacks, in commit order, and move the cursor only after the fsync.
//!
//! Reads the database and appends to the file; never changes a committed row other
//! than the cursor.

use super::error::{db, StoreError};
use super::{Store, FILE_BATCH};
use rusqlite::params;
use std::collections::HashSet;

/// A committed alert as the alert file carries it.
struct StoredLine {
    seq: i64,
    id: String,
    body: String,
}

impl Store {
    /// Append every committed alert the file does not have yet, oldest first, and move
    /// the cursor. After a possible crash or failed append, the file's tail is checked
    /// first, so an alert is never written twice.
    pub(super) fn flush_alert_file(&mut self) -> Result<usize, StoreError> {
        let mut written = 0;
        loop {
            let pending = self.alerts_after(self.file_cursor, FILE_BATCH)?;
            let Some(last_seq) = pending.last().map(|p| p.seq) else {
                break;
            };
            let mut from = 0;
            if self.file_suspect {
                // Appends go in commit order, so the pending alerts already in the
                // file are a prefix of `pending`, ending at the last one in the tail.
                let tail: HashSet<String> =
                    self.file.repair_tail(pending.len())?.into_iter().collect();
                if let Some(i) = pending.iter().rposition(|p| tail.contains(&p.id)) {
                    from = i + 1;
                }
            } else if self.file.rotate_if_large()? {
                tracing::info!(path = %self.file.path().display(), "alert file rotated");
            }
            self.file_suspect = true;
            self.file
                .append(pending[from..].iter().map(|p| p.body.as_str()))?;
            written += pending.len() - from;
            self.set_file_cursor(last_seq)?;
            self.file_suspect = false;
            if pending.len() < FILE_BATCH {
                break;
            }
        }
        self.file_suspect = false;
        Ok(written)
    }

    fn set_file_cursor(&mut self, seq: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE alert_file_cursor SET seq = ?1 WHERE only = 1",
                [seq],
            )
            .map_err(db("move the alert file cursor"))?;
        self.file_cursor = seq;
        Ok(())
    }

    /// Committed alerts after `seq`, in commit order.
    fn alerts_after(&self, seq: i64, limit: usize) -> Result<Vec<StoredLine>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT seq, id, body FROM alerts WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(db("read pending alerts"))?;
        let rows = stmt
            .query_map(params![seq, limit as i64], |r| {
                Ok(StoredLine {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    body: r.get(2)?,
                })
            })
            .map_err(db("read pending alerts"))?;
        rows.collect::<Result<_, _>>()
            .map_err(db("read pending alerts"))
    }
}
