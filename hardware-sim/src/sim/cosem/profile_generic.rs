//! Profile Generic (class 7, version 1; Blue Book 4.3.6) as used for event logs: a FIFO
//! buffer of rows, its capture objects, and selective access by range (selector 1) and by
//! entry (selector 2).

use crate::protocol::axdr::{Data, DEVIATION_NOT_SPECIFIED};
use crate::protocol::obis::ObisCode;

use super::{Refusal, Selection};
use crate::sim::time::LocalTime;

/// One capture object: which attribute fills a column (Blue Book capture_object_definition).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaptureDef {
    pub class_id: u16,
    pub obis: ObisCode,
    pub attribute: i8,
    pub data_index: u16,
}

impl CaptureDef {
    pub fn to_data(&self) -> Data {
        Data::Structure(vec![
            Data::LongUnsigned(self.class_id),
            Data::OctetString(self.obis.0.to_vec()),
            Data::Integer(self.attribute),
            Data::LongUnsigned(self.data_index),
        ])
    }

    fn from_data(d: &Data) -> Option<CaptureDef> {
        match d.as_elements()? {
            [Data::LongUnsigned(class_id), Data::OctetString(ln), Data::Integer(attribute), Data::LongUnsigned(data_index)] => {
                Some(CaptureDef {
                    class_id: *class_id,
                    obis: ObisCode::from_slice(ln)?,
                    attribute: *attribute,
                    data_index: *data_index,
                })
            }
            _ => None,
        }
    }

    /// Same column (the data index is not compared: 0 means "the whole attribute").
    fn same_column(&self, other: &CaptureDef) -> bool {
        self.class_id == other.class_id
            && self.obis == other.obis
            && self.attribute == other.attribute
    }
}

/// A Profile Generic object: columns, rows (oldest first), and its limits.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileGeneric {
    pub capture_objects: Vec<CaptureDef>,
    pub buffer: Vec<Vec<Data>>,
    /// Seconds between captures; 0 for an event log (captured on events).
    pub capture_period: u32,
    /// profile_entries: the buffer holds at most this many rows, dropping the oldest.
    pub max_entries: u32,
}

impl ProfileGeneric {
    /// Append a row, dropping the oldest when full (sort_method FIFO).
    pub fn push(&mut self, row: Vec<Data>) {
        self.buffer.push(row);
        let max = usize::try_from(self.max_entries)
            .unwrap_or(usize::MAX)
            .max(1);
        if self.buffer.len() > max {
            let excess = self.buffer.len() - max;
            self.buffer.drain(..excess);
        }
    }

    pub(super) fn get(&self, attr: i8, selection: Option<Selection<'_>>) -> Result<Data, Refusal> {
        if attr != 2 && selection.is_some() {
            return Err(Refusal::SelectionUnsupported);
        }
        let count = |n: usize| Data::DoubleLongUnsigned(u32::try_from(n).unwrap_or(u32::MAX));
        Ok(match attr {
            2 => self.buffer(selection)?,
            3 => Data::Array(
                self.capture_objects
                    .iter()
                    .map(CaptureDef::to_data)
                    .collect(),
            ),
            4 => Data::DoubleLongUnsigned(self.capture_period),
            // sort_method: 1 = fifo.
            5 => Data::Enum(1),
            // sort_object: none (class 0, all zeros).
            6 => CaptureDef {
                class_id: 0,
                obis: ObisCode::new(0, 0, 0, 0, 0, 0),
                attribute: 0,
                data_index: 0,
            }
            .to_data(),
            7 => count(self.buffer.len()),
            8 => Data::DoubleLongUnsigned(self.max_entries),
            _ => return Err(Refusal::AttributeUndefined),
        })
    }

    fn buffer(&self, selection: Option<Selection<'_>>) -> Result<Data, Refusal> {
        let all_columns: Vec<usize> = (0..self.capture_objects.len()).collect();
        let (rows, columns): (Vec<&Vec<Data>>, Vec<usize>) = match selection {
            None => (self.buffer.iter().collect(), all_columns),
            Some(s) if s.selector == 1 => self.by_range(s.parameters)?,
            Some(s) if s.selector == 2 => self.by_entry(s.parameters)?,
            Some(_) => return Err(Refusal::SelectionUnsupported),
        };
        Ok(Data::Array(
            rows.into_iter()
                .map(|row| {
                    Data::Structure(
                        columns
                            .iter()
                            .filter_map(|&c| row.get(c).cloned())
                            .collect(),
                    )
                })
                .collect(),
        ))
    }

    /// entry_descriptor: from_entry, to_entry (0 = the last), from_selected_value,
    /// to_selected_value (0 = the last), all 1-based.
    fn by_entry(&self, p: &Data) -> Result<(Vec<&Vec<Data>>, Vec<usize>), Refusal> {
        let [Data::DoubleLongUnsigned(from), Data::DoubleLongUnsigned(to), Data::LongUnsigned(from_col), Data::LongUnsigned(to_col)] =
            p.as_elements().ok_or(Refusal::BadSelection)?
        else {
            return Err(Refusal::BadSelection);
        };
        let n = self.buffer.len();
        let first = usize::try_from(*from).unwrap_or(usize::MAX).max(1);
        let last = match *to {
            0 => n,
            t => usize::try_from(t).unwrap_or(usize::MAX).min(n),
        };
        let rows = if first > last {
            Vec::new()
        } else {
            self.buffer
                .get(first - 1..last)
                .map(|r| r.iter().collect())
                .unwrap_or_default()
        };
        let cols = self.capture_objects.len();
        let first_col = usize::from(*from_col).max(1);
        let last_col = match *to_col {
            0 => cols,
            t => usize::from(t).min(cols),
        };
        let columns = (first_col..=last_col).map(|c| c - 1).collect();
        Ok((rows, columns))
    }

    /// range_descriptor: restricting_object, from_value, to_value (inclusive), and the
    /// selected columns (empty = all).
    fn by_range(&self, p: &Data) -> Result<(Vec<&Vec<Data>>, Vec<usize>), Refusal> {
        let [restricting, from, to, Data::Array(selected)] =
            p.as_elements().ok_or(Refusal::BadSelection)?
        else {
            return Err(Refusal::BadSelection);
        };
        let restricting = CaptureDef::from_data(restricting).ok_or(Refusal::BadSelection)?;
        let column = self.column_of(&restricting).ok_or(Refusal::BadSelection)?;
        let (from, to) = (
            sort_key(from).ok_or(Refusal::BadSelection)?,
            sort_key(to).ok_or(Refusal::BadSelection)?,
        );
        let rows = self
            .buffer
            .iter()
            .filter(|row| {
                row.get(column)
                    .and_then(sort_key)
                    .is_some_and(|k| at_most(from, k) && at_most(k, to))
            })
            .collect();
        let columns = if selected.is_empty() {
            (0..self.capture_objects.len()).collect()
        } else {
            selected
                .iter()
                .map(|d| {
                    CaptureDef::from_data(d)
                        .and_then(|c| self.column_of(&c))
                        .ok_or(Refusal::BadSelection)
                })
                .collect::<Result<_, _>>()?
        };
        Ok((rows, columns))
    }

    fn column_of(&self, def: &CaptureDef) -> Option<usize> {
        self.capture_objects.iter().position(|c| c.same_column(def))
    }
}

/// A value placed on a line for range comparison.
#[derive(Debug, Clone, Copy)]
enum Key {
    Time(LocalTime),
    Int(i128),
}

fn sort_key(d: &Data) -> Option<Key> {
    match d.as_date_time() {
        Some(dt) => LocalTime::from_date_time(&dt).map(Key::Time),
        None => d.as_integer().map(Key::Int),
    }
}

/// `a <= b`. Times compare in UTC when both carry a deviation, else as local times (a
/// client that leaves the deviation unspecified means the meter's local time).
fn at_most(a: Key, b: Key) -> bool {
    match (a, b) {
        (Key::Int(a), Key::Int(b)) => a <= b,
        (Key::Time(a), Key::Time(b)) => {
            let known = |t: LocalTime| t.deviation != DEVIATION_NOT_SPECIFIED;
            if known(a) && known(b) {
                a.utc_secs() <= b.utc_secs()
            } else {
                a.secs <= b.secs
            }
        }
        _ => false,
    }
}
