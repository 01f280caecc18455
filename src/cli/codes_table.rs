//! `calin-agent codes`: the whole table, aligned for a terminal or as a JSON array.

use super::decode::{short_json, status_json};
use super::exit;
use crate::codes::{Lookup, Mode, OperatingStatus, ShortCode, OPERATING_STATUS, SHORT_CODES};
use serde_json::Value;
use std::io::Write;

pub fn run(lookup: &Lookup, mode: Mode, as_json: bool, out: &mut dyn Write) -> u8 {
    let statuses: Vec<_> = OPERATING_STATUS
        .iter()
        .map(|e| lookup.status(OperatingStatus(e.status()), mode))
        .collect();
    let shorts: Vec<_> = SHORT_CODES
        .iter()
        .map(|e| lookup.short_code(ShortCode(e.code)))
        .collect();
    let result = if as_json {
        let all: Vec<Value> = shorts
            .iter()
            .map(short_json)
            .chain(statuses.iter().map(status_json))
            .collect();
        writeln!(out, "{}", Value::Array(all))
    } else {
        let mut rows = vec![vec![
            "CODE".to_owned(),
            "NAME".to_owned(),
            "UNIT".to_owned(),
            "ACTION".to_owned(),
        ]];
        rows.extend(shorts.iter().map(|s| {
            vec![
                format!("{:02}", s.code),
                s.name.clone(),
                s.unit.clone(),
                s.action.clone(),
            ]
        }));
        let mut text = format!("Short codes\n{}\n", aligned(&rows));
        let mut rows = vec![[
            "STATUS", "87:", "MEANING", "CATEGORY", "SEVERITY", "VISIT", "ACTION",
        ]
        .map(str::to_owned)
        .to_vec()];
        rows.extend(statuses.iter().map(|s| {
            let mut action = s.action.clone();
            if !s.relevant {
                action = format!("[not applicable in {mode}] {action}");
            }
            vec![
                s.code.to_string(),
                s.sub_code.map(|c| format!("{c:02}")).unwrap_or_default(),
                s.meaning.clone(),
                s.category.to_string(),
                s.severity.to_string(),
                s.site_visit.to_string(),
                action,
            ]
        }));
        text += &format!(
            "\nMeter operating status (status = 1000 + code-87 sub-code), {mode} mode\n{}",
            aligned(&rows)
        );
        text += "\nNot defined by the guide (decoded as unknown with the raw value): 1002, 1010, 1019, 1020.\n";
        out.write_all(text.as_bytes())
    };
    if result.is_err() {
        return exit::SOFTWARE;
    }
    exit::OK
}

/// Left-aligned columns, two spaces apart; the last column is not padded.
fn aligned(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        for (c, cell) in r.iter().enumerate() {
            if c + 1 == cols {
                s += cell;
            } else {
                let w = widths.get(c).copied().unwrap_or(0);
                s += &format!("{cell:<w$}  ");
            }
        }
        s += "\n";
    }
    s
}
