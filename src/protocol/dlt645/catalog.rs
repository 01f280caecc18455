//! The data-identifier catalogue: which identifier answers which CalinMeter short code, in
//! which format and unit, and where we know it from.
//!
//! Standard identifiers come from the data-identifier tables of DL/T 645-2007 (energy,
//! events, variables, parameters) and DL/T 645-1997. We read the event numbering
//! (`03 11 ..`, `03 30 0D ..`, `13 ..`, `19 ..`, `1C ..`, `1D ..`) from public meter and
//! concentrator code that implements the standard, since the standard's text is not public;
//! where that code left a doubt the entry says [`Confidence::Unsure`] and why. Calin vendor
//! identifiers are [`Provenance::ObservedInPublicCode`]: not vendor-documented.
//! The table is sorted by identifier and unique (a test keeps it so). Pure data.

use super::di::{DataId, Version};
use super::value::{Value, ValueError, ValueFormat};
use crate::codes::ShortCode;

/// Where an entry comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provenance {
    /// Defined by DL/T 645 (1997 or 2007).
    Standard,
    /// Seen in public integration code for Calin meters; not documented by the vendor.
    ObservedInPublicCode,
}

/// How sure we are of the identifier, the format, or the short code it answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Confidence {
    /// Identifier and format cross-checked in more than one public source.
    Checked,
    /// A reasoned choice that a real meter must confirm; `note` says what is unsure.
    Unsure,
}

/// One catalogue row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogEntry {
    pub di: DataId,
    pub name: &'static str,
    pub format: ValueFormat,
    /// Unit of the decoded value ("" when it has none).
    pub unit: &'static str,
    /// The CalinMeter short code this identifier answers, if any.
    pub short_code: Option<ShortCode>,
    pub provenance: Provenance,
    pub confidence: Confidence,
    /// What is unsure, or a remark; empty when there is nothing to add.
    pub note: &'static str,
}

impl CatalogEntry {
    pub fn version(&self) -> Version {
        self.di.version()
    }

    /// Decode a reply's data for this identifier.
    pub fn decode(&self, data: &[u8]) -> Result<Value, ValueError> {
        self.format.decode(data)
    }
}

const fn bcd(len: u8, decimals: u8) -> ValueFormat {
    ValueFormat::Bcd {
        len,
        decimals,
        signed: false,
    }
}

const fn signed(len: u8, decimals: u8) -> ValueFormat {
    ValueFormat::Bcd {
        len,
        decimals,
        signed: true,
    }
}

const COUNT: ValueFormat = bcd(3, 0);
const S: Provenance = Provenance::Standard;
const CALIN: Provenance = Provenance::ObservedInPublicCode;
const OK: Confidence = Confidence::Checked;
const UNSURE: Confidence = Confidence::Unsure;

#[allow(clippy::too_many_arguments)]
const fn e(
    di: DataId,
    name: &'static str,
    format: ValueFormat,
    unit: &'static str,
    short_code: Option<u8>,
    provenance: Provenance,
    confidence: Confidence,
    note: &'static str,
) -> CatalogEntry {
    CatalogEntry {
        di,
        name,
        format,
        unit,
        short_code: match short_code {
            Some(c) => Some(ShortCode(c)),
            None => None,
        },
        provenance,
        confidence,
        note,
    }
}

const fn d97(b: [u8; 2]) -> DataId {
    DataId::v1997(b)
}

const fn d07(b: [u8; 4]) -> DataId {
    DataId::v2007(b)
}

const POWER_DOWN_RECORD: ValueFormat = ValueFormat::RecordStart { len: 12 };
const COVER_RECORD: ValueFormat = ValueFormat::RecordStart { len: 60 };
const OVERLOAD_TIME: ValueFormat = ValueFormat::RecordStart { len: 6 };
const PHASE_DOWN_NOTE: &str = "Calin's 'phase down' read as phase A break (断相); a single-phase meter may report voltage loss (10 ..) instead.";
const OVERLOAD_NOTE: &str = "Calin's 'overload trip' read as phase A overload (过载, 1C ..); the relay trip record (1D ..) is the other candidate.";
const CALIN_NOTE: &str =
    "Identifier seen in public Calin integration code; byte layout is our choice (see calin.rs).";

/// The catalogue, sorted by identifier (1997 before 2007).
#[rustfmt::skip]
pub const CATALOG: &[CatalogEntry] = &[
    // ---- DL/T 645-1997 ----
    e(d97([0x90, 0x10]), "Forward active energy, total", bcd(4, 2), "kWh", Some(1), S, OK, ""),
    e(d97([0xB6, 0x30]), "Instantaneous active power, total", bcd(3, 4), "kW", Some(31), S, OK, ""),
    e(d97([0xB6, 0x50]), "Power factor, total", bcd(2, 3), "", Some(35), S, OK, ""),
    e(d97([0xC0, 0x10]), "Date and weekday", ValueFormat::Date, "", None, S, OK, ""),
    e(d97([0xC0, 0x11]), "Time", ValueFormat::Time, "", None, S, OK, ""),
    e(d97([0xC0, 0x32]), "Meter number", ValueFormat::Address, "", None, S, UNSURE,
        "1997 has no read-address command; C0 32 is the meter number, usually equal to the address."),
    e(d97([0xC1, 0x11]), "Calin status report", ValueFormat::CalinStatusWord, "", None, CALIN, UNSURE,
        "Bit positions are our choice (see calin.rs). In the 1997 standard C1 11 is the demand period."),
    e(d97([0xE4, 0x21]), "Calin credit and relay", ValueFormat::CalinCreditRelay, "", None, CALIN, UNSURE, CALIN_NOTE),
    e(d97([0xEF, 0xF5]), "Calin running status", ValueFormat::CalinRunningStatus, "sub-code", Some(87), CALIN, UNSURE,
        "Read as the code-87 relay disconnect sub-code (status = 1000 + sub-code); our choice."),
    // ---- DL/T 645-2007 ----
    e(d07([0x00, 0x01, 0x00, 0x00]), "Forward active energy, total", bcd(4, 2), "kWh", Some(1), S, OK, ""),
    e(d07([0x02, 0x03, 0x00, 0x00]), "Instantaneous active power, total", signed(3, 4), "kW", Some(31), S, OK, ""),
    e(d07([0x02, 0x06, 0x00, 0x00]), "Power factor, total", signed(2, 3), "", Some(35), S, OK, ""),
    e(d07([0x03, 0x11, 0x00, 0x00]), "Power down count", COUNT, "count", Some(52), S, OK, ""),
    e(d07([0x03, 0x11, 0x00, 0x01]), "Power down record 1 (most recent)", POWER_DOWN_RECORD, "", Some(53), S, OK, ""),
    e(d07([0x03, 0x11, 0x00, 0x02]), "Power down record 2", POWER_DOWN_RECORD, "", Some(54), S, OK, ""),
    e(d07([0x03, 0x11, 0x00, 0x03]), "Power down record 3", POWER_DOWN_RECORD, "", Some(55), S, OK, ""),
    e(d07([0x03, 0x11, 0x00, 0x04]), "Power down record 4", POWER_DOWN_RECORD, "", Some(56), S, OK, ""),
    e(d07([0x03, 0x11, 0x00, 0x05]), "Power down record 5", POWER_DOWN_RECORD, "", Some(57), S, OK, ""),
    e(d07([0x03, 0x30, 0x0D, 0x00]), "Meter cover open count", COUNT, "count", Some(40), S, OK, ""),
    e(d07([0x03, 0x30, 0x0D, 0x01]), "Meter cover open record 1 (most recent)", COVER_RECORD, "", Some(41), S, OK, ""),
    e(d07([0x03, 0x30, 0x0D, 0x02]), "Meter cover open record 2", COVER_RECORD, "", Some(42), S, OK, ""),
    e(d07([0x03, 0x30, 0x0D, 0x03]), "Meter cover open record 3", COVER_RECORD, "", Some(43), S, OK, ""),
    e(d07([0x03, 0x30, 0x0D, 0x04]), "Meter cover open record 4", COVER_RECORD, "", Some(44), S, OK, ""),
    e(d07([0x03, 0x30, 0x0D, 0x05]), "Meter cover open record 5", COVER_RECORD, "", Some(45), S, OK, ""),
    e(d07([0x03, 0x30, 0x0E, 0x00]), "Terminal cover open count", COUNT, "count", None, S, OK, ""),
    e(d07([0x04, 0x00, 0x01, 0x01]), "Date and weekday", ValueFormat::Date, "", None, S, OK, ""),
    e(d07([0x04, 0x00, 0x01, 0x02]), "Time", ValueFormat::Time, "", None, S, OK, ""),
    e(d07([0x04, 0x00, 0x04, 0x01]), "Communication address", ValueFormat::Address, "", None, S, OK, ""),
    e(d07([0x13, 0x01, 0x00, 0x01]), "Phase A break count", COUNT, "count", Some(58), S, UNSURE, PHASE_DOWN_NOTE),
    e(d07([0x19, 0x01, 0x00, 0x01]), "Phase A over-current count", COUNT, "count", None, S, OK, ""),
    e(d07([0x1C, 0x01, 0x00, 0x01]), "Phase A overload count", COUNT, "count", Some(46), S, UNSURE, OVERLOAD_NOTE),
    e(d07([0x1C, 0x01, 0x01, 0x01]), "Phase A overload start time 1 (most recent)", OVERLOAD_TIME, "", Some(47), S, UNSURE, OVERLOAD_NOTE),
    e(d07([0x1C, 0x01, 0x01, 0x02]), "Phase A overload start time 2", OVERLOAD_TIME, "", Some(48), S, UNSURE, OVERLOAD_NOTE),
    e(d07([0x1C, 0x01, 0x01, 0x03]), "Phase A overload start time 3", OVERLOAD_TIME, "", Some(49), S, UNSURE, OVERLOAD_NOTE),
    e(d07([0x1C, 0x01, 0x01, 0x04]), "Phase A overload start time 4", OVERLOAD_TIME, "", Some(50), S, UNSURE, OVERLOAD_NOTE),
    e(d07([0x1C, 0x01, 0x01, 0x05]), "Phase A overload start time 5", OVERLOAD_TIME, "", Some(51), S, UNSURE, OVERLOAD_NOTE),
    e(d07([0x1D, 0x00, 0x00, 0x01]), "Relay trip count", COUNT, "count", None, S, UNSURE,
        "Trip (跳闸) event count; the record DI 1D 00 01 01 is confirmed in public code, the count DI is inferred."),
];

/// The entry for an identifier.
pub fn lookup(di: DataId) -> Option<&'static CatalogEntry> {
    CATALOG
        .binary_search_by_key(&di, |e| e.di)
        .ok()
        .and_then(|i| CATALOG.get(i))
}

/// The identifier that answers a short code in an edition.
pub fn for_short_code(code: ShortCode, version: Version) -> Option<&'static CatalogEntry> {
    CATALOG
        .iter()
        .find(|e| e.short_code == Some(code) && e.version() == version)
}
