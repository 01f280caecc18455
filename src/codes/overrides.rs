//! Site overrides of action text and severity, per code, from the site's config file.
//!
//! An override may only name a code the built-in tables define: a typo in a config must
//! not silently do nothing. Validation lives here; the config loader adds file and line.

use super::{CodeQuery, OperatingStatus, ParseCodeError, Severity, ShortCode};
use std::collections::BTreeMap;

/// What a site replaces for one code.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CodeOverride {
    /// The site's own field action (e.g. its commissioning-token procedure).
    pub action: Option<String>,
    /// The site's own severity (status codes only).
    pub severity: Option<Severity>,
}

impl CodeOverride {
    pub(super) fn apply(&self, action: &mut String, severity: &mut Severity) {
        if let Some(a) = &self.action {
            action.clone_from(a);
        }
        if let Some(s) = self.severity {
            *severity = s;
        }
    }
}

/// Why an override was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    #[error(transparent)]
    NotACode(#[from] ParseCodeError),
    #[error("code `{0}` does not exist in the code table, so it cannot be overridden (see `calin-agent codes` for the list)")]
    UnknownCode(String),
    #[error("code `{0}` is overridden twice")]
    Duplicate(String),
    #[error("the override for code `{0}` changes nothing: give `action`, `severity` or both")]
    Empty(String),
    #[error("short code `{0}` has no severity to override (only operating status codes do): remove `severity`")]
    SeverityOnShortCode(String),
    #[error("the override for code `{0}` has an empty `action`")]
    EmptyAction(String),
}

/// All of a site's overrides, validated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Overrides {
    status: BTreeMap<u32, CodeOverride>,
    short: BTreeMap<u8, CodeOverride>,
}

impl Overrides {
    /// Add the override for `code` (any accepted form: `1008`, `87:8`, `40`).
    pub fn insert(&mut self, code: &str, o: CodeOverride) -> Result<(), OverrideError> {
        let name = || code.trim().to_owned();
        if o.action.is_none() && o.severity.is_none() {
            return Err(OverrideError::Empty(name()));
        }
        if o.action.as_deref().is_some_and(|a| a.trim().is_empty()) {
            return Err(OverrideError::EmptyAction(name()));
        }
        match code.parse::<CodeQuery>()? {
            CodeQuery::Status(s) if s.entry().is_some() => {
                if self.status.insert(s.0, o).is_some() {
                    return Err(OverrideError::Duplicate(name()));
                }
            }
            CodeQuery::Short(c) if c.entry().is_some() => {
                if o.severity.is_some() {
                    return Err(OverrideError::SeverityOnShortCode(name()));
                }
                if self.short.insert(c.0, o).is_some() {
                    return Err(OverrideError::Duplicate(name()));
                }
            }
            _ => return Err(OverrideError::UnknownCode(name())),
        }
        Ok(())
    }

    pub fn for_status(&self, s: OperatingStatus) -> Option<&CodeOverride> {
        self.status.get(&s.0)
    }

    pub fn for_short(&self, c: ShortCode) -> Option<&CodeOverride> {
        self.short.get(&c.0)
    }

    pub fn is_empty(&self) -> bool {
        self.status.is_empty() && self.short.is_empty()
    }

    pub fn len(&self) -> usize {
        self.status.len() + self.short.len()
    }
}
