//! What the report says, independent of how it is drawn: built from what one probe
//! read ([`ReadReport`]s), the settings it used, the lookup core with the site's
//! overrides, and optionally the whole event logs. The PDF and HTML renderers only lay
//! this out, so they can never disagree.

use super::actions::{self, Action, WhatToDo};
use super::events::EventLog;
use super::explain::explain;
use super::timeline::{self, when, Timeline};
use super::values::{item_name, reads_name, value_text};
use crate::agent::reading::Counter;
use crate::codes::{Category, Lookup, Mode, Severity, ShortCode, SiteVisit, StatusInfo};
use crate::meter::cosem::ControlState;
use crate::meter::read::{Item, ItemFailure, ReadReport, ReadValue, Reading};
use crate::meter::{Framing, Session, SessionConfig};
use crate::profile::Reads;
use crate::protocol::axdr::DateTime;

/// The session settings a read used, as printed. Never holds the password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadSettings {
    /// The link ("tcp 10.0.0.5:4059", "serial /dev/ttyUSB0 9600 8N1").
    pub link: String,
    /// "physical address 17 (logical device 1)".
    pub address: String,
    pub client: u8,
    /// "none (public client)" or "low-level security (password)".
    pub authentication: String,
    /// "HDLC" or the wrapper with its ports.
    pub framing: String,
    /// Baud rate and character format on a serial line; `None` on TCP.
    pub line: Option<String>,
    /// "3 s".
    pub response_timeout: String,
}

impl ReadSettings {
    /// From the link's description and the session configuration.
    pub fn new(link_description: &str, c: &SessionConfig) -> Self {
        // A serial link describes itself as "serial PORT BAUD FORMAT".
        let line = link_description.strip_prefix("serial ").and_then(|rest| {
            let words: Vec<&str> = rest.split_whitespace().collect();
            (words.len() >= 3).then(|| words[words.len() - 2..].join(" "))
        });
        let framing = match c.framing {
            Framing::Hdlc => "HDLC (IEC 62056-46)".to_owned(),
            Framing::Wrapper {
                client_wport,
                server_wport,
            } => format!("IEC 62056-47 wrapper, ports {client_wport} → {server_wport}"),
        };
        ReadSettings {
            link: link_description.to_owned(),
            address: c.describe_address(),
            client: c.client,
            authentication: if c.password.is_some() {
                "low-level security (password)".to_owned()
            } else {
                "none (lowest-level security)".to_owned()
            },
            framing,
            line,
            response_timeout: format!("{} s", c.response_timeout.as_secs_f64()),
        }
    }

    /// The settings of an open session.
    pub fn from_session(s: &Session) -> Self {
        ReadSettings::new(&s.link_description(), s.config())
    }
}

/// Everything the report is built from.
#[derive(Clone, Copy, Debug)]
pub struct VisitInput<'a> {
    /// What the probe read, in the order read (one per selection).
    pub reports: &'a [ReadReport],
    pub settings: &'a ReadSettings,
    /// When it was read, as the caller's clock says (e.g. "2026-11-27 14:05 +03:00").
    pub read_at: &'a str,
    pub lookup: &'a Lookup,
    pub mode: Mode,
    pub site: Option<&'a str>,
    /// The whole event logs, when they were read; else the timeline uses the event
    /// times of short codes 41–57 (the last five of each kind).
    pub event_log: Option<&'a EventLog>,
}

/// A label and its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    pub label: String,
    pub value: String,
}

/// A coded value (operating status, relay reason) with its decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodedValue {
    pub label: String,
    pub value: String,
    pub info: StatusInfo,
    /// A relay reason that names the same condition as the operating status: printed
    /// in one line, not decoded twice.
    pub repeats_status: bool,
}

/// One short code (or attribute) read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValueRow {
    /// "01", or the attribute reference.
    pub code: String,
    pub name: String,
    /// The value, or "not read" (explained in the last section).
    pub value: String,
    pub unit: String,
    pub read: bool,
}

/// An event counter and its last event times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterRow {
    pub counter: Counter,
    /// "40".
    pub code: String,
    pub name: String,
    /// The count, or "not read".
    pub count: String,
    /// Most recent first.
    pub last: Vec<String>,
    /// Why there are no times, when there are none.
    pub times_note: Option<String>,
}

/// One item that could not be read, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unread {
    /// "35 Power factor".
    pub what: String,
    /// "class 3, 1.0.13.7.0.255, attribute 2", or "" when nothing was asked.
    pub object: String,
    /// The error as the meter layer reports it.
    pub error: String,
    /// What it means and what to try.
    pub meaning: String,
}

/// Everything printed in the report.
#[derive(Clone, Debug, PartialEq)]
pub struct VisitReport {
    pub title: String,
    pub site: Option<String>,
    /// The meter's serial number, or why there is none.
    pub meter: String,
    pub read_at: String,
    pub mode: Mode,
    /// "calin-agent 0.1.0".
    pub generator: String,
    pub todo: WhatToDo,
    pub identity: Vec<Field>,
    pub settings: Vec<Field>,
    /// Operating status and relay reason, decoded.
    pub status: Vec<CodedValue>,
    /// Relay output and control state.
    pub relay: Vec<Field>,
    pub values: Vec<ValueRow>,
    pub counters: Vec<CounterRow>,
    pub timeline: Timeline,
    pub unread: Vec<Unread>,
    /// The error that ended the read early, if one did.
    pub aborted: Option<String>,
}

/// The readings and failures of all reports, looked up by what was asked.
struct Items<'a> {
    all: Vec<&'a Result<Reading, ItemFailure>>,
}

impl<'a> Items<'a> {
    fn what(item: &Result<Reading, ItemFailure>) -> Item {
        match item {
            Ok(r) => r.what,
            Err(f) => f.what,
        }
    }

    /// The reading of `what`, else its failure; `None` when it was not asked for.
    fn get(&self, what: Item) -> Option<&'a Result<Reading, ItemFailure>> {
        let mut asked = self.all.iter().filter(|i| Self::what(i) == what);
        let first = asked.clone().next().copied();
        asked.find(|i| i.is_ok()).copied().or(first)
    }

    fn value(&self, what: Item) -> Option<&'a ReadValue> {
        match self.get(what)? {
            Ok(r) => Some(&r.value),
            Err(_) => None,
        }
    }
}

fn short(c: u8) -> Item {
    Item::Reads(Reads::Short(ShortCode(c)))
}

const NOT_READ: &str = "not read (see “What could not be read”)";

impl VisitReport {
    /// Decide what the report says.
    pub fn build(input: &VisitInput<'_>) -> VisitReport {
        let items = Items {
            all: input.reports.iter().flat_map(|r| r.items.iter()).collect(),
        };
        let lookup = input.lookup;
        let mode = input.mode;
        let (status, mut actions, status_note) = status(&items, lookup, mode);
        let relay = relay(&items, &mut actions);
        let counters = counters(&items, lookup, input.event_log, &mut actions);
        let aborted = input
            .reports
            .iter()
            .find_map(|r| r.aborted.as_ref())
            .map(|e| e.to_string());
        if let Some(e) = &aborted {
            actions.push(Action {
                severity: Severity::Medium,
                category: Category::Unknown,
                finding: format!("The read was cut short: {e}"),
                action: "Check the cable or optical head and run the probe again before leaving: the items after the break were not read.".to_owned(),
                site_visit: SiteVisit::IfUnresolved,
            });
        }
        let unread = unread(&items, lookup, input.event_log);
        let mut notes: Vec<String> = Vec::new();
        if let Some(n) = status_note {
            notes.push(n);
        }
        if !unread.is_empty() {
            notes.push(format!(
                "{} item(s) could not be read: see “What could not be read” at the end.",
                unread.len()
            ));
        }
        let note = (!notes.is_empty()).then(|| notes.join(" "));
        let serial = match items.value(Item::Reads(Reads::Serial)) {
            Some(v) => value_text(&Item::Reads(Reads::Serial), v).0,
            None => "serial number not read".to_owned(),
        };
        VisitReport {
            title: "Site visit report".to_owned(),
            site: input.site.map(str::to_owned),
            meter: serial,
            read_at: input.read_at.to_owned(),
            mode,
            generator: concat!("calin-agent ", env!("CARGO_PKG_VERSION")).to_owned(),
            todo: WhatToDo::new(actions, note),
            identity: identity(&items),
            settings: settings(input),
            status,
            relay,
            values: values(&items, lookup),
            counters,
            timeline: timeline(&items, input.event_log),
            unread,
            aborted,
        }
    }
}

fn identity(items: &Items<'_>) -> Vec<Field> {
    [
        Reads::Serial,
        Reads::DeviceName,
        Reads::Firmware,
        Reads::Clock,
    ]
    .into_iter()
    .map(|r| {
        let what = Item::Reads(r);
        let value = match items.get(what) {
            Some(Ok(reading)) => value_text(&what, &reading.value).0,
            Some(Err(_)) => NOT_READ.to_owned(),
            None => "not asked for".to_owned(),
        };
        Field {
            label: reads_name(r).to_owned(),
            value,
        }
    })
    .collect()
}

fn settings(input: &VisitInput<'_>) -> Vec<Field> {
    let s = input.settings;
    let client = match s.client {
        16 => "16 (public client)".to_owned(),
        1 => "1 (management client)".to_owned(),
        c => c.to_string(),
    };
    let field = |label: &str, value: String| Field {
        label: label.to_owned(),
        value,
    };
    vec![
        field("Read at", input.read_at.to_owned()),
        field("Link", s.link.clone()),
        field(
            "Serial line",
            s.line
                .clone()
                .unwrap_or_else(|| "none (network link)".to_owned()),
        ),
        field("Framing", s.framing.clone()),
        field("Meter address", s.address.clone()),
        field("Client", client),
        field("Authentication", s.authentication.clone()),
        field("Response timeout", s.response_timeout.clone()),
        field("Billing mode", input.mode.to_string()),
    ]
}

/// The decoded status and relay reason, their actions, and a note when the status is
/// missing.
fn status(
    items: &Items<'_>,
    lookup: &Lookup,
    mode: Mode,
) -> (Vec<CodedValue>, Vec<Action>, Option<String>) {
    let mut coded = Vec::new();
    let mut actions = Vec::new();
    let status = match items.value(Item::Reads(Reads::Status)) {
        Some(ReadValue::Status(s)) => Some(lookup.status(*s, mode)),
        _ => None,
    };
    let reason = match items.value(short(crate::codes::RELAY_REASON_CODE)) {
        Some(ReadValue::RelayReason(sub)) => Some((*sub, lookup.relay_reason(*sub, mode))),
        _ => None,
    };
    if let Some(info) = &status {
        let agrees = reason
            .as_ref()
            .is_some_and(|(sub, r)| *sub != 0 && r.code == info.code);
        let mut finding = format!("Operating status {}: {}", info.code, info.meaning);
        if agrees {
            if let Some(sub) = info.sub_code {
                finding.push_str(&format!(" (relay disconnect reason 87:{sub:02} agrees)"));
            }
        }
        actions.extend(actions::for_status(finding, info));
        coded.push(CodedValue {
            label: "Operating status".to_owned(),
            value: info.code.to_string(),
            info: info.clone(),
            repeats_status: false,
        });
    }
    if let Some((sub, info)) = &reason {
        let same = status.as_ref().is_some_and(|s| s.code == info.code);
        if *sub != 0 && !same {
            let finding = format!("Relay disconnect reason 87:{sub:02}: {}", info.meaning);
            actions.extend(actions::for_status(finding, info));
        }
        coded.push(CodedValue {
            label: "Relay disconnect reason (87)".to_owned(),
            value: format!("{sub:02} (status {})", info.code),
            info: info.clone(),
            repeats_status: same,
        });
    }
    let note = status
        .is_none()
        .then(|| "The operating status was not read, so this box may be incomplete.".to_owned());
    (coded, actions, note)
}

fn relay(items: &Items<'_>, actions: &mut Vec<Action>) -> Vec<Field> {
    let mut out = Vec::new();
    for r in [Reads::Relay, Reads::RelayControl] {
        let what = Item::Reads(r);
        let value = match items.get(what) {
            Some(Ok(reading)) => {
                if let ReadValue::RelayControl(ControlState::Unknown(v)) = reading.value {
                    actions.push(Action {
                        severity: Severity::Medium,
                        category: Category::Unknown,
                        finding: format!("Relay control state {v} is not defined by the Blue Book"),
                        action: "Record the raw value and report it to the AMI administrator; check the relay on site.".to_owned(),
                        site_visit: SiteVisit::IfUnresolved,
                    });
                }
                value_text(&what, &reading.value).0
            }
            Some(Err(_)) => NOT_READ.to_owned(),
            None => continue,
        };
        out.push(Field {
            label: reads_name(r).to_owned(),
            value,
        });
    }
    out
}

/// Every short code asked for (in code order), then explicit attributes.
fn values(items: &Items<'_>, lookup: &Lookup) -> Vec<ValueRow> {
    let mut asked: Vec<Item> = Vec::new();
    for i in &items.all {
        let what = Items::what(i);
        if matches!(what, Item::Reads(Reads::Short(_)) | Item::Attribute(_))
            && !asked.contains(&what)
        {
            asked.push(what);
        }
    }
    asked.sort_by_key(|w| match w {
        Item::Reads(Reads::Short(c)) => (0, c.0, String::new()),
        other => (1, 0, other.to_string()),
    });
    asked
        .into_iter()
        .map(|what| {
            let (code, name) = match what {
                Item::Reads(Reads::Short(c)) => (c.to_string(), lookup.short_code(c).name),
                other => ("attr".to_owned(), other.to_string()),
            };
            let (value, unit, read) = match items.get(what) {
                Some(Ok(r)) => {
                    let (v, u) = value_text(&what, &r.value);
                    (v, u, true)
                }
                _ => (NOT_READ.to_owned(), String::new(), false),
            };
            ValueRow {
                code,
                name,
                value,
                unit,
                read,
            }
        })
        .collect()
}

fn counters(
    items: &Items<'_>,
    lookup: &Lookup,
    log: Option<&EventLog>,
    actions: &mut Vec<Action>,
) -> Vec<CounterRow> {
    Counter::ALL
        .into_iter()
        .filter_map(|counter| {
            let code = counter.short_code();
            let what = short(code.0);
            let asked = items.get(what);
            let count = match items.value(what) {
                Some(ReadValue::Count(n) | ReadValue::Number(n)) => Some(*n),
                _ => None,
            };
            let mut last: Vec<String> = counter
                .event_time_codes()
                .iter()
                .filter_map(|c| match items.value(short(c.0)) {
                    Some(ReadValue::Timestamp(t)) => Some(when(t)),
                    _ => None,
                })
                .collect();
            let from_log = log.map(|l| {
                let mut ts: Vec<&DateTime> = l
                    .events
                    .iter()
                    .filter(|e| e.kind == counter)
                    .map(|e| &e.at)
                    .collect();
                ts.sort_by(|a, b| {
                    timeline::minutes(b)
                        .unwrap_or(f64::MIN)
                        .total_cmp(&timeline::minutes(a).unwrap_or(f64::MIN))
                });
                ts.into_iter().take(5).map(when).collect::<Vec<String>>()
            });
            if last.is_empty() {
                last = from_log.unwrap_or_default();
            }
            if asked.is_none() && last.is_empty() {
                return None;
            }
            let times_note = last.is_empty().then(|| {
                if counter.event_time_codes().is_empty() {
                    "the meter keeps no times for this counter".to_owned()
                } else if count == Some(0) {
                    "no events".to_owned()
                } else {
                    "event times not read".to_owned()
                }
            });
            let name = lookup.short_code(code).name;
            if let Some(n) = count.filter(|n| *n > 0) {
                let (category, severity, site_visit) = counter.weight();
                let latest = last
                    .first()
                    .map(|t| format!(", the last at {t}"))
                    .unwrap_or_default();
                actions.push(Action {
                    severity,
                    category,
                    finding: format!("{name} ({code}) is {n}{latest}"),
                    action: lookup.short_code(code).action,
                    site_visit,
                });
            }
            Some(CounterRow {
                counter,
                code: code.to_string(),
                name,
                count: count.map_or_else(|| "not read".to_owned(), |n| n.to_string()),
                last,
                times_note,
            })
        })
        .collect()
}

fn timeline(items: &Items<'_>, log: Option<&EventLog>) -> Timeline {
    let until = match items.value(Item::Reads(Reads::Clock)) {
        Some(ReadValue::Timestamp(t)) => Some(t),
        _ => None,
    };
    if let Some(l) = log.filter(|l| l.logs.iter().any(|r| r.rows.is_ok())) {
        let names: Vec<String> = l
            .logs
            .iter()
            .filter(|r| r.rows.is_ok())
            .map(|r| r.log.to_string())
            .collect();
        let rows: usize = l.logs.iter().filter_map(|r| r.rows.as_ref().ok()).sum();
        let events: Vec<(Counter, DateTime)> = l.events.iter().map(|e| (e.kind, e.at)).collect();
        let source = format!(
            "Event logs {} ({rows} rows, {} counted events).",
            names.join(", "),
            events.len()
        );
        return timeline::build(source, &events, until);
    }
    let mut events = Vec::new();
    let mut read = 0;
    for counter in Counter::ALL {
        for c in counter.event_time_codes() {
            match items.value(short(c.0)) {
                Some(ReadValue::Timestamp(t)) => {
                    events.push((counter, *t));
                    read += 1;
                }
                Some(_) => read += 1,
                None => {}
            }
        }
    }
    let mut t = timeline::build(
        "Event times of short codes 41–45, 47–51 and 53–57: the last five of each kind only."
            .to_owned(),
        &events,
        until,
    );
    if read == 0 {
        // An empty chart must not read as "no events happened".
        t.note = Some(
            "The event times were not read, so the chart is empty: see “What could not be read”."
                .to_owned(),
        );
    }
    t
}

fn unread(items: &Items<'_>, lookup: &Lookup, log: Option<&EventLog>) -> Vec<Unread> {
    let mut out: Vec<Unread> = Vec::new();
    for i in &items.all {
        let Err(f) = i else { continue };
        // An item read successfully by another selection is not missing.
        if matches!(items.get(f.what), Some(Ok(_))) {
            continue;
        }
        let object = f
            .attr
            .map(|a| {
                format!(
                    "class {}, {}, attribute {}",
                    a.class_id, a.obis, a.attribute
                )
            })
            .unwrap_or_default();
        let u = Unread {
            what: item_name(&f.what, lookup),
            object,
            error: f.error.to_string(),
            meaning: explain(&f.error),
        };
        if !out.contains(&u) {
            out.push(u);
        }
    }
    if let Some(l) = log {
        for r in &l.logs {
            if let Err(e) = &r.rows {
                out.push(Unread {
                    what: "Event log (for the timeline)".to_owned(),
                    object: format!("class 7, {}, attribute 2", r.log),
                    error: e.to_string(),
                    meaning: explain(e),
                });
            }
        }
    }
    out
}
