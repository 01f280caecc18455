//! HDLC address fields: a one-byte client address, a one-, two- or four-byte server address.
//!
//! Each address byte carries 7 bits of address above an extension bit (bit 0): 0 means
//! "another address byte follows", 1 marks the last byte (Green Book 8.4.1, use of extended
//! addressing, after ISO/IEC 13239). A server address splits into an upper HDLC address (the
//! logical device) and an optional lower HDLC address (the physical device, used to pick one
//! meter on an RS-485 multi-drop bus). This module encodes and decodes the field only; it does
//! not decide which addresses a session accepts.

use core::fmt;

/// Largest value of a one-byte address part (7 bits). Green Book 8.4.1: single-octet range 0..0x7F.
pub const MAX_ONE_BYTE: u16 = 0x7F;
/// Largest value of a two-byte address part (14 bits). Green Book 8.4.1: two-octet range 0..0x3FFF.
pub const MAX_TWO_BYTE: u16 = 0x3FFF;

/// Reserved client address: public client (lowest security level), Green Book 8.4, reserved addresses.
pub const CLIENT_PUBLIC: u8 = 0x10;
/// Reserved client address: client management process.
pub const CLIENT_MANAGEMENT: u8 = 0x01;
/// Reserved upper server address: the management logical device.
pub const SERVER_MANAGEMENT_LOGICAL_DEVICE: u16 = 0x01;

/// How many bytes a server address takes on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressSize {
    /// Upper address only, 7 bits. Always the size of a client address.
    One,
    /// Upper and lower address, 7 bits each.
    Two,
    /// Upper and lower address, 14 bits each (two bytes per part).
    Four,
}

impl AddressSize {
    /// Number of bytes on the wire.
    pub const fn len(self) -> usize {
        match self {
            AddressSize::One => 1,
            AddressSize::Two => 2,
            AddressSize::Four => 4,
        }
    }

    /// Always false: an address takes at least one byte (here for clippy's `len_without_is_empty`).
    pub const fn is_empty(self) -> bool {
        false
    }

    /// Largest value a part (upper or lower) can hold at this size.
    const fn part_max(self) -> u16 {
        match self {
            AddressSize::One | AddressSize::Two => MAX_ONE_BYTE,
            AddressSize::Four => MAX_TWO_BYTE,
        }
    }
}

/// Which part of an address a value was meant for (carried by [`AddressError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressPart {
    Client,
    Upper,
    Lower,
}

/// Why an address could not be built or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("{part:?} address {value:#x} exceeds {max:#x} for a {size:?}-byte address")]
    OutOfRange {
        part: AddressPart,
        value: u16,
        max: u16,
        size: AddressSize,
    },
    #[error("a one-byte address has no lower (physical) part")]
    LowerWithoutRoom,
    #[error("a {0:?}-byte address needs a lower (physical) part")]
    MissingLower(AddressSize),
    #[error("address field ends before its last byte (extension bit never set)")]
    Truncated,
    #[error("address field of {0} bytes; only 1, 2 or 4 are allowed")]
    BadLength(usize),
}

/// A destination or source address as carried in a frame.
///
/// A client address is `size == One`. Equality includes the size: `1/17` on two bytes and
/// `1/17` on four bytes are different addresses on the wire, and a meter answers only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HdlcAddress {
    upper: u16,
    lower: u16,
    size: AddressSize,
}

/// The encoded bytes of an address (at most four), without allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressBytes {
    buf: [u8; 4],
    len: usize,
}

impl AddressBytes {
    pub fn as_slice(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }
}

impl HdlcAddress {
    /// A client address (always one byte, 0..=0x7F). 0x10 is the public client.
    pub fn client(sap: u8) -> Result<Self, AddressError> {
        let value = u16::from(sap);
        if value > MAX_ONE_BYTE {
            return Err(AddressError::OutOfRange {
                part: AddressPart::Client,
                value,
                max: MAX_ONE_BYTE,
                size: AddressSize::One,
            });
        }
        Ok(HdlcAddress {
            upper: value,
            lower: 0,
            size: AddressSize::One,
        })
    }

    /// A server address in its smallest encoding: one byte without a physical address,
    /// two bytes when both parts fit 7 bits, otherwise four bytes.
    pub fn server(logical: u16, physical: Option<u16>) -> Result<Self, AddressError> {
        let size = match physical {
            None => AddressSize::One,
            Some(p) if logical <= MAX_ONE_BYTE && p <= MAX_ONE_BYTE => AddressSize::Two,
            Some(_) => AddressSize::Four,
        };
        Self::server_sized(logical, physical, size)
    }

    /// A server address with an explicit wire size (some meters insist on four bytes).
    pub fn server_sized(
        logical: u16,
        physical: Option<u16>,
        size: AddressSize,
    ) -> Result<Self, AddressError> {
        let max = size.part_max();
        if logical > max {
            return Err(AddressError::OutOfRange {
                part: AddressPart::Upper,
                value: logical,
                max,
                size,
            });
        }
        let lower = match (size, physical) {
            (AddressSize::One, None) => 0,
            (AddressSize::One, Some(_)) => return Err(AddressError::LowerWithoutRoom),
            (_, None) => return Err(AddressError::MissingLower(size)),
            (_, Some(p)) if p > max => {
                return Err(AddressError::OutOfRange {
                    part: AddressPart::Lower,
                    value: p,
                    max,
                    size,
                })
            }
            (_, Some(p)) => p,
        };
        Ok(HdlcAddress {
            upper: logical,
            lower,
            size,
        })
    }

    /// Upper HDLC address: the client SAP, or the server's logical device.
    pub fn upper(&self) -> u16 {
        self.upper
    }

    /// Lower HDLC address (the server's physical device), when the address has one.
    pub fn lower(&self) -> Option<u16> {
        match self.size {
            AddressSize::One => None,
            AddressSize::Two | AddressSize::Four => Some(self.lower),
        }
    }

    pub fn size(&self) -> AddressSize {
        self.size
    }

    /// Wire bytes: 7 bits per byte shifted left, extension bit set on the last byte only.
    pub fn encode(&self) -> AddressBytes {
        let byte = |v: u16| ((v & 0x7F) as u8) << 1;
        let (buf, len) = match self.size {
            AddressSize::One => ([byte(self.upper) | 1, 0, 0, 0], 1),
            AddressSize::Two => ([byte(self.upper), byte(self.lower) | 1, 0, 0], 2),
            AddressSize::Four => (
                [
                    byte(self.upper >> 7),
                    byte(self.upper),
                    byte(self.lower >> 7),
                    byte(self.lower) | 1,
                ],
                4,
            ),
        };
        AddressBytes { buf, len }
    }

    /// Read one address field from the start of `bytes`; returns it and its length.
    pub fn parse(bytes: &[u8]) -> Result<(Self, usize), AddressError> {
        // Design: look at most 4 bytes ahead; a field without its end mark within 4 bytes is
        // invalid whatever follows, so a damaged frame cannot make us scan further.
        let len = bytes
            .iter()
            .take(4)
            .position(|b| b & 1 == 1)
            .map(|i| i + 1)
            .ok_or(if bytes.len() >= 4 {
                AddressError::BadLength(5)
            } else {
                AddressError::Truncated
            })?;
        let part = |i: usize| bytes.get(i).map_or(0, |b| u16::from(b >> 1));
        let addr = match len {
            1 => HdlcAddress {
                upper: part(0),
                lower: 0,
                size: AddressSize::One,
            },
            2 => HdlcAddress {
                upper: part(0),
                lower: part(1),
                size: AddressSize::Two,
            },
            4 => HdlcAddress {
                upper: (part(0) << 7) | part(1),
                lower: (part(2) << 7) | part(3),
                size: AddressSize::Four,
            },
            other => return Err(AddressError::BadLength(other)),
        };
        Ok((addr, len))
    }
}

impl fmt::Display for HdlcAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.lower() {
            None => write!(f, "{}", self.upper),
            Some(lower) => write!(f, "{}/{} ({} bytes)", self.upper, lower, self.size.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn client_public_is_one_byte_0x21() {
        // 0x10 << 1 | 1 = 0x21, as in every gurux-dlms frame from client 16.
        let a = HdlcAddress::client(CLIENT_PUBLIC).unwrap();
        assert_eq!(a.encode().as_slice(), &[0x21]);
        assert_eq!(a.lower(), None);
    }

    #[test]
    fn client_above_seven_bits_is_refused() {
        assert!(matches!(
            HdlcAddress::client(0x80),
            Err(AddressError::OutOfRange { value: 0x80, .. })
        ));
    }

    #[test]
    fn server_two_bytes_matches_u9n() {
        // u9n dlms-cosem 25.1.0: HdlcAddress(1, 17, "server").to_bytes() == 02 23.
        let a = HdlcAddress::server(1, Some(17)).unwrap();
        assert_eq!(a.size(), AddressSize::Two);
        assert_eq!(a.encode().as_slice(), &[0x02, 0x23]);
    }

    #[test]
    fn server_four_bytes_matches_gurux() {
        // gurux-dlms 1.0.203: getServerAddress(1, 17, 4) encodes as 00 02 00 23.
        #[rustfmt::skip]
        let wire = [
            0x00, 0x02, // upper = 1: high 7 bits 0, low 7 bits 1 (extension bit 0)
            0x00, 0x23, // lower = 17: high 7 bits 0, low 7 bits 17, extension bit 1 (last)
        ];
        let a = HdlcAddress::server_sized(1, Some(17), AddressSize::Four).unwrap();
        assert_eq!(a.encode().as_slice(), &wire);
        assert_eq!(HdlcAddress::parse(&wire), Ok((a, 4)));
    }

    #[test]
    fn four_byte_parts_use_fourteen_bits() {
        let a = HdlcAddress::server(0x3FFF, Some(0x1234)).unwrap();
        assert_eq!(a.size(), AddressSize::Four);
        assert_eq!(a.encode().as_slice(), &[0xFE, 0xFE, 0x48, 0x69]);
        assert_eq!(HdlcAddress::parse(a.encode().as_slice()), Ok((a, 4)));
        assert!(HdlcAddress::server(0x4000, Some(1)).is_err());
    }

    #[test]
    fn size_rules_are_checked() {
        assert_eq!(
            HdlcAddress::server_sized(1, Some(1), AddressSize::One),
            Err(AddressError::LowerWithoutRoom)
        );
        assert_eq!(
            HdlcAddress::server_sized(1, None, AddressSize::Four),
            Err(AddressError::MissingLower(AddressSize::Four))
        );
        assert!(HdlcAddress::server_sized(0x80, Some(1), AddressSize::Two).is_err());
        assert!(HdlcAddress::server(0x80, None).is_err());
    }

    #[test]
    fn three_byte_and_unterminated_fields_are_errors() {
        assert_eq!(
            HdlcAddress::parse(&[0x00, 0x02, 0x23]),
            Err(AddressError::BadLength(3))
        );
        assert_eq!(
            HdlcAddress::parse(&[0x00, 0x02, 0x00, 0x02, 0x01]),
            Err(AddressError::BadLength(5))
        );
        assert_eq!(HdlcAddress::parse(&[0x02]), Err(AddressError::Truncated));
        assert_eq!(HdlcAddress::parse(&[]), Err(AddressError::Truncated));
    }

    proptest! {
        #[test]
        fn parse_inverts_encode(upper in 0u16..=0x3FFF, lower in 0u16..=0x3FFF, pick in 0u8..3) {
            let size = [AddressSize::One, AddressSize::Two, AddressSize::Four][usize::from(pick)];
            let max = size.part_max();
            let physical = (size != AddressSize::One).then_some(lower & max);
            let a = HdlcAddress::server_sized(upper & max, physical, size).unwrap();
            let bytes = a.encode();
            prop_assert_eq!(bytes.as_slice().len(), size.len());
            prop_assert_eq!(HdlcAddress::parse(bytes.as_slice()), Ok((a, size.len())));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..8)) {
            if let Ok((_, n)) = HdlcAddress::parse(&bytes) {
                prop_assert!(n <= bytes.len());
            }
        }
    }
}
