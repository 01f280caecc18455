//! AARQ/AARE/RLRQ/RLRE vectors.

use super::*;

fn ln_initiate(conformance: u32, pdu: u16) -> InitiateRequest {
    InitiateRequest {
        proposed_conformance: Conformance::from_bits(conformance),
        ..InitiateRequest::new(pdu)
    }
}

#[test]
fn aarq_lls_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0x60, 0x36,                                     // AARQ, 54 bytes
        0xA1, 0x09, 0x06, 0x07,                         // application-context-name, OID
        0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,       //   2.16.756.5.8.1.1 LN, no ciphering
        0x8A, 0x02, 0x07, 0x80,                         // sender-acse-requirements: authentication
        0x8B, 0x07,                                     // mechanism-name
        0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x01,       //   2.16.756.5.8.2.1 low-level security
        0xAC, 0x0A, 0x80, 0x08,                         // calling-authentication-value, charstring
        b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8', //   password "12345678"
        0xBE, 0x10, 0x04, 0x0E,                         // user-information, OCTET STRING
        0x01,                                           //   InitiateRequest
        0x00, 0x00, 0x00,                               //   no dedicated-key, response-allowed default, no QoS
        0x06,                                           //   DLMS version 6
        0x5F, 0x1F, 0x04, 0x00, 0x00, 0x7E, 0x1F,       //   conformance 0x007E1F
        0x04, 0xB0,                                     //   client-max-receive-pdu-size 1200
    ];
    let aarq = Aarq::logical_name(Some(b"12345678"), InitiateRequest::new(1200));
    assert!(!format!("{aarq:?}").contains("12345678"));
    exact(&bytes, Apdu::Aarq(aarq));
}

#[test]
fn aarq_lls_from_gurux() {
    #[rustfmt::skip]
    let bytes = [
        0x60, 0x36,
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01, // LN no ciphering
        0x8A, 0x02, 0x07, 0x80,                                           // authentication
        0x8B, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x01,             // LLS
        0xAC, 0x0A, 0x80, 0x08, b'A', b'B', b'C', b'D', b'E', b'F', b'G', b'H',
        0xBE, 0x10, 0x04, 0x0E,
        0x01, 0x00, 0x00, 0x00, 0x06,
        0x5F, 0x1F, 0x04, 0x00, 0x40, 0x1E, 0x5D, // general-protection, block transfers, multiple refs, access, get, set, selective, action
        0xFF, 0xFF,                               // client-max-receive-pdu-size 65535
    ];
    let aarq = Aarq::logical_name(Some(b"ABCDEFGH"), ln_initiate(0x40_1E_5D, 0xFFFF));
    exact(&bytes, Apdu::Aarq(aarq));
}

#[test]
fn aarq_lowest_security_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0x60, 0x1D,
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
        0xBE, 0x10, 0x04, 0x0E, 0x01, 0x00, 0x00, 0x00, 0x06,
        0x5F, 0x1F, 0x04, 0x00, 0x00, 0x7E, 0x1F, 0x04, 0xB0,
    ];
    exact(
        &bytes,
        Apdu::Aarq(Aarq::logical_name(None, InitiateRequest::new(1200))),
    );
}

fn accepted_aare(conformance: u32, pdu: u16) -> Aare {
    Aare {
        application_context_name: ApplicationContextName::LogicalName,
        result: AssociationResult::Accepted,
        result_source_diagnostic: SourceDiagnostic::ServiceUser(AcseServiceUserDiagnostic::Null),
        responding_ap_title: None,
        authentication_required: false,
        mechanism_name: None,
        responding_authentication_value: None,
        user_information: Some(UserInformation::InitiateResponse(InitiateResponse {
            negotiated_quality_of_service: None,
            negotiated_dlms_version: 6,
            negotiated_conformance: Conformance::from_bits(conformance),
            server_max_receive_pdu_size: pdu,
            vaa_name: InitiateResponse::VAA_NAME_LN,
        })),
    }
}

#[test]
fn aare_accepted_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0x61, 0x29,                                                       // AARE, 41 bytes
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01, // LN no ciphering
        0xA2, 0x03, 0x02, 0x01, 0x00,                                     // result: accepted
        0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x00,                         // acse-service-user: null
        0xBE, 0x10, 0x04, 0x0E,                                           // user-information
        0x08,                                                             //   InitiateResponse
        0x00,                                                             //   no QoS
        0x06,                                                             //   DLMS version 6
        0x5F, 0x1F, 0x04, 0x00, 0x00, 0x12, 0x1D,                         //   conformance 0x00121D
        0x01, 0xF4,                                                       //   server-max-receive-pdu-size 500
        0x00, 0x07,                                                       //   vaa-name LN
    ];
    let aare = accepted_aare(0x00_12_1D, 500);
    assert!(aare.is_accepted());
    exact(&bytes, Apdu::Aare(aare));
}

#[test]
fn aare_long_form_length_with_ap_title() {
    // A meter answers with a long-form BER length (61 82 00 35). gurux-dlms's translator
    // decodes these bytes to the same fields (title "CAL00001", conformance 0x00501F).
    #[rustfmt::skip]
    let bytes = [
        0x61, 0x82, 0x00, 0x35,                                           // AARE, long form: 53 bytes
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01, // LN no ciphering
        0xA2, 0x03, 0x02, 0x01, 0x00,                                     // accepted
        0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x00,                         // acse-service-user: null
        0xA4, 0x0A, 0x04, 0x08,                                           // responding-AP-title
        b'C', b'A', b'L', b'0', b'0', b'0', b'0', b'1',                   //   system title
        0xBE, 0x10, 0x04, 0x0E, 0x08, 0x00, 0x06,
        0x5F, 0x1F, 0x04, 0x00, 0x00, 0x50, 0x1F,                         // conformance 0x00501F
        0x01, 0xF4, 0x00, 0x07,                                           // pdu 500, vaa-name LN
    ];
    let mut aare = accepted_aare(0x00_50_1F, 500);
    aare.responding_ap_title = Some(b"CAL00001".to_vec());
    assert_eq!(Apdu::decode(&bytes), Ok(Apdu::Aare(aare.clone())));
    // We emit the shortest length form; the fields are the same.
    let ours = Apdu::Aare(aare).to_bytes();
    assert_eq!(&ours[..2], &[0x61, 0x35]);
    assert_eq!(&ours[2..], &bytes[4..]);
}

#[test]
fn aare_rejected_authentication_failure_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0x61, 0x24,
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
        0xA2, 0x03, 0x02, 0x01, 0x01,                             // rejected-permanent
        0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x0D,                 // acse-service-user: authentication-failure
        0x88, 0x02, 0x07, 0x80,                                   // responder-acse-requirements
        0x89, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x01,     // mechanism-name LLS
    ];
    let aare = Aare {
        application_context_name: ApplicationContextName::LogicalName,
        result: AssociationResult::RejectedPermanent,
        result_source_diagnostic: SourceDiagnostic::ServiceUser(
            AcseServiceUserDiagnostic::AuthenticationFailure,
        ),
        responding_ap_title: None,
        authentication_required: true,
        mechanism_name: Some(MechanismName::Low),
        responding_authentication_value: None,
        user_information: None,
    };
    assert!(!aare.is_accepted());
    exact(&bytes, Apdu::Aare(aare));
}

#[test]
fn aare_rejected_with_confirmed_service_error() {
    // gurux-dlms's translator reads this as ConfirmedServiceError / Initiate / DlmsVersionTooLow.
    #[rustfmt::skip]
    let bytes = [
        0x61, 0x1F,
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
        0xA2, 0x03, 0x02, 0x01, 0x01,                 // rejected-permanent
        0xA3, 0x05, 0xA1, 0x03, 0x02, 0x01, 0x01,     // acse-service-user: no-reason-given
        0xBE, 0x06, 0x04, 0x04,                       // user-information
        0x0E, 0x01, 0x06, 0x01,                       //   confirmed-service-error: InitiateError, initiate, dlms-version-too-low
    ];
    let Ok(Apdu::Aare(aare)) = Apdu::decode(&bytes) else {
        panic!("not an AARE");
    };
    assert_eq!(
        aare.user_information,
        Some(UserInformation::ConfirmedServiceError(
            ConfirmedServiceError {
                service: ConfirmedService::InitiateError,
                error: ServiceError::Initiate(InitiateError::DlmsVersionTooLow),
            }
        ))
    );
    assert_eq!(Apdu::Aare(aare).to_bytes(), bytes);
}

#[test]
fn acse_unknown_and_unused_tags_are_skipped() {
    #[rustfmt::skip]
    let bytes = [
        0x60, 0x1F,
        0x80, 0x02, 0x07, 0x80,                         // protocol-version (ignored)
        0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
        0xA2, 0x04, 0x06, 0x02, 0x2A, 0x03,             // called-AP-title (ignored)
        0x9D, 0x03, b'a', b'b', b'c',                   // implementation-information (ignored)
        0x7F, 0x81, 0x00, 0x01, 0xFF,                   // unknown high-number tag
    ];
    let aarq = Aarq {
        application_context_name: ApplicationContextName::LogicalName,
        calling_ap_title: None,
        authentication_required: false,
        mechanism_name: None,
        calling_authentication_value: None,
        user_information: None,
    };
    assert_eq!(Apdu::decode(&bytes), Ok(Apdu::Aarq(aarq)));
}

#[test]
fn acse_errors() {
    // No application-context-name.
    assert_eq!(
        Apdu::decode(&[0x60, 0x00]),
        Err(ApduError::Missing {
            field: "application-context-name"
        })
    );
    // AARE without a result.
    #[rustfmt::skip]
    let no_result = [0x61, 0x0B, 0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01];
    assert_eq!(
        Apdu::decode(&no_result),
        Err(ApduError::Missing { field: "result" })
    );
    // Outer length longer than the bytes present.
    assert_eq!(
        Apdu::decode(&[0x61, 0x82, 0x00, 0x35, 0xA1]),
        Err(ApduError::Truncated {
            needed: 0x35,
            available: 1
        })
    );
    // Indefinite length.
    assert!(matches!(
        Apdu::decode(&[0x60, 0x80, 0x00, 0x00]),
        Err(ApduError::BadBer { .. })
    ));
}

#[test]
fn release_from_u9n() {
    // RLRQ normal, RLRE normal, RLRQ without reason.
    exact(
        &[0x62, 0x03, 0x80, 0x01, 0x00],
        Apdu::Rlrq(Rlrq {
            reason: Some(ReleaseRequestReason::Normal),
            user_information: None,
        }),
    );
    exact(
        &[0x63, 0x03, 0x80, 0x01, 0x00],
        Apdu::Rlre(Rlre {
            reason: Some(ReleaseResponseReason::Normal),
            user_information: None,
        }),
    );
    exact(
        &[0x62, 0x00],
        Apdu::Rlrq(Rlrq {
            reason: None,
            user_information: None,
        }),
    );
}
