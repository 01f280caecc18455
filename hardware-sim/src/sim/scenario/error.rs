//! Scenario errors a tester can act on: file, line, column, key, and what is wrong.

use std::fmt;
use std::ops::Range;

/// A scenario that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScenarioError {
    /// The file could not be read.
    Read { path: String, message: String },
    /// Something in the file is wrong.
    Invalid {
        /// The file name (or `<built-in ...>`).
        source: String,
        line: usize,
        column: usize,
        /// Dotted key when known: `meter[1].codes.40`.
        key: Option<String>,
        message: String,
    },
}

impl ScenarioError {
    /// An error at a byte span of `text`.
    pub(crate) fn at(
        source: &str,
        text: &str,
        span: Range<usize>,
        key: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let (line, column) = line_col(text, span.start);
        ScenarioError::Invalid {
            source: source.to_owned(),
            line,
            column,
            key: Some(key.into()),
            message: message.into(),
        }
    }

    /// A TOML syntax or shape error, with its position.
    pub(crate) fn from_toml(source: &str, text: &str, e: &toml::de::Error) -> Self {
        let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
        ScenarioError::Invalid {
            source: source.to_owned(),
            line,
            column,
            key: None,
            message: e.message().trim().to_owned(),
        }
    }

    /// The 1-based line of the mistake, when it has one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ScenarioError::Invalid { line, .. } => Some(*line),
            ScenarioError::Read { .. } => None,
        }
    }

    /// The dotted key of the mistake, when known.
    pub fn key(&self) -> Option<&str> {
        match self {
            ScenarioError::Invalid { key, .. } => key.as_deref(),
            ScenarioError::Read { .. } => None,
        }
    }
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScenarioError::Read { path, message } => {
                write!(f, "{path}: cannot read the scenario: {message}")
            }
            ScenarioError::Invalid {
                source,
                line,
                column,
                key,
                message,
            } => {
                write!(f, "{source}:{line}:{column}: ")?;
                if let Some(k) = key {
                    write!(f, "`{k}`: ")?;
                }
                f.write_str(message)
            }
        }
    }
}

impl std::error::Error for ScenarioError {}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
