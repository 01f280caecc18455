//! Scenarios: the meters on the line, their values and logs, what changes when, and what
//! goes wrong. Read from TOML (`config/scenarios/*.toml`), strictly: unknown keys and bad
//! values are errors naming the file, line and key.
//!
//! Validated here against the profile (`Profile::calin()` unless told otherwise): every
//! short code must be one the profile maps, every event log one it reads. This module
//! holds data only; the meters that serve it are built in `meter`.

mod error;
mod faults;
mod parse;
mod ports;
mod raw;
mod values;

#[cfg(test)]
mod tests;

use core::fmt;
use core::time::Duration;
use std::collections::BTreeMap;
use std::path::Path;

use crate::codes::ShortCode;
use crate::profile::Profile;
use crate::protocol::axdr::Data;
use crate::protocol::hdlc::HdlcAddress;
use crate::protocol::obis::ObisCode;
use crate::protocol::units::ScalerUnit;

use super::fault::FaultSpec;
use super::time::LocalTime;

pub use error::ScenarioError;
pub use ports::{address_from_serial, Dlt645Spec, OpticalSpec, PROTOCOL_NAMES};

/// The built-in scenario: one demo meter (the file `config/scenarios/single.toml`).
pub const SINGLE_SCENARIO_TOML: &str = include_str!("../../../../config/scenarios/single.toml");
/// The demo fleet (the file `config/scenarios/demo.toml`).
pub const DEMO_SCENARIO_TOML: &str = include_str!("../../../../config/scenarios/demo.toml");

/// A whole scenario: the meters on one line (or behind one TCP port).
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub description: Option<String>,
    /// The meters' clock at scenario time zero.
    pub start: LocalTime,
    pub meters: Vec<MeterSpec>,
}

/// The LLS secret of a meter. Never printed: `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Vec<u8>);

impl Password {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        Password(bytes.into())
    }

    /// Constant-time comparison with what a client sent.
    pub fn matches(&self, offered: &[u8]) -> bool {
        self.0.len() == offered.len()
            && self
                .0
                .iter()
                .zip(offered)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Password(<{} bytes redacted>)", self.0.len())
    }
}

/// What the public client (SAP 16, no authentication) may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicReads {
    /// Every object.
    All,
    /// Identity, clock and the association object only; the rest is read-write-denied.
    Identity,
}

/// Disconnect control `control_state` (Blue Book class 70).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayState {
    Disconnected = 0,
    Connected = 1,
    ReadyForReconnection = 2,
}

impl RelayState {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s {
            "connected" => Ok(RelayState::Connected),
            "disconnected" => Ok(RelayState::Disconnected),
            "ready" | "ready-for-reconnection" => Ok(RelayState::ReadyForReconnection),
            other => Err(format!(
                "`{other}` is not a relay state: use connected, disconnected or ready"
            )),
        }
    }

    /// output_state: the supply is on only when connected.
    pub fn output(self) -> bool {
        self == RelayState::Connected
    }
}

/// The A-XDR integer type a value is served as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntType {
    Integer,
    Long,
    DoubleLong,
    Long64,
    Unsigned,
    LongUnsigned,
    DoubleLongUnsigned,
    Long64Unsigned,
}

impl IntType {
    pub const NAMES: [(&'static str, IntType); 8] = [
        ("integer", IntType::Integer),
        ("long", IntType::Long),
        ("double-long", IntType::DoubleLong),
        ("long64", IntType::Long64),
        ("unsigned", IntType::Unsigned),
        ("long-unsigned", IntType::LongUnsigned),
        ("double-long-unsigned", IntType::DoubleLongUnsigned),
        ("long64-unsigned", IntType::Long64Unsigned),
    ];

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == s)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(n, _)| *n).collect();
                format!(
                    "`{s}` is not an integer type: use one of {}",
                    names.join(", ")
                )
            })
    }

    /// The smallest and largest values of the type (within `i64`).
    pub fn bounds(self) -> (i64, i64) {
        match self {
            IntType::Integer => (i8::MIN.into(), i8::MAX.into()),
            IntType::Long => (i16::MIN.into(), i16::MAX.into()),
            IntType::DoubleLong => (i32::MIN.into(), i32::MAX.into()),
            IntType::Long64 => (i64::MIN, i64::MAX),
            IntType::Long64Unsigned => (0, i64::MAX),
            IntType::Unsigned => (0, u8::MAX.into()),
            IntType::LongUnsigned => (0, u16::MAX.into()),
            IntType::DoubleLongUnsigned => (0, u32::MAX.into()),
        }
    }

    /// `v` clamped into the type.
    pub fn saturate(self, v: i64) -> Data {
        let (lo, hi) = self.bounds();
        self.to_data(v.clamp(lo, hi)).unwrap_or(Data::NullData)
    }

    /// `v` as this type; `None` when it does not fit.
    pub fn to_data(self, v: i64) -> Option<Data> {
        Some(match self {
            IntType::Integer => Data::Integer(v.try_into().ok()?),
            IntType::Long => Data::Long(v.try_into().ok()?),
            IntType::DoubleLong => Data::DoubleLong(v.try_into().ok()?),
            IntType::Long64 => Data::Long64(v),
            IntType::Unsigned => Data::Unsigned(v.try_into().ok()?),
            IntType::LongUnsigned => Data::LongUnsigned(v.try_into().ok()?),
            IntType::DoubleLongUnsigned => Data::DoubleLongUnsigned(v.try_into().ok()?),
            IntType::Long64Unsigned => Data::Long64Unsigned(v.try_into().ok()?),
        })
    }
}

/// The value of one short code as a meter serves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeValue {
    pub value: i64,
    pub data_type: IntType,
    /// For registers (class 3/4): attribute 3. `None` for plain data objects.
    pub scaler_unit: Option<ScalerUnit>,
}

/// One entry of an event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRecord {
    pub time: LocalTime,
    pub code: u16,
}

/// The initial contents of one event log (Profile Generic).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLogSpec {
    pub log: ObisCode,
    /// Oldest first, as the buffer holds them.
    pub entries: Vec<EventRecord>,
}

/// An event appended by a scripted change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewEvent {
    pub log: ObisCode,
    pub code: u16,
    /// Default: the meter's clock when the change happens.
    pub time: Option<LocalTime>,
}

/// What happens to a meter at one scenario time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Change {
    /// Scenario time (since the simulator started, before any time scale).
    pub at: Duration,
    pub status: Option<u32>,
    pub set: Vec<(ShortCode, i64)>,
    pub add: Vec<(ShortCode, i64)>,
    pub relay: Option<RelayState>,
    pub events: Vec<NewEvent>,
    /// `true`: the meter stops answering (powered off); `false`: it is back, with every
    /// HDLC connection and association dropped.
    pub offline: Option<bool>,
}

/// One simulated meter.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterSpec {
    /// For logs and the handle; defaults to the serial number.
    pub name: String,
    /// Its HDLC server address (logical device and physical address, at its wire size).
    pub address: HdlcAddress,
    pub serial: String,
    pub device_name: String,
    pub firmware: String,
    pub password: Option<Password>,
    pub public_reads: PublicReads,
    /// Largest APDU it sends or receives; longer responses go out as GET blocks.
    pub max_pdu: u16,
    /// HDLC maximum information field length it accepts and sends.
    pub max_info: u16,
    /// Drop an idle HDLC connection after this long (none: never).
    pub inactivity_timeout: Option<Duration>,
    pub status: u32,
    pub relay: RelayState,
    pub control_mode: u8,
    /// Every short code the profile maps to an object (event times come from the logs).
    pub codes: BTreeMap<ShortCode, CodeValue>,
    pub event_logs: Vec<EventLogSpec>,
    /// Sorted by time.
    pub changes: Vec<Change>,
    pub faults: Vec<FaultSpec>,
    /// Starts powered off.
    pub offline: bool,
    /// Speaks DLMS/COSEM (HDLC on RS-485, the wrapper on TCP, and mode E of the optical port).
    pub dlms: bool,
    /// Has an optical port (IEC 62056-21).
    pub optical: Option<OpticalSpec>,
    /// Speaks DL/T 645 on RS-485.
    pub dlt645: Option<Dlt645Spec>,
}

impl Scenario {
    /// Parse against the built-in Calin profile. `source` names the text in errors.
    pub fn parse(source: &str, text: &str) -> Result<Scenario, ScenarioError> {
        Self::parse_with_profile(source, text, &Profile::calin())
    }

    pub fn parse_with_profile(
        source: &str,
        text: &str,
        profile: &Profile,
    ) -> Result<Scenario, ScenarioError> {
        parse::parse(source, text, profile)
    }

    pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// The built-in default: one demo meter whose objects follow `Profile::calin()`.
    pub fn builtin() -> Scenario {
        // Design: a unit test parses this text, so the fallback is unreachable in a
        // released binary; it still avoids a panic path.
        Self::parse("<built-in single.toml>", SINGLE_SCENARIO_TOML).unwrap_or_else(|_| Scenario {
            description: None,
            start: LocalTime {
                secs: 0,
                deviation: 0,
            },
            meters: Vec::new(),
        })
    }

    /// The demo fleet shipped for `calin-agent demo`.
    pub fn demo() -> Result<Scenario, ScenarioError> {
        Self::parse("<built-in demo.toml>", DEMO_SCENARIO_TOML)
    }

    /// Index of the meter with this name or serial number.
    pub fn meter_index(&self, name_or_serial: &str) -> Option<usize> {
        self.meters
            .iter()
            .position(|m| m.name == name_or_serial || m.serial == name_or_serial)
    }
}
