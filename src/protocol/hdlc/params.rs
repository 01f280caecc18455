//! HDLC parameter negotiation: the information field of SNRM and UA.
//!
//! ```text
//! 81 (format identifier) 80 (group: HDLC parameters) LL (group length)
//!    05 L v  max information field length, transmit    (1 or 2 bytes here; 1, 2 or 4 accepted)
//!    06 L v  max information field length, receive
//!    07 L v  window size, transmit                      (4 bytes here, as gurux-dlms and u9n send)
//!    08 L v  window size, receive
//! ```
//!
//! "Transmit" and "receive" are from the sender's point of view: a client's SNRM says what the
//! client will send and accept; the server's UA says what the server will send and accept.
//! Absent parameters take their defaults (Green Book 8.4, HDLC parameter negotiation: 128
//! bytes, window 1). This module parses, emits and negotiates; it never decides *when*.

/// Format identifier opening the negotiation field.
pub const FORMAT_ID: u8 = 0x81;
/// Group identifier of the HDLC parameter group.
pub const GROUP_ID: u8 = 0x80;
/// Parameter identifiers inside the group.
pub const PARAM_MAX_INFO_TX: u8 = 0x05;
pub const PARAM_MAX_INFO_RX: u8 = 0x06;
pub const PARAM_WINDOW_TX: u8 = 0x07;
pub const PARAM_WINDOW_RX: u8 = 0x08;

/// Default maximum information field length, both directions.
pub const DEFAULT_MAX_INFO: u16 = 128;
/// Default window size, both directions.
pub const DEFAULT_WINDOW: u8 = 1;
/// Largest information field we agree to, either direction.
// Design: 2030 leaves room for the largest header (2 + 4 + 4 + 1 + HCS 2 + FCS 2) under the
// 11-bit frame length (2047), so a negotiated length can never produce an unsendable frame.
pub const MAX_INFO_LEN: u16 = 2030;
/// Largest window with modulo-8 sequence numbers.
pub const MAX_WINDOW: u8 = 7;

/// Why a negotiation field could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ParamsError {
    #[error("negotiation field starts with {0:#04x}, expected format identifier 0x81")]
    BadFormatId(u8),
    #[error("negotiation field ends inside a group or parameter")]
    Truncated,
    #[error("parameter {id:#04x} has a {len}-byte value; 1, 2 or 4 expected")]
    BadValueLength { id: u8, len: usize },
    #[error("parameter {id:#04x} value {value} out of range")]
    OutOfRange { id: u8, value: u32 },
}

/// Negotiated or proposed HDLC parameters, from one station's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HdlcParameters {
    pub max_info_tx: u16,
    pub max_info_rx: u16,
    pub window_tx: u8,
    pub window_rx: u8,
}

impl Default for HdlcParameters {
    fn default() -> Self {
        HdlcParameters {
            max_info_tx: DEFAULT_MAX_INFO,
            max_info_rx: DEFAULT_MAX_INFO,
            window_tx: DEFAULT_WINDOW,
            window_rx: DEFAULT_WINDOW,
        }
    }
}

impl HdlcParameters {
    /// Parse an SNRM or UA information field. An empty field means all defaults.
    pub fn parse(info: &[u8]) -> Result<Self, ParamsError> {
        let mut params = HdlcParameters::default();
        let Some((&format, mut rest)) = info.split_first() else {
            return Ok(params);
        };
        if format != FORMAT_ID {
            return Err(ParamsError::BadFormatId(format));
        }
        while let [group, len, tail @ ..] = rest {
            let len = usize::from(*len);
            let (body, after) = tail.split_at_checked(len).ok_or(ParamsError::Truncated)?;
            if *group == GROUP_ID {
                params.read_group(body)?;
            }
            rest = after;
        }
        if rest.is_empty() {
            Ok(params)
        } else {
            Err(ParamsError::Truncated)
        }
    }

    fn read_group(&mut self, mut body: &[u8]) -> Result<(), ParamsError> {
        while let [id, len, tail @ ..] = body {
            let (id, len) = (*id, usize::from(*len));
            let (value, after) = tail.split_at_checked(len).ok_or(ParamsError::Truncated)?;
            body = after;
            if !matches!(len, 1 | 2 | 4) {
                return Err(ParamsError::BadValueLength { id, len });
            }
            let value = value.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            let out_of_range = ParamsError::OutOfRange { id, value };
            match id {
                PARAM_MAX_INFO_TX | PARAM_MAX_INFO_RX => {
                    let v = u16::try_from(value)
                        .ok()
                        .filter(|v| *v > 0)
                        .ok_or(out_of_range)?;
                    if id == PARAM_MAX_INFO_TX {
                        self.max_info_tx = v;
                    } else {
                        self.max_info_rx = v;
                    }
                }
                PARAM_WINDOW_TX | PARAM_WINDOW_RX => {
                    let v = u8::try_from(value)
                        .ok()
                        .filter(|v| *v > 0)
                        .ok_or(out_of_range)?;
                    if id == PARAM_WINDOW_TX {
                        self.window_tx = v;
                    } else {
                        self.window_rx = v;
                    }
                }
                // Design: unknown parameters are skipped, not refused: a later edition may add some.
                _ => {}
            }
        }
        if body.is_empty() {
            Ok(())
        } else {
            Err(ParamsError::Truncated)
        }
    }

    /// Field for an SNRM: only parameters that differ from the default, as gurux-dlms does;
    /// empty (an SNRM without information field) when all are default.
    pub fn encode_compact(&self) -> Vec<u8> {
        let d = HdlcParameters::default();
        self.encode_where(|id| match id {
            PARAM_MAX_INFO_TX => self.max_info_tx != d.max_info_tx,
            PARAM_MAX_INFO_RX => self.max_info_rx != d.max_info_rx,
            PARAM_WINDOW_TX => self.window_tx != d.window_tx,
            _ => self.window_rx != d.window_rx,
        })
    }

    /// Field for a UA: all four parameters.
    pub fn encode_full(&self) -> Vec<u8> {
        self.encode_where(|_| true)
    }

    fn encode_where(&self, include: impl Fn(u8) -> bool) -> Vec<u8> {
        let mut group = Vec::with_capacity(24);
        for (id, len) in [
            (PARAM_MAX_INFO_TX, self.max_info_tx),
            (PARAM_MAX_INFO_RX, self.max_info_rx),
        ] {
            if include(id) {
                group.push(id);
                match u8::try_from(len) {
                    Ok(one) => group.extend_from_slice(&[1, one]),
                    Err(_) => {
                        group.push(2);
                        group.extend_from_slice(&len.to_be_bytes());
                    }
                }
            }
        }
        for (id, window) in [
            (PARAM_WINDOW_TX, self.window_tx),
            (PARAM_WINDOW_RX, self.window_rx),
        ] {
            if include(id) {
                group.extend_from_slice(&[id, 4]);
                group.extend_from_slice(&u32::from(window).to_be_bytes());
            }
        }
        if group.is_empty() {
            return group;
        }
        let mut out = vec![FORMAT_ID, GROUP_ID, group.len() as u8];
        out.extend_from_slice(&group);
        out
    }

    /// The same parameters seen from the other station (transmit and receive swapped).
    pub fn reversed(&self) -> Self {
        HdlcParameters {
            max_info_tx: self.max_info_rx,
            max_info_rx: self.max_info_tx,
            window_tx: self.window_rx,
            window_rx: self.window_tx,
        }
    }

    /// Keep values within what a frame and modulo-8 numbering allow.
    pub fn clamped(&self) -> Self {
        HdlcParameters {
            max_info_tx: self.max_info_tx.clamp(1, MAX_INFO_LEN),
            max_info_rx: self.max_info_rx.clamp(1, MAX_INFO_LEN),
            window_tx: self.window_tx.clamp(1, MAX_WINDOW),
            window_rx: self.window_rx.clamp(1, MAX_WINDOW),
        }
    }

    /// Server side: given our limits (`self`) and the client's SNRM proposal, the parameters
    /// we put in the UA (our point of view): the smaller of each pair.
    pub fn answer(&self, snrm: &HdlcParameters) -> Self {
        let client = snrm.reversed();
        HdlcParameters {
            max_info_tx: self.max_info_tx.min(client.max_info_tx),
            max_info_rx: self.max_info_rx.min(client.max_info_rx),
            window_tx: self.window_tx.min(client.window_tx),
            window_rx: self.window_rx.min(client.window_rx),
        }
        .clamped()
    }

    /// Client side: given our SNRM proposal (`self`) and the server's UA, the parameters we
    /// use (our point of view). We never send more than we proposed nor more than the server
    /// accepts; what we receive is what the server says it will send.
    pub fn accept(&self, ua: &HdlcParameters) -> Self {
        let server = ua.reversed();
        HdlcParameters {
            max_info_tx: self.max_info_tx.min(server.max_info_tx),
            max_info_rx: server.max_info_rx,
            window_tx: self.window_tx.min(server.window_tx),
            window_rx: server.window_rx,
        }
        .clamped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::hdlc::vectors::*;
    use proptest::prelude::*;

    #[test]
    fn empty_field_means_defaults() {
        assert_eq!(HdlcParameters::parse(&[]), Ok(HdlcParameters::default()));
        assert_eq!(HdlcParameters::default().encode_compact(), Vec::<u8>::new());
    }

    #[test]
    fn gurux_snrm_fields() {
        // gurux-dlms: maxInfoTX = maxInfoRX = 32, windows default (omitted).
        let p = HdlcParameters {
            max_info_tx: 32,
            max_info_rx: 32,
            ..Default::default()
        };
        assert_eq!(HdlcParameters::parse(&SNRM_PARAMS_GURUX[8..17]), Ok(p));
        assert_eq!(p.encode_compact(), &SNRM_PARAMS_GURUX[8..17]);
        // gurux-dlms: 512 / 512, two-byte values.
        let p = HdlcParameters {
            max_info_tx: 512,
            max_info_rx: 512,
            ..Default::default()
        };
        assert_eq!(HdlcParameters::parse(&SNRM_FOUR_BYTE_GURUX[11..22]), Ok(p));
        assert_eq!(p.encode_compact(), &SNRM_FOUR_BYTE_GURUX[11..22]);
    }

    #[test]
    fn gurux_omits_defaults_and_uses_one_byte_below_256() {
        // gurux-dlms SNRM info with maxInfoTX 200, maxInfoRX 128 (default, omitted).
        let p = HdlcParameters {
            max_info_tx: 200,
            ..Default::default()
        };
        assert_eq!(p.encode_compact(), [0x81, 0x80, 0x03, 0x05, 0x01, 0xC8]);
    }

    #[test]
    fn gurux_snrm_with_windows() {
        // gurux-dlms: maxInfoTX 1024, maxInfoRX 256, windowSizeTX 7, windowSizeRX 3.
        #[rustfmt::skip]
        let field = [
            0x81, 0x80, 0x14,             // format id, group id, group length 20
            0x05, 0x02, 0x04, 0x00,       // max info transmit = 1024
            0x06, 0x02, 0x01, 0x00,       // max info receive = 256
            0x07, 0x04, 0, 0, 0, 0x07,    // window transmit = 7
            0x08, 0x04, 0, 0, 0, 0x03,    // window receive = 3
        ];
        let p = HdlcParameters {
            max_info_tx: 1024,
            max_info_rx: 256,
            window_tx: 7,
            window_rx: 3,
        };
        assert_eq!(HdlcParameters::parse(&field), Ok(p));
        assert_eq!(p.encode_full(), field);
    }

    #[test]
    fn u9n_ua_field() {
        // Two-byte lengths (00 80) where we would send one byte: both must parse.
        let p = HdlcParameters::parse(&UA_PARAMS_U9N[9..32]).unwrap();
        assert_eq!(p, HdlcParameters::default());
        assert_eq!(
            p.encode_full(),
            [
                0x81, 0x80, 0x12, 0x05, 0x01, 0x80, 0x06, 0x01, 0x80, 0x07, 0x04, 0, 0, 0, 1, 0x08,
                0x04, 0, 0, 0, 1
            ]
        );
    }

    #[test]
    fn malformed_fields() {
        assert_eq!(
            HdlcParameters::parse(&[0x80]),
            Err(ParamsError::BadFormatId(0x80))
        );
        assert_eq!(
            HdlcParameters::parse(&[0x81, 0x80, 0x05, 0x05, 0x01]),
            Err(ParamsError::Truncated)
        );
        assert_eq!(
            HdlcParameters::parse(&[0x81, 0x80, 0x03, 0x05, 0x02, 0x01]),
            Err(ParamsError::Truncated)
        );
        assert_eq!(
            HdlcParameters::parse(&[0x81, 0x80, 0x05, 0x05, 0x03, 0, 1, 0]),
            Err(ParamsError::BadValueLength { id: 5, len: 3 })
        );
        assert_eq!(
            HdlcParameters::parse(&[0x81, 0x80, 0x03, 0x07, 0x01, 0x00]),
            Err(ParamsError::OutOfRange { id: 7, value: 0 })
        );
        assert_eq!(
            HdlcParameters::parse(&[0x81, 0x80, 0x06, 0x05, 0x04, 0, 1, 0, 0]),
            Err(ParamsError::OutOfRange {
                id: 5,
                value: 0x10000
            })
        );
    }

    #[test]
    fn unknown_parameters_and_groups_are_skipped() {
        // An unknown parameter 0x09 inside the group, then a user-data group 0xF0.
        let field = [
            0x81, 0x80, 0x06, 0x09, 0x01, 0xAA, 0x05, 0x01, 0x40, 0xF0, 0x01, 0x00,
        ];
        let p = HdlcParameters::parse(&field).unwrap();
        assert_eq!(p.max_info_tx, 64);
        assert_eq!(p.max_info_rx, 128);
    }

    #[test]
    fn negotiation_takes_the_smaller_and_clamps() {
        let server_limits = HdlcParameters {
            max_info_tx: 512,
            max_info_rx: 256,
            window_tx: 1,
            window_rx: 1,
        };
        let snrm = HdlcParameters {
            max_info_tx: 1024, // client would send 1024, server takes 256
            max_info_rx: 300,  // client accepts 300, server sends at most 300
            window_tx: 7,
            window_rx: 7,
        };
        let ua = server_limits.answer(&snrm);
        assert_eq!(
            ua,
            HdlcParameters {
                max_info_tx: 300,
                max_info_rx: 256,
                window_tx: 1,
                window_rx: 1
            }
        );
        let client = snrm.accept(&ua);
        assert_eq!(client.max_info_tx, 256);
        assert_eq!(client.max_info_rx, 300);
        let huge = HdlcParameters {
            max_info_tx: 4000,
            max_info_rx: 4000,
            window_tx: 9,
            window_rx: 9,
        };
        assert_eq!(huge.clamped().max_info_tx, MAX_INFO_LEN);
        assert_eq!(huge.clamped().window_rx, MAX_WINDOW);
    }

    proptest! {
        #[test]
        fn parse_inverts_encode(tx in 1u16.., rx in 1u16.., wt in 1u8.., wr in 1u8..) {
            let p = HdlcParameters { max_info_tx: tx, max_info_rx: rx, window_tx: wt, window_rx: wr };
            prop_assert_eq!(HdlcParameters::parse(&p.encode_full()), Ok(p));
            prop_assert_eq!(HdlcParameters::parse(&p.encode_compact()), Ok(p));
        }

        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..40)) {
            let _ = HdlcParameters::parse(&bytes);
        }
    }
}
