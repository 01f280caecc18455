//! AARQ/AARE: propose an LN association (no ciphering, lowest or low-level security)
//! and read the meter's answer into `Negotiated` or a `MeterError` that says what to try.

use super::super::carrier::Carrier;
use super::super::config::SessionConfig;
use super::super::error::MeterError;
use super::{apdu_name, unexpected};
use crate::protocol::apdu::{
    Aare, Aarq, AcseServiceUserDiagnostic, Apdu, ApplicationContextName, Conformance,
    InitiateRequest, SourceDiagnostic, UserInformation,
};
use crate::transport::BoxLink;

/// What the meter accepted in its AARE (InitiateResponse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The services both sides support.
    pub conformance: Conformance,
    /// Largest APDU the meter receives: our requests must fit.
    pub server_max_pdu_size: u16,
    pub dlms_version: u8,
}

pub(super) async fn associate(
    carrier: &mut Carrier,
    link: &mut BoxLink,
    config: &SessionConfig,
) -> Result<Negotiated, MeterError> {
    let mut initiate = InitiateRequest::new(config.max_pdu_size);
    initiate.proposed_conformance = config.conformance;
    let password = config.password.as_ref().map(|p| p.expose());
    let aarq = Apdu::Aarq(Aarq::logical_name(password, initiate));
    let answer = carrier.exchange(link, &aarq.to_bytes()).await?;
    match Apdu::decode(&answer)? {
        Apdu::Aare(aare) => negotiated(&aare, config.client),
        other => Err(unexpected("AARE", apdu_name(&other))),
    }
}

/// Read an AARE: accepted with an InitiateResponse, or the reason for the refusal.
pub(crate) fn negotiated(aare: &Aare, client: u8) -> Result<Negotiated, MeterError> {
    let initiate_error = match &aare.user_information {
        Some(UserInformation::ConfirmedServiceError(e)) => Some(*e),
        _ => None,
    };
    if !aare.is_accepted() || initiate_error.is_some() {
        return Err(refusal(aare, client, initiate_error));
    }
    if aare.application_context_name != ApplicationContextName::LogicalName {
        return Err(MeterError::Unexpected {
            expected: "the logical-name application context",
            found: format!("{:?}", aare.application_context_name),
        });
    }
    match &aare.user_information {
        Some(UserInformation::InitiateResponse(r)) => Ok(Negotiated {
            conformance: r.negotiated_conformance,
            server_max_pdu_size: r.server_max_receive_pdu_size,
            dlms_version: r.negotiated_dlms_version,
        }),
        other => Err(MeterError::Unexpected {
            expected: "an InitiateResponse in the AARE",
            found: format!("{other:?}"),
        }),
    }
}

fn refusal(
    aare: &Aare,
    client: u8,
    initiate: Option<crate::protocol::apdu::ConfirmedServiceError>,
) -> MeterError {
    use AcseServiceUserDiagnostic as D;
    match aare.result_source_diagnostic {
        SourceDiagnostic::ServiceUser(D::AuthenticationFailure) => {
            MeterError::WrongPassword { client }
        }
        SourceDiagnostic::ServiceUser(
            D::AuthenticationRequired | D::AuthenticationMechanismNameRequired,
        ) => MeterError::PasswordRequired { client },
        diagnostic => MeterError::AssociationRefused {
            result: aare.result,
            diagnostic,
            initiate,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::apdu::{
        AssociationResult, ConfirmedService, ConfirmedServiceError, InitiateError,
        InitiateResponse, ServiceError,
    };

    fn aare(result: AssociationResult, diag: AcseServiceUserDiagnostic) -> Aare {
        Aare {
            application_context_name: ApplicationContextName::LogicalName,
            result,
            result_source_diagnostic: SourceDiagnostic::ServiceUser(diag),
            responding_ap_title: None,
            authentication_required: false,
            mechanism_name: None,
            responding_authentication_value: None,
            user_information: Some(UserInformation::InitiateResponse(InitiateResponse {
                negotiated_quality_of_service: None,
                negotiated_dlms_version: 6,
                negotiated_conformance: Conformance::from_bits(0x00_10_1D),
                server_max_receive_pdu_size: 256,
                vaa_name: InitiateResponse::VAA_NAME_LN,
            })),
        }
    }

    #[test]
    fn accepted_gives_the_negotiated_terms() {
        let n = negotiated(
            &aare(AssociationResult::Accepted, AcseServiceUserDiagnostic::Null),
            16,
        )
        .unwrap();
        assert_eq!(n.server_max_pdu_size, 256);
        assert_eq!(n.conformance.bits(), 0x00_10_1D);
        assert_eq!(n.dlms_version, 6);
    }

    #[test]
    fn refusals_say_what_to_try() {
        let wrong = aare(
            AssociationResult::RejectedPermanent,
            AcseServiceUserDiagnostic::AuthenticationFailure,
        );
        assert!(matches!(
            negotiated(&wrong, 1),
            Err(MeterError::WrongPassword { client: 1 })
        ));
        let missing = aare(
            AssociationResult::RejectedPermanent,
            AcseServiceUserDiagnostic::AuthenticationRequired,
        );
        assert!(matches!(
            negotiated(&missing, 1),
            Err(MeterError::PasswordRequired { client: 1 })
        ));
        let mut other = aare(
            AssociationResult::RejectedPermanent,
            AcseServiceUserDiagnostic::NoReasonGiven,
        );
        let cse = ConfirmedServiceError {
            service: ConfirmedService::InitiateError,
            error: ServiceError::Initiate(InitiateError::DlmsVersionTooLow),
        };
        other.user_information = Some(UserInformation::ConfirmedServiceError(cse));
        match negotiated(&other, 16) {
            Err(e @ MeterError::AssociationRefused { initiate, .. }) => {
                assert_eq!(initiate, Some(cse));
                assert!(e.to_string().contains("DlmsVersionTooLow"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }
}
