//! The bounded A-XDR decoder: every read is length-checked, every count is checked against
//! `Limits` before anything is allocated, and recursion is capped by `max_depth`.

use super::compact::{CompactArray, TypeDescription};
use super::datetime::{Date, DateTime, Time};
use super::error::AxdrError;
use super::length::{read_length, read_length_bounded};
use super::reader::Reader;
use super::{BitString, Data, DataType, Limits};

impl Data {
    /// Decode one value from the start of `bytes`; returns it and the number of bytes used.
    /// Bytes after the value are left alone (the caller decides whether they are an error).
    pub fn decode(bytes: &[u8], limits: &Limits) -> Result<(Data, usize), AxdrError> {
        let mut r = Reader::new(bytes);
        let data = Data::decode_from(&mut r, limits)?;
        Ok((data, r.pos()))
    }

    /// Decode one value from a reader shared with an enclosing PDU decoder.
    pub(crate) fn decode_from(r: &mut Reader<'_>, limits: &Limits) -> Result<Data, AxdrError> {
        Decoder::new(*limits, r.pos()).value(r, 1)
    }
}

/// Decoding state for one top-level value: the limits and what has been spent of them.
pub(crate) struct Decoder {
    limits: Limits,
    /// `Data` nodes (and compact-array description nodes) produced so far.
    elements: usize,
    /// Reader position where this value starts, for `max_total_bytes`.
    start: usize,
}

impl Decoder {
    pub(crate) fn new(limits: Limits, start: usize) -> Self {
        Decoder {
            limits,
            elements: 0,
            start,
        }
    }

    /// Take `n` bytes, refusing to let the value grow past `max_total_bytes`.
    pub(crate) fn take<'a>(&self, r: &mut Reader<'a>, n: usize) -> Result<&'a [u8], AxdrError> {
        let used = r.pos().saturating_sub(self.start);
        let limit = self.limits.max_total_bytes;
        if used.checked_add(n).is_none_or(|end| end > limit) {
            return Err(AxdrError::TooLarge { limit });
        }
        r.take(n)
    }

    fn fixed<const N: usize>(&self, r: &mut Reader<'_>) -> Result<[u8; N], AxdrError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(r, N)?);
        Ok(out)
    }

    pub(crate) fn check_depth(&self, depth: usize) -> Result<(), AxdrError> {
        if depth > self.limits.max_depth {
            return Err(AxdrError::TooDeep {
                max: self.limits.max_depth,
            });
        }
        Ok(())
    }

    /// Spend `n` elements of the budget.
    pub(crate) fn spend(&mut self, n: u64) -> Result<(), AxdrError> {
        let max = self.limits.max_elements;
        let left = max.saturating_sub(self.elements) as u64;
        if n > left {
            return Err(AxdrError::TooManyElements { max });
        }
        // n <= left <= max, so this neither truncates nor overflows.
        self.elements += n as usize;
        Ok(())
    }

    /// Check a declared element count against the remaining budget without spending it
    /// (each element spends its own node when decoded).
    pub(crate) fn check_count(&self, declared: u64) -> Result<usize, AxdrError> {
        let max = self.limits.max_elements;
        let left = max.saturating_sub(self.elements) as u64;
        if declared > left {
            return Err(AxdrError::TooManyElements { max });
        }
        Ok(declared as usize)
    }

    /// A tagged value: tag byte then body.
    pub(crate) fn value(&mut self, r: &mut Reader<'_>, depth: usize) -> Result<Data, AxdrError> {
        self.check_depth(depth)?;
        let tag = self.fixed::<1>(r)?[0];
        let ty = DataType::from_tag(tag).ok_or(AxdrError::UnknownTag(tag))?;
        self.body(r, ty, depth)
    }

    /// The body of a value whose type is already known (from its tag or from a
    /// compact-array type description). Spends one element for the node itself.
    pub(crate) fn body(
        &mut self,
        r: &mut Reader<'_>,
        ty: DataType,
        depth: usize,
    ) -> Result<Data, AxdrError> {
        self.spend(1)?;
        Ok(match ty {
            DataType::NullData => Data::NullData,
            DataType::DontCare => Data::DontCare,
            DataType::Array | DataType::Structure => {
                let count = self.check_count(read_length(r)?)?;
                // Every element is at least one byte, so the input bounds the allocation too.
                let mut items = Vec::with_capacity(count.min(r.remaining()));
                for _ in 0..count {
                    items.push(self.value(r, depth + 1)?);
                }
                if ty == DataType::Array {
                    Data::Array(items)
                } else {
                    Data::Structure(items)
                }
            }
            DataType::Boolean => Data::Boolean(self.fixed::<1>(r)?[0] != 0),
            DataType::BitString => Data::BitString(self.bit_string(r)?),
            DataType::DoubleLong => Data::DoubleLong(i32::from_be_bytes(self.fixed(r)?)),
            DataType::DoubleLongUnsigned => {
                Data::DoubleLongUnsigned(u32::from_be_bytes(self.fixed(r)?))
            }
            DataType::OctetString => Data::OctetString(self.string(r)?),
            DataType::VisibleString => Data::VisibleString(self.string(r)?),
            DataType::Utf8String => Data::Utf8String(self.string(r)?),
            DataType::Bcd => Data::Bcd(self.fixed::<1>(r)?[0]),
            DataType::Integer => Data::Integer(i8::from_be_bytes(self.fixed(r)?)),
            DataType::Long => Data::Long(i16::from_be_bytes(self.fixed(r)?)),
            DataType::Unsigned => Data::Unsigned(self.fixed::<1>(r)?[0]),
            DataType::LongUnsigned => Data::LongUnsigned(u16::from_be_bytes(self.fixed(r)?)),
            DataType::CompactArray => Data::CompactArray(self.compact_array(r, depth)?),
            DataType::Long64 => Data::Long64(i64::from_be_bytes(self.fixed(r)?)),
            DataType::Long64Unsigned => Data::Long64Unsigned(u64::from_be_bytes(self.fixed(r)?)),
            DataType::Enum => Data::Enum(self.fixed::<1>(r)?[0]),
            DataType::Float32 => Data::Float32(f32::from_be_bytes(self.fixed(r)?)),
            DataType::Float64 => Data::Float64(f64::from_be_bytes(self.fixed(r)?)),
            DataType::DateTime => Data::DateTime(DateTime::from_bytes(self.fixed(r)?)),
            DataType::Date => Data::Date(Date::from_bytes(self.fixed(r)?)),
            DataType::Time => Data::Time(Time::from_bytes(self.fixed(r)?)),
        })
    }

    /// Length-prefixed bytes (octet-, visible- and utf8-string).
    fn string(&self, r: &mut Reader<'_>) -> Result<Vec<u8>, AxdrError> {
        let len = read_length_bounded(r, self.limits.max_total_bytes)?;
        Ok(self.take(r, len)?.to_vec())
    }

    /// bit-string: the length counts bits (Blue Book 4.1.5), the bytes follow.
    fn bit_string(&self, r: &mut Reader<'_>) -> Result<BitString, AxdrError> {
        let bits = read_length(r)?;
        let byte_len = bits / 8 + u64::from(bits % 8 != 0);
        let limit = self.limits.max_total_bytes;
        let (Ok(bit_len), Ok(byte_len)) = (usize::try_from(bits), usize::try_from(byte_len)) else {
            return Err(AxdrError::LengthTooLarge {
                declared: bits,
                limit: limit as u64,
            });
        };
        if byte_len > limit {
            return Err(AxdrError::LengthTooLarge {
                declared: bits,
                limit: limit as u64,
            });
        }
        let bytes = self.take(r, byte_len)?.to_vec();
        Ok(BitString { bit_len, bytes })
    }

    /// compact-array (Blue Book 4.1.5): type description, then the contents as a
    /// length-prefixed octet string of untagged values. The contents are checked here
    /// against the description so a malformed compact-array is refused at decode time.
    fn compact_array(
        &mut self,
        r: &mut Reader<'_>,
        depth: usize,
    ) -> Result<CompactArray, AxdrError> {
        let description = TypeDescription::decode(self, r, depth + 1)?;
        let contents = self.string(r)?;
        let mut inner = Reader::new(&contents);
        while !inner.is_empty() {
            let before = inner.pos();
            self.untagged(&mut inner, &description, depth + 1)?;
            if inner.pos() == before {
                // A zero-size element type cannot fill non-empty contents.
                return Err(AxdrError::InvalidTypeDescription(description.tag()));
            }
        }
        Ok(CompactArray::from_parts(description, contents))
    }

    /// One untagged value laid out by `desc` (compact-array contents).
    pub(crate) fn untagged(
        &mut self,
        r: &mut Reader<'_>,
        desc: &TypeDescription,
        depth: usize,
    ) -> Result<Data, AxdrError> {
        self.check_depth(depth)?;
        match desc {
            TypeDescription::Simple(
                ty @ (DataType::Array | DataType::Structure | DataType::CompactArray),
            ) => Err(AxdrError::InvalidTypeDescription(ty.tag())),
            TypeDescription::Simple(ty) => self.body(r, *ty, depth),
            TypeDescription::Array { count, element } => {
                self.spend(1)?;
                let count = self.check_count(u64::from(*count))?;
                let mut items = Vec::with_capacity(count.min(r.remaining()));
                for _ in 0..count {
                    items.push(self.untagged(r, element, depth + 1)?);
                }
                Ok(Data::Array(items))
            }
            TypeDescription::Structure(fields) => {
                self.spend(1)?;
                let mut items = Vec::with_capacity(fields.len());
                for field in fields {
                    items.push(self.untagged(r, field, depth + 1)?);
                }
                Ok(Data::Structure(items))
            }
        }
    }
}
