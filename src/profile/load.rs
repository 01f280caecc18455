//! Loading a profile file with errors that name the file, line and key.

use super::{
    is_event_time, readout_short_id, AttributeRef, EventEntry, ObjectEntry, Profile, Provenance,
    ReadoutEntry, Reads,
};
use crate::config::ConfigError;
use crate::protocol::obis::ObisCode;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    object: Vec<RawObject>,
    #[serde(default)]
    event: Vec<RawEvent>,
    #[serde(default)]
    readout: Vec<RawReadout>,
}

/// One `[[readout]]` as written (also used for a site's single-entry override).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReadout {
    id: Spanned<String>,
    reads: Spanned<String>,
    provenance: Provenance,
    #[serde(default)]
    note: Option<String>,
}

/// One `[[object]]` as written (also used for a site's single-entry override).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawObject {
    reads: Spanned<String>,
    class: u16,
    obis: Spanned<String>,
    attribute: Spanned<i8>,
    provenance: Provenance,
    #[serde(default)]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    reads: Spanned<String>,
    log: Spanned<String>,
    events: Spanned<Vec<u16>>,
    nth: Spanned<u8>,
    provenance: Provenance,
}

/// A profile and the file it came from.
#[derive(Clone, Debug)]
pub struct ProfileFile {
    pub profile: Profile,
}

impl ProfileFile {
    pub fn load(path: &Path) -> Result<ProfileFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        ProfileFile::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<ProfileFile, ConfigError> {
        let raw: RawProfile =
            toml::from_str(text).map_err(|e| ConfigError::from_toml(path, text, &e))?;
        let mut seen = BTreeSet::new();
        let mut objects = Vec::new();
        for (i, o) in raw.object.into_iter().enumerate() {
            let entry = o.validate(path, text, &format!("object[{i}]"))?;
            if !seen.insert(entry.reads) {
                return Err(dup(path, text, &o.reads, &format!("object[{i}].reads")));
            }
            objects.push(entry);
        }
        let mut events = Vec::new();
        for (i, e) in raw.event.into_iter().enumerate() {
            let key = |k: &str| format!("event[{i}].{k}");
            let reads = parse_reads(path, text, &e.reads, &key("reads"))?;
            let Reads::Short(code) = reads else {
                return Err(err(
                    path,
                    text,
                    &e.reads,
                    key("reads"),
                    "an [[event]] reads a short code",
                ));
            };
            if !is_event_time(code) {
                return Err(err(
                    path,
                    text,
                    &e.reads,
                    key("reads"),
                    format!("short code {code} is not an event time (use 41-45, 47-51 or 53-57)"),
                ));
            }
            if !seen.insert(reads) {
                return Err(dup(path, text, &e.reads, &key("reads")));
            }
            let log = parse_obis(path, text, &e.log, &key("log"))?;
            if e.events.get_ref().is_empty() {
                return Err(err(
                    path,
                    text,
                    &e.events,
                    key("events"),
                    "list at least one event code",
                ));
            }
            if !(1..=5).contains(e.nth.get_ref()) {
                return Err(err(
                    path,
                    text,
                    &e.nth,
                    key("nth"),
                    "nth must be 1 (most recent) to 5",
                ));
            }
            events.push(EventEntry {
                reads: code,
                log,
                events: e.events.into_inner(),
                nth: e.nth.into_inner(),
                provenance: e.provenance,
            });
        }
        let mut readout: Vec<ReadoutEntry> = Vec::new();
        for (i, r) in raw.readout.iter().enumerate() {
            let key = format!("readout[{i}]");
            let entry = r.validate(path, text, &key)?;
            let short = readout_short_id(&entry.id);
            if readout.iter().any(|e| readout_short_id(&e.id) == short) {
                return Err(dup(path, text, &r.id, &format!("{key}.id")));
            }
            if readout.iter().any(|e| e.reads == entry.reads) {
                return Err(dup(path, text, &r.reads, &format!("{key}.reads")));
            }
            readout.push(entry);
        }
        Ok(ProfileFile {
            profile: Profile {
                name: raw.name,
                description: raw.description,
                objects,
                events,
                readout,
            },
        })
    }
}

impl RawObject {
    pub(crate) fn validate(
        &self,
        path: &Path,
        text: &str,
        key: &str,
    ) -> Result<ObjectEntry, ConfigError> {
        let reads = parse_reads(path, text, &self.reads, &format!("{key}.reads"))?;
        let obis = parse_obis(path, text, &self.obis, &format!("{key}.obis"))?;
        if *self.attribute.get_ref() < 1 {
            return Err(err(
                path,
                text,
                &self.attribute,
                format!("{key}.attribute"),
                "attribute must be 1..127",
            ));
        }
        Ok(ObjectEntry {
            reads,
            target: AttributeRef {
                class_id: self.class,
                obis,
                attribute: *self.attribute.get_ref(),
            },
            provenance: self.provenance,
            note: self.note.clone(),
        })
    }
}

impl RawReadout {
    pub(crate) fn validate(
        &self,
        path: &Path,
        text: &str,
        key: &str,
    ) -> Result<ReadoutEntry, ConfigError> {
        let reads = parse_reads(path, text, &self.reads, &format!("{key}.reads"))?;
        let id = self.id.get_ref().trim();
        if let Err(e) = crate::protocol::iec62056_21::DataId::new(id) {
            return Err(err(
                path,
                text,
                &self.id,
                format!("{key}.id"),
                format!("`{id}` is not a readout id ({e}): write e.g. \"1.8.0\" or \"C.87.0\""),
            ));
        }
        if readout_short_id(id).is_none() {
            return Err(err(
                path,
                text,
                &self.id,
                format!("{key}.id"),
                format!("`{id}` names a stored (historical) value: give the current value's id (no `*NN` or `&NN` suffix, or `*255`)"),
            ));
        }
        Ok(ReadoutEntry {
            id: id.to_owned(),
            reads,
            provenance: self.provenance,
            note: self.note.clone().unwrap_or_default(),
        })
    }
}

fn parse_reads(
    path: &Path,
    text: &str,
    s: &Spanned<String>,
    key: &str,
) -> Result<Reads, ConfigError> {
    s.get_ref()
        .parse()
        .map_err(|m: String| err(path, text, s, key.to_owned(), m))
}

fn parse_obis(
    path: &Path,
    text: &str,
    s: &Spanned<String>,
    key: &str,
) -> Result<ObisCode, ConfigError> {
    s.get_ref()
        .parse()
        .map_err(|e: crate::protocol::obis::ObisParseError| {
            err(path, text, s, key.to_owned(), e.to_string())
        })
}

fn err<T>(
    path: &Path,
    text: &str,
    at: &Spanned<T>,
    key: String,
    msg: impl Into<String>,
) -> ConfigError {
    ConfigError::at(path, text, at.span(), key, msg)
}

fn dup(path: &Path, text: &str, at: &Spanned<String>, key: &str) -> ConfigError {
    err(
        path,
        text,
        at,
        key.to_owned(),
        format!(
            "`{}` is mapped twice: keep one entry per reading",
            at.get_ref()
        ),
    )
}
