//! AARQ (0x60): the client's association request, BER-encoded (IEC 62056-5-3 / Green Book
//! 9.4.2.2, ISO 8650). Fields this agent does not use (called-*, AE qualifiers, invocation
//! ids, implementation-information) and unknown tags are skipped, not fatal.

use super::acse::{
    acse_requirements_authentication, decode_ap_title, encode_ap_title, ApplicationContextName,
    AuthenticationValue, MechanismName, UserInformation, ACSE_REQUIREMENTS_AUTHENTICATION,
};
use super::ber::{read_tlv, write_tlv};
use super::ApduError;
use crate::protocol::axdr::reader::Reader;

// Context tags of AARQ fields (Green Book 9.5, AARQ-apdu).
const APPLICATION_CONTEXT_NAME: u32 = 0xA1;
const CALLING_AP_TITLE: u32 = 0xA6;
const SENDER_ACSE_REQUIREMENTS: u32 = 0x8A;
const MECHANISM_NAME: u32 = 0x8B;
const CALLING_AUTHENTICATION_VALUE: u32 = 0xAC;
const USER_INFORMATION: u32 = 0xBE;

/// AARQ-apdu. `Debug` never shows the password (see `SecretBytes`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Aarq {
    pub application_context_name: ApplicationContextName,
    /// Client system title (ciphered contexts and HLS only).
    pub calling_ap_title: Option<Vec<u8>>,
    /// sender-acse-requirements with the authentication functional unit.
    pub authentication_required: bool,
    pub mechanism_name: Option<MechanismName>,
    pub calling_authentication_value: Option<AuthenticationValue>,
    pub user_information: Option<UserInformation>,
}

impl Aarq {
    pub const TAG: u8 = 0x60;

    /// LN referencing without ciphering; lowest-level security if `password` is `None`,
    /// low-level security (LLS) with it.
    pub fn logical_name(password: Option<&[u8]>, initiate: super::InitiateRequest) -> Self {
        Aarq {
            application_context_name: ApplicationContextName::LogicalName,
            calling_ap_title: None,
            authentication_required: password.is_some(),
            mechanism_name: password.map(|_| MechanismName::Low),
            calling_authentication_value: password.map(AuthenticationValue::password),
            user_information: Some(UserInformation::InitiateRequest(initiate)),
        }
    }

    /// Decode the contents of the `[APPLICATION 0]` TLV.
    pub(crate) fn decode_contents(contents: &[u8]) -> Result<Self, ApduError> {
        let mut context = None;
        let mut aarq = Aarq {
            application_context_name: ApplicationContextName::LogicalName,
            calling_ap_title: None,
            authentication_required: false,
            mechanism_name: None,
            calling_authentication_value: None,
            user_information: None,
        };
        let mut r = Reader::new(contents);
        while !r.is_empty() {
            let (tag, value) = read_tlv(&mut r)?;
            match tag {
                APPLICATION_CONTEXT_NAME => context = Some(ApplicationContextName::decode(value)?),
                CALLING_AP_TITLE => aarq.calling_ap_title = Some(decode_ap_title(value)?),
                SENDER_ACSE_REQUIREMENTS => {
                    aarq.authentication_required = acse_requirements_authentication(value)
                }
                MECHANISM_NAME => aarq.mechanism_name = Some(MechanismName::from_oid(value)),
                CALLING_AUTHENTICATION_VALUE => {
                    aarq.calling_authentication_value = Some(AuthenticationValue::decode(value)?)
                }
                USER_INFORMATION => aarq.user_information = Some(UserInformation::decode(value)?),
                _ => {} // protocol-version, called-*, implementation-information, unknown
            }
        }
        aarq.application_context_name = context.ok_or(ApduError::Missing {
            field: "application-context-name",
        })?;
        Ok(aarq)
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        let mut c = Vec::new();
        self.application_context_name
            .encode(APPLICATION_CONTEXT_NAME as u8, &mut c);
        if let Some(title) = &self.calling_ap_title {
            encode_ap_title(CALLING_AP_TITLE as u8, title, &mut c);
        }
        if self.authentication_required {
            write_tlv(
                SENDER_ACSE_REQUIREMENTS as u8,
                &ACSE_REQUIREMENTS_AUTHENTICATION,
                &mut c,
            );
        }
        if let Some(m) = &self.mechanism_name {
            write_tlv(MECHANISM_NAME as u8, &m.oid(), &mut c);
        }
        if let Some(v) = &self.calling_authentication_value {
            v.encode(CALLING_AUTHENTICATION_VALUE as u8, &mut c);
        }
        if let Some(ui) = &self.user_information {
            ui.encode(USER_INFORMATION as u8, &mut c);
        }
        write_tlv(Self::TAG, &c, out);
    }
}
