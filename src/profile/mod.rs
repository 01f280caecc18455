//! Which COSEM object answers each reading (short code, operating status, relay state,
//! identity), loaded from `config/profiles/*.toml`.
//!
//! Data, not code: Calin publishes no object list, so every entry carries its
//! provenance (standard, public code, or guess) and a site can replace the profile or
//! one entry. Nothing here talks to a meter.

mod load;

use crate::codes::{ShortCode, ValueKind};
use crate::protocol::obis::ObisCode;
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

pub use load::ProfileFile;
pub(crate) use load::{RawObject, RawReadout};

/// The built-in default Calin profile (the file `config/profiles/calin.toml`).
pub const CALIN_PROFILE_TOML: &str = include_str!("../../config/profiles/calin.toml");

/// What a profile entry reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reads {
    Short(ShortCode),
    /// Meter operating status (1000 + code-87 sub-code).
    Status,
    /// Disconnect control output_state.
    Relay,
    /// Disconnect control control_state.
    RelayControl,
    Serial,
    DeviceName,
    Firmware,
    Clock,
}

impl FromStr for Reads {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "status" => Reads::Status,
            "relay" => Reads::Relay,
            "relay_control" => Reads::RelayControl,
            "serial" => Reads::Serial,
            "device_name" => Reads::DeviceName,
            "firmware" => Reads::Firmware,
            "clock" => Reads::Clock,
            digits if !digits.is_empty() && digits.len() <= 2 && digits.bytes().all(|b| b.is_ascii_digit()) => {
                let code = ShortCode(digits.parse().map_err(|_| format!("`{s}` is not a short code"))?);
                if code.entry().is_none() {
                    return Err(format!("`{s}` is not a short code of the code table (see `calin-agent codes`)"));
                }
                Reads::Short(code)
            }
            other => {
                return Err(format!(
                    "`{other}` is not a reading: use a short code (\"01\" .. \"87\") or status, relay, relay_control, serial, device_name, firmware, clock"
                ))
            }
        })
    }
}

impl fmt::Display for Reads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reads::Short(c) => write!(f, "{c}"),
            Reads::Status => f.write_str("status"),
            Reads::Relay => f.write_str("relay"),
            Reads::RelayControl => f.write_str("relay_control"),
            Reads::Serial => f.write_str("serial"),
            Reads::DeviceName => f.write_str("device_name"),
            Reads::Firmware => f.write_str("firmware"),
            Reads::Clock => f.write_str("clock"),
        }
    }
}

/// Where an entry's mapping comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Provenance {
    /// The DLMS UA OBIS catalogue.
    Standard,
    /// Seen in public Calin integration code; not vendor-documented.
    PublicCode,
    /// Our choice where no source says: verify on a real meter.
    Guess,
}

/// One attribute of one COSEM object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AttributeRef {
    pub class_id: u16,
    pub obis: ObisCode,
    pub attribute: i8,
}

impl fmt::Display for AttributeRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.class_id, self.obis, self.attribute)
    }
}

impl FromStr for AttributeRef {
    type Err = String;
    /// `CLASS:OBIS:ATTR`, e.g. `3:1.0.1.8.0.255:2`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split(':').collect();
        let [class, obis, attr] = parts.as_slice() else {
            return Err(format!(
                "`{s}` is not CLASS:OBIS:ATTR (for example 3:1.0.1.8.0.255:2)"
            ));
        };
        let class_id = class
            .parse()
            .map_err(|_| format!("class `{class}` is not a number 0..65535"))?;
        let obis = obis.parse().map_err(|e| format!("{e}"))?;
        let attribute: i8 = attr
            .parse()
            .map_err(|_| format!("attribute `{attr}` is not a number 1..127"))?;
        if attribute < 1 {
            return Err(format!("attribute `{attr}` must be 1..127"));
        }
        Ok(AttributeRef {
            class_id,
            obis,
            attribute,
        })
    }
}

/// `[[object]]`: a reading answered by one attribute.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ObjectEntry {
    pub reads: Reads,
    pub target: AttributeRef,
    pub provenance: Provenance,
    pub note: Option<String>,
}

/// `[[event]]`: the nth most recent time of a kind of event, from an event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EventEntry {
    pub reads: ShortCode,
    pub log: ObisCode,
    pub events: Vec<u16>,
    pub nth: u8,
    pub provenance: Provenance,
}

/// `[[readout]]`: the IEC 62056-21 readout id (optical port, mode C readout or R1
/// register read) that answers a reading, e.g. `1.8.0` for short code 01.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReadoutEntry {
    /// `1.8.0`, `C.87.0`, or with medium/channel and current-value suffix `1-0:1.8.0*255`.
    pub id: String,
    pub reads: Reads,
    pub provenance: Provenance,
    pub note: String,
}

/// The short form of a current-value readout id: `1-0:1.8.0*255` and `1.8.0` are
/// `1.8.0`; `None` for a stored (historical) value such as `1.8.0*03` or `1.8.0&03`.
pub fn readout_short_id(id: &str) -> Option<&str> {
    let id = match id.split_once(':') {
        Some((group, rest))
            if group
                .split('-')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) =>
        {
            rest
        }
        _ => id,
    };
    match id.split_once(['*', '&']) {
        Some((core, "255")) => Some(core),
        Some(_) => None,
        None => Some(id),
    }
}

/// A validated profile.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Profile {
    pub name: String,
    pub description: Option<String>,
    pub objects: Vec<ObjectEntry>,
    pub events: Vec<EventEntry>,
    /// Readout ids of the optical port (IEC 62056-21).
    pub readout: Vec<ReadoutEntry>,
}

impl Profile {
    /// The built-in default Calin profile.
    pub fn calin() -> Profile {
        // Design: the built-in file is checked by a unit test, so this cannot fail in a
        // released binary; fall back to an empty profile rather than panic regardless.
        ProfileFile::parse(
            std::path::Path::new("<built-in calin profile>"),
            CALIN_PROFILE_TOML,
        )
        .map(|f| f.profile)
        .unwrap_or_else(|_| Profile {
            name: "calin".into(),
            description: None,
            objects: Vec::new(),
            events: Vec::new(),
            readout: Vec::new(),
        })
    }

    pub fn object(&self, reads: Reads) -> Option<&ObjectEntry> {
        self.objects.iter().find(|o| o.reads == reads)
    }

    pub fn event(&self, code: ShortCode) -> Option<&EventEntry> {
        self.events.iter().find(|e| e.reads == code)
    }

    /// Replace (or add) the entry that reads the same thing.
    pub fn set_object(&mut self, entry: ObjectEntry) {
        self.events.retain(|e| Reads::Short(e.reads) != entry.reads);
        match self.objects.iter_mut().find(|o| o.reads == entry.reads) {
            Some(o) => *o = entry,
            None => self.objects.push(entry),
        }
    }

    /// Replace the readout entry that reads the same thing (and any entry with the same
    /// id), or add it.
    pub fn set_readout(&mut self, entry: ReadoutEntry) {
        let short = readout_short_id(&entry.id).map(str::to_owned);
        self.readout.retain(|e| {
            e.reads != entry.reads && readout_short_id(&e.id).map(str::to_owned) != short
        });
        self.readout.push(entry);
    }

    /// Every short code this profile can answer, with how.
    pub fn short_codes(&self) -> Vec<ShortCode> {
        let mut codes: Vec<ShortCode> = self
            .objects
            .iter()
            .filter_map(|o| match o.reads {
                Reads::Short(c) => Some(c),
                _ => None,
            })
            .chain(self.events.iter().map(|e| e.reads))
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

/// Whether a short code's value is a time (answerable from an event log).
pub fn is_event_time(code: ShortCode) -> bool {
    code.entry().is_some_and(|e| e.kind == ValueKind::Timestamp)
}

#[cfg(test)]
mod tests;
