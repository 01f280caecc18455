//! `MeterError`: why a meter session failed, with the data an operator needs and a hint
//! on what to try. A meter's refusal of one attribute is not here: it is a
//! `DataAccessResult` value inside `Ok` (see `Session::get`).

use thiserror::Error;

use crate::profile::AttributeRef;
use crate::protocol::apdu::{
    ApduError, AssociationResult, ConfirmedServiceError, DataAccessResult, ExceptionResponse,
    SourceDiagnostic,
};
use crate::protocol::hdlc::FailReason;
use crate::protocol::wrapper::WrapperError;
use crate::transport::TransportError;

/// A failure of a meter session (association, request, release).
#[derive(Debug, Error)]
pub enum MeterError {
    /// Nothing valid came back while connecting: wrong address, baud rate, wiring, or
    /// the meter is off.
    #[error("no answer at {address} on {link}: check the address, baud rate and wiring, or try `probe --autodetect`")]
    NoAnswer { link: String, address: String },

    /// The meter refused the LLS password (AARE: authentication-failure).
    #[error("the meter refused the password of client {client}: check this meter's password file (and that client {client} is the one the password belongs to)")]
    WrongPassword { client: u8 },

    /// The meter wants a password for this client and none was given.
    #[error("the meter requires a password for client {client}: set `password_file` for this meter, or use the public client 16")]
    PasswordRequired { client: u8 },

    /// The meter refused the association for another reason.
    #[error("association refused ({result:?}, {diagnostic:?}{}): check the client address, the referencing (LN) and the proposed conformance", initiate.map(|e| format!(", {:?}", e.error)).unwrap_or_default())]
    AssociationRefused {
        result: AssociationResult,
        diagnostic: SourceDiagnostic,
        /// The xDLMS InitiateRequest refusal, when the AARE carried one.
        initiate: Option<ConfirmedServiceError>,
    },

    /// The meter has no such object (data-access-result object-undefined).
    #[error("object {attr} is not defined in this meter: check the profile entry, or list the meter's objects with `probe --list-objects`")]
    ObjectNotFound { attr: AttributeRef },

    /// The meter refused one attribute for another reason.
    #[error("the meter refused {attr}: {result:?}")]
    Refused {
        attr: AttributeRef,
        result: DataAccessResult,
    },

    /// The meter could not handle a request at all (exception-response).
    #[error("the meter could not handle the request: {:?}, {:?}", .0.state_error, .0.service_error)]
    Exception(ExceptionResponse),

    /// The meter answered with a confirmed-service-error.
    #[error("the meter refused the service: {:?} {:?}", .0.service, .0.error)]
    ServiceError(ConfirmedServiceError),

    /// The HDLC link failed after its bounded retries (the meter stopped answering, or
    /// answered out of sequence).
    #[error("HDLC link to {link} failed: {reason}")]
    Link { link: String, reason: FailReason },

    /// The wrapper stream is out of step (bad version or length): the connection must be
    /// closed.
    #[error("wrapper stream from {link} is unusable: {error}")]
    Wrapper { link: String, error: WrapperError },

    /// The byte link failed (port vanished, peer closed, read error).
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// The meter's answer is not a valid APDU.
    #[error("undecodable answer from the meter: {0}")]
    Protocol(#[from] ApduError),

    /// A valid APDU that does not answer what was asked.
    #[error("unexpected answer from the meter: expected {expected}, got {found}")]
    Unexpected {
        expected: &'static str,
        found: String,
    },

    /// An answer carrying another request's invoke id.
    #[error("answer carries invoke id {found}, the request had {expected}")]
    InvokeIdMismatch { expected: u8, found: u8 },

    /// Block transfer out of order.
    #[error("block transfer out of order: expected block {expected}, got {found}")]
    BlockSequence { expected: u32, found: u32 },

    /// A request or response exceeds a bound (PDU size, total transfer size, block count).
    #[error("{what} exceeds the limit of {limit}: use selective access or raise the limit")]
    TooLarge { what: &'static str, limit: usize },

    /// The session cannot be used any more (an earlier failure, or released).
    #[error("the association is no longer usable ({reason}): open a new session")]
    NotAssociated { reason: String },
}

impl MeterError {
    /// The error for a refused attribute: `ObjectNotFound` for object-undefined,
    /// `Refused` otherwise. For callers that want one error type per item.
    pub fn refused(attr: AttributeRef, result: DataAccessResult) -> Self {
        match result {
            DataAccessResult::ObjectUndefined => MeterError::ObjectNotFound { attr },
            result => MeterError::Refused { attr, result },
        }
    }

    /// Whether the association is lost after this error (the link is down, or its state
    /// is unknown), so that later requests cannot be answered.
    pub fn is_fatal(&self) -> bool {
        matches!(
            self,
            MeterError::NoAnswer { .. }
                | MeterError::Link { .. }
                | MeterError::Transport(_)
                | MeterError::Wrapper { .. }
                | MeterError::NotAssociated { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::obis::ObisCode;

    #[test]
    fn no_answer_says_where_and_what_to_try() {
        let e = MeterError::NoAnswer {
            link: "serial /dev/ttyUSB0 9600 8N1".into(),
            address: "physical address 17".into(),
        };
        let text = e.to_string();
        assert!(
            text.starts_with("no answer at physical address 17 on serial /dev/ttyUSB0 9600 8N1"),
            "{text}"
        );
        assert!(text.contains("probe --autodetect"), "{text}");
        assert!(e.is_fatal());
    }

    #[test]
    fn refusals_map_object_undefined_to_not_found() {
        let attr = AttributeRef {
            class_id: 3,
            obis: ObisCode::new(1, 0, 1, 8, 0, 255),
            attribute: 2,
        };
        let e = MeterError::refused(attr, DataAccessResult::ObjectUndefined);
        assert!(matches!(e, MeterError::ObjectNotFound { .. }));
        assert!(e.to_string().contains("3:1.0.1.8.0.255:2"), "{e}");
        assert!(!e.is_fatal());
        let e = MeterError::refused(attr, DataAccessResult::ReadWriteDenied);
        assert!(matches!(
            e,
            MeterError::Refused {
                result: DataAccessResult::ReadWriteDenied,
                ..
            }
        ));
    }
}
