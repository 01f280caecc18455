//! Character framing: 7E1 before the baud switch, 8N1 after it in mode E; parity and
//! the time characters take on the wire.
//!
//! Pure functions. A PTY cannot show parity, so links that hand us 8-bit characters
//! carrying the parity bit use `strip_parity`/`add_even_parity` here. This module must
//! not touch a port: applying a framing is the transport's job.

use core::time::Duration;

use super::error::ParityError;

/// How characters are framed on the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Framing {
    /// 1 start, 7 data, even parity, 1 stop bit (IEC 62056-21:2002 §5.4, §5.6).
    SevenE1,
    /// 1 start, 8 data, no parity, 1 stop bit: HDLC after the switch in mode E
    /// (IEC 62056-21:2002 Annex E; IEC 62056-46).
    EightN1,
}

impl Framing {
    /// Bits on the wire per character: both framings take 10 (start + 7 + parity + stop,
    /// or start + 8 + stop).
    pub const fn bits_per_char(self) -> u32 {
        match self {
            Framing::SevenE1 => 1 + 7 + 1 + 1,
            Framing::EightN1 => 1 + 8 + 1,
        }
    }
}

/// The even-parity bit (0 or 1) for the 7 data bits of `byte`: 1 when they hold an odd
/// number of ones, so that data and parity together hold an even number (§5.6).
/// Bit 7 of `byte` is ignored.
pub const fn parity_bit(byte: u8) -> u8 {
    ((byte & 0x7F).count_ones() & 1) as u8
}

/// The 8-bit character a link without parity support must send to look like 7E1:
/// the 7 data bits of `byte` with the even-parity bit in bit 7. Bit 7 of the input is
/// replaced (a 7-bit character has none).
pub const fn add_even_parity(byte: u8) -> u8 {
    (byte & 0x7F) | (parity_bit(byte) << 7)
}

/// The 7-bit character inside an 8-bit one received with its parity bit in bit 7, or
/// `ParityError` when the parity is odd (a corrupted character).
pub const fn strip_parity(byte: u8) -> Result<u8, ParityError> {
    if byte.count_ones() % 2 == 0 {
        Ok(byte & 0x7F)
    } else {
        Err(ParityError { byte })
    }
}

/// `add_even_parity` over a buffer, in place.
pub fn add_even_parity_all(bytes: &mut [u8]) {
    for b in bytes {
        *b = add_even_parity(*b);
    }
}

/// `strip_parity` over a buffer, in place; on error, returns the offset of the first
/// bad character (bytes before it are already stripped).
pub fn strip_parity_all(bytes: &mut [u8]) -> Result<(), (usize, ParityError)> {
    for (at, b) in bytes.iter_mut().enumerate() {
        *b = strip_parity(*b).map_err(|e| (at, e))?;
    }
    Ok(())
}

/// Time one character takes on the wire at `baud` (a baud of 0 counts as 1).
pub fn char_time(baud: u32, framing: Framing) -> Duration {
    wire_time(1, baud, framing)
}

/// Time `chars` characters take on the wire at `baud`, rounded up to the nanosecond
/// so that "has fully left the wire" is never underestimated.
pub fn wire_time(chars: usize, baud: u32, framing: Framing) -> Duration {
    let bits = (chars as u128).saturating_mul(u128::from(framing.bits_per_char()));
    let baud = u128::from(baud.max(1));
    let nanos = bits.saturating_mul(1_000_000_000).div_ceil(baud);
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    // The remainder is below 10^9 and fits in u32.
    let sub = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
    Duration::new(secs, sub)
}
