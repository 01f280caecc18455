//! Configuration files: loading and validation, with errors that name the file, line,
//! key and the fix.
//!
//! Parsing is strict (`deny_unknown_fields`): a typo is an error, never a silently
//! ignored key. Nothing here opens ports or starts tasks.

mod error;

pub use error::ConfigError;

use crate::codes::{CodeOverride, Lookup, Mode, Overrides, Severity};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Where an installed gateway keeps its configuration.
pub const DEFAULT_CONFIG_PATH: &str = "/etc/calin-agent/agent.toml";

/// The site section: who this gateway serves and how codes are read there.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Shown on reports and the reference card.
    #[serde(default)]
    pub name: Option<String>,
    /// Default billing mode of the meters (`postpaid` unless a meter says otherwise).
    #[serde(default)]
    pub mode: Mode,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    site: Site,
    #[serde(default)]
    code_override: Vec<RawOverride>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    code: Spanned<String>,
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    severity: Option<Severity>,
}

/// A loaded, validated configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// The file it came from (for messages), or `<built-in>`.
    pub path: PathBuf,
    pub site: Site,
    /// The lookup core with the site's overrides applied.
    pub lookup: Lookup,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: PathBuf::from("<built-in>"),
            site: Site::default(),
            lookup: Lookup::builtin(),
        }
    }
}

impl Config {
    /// Read and validate a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        Config::parse(path, &text)
    }

    /// Validate config text; `path` is used in messages only.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(path, text, &e))?;
        let mut overrides = Overrides::default();
        for (i, o) in raw.code_override.into_iter().enumerate() {
            let span = o.code.span();
            let code = o.code.into_inner();
            let entry = CodeOverride {
                action: o.action,
                severity: o.severity,
            };
            overrides.insert(&code, entry).map_err(|e| {
                ConfigError::at(
                    path,
                    text,
                    span,
                    format!("code_override[{i}].code"),
                    e.to_string(),
                )
            })?;
        }
        Ok(Config {
            path: path.to_owned(),
            site: raw.site,
            lookup: Lookup::with_overrides(overrides),
        })
    }
}

#[cfg(test)]
mod tests;
