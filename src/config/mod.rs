//! Configuration files: loading and validation, with errors that name the file, line,
//! key and the fix.
//!
//! Parsing is strict (`deny_unknown_fields`): a typo is an error, never a silently
//! ignored key. Nothing here opens ports or starts tasks.

mod duration;
mod error;
mod fleet;
mod publish;
mod secret;

pub use duration::HumanDuration;
pub use error::ConfigError;
pub use fleet::{
    BusConfig, BusEndpoint, BusProtocol, Dlt645Meter, MeterConfig, OpticalBus, OpticalMeter,
    OpticalMode, PollPlan, DLT645_LINE,
};
pub use publish::{
    MetricsSettings, MqttProtocol, MqttSettings, TlsSettings, DEFAULT_METRICS_LISTEN,
};
pub use secret::Secret;

use crate::codes::{CodeOverride, Lookup, Mode, Overrides, Severity};
use crate::profile::{Profile, ProfileFile};
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

/// Where the daemon keeps its state and how it logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentSettings {
    /// Directory of the state database (SQLite, WAL).
    pub state_dir: PathBuf,
    /// Append-only JSON-lines file of alerts, as written in the file: relative to
    /// `state_dir` (default: `<state_dir>/alerts.jsonl`). See `alerts_file_path`.
    pub alerts_file: Option<PathBuf>,
    /// `auto` (journald under systemd, else text), `journald`, `json` or `text`.
    pub log_format: LogFormat,
    /// A condition still active after this long is raised again as a reminder.
    pub reminder_interval: HumanDuration,
    /// Consecutive failed polls before a meter is reported unreachable.
    pub unreachable_after: u32,
}

/// The default alert file's name in the state directory.
const ALERTS_FILE_NAME: &str = "alerts.jsonl";

impl AgentSettings {
    /// The alert file the daemon writes: `alerts_file` resolved against `state_dir`.
    pub fn alerts_file_path(&self) -> PathBuf {
        self.state_dir.join(
            self.alerts_file
                .as_deref()
                .unwrap_or(Path::new(ALERTS_FILE_NAME)),
        )
    }
}

/// `[agent]` as written; `alerts_file` keeps its position for errors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    #[serde(default = "d_state_dir")]
    state_dir: PathBuf,
    #[serde(default)]
    alerts_file: Option<Spanned<PathBuf>>,
    #[serde(default)]
    log_format: LogFormat,
    #[serde(default = "d_reminder")]
    reminder_interval: HumanDuration,
    #[serde(default = "d_unreachable")]
    unreachable_after: u32,
}

impl Default for RawAgent {
    fn default() -> Self {
        RawAgent {
            state_dir: d_state_dir(),
            alerts_file: None,
            log_format: LogFormat::default(),
            reminder_interval: d_reminder(),
            unreachable_after: d_unreachable(),
        }
    }
}

fn d_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/calin-agent")
}
fn d_reminder() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(24 * 3600))
}
fn d_unreachable() -> u32 {
    3
}

impl Default for AgentSettings {
    fn default() -> Self {
        AgentSettings {
            state_dir: d_state_dir(),
            alerts_file: None,
            log_format: LogFormat::default(),
            reminder_interval: d_reminder(),
            unreachable_after: d_unreachable(),
        }
    }
}

impl RawAgent {
    /// Check `alerts_file`: it names a file, and its directory exists unless it is the
    /// state directory (which the daemon creates).
    fn validate(self, path: &Path, text: &str) -> Result<AgentSettings, ConfigError> {
        let alerts_file = match self.alerts_file {
            None => None,
            Some(f) => {
                let err =
                    |msg: String| ConfigError::at(path, text, f.span(), "agent.alerts_file", msg);
                let full = self.state_dir.join(f.get_ref());
                if f.get_ref().as_os_str().is_empty() || full.file_name().is_none() {
                    return Err(err(format!(
                        "`{}` does not name a file; write e.g. \"{}\"",
                        f.get_ref().display(),
                        self.state_dir.join(ALERTS_FILE_NAME).display()
                    )));
                }
                if full.is_dir() {
                    return Err(err(format!(
                        "{} is a directory; name a file in it, e.g. \"{}\"",
                        full.display(),
                        full.join(ALERTS_FILE_NAME).display()
                    )));
                }
                let dir = full
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                if dir != self.state_dir && !dir.is_dir() {
                    let relative = if f.get_ref().is_relative() {
                        " (a relative path is under state_dir)"
                    } else {
                        ""
                    };
                    return Err(err(format!(
                        "the directory {} does not exist{relative}: create it, writable by the \
                         daemon's user (under systemd only the state directory and \
                         /var/log/calin-agent are writable)",
                        dir.display(),
                    )));
                }
                Some(f.into_inner())
            }
        };
        Ok(AgentSettings {
            state_dir: self.state_dir,
            alerts_file,
            log_format: self.log_format,
            reminder_interval: self.reminder_interval,
            unreachable_after: self.unreachable_after,
        })
    }
}

/// Log output of the daemon.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Auto,
    Journald,
    Json,
    Text,
}

/// Limits that keep the disk of a small gateway from filling.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Readings older than this are pruned.
    #[serde(default = "d_days")]
    pub readings_max_age: HumanDuration,
    /// At most this many readings are kept per meter.
    #[serde(default = "d_per_meter")]
    pub readings_per_meter: u32,
    /// At most this many alerts are kept in the store (the JSON-lines file rotates by
    /// itself: past 16 MiB it becomes `<file>.1`, replacing the previous one).
    #[serde(default = "d_alerts")]
    pub alerts_max: u32,
}

fn d_days() -> HumanDuration {
    HumanDuration(std::time::Duration::from_secs(90 * 86400))
}
fn d_per_meter() -> u32 {
    10_000
}
fn d_alerts() -> u32 {
    100_000
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            readings_max_age: d_days(),
            readings_per_meter: d_per_meter(),
            alerts_max: d_alerts(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfileSection {
    /// A profile file replacing the built-in Calin profile.
    #[serde(default)]
    file: Option<Spanned<String>>,
    /// Single entries replacing those of the profile.
    #[serde(default)]
    object: Vec<crate::profile::RawObject>,
    /// Single optical readout ids replacing those of the profile.
    #[serde(default)]
    readout: Vec<crate::profile::RawReadout>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    site: Site,
    #[serde(default)]
    code_override: Vec<RawOverride>,
    #[serde(default)]
    agent: RawAgent,
    #[serde(default)]
    poll: Option<Spanned<PollPlan>>,
    #[serde(default)]
    retention: Retention,
    #[serde(default)]
    profile: RawProfileSection,
    #[serde(default)]
    bus: Vec<fleet::RawBus>,
    #[serde(default)]
    mqtt: Option<publish::RawMqtt>,
    #[serde(default)]
    metrics: publish::RawMetrics,
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
    pub agent: AgentSettings,
    /// Default poll plan (each meter may have its own).
    pub poll: PollPlan,
    pub retention: Retention,
    /// Which COSEM object answers each reading (built-in Calin profile unless replaced).
    pub profile: Profile,
    pub buses: Vec<BusConfig>,
    /// Publishing to the fleet's broker; `None`: nothing is published.
    pub mqtt: Option<MqttSettings>,
    pub metrics: MetricsSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: PathBuf::from("<built-in>"),
            site: Site::default(),
            lookup: Lookup::builtin(),
            agent: AgentSettings::default(),
            poll: PollPlan::default(),
            retention: Retention::default(),
            profile: Profile::calin(),
            buses: Vec::new(),
            mqtt: None,
            metrics: MetricsSettings::default(),
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
        let agent = raw.agent.validate(path, text)?;
        let ctx = fleet::Ctx { path, text };
        let poll = match &raw.poll {
            Some(p) => {
                fleet::check_jitter(&ctx, p, "poll.jitter", p.get_ref().jitter)?;
                *p.get_ref()
            }
            None => PollPlan::default(),
        };
        let mut profile = match &raw.profile.file {
            Some(f) => {
                ProfileFile::load(&resolve(path, f.get_ref()))
                    .map_err(|e| {
                        ConfigError::at(
                            path,
                            text,
                            f.span(),
                            "profile.file",
                            format!("the profile cannot be used: {e}"),
                        )
                    })?
                    .profile
            }
            None => Profile::calin(),
        };
        for (i, o) in raw.profile.object.iter().enumerate() {
            profile.set_object(o.validate(path, text, &format!("profile.object[{i}]"))?);
        }
        for (i, r) in raw.profile.readout.iter().enumerate() {
            profile.set_readout(r.validate(path, text, &format!("profile.readout[{i}]"))?);
        }
        let buses = fleet::validate_buses(&ctx, raw.bus, raw.site.mode, poll)?;
        let mqtt = raw
            .mqtt
            .map(|m| publish::validate_mqtt(path, text, m))
            .transpose()?;
        let metrics = publish::validate_metrics(path, text, raw.metrics)?;
        Ok(Config {
            path: path.to_owned(),
            site: raw.site,
            lookup: Lookup::with_overrides(overrides),
            agent,
            poll,
            retention: raw.retention,
            profile,
            buses,
            mqtt,
            metrics,
        })
    }
}

/// A path in a config file is relative to the file's directory.
fn resolve(config: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_owned()
    } else {
        config.parent().unwrap_or(Path::new(".")).join(p)
    }
}

#[cfg(test)]
mod tests;
