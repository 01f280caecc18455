//! Read-only queries over the store: last states, alerts, readings, counts.
//!
//! Nothing here writes. Rows that no longer parse are reported as `Corrupt` with their
//! key rather than skipped, so a bad row is seen, not silently lost.

use super::error::{db, StoreError};
use super::Store;
use crate::agent::alerts::Alert;
use crate::agent::reading::{MeterId, PollOutcome};
use crate::agent::state::MeterState;
use rusqlite::{params, OptionalExtension};
use serde::de::DeserializeOwned;

fn parse<T: DeserializeOwned>(what: &'static str, key: &str, body: &str) -> Result<T, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        what,
        key: key.to_owned(),
        message: e.to_string(),
    })
}

/// The most rows one query returns, whatever `limit` asks.
pub const MAX_QUERY_ROWS: usize = 10_000;

fn cap(limit: usize) -> i64 {
    i64::try_from(limit.min(MAX_QUERY_ROWS)).unwrap_or(0)
}

impl Store {
    /// The committed state of `meter`, or `None` for a meter never recorded.
    pub fn last_state(&self, meter: &MeterId) -> Result<Option<MeterState>, StoreError> {
        let body: Option<String> = self
            .connection()
            .query_row(
                "SELECT state FROM meter_state WHERE meter = ?1",
                [meter.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(db("read a meter state"))?;
        body.map(|b| parse("meter state", meter.as_str(), &b))
            .transpose()
    }

    /// Every meter's committed state, by meter id.
    pub fn states(&self) -> Result<Vec<MeterState>, StoreError> {
        let mut stmt = self
            .connection()
            .prepare("SELECT meter, state FROM meter_state ORDER BY meter")
            .map_err(db("read meter states"))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(db("read meter states"))?;
        let mut out = Vec::new();
        for row in rows {
            let (meter, body) = row.map_err(db("read meter states"))?;
            out.push(parse("meter state", &meter, &body)?);
        }
        Ok(out)
    }

    /// Alerts raised at or after `since` (unix ms), of one meter or all, oldest first
    /// (in commit order within a millisecond), at most `limit` (capped at
    /// [`MAX_QUERY_ROWS`]).
    pub fn alerts(
        &self,
        since: i64,
        meter: Option<&MeterId>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        let mut stmt = self
            .connection()
            .prepare_cached(
                "SELECT id, body FROM alerts
                 WHERE raised_at >= ?1 AND (?2 IS NULL OR meter = ?2)
                 ORDER BY raised_at, seq LIMIT ?3",
            )
            .map_err(db("query alerts"))?;
        let rows = stmt
            .query_map(
                params![since, meter.map(MeterId::as_str), cap(limit)],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
            )
            .map_err(db("query alerts"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(db("query alerts"))?;
            out.push(parse("alert", &id, &body)?);
        }
        Ok(out)
    }

    /// Poll outcomes of `meter` (readings and failed polls) at or after `since`, oldest
    /// first, at most `limit` (capped at [`MAX_QUERY_ROWS`]).
    pub fn readings(
        &self,
        meter: &MeterId,
        since: i64,
        limit: usize,
    ) -> Result<Vec<PollOutcome>, StoreError> {
        let mut stmt = self
            .connection()
            .prepare_cached(
                "SELECT id, body FROM readings WHERE meter = ?1 AND at >= ?2 ORDER BY at, id LIMIT ?3",
            )
            .map_err(db("query readings"))?;
        let rows = stmt
            .query_map(params![meter.as_str(), since, cap(limit)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(db("query readings"))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(db("query readings"))?;
            out.push(parse("reading", &id.to_string(), &body)?);
        }
        Ok(out)
    }

    /// How many alerts the database holds.
    pub fn alert_count(&self) -> Result<u64, StoreError> {
        self.count("SELECT count(*) FROM alerts", None)
    }

    /// How many poll outcomes the database holds for `meter`.
    pub fn reading_count(&self, meter: &MeterId) -> Result<u64, StoreError> {
        self.count(
            "SELECT count(*) FROM readings WHERE meter = ?1",
            Some(meter.as_str()),
        )
    }

    fn count(&self, sql: &str, arg: Option<&str>) -> Result<u64, StoreError> {
        let n: i64 = match arg {
            Some(a) => self.connection().query_row(sql, [a], |r| r.get(0)),
            None => self.connection().query_row(sql, [], |r| r.get(0)),
        }
        .map_err(db("count rows"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }
}
