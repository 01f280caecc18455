//! The information field of an FRMR (frame reject) response: which frame was refused and why.
//!
//! Three bytes after ISO/IEC 13239 (modulo 8): the rejected control byte; V(R) in bits 7..5,
//! C/R in bit 4 and V(S) in bits 3..1; then the reason bits W (invalid or unimplemented
//! control), X (information field not permitted), Y (information field too long) and Z
//! (invalid N(R)). Many meters send FRMR without an information field: that is allowed and
//! parses as `None`. This module only encodes and decodes the field.

/// Reason bit W: the control field is undefined or not implemented.
pub const FRMR_W_INVALID_CONTROL: u8 = 0x01;
/// Reason bit X: an information field came with a frame that must not carry one.
pub const FRMR_X_INFO_NOT_PERMITTED: u8 = 0x02;
/// Reason bit Y: the information field exceeds the negotiated maximum.
pub const FRMR_Y_INFO_TOO_LONG: u8 = 0x04;
/// Reason bit Z: N(R) does not acknowledge a frame sent and not yet acknowledged.
pub const FRMR_Z_INVALID_NR: u8 = 0x08;

/// A decoded FRMR information field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameReject {
    /// Control byte of the frame that was rejected.
    pub rejected_control: u8,
    /// The rejecting station's send state variable V(S).
    pub vs: u8,
    /// The rejecting station's receive state variable V(R).
    pub vr: u8,
    /// C/R bit: the rejected frame was a response.
    pub rejected_response: bool,
    /// Reason bits (`FRMR_*` constants); other bits are kept as received.
    pub reasons: u8,
}

impl FrameReject {
    /// Decode the field; `None` when it is absent or not three bytes long.
    pub fn parse(info: &[u8]) -> Option<Self> {
        let [control, state, reasons] = *info else {
            return None;
        };
        Some(FrameReject {
            rejected_control: control,
            vs: (state >> 1) & 0x07,
            vr: state >> 5,
            rejected_response: state & 0x10 != 0,
            reasons,
        })
    }

    pub fn encode(&self) -> [u8; 3] {
        let cr = if self.rejected_response { 0x10 } else { 0 };
        let state = ((self.vr & 0x07) << 5) | cr | ((self.vs & 0x07) << 1);
        [self.rejected_control, state, self.reasons]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_and_parse() {
        let r = FrameReject {
            rejected_control: 0x32,
            vs: 3,
            vr: 5,
            rejected_response: false,
            reasons: FRMR_Z_INVALID_NR,
        };
        #[rustfmt::skip]
        let wire = [
            0x32,  // rejected control: I-frame N(R)=1 P=1 N(S)=1
            0xA6,  // V(R)=5 (101), C/R=0, V(S)=3 (011), bit 0 = 0
            0x08,  // Z: invalid N(R)
        ];
        assert_eq!(r.encode(), wire);
        assert_eq!(FrameReject::parse(&wire), Some(r));
        assert_eq!(FrameReject::parse(&[]), None);
        assert_eq!(FrameReject::parse(&[1, 2]), None);
    }
}
