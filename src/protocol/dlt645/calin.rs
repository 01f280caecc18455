//! The Calin DL/T 645 profile: vendor identifiers seen in public integration code for Calin
//! meters, not documented by the vendor.
//!
//! - `E4 21` credit and relay ([`CreditRelay`])
//! - `EF F5` running status ([`RunningStatus`])
//! - `C1 11` status report with relay-open, magnetic, terminal-cover, cover, current-reverse
//!   and current-imbalance bits ([`StatusWord`])
//!
//! These are two-byte (1997-style) identifiers. The public code names the identifiers and the
//! conditions, but we could not find the byte layouts or the bit positions in any public
//! source, so every layout below is our choice, marked `Design:`, and must be checked against
//! a real meter (a capture in `tests/data/` would settle it). Status bits decode into the
//! lookup core's operating statuses, so the alert engine treats a magnetic bit exactly as
//! status 1015. Nothing here does I/O.

use super::bcd::{self, BcdError, Decimal};
use super::di::DataId;
use crate::codes::OperatingStatus;

/// Credit and relay. Observed in public integration code; layout is our choice.
pub const CREDIT_RELAY: DataId = DataId::v1997([0xE4, 0x21]);
/// Running status. Observed in public integration code; layout is our choice.
pub const RUNNING_STATUS: DataId = DataId::v1997([0xEF, 0xF5]);
/// Status report bits. Observed in public integration code; bit order is our choice.
/// (In the 1997 standard `C1 11` is the maximum-demand period; Calin reuses it.)
pub const STATUS_REPORT: DataId = DataId::v1997([0xC1, 0x11]);

/// The relay as a meter reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RelayState {
    /// Supply connected.
    Closed,
    /// Supply disconnected; the reason is in the running status (code 87 sub-code).
    Open,
    /// A relay byte we do not know.
    Unknown(u8),
}

impl RelayState {
    /// Design: 0x00 closed, 0x01 open (our choice; see the module documentation).
    pub fn from_byte(b: u8) -> Self {
        match b {
            0x00 => RelayState::Closed,
            0x01 => RelayState::Open,
            other => RelayState::Unknown(other),
        }
    }

    pub fn to_byte(self) -> u8 {
        match self {
            RelayState::Closed => 0x00,
            RelayState::Open => 0x01,
            RelayState::Unknown(b) => b,
        }
    }
}

/// `E4 21`: remaining credit and relay state.
///
/// Design: five bytes, credit `XXXXXX.XX` (four BCD bytes, LSB first, in the meter's
/// currency or kWh as configured) then one relay byte ([`RelayState::from_byte`]). Our
/// choice: the public code names the identifier, not its layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CreditRelay {
    pub credit: Decimal,
    pub relay: RelayState,
}

impl CreditRelay {
    pub const WIRE_LEN: usize = 5;
    const CREDIT_DECIMALS: u8 = 2;

    pub fn decode(bytes: &[u8]) -> Result<Self, BcdError> {
        match bytes {
            [c0, c1, c2, c3, relay] => Ok(CreditRelay {
                credit: bcd::decode_unsigned(&[*c0, *c1, *c2, *c3], Self::CREDIT_DECIMALS)?,
                relay: RelayState::from_byte(*relay),
            }),
            _ => Err(BcdError::WrongLength {
                expected: Self::WIRE_LEN,
                found: bytes.len(),
            }),
        }
    }

    pub fn encode(&self) -> Result<Vec<u8>, BcdError> {
        let mut out = bcd::encode_unsigned(self.credit, 4, Self::CREDIT_DECIMALS)?;
        out.push(self.relay.to_byte());
        Ok(out)
    }
}

/// `EF F5`: the running status as a code-87 sub-code (0 = relay closed, 8 = not active, ...).
///
/// Design: one BCD byte holding the sub-code, so status = 1000 + sub-code. Our choice: the
/// public code names the identifier and calls it the running status; the CalinMeter guide
/// numbers the same states 1000–1025, so we read it as that sub-code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RunningStatus {
    pub sub_code: u8,
}

impl RunningStatus {
    pub const WIRE_LEN: usize = 1;

    pub fn decode(bytes: &[u8]) -> Result<Self, BcdError> {
        let d = match bytes {
            [b] => bcd::decode_unsigned(&[*b], 0)?,
            _ => {
                return Err(BcdError::WrongLength {
                    expected: Self::WIRE_LEN,
                    found: bytes.len(),
                })
            }
        };
        Ok(RunningStatus {
            sub_code: u8::try_from(d.value).unwrap_or(u8::MAX),
        })
    }

    pub fn encode(&self) -> Result<Vec<u8>, BcdError> {
        bcd::encode_unsigned(Decimal::new(i64::from(self.sub_code), 0), 1, 0)
    }

    /// The operating status this running status is (1000 + sub-code).
    pub fn operating_status(&self) -> OperatingStatus {
        OperatingStatus::from_sub_code(u32::from(self.sub_code))
    }
}

/// One bit of the `C1 11` status report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusBit {
    RelayOpen,
    Magnetic,
    TerminalCover,
    Cover,
    CurrentReverse,
    CurrentImbalance,
}

impl StatusBit {
    /// Every known bit, in bit order.
    pub const ALL: [StatusBit; 6] = [
        StatusBit::RelayOpen,
        StatusBit::Magnetic,
        StatusBit::TerminalCover,
        StatusBit::Cover,
        StatusBit::CurrentReverse,
        StatusBit::CurrentImbalance,
    ];

    /// Design: bit 0 relay open, 1 magnetic, 2 terminal cover, 3 cover, 4 current reverse,
    /// 5 current imbalance, the order the public code lists them in. The positions are our
    /// choice: no public source gives them.
    pub const fn position(self) -> u8 {
        match self {
            StatusBit::RelayOpen => 0,
            StatusBit::Magnetic => 1,
            StatusBit::TerminalCover => 2,
            StatusBit::Cover => 3,
            StatusBit::CurrentReverse => 4,
            StatusBit::CurrentImbalance => 5,
        }
    }

    const fn mask(self) -> u32 {
        1 << self.position()
    }

    /// The operating status with the same meaning; `None` for the relay bit, whose reason
    /// is the running status's business.
    pub fn operating_status(self) -> Option<OperatingStatus> {
        let sub_code = match self {
            StatusBit::RelayOpen => return None,
            StatusBit::Magnetic => 15,
            StatusBit::TerminalCover => 6,
            // Design: "cover" is the meter's upper cover (1005), as opposed to the terminal
            // cover (1006); 1014 (enclosure) would fit a meter box, which the bit does not name.
            StatusBit::Cover => 5,
            StatusBit::CurrentReverse => 13,
            StatusBit::CurrentImbalance => 16,
        };
        Some(OperatingStatus::from_sub_code(sub_code))
    }
}

/// `C1 11`: the status report. Bits beyond the six known ones are kept, not dropped.
///
/// Design: decoded from one to four bytes, least significant byte first (the frame's
/// length says how many); encoded as two bytes. Bit positions: see [`StatusBit::position`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StatusWord(pub u32);

impl StatusWord {
    /// Bytes [`StatusWord::encode`] writes when the word fits them.
    pub const WIRE_LEN: usize = 2;

    pub fn from_bits(bits: &[StatusBit]) -> Self {
        StatusWord(bits.iter().fold(0, |acc, b| acc | b.mask()))
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, BcdError> {
        if bytes.is_empty() || bytes.len() > 4 {
            return Err(BcdError::WrongLength {
                expected: Self::WIRE_LEN,
                found: bytes.len(),
            });
        }
        let word = bytes
            .iter()
            .rev()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
        Ok(StatusWord(word))
    }

    /// Two bytes LSB first, or four when bits above 15 are set.
    pub fn encode(&self) -> Vec<u8> {
        let bytes = self.0.to_le_bytes();
        let len = if self.0 > 0xFFFF { 4 } else { Self::WIRE_LEN };
        bytes.get(..len).unwrap_or(&bytes).to_vec()
    }

    pub fn is_set(&self, bit: StatusBit) -> bool {
        self.0 & bit.mask() != 0
    }

    /// The known bits that are set, in bit order.
    pub fn bits(&self) -> Vec<StatusBit> {
        StatusBit::ALL
            .into_iter()
            .filter(|b| self.is_set(*b))
            .collect()
    }

    /// Set bits we have no meaning for.
    pub fn unknown_bits(&self) -> u32 {
        let known = StatusBit::ALL.iter().fold(0, |acc, b| acc | b.mask());
        self.0 & !known
    }

    pub fn relay(&self) -> RelayState {
        if self.is_set(StatusBit::RelayOpen) {
            RelayState::Open
        } else {
            RelayState::Closed
        }
    }

    /// The operating statuses this word reports, one per set condition bit, in bit order:
    /// magnetic → 1015, terminal cover → 1006, cover → 1005, current reverse → 1013,
    /// current imbalance → 1016. With no condition bit set and the relay closed, it is
    /// `[1000]` (normal supply). With only the relay bit set it is empty: the relay is open
    /// for a reason this word does not carry; read the running status (`EF F5`) for it.
    pub fn conditions(&self) -> Vec<OperatingStatus> {
        let found: Vec<OperatingStatus> = self
            .bits()
            .into_iter()
            .filter_map(StatusBit::operating_status)
            .collect();
        if found.is_empty() && self.relay() == RelayState::Closed {
            return vec![OperatingStatus::from_sub_code(0)];
        }
        found
    }
}
