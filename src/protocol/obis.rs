//! OBIS codes (IEC 62056-61): the six-byte logical name of a COSEM object.
//!
//! Parsing and formatting only; what a code means belongs to `profile` and `codes`.

use core::fmt;
use core::str::FromStr;

use thiserror::Error;

/// An OBIS code A.B.C.D.E.F, e.g. `1.0.1.8.0.255` (active energy import, total).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObisCode(pub [u8; 6]);

/// Why a string is not an OBIS code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ObisParseError {
    #[error("OBIS code {input:?} has {found} value group(s), expected 6 (or 5 with F omitted)")]
    WrongGroupCount { input: String, found: usize },
    #[error("OBIS value group {group:?} in {input:?} is not a number 0..=255")]
    BadGroup { input: String, group: String },
    #[error("OBIS code {input:?} mixes separators in a way IEC 62056-61 does not allow")]
    BadSeparators { input: String },
}

impl ObisCode {
    pub const fn new(a: u8, b: u8, c: u8, d: u8, e: u8, f: u8) -> Self {
        ObisCode([a, b, c, d, e, f])
    }

    pub const fn as_bytes(&self) -> &[u8; 6] {
        &self.0
    }

    /// From the 6-byte octet-string a meter sends (e.g. a logical-name attribute).
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 6]>::try_from(bytes).ok().map(ObisCode)
    }

    /// The IEC 62056-61 form `A-B:C.D.E*F`, e.g. `1-0:1.8.0*255`.
    pub fn iec(&self) -> impl fmt::Display + '_ {
        IecForm(self)
    }
}

struct IecForm<'a>(&'a ObisCode);

impl fmt::Display for IecForm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0 .0;
        write!(f, "{a}-{b}:{c}.{d}.{e}*{g}")
    }
}

/// `1.0.1.8.0.255`.
impl fmt::Display for ObisCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a}.{b}.{c}.{d}.{e}.{g}")
    }
}

impl fmt::Debug for ObisCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ObisCode({self})")
    }
}

/// Accepts `1.0.1.8.0.255`, `1-0:1.8.0.255`, `1-0:1.8.0*255`, and the same IEC forms
/// without F (`1-0:1.8.0`, F = 255 as IEC 62056-61 allows when F is not used).
impl FromStr for ObisCode {
    type Err = ObisParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let input = s.trim();
        let bad_separators = || ObisParseError::BadSeparators {
            input: input.to_string(),
        };
        // Split off the optional "A-B:" prefix, then the C.D.E part and the optional "*F".
        let (ab, rest) = match input.split_once(':') {
            Some((ab, rest)) => (Some(ab), rest),
            None => (None, input),
        };
        let mut groups: Vec<&str> = Vec::with_capacity(6);
        if let Some(ab) = ab {
            let (a, b) = ab.split_once('-').ok_or_else(bad_separators)?;
            groups.extend([a, b]);
        }
        let (cde, f) = match rest.split_once('*') {
            Some((cde, f)) if ab.is_some() => (cde, Some(f)),
            Some(_) => return Err(bad_separators()),
            None => (rest, None),
        };
        groups.extend(cde.split('.'));
        groups.extend(f);
        if groups.iter().any(|g| g.contains(['-', ':', '*'])) {
            return Err(bad_separators());
        }
        // Only the IEC form may omit F.
        if ab.is_some() && f.is_none() && groups.len() == 5 {
            groups.push("255");
        }
        if groups.len() != 6 {
            return Err(ObisParseError::WrongGroupCount {
                input: input.to_string(),
                found: groups.len(),
            });
        }
        let mut out = [0u8; 6];
        for (slot, g) in out.iter_mut().zip(&groups) {
            *slot = g.trim().parse().map_err(|_| ObisParseError::BadGroup {
                input: input.to_string(),
                group: g.to_string(),
            })?;
        }
        Ok(ObisCode(out))
    }
}

impl From<ObisCode> for dlms_cosem::ObisCode {
    fn from(o: ObisCode) -> Self {
        let [a, b, c, d, e, f] = o.0;
        dlms_cosem::ObisCode::new(a, b, c, d, e, f)
    }
}

/// Design: `dlms_cosem::ObisCode` exposes no field accessors, only `Display` in the IEC
/// form `A-B:C.D.E*F`, so the conversion goes through that text (which we parse fully).
impl TryFrom<&dlms_cosem::ObisCode> for ObisCode {
    type Error = ObisParseError;

    fn try_from(o: &dlms_cosem::ObisCode) -> Result<Self, Self::Error> {
        o.to_string().parse()
    }
}

/// Serialised as its dotted text form, `"1.0.1.8.0.255"`.
impl serde::Serialize for ObisCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ENERGY: ObisCode = ObisCode::new(1, 0, 1, 8, 0, 255);

    #[test]
    fn parses_all_accepted_forms() {
        for s in [
            "1.0.1.8.0.255",
            "1-0:1.8.0.255",
            "1-0:1.8.0*255",
            "1-0:1.8.0",
            " 1-0:1.8.0*255 ",
        ] {
            assert_eq!(s.parse::<ObisCode>(), Ok(ENERGY), "{s}");
        }
    }

    #[test]
    fn formats_dotted_and_iec() {
        assert_eq!(ENERGY.to_string(), "1.0.1.8.0.255");
        assert_eq!(ENERGY.iec().to_string(), "1-0:1.8.0*255");
        assert_eq!(format!("{ENERGY:?}"), "ObisCode(1.0.1.8.0.255)");
    }

    #[test]
    fn refuses_malformed() {
        assert!(matches!(
            "1.0.1.8.0".parse::<ObisCode>(),
            Err(ObisParseError::WrongGroupCount { found: 5, .. })
        ));
        assert!(matches!(
            "1.0.1.8.0.256".parse::<ObisCode>(),
            Err(ObisParseError::BadGroup { group, .. }) if group == "256"
        ));
        assert!(matches!(
            "1.0.1.8.0*255".parse::<ObisCode>(),
            Err(ObisParseError::BadSeparators { .. })
        ));
        assert!(matches!(
            "1-0-2:1.8.0".parse::<ObisCode>(),
            Err(ObisParseError::BadSeparators { .. })
        ));
        assert!(matches!(
            "1-0:1.8.0.255.1".parse::<ObisCode>(),
            Err(ObisParseError::WrongGroupCount { found: 7, .. })
        ));
        assert!("".parse::<ObisCode>().is_err());
        assert!("1-0:1.8.-0*255".parse::<ObisCode>().is_err());
    }

    #[test]
    fn from_octet_string_bytes() {
        assert_eq!(ObisCode::from_slice(&[1, 0, 1, 8, 0, 255]), Some(ENERGY));
        assert_eq!(ObisCode::from_slice(&[1, 0, 1, 8, 0]), None);
    }

    proptest! {
        #[test]
        fn display_forms_round_trip(bytes in any::<[u8; 6]>()) {
            let o = ObisCode(bytes);
            prop_assert_eq!(o.to_string().parse::<ObisCode>(), Ok(o));
            prop_assert_eq!(o.iec().to_string().parse::<ObisCode>(), Ok(o));
            let theirs: dlms_cosem::ObisCode = o.into();
            prop_assert_eq!(ObisCode::try_from(&theirs), Ok(o));
            // Their bytes parser agrees with ours.
            let (_, parsed) = dlms_cosem::ObisCode::parse(&bytes).unwrap();
            prop_assert_eq!(parsed, theirs);
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,30}") {
            let _ = s.parse::<ObisCode>();
        }
    }
}
