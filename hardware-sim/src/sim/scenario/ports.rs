//! Which protocols a meter speaks, and the settings of its two other ports: the optical
//! port (IEC 62056-21, `[meter.optical]`) and DL/T 645 on RS-485 (`[meter.dlt645]`).
//! Validation only; the stations in `sim::optical` and `sim::dlt645` serve them.

use core::time::Duration;

use super::parse::Ctx;
use super::raw::{RawDlt645, RawMeter, RawOptical};
use super::{Password, ScenarioError};
use crate::protocol::dlt645::{Address, Decimal, Version};
use crate::protocol::iec62056_21::baud::MODE_C_BAUDS;
use crate::protocol::iec62056_21::ident::REACTION_TIME_MAX;
use crate::protocol::iec62056_21::{
    self as iec21, BaudChar, DeviceAddress, Enhanced, Identification, Manufacturer,
};

/// The names `protocols = [...]` accepts.
pub const PROTOCOL_NAMES: [&str; 3] = ["dlms", "iec62056-21", "dlt645"];

const DEFAULT_MANUFACTURER: [u8; 3] = *b"CLN";
const DEFAULT_IDENT: &str = "CALIN-SIM";
const DEFAULT_OPTICAL_BAUD: u32 = 9600;
/// Digits of a DL/T 645 address (six BCD bytes).
const DLT645_DIGITS: usize = 12;
/// Largest credit `E4 21` carries: four BCD bytes with two decimals.
const MAX_CREDIT: f64 = 999_999.99;

/// The optical port of one meter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpticalSpec {
    /// What it answers a sign-on with; its baud character is the highest mode C rate it
    /// offers and its `\2` marker offers mode E (HDLC, then DLMS as on the RS-485 port).
    pub identification: Identification,
    /// A sign-on naming another address is ignored (default: the serial number).
    pub address: DeviceAddress,
    /// Programming mode asks for it with P0 (default: the meter's LLS password; none:
    /// programming mode opens without one).
    pub password: Option<iec21::Password>,
    /// How long the meter waits before each answer (IEC 62056-21 §6.3.14 t_r).
    pub reaction_time: Duration,
}

/// The DL/T 645 side of one meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dlt645Spec {
    /// The edition of its standard identifiers. A 2007 meter also answers 1997 read frames,
    /// which is how the Calin vendor identifiers (two-byte, 1997-style) are read.
    pub version: Version,
    pub address: Address,
    /// Remaining credit served in Calin `E4 21` (two decimals).
    pub credit: Decimal,
}

/// What `protocols`, `[meter.optical]` and `[meter.dlt645]` come to.
pub(super) struct Ports {
    pub(super) dlms: bool,
    pub(super) optical: Option<OpticalSpec>,
    pub(super) dlt645: Option<Dlt645Spec>,
}

pub(super) fn ports(
    cx: &Ctx<'_>,
    m: &RawMeter,
    key: &str,
    password: Option<&Password>,
) -> Result<Ports, ScenarioError> {
    let (mut dlms, mut optical, mut dlt645) = (true, true, true);
    if let Some(list) = &m.protocols {
        (dlms, optical, dlt645) = (false, false, false);
        for name in list.get_ref() {
            match name.get_ref().as_str() {
                "dlms" => dlms = true,
                "iec62056-21" => optical = true,
                "dlt645" => dlt645 = true,
                other => {
                    return Err(cx.err(
                        name,
                        format!("{key}.protocols"),
                        format!(
                            "`{other}` is not a protocol: use {}",
                            PROTOCOL_NAMES.join(", ")
                        ),
                    ))
                }
            }
        }
        if !(dlms || optical || dlt645) {
            return Err(cx.err(
                list,
                format!("{key}.protocols"),
                "a meter speaks at least one protocol",
            ));
        }
    }
    let unused = |table: &str, protocol: &str| {
        format!("[meter.{table}] is set but `protocols` leaves out \"{protocol}\"")
    };
    if let (Some(t), false) = (&m.optical, optical) {
        return Err(cx.err(
            t,
            format!("{key}.optical"),
            unused("optical", "iec62056-21"),
        ));
    }
    if let (Some(t), false) = (&m.dlt645, dlt645) {
        return Err(cx.err(t, format!("{key}.dlt645"), unused("dlt645", "dlt645")));
    }
    let empty_optical = RawOptical {
        manufacturer: None,
        ident: None,
        baud: None,
        mode_e: None,
        address: None,
        password: None,
        reaction_ms: None,
    };
    let empty_dlt645 = RawDlt645 {
        version: None,
        address: None,
        credit: None,
    };
    Ok(Ports {
        dlms,
        optical: optical
            .then(|| {
                let raw = m.optical.as_ref().map_or(&empty_optical, |t| t.get_ref());
                optical_spec(cx, m, raw, &format!("{key}.optical"), dlms, password)
            })
            .transpose()?,
        dlt645: dlt645
            .then(|| {
                let raw = m.dlt645.as_ref().map_or(&empty_dlt645, |t| t.get_ref());
                dlt645_spec(cx, m, raw, &format!("{key}.dlt645"))
            })
            .transpose()?,
    })
}

fn optical_spec(
    cx: &Ctx<'_>,
    m: &RawMeter,
    o: &RawOptical,
    key: &str,
    dlms: bool,
    password: Option<&Password>,
) -> Result<OpticalSpec, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let manufacturer = match &o.manufacturer {
        None => Manufacturer::new(DEFAULT_MANUFACTURER),
        Some(s) => match <[u8; 3]>::try_from(s.get_ref().as_bytes()) {
            Ok(code) => Manufacturer::new(code),
            Err(_) => {
                return Err(cx.err(
                    s,
                    k("manufacturer"),
                    "the manufacturer code has three letters",
                ))
            }
        },
    };
    let manufacturer = manufacturer.map_err(|_| {
        let at = o.manufacturer.as_ref().map_or(&m.serial, |s| s);
        cx.err(
            at,
            k("manufacturer"),
            "the manufacturer code is three letters, like CLN",
        )
    })?;
    let baud = match &o.baud {
        None => DEFAULT_OPTICAL_BAUD,
        Some(b) if MODE_C_BAUDS.contains(b.get_ref()) => *b.get_ref(),
        Some(b) => {
            return Err(cx.err(
                b,
                k("baud"),
                format!("the optical port offers one of {MODE_C_BAUDS:?} baud"),
            ))
        }
    };
    let baud_char = BaudChar::mode_c(baud)
        .ok_or_else(|| cx.err(&m.serial, k("baud"), "no mode C character for this baud"))?;
    let mode_e = match &o.mode_e {
        Some(e) if *e.get_ref() && !dlms => {
            return Err(cx.err(
                e,
                k("mode_e"),
                "mode E hands over to DLMS: add \"dlms\" to `protocols`",
            ))
        }
        Some(e) => *e.get_ref(),
        None => dlms,
    };
    let ident_text = o
        .ident
        .as_ref()
        .map_or(DEFAULT_IDENT, |s| s.get_ref().as_str());
    let identification = Identification::new(
        manufacturer,
        baud_char,
        mode_e.then_some(Enhanced::Hdlc),
        ident_text,
    )
    .map_err(|e| {
        let at = o.ident.as_ref().map_or(&m.serial, |s| s);
        cx.err(
            at,
            k("ident"),
            format!("not an identification (up to 16 printable characters, no / or !): {e}"),
        )
    })?;
    let address = match &o.address {
        Some(a) => DeviceAddress::new(a.get_ref())
            .map_err(|e| cx.err(a, k("address"), format!("not a device address (1..32 letters, digits, spaces): {e}")))?,
        None => DeviceAddress::new(m.serial.get_ref().trim()).map_err(|_| {
            cx.err(&m.serial, k("address"), "the serial number is not a device address (letters, digits, spaces): set [meter.optical] address")
        })?,
    };
    let password = match (&o.password, password) {
        (Some(p), _) if p.get_ref().is_empty() => {
            return Err(cx.err(p, k("password"), "an empty password: leave the key out"))
        }
        (Some(p), _) => Some(iec21::Password::new(p.get_ref()).map_err(|e| {
            cx.err(
                p,
                k("password"),
                format!("not an optical port password: {e}"),
            )
        })?),
        (None, Some(lls)) => {
            let text = String::from_utf8(lls.expose().to_vec()).ok();
            let converted = text.as_deref().and_then(|t| iec21::Password::new(t).ok());
            let at = m.password.as_ref().map_or(&m.serial, |p| p);
            Some(converted.ok_or_else(|| {
                cx.err(at, k("password"), "the meter password cannot be sent on the optical port: set [meter.optical] password")
            })?)
        }
        (None, None) => None,
    };
    let min = manufacturer.min_reaction_time();
    let reaction_time = match &o.reaction_ms {
        None => min,
        Some(r) => {
            let t = Duration::from_millis(*r.get_ref());
            if t < min || t > REACTION_TIME_MAX {
                return Err(cx.err(
                    r,
                    k("reaction_ms"),
                    format!(
                        "the reaction time is {}..{} ms for manufacturer {} (§6.3.14)",
                        min.as_millis(),
                        REACTION_TIME_MAX.as_millis(),
                        manufacturer.as_str()
                    ),
                ));
            }
            t
        }
    };
    Ok(OpticalSpec {
        identification,
        address,
        password,
        reaction_time,
    })
}

fn dlt645_spec(
    cx: &Ctx<'_>,
    m: &RawMeter,
    d: &RawDlt645,
    key: &str,
) -> Result<Dlt645Spec, ScenarioError> {
    let k = |f: &str| format!("{key}.{f}");
    let version = match &d.version {
        None => Version::V2007,
        Some(v) if *v.get_ref() == 2007 => Version::V2007,
        Some(v) if *v.get_ref() == 1997 => Version::V1997,
        Some(v) => return Err(cx.err(v, k("version"), "the DL/T 645 edition is 2007 or 1997")),
    };
    let address = match &d.address {
        Some(a) => {
            Address::from_digits(a.get_ref()).map_err(|e| cx.err(a, k("address"), e.to_string()))?
        }
        None => address_from_serial(m.serial.get_ref()).ok_or_else(|| {
            cx.err(
                &m.serial,
                k("address"),
                "the serial number has no digits: set [meter.dlt645] address",
            )
        })?,
    };
    let credit = match &d.credit {
        None => Decimal::new(0, 2),
        Some(c) if (0.0..=MAX_CREDIT).contains(c.get_ref()) => {
            // In range, so the rounded hundredths fit an i64.
            Decimal::new((c.get_ref() * 100.0).round() as i64, 2)
        }
        Some(c) => return Err(cx.err(c, k("credit"), format!("the credit is 0..{MAX_CREDIT}"))),
    };
    Ok(Dlt645Spec {
        version,
        address,
        credit,
    })
}

/// The serial number's digits as a DL/T 645 address: the last twelve, zero-padded on the
/// left ("47001234567" is 047001234567). `None` when it has no digits.
pub fn address_from_serial(serial: &str) -> Option<Address> {
    let digits: Vec<u8> = serial.bytes().filter(u8::is_ascii_digit).collect();
    if digits.is_empty() {
        return None;
    }
    let tail = digits
        .get(digits.len().saturating_sub(DLT645_DIGITS)..)
        .unwrap_or(&digits);
    let text = format!("{:0>12}", String::from_utf8_lossy(tail));
    Address::from_digits(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_digits_make_the_address() {
        let a = address_from_serial("47001234567").unwrap();
        assert_eq!(a.to_string(), "047001234567");
        let long = address_from_serial("CLN-1234567890123").unwrap();
        assert_eq!(long.to_string(), "234567890123");
        assert_eq!(address_from_serial("ABC"), None);
    }
}
