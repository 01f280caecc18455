//! Protocol editions and data identifiers (DI): two bytes `DI1 DI0` in 1997, four bytes
//! `DI3 DI2 DI1 DI0` in 2007, sent least significant byte first.
//!
//! Identifiers are written here the way the standards print them, most significant byte
//! first (`DataId::v2007([0x00, 0x01, 0x00, 0x00])` is "00 01 00 00"). The +0x33 offset is
//! the frame layer's business, not this module's.

use std::fmt;

/// Which edition of DL/T 645 a meter speaks. A frame does not say; the caller knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// DL/T 645-1997: two-byte identifiers, control codes 0x01..0x10.
    V1997,
    /// DL/T 645-2007: four-byte identifiers, control codes 0x08 and 0x11..0x1C.
    V2007,
}

impl Version {
    /// Bytes in a data identifier of this edition.
    pub const fn di_len(self) -> usize {
        match self {
            Version::V1997 => 2,
            Version::V2007 => 4,
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Version::V1997 => "DL/T 645-1997",
            Version::V2007 => "DL/T 645-2007",
        })
    }
}

/// A data identifier. Ordered by edition, then by value (the catalogue relies on it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataId {
    /// `DI1 DI0` as printed, e.g. `0x9010` for "90 10".
    V1997(u16),
    /// `DI3 DI2 DI1 DI0` as printed, e.g. `0x0001_0000` for "00 01 00 00".
    V2007(u32),
}

impl DataId {
    /// A 1997 identifier from its two bytes as printed (`[0x90, 0x10]`).
    pub const fn v1997(printed: [u8; 2]) -> Self {
        DataId::V1997(u16::from_be_bytes(printed))
    }

    /// A 2007 identifier from its four bytes as printed (`[0x00, 0x01, 0x00, 0x00]`).
    pub const fn v2007(printed: [u8; 4]) -> Self {
        DataId::V2007(u32::from_be_bytes(printed))
    }

    pub const fn version(self) -> Version {
        match self {
            DataId::V1997(_) => Version::V1997,
            DataId::V2007(_) => Version::V2007,
        }
    }

    /// Bytes on the wire (2 or 4).
    pub const fn wire_len(self) -> usize {
        self.version().di_len()
    }

    /// Append the identifier in wire order (DI0 first), without the +0x33 offset.
    pub fn write_wire(self, out: &mut Vec<u8>) {
        match self {
            DataId::V1997(v) => out.extend_from_slice(&v.to_le_bytes()),
            DataId::V2007(v) => out.extend_from_slice(&v.to_le_bytes()),
        }
    }

    /// Read an identifier of `version` from the front of `plain` (DI0 first, offset already
    /// removed). Returns the identifier and the bytes after it, or `None` if too short.
    pub fn read_wire(version: Version, plain: &[u8]) -> Option<(DataId, &[u8])> {
        match version {
            Version::V1997 => {
                let (head, rest) = plain.split_first_chunk::<2>()?;
                Some((DataId::V1997(u16::from_le_bytes(*head)), rest))
            }
            Version::V2007 => {
                let (head, rest) = plain.split_first_chunk::<4>()?;
                Some((DataId::V2007(u32::from_le_bytes(*head)), rest))
            }
        }
    }
}

impl fmt::Display for DataId {
    /// As the standards print it: "90 10", "00 01 00 00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes: Vec<u8> = match self {
            DataId::V1997(v) => v.to_be_bytes().to_vec(),
            DataId::V2007(v) => v.to_be_bytes().to_vec(),
        };
        for (i, b) in bytes.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for DataId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = match self.version() {
            Version::V1997 => "1997",
            Version::V2007 => "2007",
        };
        write!(f, "DataId({v}: {self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_go_on_the_wire_least_significant_byte_first() {
        let mut out = Vec::new();
        DataId::v2007([0x00, 0x01, 0x00, 0x00]).write_wire(&mut out);
        assert_eq!(out, [0x00, 0x00, 0x01, 0x00]);
        out.clear();
        DataId::v1997([0x90, 0x10]).write_wire(&mut out);
        assert_eq!(out, [0x10, 0x90]);
    }

    #[test]
    fn read_wire_splits_and_rejects_short_input() {
        let (di, rest) =
            DataId::read_wire(Version::V2007, &[0x00, 0x00, 0x03, 0x02, 0xAB]).unwrap();
        assert_eq!(di, DataId::v2007([0x02, 0x03, 0x00, 0x00]));
        assert_eq!(rest, [0xAB]);
        assert_eq!(DataId::read_wire(Version::V2007, &[0, 0, 0]), None);
        assert_eq!(DataId::read_wire(Version::V1997, &[0x10]), None);
    }

    #[test]
    fn display_is_as_printed_in_the_standard() {
        assert_eq!(
            DataId::v2007([0x03, 0x30, 0x0D, 0x00]).to_string(),
            "03 30 0D 00"
        );
        assert_eq!(DataId::v1997([0xB6, 0x30]).to_string(), "B6 30");
    }
}
