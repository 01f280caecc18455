//! confirmed-service-error (0x0E) and exception-response (0xD8) (Green Book 9.5): a
//! server's refusal of a whole request, as typed values.

use super::codes::{enum_with_unknown, InitiateError, StateError};
use super::ApduError;
use crate::protocol::axdr::reader::Reader;

enum_with_unknown! {
    /// Which confirmed service a ConfirmedServiceError answers (its CHOICE tag).
    pub enum ConfirmedService {
        InitiateError = 1,
        GetStatus = 2,
        GetNameList = 3,
        GetVariableAttribute = 4,
        Read = 5,
        Write = 6,
        GetDataSetAttribute = 7,
        GetTiAttribute = 8,
        ChangeScope = 9,
        Start = 10,
        Stop = 11,
        Resume = 12,
        MakeUsable = 13,
        InitiateLoad = 14,
        LoadSegment = 15,
        TerminateLoad = 16,
        InitiateUpLoad = 17,
        UpLoadSegment = 18,
        TerminateUpLoad = 19,
    }
}

/// ServiceError ::= CHOICE (Green Book 9.5): the error class and its enumerated value.
/// Only `initiate` gets a typed value (it is what an AARE rejection carries); the other
/// classes keep their raw value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ServiceError {
    ApplicationReference(u8),
    HardwareResource(u8),
    VdeStateError(u8),
    /// 0 other, 1 pdu-size, 2 service-unsupported.
    Service(u8),
    Definition(u8),
    Access(u8),
    Initiate(InitiateError),
    LoadDataSet(u8),
    ChangeScope(u8),
    Task(u8),
    Other(u8),
    Unknown {
        class: u8,
        value: u8,
    },
}

impl ServiceError {
    pub(crate) fn from_parts(class: u8, value: u8) -> Self {
        match class {
            0 => Self::ApplicationReference(value),
            1 => Self::HardwareResource(value),
            2 => Self::VdeStateError(value),
            3 => Self::Service(value),
            4 => Self::Definition(value),
            5 => Self::Access(value),
            6 => Self::Initiate(InitiateError::from(value)),
            7 => Self::LoadDataSet(value),
            8 => Self::ChangeScope(value),
            9 => Self::Task(value),
            10 => Self::Other(value),
            class => Self::Unknown { class, value },
        }
    }

    fn parts(self) -> (u8, u8) {
        match self {
            Self::ApplicationReference(v) => (0, v),
            Self::HardwareResource(v) => (1, v),
            Self::VdeStateError(v) => (2, v),
            Self::Service(v) => (3, v),
            Self::Definition(v) => (4, v),
            Self::Access(v) => (5, v),
            Self::Initiate(v) => (6, v.into()),
            Self::LoadDataSet(v) => (7, v),
            Self::ChangeScope(v) => (8, v),
            Self::Task(v) => (9, v),
            Self::Other(v) => (10, v),
            Self::Unknown { class, value } => (class, value),
        }
    }
}

/// confirmed-service-error (0x0E): e.g. `0E 01 06 01` = InitiateError, initiate,
/// dlms-version-too-low.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ConfirmedServiceError {
    pub service: ConfirmedService,
    pub error: ServiceError,
}

impl ConfirmedServiceError {
    pub const TAG: u8 = 0x0E;

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        let [_tag, service, class, value] = r.array::<4>()?;
        Ok(ConfirmedServiceError {
            service: service.into(),
            error: ServiceError::from_parts(class, value),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let (class, value) = self.error.parts();
        out.extend([Self::TAG, self.service.into(), class, value]);
    }
}

/// service-error of an exception-response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum ExceptionServiceError {
    OperationNotPossible,
    ServiceNotSupported,
    OtherReason,
    PduTooLong,
    DecipheringError,
    /// Carries the server's expected invocation counter (Green Book 9.5).
    InvocationCounterError(u32),
    Unknown(u8),
}

/// exception-response (0xD8): the server could not handle the request at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ExceptionResponse {
    pub state_error: StateError,
    pub service_error: ExceptionServiceError,
}

impl ExceptionResponse {
    pub const TAG: u8 = 0xD8;
    const INVOCATION_COUNTER_ERROR: u8 = 6;

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        let [_tag, state, service] = r.array::<3>()?;
        let service_error = match service {
            1 => ExceptionServiceError::OperationNotPossible,
            2 => ExceptionServiceError::ServiceNotSupported,
            3 => ExceptionServiceError::OtherReason,
            4 => ExceptionServiceError::PduTooLong,
            5 => ExceptionServiceError::DecipheringError,
            Self::INVOCATION_COUNTER_ERROR => {
                ExceptionServiceError::InvocationCounterError(r.u32()?)
            }
            other => ExceptionServiceError::Unknown(other),
        };
        Ok(ExceptionResponse {
            state_error: state.into(),
            service_error,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend([Self::TAG, self.state_error.into()]);
        match self.service_error {
            ExceptionServiceError::OperationNotPossible => out.push(1),
            ExceptionServiceError::ServiceNotSupported => out.push(2),
            ExceptionServiceError::OtherReason => out.push(3),
            ExceptionServiceError::PduTooLong => out.push(4),
            ExceptionServiceError::DecipheringError => out.push(5),
            ExceptionServiceError::InvocationCounterError(ic) => {
                out.push(Self::INVOCATION_COUNTER_ERROR);
                out.extend_from_slice(&ic.to_be_bytes());
            }
            ExceptionServiceError::Unknown(v) => out.push(v),
        }
    }
}
