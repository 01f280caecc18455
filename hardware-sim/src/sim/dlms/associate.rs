//! AARQ → AARE: who may associate, with which authentication, and what is negotiated
//! (Green Book 9.4.2.2; xDLMS InitiateRequest/Response 9.4.6.1).
//!
//! Rules of the simulated meter:
//! - The public client (SAP 16) associates without authentication (an LLS password is
//!   checked if it sends one) and only reads.
//! - Any other client is an operator. When the meter has a password it must use LLS with
//!   it: no authentication → authentication-required, a wrong password →
//!   authentication-failure. Without a password every client is accepted.
//! - High-level security is not simulated: authentication-mechanism-name-not-recognised.

use core::time::Duration;

use crate::protocol::apdu::{
    Aare, Aarq, AcseServiceUserDiagnostic, ApplicationContextName, AssociationResult,
    ConfirmedService, ConfirmedServiceError, Conformance, InitiateError, InitiateRequest,
    InitiateResponse, MechanismName, ServiceError, SourceDiagnostic, UserInformation,
};

use crate::sim::cosem::{AssociationInfo, Level};
use crate::sim::fault::FaultKind;
use crate::sim::meter::SimMeter;
use crate::sim::scenario::PublicReads;

/// The public client's SAP (Green Book: the management logical device's public client).
pub const PUBLIC_CLIENT: u16 = 0x10;

/// What the simulated meter offers (the AARE carries the intersection with the proposal).
pub const SERVER_CONFORMANCE: u32 = Conformance::GET
    | Conformance::SET
    | Conformance::ACTION
    | Conformance::SELECTIVE_ACCESS
    | Conformance::BLOCK_TRANSFER_WITH_GET_OR_READ
    | Conformance::MULTIPLE_REFERENCES
    | Conformance::PRIORITY_MGMT_SUPPORTED;

/// Smallest client-max-receive-pdu-size the meter can answer within (one GET block header
/// and a byte of data).
const MIN_CLIENT_PDU: u16 = 16;

/// The outcome of one AARQ.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Accepted(AssociationInfo),
    Rejected(AcseServiceUserDiagnostic),
}

/// Decide on an AARQ and build the AARE.
pub fn answer(
    meter: &mut SimMeter,
    aarq: &Aarq,
    client_sap: u16,
    server_sap: u16,
    t: Duration,
) -> (Aare, Outcome) {
    let password = match &aarq.calling_authentication_value {
        Some(v) if aarq.mechanism_name == Some(MechanismName::Low) => Some(v.value().expose()),
        _ => None,
    };
    match meter.faults.on_association(t, password.is_some()) {
        Some(FaultKind::RefuseAssociation) => {
            return rejected(AcseServiceUserDiagnostic::NoReasonGiven, None)
        }
        Some(FaultKind::RejectPassword) => {
            return rejected(AcseServiceUserDiagnostic::AuthenticationFailure, None)
        }
        _ => {}
    }
    if aarq.application_context_name != ApplicationContextName::LogicalName {
        return rejected(
            AcseServiceUserDiagnostic::ApplicationContextNameNotSupported,
            None,
        );
    }
    let level = match authenticate(meter, aarq, client_sap, password) {
        Ok(level) => level,
        Err(diagnostic) => return rejected(diagnostic, None),
    };
    let Some(UserInformation::InitiateRequest(initiate)) = &aarq.user_information else {
        return rejected(
            AcseServiceUserDiagnostic::NoReasonGiven,
            Some(InitiateError::Other),
        );
    };
    let (conformance, client_max_pdu) = match negotiate(initiate) {
        Ok(n) => n,
        Err(e) => return rejected(AcseServiceUserDiagnostic::NoReasonGiven, Some(e)),
    };
    let lls = password.is_some();
    let info = AssociationInfo {
        client_sap,
        server_sap,
        level,
        lls,
        conformance,
        client_max_pdu,
        server_max_pdu: meter.spec.max_pdu,
    };
    let aare = Aare {
        application_context_name: ApplicationContextName::LogicalName,
        result: AssociationResult::Accepted,
        result_source_diagnostic: SourceDiagnostic::ServiceUser(AcseServiceUserDiagnostic::Null),
        responding_ap_title: None,
        authentication_required: lls,
        mechanism_name: lls.then_some(MechanismName::Low),
        responding_authentication_value: None,
        user_information: Some(UserInformation::InitiateResponse(InitiateResponse {
            negotiated_quality_of_service: None,
            negotiated_dlms_version: InitiateRequest::DLMS_VERSION,
            negotiated_conformance: conformance,
            server_max_receive_pdu_size: meter.spec.max_pdu,
            vaa_name: InitiateResponse::VAA_NAME_LN,
        })),
    };
    (aare, Outcome::Accepted(info))
}

fn authenticate(
    meter: &SimMeter,
    aarq: &Aarq,
    client_sap: u16,
    password: Option<&[u8]>,
) -> Result<Level, AcseServiceUserDiagnostic> {
    match &aarq.mechanism_name {
        None | Some(MechanismName::Lowest) | Some(MechanismName::Low) => {}
        Some(_) => return Err(AcseServiceUserDiagnostic::AuthenticationMechanismNameNotRecognised),
    }
    if aarq.mechanism_name == Some(MechanismName::Low) && password.is_none() {
        return Err(AcseServiceUserDiagnostic::AuthenticationFailure);
    }
    let secret = meter.spec.password.as_ref();
    if let (Some(secret), Some(offered)) = (secret, password) {
        if !secret.matches(offered) {
            return Err(AcseServiceUserDiagnostic::AuthenticationFailure);
        }
    }
    if client_sap == PUBLIC_CLIENT {
        let restricted = meter.spec.public_reads == PublicReads::Identity;
        return Ok(Level::Public { restricted });
    }
    if secret.is_some() && password.is_none() {
        return Err(AcseServiceUserDiagnostic::AuthenticationRequired);
    }
    Ok(Level::Operator)
}

/// Negotiated conformance and the client's receive limit, or why the proposal is refused.
fn negotiate(initiate: &InitiateRequest) -> Result<(Conformance, u16), InitiateError> {
    if initiate.proposed_dlms_version < InitiateRequest::DLMS_VERSION {
        return Err(InitiateError::DlmsVersionTooLow);
    }
    let conformance =
        Conformance::from_bits(initiate.proposed_conformance.bits() & SERVER_CONFORMANCE);
    if !conformance.contains(Conformance::GET) {
        return Err(InitiateError::IncompatibleConformance);
    }
    // Design: 0 is read as "no limit" (a 16-bit field cannot say 65536).
    let client_max_pdu = match initiate.client_max_receive_pdu_size {
        0 => u16::MAX,
        n if n < MIN_CLIENT_PDU => return Err(InitiateError::PduSizeTooShort),
        n => n,
    };
    Ok((conformance, client_max_pdu))
}

/// A rejected AARE; an xDLMS refusal travels as a confirmed-service-error in user-information.
fn rejected(
    diagnostic: AcseServiceUserDiagnostic,
    initiate_error: Option<InitiateError>,
) -> (Aare, Outcome) {
    let aare = Aare {
        application_context_name: ApplicationContextName::LogicalName,
        result: AssociationResult::RejectedPermanent,
        result_source_diagnostic: SourceDiagnostic::ServiceUser(diagnostic),
        responding_ap_title: None,
        authentication_required: false,
        mechanism_name: None,
        responding_authentication_value: None,
        user_information: initiate_error.map(|e| {
            UserInformation::ConfirmedServiceError(ConfirmedServiceError {
                service: ConfirmedService::InitiateError,
                error: ServiceError::Initiate(e),
            })
        }),
    };
    (aare, Outcome::Rejected(diagnostic))
}
