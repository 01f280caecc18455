//! Whole event logs for the timeline: every row of each log the profile's event entries
//! name, classified by the profile's event codes (cover open, overload trip, power down).
//!
//! Reads through `meter::cosem` in the caller's association; one unreadable log never
//! fails the others. Rows whose code the profile does not count are left out.

use crate::agent::reading::Counter;
use crate::meter::cosem::{
    date_time, find_columns, read_buffer, read_capture_objects, BufferSelection, EventColumns,
    ItemError,
};
use crate::meter::{MeterError, ProgressFn, Session};
use crate::profile::Profile;
use crate::protocol::axdr::{Data, DateTime};
use crate::protocol::obis::ObisCode;

/// One counted event from a log.
#[derive(Clone, Debug, PartialEq)]
pub struct LoggedEvent {
    pub kind: Counter,
    pub at: DateTime,
    pub code: u16,
    pub log: ObisCode,
}

/// What reading one log gave.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRead {
    pub log: ObisCode,
    /// Rows in the log, or why it could not be read.
    pub rows: Result<usize, ItemError>,
}

/// Every counted event of every log read, oldest first, and each log's outcome.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventLog {
    pub events: Vec<LoggedEvent>,
    pub logs: Vec<LogRead>,
}

/// The logs the profile's event entries read, in order of first appearance.
pub fn logs_of(profile: &Profile) -> Vec<ObisCode> {
    let mut logs: Vec<ObisCode> = Vec::new();
    for e in &profile.events {
        if !logs.contains(&e.log) {
            logs.push(e.log);
        }
    }
    logs
}

/// The kind of event a row of `log` with `code` is, by the profile's event entries.
pub fn kind_of(profile: &Profile, log: ObisCode, code: u16) -> Option<Counter> {
    profile
        .events
        .iter()
        .filter(|e| e.log == log && e.events.contains(&code))
        .find_map(|e| {
            Counter::ALL
                .into_iter()
                .find(|c| c.event_time_codes().contains(&e.reads))
        })
}

/// The counted events among `rows` of `log` (rows without a usable time or code are
/// skipped: they cannot be placed on a timeline).
pub fn classify(
    profile: &Profile,
    log: ObisCode,
    columns: EventColumns,
    rows: &[Vec<Data>],
) -> Vec<LoggedEvent> {
    rows.iter()
        .filter_map(|row| {
            let code = row
                .get(columns.code)
                .and_then(Data::as_integer)
                .and_then(|c| u16::try_from(c).ok())?;
            let kind = kind_of(profile, log, code)?;
            let at = date_time(row.get(columns.time)?).ok()?;
            Some(LoggedEvent {
                kind,
                at,
                code,
                log,
            })
        })
        .collect()
}

/// Read every log of the profile's event entries whole. `Err` only when the session is
/// lost; a log the meter refuses is recorded in [`EventLog::logs`].
pub async fn read_event_logs(
    session: &mut Session,
    profile: &Profile,
    progress: &mut ProgressFn<'_>,
) -> Result<EventLog, MeterError> {
    let mut out = EventLog::default();
    for log in logs_of(profile) {
        let rows = match read_log(session, profile, log, progress).await? {
            Ok(events) => {
                let n = events.1;
                out.events.extend(events.0);
                Ok(n)
            }
            Err(e) => Err(e),
        };
        out.logs.push(LogRead { log, rows });
    }
    Ok(out)
}

type Read = (Vec<LoggedEvent>, usize);

async fn read_log(
    session: &mut Session,
    profile: &Profile,
    log: ObisCode,
    progress: &mut ProgressFn<'_>,
) -> Result<Result<Read, ItemError>, MeterError> {
    let capture = match read_capture_objects(session, log).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => return Ok(Err(e)),
        Err(e) if e.is_fatal() => return Err(e),
        Err(e) => return Ok(Err(ItemError::Failed(e.to_string()))),
    };
    let Some(columns) = find_columns(&capture) else {
        return Ok(Err(ItemError::BadValue {
            expected: "an event log with a clock column and an event code column",
            found: format!("{} capture objects", capture.len()),
        }));
    };
    let rows = match read_buffer(session, log, &BufferSelection::All, progress).await {
        Ok(Ok(rows)) => rows,
        Ok(Err(e)) => return Ok(Err(e)),
        Err(e) if e.is_fatal() => return Err(e),
        Err(e) => return Ok(Err(ItemError::Failed(e.to_string()))),
    };
    Ok(Ok((classify(profile, log, columns, &rows), rows.len())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obis(s: &str) -> ObisCode {
        s.parse().unwrap()
    }

    fn time(day: u8) -> Data {
        Data::OctetString(vec![0x07, 0xE8, 3, day, 0xFF, 10, 0, 0, 0, 0x80, 0, 0])
    }

    #[test]
    fn rows_are_classified_by_the_profiles_event_codes() {
        let p = Profile::calin();
        let fraud = obis("0.0.99.98.1.255");
        assert_eq!(kind_of(&p, fraud, 44), Some(Counter::CoverOpen));
        assert_eq!(kind_of(&p, fraud, 45), None);
        assert_eq!(
            kind_of(&p, obis("0.0.99.98.2.255"), 63),
            Some(Counter::OverloadTrip)
        );
        assert_eq!(
            kind_of(&p, obis("0.0.99.98.0.255"), 1),
            Some(Counter::PowerDown)
        );
        // The same code in another log is another event.
        assert_eq!(kind_of(&p, obis("0.0.99.98.0.255"), 44), None);
        let columns = EventColumns { time: 1, code: 0 };
        let rows = vec![
            vec![Data::Unsigned(44), time(2)],
            vec![Data::Unsigned(45), time(3)],
            vec![Data::Unsigned(44), Data::Unsigned(0)],
            vec![Data::Unsigned(44), time(9)],
        ];
        let got = classify(&p, fraud, columns, &rows);
        assert_eq!(got.len(), 2);
        assert!(got
            .iter()
            .all(|e| e.kind == Counter::CoverOpen && e.log == fraud));
        assert_eq!(got[1].at.date.day_of_month, 9);
        assert_eq!(logs_of(&p).len(), 3);
    }
}
