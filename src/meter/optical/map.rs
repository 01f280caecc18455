//! Which readout id answers which reading (short code, status, serial); the values are
//! typed by `value`.
//!
//! Data, not code, in the spirit of the DLMS profile: Calin publishes no list of its
//! readout ids, so every entry carries its provenance, and a site may replace the table
//! (`ReadoutMap::new` takes entries deserialized from its config). The built-in ids are
//! the EDIS short forms of the OBIS codes the DLMS profile uses (`C.` stands for 96);
//! no Calin readout capture has confirmed them yet. Pure: no I/O.

use std::fmt;

use super::value::{generic, typed, ValueProblem};
use crate::meter::read::ReadValue;
use crate::profile::{readout_short_id, Profile, Reads};
use crate::protocol::iec62056_21::{DataId, DataSet, Value};

/// One row: a readout id and the reading it answers (a profile's `[[readout]]`).
pub type IdEntry = crate::profile::ReadoutEntry;

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
    /// The built-in Calin profile's table.
    pub fn builtin() -> Self {
        Self::from_profile(&Profile::calin())
    }

    /// A profile's table (validated when the profile was loaded).
    pub fn from_profile(profile: &Profile) -> Self {
        ReadoutMap {
            entries: profile.readout.clone(),
        }
    }

    /// A site's own table. Ids are compared in their short form (`1-0:1.8.0*255` is
    /// `1.8.0`), so two spellings of one id are a duplicate.
    pub fn new(entries: Vec<IdEntry>) -> Result<Self, MapError> {
        let mut seen = std::collections::HashSet::new();
        for e in &entries {
            let Some(short) = readout_short_id(&e.id) else {
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
        let short = readout_short_id(id.as_str())?;
        self.entries
            .iter()
            .find(|e| readout_short_id(&e.id) == Some(short))
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
    use crate::profile::Provenance;
    use crate::protocol::units::{Quantity, Unit};

    fn set(id: &str, value: &str, unit: Option<&str>) -> DataSet {
        DataSet::single(DataId::new(id).unwrap(), Value::new(value, unit).unwrap())
    }

    #[test]
    fn builtin_table_is_sorted_unique_and_complete() {
        let map = ReadoutMap::builtin();
        let ids: Vec<&str> = map.entries().iter().map(|e| e.id.as_str()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(
            ids, sorted,
            "the profile's [[readout]] rows stay sorted and unique"
        );
        // Every row of config/profiles/calin.toml made it (nothing silently dropped).
        let rows = crate::profile::CALIN_PROFILE_TOML
            .lines()
            .filter(|l| l.trim() == "[[readout]]")
            .count();
        assert_eq!(ids.len(), rows);
        assert_eq!(rows, 8);
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
        let text = r#"
            name = "site"
            [[readout]]
            id = "C.99.1"
            reads = "87"
            provenance = "public-code"
            [[readout]]
            id = "1-0:1.8.0*255"
            reads = "01"
            provenance = "standard"
            "#;
        let p = crate::profile::ProfileFile::parse(std::path::Path::new("site.toml"), text)
            .unwrap()
            .profile;
        let map = ReadoutMap::from_profile(&p);
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
        let bad = |body: &str| {
            crate::profile::ProfileFile::parse(
                std::path::Path::new("bad.toml"),
                &format!("name = \"x\"\n[[readout]]\n{body}"),
            )
            .unwrap_err()
            .to_string()
        };
        let e = bad("id = \"1.8.0\"\nreads = \"99\"\nprovenance = \"guess\"");
        assert!(e.contains("readout[0].reads"), "{e}");
        let e = bad("id = \"1.8.0*03\"\nreads = \"01\"\nprovenance = \"guess\"");
        assert!(e.contains("readout[0].id") && e.contains("stored"), "{e}");
    }
}
