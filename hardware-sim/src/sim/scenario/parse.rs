//! Validation of a scenario file into [`Scenario`]: the whole file, each meter, its
//! address. Every mistake names the file, line and key.

use core::time::Duration;

use toml::Spanned;

use super::faults::fault;
use super::ports::ports;
use super::raw::{RawMeter, RawScenario};
use super::values::{change, codes, event_logs};
use super::{MeterSpec, Password, PublicReads, RelayState, Scenario, ScenarioError};
use crate::profile::Profile;
use crate::protocol::hdlc::address::AddressSize;
use crate::protocol::hdlc::HdlcAddress;
use crate::sim::time::LocalTime;

const DEFAULT_START: &str = "2024-05-01T08:00:00Z";
const DEFAULT_MAX_PDU: u16 = 512;
const DEFAULT_MAX_INFO: u16 = 128;
const DEFAULT_INACTIVITY_SECS: u64 = 120;
const DEFAULT_CONTROL_MODE: u8 = 1;
/// Lowest physical address a station may use (0x00..=0x0F are reserved, IEC 62056-46 6.4.2.2).
const MIN_PHYSICAL: u16 = 0x10;

/// Validation context: where errors point.
pub(super) struct Ctx<'a> {
    pub(super) source: &'a str,
    pub(super) text: &'a str,
    pub(super) profile: &'a Profile,
}

impl Ctx<'_> {
    pub(super) fn err<T>(
        &self,
        at: &Spanned<T>,
        key: impl Into<String>,
        msg: impl Into<String>,
    ) -> ScenarioError {
        ScenarioError::at(self.source, self.text, at.span(), key, msg)
    }
}

pub(super) fn parse(
    source: &str,
    text: &str,
    profile: &Profile,
) -> Result<Scenario, ScenarioError> {
    let raw: RawScenario =
        toml::from_str(text).map_err(|e| ScenarioError::from_toml(source, text, &e))?;
    let cx = Ctx {
        source,
        text,
        profile,
    };
    let start = match &raw.start {
        Some(s) => LocalTime::parse(s.get_ref()).map_err(|m| cx.err(s, "start", m))?,
        None => LocalTime::parse(DEFAULT_START).map_err(|m| ScenarioError::Invalid {
            source: source.to_owned(),
            line: 0,
            column: 0,
            key: Some("start".into()),
            message: m,
        })?,
    };
    if raw.meter.is_empty() {
        return Err(ScenarioError::at(
            source,
            text,
            0..0,
            "meter",
            "a scenario needs at least one [[meter]]",
        ));
    }
    let mut meters: Vec<MeterSpec> = Vec::new();
    for (i, m) in raw.meter.iter().enumerate() {
        let key = format!("meter[{i}]");
        let spec = meter(&cx, m.get_ref(), &key)?;
        if meters
            .iter()
            .any(|o| o.address.lower() == spec.address.lower())
        {
            return Err(cx.err(
                &m.get_ref().physical,
                format!("{key}.physical"),
                format!(
                    "physical address {} is used twice: each meter on a line needs its own",
                    m.get_ref().physical.get_ref()
                ),
            ));
        }
        if meters.iter().any(|o| o.name == spec.name) {
            return Err(cx.err(
                m,
                format!("{key}.name"),
                format!("meter name `{}` is used twice", spec.name),
            ));
        }
        check_port_addresses(&cx, m, &key, &spec, &meters)?;
        meters.push(spec);
    }
    Ok(Scenario {
        description: raw.description,
        start,
        meters,
    })
}

fn meter(cx: &Ctx<'_>, m: &RawMeter, key: &str) -> Result<MeterSpec, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let serial = m.serial.get_ref().trim().to_owned();
    if serial.is_empty() {
        return Err(cx.err(&m.serial, k("serial"), "the serial number is empty"));
    }
    let address = address(cx, m, key)?;
    let password = m
        .password
        .as_ref()
        .map(|p| {
            if p.get_ref().is_empty() {
                Err(cx.err(
                    p,
                    k("password"),
                    "an empty password: leave the key out for no authentication",
                ))
            } else {
                Ok(Password::new(p.get_ref().as_bytes()))
            }
        })
        .transpose()?;
    let public_reads = match &m.public_reads {
        None if password.is_some() => PublicReads::Identity,
        None => PublicReads::All,
        Some(s) => match s.get_ref().as_str() {
            "all" => PublicReads::All,
            "identity" => PublicReads::Identity,
            other => {
                return Err(cx.err(
                    s,
                    k("public_reads"),
                    format!("`{other}`: use \"all\" or \"identity\""),
                ))
            }
        },
    };
    let max_pdu = bounded(cx, &m.max_pdu, &k("max_pdu"), DEFAULT_MAX_PDU, 64, u16::MAX)?;
    let max_info = bounded(cx, &m.max_info, &k("max_info"), DEFAULT_MAX_INFO, 32, 2030)?;
    let status = match &m.status {
        Some(s) if *s.get_ref() > u32::from(u16::MAX) => {
            return Err(cx.err(
                s,
                k("status"),
                "the operating status is served as long-unsigned: 0..65535",
            ))
        }
        Some(s) => *s.get_ref(),
        None => 1000,
    };
    let relay = match &m.relay {
        Some(s) => RelayState::parse(s.get_ref()).map_err(|e| cx.err(s, k("relay"), e))?,
        None => RelayState::Connected,
    };
    let control_mode = match &m.control_mode {
        Some(c) if *c.get_ref() > 6 => {
            return Err(cx.err(
                c,
                k("control_mode"),
                "control_mode is 0..6 (Blue Book class 70)",
            ))
        }
        Some(c) => *c.get_ref(),
        None => DEFAULT_CONTROL_MODE,
    };
    let ports = ports(cx, m, key, password.as_ref())?;
    let codes = codes(cx, m, key)?;
    let event_logs = event_logs(cx, m, key)?;
    let mut changes = m
        .change
        .iter()
        .enumerate()
        .map(|(i, c)| change(cx, c, &format!("{key}.change[{i}]"), &codes))
        .collect::<Result<Vec<_>, _>>()?;
    changes.sort_by_key(|c| c.at);
    let faults = m
        .fault
        .iter()
        .enumerate()
        .map(|(i, f)| fault(cx, f, &format!("{key}.fault[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(MeterSpec {
        name: m
            .name
            .as_ref()
            .map_or_else(|| serial.clone(), |n| n.get_ref().clone()),
        address,
        device_name: m
            .device_name
            .as_ref()
            .map_or_else(|| format!("CLN{serial}"), |d| d.get_ref().clone()),
        serial,
        firmware: m.firmware.clone().unwrap_or_else(|| "CALIN-SIM-1.0".into()),
        password,
        public_reads,
        max_pdu,
        max_info,
        inactivity_timeout: match m.inactivity_timeout {
            Some(0) => None,
            Some(s) => Some(Duration::from_secs(s)),
            None => Some(Duration::from_secs(DEFAULT_INACTIVITY_SECS)),
        },
        status,
        relay,
        control_mode,
        codes,
        event_logs,
        changes,
        faults,
        offline: m.offline,
        dlms: ports.dlms,
        optical: ports.optical,
        dlt645: ports.dlt645,
    })
}

/// Two meters on one line must not answer the same DL/T 645 or optical address.
fn check_port_addresses(
    cx: &Ctx<'_>,
    m: &Spanned<RawMeter>,
    key: &str,
    spec: &MeterSpec,
    earlier: &[MeterSpec],
) -> Result<(), ScenarioError> {
    if let Some(d) = &spec.dlt645 {
        if let Some(o) = earlier
            .iter()
            .find(|o| o.dlt645.is_some_and(|od| od.address == d.address))
        {
            return Err(cx.err(
                m,
                format!("{key}.dlt645.address"),
                format!(
                    "DL/T 645 address {} is also meter {}'s: set [meter.dlt645] address",
                    d.address, o.name
                ),
            ));
        }
    }
    if let Some(p) = &spec.optical {
        let clash = earlier.iter().find(|o| {
            o.optical
                .as_ref()
                .is_some_and(|oo| oo.address.matches(&p.address))
        });
        if let Some(o) = clash {
            return Err(cx.err(
                m,
                format!("{key}.optical.address"),
                format!(
                    "optical address {} is also meter {}'s: set [meter.optical] address",
                    p.address.as_str(),
                    o.name
                ),
            ));
        }
    }
    Ok(())
}

fn bounded(
    cx: &Ctx<'_>,
    v: &Option<Spanned<u16>>,
    key: &str,
    default: u16,
    min: u16,
    max: u16,
) -> Result<u16, ScenarioError> {
    match v {
        None => Ok(default),
        Some(s) if (min..=max).contains(s.get_ref()) => Ok(*s.get_ref()),
        Some(s) => Err(cx.err(s, key, format!("must be {min}..{max}"))),
    }
}

fn address(cx: &Ctx<'_>, m: &RawMeter, key: &str) -> Result<HdlcAddress, ScenarioError> {
    let physical = *m.physical.get_ref();
    let logical = m.logical.as_ref().map_or(1, |l| *l.get_ref());
    let size = match &m.address_size {
        None => None,
        Some(s) => match s.get_ref() {
            2 => Some(AddressSize::Two),
            4 => Some(AddressSize::Four),
            _ => {
                return Err(cx.err(
                    s,
                    format!("{key}.address_size"),
                    "a server address is 2 or 4 bytes",
                ))
            }
        },
    };
    // The highest two values of each size are the calling and all-station addresses.
    let max = match size {
        Some(AddressSize::Two) => 0x7D,
        _ => 0x3FFD,
    };
    if !(MIN_PHYSICAL..=max).contains(&physical) {
        return Err(cx.err(
            &m.physical,
            format!("{key}.physical"),
            format!("physical address {physical} is outside {MIN_PHYSICAL}..{max}"),
        ));
    }
    if logical == 0 || logical > max {
        let at = m.logical.as_ref().map_or(&m.physical, |l| l);
        return Err(cx.err(
            at,
            format!("{key}.logical"),
            format!("logical address must be 1..{max}"),
        ));
    }
    let built = match size {
        Some(size) => HdlcAddress::server_sized(logical, Some(physical), size),
        None => HdlcAddress::server(logical, Some(physical)),
    };
    built.map_err(|e| cx.err(&m.physical, format!("{key}.physical"), e.to_string()))
}
