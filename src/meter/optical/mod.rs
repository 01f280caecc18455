//! IEC 62056-21 on the optical port, client side: drives the sans-IO `ClientSession` over
//! a link. Sign-on at 300 baud 7E1, identification, option select, the baud switch the
//! moment the session asks for it, then a mode C data readout, a programming-mode read of
//! single registers (R1, with the P1 password when the meter asks), or mode E: switch to
//! 8N1 and hand the same link to the DLMS `Session` over HDLC.
//!
//! - [`read_out`], [`read_registers`], [`open_mode_e`]: one session each.
//! - [`ReadoutMap`]: which readout id answers which short code (data; a site may replace it).
//! - [`traced`]: `probe --trace` lines with IEC 62056-21 messages (and HDLC after mode E).
//!
//! This module must not parse IEC 62056-21 messages itself (that is `protocol`), open
//! ports (that is `transport`) or judge values (that is `agent`).

mod drive;
mod map;
mod trace;
mod value;

use std::time::Duration;

use thiserror::Error;

use super::{MeterError, Session, SessionConfig};
use crate::protocol::iec62056_21::client::Phase;
use crate::protocol::iec62056_21::{
    BaudChoice, BccPolicy, ClientFailure, ClientMode, ClientOptions, DataId, DeviceAddress,
    Password, Readout, INITIAL_BAUD,
};
use crate::transport::{BoxLink, Link, TransportError};

pub use drive::Outcome;
pub use map::{IdEntry, MapError, OpticalItemFailure, OpticalReading, ReadoutMap};
pub use trace::{traced, OpticalTracer};
pub use value::ValueProblem;

/// How to talk to one meter's optical port. Build with [`OpticalConfig::new`] and adjust.
#[derive(Debug, Clone)]
pub struct OpticalConfig {
    /// Device address in the sign-on (`/?address!`); `None` for "any meter".
    pub address: Option<DeviceAddress>,
    /// Which baud rate to ask for in the option select.
    pub baud: BaudChoice,
    /// Strict for most meters; warn-only for meters known to send bad BCCs.
    pub bcc_policy: BccPolicy,
    /// Sent as P1 when the meter asks with P0 (programming mode). Redacted in `Debug`.
    pub password: Option<Password>,
    /// Baud rate of the sign-on (300 by the standard).
    pub initial_baud: u32,
    /// Longest wait for a reply, and between two characters of one.
    pub reply_timeout: Duration,
    /// Pause after the option select has left the wire before switching baud.
    pub switch_delay: Duration,
    /// The link carries 8-bit characters without parity (an 8N1 converter or a pty):
    /// add the even-parity bit to what we send and strip it from what we receive.
    pub soft_parity: bool,
}

impl OpticalConfig {
    /// Any meter, the baud rate it offers, strict BCC, no password, the session's timing.
    pub fn new() -> Self {
        let defaults = ClientOptions::new(ClientMode::DataReadout);
        OpticalConfig {
            address: None,
            baud: BaudChoice::AsOffered,
            bcc_policy: BccPolicy::Strict,
            password: None,
            initial_baud: INITIAL_BAUD,
            reply_timeout: defaults.reply_timeout,
            switch_delay: defaults.switch_delay,
            soft_parity: false,
        }
    }

    /// The session options for `mode`.
    pub fn options(&self, mode: ClientMode) -> ClientOptions {
        let mut o = ClientOptions::new(mode);
        o.address = self.address.clone();
        o.baud = self.baud;
        o.bcc_policy = self.bcc_policy;
        o.password = self.password.clone();
        o.initial_baud = self.initial_baud;
        o.reply_timeout = self.reply_timeout;
        o.password_wait = self.reply_timeout;
        o.switch_delay = self.switch_delay;
        o
    }
}

impl Default for OpticalConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Why an optical session failed.
#[derive(Debug, Error)]
pub enum OpticalError {
    /// Nothing answered the sign-on.
    #[error("no identification after the sign-on at {baud} baud on {link}: check the optical head (seated on the port, cable, LED facing the meter), that the meter's optical port is enabled, or try `probe --autodetect`")]
    NoAnswer { link: String, baud: u32 },

    /// The session started but did not finish.
    #[error("optical session on {link} failed: {failure}{}", hint(failure))]
    Session {
        link: String,
        failure: ClientFailure,
    },

    /// The byte link failed.
    #[error(transparent)]
    Transport(#[from] TransportError),

    /// Mode E: the switch worked but the DLMS session did not open.
    #[error("after the mode E switch: {0}")]
    Dlms(#[from] MeterError),

    /// The session ended without the outcome asked for (a readout where HDLC was
    /// expected, or the reverse): a bug, or a meter that answers out of turn.
    #[error("optical session on {link} ended with {got} where {wanted} was expected")]
    Unexpected {
        link: String,
        wanted: &'static str,
        got: &'static str,
    },
}

impl OpticalError {
    /// Whether the meter refused or asked for a password (exit code 77 in the probe).
    pub fn is_password(&self) -> bool {
        matches!(
            self,
            OpticalError::Session {
                failure: ClientFailure::PasswordRejected | ClientFailure::PasswordRequired,
                ..
            } | OpticalError::Dlms(
                MeterError::WrongPassword { .. } | MeterError::PasswordRequired { .. }
            )
        )
    }

    /// Whether nothing (or nothing usable) came back: the link, not the data.
    pub fn is_unreachable(&self) -> bool {
        match self {
            OpticalError::NoAnswer { .. } | OpticalError::Transport(_) => true,
            OpticalError::Session { failure, .. } => {
                matches!(failure, ClientFailure::Timeout { .. })
            }
            OpticalError::Dlms(e) => e.is_fatal(),
            OpticalError::Unexpected { .. } => false,
        }
    }
}

/// What to try after a failure, appended to its message.
fn hint(failure: &ClientFailure) -> &'static str {
    match failure {
        ClientFailure::ModeEUnavailable => ": read it with a mode C readout instead",
        ClientFailure::ModeUnsupported { .. } => ": only a data readout is possible",
        ClientFailure::PasswordRequired => ": give the meter's P1 password with --password-file",
        ClientFailure::PasswordRejected => ": check the P1 password (the meter may lock after repeated failures)",
        ClientFailure::BadBcc(_) => ": if this meter is known to send bad BCCs, set its BCC policy to warn-only",
        ClientFailure::Timeout { phase: Phase::Readout } => ": the meter stopped answering after the baud switch; try a lower rate (--optical-baud 2400) or a longer switch delay",
        _ => "",
    }
}

/// Mode C data readout: the meter's data sets. BCC mismatches accepted under
/// `BccPolicy::WarnOnly` are in `Readout::bcc_warnings` (and logged here).
pub async fn read_out<L: Link + ?Sized>(
    link: &mut L,
    cfg: &OpticalConfig,
) -> Result<Readout, OpticalError> {
    let options = cfg.options(ClientMode::DataReadout);
    let outcome = drive::run(link, options, cfg.soft_parity).await?;
    expect_readout(link, outcome)
}

/// Programming mode: read each register with R1 (the P1 password is sent if the meter
/// asks for one), then sign off with B0. Refused reads are in `Readout::register_errors`.
pub async fn read_registers<L: Link + ?Sized>(
    link: &mut L,
    cfg: &OpticalConfig,
    registers: Vec<DataId>,
) -> Result<Readout, OpticalError> {
    let options = cfg.options(ClientMode::Programming { registers });
    let outcome = drive::run(link, options, cfg.soft_parity).await?;
    expect_readout(link, outcome)
}

/// Mode E: sign on, switch to 8N1 at the agreed rate, and open a DLMS association over
/// HDLC on the same link.
pub async fn open_mode_e(
    mut link: BoxLink,
    cfg: &OpticalConfig,
    dlms: SessionConfig,
) -> Result<Session, OpticalError> {
    let options = cfg.options(ClientMode::ModeE);
    match drive::run(&mut link, options, cfg.soft_parity).await? {
        Outcome::Hdlc { baud } => {
            tracing::debug!(link = %link.describe(), baud, "mode E: HDLC from here");
            Ok(Session::open(link, dlms).await?)
        }
        Outcome::Readout(_) => Err(OpticalError::Unexpected {
            link: link.describe(),
            wanted: "the switch to HDLC",
            got: "a readout",
        }),
    }
}

fn expect_readout<L: Link + ?Sized>(link: &L, outcome: Outcome) -> Result<Readout, OpticalError> {
    match outcome {
        Outcome::Readout(r) => {
            for m in &r.bcc_warnings {
                tracing::warn!(link = %link.describe(), %m, "block taken despite a bad BCC (warn-only policy)");
            }
            Ok(r)
        }
        Outcome::Hdlc { .. } => Err(OpticalError::Unexpected {
            link: link.describe(),
            wanted: "a readout",
            got: "the switch to HDLC",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_carry_the_site_settings() {
        let mut c = OpticalConfig::new();
        c.bcc_policy = BccPolicy::WarnOnly;
        c.baud = BaudChoice::AtMost(2400);
        c.password = Some(Password::new("s3cret").unwrap());
        c.reply_timeout = Duration::from_millis(900);
        let o = c.options(ClientMode::ModeE);
        assert_eq!(o.mode, ClientMode::ModeE);
        assert_eq!(o.bcc_policy, BccPolicy::WarnOnly);
        assert_eq!(o.baud, BaudChoice::AtMost(2400));
        assert_eq!(o.reply_timeout, Duration::from_millis(900));
        assert_eq!(o.password.as_ref().map(Password::expose), Some("s3cret"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }

    #[test]
    fn errors_say_what_to_try() {
        let e = OpticalError::Session {
            link: "serial /dev/ttyUSB0 300 7E1".into(),
            failure: ClientFailure::ModeEUnavailable,
        };
        assert!(e.to_string().contains("mode C readout instead"), "{e}");
        assert!(!e.is_password() && !e.is_unreachable());
        let e = OpticalError::Session {
            link: "x".into(),
            failure: ClientFailure::PasswordRequired,
        };
        assert!(e.to_string().contains("--password-file"), "{e}");
        assert!(e.is_password());
        let e = OpticalError::NoAnswer {
            link: "serial /dev/ttyUSB0 300 7E1".into(),
            baud: 300,
        };
        assert!(e.to_string().contains("optical head"), "{e}");
        assert!(e.is_unreachable());
    }
}
