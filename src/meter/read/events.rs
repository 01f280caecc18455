//! Event times from event logs (profile generic): capture_objects first, to find the
//! clock and event-code columns, then the newest rows (selective access by entry, a
//! window at a time, where the meter allows it; the whole buffer otherwise), then the
//! nth most recent row whose code is one of the entry's codes.

use std::collections::HashMap;

use super::fetch::{fetch, Fetched};
use super::{Item, ItemFailure, ReadProgress, ReadValue, Reading};
use crate::meter::cosem::{
    attr, date_time, find_columns, parse_capture_objects, read_buffer, BufferSelection,
    EventColumns, ItemError, SortMethod, CLASS_PROFILE_GENERIC,
};
use crate::meter::error::MeterError;
use crate::meter::session::Session;
use crate::profile::{AttributeRef, EventEntry, Reads};
use crate::protocol::apdu::Conformance;
use crate::protocol::axdr::Data;
use crate::protocol::obis::ObisCode;

/// Rows asked for per selective-access request.
pub const EVENT_WINDOW: u32 = 32;

/// What was learned about one log before reading its rows.
struct LogShape {
    columns: EventColumns,
    entries_in_use: Option<u32>,
    sort: SortMethod,
}

/// Read the entries of one log. `Err` only for a fatal session error.
pub(super) async fn read_log(
    session: &mut Session,
    log: ObisCode,
    entries: &[&EventEntry],
    progress: &mut (dyn FnMut(ReadProgress) + Send),
) -> Result<Vec<Result<Reading, ItemFailure>>, MeterError> {
    let buffer = attr(CLASS_PROFILE_GENERIC, log, 2);
    let fail_all = |error: ItemError| {
        entries
            .iter()
            .map(|e| Err(failure(e, buffer, error.clone())))
            .collect()
    };
    let shape = match log_shape(session, log).await? {
        Ok(shape) => shape,
        Err(e) => return Ok(fail_all(e)),
    };
    let need = |rows: &[Vec<Data>]| {
        entries.iter().all(|e| {
            matching(rows, shape.columns, e)
                .nth(usize::from(e.nth).saturating_sub(1))
                .is_some()
        })
    };
    let what = format!("event log {log}");
    let mut on_block = |p| {
        progress(ReadProgress::Transfer {
            what: what.clone(),
            progress: p,
        })
    };
    let rows = match newest_first(session, log, &shape, &need, &mut on_block).await? {
        Ok(rows) => rows,
        Err(e) => return Ok(fail_all(e)),
    };
    Ok(entries
        .iter()
        .map(|e| pick(&rows, shape.columns, e, buffer))
        .collect())
}

fn failure(entry: &EventEntry, buffer: AttributeRef, error: ItemError) -> ItemFailure {
    ItemFailure {
        what: Item::Reads(Reads::Short(entry.reads)),
        attr: Some(buffer),
        error,
    }
}

/// capture_objects, entries_in_use and sort_method, in one request.
async fn log_shape(
    session: &mut Session,
    log: ObisCode,
) -> Result<Result<LogShape, ItemError>, MeterError> {
    let capture = attr(CLASS_PROFILE_GENERIC, log, 3);
    let in_use = attr(CLASS_PROFILE_GENERIC, log, 7);
    let sort = attr(CLASS_PROFILE_GENERIC, log, 5);
    let got: Fetched = fetch(session, &[capture, in_use, sort]).await?;
    let columns = match got.take(capture) {
        Ok(d) => match parse_capture_objects(&d).map(|c| find_columns(&c)) {
            Ok(Some(columns)) => columns,
            Ok(None) => {
                return Ok(Err(ItemError::BadValue {
                    expected: "an event log with a clock column and an event code column",
                    found: format!("capture_objects {d:?}"),
                }))
            }
            Err(e) => return Ok(Err(e)),
        },
        Err(e) => return Ok(Err(e)),
    };
    let entries_in_use = got
        .take(in_use)
        .ok()
        .and_then(|d| d.as_integer())
        .and_then(|n| u32::try_from(n).ok());
    // Design: a meter that hides sort_method is taken as FIFO, the Blue Book default.
    let sort = got
        .take(sort)
        .ok()
        .and_then(|d| SortMethod::from_data(&d))
        .unwrap_or(SortMethod::Fifo);
    Ok(Ok(LogShape {
        columns,
        entries_in_use,
        sort,
    }))
}

/// Rows, newest first: windows from the newest end while `enough` says more are needed,
/// else (or if the meter refuses selective access) the whole buffer.
async fn newest_first(
    session: &mut Session,
    log: ObisCode,
    shape: &LogShape,
    enough: &(dyn Fn(&[Vec<Data>]) -> bool + Sync),
    progress: &mut (dyn FnMut(crate::meter::TransferProgress) + Send),
) -> Result<Result<Vec<Vec<Data>>, ItemError>, MeterError> {
    let selective = session
        .negotiated()
        .conformance
        .contains(Conformance::SELECTIVE_ACCESS);
    if let (true, Some(n), SortMethod::Fifo | SortMethod::Lifo) =
        (selective, shape.entries_in_use, shape.sort)
    {
        if n == 0 {
            return Ok(Ok(Vec::new()));
        }
        if let Some(rows) = windows(session, log, n, shape.sort, enough, progress).await? {
            return Ok(Ok(rows));
        }
    }
    let rows = match read_buffer(session, log, &BufferSelection::All, progress).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => return Ok(Err(e)),
        Err(e) if e.is_fatal() => return Err(e),
        Err(e) => return Ok(Err(ItemError::Failed(e.to_string()))),
    };
    Ok(Ok(order(rows, shape)))
}

/// Read windows of `EVENT_WINDOW` entries from the newest end; `None` if the meter
/// refused selective access (the caller reads the whole buffer instead).
async fn windows(
    session: &mut Session,
    log: ObisCode,
    in_use: u32,
    sort: SortMethod,
    enough: &(dyn Fn(&[Vec<Data>]) -> bool + Sync),
    progress: &mut (dyn FnMut(crate::meter::TransferProgress) + Send),
) -> Result<Option<Vec<Vec<Data>>>, MeterError> {
    let mut rows: Vec<Vec<Data>> = Vec::new();
    let mut done = 0u32;
    while done < in_use {
        let count = EVENT_WINDOW.min(in_use - done);
        // FIFO: newest at entry `in_use`; LIFO: newest at entry 1.
        let (from, to) = match sort {
            SortMethod::Lifo => (done + 1, done + count),
            _ => (in_use - done - count + 1, in_use - done),
        };
        let selection = BufferSelection::Entries { from, to };
        let mut window = match read_buffer(session, log, &selection, progress).await {
            Ok(Ok(window)) => window,
            Ok(Err(_)) => return Ok(None),
            Err(e) if e.is_fatal() => return Err(e),
            Err(_) => return Ok(None),
        };
        if sort != SortMethod::Lifo {
            window.reverse();
        }
        let got = u32::try_from(window.len()).unwrap_or(u32::MAX);
        rows.extend(window);
        done = done.saturating_add(count);
        if got == 0 || enough(&rows) {
            break;
        }
    }
    Ok(Some(rows))
}

/// A whole buffer, newest first: FIFO reversed, LIFO as is, other sorts by time.
fn order(mut rows: Vec<Vec<Data>>, shape: &LogShape) -> Vec<Vec<Data>> {
    match shape.sort {
        SortMethod::Fifo => rows.reverse(),
        SortMethod::Lifo => {}
        SortMethod::ByValue(_) => {
            let key = |row: &Vec<Data>| {
                row.get(shape.columns.time)
                    .and_then(Data::as_date_time)
                    .map(|t| {
                        (
                            t.date.year,
                            t.date.month,
                            t.date.day_of_month,
                            t.time.hour,
                            t.time.minute,
                            t.time.second,
                            t.time.hundredths,
                        )
                    })
            };
            rows.sort_by_key(|row| std::cmp::Reverse(key(row)));
        }
    }
    rows
}

/// Rows (newest first) whose event code is one of the entry's.
fn matching<'a>(
    rows: &'a [Vec<Data>],
    columns: EventColumns,
    entry: &'a EventEntry,
) -> impl Iterator<Item = &'a Vec<Data>> + 'a {
    rows.iter().filter(move |row| {
        row.get(columns.code)
            .and_then(Data::as_integer)
            .and_then(|c| u16::try_from(c).ok())
            .is_some_and(|c| entry.events.contains(&c))
    })
}

/// The nth most recent matching row's time, or `NoEvent` when there are fewer.
pub(super) fn pick(
    rows: &[Vec<Data>],
    columns: EventColumns,
    entry: &EventEntry,
    buffer: AttributeRef,
) -> Result<Reading, ItemFailure> {
    let what = Item::Reads(Reads::Short(entry.reads));
    let nth = usize::from(entry.nth).saturating_sub(1);
    let Some(row) = matching(rows, columns, entry).nth(nth) else {
        return Ok(Reading {
            what,
            attr: buffer,
            value: ReadValue::NoEvent,
            raw: Data::NullData,
        });
    };
    let raw = row.get(columns.time).cloned().unwrap_or(Data::NullData);
    match date_time(&raw) {
        Ok(t) => Ok(Reading {
            what,
            attr: buffer,
            value: ReadValue::Timestamp(t),
            raw,
        }),
        Err(error) => Err(failure(entry, buffer, error)),
    }
}

/// Group event entries by log, keeping the order of first appearance.
pub(super) fn by_log<'a>(entries: &[&'a EventEntry]) -> Vec<(ObisCode, Vec<&'a EventEntry>)> {
    let mut order: Vec<ObisCode> = Vec::new();
    let mut groups: HashMap<ObisCode, Vec<&'a EventEntry>> = HashMap::new();
    for e in entries {
        if !groups.contains_key(&e.log) {
            order.push(e.log);
        }
        groups.entry(e.log).or_default().push(e);
    }
    order
        .into_iter()
        .map(|log| {
            let group = groups.remove(&log).unwrap_or_default();
            (log, group)
        })
        .collect()
}
