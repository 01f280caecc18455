//! The six-byte meter address (A0..A5): twelve BCD digits, least significant byte first on
//! the wire, with the `AA` wildcard and the `99..99` broadcast address.
//!
//! Parsing a frame accepts any six bytes (a wildcard is not BCD); only [`Address::from_digits`]
//! insists on digits. Nothing here knows about frames.

use std::fmt;

/// Wildcard byte: matches any value in that position. DL/T 645-2007, frame format: address field.
pub const WILDCARD_BYTE: u8 = 0xAA;
/// Broadcast byte: `99 99 99 99 99 99` addresses every meter (broadcast time only).
/// DL/T 645-2007, frame format: address field.
pub const BROADCAST_BYTE: u8 = 0x99;
/// Number of address bytes. DL/T 645-2007, frame format: address field.
pub const ADDRESS_LEN: usize = 6;

/// Why a string is not a meter address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("a meter address has 12 decimal digits, found {len} characters")]
    WrongLength { len: usize },
    #[error("character {index} of the address is not a decimal digit")]
    NotADigit { index: usize },
}

/// A meter address. Stored in wire order: `wire()[0]` is A0, the least significant byte.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address([u8; ADDRESS_LEN]);

impl Address {
    /// `AA AA AA AA AA AA`: any single meter on the bus answers (used to discover a lone meter).
    pub const WILDCARD: Address = Address([WILDCARD_BYTE; ADDRESS_LEN]);
    /// `99 99 99 99 99 99`: every meter listens, none answers.
    pub const BROADCAST: Address = Address([BROADCAST_BYTE; ADDRESS_LEN]);

    /// From the six bytes as carried on the wire (A0 first).
    pub const fn from_wire(bytes: [u8; ADDRESS_LEN]) -> Self {
        Address(bytes)
    }

    /// The six bytes as carried on the wire (A0 first).
    pub const fn wire(&self) -> [u8; ADDRESS_LEN] {
        self.0
    }

    /// From the twelve digits as printed on a nameplate, most significant first
    /// (`"000000000001"` is A0 = 0x01, A1..A5 = 0x00).
    pub fn from_digits(digits: &str) -> Result<Self, AddressError> {
        let raw = digits.as_bytes();
        if raw.len() != 2 * ADDRESS_LEN {
            return Err(AddressError::WrongLength { len: raw.len() });
        }
        let mut out = [0u8; ADDRESS_LEN];
        for (i, pair) in raw.chunks_exact(2).enumerate() {
            let digit = |k: usize| -> Result<u8, AddressError> {
                let c = pair.get(k).copied().unwrap_or(b'x');
                if c.is_ascii_digit() {
                    Ok(c - b'0')
                } else {
                    Err(AddressError::NotADigit { index: 2 * i + k })
                }
            };
            let byte = (digit(0)? << 4) | digit(1)?;
            // Printed most significant first; the wire wants A0 (least significant) first.
            if let Some(slot) = out.get_mut(ADDRESS_LEN - 1 - i) {
                *slot = byte;
            }
        }
        Ok(Address(out))
    }

    /// True for `AA AA AA AA AA AA`.
    pub fn is_wildcard(&self) -> bool {
        *self == Self::WILDCARD
    }

    /// True for `99 99 99 99 99 99`.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True when any byte is the `AA` wildcard (a whole or partial wildcard address).
    pub fn has_wildcard(&self) -> bool {
        self.0.contains(&WILDCARD_BYTE)
    }

    /// Whether a frame sent to `self` reaches the meter at `meter`: equal bytes, `AA` in a
    /// position (DL/T 645-2007 allows abbreviated addressing with `AA` in the high bytes;
    /// we accept it in any position), or the broadcast address.
    pub fn reaches(&self, meter: &Address) -> bool {
        self.is_broadcast()
            || self
                .0
                .iter()
                .zip(meter.0.iter())
                .all(|(t, m)| *t == WILDCARD_BYTE || t == m)
    }
}

impl fmt::Display for Address {
    /// Most significant byte first, as on a nameplate: `000000000001`, `AAAAAAAAAAAA`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.iter().rev() {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_printed_most_significant_first_and_sent_least_first() {
        let a = Address::from_digits("123456789012").unwrap();
        assert_eq!(a.wire(), [0x12, 0x90, 0x78, 0x56, 0x34, 0x12]);
        assert_eq!(a.to_string(), "123456789012");
    }

    #[test]
    fn bad_digit_strings_are_typed_errors() {
        assert_eq!(
            Address::from_digits("12345"),
            Err(AddressError::WrongLength { len: 5 })
        );
        assert_eq!(
            Address::from_digits("12345678901x"),
            Err(AddressError::NotADigit { index: 11 })
        );
        // Multi-byte UTF-8 must not panic (length is counted in bytes).
        assert!(Address::from_digits("ééééééé").is_err());
    }

    #[test]
    fn wildcard_and_broadcast_reach_a_meter() {
        let meter = Address::from_digits("000000000001").unwrap();
        assert!(Address::WILDCARD.reaches(&meter));
        assert!(Address::BROADCAST.reaches(&meter));
        assert!(meter.reaches(&meter));
        let other = Address::from_digits("000000000002").unwrap();
        assert!(!other.reaches(&meter));
        // Abbreviated address: high bytes wildcarded, low byte must match.
        let partial = Address::from_wire([0x01, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA]);
        assert!(partial.reaches(&meter));
        assert!(!partial.reaches(&other));
        assert!(partial.has_wildcard());
        assert!(!meter.has_wildcard());
    }
}
