//! The I/O loop of one IEC 62056-21 client session: carries out the session's actions on
//! a link (write, arm the timer, change the line) and feeds it what arrives and when.
//!
//! Time is tokio's (`Instant`), so tests with a paused clock run the whole session in
//! virtual time. Nothing here decides protocol timing: the session says when to switch.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep_until, Instant};

use super::OpticalError;
use crate::protocol::iec62056_21::client::Phase;
use crate::protocol::iec62056_21::{
    add_even_parity, strip_parity, ClientAction, ClientFailure, ClientOptions, ClientSession,
    Framing, Readout,
};
use crate::transport::{LineSettings, Link, TransportError};

/// How a session ended well.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A data readout, or the answers of a programming-mode read.
    Readout(Readout),
    /// Mode E: the link is at `baud` 8N1 and the meter expects HDLC.
    Hdlc { baud: u32 },
}

/// A received character with bad parity, passed on as a character no message contains,
/// so the session's framer drops it as noise.
const NOISE: u8 = 0x7F;

/// The line settings of a `SwitchLine` action.
pub(super) fn line_for(baud: u32, framing: Framing) -> LineSettings {
    match framing {
        Framing::SevenE1 => LineSettings::new_7e1(baud),
        Framing::EightN1 => LineSettings::new_8n1(baud),
    }
}

/// Run one session on `link` to its end. The link is first set to the sign-on line
/// (`initial_baud` 7E1).
pub(super) async fn run<L: Link + ?Sized>(
    link: &mut L,
    options: ClientOptions,
    soft_parity: bool,
) -> Result<Outcome, OpticalError> {
    let initial_baud = options.initial_baud;
    link.set_line(LineSettings::new_7e1(initial_baud)).await?;
    let mut framing = Framing::SevenE1;
    let origin = Instant::now();
    let mut session = ClientSession::new(options);
    session.start(Duration::ZERO);
    let mut buf = [0u8; 512];
    loop {
        while let Some(action) = session.poll_action() {
            match action {
                ClientAction::Send(mut bytes) => {
                    if soft_parity && framing == Framing::SevenE1 {
                        bytes.iter_mut().for_each(|b| *b = add_even_parity(*b));
                    }
                    write(link, &bytes).await?;
                }
                ClientAction::SetTimer(_) => {}
                ClientAction::SwitchLine { baud, framing: f } => {
                    tracing::debug!(link = %link.describe(), baud, ?f, "baud switch");
                    framing = f;
                    link.set_line(line_for(baud, f)).await?;
                }
                ClientAction::Deliver(readout) => return Ok(Outcome::Readout(readout)),
                ClientAction::EnterHdlc { baud } => return Ok(Outcome::Hdlc { baud }),
                ClientAction::Fail(ClientFailure::Timeout {
                    phase: Phase::Identification,
                }) => {
                    return Err(OpticalError::NoAnswer {
                        link: link.describe(),
                        baud: initial_baud,
                    })
                }
                ClientAction::Fail(failure) => {
                    return Err(OpticalError::Session {
                        link: link.describe(),
                        failure,
                    })
                }
            }
        }
        let Some(deadline) = session.next_deadline() else {
            // Every live state has a timer; a session without one has nothing to wait for.
            return Err(OpticalError::Unexpected {
                link: link.describe(),
                wanted: "a timer or an outcome",
                got: "neither",
            });
        };
        tokio::select! {
            read = link.read(&mut buf) => {
                let n = match read {
                    Ok(0) => return Err(TransportError::Closed { link: link.describe() }.into()),
                    Ok(n) => n,
                    Err(source) => {
                        return Err(TransportError::Io { link: link.describe(), source }.into())
                    }
                };
                let got = buf.get_mut(..n).unwrap_or_default();
                if soft_parity && framing == Framing::SevenE1 {
                    got.iter_mut().for_each(|b| *b = strip_parity(*b).unwrap_or(NOISE));
                }
                session.handle_bytes(origin.elapsed(), got);
            }
            () = sleep_until(origin + deadline) => session.handle_timeout(origin.elapsed()),
        }
    }
}

async fn write<L: Link + ?Sized>(link: &mut L, bytes: &[u8]) -> Result<(), TransportError> {
    let mut result = link.write_all(bytes).await;
    if result.is_ok() {
        result = link.flush().await;
    }
    result.map_err(|source| TransportError::Io {
        link: link.describe(),
        source,
    })
}
