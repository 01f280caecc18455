//! The block check character (IEC 62056-21:2002 §6.2) and the per-meter policy for a
//! bad one.
//!
//! Pure arithmetic; this module must not decide what a session does with a mismatch.

/// What to do with a block whose BCC does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BccPolicy {
    /// A bad BCC is an error; the block is never taken as data.
    #[default]
    Strict,
    /// For meters known to emit junk BCCs: the block is accepted and the mismatch is
    /// reported alongside it so the caller can log it.
    WarnOnly,
}

/// A BCC that does not match the block it closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("bad BCC: computed {expected:#04x}, received {found:#04x}")]
pub struct BccMismatch {
    pub expected: u8,
    pub found: u8,
}

/// XOR of `bytes` (ISO 1155). §6.2: the BCC covers the bytes after the first SOH or
/// STX up to and including the ETX (or EOT), so callers pass exactly that span.
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |acc, b| acc ^ b)
}

/// Checks `found` against the BCC of `covered` and applies the policy: `Ok(None)` when
/// it matches, `Ok(Some(mismatch))` under `WarnOnly`, `Err` under `Strict`.
pub fn check(
    covered: &[u8],
    found: u8,
    policy: BccPolicy,
) -> Result<Option<BccMismatch>, BccMismatch> {
    let expected = bcc(covered);
    if expected == found {
        return Ok(None);
    }
    let mismatch = BccMismatch { expected, found };
    match policy {
        BccPolicy::Strict => Err(mismatch),
        BccPolicy::WarnOnly => Ok(Some(mismatch)),
    }
}
