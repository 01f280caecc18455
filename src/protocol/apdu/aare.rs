//! AARE (0x61): the server's association response, BER-encoded (IEC 62056-5-3 / Green
//! Book 9.4.2.2, ISO 8650). Accepts long-form lengths (`61 82 00 35 …`); fields this agent
//! does not use and unknown tags are skipped, not fatal.

use super::acse::{
    acse_requirements_authentication, decode_ap_title, encode_ap_title, ApplicationContextName,
    AuthenticationValue, MechanismName, UserInformation, ACSE_REQUIREMENTS_AUTHENTICATION,
};
use super::ber::{inner, integer_tlv, integer_u8, read_tlv, write_tlv};
use super::codes::{AcseServiceProviderDiagnostic, AcseServiceUserDiagnostic, AssociationResult};
use super::ApduError;
use crate::protocol::axdr::reader::Reader;

// Context tags of AARE fields (Green Book 9.5, AARE-apdu).
const APPLICATION_CONTEXT_NAME: u32 = 0xA1;
const RESULT: u32 = 0xA2;
const RESULT_SOURCE_DIAGNOSTIC: u32 = 0xA3;
const RESPONDING_AP_TITLE: u32 = 0xA4;
const RESPONDER_ACSE_REQUIREMENTS: u32 = 0x88;
const MECHANISM_NAME: u32 = 0x89;
const RESPONDING_AUTHENTICATION_VALUE: u32 = 0xAA;
const USER_INFORMATION: u32 = 0xBE;
// Associate-source-diagnostic CHOICE tags.
const ACSE_SERVICE_USER: u8 = 0xA1;
const ACSE_SERVICE_PROVIDER: u8 = 0xA2;

/// Who produced the result and why (result-source-diagnostic).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum SourceDiagnostic {
    ServiceUser(AcseServiceUserDiagnostic),
    ServiceProvider(AcseServiceProviderDiagnostic),
}

/// AARE-apdu.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Aare {
    pub application_context_name: ApplicationContextName,
    pub result: AssociationResult,
    pub result_source_diagnostic: SourceDiagnostic,
    /// Server system title (ciphered contexts and HLS only).
    pub responding_ap_title: Option<Vec<u8>>,
    /// responder-acse-requirements with the authentication functional unit.
    pub authentication_required: bool,
    pub mechanism_name: Option<MechanismName>,
    /// HLS server-to-client challenge; redacted in Debug like every authentication value.
    pub responding_authentication_value: Option<AuthenticationValue>,
    /// InitiateResponse when accepted; often a ConfirmedServiceError when rejected.
    pub user_information: Option<UserInformation>,
}

impl SourceDiagnostic {
    fn decode(value: &[u8]) -> Result<Self, ApduError> {
        let mut r = Reader::new(value);
        let (tag, choice) = read_tlv(&mut r)?;
        if !r.is_empty() {
            return Err(ApduError::TrailingBytes {
                count: r.remaining(),
            });
        }
        let field = "result-source-diagnostic";
        let v = integer_u8(inner(choice, 0x02, field)?, field)?;
        match u8::try_from(tag) {
            Ok(ACSE_SERVICE_USER) => Ok(Self::ServiceUser(v.into())),
            Ok(ACSE_SERVICE_PROVIDER) => Ok(Self::ServiceProvider(v.into())),
            _ => Err(ApduError::BadValue { field }),
        }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        let (tag, v) = match self {
            Self::ServiceUser(d) => (ACSE_SERVICE_USER, u8::from(*d)),
            Self::ServiceProvider(d) => (ACSE_SERVICE_PROVIDER, u8::from(*d)),
        };
        let mut choice = Vec::new();
        write_tlv(tag, &integer_tlv(v), &mut choice);
        write_tlv(RESULT_SOURCE_DIAGNOSTIC as u8, &choice, out);
    }
}

impl Aare {
    pub const TAG: u8 = 0x61;

    pub fn is_accepted(&self) -> bool {
        self.result == AssociationResult::Accepted
    }

    /// Decode the contents of the `[APPLICATION 1]` TLV.
    pub(crate) fn decode_contents(contents: &[u8]) -> Result<Self, ApduError> {
        let (mut context, mut result, mut diagnostic) = (None, None, None);
        let mut responding_ap_title = None;
        let mut authentication_required = false;
        let mut mechanism_name = None;
        let mut responding_authentication_value = None;
        let mut user_information = None;
        let mut r = Reader::new(contents);
        while !r.is_empty() {
            let (tag, value) = read_tlv(&mut r)?;
            match tag {
                APPLICATION_CONTEXT_NAME => context = Some(ApplicationContextName::decode(value)?),
                RESULT => {
                    let v = integer_u8(inner(value, 0x02, "result")?, "result")?;
                    result = Some(AssociationResult::from(v));
                }
                RESULT_SOURCE_DIAGNOSTIC => diagnostic = Some(SourceDiagnostic::decode(value)?),
                RESPONDING_AP_TITLE => responding_ap_title = Some(decode_ap_title(value)?),
                RESPONDER_ACSE_REQUIREMENTS => {
                    authentication_required = acse_requirements_authentication(value)
                }
                MECHANISM_NAME => mechanism_name = Some(MechanismName::from_oid(value)),
                RESPONDING_AUTHENTICATION_VALUE => {
                    responding_authentication_value = Some(AuthenticationValue::decode(value)?)
                }
                USER_INFORMATION => user_information = Some(UserInformation::decode(value)?),
                _ => {} // protocol-version, AE qualifier, invocation ids, unknown
            }
        }
        Ok(Aare {
            application_context_name: context.ok_or(ApduError::Missing {
                field: "application-context-name",
            })?,
            result: result.ok_or(ApduError::Missing { field: "result" })?,
            result_source_diagnostic: diagnostic.ok_or(ApduError::Missing {
                field: "result-source-diagnostic",
            })?,
            responding_ap_title,
            authentication_required,
            mechanism_name,
            responding_authentication_value,
            user_information,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut c = Vec::new();
        self.application_context_name
            .encode(APPLICATION_CONTEXT_NAME as u8, &mut c);
        write_tlv(RESULT as u8, &integer_tlv(self.result.into()), &mut c);
        self.result_source_diagnostic.encode(&mut c);
        if let Some(title) = &self.responding_ap_title {
            encode_ap_title(RESPONDING_AP_TITLE as u8, title, &mut c);
        }
        if self.authentication_required {
            write_tlv(
                RESPONDER_ACSE_REQUIREMENTS as u8,
                &ACSE_REQUIREMENTS_AUTHENTICATION,
                &mut c,
            );
        }
        if let Some(m) = &self.mechanism_name {
            write_tlv(MECHANISM_NAME as u8, &m.oid(), &mut c);
        }
        if let Some(v) = &self.responding_authentication_value {
            v.encode(RESPONDING_AUTHENTICATION_VALUE as u8, &mut c);
        }
        if let Some(ui) = &self.user_information {
            ui.encode(USER_INFORMATION as u8, &mut c);
        }
        write_tlv(Self::TAG, &c, out);
    }
}
