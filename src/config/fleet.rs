//! The gateway's fleet: buses (a serial port or a TCP endpoint), the meters on each
//! bus, and what to poll how often. Validated here; opened elsewhere.

use super::duration::HumanDuration;
use super::secret::Secret;
use super::ConfigError;
use crate::codes::Mode;
use crate::protocol::dlt645::{Address as Dlt645Address, Version as Dlt645Version};
use crate::protocol::hdlc::HdlcAddress;
use crate::protocol::iec62056_21::{BccPolicy, DeviceAddress};
use crate::transport::line::{DataBits, Parity, StopBits};
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

/// What an optical bus does after the sign-on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OpticalMode {
    /// Mode C data readout: the meter sends every value it prints.
    #[default]
    Readout,
    /// Programming mode: one R1 read per due reading (with the P1 password from the
    /// meter's `password_file` when the meter asks for one).
    Registers,
    /// Mode E: switch to HDLC and read by the DLMS profile (HDLC addresses, client and
    /// password as on RS-485).
    ModeE,
}

/// The optical bus's session settings (`[bus.optical]`; `Default` is an optical bus
/// without the table).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpticalBus {
    pub mode: OpticalMode,
    /// The highest rate to accept after the sign-on; `None`: what the meter offers.
    pub max_baud: Option<u32>,
    /// Pause between the acknowledgement leaving the wire and the baud switch.
    pub switch_delay: Option<Duration>,
    /// The head is behind an 8-bit (8N1) converter: add and strip the parity bit here.
    pub soft_parity: bool,
}

/// One meter's optical port (`[bus.meter.optical]`).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct OpticalMeter {
    /// The sign-on address (`/?ADDRESS!`); `None`: whichever meter is at the head.
    pub address: Option<DeviceAddress>,
    pub bcc: BccPolicy,
}

/// One meter's DL/T 645 settings (`[bus.meter.dlt645]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dlt645Meter {
    /// `None`: the lone meter on the line, found with the `AA..AA` wildcard.
    pub address: Option<Dlt645Address>,
    pub version: Dlt645Version,
    /// Send the `FE FE FE FE` wake-up preamble.
    pub preamble: bool,
}

/// A DL/T 645 meter without the table: the lone meter, 2007, with the preamble.
impl Default for Dlt645Meter {
    fn default() -> Self {
        Dlt645Meter {
            address: None,
            version: Dlt645Version::V2007,
            preamble: true,
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
    /// The meter's protocol: the bus's unless the meter says otherwise (an RS-485 line
    /// may carry DLMS and DL/T 645 meters side by side).
    pub protocol: BusProtocol,
    /// The meter's own line settings on a mixed serial bus (set before each of its
    /// conversations); `None`: the bus's.
    pub line: Option<LineSettings>,
    /// Set on an optical bus.
    pub optical: Option<OpticalMeter>,
    /// Set on a DL/T 645 bus.
    pub dlt645: Option<Dlt645Meter>,
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
    /// Set on an optical bus.
    pub optical: Option<OpticalBus>,
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
    optical: Option<Spanned<RawOpticalBus>>,
    #[serde(default)]
    meter: Vec<RawMeter>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpticalBus {
    #[serde(default)]
    mode: OpticalMode,
    #[serde(default)]
    max_baud: Option<Spanned<u32>>,
    #[serde(default)]
    switch_delay: Option<HumanDuration>,
    #[serde(default)]
    soft_parity: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpticalMeter {
    #[serde(default)]
    address: Option<Spanned<String>>,
    #[serde(default)]
    bcc: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDlt645Meter {
    #[serde(default)]
    address: Option<Spanned<String>>,
    #[serde(default)]
    version: Option<Spanned<String>>,
    #[serde(default)]
    preamble: Option<bool>,
}

/// The usual DL/T 645 line: 2400 baud 8E1.
pub const DLT645_LINE: LineSettings = LineSettings {
    baud: 2400,
    data_bits: DataBits::Eight,
    parity: Parity::Even,
    stop_bits: StopBits::One,
};

/// The mode C baud rates a `max_baud` may name.
const OPTICAL_BAUDS: [u32; 7] = [300, 600, 1200, 2400, 4800, 9600, 19200];

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
    #[serde(default)]
    protocol: Option<Spanned<BusProtocol>>,
    #[serde(default)]
    line: Option<Spanned<String>>,
    #[serde(default)]
    optical: Option<Spanned<RawOpticalMeter>>,
    #[serde(default)]
    dlt645: Option<Spanned<RawDlt645Meter>>,
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
                let line = match (&bus.line, bus.protocol) {
                    (Some(l), BusProtocol::Optical) => {
                        return Err(ctx.err(l, key("line"),
                            "an optical bus signs on at 300 baud 7E1 (IEC 62056-21) and switches to the rate the meter offers: remove `line`, and cap the rate with [bus.optical] max_baud"))
                    }
                    (Some(l), _) => l.get_ref().parse::<LineSettings>().map_err(|e| {
                        ctx.err(l, key("line"), format!("{e} (write e.g. \"9600 8N1\")"))
                    })?,
                    (None, BusProtocol::Dlt645) => DLT645_LINE,
                    (None, BusProtocol::Optical) => LineSettings::new_7e1(300),
                    (None, _) => LineSettings::new_8n1(9600),
                };
                BusEndpoint::Serial { port: port.clone(), line }
            }
            (None, Some(tcp)) => BusEndpoint::Tcp { endpoint: tcp.clone() },
            _ => {
                return Err(ctx.err(&bus.name, key("port"),
                    "give exactly one of `port` (a serial device such as /dev/ttyUSB0) or `tcp` (HOST:PORT)"))
            }
        };
        let optical_bus = optical_bus(ctx, &bus, &key)?;
        let mut physicals = BTreeMap::new();
        let mut port_addresses: BTreeMap<String, usize> = BTreeMap::new();
        let protocol_of = |m: &RawMeter| m.protocol.as_ref().map_or(bus.protocol, |p| *p.get_ref());
        let same_protocol =
            |p: BusProtocol| bus.meter.iter().filter(|m| protocol_of(m) == p).count();
        let counts = [BusProtocol::Optical, BusProtocol::Dlt645].map(same_protocol);
        let is_serial = matches!(endpoint, BusEndpoint::Serial { .. });
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
            let protocol = meter_protocol(ctx, bus.protocol, &meter, &mkey)?;
            let line = meter_line(ctx, bus.protocol, protocol, is_serial, &meter, &mkey)?;
            let ports = meter_ports(ctx, protocol, &meter, &mkey)?;
            if let (Some(secret), Some(pf), Some(ob)) =
                (&password, &meter.password_file, &optical_bus)
            {
                // On the optical port (but in mode E) the password goes out as P1.
                let p1 = std::str::from_utf8(secret.expose())
                    .map_err(|_| "it is not text".to_owned())
                    .and_then(|t| {
                        crate::protocol::iec62056_21::Password::new(t)
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    });
                if let (Err(why), false) = (p1, ob.mode == OpticalMode::ModeE) {
                    return Err(ctx.err(
                        pf,
                        mkey("password_file"),
                        format!(
                            "the password cannot be sent as the optical port's P1 password: {why}"
                        ),
                    ));
                }
            }
            // Design: the wildcard (DL/T 645 `AA..AA`) and the address-less sign-on reach
            // whichever meter answers, so only a lone meter may go without an address.
            let (port_address, what) = match (&ports.0, &ports.1) {
                (Some(o), _) => (o.address.as_ref().map(|a| a.as_str().to_owned()), "optical"),
                (_, Some(d)) => (d.address.map(|a| a.to_string()), "dlt645"),
                _ => (None, ""),
            };
            if !what.is_empty() {
                match port_address {
                    Some(a) => {
                        if let Some(prev) = port_addresses.insert(a.clone(), m) {
                            let at = meter
                                .dlt645
                                .as_ref()
                                .and_then(|t| t.get_ref().address.as_ref().map(Spanned::span))
                                .or_else(|| {
                                    meter.optical.as_ref().and_then(|t| {
                                        t.get_ref().address.as_ref().map(Spanned::span)
                                    })
                                })
                                .unwrap_or(meter.serial.span());
                            return Err(ConfigError::at(ctx.path, ctx.text, at, mkey(&format!("{what}.address")),
                                format!("{what} address {a} is already used by bus[{b}].meter[{prev}] on this bus")));
                        }
                    }
                    None if counts[usize::from(what == "dlt645")] > 1 => {
                        let n = counts[usize::from(what == "dlt645")];
                        return Err(ctx.err(&meter.serial, mkey(&format!("{what}.address")),
                            format!("{n} {what} meters share this bus: give each its {what} address ([bus.meter.{what}] address = \"...\"); only a lone meter may be found without one")));
                    }
                    None => {}
                }
            }
            meters.push(MeterConfig {
                serial,
                address,
                client,
                password,
                password_file,
                mode: meter.mode.unwrap_or(site_mode),
                poll,
                protocol,
                line,
                optical: ports.0,
                dlt645: ports.1,
            });
        }
        buses.push(BusConfig {
            name,
            endpoint,
            protocol: bus.protocol,
            response_timeout: bus.response_timeout.0,
            inter_char_timeout: bus.inter_char_timeout.0,
            retries: bus.retries,
            optical: optical_bus,
            meters,
        });
    }
    Ok(buses)
}

/// `[bus.optical]`: only on an optical bus, where it defaults.
fn optical_bus(
    ctx: &Ctx<'_>,
    bus: &RawBus,
    key: &dyn Fn(&str) -> String,
) -> Result<Option<OpticalBus>, ConfigError> {
    let raw = match (&bus.optical, bus.protocol) {
        (Some(t), p) if p != BusProtocol::Optical => return Err(ctx.err(
            t,
            key("optical"),
            "[bus.optical] is for a bus with protocol = \"optical\": remove it or set the protocol",
        )),
        (_, p) if p != BusProtocol::Optical => return Ok(None),
        (Some(t), _) => t.get_ref(),
        (None, _) => &RawOpticalBus::default(),
    };
    if let Some(b) = &raw.max_baud {
        if !OPTICAL_BAUDS.contains(b.get_ref()) {
            return Err(ctx.err(
                b,
                key("optical.max_baud"),
                format!(
                    "{} is not a mode C baud rate: use one of 300, 600, 1200, 2400, 4800, 9600, 19200",
                    b.get_ref()
                ),
            ));
        }
    }
    Ok(Some(OpticalBus {
        mode: raw.mode,
        max_baud: raw.max_baud.as_ref().map(|b| *b.get_ref()),
        switch_delay: raw.switch_delay.map(|d| d.0),
        soft_parity: raw.soft_parity,
    }))
}

/// A meter's own `protocol`: DLMS (HDLC) and DL/T 645 meters may share a line; an
/// optical head reaches one meter's optical port and nothing else.
fn meter_protocol(
    ctx: &Ctx<'_>,
    bus: BusProtocol,
    meter: &RawMeter,
    mkey: &dyn Fn(&str) -> String,
) -> Result<BusProtocol, ConfigError> {
    let Some(p) = &meter.protocol else {
        return Ok(bus);
    };
    let own = *p.get_ref();
    let shared_line = |x: BusProtocol| matches!(x, BusProtocol::Hdlc | BusProtocol::Dlt645);
    if own != bus && !(shared_line(own) && shared_line(bus)) {
        return Err(ctx.err(
            p,
            mkey("protocol"),
            format!(
                "a {} meter cannot be on a {} bus: only DLMS (hdlc) and DL/T 645 meters share an RS-485 line; give it a bus of its own",
                protocol_name(own),
                protocol_name(bus)
            ),
        ));
    }
    Ok(own)
}

fn protocol_name(p: BusProtocol) -> &'static str {
    match p {
        BusProtocol::Hdlc => "hdlc",
        BusProtocol::Wrapper => "wrapper",
        BusProtocol::Optical => "optical",
        BusProtocol::Dlt645 => "dlt645",
    }
}

/// A meter's own `line` on a serial bus: as written, or its protocol's usual line when
/// it differs from the bus's protocol (DL/T 645: 2400 8E1; DLMS: 9600 8N1).
fn meter_line(
    ctx: &Ctx<'_>,
    bus: BusProtocol,
    protocol: BusProtocol,
    is_serial: bool,
    meter: &RawMeter,
    mkey: &dyn Fn(&str) -> String,
) -> Result<Option<LineSettings>, ConfigError> {
    match &meter.line {
        Some(l) if !is_serial || protocol == BusProtocol::Optical => Err(ctx.err(
            l,
            mkey("line"),
            "a meter's own `line` is for a meter on a serial RS-485 bus (not TCP, not optical)",
        )),
        Some(l) => l
            .get_ref()
            .parse::<LineSettings>()
            .map(Some)
            .map_err(|e| ctx.err(l, mkey("line"), format!("{e} (write e.g. \"2400 8E1\")"))),
        None if !is_serial || protocol == bus => Ok(None),
        None => Ok(Some(match protocol {
            BusProtocol::Dlt645 => DLT645_LINE,
            _ => LineSettings::new_8n1(9600),
        })),
    }
}

/// `[bus.meter.optical]` and `[bus.meter.dlt645]`: each only for a meter of its
/// protocol, where it defaults.
fn meter_ports(
    ctx: &Ctx<'_>,
    protocol: BusProtocol,
    meter: &RawMeter,
    mkey: &dyn Fn(&str) -> String,
) -> Result<(Option<OpticalMeter>, Option<Dlt645Meter>), ConfigError> {
    if let (Some(t), false) = (&meter.optical, protocol == BusProtocol::Optical) {
        return Err(ctx.err(
            t,
            mkey("optical"),
            "[bus.meter.optical] is for a meter on a bus with protocol = \"optical\"",
        ));
    }
    if let (Some(t), false) = (&meter.dlt645, protocol == BusProtocol::Dlt645) {
        return Err(ctx.err(
            t,
            mkey("dlt645"),
            "[bus.meter.dlt645] is for a DL/T 645 meter: a bus with protocol = \"dlt645\", or the meter's own protocol = \"dlt645\"",
        ));
    }
    let optical = match protocol {
        BusProtocol::Optical => {
            let empty = RawOpticalMeter::default();
            let raw = meter.optical.as_ref().map_or(&empty, |t| t.get_ref());
            let address = raw
                .address
                .as_ref()
                .map(|a| {
                    DeviceAddress::new(a.get_ref().trim()).map_err(|e| {
                        ctx.err(a, mkey("optical.address"), format!("{e}: the sign-on address is up to 32 characters of digits and letters, as printed on the meter"))
                    })
                })
                .transpose()?;
            let bcc = match &raw.bcc {
                None => BccPolicy::Strict,
                Some(b) => match b.get_ref().as_str() {
                    "strict" => BccPolicy::Strict,
                    "warn-only" => BccPolicy::WarnOnly,
                    other => {
                        return Err(ctx.err(
                            b,
                            mkey("optical.bcc"),
                            format!("`{other}` is not a BCC policy: use \"strict\" or \"warn-only\" (for a meter known to send bad BCCs)"),
                        ))
                    }
                },
            };
            Some(OpticalMeter { address, bcc })
        }
        _ => None,
    };
    let dlt645 = match protocol {
        BusProtocol::Dlt645 => {
            let empty = RawDlt645Meter::default();
            let raw = meter.dlt645.as_ref().map_or(&empty, |t| t.get_ref());
            let address = raw
                .address
                .as_ref()
                .map(|a| {
                    Dlt645Address::from_digits(a.get_ref().trim()).map_err(|e| {
                        ctx.err(a, mkey("dlt645.address"), format!("{e}: write the 12 digits printed on the meter, e.g. \"047001234567\""))
                    })
                })
                .transpose()?;
            let defaults = Dlt645Meter::default();
            let version = match &raw.version {
                None => defaults.version,
                Some(v) => match v.get_ref().as_str() {
                    "2007" => Dlt645Version::V2007,
                    "1997" => Dlt645Version::V1997,
                    other => {
                        return Err(ctx.err(
                            v,
                            mkey("dlt645.version"),
                            format!(
                                "`{other}` is not a DL/T 645 edition: use \"2007\" or \"1997\""
                            ),
                        ))
                    }
                },
            };
            Some(Dlt645Meter {
                address,
                version,
                preamble: raw.preamble.unwrap_or(defaults.preamble),
            })
        }
        _ => None,
    };
    Ok((optical, dlt645))
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
