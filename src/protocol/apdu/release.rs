//! RLRQ (0x62) and RLRE (0x63): release of an association (Green Book 9.4.2.3). The reason
//! is `[0] IMPLICIT INTEGER`; user-information appears only with ciphered contexts.

use super::acse::UserInformation;
use super::ber::{integer_u8, read_tlv, write_tlv};
use super::codes::{ReleaseRequestReason, ReleaseResponseReason};
use super::ApduError;
use crate::protocol::axdr::reader::Reader;

const REASON: u32 = 0x80;
const USER_INFORMATION: u32 = 0xBE;

/// RLRQ-apdu.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rlrq {
    pub reason: Option<ReleaseRequestReason>,
    pub user_information: Option<UserInformation>,
}

/// RLRE-apdu.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rlre {
    pub reason: Option<ReleaseResponseReason>,
    pub user_information: Option<UserInformation>,
}

/// The reason and user-information of either release APDU; unknown tags are skipped.
fn decode_fields(contents: &[u8]) -> Result<(Option<u8>, Option<UserInformation>), ApduError> {
    let (mut reason, mut ui) = (None, None);
    let mut r = Reader::new(contents);
    while !r.is_empty() {
        let (tag, value) = read_tlv(&mut r)?;
        match tag {
            REASON => reason = Some(integer_u8(value, "release reason")?),
            USER_INFORMATION => ui = Some(UserInformation::decode(value)?),
            _ => {}
        }
    }
    Ok((reason, ui))
}

fn encode_fields(tag: u8, reason: Option<u8>, ui: &Option<UserInformation>, out: &mut Vec<u8>) {
    let mut c = Vec::new();
    if let Some(reason) = reason {
        // IMPLICIT INTEGER: the contents of the INTEGER TLV without its 0x02 tag.
        let int = super::ber::integer_tlv(reason);
        c.push(REASON as u8);
        c.extend_from_slice(int.get(1..).unwrap_or_default());
    }
    if let Some(ui) = ui {
        ui.encode(USER_INFORMATION as u8, &mut c);
    }
    write_tlv(tag, &c, out);
}

impl Rlrq {
    pub const TAG: u8 = 0x62;

    pub(crate) fn decode_contents(contents: &[u8]) -> Result<Self, ApduError> {
        let (reason, user_information) = decode_fields(contents)?;
        Ok(Rlrq {
            reason: reason.map(Into::into),
            user_information,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_fields(
            Self::TAG,
            self.reason.map(Into::into),
            &self.user_information,
            out,
        );
    }
}

impl Rlre {
    pub const TAG: u8 = 0x63;

    pub(crate) fn decode_contents(contents: &[u8]) -> Result<Self, ApduError> {
        let (reason, user_information) = decode_fields(contents)?;
        Ok(Rlre {
            reason: reason.map(Into::into),
            user_information,
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        encode_fields(
            Self::TAG,
            self.reason.map(Into::into),
            &self.user_information,
            out,
        );
    }
}
