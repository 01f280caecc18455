//! GET-Request (0xC0) and GET-Response (0xC4), logical-name referencing (Green Book 9.5):
//! normal, next/with-datablock (block transfer) and with-list.

use super::codes::DataAccessResult;
use super::descriptor::{AttributeDescriptor, InvokeIdAndPriority, SelectiveAccess};
use super::ApduError;
use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{read_length, read_length_bounded, write_length, Data, Limits};

/// One attribute of a GET-Request-With-List.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttributeWithSelection {
    pub attribute: AttributeDescriptor,
    pub access: Option<SelectiveAccess>,
}

/// GET-Request.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum GetRequest {
    Normal {
        invoke: InvokeIdAndPriority,
        attribute: AttributeDescriptor,
        access: Option<SelectiveAccess>,
    },
    /// Ask for the block after `block_number` (the last one received).
    Next {
        invoke: InvokeIdAndPriority,
        block_number: u32,
    },
    WithList {
        invoke: InvokeIdAndPriority,
        attributes: Vec<AttributeWithSelection>,
    },
}

/// Get-Data-Result: the value, or why the meter refused it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum GetDataResult {
    Data(Data),
    DataAccessResult(DataAccessResult),
}

/// The result part of a DataBlock-G.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum DataBlockResult {
    /// A slice of the encoded `Data`; concatenate all blocks, then decode.
    RawData(Vec<u8>),
    DataAccessResult(DataAccessResult),
}

/// GET-Response.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum GetResponse {
    Normal {
        invoke: InvokeIdAndPriority,
        result: GetDataResult,
    },
    WithDataBlock {
        invoke: InvokeIdAndPriority,
        last_block: bool,
        block_number: u32,
        result: DataBlockResult,
    },
    WithList {
        invoke: InvokeIdAndPriority,
        results: Vec<GetDataResult>,
    },
}

const NORMAL: u8 = 1;
const NEXT_OR_BLOCK: u8 = 2;
const WITH_LIST: u8 = 3;

/// A SEQUENCE OF count, checked against `max_elements` before anything is allocated.
pub(crate) fn list_count(r: &mut Reader<'_>, limits: &Limits) -> Result<usize, ApduError> {
    let declared = read_length(r)?;
    match usize::try_from(declared) {
        Ok(n) if n <= limits.max_elements => Ok(n),
        _ => Err(ApduError::TooManyItems {
            declared,
            max: limits.max_elements,
        }),
    }
}

impl GetRequest {
    pub const TAG: u8 = 0xC0;

    pub fn invoke(&self) -> InvokeIdAndPriority {
        match self {
            Self::Normal { invoke, .. }
            | Self::Next { invoke, .. }
            | Self::WithList { invoke, .. } => *invoke,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, ApduError> {
        let [_tag, choice, invoke] = r.array::<3>()?;
        let invoke = InvokeIdAndPriority(invoke);
        Ok(match choice {
            NORMAL => Self::Normal {
                invoke,
                attribute: AttributeDescriptor::decode(r)?,
                access: SelectiveAccess::decode_optional(r, limits)?,
            },
            NEXT_OR_BLOCK => Self::Next {
                invoke,
                block_number: r.u32()?,
            },
            WITH_LIST => {
                let n = list_count(r, limits)?;
                let mut attributes = Vec::with_capacity(n.min(r.remaining()));
                for _ in 0..n {
                    attributes.push(AttributeWithSelection {
                        attribute: AttributeDescriptor::decode(r)?,
                        access: SelectiveAccess::decode_optional(r, limits)?,
                    });
                }
                Self::WithList { invoke, attributes }
            }
            choice => {
                return Err(ApduError::UnsupportedChoice {
                    tag: Self::TAG,
                    choice,
                })
            }
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(Self::TAG);
        match self {
            Self::Normal {
                invoke,
                attribute,
                access,
            } => {
                out.extend([NORMAL, invoke.0]);
                attribute.encode(out);
                SelectiveAccess::encode_optional(access, out);
            }
            Self::Next {
                invoke,
                block_number,
            } => {
                out.extend([NEXT_OR_BLOCK, invoke.0]);
                out.extend_from_slice(&block_number.to_be_bytes());
            }
            Self::WithList { invoke, attributes } => {
                out.extend([WITH_LIST, invoke.0]);
                write_length(attributes.len(), out);
                for a in attributes {
                    a.attribute.encode(out);
                    SelectiveAccess::encode_optional(&a.access, out);
                }
            }
        }
    }
}

impl GetDataResult {
    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, ApduError> {
        match r.u8()? {
            0 => Ok(Self::Data(Data::decode_from(r, limits)?)),
            1 => Ok(Self::DataAccessResult(r.u8()?.into())),
            _ => Err(ApduError::BadValue {
                field: "Get-Data-Result choice",
            }),
        }
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Self::Data(d) => {
                out.push(0);
                d.encode(out);
            }
            Self::DataAccessResult(e) => out.extend([1, u8::from(*e)]),
        }
    }
}

impl GetResponse {
    pub const TAG: u8 = 0xC4;

    pub fn invoke(&self) -> InvokeIdAndPriority {
        match self {
            Self::Normal { invoke, .. }
            | Self::WithDataBlock { invoke, .. }
            | Self::WithList { invoke, .. } => *invoke,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, ApduError> {
        let [_tag, choice, invoke] = r.array::<3>()?;
        let invoke = InvokeIdAndPriority(invoke);
        Ok(match choice {
            NORMAL => Self::Normal {
                invoke,
                result: GetDataResult::decode(r, limits)?,
            },
            NEXT_OR_BLOCK => {
                let last_block = r.u8()? != 0;
                let block_number = r.u32()?;
                let result = match r.u8()? {
                    0 => {
                        let len = read_length_bounded(r, limits.max_total_bytes)?;
                        DataBlockResult::RawData(r.take(len)?.to_vec())
                    }
                    1 => DataBlockResult::DataAccessResult(r.u8()?.into()),
                    _ => {
                        return Err(ApduError::BadValue {
                            field: "DataBlock-G result choice",
                        })
                    }
                };
                Self::WithDataBlock {
                    invoke,
                    last_block,
                    block_number,
                    result,
                }
            }
            WITH_LIST => {
                let n = list_count(r, limits)?;
                let mut results = Vec::with_capacity(n.min(r.remaining()));
                for _ in 0..n {
                    results.push(GetDataResult::decode(r, limits)?);
                }
                Self::WithList { invoke, results }
            }
            choice => {
                return Err(ApduError::UnsupportedChoice {
                    tag: Self::TAG,
                    choice,
                })
            }
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(Self::TAG);
        match self {
            Self::Normal { invoke, result } => {
                out.extend([NORMAL, invoke.0]);
                result.encode(out);
            }
            Self::WithDataBlock {
                invoke,
                last_block,
                block_number,
                result,
            } => {
                out.extend([NEXT_OR_BLOCK, invoke.0, u8::from(*last_block)]);
                out.extend_from_slice(&block_number.to_be_bytes());
                match result {
                    DataBlockResult::RawData(raw) => {
                        out.push(0);
                        write_length(raw.len(), out);
                        out.extend_from_slice(raw);
                    }
                    DataBlockResult::DataAccessResult(e) => out.extend([1, u8::from(*e)]),
                }
            }
            Self::WithList { invoke, results } => {
                out.extend([WITH_LIST, invoke.0]);
                write_length(results.len(), out);
                for r in results {
                    r.encode(out);
                }
            }
        }
    }
}
