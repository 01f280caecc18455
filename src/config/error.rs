//! Config errors that a gateway operator can act on: file, line, column, key, and what
//! is wrong.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// A configuration that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The file could not be read at all.
    Read { path: PathBuf, message: String },
    /// A key is wrong: unknown, of the wrong type, or with a value that fails validation.
    Invalid {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The key as a dotted path when known (`code_override[1].code`).
        key: Option<String>,
        message: String,
    },
}

impl ConfigError {
    /// An error at a byte span of the file.
    pub fn at(
        path: &Path,
        text: &str,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(text, span.start);
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            column,
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// Translate a TOML/serde error, keeping its position and the key it names.
    pub fn from_toml(path: &Path, text: &str, e: &toml::de::Error) -> Self {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
        let message = e.message().trim().to_owned();
        let key = e.span().and_then(|s| key_at(text, s.start));
        ConfigError::Invalid {
            path: path.to_owned(),
            line,
            column,
            key,
            message,
        }
    }

    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => Some(*line),
            ConfigError::Read { .. } => None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Read { path, message } => {
                write!(
                    f,
                    "{}: cannot read the config file: {message}",
                    path.display()
                )
            }
            ConfigError::Invalid {
                path,
                line,
                column,
                key,
                message,
            } => {
                write!(f, "{}:{line}:{column}: ", path.display())?;
                if let Some(k) = key {
                    write!(f, "key `{k}`: ")?;
                }
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The bare key written on the line of `offset`, if that line is `key = value`.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let start = text
        .get(..offset.min(text.len()))?
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line = text.get(start..)?.lines().next()?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_owned())
}
