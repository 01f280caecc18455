//! The scenario file as written: serde structures with `deny_unknown_fields`, values kept
//! `Spanned` so that validation (in `parse`, `values`, `faults`) can name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScenario {
    #[serde(default)]
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) start: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) meter: Vec<Spanned<RawMeter>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMeter {
    #[serde(default)]
    pub(super) name: Option<Spanned<String>>,
    pub(super) physical: Spanned<u16>,
    #[serde(default)]
    pub(super) logical: Option<Spanned<u16>>,
    #[serde(default)]
    pub(super) address_size: Option<Spanned<u8>>,
    pub(super) serial: Spanned<String>,
    #[serde(default)]
    pub(super) device_name: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) firmware: Option<String>,
    #[serde(default)]
    pub(super) password: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) public_reads: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) max_pdu: Option<Spanned<u16>>,
    #[serde(default)]
    pub(super) max_info: Option<Spanned<u16>>,
    #[serde(default)]
    pub(super) inactivity_timeout: Option<u64>,
    #[serde(default)]
    pub(super) status: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) relay: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) control_mode: Option<Spanned<u8>>,
    #[serde(default)]
    pub(super) offline: bool,
    #[serde(default)]
    pub(super) protocols: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    pub(super) optical: Option<Spanned<RawOptical>>,
    #[serde(default)]
    pub(super) dlt645: Option<Spanned<RawDlt645>>,
    #[serde(default)]
    pub(super) codes: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    pub(super) events: Vec<RawEventLog>,
    #[serde(default)]
    pub(super) change: Vec<RawChange>,
    #[serde(default)]
    pub(super) fault: Vec<RawFault>,
}

/// `[meter.optical]`: the IEC 62056-21 optical port.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOptical {
    #[serde(default)]
    pub(super) manufacturer: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) ident: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) baud: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) mode_e: Option<Spanned<bool>>,
    #[serde(default)]
    pub(super) address: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) password: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) reaction_ms: Option<Spanned<u64>>,
}

/// `[meter.dlt645]`: the DL/T 645 side of the RS-485 port.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDlt645 {
    #[serde(default)]
    pub(super) version: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) address: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) credit: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEventLog {
    pub(super) log: Spanned<String>,
    #[serde(default)]
    pub(super) entries: Vec<RawEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEntry {
    pub(super) time: Spanned<String>,
    pub(super) code: u16,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChange {
    pub(super) at: Spanned<f64>,
    #[serde(default)]
    pub(super) status: Option<Spanned<u32>>,
    #[serde(default)]
    pub(super) set: BTreeMap<Spanned<String>, Spanned<i64>>,
    #[serde(default)]
    pub(super) add: BTreeMap<Spanned<String>, Spanned<i64>>,
    #[serde(default)]
    pub(super) relay: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) events: Vec<RawNewEvent>,
    #[serde(default)]
    pub(super) offline: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNewEvent {
    pub(super) log: Spanned<String>,
    pub(super) code: u16,
    #[serde(default)]
    pub(super) time: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFault {
    pub(super) kind: Spanned<String>,
    #[serde(default)]
    pub(super) nth: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) from: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) until: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) probability: Option<Spanned<f64>>,
    #[serde(default)]
    pub(super) seed: Option<u64>,
    #[serde(default)]
    pub(super) times: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) delay_ms: Option<Spanned<u64>>,
    #[serde(default)]
    pub(super) count: Option<Spanned<usize>>,
    #[serde(default)]
    pub(super) bit: Option<Spanned<usize>>,
    #[serde(default)]
    pub(super) physical: Option<Spanned<u16>>,
}
