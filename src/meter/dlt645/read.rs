//! Reading by what the catalogue maps: short codes, the operating status (Calin status
//! word decoded by `StatusWord::conditions()`, the running status when only the relay
//! bit is set), the relay, and the address. One typed result per item; one refused or odd
//! identifier never fails the others; a meter that stops answering ends the read.

use std::collections::HashMap;
use std::fmt;

use super::{Dlt645Error, Dlt645Meter};
use crate::codes::{OperatingStatus, ShortCode, SHORT_CODES};
use crate::meter::read::ReadValue;
use crate::profile::Reads;
use crate::protocol::axdr::{ClockStatus, Date, DateTime, Time, DEVIATION_NOT_SPECIFIED};
use crate::protocol::dlt645::calin::{RUNNING_STATUS, STATUS_REPORT};
use crate::protocol::dlt645::{
    catalog, CatalogEntry, DataId, ErrorWord, MeterDateTime, Provenance, RunningStatus, StatusWord,
    Value, ValueError, Version,
};
use crate::protocol::units::{Quantity, Unit};

/// One item's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Dlt645Reading {
    pub what: Reads,
    /// The identifier read (`None` for the address, known from the exchange itself).
    pub di: Option<DataId>,
    pub value: ReadValue,
    /// The reply's data, offset removed, identifier stripped.
    pub raw: Vec<u8>,
}

/// Why one item has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Dlt645ItemError {
    #[error("refused by the meter: {:?}", .0.conditions())]
    Refused(ErrorWord),
    #[error("reply data does not decode: {0}")]
    BadValue(ValueError),
    #[error("no {0} identifier in the catalogue for this reading")]
    NotInCatalogue(Version),
    #[error("not read: {0}")]
    NotRead(String),
}

/// One item that has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dlt645Failure {
    pub what: Reads,
    pub di: Option<DataId>,
    pub error: Dlt645ItemError,
}

impl fmt::Display for Dlt645Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.di {
            Some(di) => write!(f, "{} ({di}): {}", self.what, self.error),
            None => write!(f, "{}: {}", self.what, self.error),
        }
    }
}

/// Everything one read produced, in the order asked (the status may give several
/// readings: one per condition the status word reports).
#[derive(Debug)]
pub struct Dlt645Report {
    pub items: Vec<Result<Dlt645Reading, Dlt645Failure>>,
    /// The error that ended the read early (later items are `NotRead`).
    pub aborted: Option<Dlt645Error>,
}

/// What `--read all` means for an edition: every short code the catalogue answers, then
/// the status, the relay and the address.
pub fn all_reads(version: Version, vendor_version: Version) -> Vec<Reads> {
    let mut out: Vec<Reads> = SHORT_CODES
        .iter()
        .map(|e| ShortCode(e.code))
        .filter(|c| entry_for(*c, version, vendor_version).is_some())
        .map(Reads::Short)
        .collect();
    out.extend([Reads::Status, Reads::Relay, Reads::Serial]);
    out
}

/// The catalogue entry for a short code: the edition's own, else a vendor identifier.
fn entry_for(code: ShortCode, version: Version, vendor: Version) -> Option<&'static CatalogEntry> {
    catalog::for_short_code(code, version).or_else(|| {
        catalog::for_short_code(code, vendor)
            .filter(|e| e.provenance == Provenance::ObservedInPublicCode)
    })
}

/// Raw replies of this read, so the status and the relay share one `C1 11` read.
type Cache = HashMap<DataId, Result<Vec<u8>, ErrorWord>>;

impl Dlt645Meter {
    /// Read `selection` in order. See the module documentation.
    pub async fn read(&mut self, selection: &[Reads]) -> Dlt645Report {
        let mut items = Vec::new();
        let mut cache = Cache::new();
        let mut vendor_silent = false;
        let mut aborted: Option<Dlt645Error> = None;
        for &what in selection {
            if let Some(e) = &aborted {
                items.push(Err(Dlt645Failure {
                    what,
                    di: None,
                    error: Dlt645ItemError::NotRead(e.to_string()),
                }));
                continue;
            }
            match self.read_one(what, &mut cache, &mut vendor_silent).await {
                Ok(mut got) => items.append(&mut got),
                Err(e) => {
                    items.push(Err(Dlt645Failure {
                        what,
                        di: None,
                        error: Dlt645ItemError::NotRead(e.to_string()),
                    }));
                    aborted = Some(e);
                }
            }
        }
        Dlt645Report { items, aborted }
    }

    async fn read_one(
        &mut self,
        what: Reads,
        cache: &mut Cache,
        vendor_silent: &mut bool,
    ) -> Result<Vec<Result<Dlt645Reading, Dlt645Failure>>, Dlt645Error> {
        let version = self.cfg.version;
        let vendor = self.cfg.vendor_version;
        let fail = |di, error| vec![Err(Dlt645Failure { what, di, error })];
        match what {
            Reads::Short(code) => {
                let Some(entry) = entry_for(code, version, vendor) else {
                    return Ok(fail(None, Dlt645ItemError::NotInCatalogue(version)));
                };
                let raw = match self.cached(entry.di, cache, vendor_silent).await? {
                    Ok(Ok(raw)) => raw,
                    Ok(Err(refusal)) => {
                        return Ok(fail(Some(entry.di), Dlt645ItemError::Refused(refusal)))
                    }
                    Err(skipped) => return Ok(fail(Some(entry.di), skipped)),
                };
                Ok(vec![match entry.decode(&raw) {
                    Ok(v) => Ok(Dlt645Reading {
                        what,
                        di: Some(entry.di),
                        value: typed(entry, v),
                        raw,
                    }),
                    Err(e) => Err(Dlt645Failure {
                        what,
                        di: Some(entry.di),
                        error: Dlt645ItemError::BadValue(e),
                    }),
                }])
            }
            Reads::Status => self.status(cache, vendor_silent).await,
            Reads::Relay => {
                let di = STATUS_REPORT;
                Ok(vec![match self.word(cache, vendor_silent).await? {
                    Ok((word, raw)) => Ok(Dlt645Reading {
                        what,
                        di: Some(di),
                        value: ReadValue::Relay(
                            word.relay() == crate::protocol::dlt645::RelayState::Closed,
                        ),
                        raw,
                    }),
                    Err(error) => Err(Dlt645Failure {
                        what,
                        di: Some(di),
                        error,
                    }),
                }])
            }
            Reads::Serial => Ok(vec![Ok(Dlt645Reading {
                what,
                di: None,
                value: ReadValue::Text(self.address.to_string()),
                raw: self.address.wire().to_vec(),
            })]),
            _ => Ok(fail(None, Dlt645ItemError::NotInCatalogue(version))),
        }
    }

    /// The status: one reading per condition of the status word; with only the relay
    /// bit set, the running status (`EF F5`) says why the relay is open.
    async fn status(
        &mut self,
        cache: &mut Cache,
        vendor_silent: &mut bool,
    ) -> Result<Vec<Result<Dlt645Reading, Dlt645Failure>>, Dlt645Error> {
        let what = Reads::Status;
        let (word, raw) = match self.word(cache, vendor_silent).await? {
            Ok(w) => w,
            Err(error) => {
                return Ok(vec![Err(Dlt645Failure {
                    what,
                    di: Some(STATUS_REPORT),
                    error,
                })])
            }
        };
        let conditions = word.conditions();
        if !conditions.is_empty() {
            return Ok(conditions
                .into_iter()
                .map(|s| {
                    Ok(Dlt645Reading {
                        what,
                        di: Some(STATUS_REPORT),
                        value: ReadValue::Status(s),
                        raw: raw.clone(),
                    })
                })
                .collect());
        }
        let di = RUNNING_STATUS;
        let running = match self.cached(di, cache, vendor_silent).await? {
            Ok(Ok(raw)) => raw,
            Ok(Err(refusal)) => {
                return Ok(vec![Err(Dlt645Failure {
                    what,
                    di: Some(di),
                    error: Dlt645ItemError::Refused(refusal),
                })])
            }
            Err(error) => {
                return Ok(vec![Err(Dlt645Failure {
                    what,
                    di: Some(di),
                    error,
                })])
            }
        };
        Ok(vec![match RunningStatus::decode(&running) {
            Ok(r) => Ok(Dlt645Reading {
                what,
                di: Some(di),
                value: ReadValue::Status(r.operating_status()),
                raw: running,
            }),
            Err(e) => Err(Dlt645Failure {
                what,
                di: Some(di),
                error: Dlt645ItemError::BadValue(e.into()),
            }),
        }])
    }

    /// The status word, decoded, with its raw bytes.
    async fn word(
        &mut self,
        cache: &mut Cache,
        vendor_silent: &mut bool,
    ) -> Result<Result<(StatusWord, Vec<u8>), Dlt645ItemError>, Dlt645Error> {
        Ok(
            match self.cached(STATUS_REPORT, cache, vendor_silent).await? {
                Ok(Ok(raw)) => match StatusWord::decode(&raw) {
                    Ok(w) => Ok((w, raw)),
                    Err(e) => Err(Dlt645ItemError::BadValue(e.into())),
                },
                Ok(Err(refusal)) => Err(Dlt645ItemError::Refused(refusal)),
                Err(skipped) => Err(skipped),
            },
        )
    }

    /// Read `di` once per read. A vendor identifier the meter does not answer at all
    /// (no reply to its framing) marks the vendor identifiers as silent, and they are
    /// skipped from then on instead of waiting out every retry again; a silent standard
    /// identifier means the meter is gone (`Err`).
    async fn cached(
        &mut self,
        di: DataId,
        cache: &mut Cache,
        vendor_silent: &mut bool,
    ) -> Result<Result<Result<Vec<u8>, ErrorWord>, Dlt645ItemError>, Dlt645Error> {
        if let Some(hit) = cache.get(&di) {
            return Ok(Ok(hit.clone()));
        }
        let vendor = di.version() != self.cfg.version;
        if vendor && *vendor_silent {
            return Ok(Err(Dlt645ItemError::NotRead(format!(
                "the meter did not answer {} vendor identifiers",
                di.version()
            ))));
        }
        match self.read_raw(di).await {
            Ok(reply) => {
                cache.insert(di, reply.clone());
                Ok(Ok(reply))
            }
            Err(Dlt645Error::NoAnswer { attempts, .. }) if vendor => {
                *vendor_silent = true;
                Ok(Err(Dlt645ItemError::NotRead(format!(
                    "no answer to {} framing after {attempts} attempts (vendor identifier)",
                    di.version()
                ))))
            }
            Err(e) => Err(e),
        }
    }
}

/// A decoded catalogue value as the reading it answers.
fn typed(entry: &CatalogEntry, value: Value) -> ReadValue {
    match value {
        Value::Number(d) => {
            let scaler =
                |exponent: i16| i8::try_from(exponent - i16::from(d.scale)).unwrap_or(i8::MIN);
            match entry.unit {
                "kWh" => ReadValue::Quantity(Quantity {
                    mantissa: i128::from(d.value),
                    scaler: scaler(3),
                    unit: Unit::WattHour,
                }),
                "kW" => ReadValue::Quantity(Quantity {
                    mantissa: i128::from(d.value),
                    scaler: scaler(3),
                    unit: Unit::Watt,
                }),
                "count" if d.scale == 0 => ReadValue::Count(i128::from(d.value)),
                _ => ReadValue::Quantity(Quantity {
                    mantissa: i128::from(d.value),
                    scaler: scaler(0),
                    unit: Unit::Count,
                }),
            }
        }
        Value::EventTime(Some(t)) | Value::DateTime(t) => ReadValue::Timestamp(date_time(t)),
        Value::EventTime(None) => ReadValue::NoEvent,
        Value::RunningStatus(r) => ReadValue::RelayReason(u32::from(r.sub_code)),
        Value::Status(w) => match w.conditions().first() {
            Some(s) => ReadValue::Status(*s),
            None => ReadValue::Status(OperatingStatus(0)),
        },
        other => ReadValue::Text(other.to_string()),
    }
}

/// A meter's local time as a COSEM date-time without deviation or clock status.
fn date_time(t: MeterDateTime) -> DateTime {
    DateTime {
        date: Date {
            year: 2000 + u16::from(t.year),
            month: t.month,
            day_of_month: t.day,
            day_of_week: crate::protocol::axdr::NOT_SPECIFIED,
        },
        time: Time {
            hour: t.hour,
            minute: t.minute,
            second: t.second,
            hundredths: 0,
        },
        deviation: DEVIATION_NOT_SPECIFIED,
        clock_status: ClockStatus::NOT_SPECIFIED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::dlt645::Decimal;

    #[test]
    fn all_reads_follow_the_catalogue() {
        let v97 = all_reads(Version::V1997, Version::V1997);
        let codes: Vec<String> = v97.iter().map(ToString::to_string).collect();
        assert_eq!(codes, ["01", "31", "35", "87", "status", "relay", "serial"]);
        let v07 = all_reads(Version::V2007, Version::V1997);
        for code in ["01", "31", "35", "40", "41", "52", "53", "58", "87"] {
            assert!(
                v07.iter().any(|r| r.to_string() == code),
                "{code} in {v07:?}"
            );
        }
        // 87 comes from the Calin vendor identifier.
        assert_eq!(
            entry_for(ShortCode(87), Version::V2007, Version::V1997).map(|e| e.di),
            Some(RUNNING_STATUS)
        );
    }

    #[test]
    fn values_are_typed_in_the_short_codes_units() {
        let energy = catalog::for_short_code(ShortCode(1), Version::V2007).unwrap();
        assert_eq!(
            typed(energy, Value::Number(Decimal::new(958_015, 2))),
            ReadValue::Quantity(Quantity {
                mantissa: 958_015,
                scaler: 1,
                unit: Unit::WattHour
            })
        );
        let count = catalog::for_short_code(ShortCode(40), Version::V2007).unwrap();
        assert_eq!(
            typed(count, Value::Number(Decimal::new(3, 0))),
            ReadValue::Count(3)
        );
        let record = catalog::for_short_code(ShortCode(41), Version::V2007).unwrap();
        assert_eq!(typed(record, Value::EventTime(None)), ReadValue::NoEvent);
        let t = MeterDateTime {
            year: 24,
            month: 3,
            day: 15,
            hour: 8,
            minute: 30,
            second: 5,
        };
        let ReadValue::Timestamp(dt) = typed(record, Value::EventTime(Some(t))) else {
            panic!("not a timestamp")
        };
        assert_eq!(dt.to_string(), "2024-03-15T08:30:05.00");
    }
}
