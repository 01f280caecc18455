//! What the card says, independent of how it is drawn: sections of category groups,
//! one row per code (or per range of codes), and the notes.
//!
//! Built from the lookup core with the site's overrides applied, so the card can never
//! disagree with `decode`. The PDF and HTML renderers only lay this out.

use super::wording;
use crate::codes::{
    Category, Lookup, Mode, OperatingStatus, Severity, ShortCode, MAX_SUB_CODE, OPERATING_STATUS,
    RELAY_REASON_CODE, SHORT_CODES, STATUS_BASE,
};

/// One printed line of a table (it may wrap when a site's text is long).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub category: Category,
    /// Every code the line covers: a range such as 41–45 covers five.
    pub codes: Vec<u32>,
    /// How the codes are printed: `1008`, `41–45`, `1002 1010 1019 1020`.
    pub label: String,
    /// The code-87 sub-code of a status (`87:08`), empty for short codes.
    pub sub_code: String,
    pub meaning: String,
    pub action: String,
    /// Status codes only (short codes have none).
    pub severity: Option<Severity>,
    /// The action is the site's own procedure (a config override), printed as written.
    pub site_procedure: bool,
    /// False for a code the mode ignores (credit codes in postpaid).
    pub applies: bool,
}

/// The rows of one category within a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub category: Category,
    pub rows: Vec<Row>,
}

/// A table of the card: the operating status family, or the short codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    /// How to read the codes of this table, one line.
    pub subtitle: String,
    /// Column heading of the code column.
    pub code_heading: String,
    pub groups: Vec<Group>,
}

/// A boxed note under the tables.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The category whose colour and symbol the note carries, if any.
    pub category: Option<Category>,
    pub title: String,
    pub text: String,
}

/// Everything printed on the card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardContent {
    pub title: String,
    pub site_name: Option<String>,
    pub mode: Mode,
    /// The day the card was made (`YYYY-MM-DD`), printed in the footer.
    pub date: String,
    /// Program name and version, printed in the footer.
    pub generator: String,
    pub sections: Vec<Section>,
    pub notes: Vec<Note>,
}

impl CardContent {
    /// The card for a site: `lookup` carries its overrides, `date` is printed as given.
    pub fn build(lookup: &Lookup, site_name: Option<&str>, mode: Mode, date: &str) -> Self {
        let undefined: Vec<u32> = (0..=MAX_SUB_CODE)
            .map(|s| OperatingStatus::from_sub_code(u32::from(s)))
            .filter(|s| s.entry().is_none())
            .map(|s| s.0)
            .collect();
        let statuses = Section {
            title: "Meter operating status / code 87 relay disconnect reason".to_owned(),
            subtitle: "Status = 1000 + code-87 sub-code: 1008 and 87:08 are the same condition."
                .to_owned(),
            code_heading: "Status".to_owned(),
            groups: group(status_rows(lookup, mode, &undefined)),
        };
        let shorts = Section {
            title: "Short codes (meter display / query)".to_owned(),
            subtitle: "Ranges share one line: 41–45 are the 1st (latest) to 5th events.".to_owned(),
            code_heading: "Code".to_owned(),
            groups: group(short_rows(lookup)),
        };
        let any_site = [&statuses, &shorts]
            .iter()
            .flat_map(|s| &s.groups)
            .flat_map(|g| &g.rows)
            .any(|r| r.site_procedure);
        CardContent {
            title: "CalinMeter status codes: field reference card".to_owned(),
            site_name: site_name.map(str::to_owned),
            mode,
            date: date.to_owned(),
            generator: format!("calin-agent {}", env!("CARGO_PKG_VERSION")),
            sections: vec![statuses, shorts],
            notes: notes(mode, any_site, &undefined),
        }
    }

    /// Every row, in printed order.
    pub fn rows(&self) -> impl Iterator<Item = &Row> {
        self.sections
            .iter()
            .flat_map(|s| &s.groups)
            .flat_map(|g| &g.rows)
    }
}

/// Rows grouped by category, groups in the card's category order.
fn group(rows: Vec<Row>) -> Vec<Group> {
    Category::ALL
        .iter()
        .map(|&category| Group {
            category,
            rows: rows
                .iter()
                .filter(|r| r.category == category)
                .cloned()
                .collect(),
        })
        .filter(|g| !g.rows.is_empty())
        .collect()
}

fn status_rows(lookup: &Lookup, mode: Mode, undefined: &[u32]) -> Vec<Row> {
    let mut rows: Vec<Row> = OPERATING_STATUS
        .iter()
        .map(|e| {
            let info = lookup.status(OperatingStatus(e.status()), mode);
            let action = match wording::status_action(e.sub_code, mode) {
                Some(short) if !info.overridden => short.to_owned(),
                _ => info.action.clone(),
            };
            Row {
                category: info.category,
                codes: vec![info.code],
                label: info.code.to_string(),
                sub_code: format!("{RELAY_REASON_CODE}:{:02}", e.sub_code),
                meaning: wording::status_meaning(e.sub_code).map_or(info.meaning, str::to_owned),
                action,
                severity: Some(info.severity),
                site_procedure: info.overridden,
                applies: info.relevant,
            }
        })
        .collect();
    if let Some(&first) = undefined.first() {
        let info = lookup.status(OperatingStatus(first), mode);
        let subs: Vec<u32> = undefined.iter().map(|c| c - STATUS_BASE).collect();
        rows.push(Row {
            category: Category::Unknown,
            label: join(undefined, " "),
            sub_code: String::new(),
            codes: undefined.to_vec(),
            meaning: format!(
                "Not defined (87:{})",
                subs.iter()
                    .map(|s| format!("{s:02}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            action: wording::UNKNOWN_ACTION.to_owned(),
            severity: Some(info.severity),
            site_procedure: false,
            applies: true,
        });
    }
    rows
}

fn join(codes: &[u32], sep: &str) -> String {
    codes
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

// Design: short codes have no category in the lookup core; the card files each under
// the category of the condition it counts or measures, so that one colour and symbol
// mean one kind of problem on both tables. 01 and 87 (plain readings) go under normal.
fn short_category(code: u8) -> Category {
    match code {
        40..=45 => Category::Tamper,
        14 | 31 | 35 | 46..=58 => Category::LoadPowerQuality,
        _ => Category::Normal,
    }
}

fn short_rows(lookup: &Lookup) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    // The numbered prefix ("Cover open time") of the row being extended, if any.
    let mut run: Option<String> = None;
    for e in SHORT_CODES {
        let info = lookup.short_code(ShortCode(e.code));
        let action = match wording::short_action(e.code) {
            Some(short) if !info.overridden => short.to_owned(),
            _ => info.action.clone(),
        };
        let prefix = numbered_prefix(&info.name);
        if let (Some(last), Some(p)) = (rows.last_mut(), &prefix) {
            let follows = last.codes.last() == Some(&(u32::from(e.code) - 1));
            if run.as_ref() == Some(p)
                && follows
                && last.action == action
                && last.site_procedure == info.overridden
            {
                last.codes.push(u32::from(e.code));
                let first = last.codes[0];
                last.label = format!("{first:02}–{:02}", e.code);
                last.meaning = format!("{p}s 1–{} (1 = latest)", last.codes.len());
                continue;
            }
        }
        let unit = match info.unit.as_str() {
            "kWh" | "kW" => format!(" ({})", info.unit),
            _ => String::new(),
        };
        rows.push(Row {
            category: short_category(e.code),
            codes: vec![u32::from(e.code)],
            label: format!("{:02}", e.code),
            sub_code: String::new(),
            meaning: format!("{}{unit}", info.name),
            action,
            severity: None,
            site_procedure: info.overridden,
            applies: true,
        });
        run = prefix;
    }
    rows
}

/// `Some("Cover open time")` for a name ending in a number (`Cover open time 3`).
fn numbered_prefix(name: &str) -> Option<String> {
    let (prefix, n) = name.rsplit_once(' ')?;
    n.parse::<u8>().ok().map(|_| prefix.to_owned())
}

fn notes(mode: Mode, any_site: bool, undefined: &[u32]) -> Vec<Note> {
    let mut notes = vec![Note {
        category: Some(Category::NotCommissioned),
        title: "1008 Not commissioned".to_owned(),
        text: "Default commissioning code 12345; a site-specific commissioning token may replace it: \
               use the one your site issued. Enter it on the CIU or through the backend. Once commissioned, \
               tamper detection is active and the relay closes."
            .to_owned(),
    }];
    notes.push(match mode {
        Mode::Postpaid => Note {
            category: Some(Category::Credit),
            title: "Postpaid".to_owned(),
            text:
                "Credit codes are ignored: 1001 (no credit) and codes tied to tokens or residual \
                   amounts are not applicable (shown as n/a)."
                    .to_owned(),
        },
        Mode::Prepaid => Note {
            category: Some(Category::Credit),
            title: "Prepaid".to_owned(),
            text:
                "Credit codes apply: 1001 (no credit) means the customer must load a credit token. \
                   In postpaid they are ignored."
                    .to_owned(),
        },
    });
    notes.push(Note {
        category: Some(Category::Unknown),
        title: "Unknown numbers".to_owned(),
        text: format!(
            "{} and any number this card does not list: unknown: record the raw value and \
             report it. Check the code's action before deciding on a site visit.",
            join(undefined, ", ")
        ),
    });
    if any_site {
        notes.push(Note {
            category: None,
            title: "SITE".to_owned(),
            text: "Marked actions are this site's own procedure (from its configuration); \
                   they replace the guide's action."
                .to_owned(),
        });
    }
    notes
}

#[cfg(test)]
mod tests;
