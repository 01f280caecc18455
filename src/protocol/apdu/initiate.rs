//! xDLMS InitiateRequest / InitiateResponse and the conformance block
//! (Green Book 9.5, A-XDR encoded inside the AARQ/AARE user-information).

use core::fmt;

use super::acse::SecretBytes;
use super::descriptor::presence;
use super::ApduError;
use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{read_length_bounded, write_length};

/// Conformance ::= [APPLICATION 31] IMPLICIT BIT STRING (SIZE(24)): the xDLMS services a
/// side proposes or accepts. Bit 0 is the most significant bit of the first byte
/// (Green Book 9.4.6.1, Table "Conformance block"); the constants are masks on `bits()`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Conformance(u32);

/// Serialised as the 24-bit block in hex, `"0x007e1f"`.
impl serde::Serialize for Conformance {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("0x{:06x}", self.0))
    }
}

const fn bit(n: u32) -> u32 {
    1 << (23 - n)
}

impl Conformance {
    pub const RESERVED_ZERO: u32 = bit(0);
    pub const GENERAL_PROTECTION: u32 = bit(1);
    pub const GENERAL_BLOCK_TRANSFER: u32 = bit(2);
    pub const READ: u32 = bit(3);
    pub const WRITE: u32 = bit(4);
    pub const UNCONFIRMED_WRITE: u32 = bit(5);
    pub const DELTA_VALUE_ENCODING: u32 = bit(6);
    pub const RESERVED_SEVEN: u32 = bit(7);
    pub const ATTRIBUTE0_SUPPORTED_WITH_SET: u32 = bit(8);
    pub const PRIORITY_MGMT_SUPPORTED: u32 = bit(9);
    pub const ATTRIBUTE0_SUPPORTED_WITH_GET: u32 = bit(10);
    pub const BLOCK_TRANSFER_WITH_GET_OR_READ: u32 = bit(11);
    pub const BLOCK_TRANSFER_WITH_SET_OR_WRITE: u32 = bit(12);
    pub const BLOCK_TRANSFER_WITH_ACTION: u32 = bit(13);
    pub const MULTIPLE_REFERENCES: u32 = bit(14);
    pub const INFORMATION_REPORT: u32 = bit(15);
    pub const DATA_NOTIFICATION: u32 = bit(16);
    pub const ACCESS: u32 = bit(17);
    pub const PARAMETERIZED_ACCESS: u32 = bit(18);
    pub const GET: u32 = bit(19);
    pub const SET: u32 = bit(20);
    pub const SELECTIVE_ACCESS: u32 = bit(21);
    pub const EVENT_NOTIFICATION: u32 = bit(22);
    pub const ACTION: u32 = bit(23);

    /// Names in bit order, for display and logs.
    pub const NAMES: [(u32, &'static str); 24] = [
        (Self::RESERVED_ZERO, "reserved-zero"),
        (Self::GENERAL_PROTECTION, "general-protection"),
        (Self::GENERAL_BLOCK_TRANSFER, "general-block-transfer"),
        (Self::READ, "read"),
        (Self::WRITE, "write"),
        (Self::UNCONFIRMED_WRITE, "unconfirmed-write"),
        (Self::DELTA_VALUE_ENCODING, "delta-value-encoding"),
        (Self::RESERVED_SEVEN, "reserved-seven"),
        (
            Self::ATTRIBUTE0_SUPPORTED_WITH_SET,
            "attribute0-supported-with-set",
        ),
        (Self::PRIORITY_MGMT_SUPPORTED, "priority-mgmt-supported"),
        (
            Self::ATTRIBUTE0_SUPPORTED_WITH_GET,
            "attribute0-supported-with-get",
        ),
        (
            Self::BLOCK_TRANSFER_WITH_GET_OR_READ,
            "block-transfer-with-get-or-read",
        ),
        (
            Self::BLOCK_TRANSFER_WITH_SET_OR_WRITE,
            "block-transfer-with-set-or-write",
        ),
        (
            Self::BLOCK_TRANSFER_WITH_ACTION,
            "block-transfer-with-action",
        ),
        (Self::MULTIPLE_REFERENCES, "multiple-references"),
        (Self::INFORMATION_REPORT, "information-report"),
        (Self::DATA_NOTIFICATION, "data-notification"),
        (Self::ACCESS, "access"),
        (Self::PARAMETERIZED_ACCESS, "parameterized-access"),
        (Self::GET, "get"),
        (Self::SET, "set"),
        (Self::SELECTIVE_ACCESS, "selective-access"),
        (Self::EVENT_NOTIFICATION, "event-notification"),
        (Self::ACTION, "action"),
    ];

    /// What a logical-name client without ciphering proposes: GET/SET/ACTION, selective
    /// access, block transfer and multiple references.
    pub const LN_CLIENT_DEFAULT: Conformance = Conformance(
        Self::PRIORITY_MGMT_SUPPORTED
            | Self::ATTRIBUTE0_SUPPORTED_WITH_GET
            | Self::BLOCK_TRANSFER_WITH_GET_OR_READ
            | Self::BLOCK_TRANSFER_WITH_SET_OR_WRITE
            | Self::BLOCK_TRANSFER_WITH_ACTION
            | Self::MULTIPLE_REFERENCES
            | Self::GET
            | Self::SET
            | Self::SELECTIVE_ACCESS
            | Self::EVENT_NOTIFICATION
            | Self::ACTION,
    );

    /// Identifier [APPLICATION 31] (two bytes), length 4, then the unused-bits count.
    const HEADER: [u8; 4] = [0x5F, 0x1F, 0x04, 0x00];

    /// From a 24-bit value; higher bits are dropped.
    pub const fn from_bits(bits: u32) -> Self {
        Conformance(bits & 0x00FF_FFFF)
    }

    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn contains(self, mask: u32) -> bool {
        self.0 & mask == mask
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        let header = r.array::<4>()?;
        for (i, (&found, &expected)) in header.iter().zip(&Self::HEADER).enumerate() {
            // The unused-bits count (index 3) is not checked: it is 0 for 24 bits, and a
            // peer that sends another value still means the same three bytes.
            if i < 3 && found != expected {
                return Err(ApduError::UnexpectedTag {
                    field: "conformance",
                    expected,
                    found,
                });
            }
        }
        let [a, b, c] = r.array::<3>()?;
        Ok(Conformance(u32::from_be_bytes([0, a, b, c])))
    }

    pub(crate) fn encode(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&Self::HEADER);
        out.extend_from_slice(&self.0.to_be_bytes()[1..]);
    }
}

impl fmt::Debug for Conformance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Conformance(0x{:06X} {self})", self.0)
    }
}

/// The names of the set bits, separated by `|`.
impl fmt::Display for Conformance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (_, name) in Self::NAMES.iter().filter(|(m, _)| self.contains(*m)) {
            if !first {
                f.write_str("|")?;
            }
            f.write_str(name)?;
            first = false;
        }
        Ok(())
    }
}

/// InitiateRequest (tag 0x01), proposed by the client in the AARQ.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InitiateRequest {
    /// Only with ciphering; redacted in Debug.
    pub dedicated_key: Option<SecretBytes>,
    /// `BOOLEAN DEFAULT TRUE`; `true` is encoded as "default".
    pub response_allowed: bool,
    pub proposed_quality_of_service: Option<u8>,
    /// 6 for DLMS version 6 (the current one).
    pub proposed_dlms_version: u8,
    pub proposed_conformance: Conformance,
    pub client_max_receive_pdu_size: u16,
}

impl InitiateRequest {
    pub const TAG: u8 = 0x01;
    /// DLMS version number this agent speaks (Green Book 9.4.6.1).
    pub const DLMS_VERSION: u8 = 6;
    /// Longest dedicated key accepted (AES-256 would be 32 bytes).
    const MAX_KEY_LEN: usize = 64;

    /// An LN, no-ciphering request with `LN_CLIENT_DEFAULT` conformance.
    pub fn new(client_max_receive_pdu_size: u16) -> Self {
        InitiateRequest {
            dedicated_key: None,
            response_allowed: true,
            proposed_quality_of_service: None,
            proposed_dlms_version: Self::DLMS_VERSION,
            proposed_conformance: Conformance::LN_CLIENT_DEFAULT,
            client_max_receive_pdu_size,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        expect_tag(r, Self::TAG, "InitiateRequest")?;
        let dedicated_key = if presence(r, "dedicated-key flag")? {
            let len = read_length_bounded(r, Self::MAX_KEY_LEN)?;
            Some(SecretBytes::new(r.take(len)?))
        } else {
            None
        };
        let response_allowed = if presence(r, "response-allowed flag")? {
            r.u8()? != 0
        } else {
            true
        };
        let proposed_quality_of_service = if presence(r, "quality-of-service flag")? {
            Some(r.u8()?)
        } else {
            None
        };
        Ok(InitiateRequest {
            dedicated_key,
            response_allowed,
            proposed_quality_of_service,
            proposed_dlms_version: r.u8()?,
            proposed_conformance: Conformance::decode(r)?,
            client_max_receive_pdu_size: r.u16()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(Self::TAG);
        match &self.dedicated_key {
            Some(k) => {
                out.push(1);
                write_length(k.expose().len(), out);
                out.extend_from_slice(k.expose());
            }
            None => out.push(0),
        }
        if self.response_allowed {
            out.push(0);
        } else {
            out.extend([1, 0]);
        }
        match self.proposed_quality_of_service {
            Some(q) => out.extend([1, q]),
            None => out.push(0),
        }
        out.push(self.proposed_dlms_version);
        self.proposed_conformance.encode(out);
        out.extend_from_slice(&self.client_max_receive_pdu_size.to_be_bytes());
    }
}

/// InitiateResponse (tag 0x08), the server's answer in the AARE.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InitiateResponse {
    pub negotiated_quality_of_service: Option<u8>,
    pub negotiated_dlms_version: u8,
    pub negotiated_conformance: Conformance,
    pub server_max_receive_pdu_size: u16,
    /// 0x0007 for logical-name referencing, 0xFA00 for short-name (Green Book 9.4.6.1).
    pub vaa_name: u16,
}

impl InitiateResponse {
    pub const TAG: u8 = 0x08;
    pub const VAA_NAME_LN: u16 = 0x0007;

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        expect_tag(r, Self::TAG, "InitiateResponse")?;
        let negotiated_quality_of_service = if presence(r, "quality-of-service flag")? {
            Some(r.u8()?)
        } else {
            None
        };
        Ok(InitiateResponse {
            negotiated_quality_of_service,
            negotiated_dlms_version: r.u8()?,
            negotiated_conformance: Conformance::decode(r)?,
            server_max_receive_pdu_size: r.u16()?,
            vaa_name: r.u16()?,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.push(Self::TAG);
        match self.negotiated_quality_of_service {
            Some(q) => out.extend([1, q]),
            None => out.push(0),
        }
        out.push(self.negotiated_dlms_version);
        self.negotiated_conformance.encode(out);
        out.extend_from_slice(&self.server_max_receive_pdu_size.to_be_bytes());
        out.extend_from_slice(&self.vaa_name.to_be_bytes());
    }
}

fn expect_tag(r: &mut Reader<'_>, expected: u8, field: &'static str) -> Result<(), ApduError> {
    let found = r.u8()?;
    if found != expected {
        return Err(ApduError::UnexpectedTag {
            field,
            expected,
            found,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conformance_bits_follow_the_green_book_numbering() {
        // 00 7E 1F is the usual LN client proposal (also what the u9n dlms-cosem 25.1.0
        // client sends for the same set of services).
        assert_eq!(Conformance::LN_CLIENT_DEFAULT.bits(), 0x00_7E_1F);
        assert_eq!(Conformance::GENERAL_PROTECTION, 0x40_00_00);
        assert_eq!(Conformance::ACTION, 0x00_00_01);
        let c = Conformance::from_bits(0x00_10_1D);
        assert!(c.contains(Conformance::GET | Conformance::SET));
        assert!(!c.contains(Conformance::EVENT_NOTIFICATION));
        assert_eq!(
            c.to_string(),
            "block-transfer-with-get-or-read|get|set|selective-access|action"
        );
        for w in Conformance::NAMES.windows(2) {
            assert!(w[0].0 > w[1].0);
        }
    }

    #[test]
    fn initiate_request_with_all_optionals() {
        #[rustfmt::skip]
        let bytes = [
            0x01,                         // InitiateRequest
            0x01, 0x02, 0xAA, 0xBB,       // dedicated-key present, 2 bytes
            0x01, 0x00,                   // response-allowed present: FALSE
            0x01, 0x05,                   // proposed-quality-of-service 5
            0x06,                         // DLMS version 6
            0x5F, 0x1F, 0x04, 0x00,       // conformance [APPLICATION 31], length 4, 0 unused bits
            0x00, 0x7E, 0x1F,             //   conformance bits
            0x04, 0xB0,                   // client-max-receive-pdu-size 1200
        ];
        let req = InitiateRequest::decode(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(
            req.dedicated_key.as_ref().map(|k| k.expose()),
            Some(&[0xAA, 0xBB][..])
        );
        assert!(!req.response_allowed);
        assert_eq!(req.proposed_quality_of_service, Some(5));
        assert_eq!(req.client_max_receive_pdu_size, 1200);
        assert!(!format!("{req:?}").contains("170"), "key must be redacted");
        let mut out = Vec::new();
        req.encode(&mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn refuses_bad_flags_and_headers() {
        assert_eq!(
            InitiateRequest::decode(&mut Reader::new(&[0x01, 0x02])),
            Err(ApduError::BadValue {
                field: "dedicated-key flag"
            })
        );
        assert_eq!(
            InitiateResponse::decode(&mut Reader::new(&[0x08, 0x00, 0x06, 0x5F, 0x1E])),
            Err(ApduError::Truncated {
                needed: 4,
                available: 2
            })
        );
        assert_eq!(
            InitiateResponse::decode(&mut Reader::new(&[
                0x08, 0x00, 0x06, 0x5F, 0x1E, 0x04, 0x00, 0, 0, 0, 0, 0, 0, 0
            ])),
            Err(ApduError::UnexpectedTag {
                field: "conformance",
                expected: 0x1F,
                found: 0x1E
            })
        );
    }
}
