//! Which readout id answers which reading (short code, status, serial); the values are
//! typed by `value`.
//!
//! Data, not code, in the spirit of the DLMS profile: Calin publishes no list of its
//! readout ids, so every entry carries its provenance, and a site may replace the table
//! (`ReadoutMap::new` takes entries deserialized from its config). The built-in ids are
//! the EDIS short forms of the OBIS codes the DLMS profile uses (`C.` stands for 96);
//! no Calin readout capture has confirmed them yet. Pure: no I/O.

use std::fmt;

use serde::Deserialize;

use super::value::{generic, typed, ValueProblem};
use crate::meter::read::ReadValue;
use crate::profile::{Provenance, Reads};
use crate::protocol::iec62056_21::{DataId, DataSet, Value};

/// The built-in table: (readout id, reading, provenance, note).
#[rustfmt::skip]
pub const DEFAULT_IDS: &[(&str, &str, Provenance, &str)] = &[
    ("1.7.0",  "31",     Provenance::Standard, "Instantaneous active power import (OBIS 1.0.1.7.0)"),
    ("1.8.0",  "01",     Provenance::Standard, "Active energy import, total (OBIS 1.0.1.8.0)"),
    ("13.7.0", "35",     Provenance::Standard, "Instantaneous power factor (OBIS 1.0.13.7.0)"),
    ("C.1.0",  "serial", Provenance::Standard, "Meter serial number (OBIS 0.0.96.1.0)"),
    ("C.20.0", "40",     Provenance::Standard, "Meter cover open counter (OBIS 0.0.96.20.0)"),
    ("C.5.0",  "status", Provenance::Guess,    "Operating status (OBIS 0.0.96.5.0); the 1000 + sub-code encoding is a guess"),
    ("C.7.0",  "52",     Provenance::Standard, "Number of power failures (OBIS 0.0.96.7.0)"),
    ("C.87.0", "87",     Provenance::Guess,    "Relay disconnect reason: no standard id, our guess"),
];

/// One row: a readout id and the reading it answers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdEntry {
    /// `1.8.0`, `C.87.0`, or with medium/channel and current-value suffix `1-0:1.8.0*255`.
    pub id: String,
    #[serde(deserialize_with = "reads_from_text")]
    pub reads: Reads,
    pub provenance: Provenance,
    #[serde(default)]
    pub note: String,
}

fn reads_from_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Reads, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Why a table was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("readout id {id:?} names a stored (historical) value, not the current one")]
    NotCurrent { id: String },
    #[error("readout id {id:?} appears twice in the table")]
    Duplicate { id: String },
}

/// The id table. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadoutMap {
    entries: Vec<IdEntry>,
}

impl ReadoutMap {
    /// The built-in table ([`DEFAULT_IDS`]).
    pub fn builtin() -> Self {
        let entries = DEFAULT_IDS
            .iter()
            .filter_map(|(id, reads, provenance, note)| {
                Some(IdEntry {
                    id: (*id).to_owned(),
                    reads: reads.parse().ok()?,
                    provenance: *provenance,
                    note: (*note).to_owned(),
                })
            })
            .collect();
        ReadoutMap { entries }
    }

    /// A site's own table. Ids are compared in their short form (`1-0:1.8.0*255` is
    /// `1.8.0`), so two spellings of one id are a duplicate.
    pub fn new(entries: Vec<IdEntry>) -> Result<Self, MapError> {
        let mut seen = std::collections::HashSet::new();
        for e in &entries {
            let Some(short) = current_id(&e.id) else {
                return Err(MapError::NotCurrent { id: e.id.clone() });
            };
            if !seen.insert(short.to_owned()) {
                return Err(MapError::Duplicate { id: e.id.clone() });
            }
        }
        Ok(ReadoutMap { entries })
    }

    pub fn entries(&self) -> &[IdEntry] {
        &self.entries
    }

    /// The entry answering a readout id, if any. Stored values (`1.8.0*03`) match none.
    pub fn entry_for(&self, id: &DataId) -> Option<&IdEntry> {
        let short = current_id(id.as_str())?;
        self.entries
            .iter()
            .find(|e| current_id(&e.id) == Some(short))
    }

    /// The id to read (R1) for a reading, if the table has one.
    pub fn id_for(&self, reads: Reads) -> Option<DataId> {
        let e = self.entries.iter().find(|e| e.reads == reads)?;
        DataId::new(&e.id).ok()
    }

    /// Every data set with an id, typed: by the reading it answers where the table maps
    /// it, by its own text and unit otherwise. A mapped value of the wrong shape is an
    /// `OpticalItemFailure`; it never fails the others.
    pub fn readings(&self, sets: &[DataSet]) -> Vec<Result<OpticalReading, OpticalItemFailure>> {
        sets.iter()
            .filter_map(|set| Some((set.id.as_ref()?, set.value()?)))
            .map(|(id, raw)| match self.entry_for(id) {
                Some(entry) => match typed(entry.reads, raw) {
                    Ok(value) => Ok(OpticalReading {
                        id: id.clone(),
                        reads: Some(entry.reads),
                        value,
                        raw: raw.clone(),
                    }),
                    Err(problem) => Err(OpticalItemFailure {
                        id: id.clone(),
                        reads: entry.reads,
                        problem,
                    }),
                },
                None => Ok(OpticalReading {
                    id: id.clone(),
                    reads: None,
                    value: generic(raw),
                    raw: raw.clone(),
                }),
            })
            .collect()
    }
}

impl Default for ReadoutMap {
    fn default() -> Self {
        Self::builtin()
    }
}

/// The short form of a current-value id: `1-0:1.8.0*255` and `1.8.0` are `1.8.0`;
/// `None` for a stored value (`1.8.0*03`, `1.8.0&03`).
fn current_id(id: &str) -> Option<&str> {
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

/// One readout value, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct OpticalReading {
    pub id: DataId,
    /// What the table says it answers; `None` for an id the table does not map.
    pub reads: Option<Reads>,
    pub value: ReadValue,
    /// The first value as the meter sent it.
    pub raw: Value,
}

/// A mapped value that is not of the shape its reading needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpticalItemFailure {
    pub id: DataId,
    pub reads: Reads,
    /// What is wrong, with the meter's text.
    pub problem: ValueProblem,
}

impl fmt::Display for OpticalItemFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.reads, self.id, self.problem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{OperatingStatus, ShortCode};
    use crate::protocol::units::{Quantity, Unit};

    fn set(id: &str, value: &str, unit: Option<&str>) -> DataSet {
        DataSet::single(DataId::new(id).unwrap(), Value::new(value, unit).unwrap())
    }

    #[test]
    fn builtin_table_is_sorted_unique_and_complete() {
        let ids: Vec<&str> = DEFAULT_IDS.iter().map(|e| e.0).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted, "DEFAULT_IDS must stay sorted and unique");
        // Every row parses: nothing silently dropped by `builtin`.
        assert_eq!(ReadoutMap::builtin().entries().len(), DEFAULT_IDS.len());
        assert!(ReadoutMap::new(ReadoutMap::builtin().entries().to_vec()).is_ok());
    }

    #[test]
    fn ids_match_in_short_form_and_stored_values_do_not() {
        let map = ReadoutMap::builtin();
        let energy = Reads::Short(ShortCode(1));
        for id in ["1.8.0", "1-0:1.8.0*255", "1-0:1.8.0"] {
            let e = map.entry_for(&DataId::new(id).unwrap());
            assert_eq!(e.map(|e| e.reads), Some(energy), "{id}");
        }
        for id in ["1.8.0*03", "1.8.0&01", "1.8.1", "x:1.8.0"] {
            assert!(map.entry_for(&DataId::new(id).unwrap()).is_none(), "{id}");
        }
        assert_eq!(
            map.id_for(Reads::Short(ShortCode(87))).unwrap().as_str(),
            "C.87.0"
        );
        assert_eq!(map.id_for(Reads::Short(ShortCode(58))), None);
    }

    #[test]
    fn values_are_typed_by_their_short_code() {
        let map = ReadoutMap::builtin();
        let sets = [
            set("1.8.0", "0012345.678", Some("kWh")),
            set("1.7.0", "1250", Some("W")),
            set("13.7.0", "0.95", None),
            set("C.7.0", "12", None),
            set("C.87.0", "08", None),
            set("C.5.0", "1015", None),
            set("C.1.0", "45654", None),
            set("0.9.1", "123456", None),
            set("32.7.0", "230.1", Some("V")),
            set("F.F", "OK", None),
        ];
        let r: Vec<_> = map
            .readings(&sets)
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            r[0].value,
            ReadValue::Quantity(Quantity {
                mantissa: 12_345_678,
                scaler: 0,
                unit: Unit::WattHour
            })
        );
        assert_eq!(
            r[1].value,
            ReadValue::Quantity(Quantity {
                mantissa: 1250,
                scaler: 0,
                unit: Unit::Watt
            })
        );
        assert_eq!(
            r[2].value,
            ReadValue::Quantity(Quantity {
                mantissa: 95,
                scaler: -2,
                unit: Unit::Count
            })
        );
        assert_eq!(r[3].value, ReadValue::Count(12));
        assert_eq!(r[4].value, ReadValue::RelayReason(8));
        assert_eq!(r[5].value, ReadValue::Status(OperatingStatus(1015)));
        assert_eq!(r[6].value, ReadValue::Text("45654".into()));
        assert_eq!(
            (r[7].reads, &r[7].value),
            (None, &ReadValue::Number(123_456))
        );
        assert_eq!(
            r[8].value,
            ReadValue::Quantity(Quantity {
                mantissa: 2301,
                scaler: -1,
                unit: Unit::Volt
            })
        );
        assert_eq!(r[9].value, ReadValue::Text("OK".into()));
    }

    #[test]
    fn a_badly_shaped_mapped_value_fails_alone() {
        let map = ReadoutMap::builtin();
        let sets = [
            set("1.8.0", "12.5", Some("kvarh")),
            set("C.87.0", "open", None),
            set("C.7.0", "3", None),
        ];
        let r = map.readings(&sets);
        let e = r[0].as_ref().unwrap_err();
        assert!(
            matches!(e.problem, ValueProblem::UnexpectedUnit { .. }),
            "{e}"
        );
        assert!(e.to_string().contains("kvarh"), "{e}");
        assert!(matches!(
            r[1],
            Err(OpticalItemFailure {
                problem: ValueProblem::NotANumber { .. },
                ..
            })
        ));
        assert_eq!(r[2].as_ref().unwrap().value, ReadValue::Count(3));
    }

    #[test]
    fn a_site_table_replaces_the_builtin_one() {
        #[derive(Deserialize)]
        struct File {
            id: Vec<IdEntry>,
        }
        let f: File = toml::from_str(
            r#"
            [[id]]
            id = "C.99.1"
            reads = "87"
            provenance = "public-code"
            [[id]]
            id = "1-0:1.8.0*255"
            reads = "01"
            provenance = "standard"
            "#,
        )
        .unwrap();
        let map = ReadoutMap::new(f.id).unwrap();
        let r = map.readings(&[set("C.99.1", "3", None), set("C.87.0", "4", None)]);
        assert_eq!(r[0].as_ref().unwrap().value, ReadValue::RelayReason(3));
        assert_eq!(
            r[1].as_ref().unwrap().reads,
            None,
            "the builtin id no longer maps"
        );
        let dup = vec![
            IdEntry {
                id: "1.8.0".into(),
                reads: Reads::Short(ShortCode(1)),
                provenance: Provenance::Guess,
                note: String::new(),
            },
            IdEntry {
                id: "1-0:1.8.0".into(),
                reads: Reads::Short(ShortCode(1)),
                provenance: Provenance::Guess,
                note: String::new(),
            },
        ];
        assert!(matches!(
            ReadoutMap::new(dup),
            Err(MapError::Duplicate { .. })
        ));
        assert!(toml::from_str::<File>(
            "[[id]]\nid = \"1.8.0\"\nreads = \"99\"\nprovenance = \"guess\""
        )
        .is_err());
    }
}
