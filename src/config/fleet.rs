//! The gateway's fleet: buses (a serial port or a TCP endpoint), the meters on each
//! bus, and what to poll how often. Validated here; opened elsewhere.

use super::duration::HumanDuration;
use super::secret::Secret;
use super::ConfigError;
use crate::codes::Mode;
use crate::protocol::hdlc::HdlcAddress;
use crate::transport::LineSettings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The wire protocol spoken on a bus.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BusProtocol {
    /// DLMS/COSEM over HDLC (RS-485, or HDLC over TCP through a converter).
    #[default]
    Hdlc,
    /// DLMS/COSEM with the IEC 62056-47 wrapper over TCP.
    Wrapper,
    /// IEC 62056-21 on an optical port (mode C readout or mode E to HDLC).
    Optical,
    /// DL/T 645 on RS-485.
    Dlt645,
}

/// Where a bus is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BusEndpoint {
    Serial { port: String, line: LineSettings },
    Tcp { endpoint: String },
}

/// How often each group of readings is due.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollPlan {
    /// Operating status and relay reason (87).
    #[serde(default = "d_status")]
    pub status: HumanDuration,
    /// Energy, power, power factor, load threshold (01, 14, 31, 35).
    #[serde(default = "d_energy")]
    pub energy: HumanDuration,
    /// Counters and event times (40-58).
    #[serde(default = "d_counters")]
    pub counters: HumanDuration,
    /// Random spread added to each due time, as a fraction of the interval (0.0-0.5),
    /// so a fleet does not poll in step.
    #[serde(default = "d_jitter")]
    pub jitter: f64,
}

fn d_status() -> HumanDuration {
    HumanDuration(Duration::from_secs(300))
}
fn d_energy() -> HumanDuration {
    HumanDuration(Duration::from_secs(900))
}
fn d_counters() -> HumanDuration {
    HumanDuration(Duration::from_secs(3600))
}
fn d_jitter() -> f64 {
    0.1
}

impl Default for PollPlan {
    fn default() -> Self {
        PollPlan {
            status: d_status(),
            energy: d_energy(),
            counters: d_counters(),
            jitter: d_jitter(),
        }
    }
}

/// One meter on a bus, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct MeterConfig {
    pub serial: String,
    /// HDLC server address (logical device and, on multi-drop, physical address).
    pub address: HdlcAddress,
    pub client: u8,
    pub password: Option<Secret>,
    pub password_file: Option<PathBuf>,
    pub mode: Mode,
    pub poll: PollPlan,
}

/// One bus, validated.
#[derive(Clone, Debug, PartialEq)]
pub struct BusConfig {
    pub name: String,
    pub endpoint: BusEndpoint,
    pub protocol: BusProtocol,
    pub response_timeout: Duration,
    pub inter_char_timeout: Duration,
    pub retries: u8,
    pub meters: Vec<MeterConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBus {
    name: Spanned<String>,
    #[serde(default)]
    port: Option<String>,
    #[serde(default)]
    tcp: Option<String>,
    #[serde(default)]
    line: Option<Spanned<String>>,
    #[serde(default)]
    protocol: BusProtocol,
    #[serde(default = "d_response")]
    response_timeout: HumanDuration,
    #[serde(default = "d_inter_char")]
    inter_char_timeout: HumanDuration,
    #[serde(default = "d_retries")]
    retries: u8,
    #[serde(default)]
    meter: Vec<RawMeter>,
}

fn d_response() -> HumanDuration {
    HumanDuration(Duration::from_secs(2))
}
fn d_inter_char() -> HumanDuration {
    HumanDuration(Duration::from_millis(200))
}
fn d_retries() -> u8 {
    3
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeter {
    serial: Spanned<String>,
    #[serde(default)]
    physical_address: Option<Spanned<u16>>,
    #[serde(default = "d_logical")]
    logical_address: Spanned<u16>,
    #[serde(default = "d_client")]
    client: Spanned<u8>,
    #[serde(default)]
    password_file: Option<Spanned<String>>,
    #[serde(default)]
    mode: Option<Mode>,
    #[serde(default)]
    poll: Option<PollPlan>,
}

fn d_logical() -> Spanned<u16> {
    Spanned::new(0..0, 1)
}
fn d_client() -> Spanned<u8> {
    Spanned::new(0..0, 16)
}

/// Context for validation messages.
pub(super) struct Ctx<'a> {
    pub path: &'a Path,
    pub text: &'a str,
}

impl Ctx<'_> {
    fn err<T>(&self, at: &Spanned<T>, key: String, msg: impl Into<String>) -> ConfigError {
        ConfigError::at(self.path, self.text, at.span(), key, msg)
    }
}

pub(super) fn validate_buses(
    ctx: &Ctx<'_>,
    raw: Vec<RawBus>,
    site_mode: Mode,
    poll: PollPlan,
) -> Result<Vec<BusConfig>, ConfigError> {
    let mut serials: BTreeMap<String, String> = BTreeMap::new();
    let mut names = BTreeMap::new();
    let mut buses = Vec::new();
    for (b, bus) in raw.into_iter().enumerate() {
        let key = |k: &str| format!("bus[{b}].{k}");
        let name = bus.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(ctx.err(
                &bus.name,
                key("name"),
                "give the bus a name (e.g. \"rs485-1\")",
            ));
        }
        if names.insert(name.clone(), b).is_some() {
            return Err(ctx.err(
                &bus.name,
                key("name"),
                format!("bus name `{name}` is used twice"),
            ));
        }
        let endpoint = match (&bus.port, &bus.tcp) {
            (Some(port), None) => {
                let line = match &bus.line {
                    Some(l) => l.get_ref().parse::<LineSettings>().map_err(|e| {
                        ctx.err(l, key("line"), format!("{e} (write e.g. \"9600 8N1\")"))
                    })?,
                    None => LineSettings::new_8n1(9600),
                };
                BusEndpoint::Serial { port: port.clone(), line }
            }
            (None, Some(tcp)) => BusEndpoint::Tcp { endpoint: tcp.clone() },
            _ => {
                return Err(ctx.err(&bus.name, key("port"),
                    "give exactly one of `port` (a serial device such as /dev/ttyUSB0) or `tcp` (HOST:PORT)"))
            }
        };
        let mut physicals = BTreeMap::new();
        let mut meters = Vec::new();
        for (m, meter) in bus.meter.into_iter().enumerate() {
            let mkey = |k: &str| format!("bus[{b}].meter[{m}].{k}");
            let serial = meter.serial.get_ref().trim().to_owned();
            if serial.is_empty() {
                return Err(ctx.err(&meter.serial, mkey("serial"), "the serial number is empty"));
            }
            if let Some(other) = serials.insert(serial.clone(), mkey("serial")) {
                return Err(ctx.err(
                    &meter.serial,
                    mkey("serial"),
                    format!("meter `{serial}` is configured twice (also at {other}): keep one"),
                ));
            }
            let physical = meter.physical_address.as_ref().map(|p| *p.get_ref());
            let address = HdlcAddress::server(*meter.logical_address.get_ref(), physical).map_err(|e| {
                let at = meter.physical_address.as_ref().map_or(meter.serial.span(), |p| p.span());
                ConfigError::at(ctx.path, ctx.text, at, mkey("physical_address"),
                    format!("{e}: HDLC physical addresses are 16..=16381 (0x10..0x3FFD), logical 1..=16383"))
            })?;
            if let Some(p) = &meter.physical_address {
                if !(0x10..=0x3FFD).contains(p.get_ref()) {
                    return Err(ctx.err(p, mkey("physical_address"),
                        format!("{} is outside the HDLC physical address range 16..=16381 (0x10..0x3FFD)", p.get_ref())));
                }
                if let Some(prev) = physicals.insert(*p.get_ref(), m) {
                    return Err(ctx.err(p, mkey("physical_address"),
                        format!("physical address {} is already used by bus[{b}].meter[{prev}] on this bus", p.get_ref())));
                }
            }
            let client = *meter.client.get_ref();
            if client == 0 || client > 0x7F {
                return Err(ctx.err(
                    &meter.client,
                    mkey("client"),
                    "client address must be 1..=127 (16 = public client)",
                ));
            }
            let (password, password_file) = match &meter.password_file {
                None => (None, None),
                Some(pf) => {
                    let file = PathBuf::from(pf.get_ref());
                    let bytes = std::fs::read(&file).map_err(|e| {
                        ctx.err(pf, mkey("password_file"),
                            format!("cannot read password file {}: {e}; create it (mode 0600, the password on one line) or remove the key", file.display()))
                    })?;
                    let secret = Secret::from_file_text(&bytes).ok_or_else(|| {
                        ctx.err(
                            pf,
                            mkey("password_file"),
                            format!("password file {} is empty", file.display()),
                        )
                    })?;
                    (Some(secret), Some(file))
                }
            };
            let poll = meter.poll.unwrap_or(poll);
            check_jitter(ctx, &meter.serial, &mkey("poll.jitter"), poll.jitter)?;
            meters.push(MeterConfig {
                serial,
                address,
                client,
                password,
                password_file,
                mode: meter.mode.unwrap_or(site_mode),
                poll,
            });
        }
        buses.push(BusConfig {
            name,
            endpoint,
            protocol: bus.protocol,
            response_timeout: bus.response_timeout.0,
            inter_char_timeout: bus.inter_char_timeout.0,
            retries: bus.retries,
            meters,
        });
    }
    Ok(buses)
}

pub(super) fn check_jitter<T>(
    ctx: &Ctx<'_>,
    at: &Spanned<T>,
    key: &str,
    jitter: f64,
) -> Result<(), ConfigError> {
    if !(0.0..=0.5).contains(&jitter) {
        return Err(ctx.err(
            at,
            key.to_owned(),
            format!("jitter {jitter} must be between 0.0 and 0.5 (a fraction of the interval)"),
        ));
    }
    Ok(())
}
