//! The HDLC control field: which frame this is, its sequence numbers and its P/F bit.
//!
//! One byte (Green Book 8.4.1, control field, after ISO/IEC 13239 modulo-8 numbering):
//!
//! ```text
//!  bit   7 6 5   4   3 2 1   0
//!  I     N(R)   P/F  N(S)    0
//!  S     N(R)   P/F  s s 0 1      RR: ss = 00, RNR: ss = 01
//!  U     m m m  P/F  m m 1 1      SNRM 100x 0011, DISC 010x 0011, UA 011x 0011,
//!                                 DM 000x 1111, FRMR 100x 0111, UI 000x 0011
//! ```
//!
//! Every byte decodes: values DLMS does not use (REJ, SREJ, other U commands) become
//! [`Control::Unknown`] with the raw byte. This module says nothing about which frame is
//! allowed when; that is the session's job.

/// Sequence numbers count modulo 8 (ISO/IEC 13239 modulo 8: N(S) and N(R) are 3 bits).
pub const SEQ_MODULUS: u8 = 8;

/// A decoded control byte. Sequence numbers are always in 0..8; `poll` is the P/F bit
/// (poll in a command, final in a response).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Control {
    /// Information frame.
    I { ns: u8, nr: u8, poll: bool },
    /// Receive ready: acknowledges up to N(R) - 1, ready for more.
    Rr { nr: u8, poll: bool },
    /// Receive not ready: acknowledges up to N(R) - 1, busy.
    Rnr { nr: u8, poll: bool },
    /// Set normal response mode (connect request).
    Snrm { poll: bool },
    /// Disconnect request.
    Disc { poll: bool },
    /// Unnumbered acknowledge (answer to SNRM or DISC).
    Ua { poll: bool },
    /// Disconnected mode (refusal, or "not connected").
    Dm { poll: bool },
    /// Frame reject.
    Frmr { poll: bool },
    /// Unnumbered information.
    Ui { poll: bool },
    /// Any other control byte, kept as received.
    Unknown(u8),
}

const PF: u8 = 0x10;
const U_SNRM: u8 = 0x83;
const U_DISC: u8 = 0x43;
const U_UA: u8 = 0x63;
const U_DM: u8 = 0x0F;
const U_FRMR: u8 = 0x87;
const U_UI: u8 = 0x03;
const S_RR: u8 = 0x01;
const S_RNR: u8 = 0x05;

impl Control {
    /// Decode a control byte. Total: every byte gives a value.
    pub fn from_byte(b: u8) -> Control {
        let poll = b & PF != 0;
        let nr = b >> 5;
        if b & 0x01 == 0 {
            return Control::I {
                ns: (b >> 1) & 0x07,
                nr,
                poll,
            };
        }
        match b & !PF {
            x if x & 0x0F == S_RR => Control::Rr { nr, poll },
            x if x & 0x0F == S_RNR => Control::Rnr { nr, poll },
            U_SNRM => Control::Snrm { poll },
            U_DISC => Control::Disc { poll },
            U_UA => Control::Ua { poll },
            U_DM => Control::Dm { poll },
            U_FRMR => Control::Frmr { poll },
            U_UI => Control::Ui { poll },
            _ => Control::Unknown(b),
        }
    }

    /// Encode. Sequence numbers are taken modulo 8.
    pub fn to_byte(self) -> u8 {
        let pf = |p: bool| if p { PF } else { 0 };
        let seq = |n: u8| n & 0x07;
        match self {
            Control::I { ns, nr, poll } => (seq(nr) << 5) | pf(poll) | (seq(ns) << 1),
            Control::Rr { nr, poll } => (seq(nr) << 5) | pf(poll) | S_RR,
            Control::Rnr { nr, poll } => (seq(nr) << 5) | pf(poll) | S_RNR,
            Control::Snrm { poll } => U_SNRM | pf(poll),
            Control::Disc { poll } => U_DISC | pf(poll),
            Control::Ua { poll } => U_UA | pf(poll),
            Control::Dm { poll } => U_DM | pf(poll),
            Control::Frmr { poll } => U_FRMR | pf(poll),
            Control::Ui { poll } => U_UI | pf(poll),
            Control::Unknown(b) => b,
        }
    }

    /// The P/F bit, whatever the frame type.
    pub fn poll(self) -> bool {
        self.to_byte() & PF != 0
    }

    /// N(R) of an I, RR or RNR frame.
    pub fn nr(self) -> Option<u8> {
        match self {
            Control::I { nr, .. } | Control::Rr { nr, .. } | Control::Rnr { nr, .. } => Some(nr),
            _ => None,
        }
    }
}

/// `n + 1` modulo 8.
pub fn seq_next(n: u8) -> u8 {
    (n.wrapping_add(1)) % SEQ_MODULUS
}

/// `n - 1` modulo 8.
pub fn seq_prev(n: u8) -> u8 {
    (n.wrapping_add(SEQ_MODULUS - 1)) % SEQ_MODULUS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        for b in 0..=255u8 {
            assert_eq!(Control::from_byte(b).to_byte(), b, "byte {b:#04x}");
        }
    }

    #[test]
    fn known_bytes_from_independent_peers() {
        // gurux-dlms 1.0.203 / u9n dlms-cosem 25.1.0 frames.
        assert_eq!(Control::from_byte(0x93), Control::Snrm { poll: true });
        assert_eq!(Control::from_byte(0x73), Control::Ua { poll: true });
        assert_eq!(Control::from_byte(0x53), Control::Disc { poll: true });
        assert_eq!(Control::from_byte(0x1F), Control::Dm { poll: true });
        assert_eq!(Control::from_byte(0x97), Control::Frmr { poll: true });
        assert_eq!(Control::from_byte(0x13), Control::Ui { poll: true });
        // gurux aarq first segment: N(S)=0 N(R)=0 P=1; second: N(S)=1.
        assert_eq!(
            Control::from_byte(0x10),
            Control::I {
                ns: 0,
                nr: 0,
                poll: true
            }
        );
        assert_eq!(
            Control::from_byte(0x12),
            Control::I {
                ns: 1,
                nr: 0,
                poll: true
            }
        );
        // u9n I-frame with N(S)=2, N(R)=5: 0xB4; RR N(R)=3: 0x71; gurux RR N(R)=1: 0x31.
        assert_eq!(
            Control::from_byte(0xB4),
            Control::I {
                ns: 2,
                nr: 5,
                poll: true
            }
        );
        assert_eq!(Control::from_byte(0x71), Control::Rr { nr: 3, poll: true });
        assert_eq!(Control::from_byte(0x31), Control::Rr { nr: 1, poll: true });
        assert_eq!(Control::from_byte(0x35), Control::Rnr { nr: 1, poll: true });
    }

    #[test]
    fn rej_and_other_commands_are_unknown() {
        assert_eq!(Control::from_byte(0x09), Control::Unknown(0x09)); // REJ
        assert_eq!(Control::from_byte(0x0D), Control::Unknown(0x0D)); // SREJ
        assert_eq!(Control::from_byte(0x2F), Control::Unknown(0x2F)); // SABM
        assert!(!Control::Unknown(0x2F).poll());
    }

    #[test]
    fn sequence_arithmetic_wraps_at_eight() {
        assert_eq!(seq_next(7), 0);
        assert_eq!(seq_prev(0), 7);
        assert_eq!(seq_next(3), 4);
        assert_eq!(
            Control::I {
                ns: 9,
                nr: 8,
                poll: false
            }
            .to_byte(),
            0x02
        );
    }
}
