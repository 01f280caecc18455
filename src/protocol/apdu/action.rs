//! ACTION-Request (0xC3) and ACTION-Response (0xC7), normal only (Green Book 9.5): how a
//! client invokes a method, e.g. Disconnect control (class 70) remote_disconnect/reconnect.

use super::codes::ActionResult;
use super::descriptor::{presence, InvokeIdAndPriority, MethodDescriptor};
use super::get::GetDataResult;
use super::ApduError;
use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{Data, Limits};

const NORMAL: u8 = 1;

/// ACTION-Request-Normal.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActionRequest {
    pub invoke: InvokeIdAndPriority,
    pub method: MethodDescriptor,
    pub parameters: Option<Data>,
}

/// ACTION-Response-Normal: the result and optional return parameters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActionResponse {
    pub invoke: InvokeIdAndPriority,
    pub result: ActionResult,
    pub return_parameters: Option<GetDataResult>,
}

impl ActionRequest {
    pub const TAG: u8 = 0xC3;

    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, ApduError> {
        let [_tag, choice, invoke] = r.array::<3>()?;
        if choice != NORMAL {
            return Err(ApduError::UnsupportedChoice {
                tag: Self::TAG,
                choice,
            });
        }
        let method = MethodDescriptor::decode(r)?;
        let parameters = if presence(r, "method-invocation-parameters flag")? {
            Some(Data::decode_from(r, limits)?)
        } else {
            None
        };
        Ok(ActionRequest {
            invoke: InvokeIdAndPriority(invoke),
            method,
            parameters,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend([Self::TAG, NORMAL, self.invoke.0]);
        self.method.encode(out);
        match &self.parameters {
            Some(p) => {
                out.push(1);
                p.encode(out);
            }
            None => out.push(0),
        }
    }
}

impl ActionResponse {
    pub const TAG: u8 = 0xC7;

    pub(crate) fn decode(r: &mut Reader<'_>, limits: &Limits) -> Result<Self, ApduError> {
        let [_tag, choice, invoke, result] = r.array::<4>()?;
        if choice != NORMAL {
            return Err(ApduError::UnsupportedChoice {
                tag: Self::TAG,
                choice,
            });
        }
        // Design: a PDU that ends right after the result (no 0x00 "absent" flag) is read
        // as "no return parameters": the u9n dlms-cosem 25.1.0 server encodes it that way.
        // We always write the flag, as A-XDR OPTIONAL requires.
        let return_parameters = if r.is_empty() || !presence(r, "return-parameters flag")? {
            None
        } else {
            Some(GetDataResult::decode(r, limits)?)
        };
        Ok(ActionResponse {
            invoke: InvokeIdAndPriority(invoke),
            result: result.into(),
            return_parameters,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend([Self::TAG, NORMAL, self.invoke.0, self.result.into()]);
        match &self.return_parameters {
            Some(p) => {
                out.push(1);
                p.encode(out);
            }
            None => out.push(0),
        }
    }
}
