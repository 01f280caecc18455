//! Typed errors of the A-XDR decoder. Every variant carries the numbers that explain it.

use thiserror::Error;

/// Why a byte sequence is not a valid A-XDR `Data` value (IEC 62056-6-2 / Blue Book 4.1.5).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AxdrError {
    /// The input ends before the field being read.
    #[error("truncated A-XDR: needed {needed} more byte(s), {available} available")]
    Truncated { needed: usize, available: usize },
    /// The first byte of a value is not a Blue Book data type tag.
    #[error("unknown A-XDR data type tag 0x{0:02X}")]
    UnknownTag(u8),
    /// Arrays/structures (or compact-array type descriptions) nest deeper than allowed.
    #[error("A-XDR nesting deeper than {max} levels")]
    TooDeep { max: usize },
    /// The value holds more elements in total than allowed.
    #[error("A-XDR value has more than {max} elements")]
    TooManyElements { max: usize },
    /// A declared length or count does not fit the limits (or the machine word).
    #[error("A-XDR declared length {declared} exceeds the limit of {limit}")]
    LengthTooLarge { declared: u64, limit: u64 },
    /// A length prefix with an invalid first byte (0x80 = indefinite, or more than 8 length bytes).
    #[error("invalid A-XDR length prefix 0x{0:02X}")]
    InvalidLength(u8),
    /// The whole encoding would exceed `Limits::max_total_bytes`.
    #[error("A-XDR value larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// A compact-array type description names a type that cannot appear there.
    #[error("type 0x{0:02X} is not allowed in a compact-array type description")]
    InvalidTypeDescription(u8),
    /// A value does not match the compact-array type description it is encoded against.
    #[error("value of type 0x{found:02X} does not match compact-array description type 0x{expected:02X}")]
    TypeMismatch { expected: u8, found: u8 },
    /// A compact-array array description declares a different count than the value holds.
    #[error("compact-array description declares {expected} elements, value has {found}")]
    CountMismatch { expected: usize, found: usize },
}
