//! The control code byte: direction, abnormal reply, follow-up, and the function.
//!
//! ```text
//! bit 7  D7  direction: 0 = from the master (request), 1 = from the meter (reply)
//! bit 6  D6  1 = abnormal reply (the data field is one error byte)
//! bit 5  D5  1 = more data follows in a follow-up frame
//! bit 4..0   function code (edition-dependent)
//! ```
//! DL/T 645-2007 and 1997, frame format: control code. What a function code means depends on the
//! edition; [`Function::decode`] takes it as an input and never fails.

/// Direction bit (D7). DL/T 645-2007, control code.
pub const DIRECTION_BIT: u8 = 0x80;
/// Abnormal-reply bit (D6). DL/T 645-2007, control code.
pub const ABNORMAL_BIT: u8 = 0x40;
/// Follow-up bit (D5): more data follows. DL/T 645-2007, control code.
pub const FOLLOW_UP_BIT: u8 = 0x20;
/// Function code bits (D4..D0). DL/T 645-2007, control code.
pub const FUNCTION_MASK: u8 = 0x1F;

use super::di::Version;

/// Who sent a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the master station (the agent): a request.
    FromMaster,
    /// From the meter: a reply.
    FromMeter,
}

/// A control code byte. Any byte is a valid control code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Control(pub u8);

impl Control {
    /// A request (D7 = 0) for a function code.
    pub const fn request(function_code: u8) -> Self {
        Control(function_code & FUNCTION_MASK)
    }

    /// A reply (D7 = 1) to a function code, normal or abnormal, with or without follow-up.
    pub const fn reply(function_code: u8, abnormal: bool, more: bool) -> Self {
        let mut b = DIRECTION_BIT | (function_code & FUNCTION_MASK);
        if abnormal {
            b |= ABNORMAL_BIT;
        }
        if more {
            b |= FOLLOW_UP_BIT;
        }
        Control(b)
    }

    pub const fn direction(self) -> Direction {
        if self.0 & DIRECTION_BIT != 0 {
            Direction::FromMeter
        } else {
            Direction::FromMaster
        }
    }

    pub const fn is_abnormal(self) -> bool {
        self.0 & ABNORMAL_BIT != 0
    }

    /// D5: more data follows (a reply), or a follow-up frame (a request).
    pub const fn has_follow_up(self) -> bool {
        self.0 & FOLLOW_UP_BIT != 0
    }

    pub const fn function_code(self) -> u8 {
        self.0 & FUNCTION_MASK
    }

    pub fn function(self, version: Version) -> Function {
        Function::decode(self.function_code(), version)
    }
}

/// A function, by edition. Codes an edition does not define stay `Unknown(code)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// 0x08 (both editions): broadcast time synchronisation; never answered.
    BroadcastTime,
    /// 0x11 (2007) / 0x01 (1997).
    ReadData,
    /// 0x12 (2007) / 0x02 (1997): the next part of long data.
    ReadFollowUp,
    /// 0x03 (1997 only): repeat the last answer.
    Reread,
    /// 0x13 (2007 only): read the communication address.
    ReadAddress,
    /// 0x14 (2007) / 0x04 (1997).
    WriteData,
    /// 0x15 (2007) / 0x0A (1997).
    WriteAddress,
    /// 0x16 (2007 only).
    Freeze,
    /// 0x17 (2007) / 0x0C (1997).
    ChangeBaudRate,
    /// 0x18 (2007) / 0x0F (1997).
    ChangePassword,
    /// 0x19 (2007) / 0x10 (1997).
    ClearMaxDemand,
    /// 0x1A (2007 only).
    ClearMeter,
    /// 0x1B (2007 only).
    ClearEvents,
    /// Any other code.
    Unknown(u8),
}

/// (2007 code, 1997 code) per function: the control code tables of both editions.
const CODES: &[(Function, Option<u8>, Option<u8>)] = &[
    (Function::BroadcastTime, Some(0x08), Some(0x08)),
    (Function::ReadData, Some(0x11), Some(0x01)),
    (Function::ReadFollowUp, Some(0x12), Some(0x02)),
    (Function::Reread, None, Some(0x03)),
    (Function::ReadAddress, Some(0x13), None),
    (Function::WriteData, Some(0x14), Some(0x04)),
    (Function::WriteAddress, Some(0x15), Some(0x0A)),
    (Function::Freeze, Some(0x16), None),
    (Function::ChangeBaudRate, Some(0x17), Some(0x0C)),
    (Function::ChangePassword, Some(0x18), Some(0x0F)),
    (Function::ClearMaxDemand, Some(0x19), Some(0x10)),
    (Function::ClearMeter, Some(0x1A), None),
    (Function::ClearEvents, Some(0x1B), None),
];

impl Function {
    /// The function a code means in `version`; never fails.
    pub fn decode(code: u8, version: Version) -> Self {
        let code = code & FUNCTION_MASK;
        CODES
            .iter()
            .find(|(_, c2007, c1997)| match version {
                Version::V2007 => *c2007 == Some(code),
                Version::V1997 => *c1997 == Some(code),
            })
            .map_or(Function::Unknown(code), |(f, _, _)| *f)
    }

    /// The code of this function in `version`, or `None` if that edition lacks it.
    pub fn code(self, version: Version) -> Option<u8> {
        if let Function::Unknown(c) = self {
            return Some(c & FUNCTION_MASK);
        }
        CODES
            .iter()
            .find(|(f, _, _)| *f == self)
            .and_then(|(_, c2007, c1997)| match version {
                Version::V2007 => *c2007,
                Version::V1997 => *c1997,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_codes_match_the_standard_tables() {
        // 2007: normal 0x91, follow-up 0xB1, abnormal 0xD1.
        assert_eq!(Control::reply(0x11, false, false).0, 0x91);
        assert_eq!(Control::reply(0x11, false, true).0, 0xB1);
        assert_eq!(Control::reply(0x11, true, false).0, 0xD1);
        // 1997: 0x81 / 0xA1 / 0xC1.
        assert_eq!(Control::reply(0x01, false, false).0, 0x81);
        assert_eq!(Control::reply(0x01, false, true).0, 0xA1);
        assert_eq!(Control::reply(0x01, true, false).0, 0xC1);
    }

    #[test]
    fn bits_decode() {
        let c = Control(0xB2);
        assert_eq!(c.direction(), Direction::FromMeter);
        assert!(!c.is_abnormal());
        assert!(c.has_follow_up());
        assert_eq!(c.function(Version::V2007), Function::ReadFollowUp);
        assert_eq!(Control(0x13).direction(), Direction::FromMaster);
    }

    #[test]
    fn functions_depend_on_the_edition() {
        assert_eq!(Function::decode(0x11, Version::V2007), Function::ReadData);
        assert_eq!(
            Function::decode(0x11, Version::V1997),
            Function::Unknown(0x11)
        );
        assert_eq!(Function::decode(0x01, Version::V1997), Function::ReadData);
        assert_eq!(
            Function::decode(0x13, Version::V1997),
            Function::Unknown(0x13)
        );
        assert_eq!(Function::ReadAddress.code(Version::V1997), None);
        assert_eq!(Function::WriteData.code(Version::V1997), Some(0x04));
        for code in 0..=0x1F {
            for v in [Version::V1997, Version::V2007] {
                let f = Function::decode(code, v);
                assert_eq!(f.code(v), Some(code), "{code:#04x} {v}");
            }
        }
    }
}
