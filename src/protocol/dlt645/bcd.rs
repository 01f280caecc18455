//! BCD numbers with a fixed number of decimals, and BCD dates and times.
//!
//! All fields are least significant byte first on the wire (DL/T 645-2007 data field rules
//! and appendix A): `XXXXXX.XX` in four bytes `[0x15, 0x80, 0x95, 0x00]` is 9580.15. For the 2007 signed
//! quantities (instantaneous power, power factor) the top bit of the most significant byte
//! is the sign (DL/T 645-2007 appendix A, variables: "最高位表示方向"). Values are exact: an integer
//! of digits and a scale, never a float.
//!
//! Contract: decoding never panics; a nibble above 9 is [`BcdError::InvalidDigit`] saying
//! which byte; at most eight bytes (sixteen digits) are accepted, so the value fits `i64`.

use std::fmt;

/// The widest BCD field we decode: 8 bytes = 16 digits, below `i64::MAX`.
pub const MAX_BCD_BYTES: usize = 8;

/// Why bytes are not the BCD value expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BcdError {
    #[error("byte {index} ({byte:#04x}) is not two BCD digits")]
    InvalidDigit { index: usize, byte: u8 },
    #[error("expected {expected} bytes, found {found}")]
    WrongLength { expected: usize, found: usize },
    #[error("{len}-byte BCD fields are not supported (at most {MAX_BCD_BYTES})")]
    TooWide { len: usize },
    #[error("{value} does not fit {len} BCD bytes")]
    Overflow { value: Decimal, len: usize },
    #[error("{field} {value} is out of range")]
    OutOfRange { field: &'static str, value: u8 },
}

/// An exact decimal: `value × 10^-scale`. `Decimal { value: 958015, scale: 2 }` is 9580.15.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Decimal {
    pub value: i64,
    pub scale: u8,
}

impl Decimal {
    pub const fn new(value: i64, scale: u8) -> Self {
        Decimal { value, scale }
    }
}

impl fmt::Display for Decimal {
    /// Exact, with all `scale` decimals: `9580.15`, `-0.0123`, `7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.value.unsigned_abs().to_string();
        let sign = if self.value < 0 { "-" } else { "" };
        let scale = usize::from(self.scale);
        if scale == 0 {
            return write!(f, "{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        write!(f, "{sign}{int}.{frac}")
    }
}

/// One BCD byte to its value 0..=99.
fn digit_pair(index: usize, byte: u8) -> Result<u8, BcdError> {
    let (hi, lo) = (byte >> 4, byte & 0x0F);
    if hi > 9 || lo > 9 {
        return Err(BcdError::InvalidDigit { index, byte });
    }
    Ok(hi * 10 + lo)
}

/// A value 0..=99 as one BCD byte.
const fn bcd_byte(v: u8) -> u8 {
    ((v / 10) << 4) | (v % 10)
}

/// Decode an unsigned BCD field (LSB first) with `decimals` implied decimals.
pub fn decode_unsigned(bytes: &[u8], decimals: u8) -> Result<Decimal, BcdError> {
    if bytes.len() > MAX_BCD_BYTES {
        return Err(BcdError::TooWide { len: bytes.len() });
    }
    let mut value: i64 = 0;
    for (index, byte) in bytes.iter().enumerate().rev() {
        value = value * 100 + i64::from(digit_pair(index, *byte)?);
    }
    Ok(Decimal::new(value, decimals))
}

/// Decode a signed BCD field (LSB first): the top bit of the last byte is the sign.
pub fn decode_signed(bytes: &[u8], decimals: u8) -> Result<Decimal, BcdError> {
    if bytes.len() > MAX_BCD_BYTES {
        return Err(BcdError::TooWide { len: bytes.len() });
    }
    let Some((last, rest)) = bytes.split_last() else {
        return Ok(Decimal::new(0, decimals));
    };
    let negative = last & 0x80 != 0;
    let mut unsigned = rest.to_vec();
    unsigned.push(last & 0x7F);
    let d = decode_unsigned(&unsigned, decimals)?;
    Ok(Decimal::new(
        if negative { -d.value } else { d.value },
        decimals,
    ))
}

/// Encode `value` (rescaled to `decimals`) as `len` unsigned BCD bytes, LSB first.
pub fn encode_unsigned(value: Decimal, len: usize, decimals: u8) -> Result<Vec<u8>, BcdError> {
    encode(value, len, decimals, false)
}

/// Encode `value` as `len` signed BCD bytes (sign in the top bit of the last byte).
pub fn encode_signed(value: Decimal, len: usize, decimals: u8) -> Result<Vec<u8>, BcdError> {
    encode(value, len, decimals, true)
}

fn encode(value: Decimal, len: usize, decimals: u8, signed: bool) -> Result<Vec<u8>, BcdError> {
    if len > MAX_BCD_BYTES {
        return Err(BcdError::TooWide { len });
    }
    let overflow = BcdError::Overflow { value, len };
    let magnitude = rescale(value, decimals).ok_or(overflow.clone())?;
    if magnitude < 0 && !signed {
        return Err(overflow);
    }
    let mut rest = magnitude.unsigned_abs();
    let mut out = Vec::with_capacity(len);
    for _ in 0..len {
        out.push(bcd_byte((rest % 100) as u8));
        rest /= 100;
    }
    let top_used = out.last().is_some_and(|b| b & 0x80 != 0);
    if rest != 0 || (signed && top_used) {
        return Err(overflow);
    }
    if signed && magnitude < 0 {
        if let Some(last) = out.last_mut() {
            *last |= 0x80;
        }
    }
    Ok(out)
}

/// `value` as an integer count of `10^-decimals`; `None` if it would lose digits or overflow.
fn rescale(value: Decimal, decimals: u8) -> Option<i64> {
    if decimals >= value.scale {
        let factor = 10i64.checked_pow(u32::from(decimals - value.scale))?;
        value.value.checked_mul(factor)
    } else {
        let factor = 10i64.checked_pow(u32::from(value.scale - decimals))?;
        (value.value % factor == 0).then_some(value.value / factor)
    }
}

/// Decode `bytes` as BCD pairs 0..=99, each checked against `(field, min, max)`.
fn fields<const N: usize>(
    bytes: &[u8],
    limits: [(&'static str, u8, u8); N],
) -> Result<[u8; N], BcdError> {
    if bytes.len() != N {
        return Err(BcdError::WrongLength {
            expected: N,
            found: bytes.len(),
        });
    }
    let mut out = [0u8; N];
    for (index, ((slot, byte), (field, min, max))) in
        out.iter_mut().zip(bytes).zip(limits).enumerate()
    {
        let v = digit_pair(index, *byte)?;
        if v < min || v > max {
            return Err(BcdError::OutOfRange { field, value: v });
        }
        *slot = v;
    }
    Ok(out)
}

/// A date with weekday: `YYMMDDWW` (2007 `04 00 01 01`, 1997 `C0 10`); wire `WW DD MM YY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterDate {
    /// Two-digit year, 00..=99 (20YY).
    pub year: u8,
    pub month: u8,
    pub day: u8,
    /// 0 = Sunday .. 6 = Saturday. DL/T 645-2007 appendix A, parameters.
    pub weekday: u8,
}

/// A time of day: `hhmmss` (2007 `04 00 01 02`, 1997 `C0 11`); wire `ss mm hh`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterTime {
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// A moment: `YYMMDDhhmmss`, wire `ss mm hh DD MM YY` (event records, broadcast time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MeterDateTime {
    /// Two-digit year, 00..=99 (20YY).
    pub year: u8,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl MeterDate {
    pub const WIRE_LEN: usize = 4;

    pub fn decode(bytes: &[u8]) -> Result<Self, BcdError> {
        let [weekday, day, month, year] = fields(
            bytes,
            [
                ("weekday", 0, 6),
                ("day", 1, 31),
                ("month", 1, 12),
                ("year", 0, 99),
            ],
        )?;
        Ok(MeterDate {
            year,
            month,
            day,
            weekday,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        [self.weekday, self.day, self.month, self.year]
            .iter()
            .map(|v| bcd_byte(v % 100))
            .collect()
    }
}

impl MeterTime {
    pub const WIRE_LEN: usize = 3;

    pub fn decode(bytes: &[u8]) -> Result<Self, BcdError> {
        let [second, minute, hour] = fields(
            bytes,
            [("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23)],
        )?;
        Ok(MeterTime {
            hour,
            minute,
            second,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        [self.second, self.minute, self.hour]
            .iter()
            .map(|v| bcd_byte(v % 100))
            .collect()
    }
}

impl MeterDateTime {
    pub const WIRE_LEN: usize = 6;

    pub fn decode(bytes: &[u8]) -> Result<Self, BcdError> {
        let [second, minute, hour, day, month, year] = fields(
            bytes,
            [
                ("second", 0, 59),
                ("minute", 0, 59),
                ("hour", 0, 23),
                ("day", 1, 31),
                ("month", 1, 12),
                ("year", 0, 99),
            ],
        )?;
        Ok(MeterDateTime {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        [
            self.second,
            self.minute,
            self.hour,
            self.day,
            self.month,
            self.year,
        ]
        .iter()
        .map(|v| bcd_byte(v % 100))
        .collect()
    }
}

impl fmt::Display for MeterDate {
    /// ISO 8601, years as 20YY: `2024-03-15`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "20{:02}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for MeterTime {
    /// `08:30:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}:{:02}", self.hour, self.minute, self.second)
    }
}

impl fmt::Display for MeterDateTime {
    /// ISO 8601 without zone, years as 20YY: `2024-03-15T08:30:00`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "20{:02}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}
