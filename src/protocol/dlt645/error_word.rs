//! The error byte of an abnormal reply (D6 set): a meter's refusal, as a value.
//!
//! Every bit names one reason; the meaning of a bit depends on the edition.
//! DL/T 645-2007 and 1997, abnormal reply: error information word ("错误信息字 SERR").
//! Clause numbers are left out: we worked from implementations, not the standard's text.
//! A refusal is not a transport failure: the exchange completed, the meter said no.

use super::di::Version;

/// One reason a meter refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCondition {
    /// 2007 bit 0: other error.
    Other,
    /// 2007 bit 1: no requested data (the meter does not have this identifier).
    NoRequestedData,
    /// 2007 bit 2: wrong password or not authorised. 1997 bit 2: wrong password.
    Unauthorised,
    /// 2007 bit 3: the baud rate cannot be changed.
    BaudRateNotChangeable,
    /// Bit 4 (both): too many seasons / year time zones.
    YearZonesExceeded,
    /// Bit 5 (both): too many day periods.
    DayPeriodsExceeded,
    /// Bit 6 (both): too many tariffs.
    TariffsExceeded,
    /// 1997 bit 0: illegal data.
    IllegalData,
    /// 1997 bit 1: wrong data identifier.
    DataIdError,
    /// A bit the edition reserves (bit 7; bit 3 in 1997), set anyway.
    Reserved(u8),
}

/// The error byte of an abnormal reply, with the edition that gives its bits a meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorWord {
    pub version: Version,
    pub raw: u8,
}

impl ErrorWord {
    pub const fn new(version: Version, raw: u8) -> Self {
        ErrorWord { version, raw }
    }

    /// An error byte with exactly this condition's bit set (for the simulator).
    pub fn from_condition(version: Version, condition: ErrorCondition) -> Self {
        let bit = (0..8u8)
            .find(|bit| Self::meaning(version, *bit) == condition)
            .unwrap_or(0);
        ErrorWord::new(version, 1 << bit)
    }

    /// Every condition whose bit is set, lowest bit first. Empty for a zero byte.
    pub fn conditions(&self) -> Vec<ErrorCondition> {
        (0..8u8)
            .filter(|bit| self.raw & (1 << bit) != 0)
            .map(|bit| Self::meaning(self.version, bit))
            .collect()
    }

    pub fn has(&self, condition: ErrorCondition) -> bool {
        self.conditions().contains(&condition)
    }

    fn meaning(version: Version, bit: u8) -> ErrorCondition {
        match (version, bit) {
            (Version::V2007, 0) => ErrorCondition::Other,
            (Version::V2007, 1) => ErrorCondition::NoRequestedData,
            (Version::V2007, 2) => ErrorCondition::Unauthorised,
            (Version::V2007, 3) => ErrorCondition::BaudRateNotChangeable,
            (Version::V1997, 0) => ErrorCondition::IllegalData,
            (Version::V1997, 1) => ErrorCondition::DataIdError,
            (Version::V1997, 2) => ErrorCondition::Unauthorised,
            (_, 4) => ErrorCondition::YearZonesExceeded,
            (_, 5) => ErrorCondition::DayPeriodsExceeded,
            (_, 6) => ErrorCondition::TariffsExceeded,
            (_, other) => ErrorCondition::Reserved(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_2007() {
        let w = ErrorWord::new(Version::V2007, 0b0000_0110);
        assert_eq!(
            w.conditions(),
            vec![
                ErrorCondition::NoRequestedData,
                ErrorCondition::Unauthorised
            ]
        );
        assert_eq!(
            ErrorWord::new(Version::V2007, 0x80).conditions(),
            vec![ErrorCondition::Reserved(7)]
        );
        assert!(ErrorWord::new(Version::V2007, 0).conditions().is_empty());
    }

    #[test]
    fn bits_1997_differ_from_2007() {
        let w = ErrorWord::new(Version::V1997, 0b0000_0011);
        assert_eq!(
            w.conditions(),
            vec![ErrorCondition::IllegalData, ErrorCondition::DataIdError]
        );
        assert_eq!(
            ErrorWord::new(Version::V1997, 0x08).conditions(),
            vec![ErrorCondition::Reserved(3)]
        );
    }

    #[test]
    fn from_condition_round_trips() {
        for v in [Version::V1997, Version::V2007] {
            for bit in 0..8u8 {
                let c = ErrorWord::new(v, 1 << bit).conditions()[0];
                assert_eq!(
                    ErrorWord::from_condition(v, c).raw,
                    1 << bit,
                    "{v} bit {bit}"
                );
            }
        }
    }
}
