//! The LLC header that opens every DLMS APDU carried over HDLC (IEC 62056-46, LLC sublayer).
//!
//! Three bytes: destination LSAP 0xE6, source LSAP 0xE6 (command, client to server) or 0xE7
//! (response, server to client), LLC quality 0x00. Only the first segment of a segmented
//! APDU carries it. This module adds and checks the header; it never looks at the APDU.

/// Client to server: destination LSAP, source LSAP (command), quality.
pub const LLC_COMMAND: [u8; 3] = [0xE6, 0xE6, 0x00];
/// Server to client: destination LSAP, source LSAP (response), quality.
pub const LLC_RESPONSE: [u8; 3] = [0xE6, 0xE7, 0x00];

/// Direction of an LLC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LlcHeader {
    Command,
    Response,
}

/// Why an information field does not start with the expected LLC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LlcError {
    #[error("APDU of {0} bytes is shorter than the LLC header")]
    Truncated(usize),
    #[error("expected LLC {expected:?} (E6 {:02X} 00), found {found:02X?}", expected.bytes()[1])]
    Mismatch { expected: LlcHeader, found: [u8; 3] },
}

impl LlcHeader {
    pub const fn bytes(self) -> [u8; 3] {
        match self {
            LlcHeader::Command => LLC_COMMAND,
            LlcHeader::Response => LLC_RESPONSE,
        }
    }

    /// `apdu` with this header in front.
    pub fn prepend(self, apdu: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(apdu.len() + 3);
        out.extend_from_slice(&self.bytes());
        out.extend_from_slice(apdu);
        out
    }

    /// The APDU after this header, or why the header is not there.
    pub fn strip(self, info: &[u8]) -> Result<&[u8], LlcError> {
        let (head, apdu) = info
            .split_first_chunk::<3>()
            .ok_or(LlcError::Truncated(info.len()))?;
        if *head == self.bytes() {
            Ok(apdu)
        } else {
            Err(LlcError::Mismatch {
                expected: self,
                found: *head,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepend_and_strip() {
        let framed = LlcHeader::Command.prepend(&[0xC0, 0x01]);
        assert_eq!(framed, [0xE6, 0xE6, 0x00, 0xC0, 0x01]);
        assert_eq!(LlcHeader::Command.strip(&framed), Ok(&[0xC0, 0x01][..]));
        assert_eq!(
            LlcHeader::Response.strip(&framed),
            Err(LlcError::Mismatch {
                expected: LlcHeader::Response,
                found: [0xE6, 0xE6, 0x00]
            })
        );
        assert_eq!(
            LlcHeader::Response.strip(&[0xE6]),
            Err(LlcError::Truncated(1))
        );
        assert_eq!(LlcHeader::Response.strip(&LLC_RESPONSE), Ok(&[][..]));
    }
}
