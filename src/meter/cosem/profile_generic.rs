//! Profile generic (class 7, Blue Book 4.3.6): capture_objects (attribute 3) say what
//! each column is; buffer (attribute 2) holds the rows, read whole or narrowed by
//! selective access (by entry, by range). Event logs are profile generics whose columns
//! include the clock and an event code.

use super::{attr, bad, ItemError, ItemResult, CLASS_CLOCK, CLASS_DATA, CLASS_PROFILE_GENERIC};
use crate::meter::session::{ProgressFn, Session};
use crate::protocol::apdu::{CaptureObject, EntryDescriptor, RangeDescriptor, SelectiveAccess};
use crate::protocol::axdr::Data;
use crate::protocol::obis::ObisCode;

/// Which rows of a buffer to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BufferSelection {
    /// The whole buffer, no selective access.
    All,
    /// Entries `from..=to`, 1-based; `to` 0 means "to the last" (selector 2).
    Entries { from: u32, to: u32 },
    /// Rows whose restricting column lies in a range (selector 1).
    Range(RangeDescriptor),
}

impl BufferSelection {
    fn access(&self) -> Option<SelectiveAccess> {
        match self {
            BufferSelection::All => None,
            BufferSelection::Entries { from, to } => {
                Some(SelectiveAccess::by_entry(&EntryDescriptor {
                    from_entry: *from,
                    to_entry: *to,
                    from_selected_value: 1,
                    to_selected_value: 0,
                }))
            }
            BufferSelection::Range(range) => Some(SelectiveAccess::by_range(range)),
        }
    }
}

/// sort_method (attribute 5): where the newest row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortMethod {
    /// Oldest first (the default): the newest row is the last.
    Fifo,
    /// Newest first.
    Lifo,
    /// Sorted by a column's value: rows are not in time order.
    ByValue(u8),
}

impl SortMethod {
    pub fn from_data(d: &Data) -> Option<Self> {
        Some(match d.as_integer()? {
            1 => SortMethod::Fifo,
            2 => SortMethod::Lifo,
            v => SortMethod::ByValue(u8::try_from(v).ok()?),
        })
    }
}

fn small<T: TryFrom<i128>>(d: &Data) -> Option<T> {
    d.as_integer().and_then(|v| T::try_from(v).ok())
}

/// Parse capture_objects: an array of structure { class_id, logical_name,
/// attribute_index, data_index }. Integer widths are taken as they come.
pub fn parse_capture_objects(d: &Data) -> Result<Vec<CaptureObject>, ItemError> {
    let Data::Array(items) = d else {
        return Err(bad("capture_objects array", d));
    };
    items
        .iter()
        .map(|item| {
            let shape = "capture_object_definition structure { long-unsigned, octet-string, integer, long-unsigned }";
            capture_object(item).ok_or_else(|| bad(shape, item))
        })
        .collect()
}

fn capture_object(item: &Data) -> Option<CaptureObject> {
    match item.as_elements()? {
        [class_id, Data::OctetString(ln), attribute, index] => Some(CaptureObject {
            class_id: small(class_id)?,
            logical_name: ObisCode::from_slice(ln)?,
            attribute_index: small(attribute)?,
            data_index: small(index)?,
        }),
        _ => None,
    }
}

/// Parse a buffer: an array of rows, each a structure of column values.
pub fn parse_buffer(d: &Data) -> Result<Vec<Vec<Data>>, ItemError> {
    let Data::Array(rows) = d else {
        return Err(bad("buffer array of structures", d));
    };
    rows.iter()
        .map(|row| match row {
            Data::Structure(cols) => Ok(cols.clone()),
            other => Err(bad("buffer row structure", other)),
        })
        .collect()
}

/// Columns of an event log: where the time and the event code are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventColumns {
    pub time: usize,
    pub code: usize,
}

/// Find the clock column (class 8, attribute 2) and the event code column: a Data
/// object 0.x.96.11.e.255 (the event code objects of the Blue Book catalogue), else
/// the first other Data column. Design: event numbering and column order differ by
/// companion spec, so the columns are looked up, never assumed.
pub fn find_columns(capture: &[CaptureObject]) -> Option<EventColumns> {
    let time = capture
        .iter()
        .position(|c| c.class_id == CLASS_CLOCK && c.attribute_index == 2)?;
    let is_data = |c: &CaptureObject| c.class_id == CLASS_DATA && c.attribute_index == 2;
    let code = capture
        .iter()
        .position(|c| {
            let [a, _, c96, d11, _, _] = c.logical_name.0;
            is_data(c) && a == 0 && c96 == 96 && d11 == 11
        })
        .or_else(|| capture.iter().position(is_data))?;
    Some(EventColumns { time, code })
}

/// Read a profile's capture_objects.
pub async fn read_capture_objects(
    session: &mut Session,
    obis: ObisCode,
) -> ItemResult<Vec<CaptureObject>> {
    let r = session
        .get(attr(CLASS_PROFILE_GENERIC, obis, 3), None)
        .await?;
    Ok(r.map_err(ItemError::Refused)
        .and_then(|d| parse_capture_objects(&d)))
}

/// Read a profile's buffer rows, reporting block transfer progress.
pub async fn read_buffer(
    session: &mut Session,
    obis: ObisCode,
    selection: &BufferSelection,
    progress: &mut ProgressFn<'_>,
) -> ItemResult<Vec<Vec<Data>>> {
    let target = attr(CLASS_PROFILE_GENERIC, obis, 2);
    let r = session
        .get_with_progress(target, selection.access(), progress)
        .await?;
    Ok(r.map_err(ItemError::Refused).and_then(|d| parse_buffer(&d)))
}
