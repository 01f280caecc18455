//! Retention: how much history the store keeps, and bounded pruning steps that keep
//! it there so a small gateway's disk never fills.
//!
//! Each step deletes at most `prune_batch` rows per rule, so no transaction grows with
//! the backlog. It never deletes meter states, and never an alert that is not yet in
//! the alert file unless the backlog passes twice the alert limit.

use super::error::{db, StoreError};
use rusqlite::{params, Transaction};

const DAY_MS: i64 = 86_400_000;

/// How much history to keep (from the agent config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Readings kept per meter (newest first); older ones are pruned.
    pub readings_per_meter: u32,
    /// Readings older than this (milliseconds before `now`) are pruned.
    pub reading_max_age_ms: i64,
    /// Alerts kept in the database (newest first).
    pub max_alerts: u32,
    /// Rows deleted per rule and step: the bound on one pruning transaction.
    pub prune_batch: u32,
    /// The alert file is rotated to `alerts.jsonl.1` past this size, so the two files
    /// together stay under about twice it.
    pub alert_file_max_bytes: u64,
}

impl Default for Retention {
    // Design: sized for a small gateway: a reading is about 0.5 kB of JSON, an alert
    // about 1.5 kB, so 100 meters polled every 15 minutes keep 31 days in roughly
    // 150 MB at most, alerts add at most 30 MB, the alert files 32 MB.
    fn default() -> Self {
        Retention {
            readings_per_meter: 3000,
            reading_max_age_ms: 31 * DAY_MS,
            max_alerts: 20_000,
            prune_batch: 500,
            alert_file_max_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Rows deleted by pruning.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub readings: usize,
    pub alerts: usize,
}

impl PruneReport {
    pub fn is_empty(&self) -> bool {
        self.readings == 0 && self.alerts == 0
    }

    pub fn add(&mut self, other: &PruneReport) {
        self.readings += other.readings;
        self.alerts += other.alerts;
    }
}

/// One bounded pruning step inside `tx`: the per-meter reading limit for `meter` (or
/// for every meter when `None`), the reading age limit, the alert limit. Alerts after
/// `file_cursor` (not yet in the alert file) are spared up to twice the limit.
pub(super) fn prune_step(
    tx: &Transaction<'_>,
    r: &Retention,
    meter: Option<&str>,
    file_cursor: i64,
    now: i64,
) -> Result<PruneReport, StoreError> {
    let batch = i64::from(r.prune_batch.max(1));
    let mut report = PruneReport::default();
    let meters: Vec<String> = match meter {
        Some(m) => vec![m.to_owned()],
        None => {
            let mut stmt = tx
                .prepare("SELECT DISTINCT meter FROM readings")
                .map_err(db("list meters"))?;
            let rows = stmt
                .query_map([], |row| row.get(0))
                .map_err(db("list meters"))?;
            rows.collect::<Result<_, _>>().map_err(db("list meters"))?
        }
    };
    for m in &meters {
        report.readings += tx
            .prepare_cached(
                "DELETE FROM readings WHERE id IN (
                     SELECT id FROM readings WHERE meter = ?1 ORDER BY id DESC LIMIT ?2 OFFSET ?3)",
            )
            .and_then(|mut statement| {
                statement.execute(params![m, batch, i64::from(r.readings_per_meter)])
            })
            .map_err(db("prune readings per meter"))?;
    }
    report.readings += tx
        .prepare_cached(
            "DELETE FROM readings WHERE id IN (
                 SELECT id FROM readings WHERE at < ?1 ORDER BY at LIMIT ?2)",
        )
        .and_then(|mut statement| {
            statement.execute(params![now.saturating_sub(r.reading_max_age_ms), batch])
        })
        .map_err(db("prune old readings"))?;
    let keep = i64::from(r.max_alerts);
    report.alerts += tx
        .prepare_cached(
            "DELETE FROM alerts WHERE seq IN (
                 SELECT seq FROM alerts
                 WHERE seq <= (SELECT max(seq) FROM alerts) - ?1
                   AND (seq <= ?2 OR seq <= (SELECT max(seq) FROM alerts) - 2 * ?1)
                 ORDER BY seq LIMIT ?3)",
        )
        .and_then(|mut statement| statement.execute(params![keep, file_cursor, batch]))
        .map_err(db("prune alerts"))?;
    Ok(report)
}
