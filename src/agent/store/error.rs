//! What can go wrong in the state store, with the data needed to act on it.

use std::path::PathBuf;

/// A hook's own failure, carried unchanged.
pub type HookFailure = Box<dyn std::error::Error + Send + Sync + 'static>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the state directory {path}: {source}")]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the state database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("state database: {op}: {source}")]
    Db {
        op: &'static str,
        source: rusqlite::Error,
    },
    #[error("state database {path} has schema version {found}, newer than the {supported} this agent knows: run a newer agent, or move the file away to start afresh")]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("state database {path} has schema version {found}, this agent reads {supported}: run the daemon of this version once (it migrates the store), or use the agent that wrote it")]
    SchemaMismatch {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("state database {path}: journal mode is `{found}`, not `wal` (is it on a file system without shared memory support?)")]
    NotWal { path: PathBuf, found: String },
    #[error("stored {what} `{key}` cannot be read: {message}")]
    Corrupt {
        what: &'static str,
        key: String,
        message: String,
    },
    #[error("cannot encode {what} for meter {meter}: {message}")]
    Encode {
        what: &'static str,
        meter: String,
        message: String,
    },
    #[error("the evaluation is for meter {state}, the poll outcome for meter {outcome}")]
    MeterMismatch { state: String, outcome: String },
    #[error("alert file {path}: {op}: {source}")]
    AlertFile {
        path: PathBuf,
        op: &'static str,
        source: std::io::Error,
    },
    #[error("commit hook `{name}` failed, the cycle was not recorded: {source}")]
    Hook { name: String, source: HookFailure },
}

/// `map_err` helper: a database error during `op`.
pub(super) fn db(op: &'static str) -> impl FnOnce(rusqlite::Error) -> StoreError {
    move |source| StoreError::Db { op, source }
}
