//! A-XDR data (IEC 62056-6-2 / DLMS UA Blue Book 4.1.5): every `Data` type, bounded and total.
//!
//! Contract: `Data::decode` never panics on any input, allocates no more than the input
//! and `Limits` allow, and reports a typed `AxdrError`; `Data::encode` never panics and
//! appends exactly `encoded_len()` bytes. For every value, `decode(encode(x)) == x`.
//! This module must not do I/O, read clocks, or interpret what a value means.

mod compact;
mod datetime;
mod decode;
mod encode;
mod error;
mod json;
mod length;
pub(crate) mod reader;

#[cfg(test)]
pub(crate) mod tests;

pub use compact::{CompactArray, TypeDescription};
pub use datetime::{
    ClockStatus, Date, DateTime, Time, DAY_LAST, DAY_SECOND_LAST, DEVIATION_NOT_SPECIFIED,
    MONTH_DST_BEGIN, MONTH_DST_END, NOT_SPECIFIED, YEAR_NOT_SPECIFIED,
};
pub use error::AxdrError;
pub use json::{hex, type_name};
pub(crate) use length::{read_length, read_length_bounded, write_length};

/// Bounds applied while decoding untrusted bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deepest nesting of arrays/structures (a top-level scalar is depth 1).
    pub max_depth: usize,
    /// Most `Data` nodes one decode may produce, scalars included.
    pub max_elements: usize,
    /// Most bytes one encoded value may span.
    pub max_total_bytes: usize,
}

impl Default for Limits {
    // Design: a load-profile buffer (array of structures of ~10 values) reassembled from
    // block transfer reaches tens of kilobytes; these bounds leave room for that while
    // capping memory at a few MiB per decode (a `Data` node is 32 bytes).
    fn default() -> Self {
        Limits {
            max_depth: 16,
            max_elements: 65_536,
            max_total_bytes: 1 << 20,
        }
    }
}

/// Blue Book data type tags (IEC 62056-6-2 clause 4.1.5, `Data ::= CHOICE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum DataType {
    NullData = 0,
    Array = 1,
    Structure = 2,
    Boolean = 3,
    BitString = 4,
    DoubleLong = 5,
    DoubleLongUnsigned = 6,
    OctetString = 9,
    VisibleString = 10,
    Utf8String = 12,
    Bcd = 13,
    Integer = 15,
    Long = 16,
    Unsigned = 17,
    LongUnsigned = 18,
    CompactArray = 19,
    Long64 = 20,
    Long64Unsigned = 21,
    Enum = 22,
    Float32 = 23,
    Float64 = 24,
    DateTime = 25,
    Date = 26,
    Time = 27,
    DontCare = 255,
}

impl DataType {
    /// Every tag, sorted by value.
    pub const ALL: [DataType; 25] = [
        DataType::NullData,
        DataType::Array,
        DataType::Structure,
        DataType::Boolean,
        DataType::BitString,
        DataType::DoubleLong,
        DataType::DoubleLongUnsigned,
        DataType::OctetString,
        DataType::VisibleString,
        DataType::Utf8String,
        DataType::Bcd,
        DataType::Integer,
        DataType::Long,
        DataType::Unsigned,
        DataType::LongUnsigned,
        DataType::CompactArray,
        DataType::Long64,
        DataType::Long64Unsigned,
        DataType::Enum,
        DataType::Float32,
        DataType::Float64,
        DataType::DateTime,
        DataType::Date,
        DataType::Time,
        DataType::DontCare,
    ];

    pub fn from_tag(tag: u8) -> Option<DataType> {
        Self::ALL.iter().copied().find(|t| t.tag() == tag)
    }

    pub fn tag(self) -> u8 {
        self as u8
    }

    /// Size of the value after the tag for fixed-size types; `None` for variable-size ones.
    pub fn fixed_len(self) -> Option<usize> {
        use DataType::*;
        Some(match self {
            NullData | DontCare => 0,
            Boolean | Bcd | Integer | Unsigned | Enum => 1,
            Long | LongUnsigned => 2,
            DoubleLong | DoubleLongUnsigned | Float32 => 4,
            Long64 | Long64Unsigned | Float64 => 8,
            DateTime => datetime::DateTime::LEN,
            Date => datetime::Date::LEN,
            Time => datetime::Time::LEN,
            Array | Structure | BitString | OctetString | VisibleString | Utf8String
            | CompactArray => return None,
        })
    }
}

/// bit-string: a length in bits and the bytes holding them, first bit in the MSB of byte 0.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BitString {
    bit_len: usize,
    bytes: Vec<u8>,
}

impl BitString {
    /// `None` unless `bytes.len()` is exactly `ceil(bit_len / 8)`. Unused trailing bits are
    /// kept as given so a decoded value re-encodes to the same bytes.
    pub fn new(bytes: Vec<u8>, bit_len: usize) -> Option<BitString> {
        (bytes.len() == bit_len.div_ceil(8)).then_some(BitString { bit_len, bytes })
    }

    pub fn from_bits(bits: &[bool]) -> BitString {
        let mut bytes = vec![0u8; bits.len().div_ceil(8)];
        for (i, _) in bits.iter().enumerate().filter(|(_, b)| **b) {
            if let Some(byte) = bytes.get_mut(i / 8) {
                *byte |= 0x80 >> (i % 8);
            }
        }
        BitString {
            bit_len: bits.len(),
            bytes,
        }
    }

    pub fn bit_len(&self) -> usize {
        self.bit_len
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Bit `i` (0 = MSB of the first byte); `None` past the end.
    pub fn get(&self, i: usize) -> Option<bool> {
        if i >= self.bit_len {
            return None;
        }
        self.bytes.get(i / 8).map(|b| b & (0x80 >> (i % 8)) != 0)
    }
}

/// One A-XDR value. Strings are kept as bytes: a meter's malformed text is data to show,
/// not a reason to drop the whole response.
#[derive(Debug, Clone)]
pub enum Data {
    NullData,
    Array(Vec<Data>),
    Structure(Vec<Data>),
    /// Any non-zero byte decodes as `true`; `true` encodes as 0x01.
    Boolean(bool),
    BitString(BitString),
    DoubleLong(i32),
    DoubleLongUnsigned(u32),
    OctetString(Vec<u8>),
    VisibleString(Vec<u8>),
    Utf8String(Vec<u8>),
    /// One raw byte (Blue Book: `bcd [13] Integer8`), two BCD digits.
    Bcd(u8),
    Integer(i8),
    Long(i16),
    Unsigned(u8),
    LongUnsigned(u16),
    CompactArray(CompactArray),
    Long64(i64),
    Long64Unsigned(u64),
    Enum(u8),
    Float32(f32),
    Float64(f64),
    DateTime(DateTime),
    Date(Date),
    Time(Time),
    DontCare,
}

/// Equality is encoding equality: floats compare by bit pattern, so `NaN == NaN` and
/// `0.0 != -0.0`, which makes `Data` a lawful `Eq` and round-trip tests meaningful.
impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        use Data::*;
        match (self, other) {
            (NullData, NullData) | (DontCare, DontCare) => true,
            (Array(a), Array(b)) | (Structure(a), Structure(b)) => a == b,
            (Boolean(a), Boolean(b)) => a == b,
            (BitString(a), BitString(b)) => a == b,
            (DoubleLong(a), DoubleLong(b)) => a == b,
            (DoubleLongUnsigned(a), DoubleLongUnsigned(b)) => a == b,
            (OctetString(a), OctetString(b))
            | (VisibleString(a), VisibleString(b))
            | (Utf8String(a), Utf8String(b)) => a == b,
            (Bcd(a), Bcd(b)) | (Unsigned(a), Unsigned(b)) | (Enum(a), Enum(b)) => a == b,
            (Integer(a), Integer(b)) => a == b,
            (Long(a), Long(b)) => a == b,
            (LongUnsigned(a), LongUnsigned(b)) => a == b,
            (CompactArray(a), CompactArray(b)) => a == b,
            (Long64(a), Long64(b)) => a == b,
            (Long64Unsigned(a), Long64Unsigned(b)) => a == b,
            (Float32(a), Float32(b)) => a.to_bits() == b.to_bits(),
            (Float64(a), Float64(b)) => a.to_bits() == b.to_bits(),
            (DateTime(a), DateTime(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            (Time(a), Time(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Data {}

impl Data {
    pub fn data_type(&self) -> DataType {
        match self {
            Data::NullData => DataType::NullData,
            Data::Array(_) => DataType::Array,
            Data::Structure(_) => DataType::Structure,
            Data::Boolean(_) => DataType::Boolean,
            Data::BitString(_) => DataType::BitString,
            Data::DoubleLong(_) => DataType::DoubleLong,
            Data::DoubleLongUnsigned(_) => DataType::DoubleLongUnsigned,
            Data::OctetString(_) => DataType::OctetString,
            Data::VisibleString(_) => DataType::VisibleString,
            Data::Utf8String(_) => DataType::Utf8String,
            Data::Bcd(_) => DataType::Bcd,
            Data::Integer(_) => DataType::Integer,
            Data::Long(_) => DataType::Long,
            Data::Unsigned(_) => DataType::Unsigned,
            Data::LongUnsigned(_) => DataType::LongUnsigned,
            Data::CompactArray(_) => DataType::CompactArray,
            Data::Long64(_) => DataType::Long64,
            Data::Long64Unsigned(_) => DataType::Long64Unsigned,
            Data::Enum(_) => DataType::Enum,
            Data::Float32(_) => DataType::Float32,
            Data::Float64(_) => DataType::Float64,
            Data::DateTime(_) => DataType::DateTime,
            Data::Date(_) => DataType::Date,
            Data::Time(_) => DataType::Time,
            Data::DontCare => DataType::DontCare,
        }
    }

    /// The value of any integer type (integer, long, ..., long64-unsigned, enum), widened.
    pub fn as_integer(&self) -> Option<i128> {
        Some(match *self {
            Data::Integer(v) => v.into(),
            Data::Long(v) => v.into(),
            Data::DoubleLong(v) => v.into(),
            Data::Long64(v) => v.into(),
            Data::Unsigned(v) | Data::Enum(v) => v.into(),
            Data::LongUnsigned(v) => v.into(),
            Data::DoubleLongUnsigned(v) => v.into(),
            Data::Long64Unsigned(v) => v.into(),
            _ => return None,
        })
    }

    /// The bytes of an octet-string, visible-string or utf8-string.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Data::OctetString(b) | Data::VisibleString(b) | Data::Utf8String(b) => Some(b),
            _ => None,
        }
    }

    /// The elements of an array or structure.
    pub fn as_elements(&self) -> Option<&[Data]> {
        match self {
            Data::Array(v) | Data::Structure(v) => Some(v),
            _ => None,
        }
    }

    /// A date-time, either typed or as the 12-byte octet-string most meters use for the
    /// Clock `time` attribute (Blue Book 4.1.6.1 allows both).
    pub fn as_date_time(&self) -> Option<DateTime> {
        match self {
            Data::DateTime(dt) => Some(*dt),
            Data::OctetString(b) => DateTime::from_slice(b),
            _ => None,
        }
    }
}
