//! DLMS/COSEM application-layer PDUs, logical-name referencing, no ciphering
//! (IEC 62056-5-3 / DLMS UA Green Book 9.4-9.5): AARQ/AARE, RLRQ/RLRE, GET, SET, ACTION,
//! exception-response and confirmed-service-error.
//!
//! Contract: `Apdu::decode` never panics on any input and allocates only within the input
//! and `Limits`; `Apdu::encode` never panics. `decode(encode(x)) == x` for every value in
//! canonical form (an `Unknown(raw)` whose code has a name decodes as the named variant).
//! A server's refusal (data-access-result, AARE rejection, exception-response) is a
//! decoded value, never an `ApduError`. This module must not do I/O or keep session
//! state (invoke ids, block numbers): that belongs to the association in `meter`.

mod aare;
mod aarq;
mod acse;
mod action;
mod ber;
mod codes;
mod descriptor;
mod get;
mod initiate;
mod release;
mod service_error;
mod set;

#[cfg(test)]
mod tests;

use thiserror::Error;

use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{AxdrError, Limits};

pub use aare::{Aare, SourceDiagnostic};
pub use aarq::Aarq;
pub use acse::{
    ApplicationContextName, AuthenticationValue, MechanismName, SecretBytes, UserInformation,
};
pub use action::{ActionRequest, ActionResponse};
pub use codes::{
    AcseServiceProviderDiagnostic, AcseServiceUserDiagnostic, ActionResult, AssociationResult,
    DataAccessResult, InitiateError, ReleaseRequestReason, ReleaseResponseReason, StateError,
};
pub use descriptor::{
    AttributeDescriptor, CaptureObject, EntryDescriptor, InvokeIdAndPriority, MethodDescriptor,
    RangeDescriptor, SelectiveAccess,
};
pub use get::{AttributeWithSelection, DataBlockResult, GetDataResult, GetRequest, GetResponse};
pub use initiate::{Conformance, InitiateRequest, InitiateResponse};
pub use release::{Rlre, Rlrq};
pub use service_error::{
    ConfirmedService, ConfirmedServiceError, ExceptionResponse, ExceptionServiceError, ServiceError,
};
pub use set::{SetRequest, SetResponse};

/// Why bytes are not a valid APDU.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ApduError {
    #[error("empty APDU")]
    Empty,
    #[error("truncated APDU: needed {needed} more byte(s), {available} available")]
    Truncated { needed: usize, available: usize },
    #[error("unknown or unsupported APDU tag 0x{0:02X}")]
    UnknownTag(u8),
    #[error("APDU 0x{tag:02X} choice {choice} is not supported")]
    UnsupportedChoice { tag: u8, choice: u8 },
    #[error("{field}: expected tag 0x{expected:02X}, found 0x{found:02X}")]
    UnexpectedTag {
        field: &'static str,
        expected: u8,
        found: u8,
    },
    #[error("missing mandatory field {field}")]
    Missing { field: &'static str },
    #[error("invalid value in {field}")]
    BadValue { field: &'static str },
    #[error("malformed BER: {what}")]
    BadBer { what: &'static str },
    #[error("list declares {declared} items, limit is {max}")]
    TooManyItems { declared: u64, max: usize },
    #[error("{count} byte(s) after the end of the APDU")]
    TrailingBytes { count: usize },
    #[error("A-XDR data: {0}")]
    Data(AxdrError),
}

impl From<AxdrError> for ApduError {
    fn from(e: AxdrError) -> Self {
        match e {
            AxdrError::Truncated { needed, available } => {
                ApduError::Truncated { needed, available }
            }
            other => ApduError::Data(other),
        }
    }
}

/// Every APDU this agent sends or receives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum Apdu {
    Aarq(Aarq),
    Aare(Aare),
    Rlrq(Rlrq),
    Rlre(Rlre),
    GetRequest(GetRequest),
    GetResponse(GetResponse),
    SetRequest(SetRequest),
    SetResponse(SetResponse),
    ActionRequest(ActionRequest),
    ActionResponse(ActionResponse),
    ExceptionResponse(ExceptionResponse),
    ConfirmedServiceError(ConfirmedServiceError),
}

impl Apdu {
    /// Decode one whole APDU with default `Limits`; bytes after it are an error.
    pub fn decode(bytes: &[u8]) -> Result<Apdu, ApduError> {
        Self::decode_with(bytes, &Limits::default())
    }

    /// Decode one whole APDU, bounding embedded A-XDR data by `limits`.
    pub fn decode_with(bytes: &[u8], limits: &Limits) -> Result<Apdu, ApduError> {
        let tag = *bytes.first().ok_or(ApduError::Empty)?;
        let mut r = Reader::new(bytes);
        let apdu = match tag {
            Aarq::TAG | Aare::TAG | Rlrq::TAG | Rlre::TAG => {
                let (_, contents) = ber::read_tlv(&mut r)?;
                match tag {
                    Aarq::TAG => Apdu::Aarq(Aarq::decode_contents(contents)?),
                    Aare::TAG => Apdu::Aare(Aare::decode_contents(contents)?),
                    Rlrq::TAG => Apdu::Rlrq(Rlrq::decode_contents(contents)?),
                    _ => Apdu::Rlre(Rlre::decode_contents(contents)?),
                }
            }
            GetRequest::TAG => Apdu::GetRequest(GetRequest::decode(&mut r, limits)?),
            GetResponse::TAG => Apdu::GetResponse(GetResponse::decode(&mut r, limits)?),
            SetRequest::TAG => Apdu::SetRequest(SetRequest::decode(&mut r, limits)?),
            SetResponse::TAG => Apdu::SetResponse(SetResponse::decode(&mut r)?),
            ActionRequest::TAG => Apdu::ActionRequest(ActionRequest::decode(&mut r, limits)?),
            ActionResponse::TAG => Apdu::ActionResponse(ActionResponse::decode(&mut r, limits)?),
            ExceptionResponse::TAG => Apdu::ExceptionResponse(ExceptionResponse::decode(&mut r)?),
            ConfirmedServiceError::TAG => {
                Apdu::ConfirmedServiceError(ConfirmedServiceError::decode(&mut r)?)
            }
            other => return Err(ApduError::UnknownTag(other)),
        };
        if !r.is_empty() {
            return Err(ApduError::TrailingBytes {
                count: r.remaining(),
            });
        }
        Ok(apdu)
    }

    /// Append the encoding to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Apdu::Aarq(a) => a.encode(out),
            Apdu::Aare(a) => a.encode(out),
            Apdu::Rlrq(a) => a.encode(out),
            Apdu::Rlre(a) => a.encode(out),
            Apdu::GetRequest(a) => a.encode(out),
            Apdu::GetResponse(a) => a.encode(out),
            Apdu::SetRequest(a) => a.encode(out),
            Apdu::SetResponse(a) => a.encode(out),
            Apdu::ActionRequest(a) => a.encode(out),
            Apdu::ActionResponse(a) => a.encode(out),
            Apdu::ExceptionResponse(a) => a.encode(out),
            Apdu::ConfirmedServiceError(a) => a.encode(out),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}
