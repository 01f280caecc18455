//! The lookup core: code -> meaning, category, severity, field action.
//!
//! Pure data and functions: no I/O, no clock. Every number decodes to something:
//! a number the guide does not define becomes an explicit *unknown* carrying the raw
//! value, never an error and never a panic (ARCHITECTURE.md, "codes never fail to parse").

mod overrides;
mod query;
mod table;

pub use overrides::{CodeOverride, OverrideError, Overrides};
pub use query::{CodeQuery, ParseCodeError};
pub use table::{OPERATING_STATUS, SHORT_CODES};

use serde::Serialize;
use std::fmt;

/// Base of the AMI operating status family: status = 1000 + code-87 sub-code.
pub const STATUS_BASE: u32 = 1000;
/// The highest code-87 sub-code the family has room for (status 1025).
pub const MAX_SUB_CODE: u8 = 25;
/// The short code whose value is a relay disconnect reason (a sub-code).
pub const RELAY_REASON_CODE: u8 = 87;

/// Whether credit codes matter: they do in prepaid, they are ignored in postpaid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Postpaid (the default): credit codes such as 1001 are not applicable.
    #[default]
    Postpaid,
    /// Prepaid: credit codes are relevant.
    Prepaid,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Postpaid => "postpaid",
            Mode::Prepaid => "prepaid",
        })
    }
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "postpaid" => Ok(Mode::Postpaid),
            "prepaid" => Ok(Mode::Prepaid),
            other => Err(format!(
                "unknown mode `{other}`: use `postpaid` or `prepaid`"
            )),
        }
    }
}

/// The guide's categories (its "Key Notes"), plus one of their own for each of the
/// codes the notes leave out, and `Unknown` for numbers the guide does not define.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Normal,
    Credit,
    RelayTest,
    NotCommissioned,
    Tamper,
    LoadPowerQuality,
    Backend,
    Unknown,
}

impl Category {
    /// Every category, in the order a reference card lists them.
    pub const ALL: [Category; 8] = [
        Category::Tamper,
        Category::LoadPowerQuality,
        Category::Backend,
        Category::NotCommissioned,
        Category::Credit,
        Category::RelayTest,
        Category::Normal,
        Category::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Normal => "normal",
            Category::Credit => "credit",
            Category::RelayTest => "relay test",
            Category::NotCommissioned => "not commissioned",
            Category::Tamper => "tamper",
            Category::LoadPowerQuality => "load/power quality",
            Category::Backend => "backend",
            Category::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How urgent a condition is. Ordered: `Ok < Info < Low < Medium < High < Critical`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Ok,
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Ok => "ok",
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ok" => Ok(Severity::Ok),
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "unknown severity `{other}`: use ok, info, low, medium, high or critical"
            )),
        }
    }
}

/// Whether the condition needs someone at the meter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteVisit {
    No,
    /// Try remotely first (backend, customer call); visit if that does not resolve it.
    IfUnresolved,
    Yes,
}

impl SiteVisit {
    pub fn as_str(self) -> &'static str {
        match self {
            SiteVisit::No => "no",
            SiteVisit::IfUnresolved => "if not resolved remotely",
            SiteVisit::Yes => "yes",
        }
    }
}

impl fmt::Display for SiteVisit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a short code's value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Energy,
    Power,
    PowerFactor,
    Count,
    Timestamp,
    RelayReason,
}

impl ValueKind {
    /// The unit a value of this kind is shown in ("" when it has none).
    pub fn unit(self) -> &'static str {
        match self {
            ValueKind::Energy => "kWh",
            ValueKind::Power => "kW",
            ValueKind::PowerFactor => "",
            ValueKind::Count => "count",
            ValueKind::Timestamp => "timestamp",
            ValueKind::RelayReason => "sub-code",
        }
    }
}

/// One row of the short-code table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShortCodeEntry {
    pub code: u8,
    pub name: &'static str,
    /// What it measures, in the guide's words.
    pub measures: &'static str,
    pub kind: ValueKind,
    pub action: &'static str,
}

/// One row of the operating status / code-87 sub-code table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatusEntry {
    pub sub_code: u8,
    pub meaning: &'static str,
    /// What the condition means for the supply, one sentence.
    pub detail: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// One line on why it has that severity.
    pub severity_reason: &'static str,
    pub action: &'static str,
    pub site_visit: SiteVisit,
    /// Whether it matters in postpaid mode (credit codes do not).
    pub postpaid: bool,
}

impl StatusEntry {
    pub fn status(&self) -> u32 {
        STATUS_BASE + u32::from(self.sub_code)
    }
}

/// A meter operating status as read (e.g. 1008). Any raw value is representable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct OperatingStatus(pub u32);

impl OperatingStatus {
    /// The status for a code-87 sub-code (8 -> 1008).
    pub fn from_sub_code(sub_code: u32) -> Self {
        OperatingStatus(STATUS_BASE.saturating_add(sub_code))
    }

    /// The code-87 sub-code, when the value lies in the 1000–1025 family.
    pub fn sub_code(self) -> Option<u8> {
        let sub = self.0.checked_sub(STATUS_BASE)?;
        u8::try_from(sub).ok().filter(|s| *s <= MAX_SUB_CODE)
    }

    /// The guide's row, or `None` for a number the guide does not define.
    pub fn entry(self) -> Option<&'static StatusEntry> {
        let sub = self.sub_code()?;
        OPERATING_STATUS
            .binary_search_by_key(&sub, |e| e.sub_code)
            .ok()
            .and_then(|i| OPERATING_STATUS.get(i))
    }

    /// True for the healthy state (1000).
    pub fn is_normal(self) -> bool {
        self.0 == STATUS_BASE
    }
}

impl fmt::Display for OperatingStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A short code number (01, 14, 40, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ShortCode(pub u8);

impl ShortCode {
    pub fn entry(self) -> Option<&'static ShortCodeEntry> {
        SHORT_CODES
            .binary_search_by_key(&self.0, |e| e.code)
            .ok()
            .and_then(|i| SHORT_CODES.get(i))
    }
}

impl fmt::Display for ShortCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}", self.0)
    }
}

/// A decoded operating status, with the site's overrides and the meter's mode applied.
/// This is what alerts, the probe and the CLI show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusInfo {
    /// The raw status value (1000 + sub-code for the family).
    pub code: u32,
    /// The code-87 sub-code, when the value lies in the 1000–1025 family.
    pub sub_code: Option<u8>,
    pub known: bool,
    pub meaning: String,
    pub detail: String,
    pub category: Category,
    pub severity: Severity,
    pub severity_reason: String,
    pub action: String,
    pub site_visit: SiteVisit,
    /// Whether the code matters in postpaid mode.
    pub postpaid: bool,
    /// The mode the entry was decoded for.
    pub mode: Mode,
    /// Whether it matters in `mode` (credit codes are ignored in postpaid).
    pub relevant: bool,
    /// Whether a site override changed the action or severity.
    pub overridden: bool,
}

/// A decoded short code, with site overrides applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShortCodeInfo {
    pub code: u8,
    pub known: bool,
    pub name: String,
    pub measures: String,
    pub kind: Option<ValueKind>,
    pub unit: String,
    pub action: String,
    pub overridden: bool,
}

/// The lookup core with a site's overrides: the one place every reading is decoded.
#[derive(Clone, Debug, Default)]
pub struct Lookup {
    overrides: Overrides,
}

impl Lookup {
    /// The built-in tables, without site overrides.
    pub fn builtin() -> Self {
        Lookup::default()
    }

    pub fn with_overrides(overrides: Overrides) -> Self {
        Lookup { overrides }
    }

    pub fn overrides(&self) -> &Overrides {
        &self.overrides
    }

    /// Decode an operating status (any raw value) for a meter in `mode`.
    pub fn status(&self, status: OperatingStatus, mode: Mode) -> StatusInfo {
        let sub_code = status.sub_code();
        let mut info = match status.entry() {
            Some(e) => StatusInfo {
                code: status.0,
                sub_code,
                known: true,
                meaning: e.meaning.to_owned(),
                detail: e.detail.to_owned(),
                category: e.category,
                severity: e.severity,
                severity_reason: e.severity_reason.to_owned(),
                action: e.action.to_owned(),
                site_visit: e.site_visit,
                postpaid: e.postpaid,
                mode,
                relevant: mode == Mode::Prepaid || e.postpaid,
                overridden: false,
            },
            None => unknown_status(status, mode),
        };
        if let Some(o) = self.overrides.for_status(status) {
            o.apply(&mut info.action, &mut info.severity);
            info.overridden = true;
        }
        info
    }

    /// Decode a code-87 relay disconnect reason (a sub-code).
    pub fn relay_reason(&self, sub_code: u32, mode: Mode) -> StatusInfo {
        self.status(OperatingStatus::from_sub_code(sub_code), mode)
    }

    /// Decode a short code number.
    pub fn short_code(&self, code: ShortCode) -> ShortCodeInfo {
        let mut info = match code.entry() {
            Some(e) => ShortCodeInfo {
                code: e.code,
                known: true,
                name: e.name.to_owned(),
                measures: e.measures.to_owned(),
                kind: Some(e.kind),
                unit: e.kind.unit().to_owned(),
                action: e.action.to_owned(),
                overridden: false,
            },
            None => ShortCodeInfo {
                code: code.0,
                known: false,
                name: format!("unknown short code {code}"),
                measures: "not defined by the CalinMeter guide".to_owned(),
                kind: None,
                unit: String::new(),
                action:
                    "Check the meter's documentation; report the code to the AMI administrator."
                        .to_owned(),
                overridden: false,
            },
        };
        if let Some(o) = self.overrides.for_short(code) {
            let mut unused = Severity::Info;
            o.apply(&mut info.action, &mut unused);
            info.overridden = true;
        }
        info
    }
}

fn unknown_status(status: OperatingStatus, mode: Mode) -> StatusInfo {
    let detail = match status.sub_code() {
        Some(sub) => format!(
            "Status {} (code 87 sub-code {sub:02}) is not defined by the CalinMeter guide.",
            status.0
        ),
        None => format!(
            "Status {} is outside the 1000–1025 operating status family.",
            status.0
        ),
    };
    StatusInfo {
        code: status.0,
        sub_code: status.sub_code(),
        known: false,
        meaning: format!("Unknown status {}", status.0),
        detail,
        category: Category::Unknown,
        severity: Severity::Medium,
        severity_reason: "An undocumented state cannot be ruled harmless.".to_owned(),
        action: "Record the raw value; check the meter's event log and report the code to the AMI administrator."
            .to_owned(),
        site_visit: SiteVisit::IfUnresolved,
        postpaid: true,
        mode,
        relevant: true,
        overridden: false,
    }
}

#[cfg(test)]
mod tests;
