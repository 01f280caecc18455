//! Pieces shared by the ACSE APDUs (AARQ/AARE/RLRQ/RLRE, IEC 62056-5-3 / Green Book 9.5):
//! object identifiers for context and mechanism, authentication values, AP titles and the
//! user-information field that carries an xDLMS APDU.

use core::fmt;

use super::ber::{inner, write_tlv};
use super::initiate::{InitiateRequest, InitiateResponse};
use super::service_error::ConfirmedServiceError;
use super::ApduError;
use crate::protocol::axdr::reader::Reader;

/// Bytes that must never be printed (passwords, keys, challenges).
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

/// Never serialised: a trace or `frame --json` shows `<redacted>`.
impl serde::Serialize for SecretBytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("<redacted>")
    }
}

impl SecretBytes {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        SecretBytes(bytes.into())
    }

    /// The secret itself; call only where it is put on the wire.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// DLMS UA object identifier arc 2.16.756.5.8 ({joint-iso-ccitt country(16) ch(756)
/// identified-organization(5) DLMS-UA(8)}), BER-encoded.
const DLMS_UA_ARC: [u8; 5] = [0x60, 0x85, 0x74, 0x05, 0x08];
/// application-context-name arc (…8.1) and authentication mechanism-name arc (…8.2).
const CONTEXT_ARC: u8 = 1;
const MECHANISM_ARC: u8 = 2;

fn dlms_oid(arc: u8, id: u8) -> Vec<u8> {
    let mut v = DLMS_UA_ARC.to_vec();
    v.extend([arc, id]);
    v
}

/// The last arc of a DLMS UA OID under `arc`, or `None` for any other OID.
fn dlms_oid_id(oid: &[u8], arc: u8) -> Option<u8> {
    match oid {
        [p @ .., a, id] if p == DLMS_UA_ARC && *a == arc => Some(*id),
        _ => None,
    }
}

/// application-context-name (Green Book 9.4.2.2.2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum ApplicationContextName {
    /// Logical_Name_Referencing_No_Ciphering (…8.1.1) — what this agent uses.
    LogicalName,
    /// Short_Name_Referencing_No_Ciphering (…8.1.2).
    ShortName,
    /// Logical_Name_Referencing_With_Ciphering (…8.1.3).
    LogicalNameCiphered,
    /// Short_Name_Referencing_With_Ciphering (…8.1.4).
    ShortNameCiphered,
    /// Any other OID, BER contents kept.
    Other(Vec<u8>),
}

impl ApplicationContextName {
    pub(crate) fn from_oid(oid: &[u8]) -> Self {
        match dlms_oid_id(oid, CONTEXT_ARC) {
            Some(1) => Self::LogicalName,
            Some(2) => Self::ShortName,
            Some(3) => Self::LogicalNameCiphered,
            Some(4) => Self::ShortNameCiphered,
            _ => Self::Other(oid.to_vec()),
        }
    }

    pub(crate) fn oid(&self) -> Vec<u8> {
        match self {
            Self::LogicalName => dlms_oid(CONTEXT_ARC, 1),
            Self::ShortName => dlms_oid(CONTEXT_ARC, 2),
            Self::LogicalNameCiphered => dlms_oid(CONTEXT_ARC, 3),
            Self::ShortNameCiphered => dlms_oid(CONTEXT_ARC, 4),
            Self::Other(oid) => oid.clone(),
        }
    }

    /// `[1]` EXPLICIT wrapper around an OBJECT IDENTIFIER (0x06).
    pub(crate) fn decode(value: &[u8]) -> Result<Self, ApduError> {
        Ok(Self::from_oid(inner(
            value,
            0x06,
            "application-context-name",
        )?))
    }

    pub(crate) fn encode(&self, tag: u8, out: &mut Vec<u8>) {
        let mut oid = Vec::new();
        write_tlv(0x06, &self.oid(), &mut oid);
        write_tlv(tag, &oid, out);
    }
}

/// mechanism-name (Green Book 9.4.2.2.3): the authentication mechanism.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum MechanismName {
    /// COSEM_lowest_level_security_mechanism_name (…8.2.0).
    Lowest,
    /// COSEM_low_level_security_mechanism_name (…8.2.1): password (LLS).
    Low,
    /// COSEM_high_level_security_mechanism_name (…8.2.2): manufacturer-specific HLS.
    High,
    HighMd5,
    HighSha1,
    HighGmac,
    HighSha256,
    HighEcdsa,
    /// Any other OID, BER contents kept.
    Other(Vec<u8>),
}

impl MechanismName {
    const NAMED: [MechanismName; 8] = [
        Self::Lowest,
        Self::Low,
        Self::High,
        Self::HighMd5,
        Self::HighSha1,
        Self::HighGmac,
        Self::HighSha256,
        Self::HighEcdsa,
    ];

    pub(crate) fn from_oid(oid: &[u8]) -> Self {
        dlms_oid_id(oid, MECHANISM_ARC)
            .and_then(|id| Self::NAMED.get(usize::from(id)).cloned())
            .unwrap_or_else(|| Self::Other(oid.to_vec()))
    }

    pub(crate) fn oid(&self) -> Vec<u8> {
        match self {
            Self::Other(oid) => oid.clone(),
            named => {
                let id = Self::NAMED
                    .iter()
                    .position(|m| m == named)
                    .unwrap_or_default();
                dlms_oid(MECHANISM_ARC, id as u8)
            }
        }
    }
}

/// Authentication-value (Green Book 9.4.2.2.3): `[0]` charstring for LLS passwords and
/// HLS challenges; other choices are kept with their context tag.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum AuthenticationValue {
    CharString(SecretBytes),
    Other { tag: u8, value: SecretBytes },
}

impl AuthenticationValue {
    const CHARSTRING: u8 = 0x80;

    pub fn password(bytes: impl Into<Vec<u8>>) -> Self {
        Self::CharString(SecretBytes::new(bytes))
    }

    pub fn value(&self) -> &SecretBytes {
        match self {
            Self::CharString(v) | Self::Other { value: v, .. } => v,
        }
    }

    /// EXPLICIT wrapper holding one CHOICE alternative.
    pub(crate) fn decode(value: &[u8]) -> Result<Self, ApduError> {
        let mut r = Reader::new(value);
        let (tag, v) = super::ber::read_tlv(&mut r)?;
        if !r.is_empty() {
            return Err(ApduError::TrailingBytes {
                count: r.remaining(),
            });
        }
        let secret = SecretBytes::new(v);
        Ok(match u8::try_from(tag) {
            Ok(Self::CHARSTRING) => Self::CharString(secret),
            Ok(tag) => Self::Other { tag, value: secret },
            Err(_) => {
                return Err(ApduError::BadBer {
                    what: "authentication-value choice tag",
                })
            }
        })
    }

    pub(crate) fn encode(&self, tag: u8, out: &mut Vec<u8>) {
        let (choice, v) = match self {
            Self::CharString(v) => (Self::CHARSTRING, v),
            Self::Other { tag, value } => (*tag, value),
        };
        let mut inner = Vec::new();
        write_tlv(choice, v.expose(), &mut inner);
        write_tlv(tag, &inner, out);
    }
}

/// An AP title (system title): EXPLICIT wrapper around an OCTET STRING (0x04).
pub(crate) fn decode_ap_title(value: &[u8]) -> Result<Vec<u8>, ApduError> {
    Ok(inner(value, 0x04, "AP-title")?.to_vec())
}

pub(crate) fn encode_ap_title(tag: u8, title: &[u8], out: &mut Vec<u8>) {
    let mut inner = Vec::new();
    write_tlv(0x04, title, &mut inner);
    write_tlv(tag, &inner, out);
}

/// ACSE-requirements with the authentication functional unit: BIT STRING, 7 unused bits,
/// bit 0 set (Green Book 9.4.2.2.3).
pub(crate) const ACSE_REQUIREMENTS_AUTHENTICATION: [u8; 2] = [0x07, 0x80];

/// True if an ACSE-requirements BIT STRING has the authentication bit (bit 0) set.
pub(crate) fn acse_requirements_authentication(value: &[u8]) -> bool {
    value.get(1).is_some_and(|b| b & 0x80 != 0)
}

/// The xDLMS APDU carried in user-information (`[30]` EXPLICIT OCTET STRING).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum UserInformation {
    InitiateRequest(InitiateRequest),
    InitiateResponse(InitiateResponse),
    ConfirmedServiceError(ConfirmedServiceError),
    /// Any other xDLMS APDU (e.g. a ciphered glo-initiate-request, 0x21), kept raw.
    Other(Vec<u8>),
}

impl UserInformation {
    pub(crate) fn decode(value: &[u8]) -> Result<Self, ApduError> {
        let xdlms = inner(value, 0x04, "user-information")?;
        let mut r = Reader::new(xdlms);
        let Some(&first) = xdlms.first() else {
            return Ok(Self::Other(Vec::new()));
        };
        let ui = match first {
            InitiateRequest::TAG => Self::InitiateRequest(InitiateRequest::decode(&mut r)?),
            InitiateResponse::TAG => Self::InitiateResponse(InitiateResponse::decode(&mut r)?),
            ConfirmedServiceError::TAG => {
                Self::ConfirmedServiceError(ConfirmedServiceError::decode(&mut r)?)
            }
            _ => return Ok(Self::Other(xdlms.to_vec())),
        };
        if !r.is_empty() {
            return Err(ApduError::TrailingBytes {
                count: r.remaining(),
            });
        }
        Ok(ui)
    }

    pub(crate) fn encode(&self, tag: u8, out: &mut Vec<u8>) {
        let mut xdlms = Vec::new();
        match self {
            Self::InitiateRequest(v) => v.encode(&mut xdlms),
            Self::InitiateResponse(v) => v.encode(&mut xdlms),
            Self::ConfirmedServiceError(v) => v.encode(&mut xdlms),
            Self::Other(raw) => xdlms.extend_from_slice(raw),
        }
        let mut octets = Vec::new();
        write_tlv(0x04, &xdlms, &mut octets);
        write_tlv(tag, &octets, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted() {
        let v = AuthenticationValue::password(*b"12345678");
        let shown = format!("{v:?}");
        assert!(
            !shown.contains("12345678") && !shown.contains("49, 50"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"));
        assert_eq!(v.value().expose(), b"12345678");
    }

    #[test]
    fn oids() {
        assert_eq!(
            ApplicationContextName::LogicalName.oid(),
            [0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01]
        );
        assert_eq!(
            MechanismName::Low.oid(),
            [0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x01]
        );
        for m in MechanismName::NAMED {
            assert_eq!(MechanismName::from_oid(&m.oid()), m);
        }
        assert_eq!(
            MechanismName::from_oid(&[0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x09]),
            MechanismName::Other(vec![0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x09])
        );
        assert_eq!(
            ApplicationContextName::from_oid(&[0x2A]),
            ApplicationContextName::Other(vec![0x2A])
        );
    }
}
