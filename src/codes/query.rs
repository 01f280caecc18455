//! Parsing what a technician types: `1008`, `87:8`, `87:08`, `40`.
//!
//! Total over any string: a well-formed number always parses (to a known or unknown
//! code); anything else is a `ParseCodeError` that shows the accepted forms.

use super::{OperatingStatus, ShortCode, RELAY_REASON_CODE};
use std::fmt;

/// What a code string names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CodeQuery {
    /// A one- or two-digit number alone: a short code.
    Short(ShortCode),
    /// An operating status (`1008`) or a code-87 sub-code (`87:8`, same family).
    Status(OperatingStatus),
    /// A number of another width: well-formed, but no code family has it.
    Other(u64),
}

/// Input that is not a code at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{input}` is not a code: {reason}. Accepted forms: a short code (`40`, `01`), an operating status (`1008`), or a code-87 sub-code (`87:8` or `87:08`)")]
pub struct ParseCodeError {
    pub input: String,
    pub reason: &'static str,
}

// Design: the longest number we accept has 18 digits, so that it always fits a u64
// and an overflow can never be mistaken for a different code.
const MAX_DIGITS: usize = 18;

impl std::str::FromStr for CodeQuery {
    type Err = ParseCodeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let fail = |reason| ParseCodeError {
            input: input.chars().take(40).collect(),
            reason,
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(fail("it is empty"));
        }
        if let Some((prefix, sub)) = s.split_once(':') {
            let prefix =
                digits(prefix).ok_or_else(|| fail("the part before `:` is not a number"))?;
            if prefix != u64::from(RELAY_REASON_CODE) {
                return Err(fail("only code 87 has sub-codes (`87:N`)"));
            }
            let sub = digits(sub).ok_or_else(|| fail("the sub-code after `:` is not a number"))?;
            let sub = u32::try_from(sub).map_err(|_| fail("the sub-code is too large"))?;
            return Ok(CodeQuery::Status(OperatingStatus::from_sub_code(sub)));
        }
        let n = digits(s).ok_or_else(|| fail("it is not a number"))?;
        Ok(match s.len() {
            1 | 2 => CodeQuery::Short(ShortCode(n as u8)),
            4 => CodeQuery::Status(OperatingStatus(n as u32)),
            _ => CodeQuery::Other(n),
        })
    }
}

/// Parse plain ASCII digits (1..=MAX_DIGITS of them).
fn digits(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_DIGITS || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for CodeQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeQuery::Short(c) => write!(f, "{c}"),
            CodeQuery::Status(s) => write!(f, "{s}"),
            CodeQuery::Other(n) => write!(f, "{n}"),
        }
    }
}
