//! A-XDR variable-length integers used as length and count prefixes
//! (IEC 61334-6 A-XDR, as used by IEC 62056-6-2 / Blue Book 4.1.5).
//!
//! One byte below 0x80 is the value itself; `0x80 | n` is followed by `n` big-endian bytes.

use super::error::AxdrError;
use super::reader::Reader;

/// Largest number of length bytes after a `0x80 | n` prefix that we accept (a u64).
const MAX_LENGTH_BYTES: u8 = 8;

/// Read a length prefix; the value is returned as u64 so callers can compare it to limits
/// before converting it to `usize`.
pub(crate) fn read_length(r: &mut Reader<'_>) -> Result<u64, AxdrError> {
    let first = r.u8()?;
    if first < 0x80 {
        return Ok(u64::from(first));
    }
    let n = first & 0x7F;
    // Design: 0x80 (BER indefinite form) has no meaning in A-XDR, so it is refused.
    if n == 0 || n > MAX_LENGTH_BYTES {
        return Err(AxdrError::InvalidLength(first));
    }
    let bytes = r.take(usize::from(n))?;
    Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// Read a length prefix and check it against `limit`, returning it as `usize`.
pub(crate) fn read_length_bounded(r: &mut Reader<'_>, limit: usize) -> Result<usize, AxdrError> {
    let declared = read_length(r)?;
    match usize::try_from(declared) {
        Ok(n) if n <= limit => Ok(n),
        _ => Err(AxdrError::LengthTooLarge {
            declared,
            limit: limit as u64,
        }),
    }
}

/// Number of bytes `write_length(n)` emits.
pub(crate) fn length_len(n: usize) -> usize {
    if n < 0x80 {
        1
    } else {
        1 + significant_bytes(n)
    }
}

/// Emit the shortest length prefix for `n`.
pub(crate) fn write_length(n: usize, out: &mut Vec<u8>) {
    if n < 0x80 {
        out.push(n as u8);
        return;
    }
    let count = significant_bytes(n);
    out.push(0x80 | count as u8);
    let be = (n as u64).to_be_bytes();
    out.extend_from_slice(&be[be.len() - count..]);
}

fn significant_bytes(n: usize) -> usize {
    let bits = usize::BITS - n.leading_zeros();
    (bits as usize).div_ceil(8).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(n: usize) -> Vec<u8> {
        let mut v = Vec::new();
        write_length(n, &mut v);
        v
    }

    #[test]
    fn short_and_long_forms() {
        assert_eq!(enc(0), [0x00]);
        assert_eq!(enc(0x7F), [0x7F]);
        assert_eq!(enc(0x80), [0x81, 0x80]);
        assert_eq!(enc(0xFF), [0x81, 0xFF]);
        assert_eq!(enc(0x100), [0x82, 0x01, 0x00]);
        assert_eq!(enc(0x01_0000), [0x83, 0x01, 0x00, 0x00]);
    }

    #[test]
    fn refuses_indefinite_and_oversized_prefixes() {
        assert_eq!(
            read_length(&mut Reader::new(&[0x80])),
            Err(AxdrError::InvalidLength(0x80))
        );
        assert_eq!(
            read_length(&mut Reader::new(&[0x89, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
            Err(AxdrError::InvalidLength(0x89))
        );
        assert_eq!(
            read_length(&mut Reader::new(&[0x82, 0x01])),
            Err(AxdrError::Truncated {
                needed: 2,
                available: 1
            })
        );
    }

    #[test]
    fn accepts_non_minimal_and_checks_limit() {
        assert_eq!(read_length(&mut Reader::new(&[0x82, 0x00, 0x05])), Ok(5));
        assert_eq!(
            read_length_bounded(&mut Reader::new(&[0x82, 0x10, 0x00]), 100),
            Err(AxdrError::LengthTooLarge {
                declared: 0x1000,
                limit: 100
            })
        );
    }

    proptest! {
        #[test]
        fn round_trip(n in any::<usize>()) {
            let bytes = enc(n);
            prop_assert_eq!(bytes.len(), length_len(n));
            let mut r = Reader::new(&bytes);
            prop_assert_eq!(read_length(&mut r), Ok(n as u64));
            prop_assert!(r.is_empty());
        }
    }
}
