//! SET-Request (0xC1) and SET-Response (0xC5), normal only (Green Book 9.5). The block and
//! list variants are refused with `UnsupportedChoice`.

use super::codes::DataAccessResult;
use super::descriptor::{AttributeDescriptor, InvokeIdAndPriority, SelectiveAccess};
use super::ApduError;
use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{Data, Limits};

const NORMAL: u8 = 1;

/// SET-Request-Normal: write `value` to one attribute.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SetRequest {
    pub invoke: InvokeIdAndPriority,
    pub attribute: AttributeDescriptor,
    pub access: Option<SelectiveAccess>,
    pub value: Data,
}

/// SET-Response-Normal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SetResponse {
    pub invoke: InvokeIdAndPriority,
    pub result: DataAccessResult,
}

impl SetRequest {
    pub const TAG: u8 = 0xC1;

    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, ApduError> {
        let [_tag, choice, invoke] = r.array::<3>()?;
        if choice != NORMAL {
            return Err(ApduError::UnsupportedChoice {
                tag: Self::TAG,
                choice,
            });
        }
        Ok(SetRequest {
            invoke: InvokeIdAndPriority(invoke),
            attribute: AttributeDescriptor::decode(r)?,
            access: SelectiveAccess::decode_optional(r, limits)?,
            value: Data::decode_from(r, limits)?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend([Self::TAG, NORMAL, self.invoke.0]);
        self.attribute.encode(out);
        SelectiveAccess::encode_optional(&self.access, out);
        self.value.encode(out);
    }
}

impl SetResponse {
    pub const TAG: u8 = 0xC5;

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        let [_tag, choice, invoke] = r.array::<3>()?;
        if choice != NORMAL {
            return Err(ApduError::UnsupportedChoice {
                tag: Self::TAG,
                choice,
            });
        }
        Ok(SetResponse {
            invoke: InvokeIdAndPriority(invoke),
            result: r.u8()?.into(),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend([Self::TAG, NORMAL, self.invoke.0, self.result.into()]);
    }
}
