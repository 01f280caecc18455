//! How categories and severities look on the card, in print and in HTML alike.
//!
//! Each category has a colour *and* a symbol, and each severity a word, so that the
//! card still reads when printed in black and white.

use crate::codes::{Category, Severity};

/// The look of one category.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CategoryStyle {
    /// Printed before each row and in the group heading (a glyph of DejaVu Sans).
    pub symbol: char,
    /// `0xRRGGBB`, dark enough for white text on it.
    pub color: u32,
    /// Group heading, in capitals.
    pub heading: &'static str,
}

// Design: the symbols differ in outline (triangle, bolt, cloud, ring, currency sign,
// gear, tick, question mark), not only in fill, so a photocopy keeps them apart.
pub fn category(c: Category) -> CategoryStyle {
    let (symbol, color, heading) = match c {
        Category::Tamper => ('⚠', 0xB71C1C, "TAMPER"),
        Category::LoadPowerQuality => ('⚡', 0xBF5B00, "LOAD / POWER QUALITY"),
        Category::Backend => ('☁', 0x0D47A1, "BACKEND / HES"),
        Category::NotCommissioned => ('○', 0x6A1B9A, "NOT COMMISSIONED"),
        Category::Credit => ('¤', 0x00695C, "CREDIT"),
        Category::RelayTest => ('⚙', 0x455A64, "RELAY TEST"),
        Category::Normal => ('✔', 0x2E7D32, "NORMAL"),
        Category::Unknown => ('?', 0x424242, "UNKNOWN"),
    };
    CategoryStyle {
        symbol,
        color,
        heading,
    }
}

/// The severity mark printed on a status row.
pub fn severity_mark(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Info => "INFO",
        Severity::Ok => "OK",
    }
}

/// Every severity, most urgent first (the legend's order).
pub const SEVERITIES: [Severity; 6] = [
    Severity::Critical,
    Severity::High,
    Severity::Medium,
    Severity::Low,
    Severity::Info,
    Severity::Ok,
];

/// The mark for a site's own procedure.
pub const SITE_MARK: &str = "⚑ SITE";
