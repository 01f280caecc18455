//! Reading by profile: what a `Profile` maps (short codes, operating status, relay,
//! identity, clock, event times), or explicit attributes, read in one association and
//! returned as one typed result per item. One refused or odd object never fails the
//! others; a lost association stops the read and says which items were not read.
//!
//! Plain objects are read together (GET-with-list where negotiated), registers with
//! their scaler_unit; event times come from event logs (see `events`). This module types
//! values by what the profile says they are; it does not judge them (that is `agent`).

mod convert;
mod events;
mod fetch;

use std::fmt;

use super::cosem::{attr, monitored_register, scaled, ControlState, ItemError, CLASS_LIMITER};
use super::error::MeterError;
use super::session::{Session, TransferProgress};
use crate::codes::{OperatingStatus, ShortCode};
use crate::profile::{AttributeRef, EventEntry, Profile, Reads};
use crate::protocol::axdr::{Data, DateTime};
use crate::protocol::units::{Quantity, ScalerUnit, Unit};

use convert::{convert, is_register_value, measurement, scaler_of};
use fetch::fetch;

pub use events::EVENT_WINDOW;

/// A quantity as the guide states it: energy in kWh and power in kW when the meter
/// gives Wh and W (exactly, by shifting the scaler); anything else as given.
/// Returns (number, unit symbol).
pub fn in_code_unit(q: &Quantity, kind: Option<crate::codes::ValueKind>) -> (String, String) {
    use crate::codes::ValueKind;
    let kilo = match (kind, q.unit) {
        (Some(ValueKind::Energy), Unit::WattHour) => Some("kWh"),
        (Some(ValueKind::Power), Unit::Watt) => Some("kW"),
        _ => None,
    };
    match kilo {
        Some(unit) => (
            Quantity {
                scaler: q.scaler.saturating_sub(3),
                ..*q
            }
            .decimal(),
            unit.to_owned(),
        ),
        None => (q.decimal(), q.unit.symbol().unwrap_or("").to_owned()),
    }
}

/// What was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Item {
    /// A profile entry (short code, status, relay, ...).
    Reads(Reads),
    /// An explicit attribute.
    Attribute(AttributeRef),
}

impl fmt::Display for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Reads(r) => write!(f, "{r}"),
            Item::Attribute(a) => write!(f, "{a}"),
        }
    }
}

/// Which items to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// Every object and event entry of the profile.
    All,
    /// Operating status, relay disconnect reason (87), relay output and control state.
    Status,
    /// These short codes (objects or event times).
    Codes(Vec<ShortCode>),
    /// These profile entries.
    Reads(Vec<Reads>),
    /// These attributes, typed by class where the Blue Book defines them.
    Attributes(Vec<AttributeRef>),
}

/// A typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadValue {
    /// A register value with its scaler and unit, exact.
    Quantity(Quantity),
    /// A float value (scaled, when it came from a register).
    Float {
        value: f64,
        unit: Unit,
    },
    /// A number without scaler or unit.
    Number(i128),
    Count(i128),
    Timestamp(DateTime),
    Status(OperatingStatus),
    /// A code-87 relay disconnect reason sub-code.
    RelayReason(u32),
    /// Disconnect control output_state: `true` = connected.
    Relay(bool),
    RelayControl(ControlState),
    Boolean(bool),
    Text(String),
    Bytes(Vec<u8>),
    /// The event log holds fewer such events than asked for (the nth does not exist).
    NoEvent,
    /// A value of no type this reader knows; see `raw`.
    Other,
}

impl fmt::Display for ReadValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadValue::Quantity(q) => write!(f, "{q}"),
            ReadValue::Float { value, unit } => match unit.symbol() {
                Some(s) => write!(f, "{value} {s}"),
                None => write!(f, "{value}"),
            },
            ReadValue::Number(n) | ReadValue::Count(n) => write!(f, "{n}"),
            ReadValue::Timestamp(t) => write!(f, "{t}"),
            ReadValue::Status(s) => write!(f, "{s}"),
            ReadValue::RelayReason(r) => write!(f, "sub-code {r}"),
            ReadValue::Relay(true) => f.write_str("connected"),
            ReadValue::Relay(false) => f.write_str("disconnected"),
            ReadValue::RelayControl(c) => write!(f, "{c}"),
            ReadValue::Boolean(b) => write!(f, "{b}"),
            ReadValue::Text(t) => f.write_str(t),
            ReadValue::Bytes(b) => b.iter().try_for_each(|x| write!(f, "{x:02X}")),
            ReadValue::NoEvent => f.write_str("no such event"),
            ReadValue::Other => f.write_str("(raw value)"),
        }
    }
}

/// One item's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub what: Item,
    /// The attribute the value came from (an event log's buffer for event times).
    pub attr: AttributeRef,
    pub value: ReadValue,
    pub raw: Data,
}

/// Why one item has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFailure {
    pub what: Item,
    /// The attribute tried, when the profile maps the item.
    pub attr: Option<AttributeRef>,
    pub error: ItemError,
}

impl fmt::Display for ItemFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.attr {
            Some(a) => write!(f, "{} ({a}): {}", self.what, self.error),
            None => write!(f, "{}: {}", self.what, self.error),
        }
    }
}

/// Everything one read produced, in the order asked.
#[derive(Debug)]
pub struct ReadReport {
    pub items: Vec<Result<Reading, ItemFailure>>,
    /// The error that lost the association, if one did (later items are `NotRead`).
    pub aborted: Option<MeterError>,
}

/// Progress of a long read, for a terminal display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadProgress {
    /// Starting step `done + 1` of `total` (the objects, then one step per event log).
    Step {
        done: usize,
        total: usize,
        what: String,
    },
    /// A block of a block transfer arrived.
    Transfer {
        what: String,
        progress: TransferProgress,
    },
}

/// One planned item.
enum Planned<'p> {
    Object { what: Item, target: AttributeRef },
    Event(&'p EventEntry),
    Missing(Item),
}

fn plan<'p>(profile: &'p Profile, selection: &Selection) -> Vec<Planned<'p>> {
    let by_reads = |r: Reads| -> Planned<'p> {
        if let Some(o) = profile.object(r) {
            return Planned::Object {
                what: Item::Reads(r),
                target: o.target,
            };
        }
        match r {
            Reads::Short(c) => profile
                .event(c)
                .map_or(Planned::Missing(Item::Reads(r)), Planned::Event),
            _ => Planned::Missing(Item::Reads(r)),
        }
    };
    match selection {
        Selection::All => profile
            .objects
            .iter()
            .map(|o| Planned::Object {
                what: Item::Reads(o.reads),
                target: o.target,
            })
            .chain(profile.events.iter().map(Planned::Event))
            .collect(),
        Selection::Status => [
            Reads::Status,
            Reads::Short(ShortCode(crate::codes::RELAY_REASON_CODE)),
            Reads::Relay,
            Reads::RelayControl,
        ]
        .into_iter()
        .filter(|r| profile.object(*r).is_some())
        .map(by_reads)
        .collect(),
        Selection::Codes(codes) => codes.iter().map(|c| by_reads(Reads::Short(*c))).collect(),
        Selection::Reads(reads) => reads.iter().map(|r| by_reads(*r)).collect(),
        Selection::Attributes(attrs) => attrs
            .iter()
            .map(|a| Planned::Object {
                what: Item::Attribute(*a),
                target: *a,
            })
            .collect(),
    }
}

/// Read `selection` of `profile` in this association. See the module documentation.
pub async fn read_profile(
    session: &mut Session,
    profile: &Profile,
    selection: &Selection,
    progress: &mut (dyn FnMut(ReadProgress) + Send),
) -> ReadReport {
    let planned = plan(profile, selection);
    let mut slots: Vec<Option<Result<Reading, ItemFailure>>> =
        planned.iter().map(|_| None).collect();
    let events: Vec<&EventEntry> = planned
        .iter()
        .filter_map(|p| match p {
            Planned::Event(e) => Some(*e),
            _ => None,
        })
        .collect();
    let logs = events::by_log(&events);
    let total = 1 + logs.len();
    progress(ReadProgress::Step {
        done: 0,
        total,
        what: "objects".into(),
    });
    let mut aborted = read_objects(session, &planned, &mut slots).await.err();
    for (i, (log, entries)) in logs.iter().enumerate() {
        if aborted.is_some() {
            break;
        }
        progress(ReadProgress::Step {
            done: i + 1,
            total,
            what: format!("event log {log}"),
        });
        match events::read_log(session, *log, entries, progress).await {
            Ok(results) => place_events(&planned, &mut slots, entries, results),
            Err(e) => aborted = Some(e),
        }
    }
    let not_read = aborted.as_ref().map(|e| e.to_string());
    let items = planned
        .iter()
        .zip(slots)
        .map(|(p, slot)| {
            slot.unwrap_or_else(|| {
                let (what, attr) = match p {
                    Planned::Object { what, target } => (*what, Some(*target)),
                    Planned::Event(e) => (
                        Item::Reads(Reads::Short(e.reads)),
                        Some(attr(super::cosem::CLASS_PROFILE_GENERIC, e.log, 2)),
                    ),
                    Planned::Missing(what) => (*what, None),
                };
                let error = match (p, &not_read) {
                    (Planned::Missing(_), _) => ItemError::NotInProfile,
                    (_, Some(reason)) => ItemError::NotRead(reason.clone()),
                    (_, None) => ItemError::Failed("not read".into()),
                };
                Err(ItemFailure { what, attr, error })
            })
        })
        .collect();
    ReadReport { items, aborted }
}

fn place_events(
    planned: &[Planned<'_>],
    slots: &mut [Option<Result<Reading, ItemFailure>>],
    entries: &[&EventEntry],
    results: Vec<Result<Reading, ItemFailure>>,
) {
    for (entry, result) in entries.iter().zip(results) {
        for (p, slot) in planned.iter().zip(slots.iter_mut()) {
            if matches!(p, Planned::Event(e) if std::ptr::eq(*e, *entry)) && slot.is_none() {
                *slot = Some(result.clone());
            }
        }
    }
}

/// Read every planned object (values, scaler_units, limiter dependencies) and fill
/// their slots. `Err` only for a fatal session error.
async fn read_objects(
    session: &mut Session,
    planned: &[Planned<'_>],
    slots: &mut [Option<Result<Reading, ItemFailure>>],
) -> Result<(), MeterError> {
    let mut wanted = Vec::new();
    for p in planned {
        if let Planned::Object { target, .. } = p {
            wanted.push(*target);
            if is_register_value(*target) {
                wanted.push(scaler_of(*target));
            }
            if is_limiter_threshold(*target) {
                wanted.push(AttributeRef {
                    attribute: 2,
                    ..*target
                });
            }
        }
    }
    if wanted.is_empty() {
        return Ok(());
    }
    let got = fetch(session, &wanted).await?;
    // Second round: the scaler_unit of the registers that limiters monitor.
    let monitored: Vec<AttributeRef> = planned
        .iter()
        .filter_map(|p| match p {
            Planned::Object { target, .. } if is_limiter_threshold(*target) => {
                let def = got
                    .take(AttributeRef {
                        attribute: 2,
                        ..*target
                    })
                    .ok()?;
                monitored_register(&def).map(scaler_of)
            }
            _ => None,
        })
        .collect();
    let scalers = if monitored.is_empty() {
        Default::default()
    } else {
        fetch(session, &monitored).await?
    };
    for (p, slot) in planned.iter().zip(slots.iter_mut()) {
        let Planned::Object { what, target } = *p else {
            continue;
        };
        let value = got.take(target).and_then(|raw| {
            let value = if is_limiter_threshold(target) {
                let su = got
                    .take(AttributeRef {
                        attribute: 2,
                        ..target
                    })
                    .ok()
                    .and_then(|d| monitored_register(&d))
                    .and_then(|m| scalers.take(scaler_of(m)).ok())
                    .and_then(|d| ScalerUnit::from_data(&d))
                    .unwrap_or(ScalerUnit {
                        scaler: 0,
                        unit: Unit::Count,
                    });
                scaled(&raw, su).map(measurement)
            } else if is_register_value(target) {
                got.take(scaler_of(target))
                    .and_then(|su| convert(what, target, &raw, Some(&su)))
            } else {
                convert(what, target, &raw, None)
            };
            value.map(|value| (value, raw))
        });
        *slot = Some(match value {
            Ok((value, raw)) => Ok(Reading {
                what,
                attr: target,
                value,
                raw,
            }),
            Err(error) => Err(ItemFailure {
                what,
                attr: Some(target),
                error,
            }),
        });
    }
    Ok(())
}

fn is_limiter_threshold(target: AttributeRef) -> bool {
    target.class_id == CLASS_LIMITER && target.attribute == 3
}

#[cfg(test)]
mod tests;
