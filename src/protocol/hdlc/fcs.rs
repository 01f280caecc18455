//! HCS and FCS: the CRC-16 that protects an HDLC header and a whole frame.
//!
//! Both checks use the same polynomial (Green Book 8.4.1.1: "the HCS and FCS polynomials
//! will be the same"): CRC-16/X.25, which the `crc` crate names `CRC_16_IBM_SDLC`
//! (poly 0x1021 reflected, init 0xFFFF, xor-out 0xFFFF). The value travels least
//! significant byte first. This module only computes and compares; it never reads a frame.

use crc::{Crc, CRC_16_IBM_SDLC};

const X25: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_SDLC);

/// CRC-16/X.25 of `bytes`, as a number (emit it with [`to_wire`]).
pub fn crc16(bytes: &[u8]) -> u16 {
    X25.checksum(bytes)
}

/// The two bytes that carry `crc` on the wire: least significant byte first.
pub fn to_wire(crc: u16) -> [u8; 2] {
    crc.to_le_bytes()
}

/// The CRC value carried by two wire bytes (least significant byte first).
pub fn from_wire(lo: u8, hi: u8) -> u16 {
    u16::from_le_bytes([lo, hi])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value_of_the_catalogue() {
        // CRC-16/X.25 catalogue check value for the ASCII string "123456789".
        assert_eq!(crc16(b"123456789"), 0x906E);
    }

    #[test]
    fn fcs_of_a_gurux_snrm_is_sent_lsb_first() {
        // gurux-dlms 1.0.203 (Python) SNRM 16 -> 1: 7E A0 07 03 21 93 0F 01 7E.
        // The FCS covers A0 07 03 21 93 and travels as 0F 01.
        let crc = crc16(&[0xA0, 0x07, 0x03, 0x21, 0x93]);
        assert_eq!(to_wire(crc), [0x0F, 0x01]);
        assert_eq!(from_wire(0x0F, 0x01), crc);
    }
}
