//! The A-XDR encoder: appends exactly `encoded_len()` bytes and cannot fail.

use super::length::{length_len, write_length};
use super::Data;

impl Data {
    /// Append the tagged encoding of this value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.data_type().tag());
        self.encode_body(out);
    }

    /// The tagged encoding as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out
    }

    /// Number of bytes `encode` appends.
    pub fn encoded_len(&self) -> usize {
        1 + self.body_len()
    }

    /// Append the encoding without the tag (compact-array contents).
    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Data::NullData | Data::DontCare => {}
            Data::Array(items) | Data::Structure(items) => {
                write_length(items.len(), out);
                for i in items {
                    i.encode(out);
                }
            }
            Data::Boolean(b) => out.push(u8::from(*b)),
            Data::BitString(bs) => {
                write_length(bs.bit_len(), out);
                out.extend_from_slice(bs.as_bytes());
            }
            Data::DoubleLong(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::DoubleLongUnsigned(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::OctetString(b) | Data::VisibleString(b) | Data::Utf8String(b) => {
                write_length(b.len(), out);
                out.extend_from_slice(b);
            }
            Data::Bcd(v) | Data::Unsigned(v) | Data::Enum(v) => out.push(*v),
            Data::Integer(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::Long(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::LongUnsigned(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::CompactArray(ca) => ca.encode_body(out),
            Data::Long64(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::Long64Unsigned(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::Float32(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::Float64(v) => out.extend_from_slice(&v.to_be_bytes()),
            Data::DateTime(v) => out.extend_from_slice(&v.to_bytes()),
            Data::Date(v) => out.extend_from_slice(&v.to_bytes()),
            Data::Time(v) => out.extend_from_slice(&v.to_bytes()),
        }
    }

    fn body_len(&self) -> usize {
        if let Some(n) = self.data_type().fixed_len() {
            return n;
        }
        match self {
            Data::Array(items) | Data::Structure(items) => {
                length_len(items.len()) + items.iter().map(Data::encoded_len).sum::<usize>()
            }
            Data::BitString(bs) => length_len(bs.bit_len()) + bs.as_bytes().len(),
            Data::OctetString(b) | Data::VisibleString(b) | Data::Utf8String(b) => {
                length_len(b.len()) + b.len()
            }
            Data::CompactArray(ca) => ca.body_len(),
            // Every other type has a fixed length, handled above.
            _ => 0,
        }
    }
}
