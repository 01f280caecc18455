//! The small subset of BER (ITU-T X.690) the ACSE APDUs need: tags, definite lengths
//! (short and long form), TLVs and INTEGERs. Reads are bounded by the bytes present.

use super::ApduError;
use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::write_length;

/// Most bytes after a long-form length prefix (0x84 = 4 GiB, far beyond any APDU).
const MAX_LENGTH_BYTES: u8 = 4;
/// Most continuation bytes of a high tag number (X.690 8.1.2.4); 3 carry 21 bits.
const MAX_TAG_BYTES: usize = 3;

/// A tag: the single identifier byte, or `first << 24 | number` for high tag numbers, so
/// single-byte tags compare directly with their byte values.
pub(crate) fn read_tag(r: &mut Reader<'_>) -> Result<u32, ApduError> {
    let first = r.u8()?;
    if first & 0x1F != 0x1F {
        return Ok(u32::from(first));
    }
    let mut number = 0u32;
    for _ in 0..MAX_TAG_BYTES {
        let b = r.u8()?;
        number = (number << 7) | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            return Ok((u32::from(first) << 24) | number);
        }
    }
    Err(ApduError::BadBer {
        what: "tag number too long",
    })
}

/// A definite length, checked against the bytes that follow.
pub(crate) fn read_len(r: &mut Reader<'_>) -> Result<usize, ApduError> {
    let first = r.u8()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = first & 0x7F;
        if n == 0 || n > MAX_LENGTH_BYTES {
            return Err(ApduError::BadBer {
                what: "indefinite or oversized length",
            });
        }
        let v = r
            .take(usize::from(n))?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        usize::try_from(v).map_err(|_| ApduError::BadBer {
            what: "length exceeds address space",
        })?
    };
    if len > r.remaining() {
        return Err(ApduError::Truncated {
            needed: len,
            available: r.remaining(),
        });
    }
    Ok(len)
}

/// One tag-length-value; the value is a sub-slice of the input.
pub(crate) fn read_tlv<'a>(r: &mut Reader<'a>) -> Result<(u32, &'a [u8]), ApduError> {
    let tag = read_tag(r)?;
    let len = read_len(r)?;
    Ok((tag, r.take(len)?))
}

/// The single TLV inside an explicitly tagged value, which must carry `tag`.
pub(crate) fn inner<'a>(
    value: &'a [u8],
    tag: u8,
    field: &'static str,
) -> Result<&'a [u8], ApduError> {
    let mut r = Reader::new(value);
    let (found, inner) = read_tlv(&mut r)?;
    if found != u32::from(tag) {
        return Err(ApduError::UnexpectedTag {
            field,
            expected: tag,
            found: found.to_be_bytes()[3],
        });
    }
    if !r.is_empty() {
        return Err(ApduError::TrailingBytes {
            count: r.remaining(),
        });
    }
    Ok(inner)
}

/// A small non-negative BER INTEGER that must fit a u8 (results, diagnostics, reasons).
pub(crate) fn integer_u8(contents: &[u8], field: &'static str) -> Result<u8, ApduError> {
    // Leading zero bytes are allowed (non-minimal or sign padding); the value must be 0..=255.
    let (last, lead) = contents.split_last().ok_or(ApduError::BadBer {
        what: "empty INTEGER",
    })?;
    if lead.iter().any(|&b| b != 0) || (lead.is_empty() && *last & 0x80 != 0) {
        return Err(ApduError::BadValue { field });
    }
    Ok(*last)
}

/// Append tag, shortest length, value.
pub(crate) fn write_tlv(tag: u8, value: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    write_length(value.len(), out);
    out.extend_from_slice(value);
}

/// Append an INTEGER (0x02) holding `v` in the shortest two's-complement form.
pub(crate) fn integer_tlv(v: u8) -> Vec<u8> {
    if v & 0x80 != 0 {
        vec![0x02, 0x02, 0x00, v]
    } else {
        vec![0x02, 0x01, v]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_form_lengths() {
        let mut r = Reader::new(&[0x82, 0x00, 0x02, 0xAA, 0xBB]);
        assert_eq!(read_len(&mut r), Ok(2));
        let mut r = Reader::new(&[0x81, 0x05, 0xAA]);
        assert_eq!(
            read_len(&mut r),
            Err(ApduError::Truncated {
                needed: 5,
                available: 1
            })
        );
        assert!(matches!(
            read_len(&mut Reader::new(&[0x80])),
            Err(ApduError::BadBer { .. })
        ));
    }

    #[test]
    fn high_tag_numbers() {
        // [APPLICATION 31] (the conformance block tag) and a 2-byte tag number.
        assert_eq!(read_tag(&mut Reader::new(&[0x5F, 0x1F])), Ok(0x5F00_001F));
        assert_eq!(
            read_tag(&mut Reader::new(&[0x7F, 0x81, 0x00])),
            Ok(0x7F00_0080)
        );
        assert!(read_tag(&mut Reader::new(&[0x7F, 0x81, 0x81, 0x81, 0x01])).is_err());
    }

    #[test]
    fn small_integers() {
        assert_eq!(integer_u8(&[0x0D], "x"), Ok(13));
        assert_eq!(integer_u8(&[0x00, 0xFF], "x"), Ok(255));
        assert_eq!(
            integer_u8(&[0xFF], "x"),
            Err(ApduError::BadValue { field: "x" })
        );
        assert_eq!(
            integer_u8(&[0x01, 0x00], "x"),
            Err(ApduError::BadValue { field: "x" })
        );
        assert!(integer_u8(&[], "x").is_err());
        assert_eq!(integer_tlv(0x80), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(integer_tlv(13), [0x02, 0x01, 0x0D]);
    }
}
