//! DL/T 645 on RS-485, client side: drives the sans-IO `Exchange` over a link. Finds the
//! lone meter's address with the `AA..AA` wildcard, reads identifiers with bounded
//! retries and follow-up frames, and reads what the catalogue maps (short codes, the
//! Calin status word decoded into operating statuses, relay, address).
//!
//! - [`Dlt645Meter`]: one meter on one link: `connect`, `read_raw`, `read`.
//! - [`Dlt645Config`]: edition, address, line (2400 8E1 by default), timing.
//! - [`traced`]: `probe --trace` lines with DL/T 645 frames.
//!
//! This module must not parse frames itself (that is `protocol::dlt645`), open ports
//! (that is `transport`) or judge values (that is `agent`).

mod read;
mod trace;

use std::time::Duration;

use thiserror::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep_until, Instant};

use crate::protocol::dlt645::{
    Action, Address, Answer, DataId, Deframer, ErrorWord, Exchange, ExchangeConfig, ExchangeError,
    Version,
};
use crate::transport::{BoxLink, DataBits, LineSettings, Parity, StopBits, TransportError};

pub use read::{all_reads, Dlt645Failure, Dlt645ItemError, Dlt645Reading, Dlt645Report};
pub use trace::{traced, Dlt645Tracer};

/// 2400 baud 8E1: the usual DL/T 645 line (1200 on older meters).
pub const DEFAULT_LINE: LineSettings = line_8e1(2400);

/// `baud` 8E1.
pub const fn line_8e1(baud: u32) -> LineSettings {
    LineSettings {
        baud,
        data_bits: DataBits::Eight,
        parity: Parity::Even,
        stop_bits: StopBits::One,
    }
}

/// The meter number identifier of 1997, read from `AA..AA` to learn a lone meter's
/// address (1997 has no read-address command).
const METER_NUMBER_1997: DataId = DataId::v1997([0xC0, 0x32]);

/// How to talk to one DL/T 645 meter. Build with [`Dlt645Config::new`] and adjust.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dlt645Config {
    pub version: Version,
    /// The meter's address; `None` finds the lone meter on the line with the wildcard.
    pub address: Option<Address>,
    /// Applied to the link first (TCP ignores it); `None` keeps what the link has.
    pub line: Option<LineSettings>,
    /// Wait for each reply (DL/T 645-2007 lets the meter take up to 500 ms to start,
    /// plus the frame's time on the wire).
    pub reply_timeout: Duration,
    /// Sends of one request before giving up (at least 1).
    pub max_attempts: u8,
    /// Send the `FE FE FE FE` wake-up preamble.
    pub preamble: bool,
    /// Edition the Calin vendor identifiers (`C1 11`, `E4 21`, `EF F5`) are read in.
    /// Design: they are two-byte identifiers in the public code, so 1997 framing; that a
    /// 2007 Calin meter answers them so is our guess, to check on a real meter.
    pub vendor_version: Version,
}

impl Dlt645Config {
    /// 2400 8E1, wildcard address, 1 s per reply, 3 attempts, preamble on.
    pub fn new(version: Version) -> Self {
        let e = ExchangeConfig::new(version);
        Dlt645Config {
            version,
            address: None,
            line: Some(DEFAULT_LINE),
            reply_timeout: e.reply_timeout,
            max_attempts: e.max_attempts,
            preamble: e.preamble,
            vendor_version: Version::V1997,
        }
    }

    fn exchange(&self, version: Version) -> ExchangeConfig {
        let mut e = ExchangeConfig::new(version);
        e.reply_timeout = self.reply_timeout;
        e.max_attempts = self.max_attempts.max(1);
        e.preamble = self.preamble;
        e
    }
}

/// Why talking to a DL/T 645 meter failed.
#[derive(Debug, Error)]
pub enum Dlt645Error {
    /// No valid reply after every attempt.
    #[error("no answer from meter {address} on {link} after {attempts} attempts: check the address, the baud rate (2400 8E1 is usual, 1200 on older meters), the edition (--dlt645-version) and the A/B wiring, or try `probe --autodetect`")]
    NoAnswer {
        link: String,
        address: Address,
        attempts: u8,
    },

    /// The meter refused to tell its address.
    #[error(
        "meter on {link} refused to give its address ({error:?}): give it with --dlt645-address"
    )]
    AddressRefused { link: String, error: ErrorWord },

    /// A reply that breaks the protocol, or a request that could not be built.
    #[error("DL/T 645 exchange with {address} on {link} failed: {error}")]
    Exchange {
        link: String,
        address: Address,
        error: ExchangeError,
    },

    /// The byte link failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

impl Dlt645Error {
    /// Whether the meter (or the link) is gone, as opposed to one bad reply.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Dlt645Error::NoAnswer { .. } | Dlt645Error::Transport(_)
        )
    }
}

/// One meter on one link. See the module documentation.
pub struct Dlt645Meter {
    link: BoxLink,
    cfg: Dlt645Config,
    address: Address,
    deframer: Deframer,
    origin: Instant,
    /// Frames that were not the answer (echoes, other meters, stale replies).
    ignored: u64,
    /// Damaged frames dropped.
    damaged: u64,
}

impl std::fmt::Debug for Dlt645Meter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dlt645Meter")
            .field("link", &self.link.describe())
            .field("address", &self.address)
            .field("cfg", &self.cfg)
            .finish_non_exhaustive()
    }
}

impl Dlt645Meter {
    /// Set the line and, without a configured address, find the lone meter's: read
    /// address (2007) or the meter number (1997) from `AA..AA`.
    pub async fn connect(mut link: BoxLink, cfg: Dlt645Config) -> Result<Self, Dlt645Error> {
        if let Some(line) = cfg.line {
            link.set_line(line).await?;
        }
        let mut meter = Dlt645Meter {
            link,
            cfg,
            address: cfg.address.unwrap_or(Address::WILDCARD),
            deframer: Deframer::new(),
            origin: Instant::now(),
            ignored: 0,
            damaged: 0,
        };
        if cfg.address.is_none() {
            meter.address = meter.find_address().await?;
        }
        Ok(meter)
    }

    /// The meter's address (the real one once found).
    pub fn address(&self) -> Address {
        self.address
    }

    pub fn config(&self) -> &Dlt645Config {
        &self.cfg
    }

    /// The link's name.
    pub fn link_description(&self) -> String {
        self.link.describe()
    }

    /// Frames set aside so far: (not the answer, damaged).
    pub fn stats(&self) -> (u64, u64) {
        (self.ignored, self.damaged)
    }

    /// Give the link back (for another protocol on the same port).
    pub fn into_link(self) -> BoxLink {
        self.link
    }

    async fn find_address(&mut self) -> Result<Address, Dlt645Error> {
        let link = self.link.describe();
        let exchange = match self.cfg.version {
            Version::V2007 => Exchange::read_address(self.cfg.exchange(Version::V2007)),
            Version::V1997 => Exchange::read(
                self.cfg.exchange(Version::V1997),
                Address::WILDCARD,
                METER_NUMBER_1997,
            ),
        };
        let exchange = exchange.map_err(|error| Dlt645Error::Exchange {
            link: link.clone(),
            address: Address::WILDCARD,
            error,
        })?;
        match self.run(exchange).await? {
            Ok(Answer::Address(a) | Answer::Data { address: a, .. }) => Ok(a),
            Err(error) => Err(Dlt645Error::AddressRefused { link, error }),
        }
    }

    /// Read one identifier's data (follow-up frames joined), or the meter's refusal.
    /// The identifier's edition picks the framing.
    pub async fn read_raw(
        &mut self,
        di: DataId,
    ) -> Result<Result<Vec<u8>, ErrorWord>, Dlt645Error> {
        let exchange =
            Exchange::read(self.cfg.exchange(di.version()), self.address, di).map_err(|error| {
                Dlt645Error::Exchange {
                    link: self.link.describe(),
                    address: self.address,
                    error,
                }
            })?;
        Ok(match self.run(exchange).await? {
            Ok(Answer::Data { data, .. }) => Ok(data),
            Ok(Answer::Address(_)) => Ok(Vec::new()),
            Err(refusal) => Err(refusal),
        })
    }

    /// Carry out one exchange to its end.
    async fn run(&mut self, mut ex: Exchange) -> Result<Result<Answer, ErrorWord>, Dlt645Error> {
        // Bytes left from an earlier exchange (a late duplicate) are not this answer.
        self.deframer.clear();
        let mut action = ex.start(self.origin.elapsed());
        let mut deadline = Duration::ZERO;
        loop {
            match action {
                Action::Send {
                    bytes,
                    deadline: d,
                    attempt,
                    max_attempts,
                } => {
                    if attempt > 1 {
                        tracing::debug!(link = %self.link.describe(), attempt, max_attempts, "DL/T 645 retry");
                    }
                    self.write(&bytes).await?;
                    deadline = d;
                }
                Action::Done(answer) => return Ok(Ok(answer)),
                Action::Refused { error, .. } => return Ok(Err(error)),
                Action::Fail(ExchangeError::NoResponse { attempts }) => {
                    return Err(Dlt645Error::NoAnswer {
                        link: self.link.describe(),
                        address: self.address,
                        attempts,
                    })
                }
                Action::Fail(error) => {
                    return Err(Dlt645Error::Exchange {
                        link: self.link.describe(),
                        address: self.address,
                        error,
                    })
                }
                Action::Ignored(why) => {
                    self.ignored += 1;
                    tracing::debug!(?why, "DL/T 645 frame ignored");
                }
            }
            action = self.next_event(&mut ex, deadline).await?;
        }
    }

    /// The exchange's reaction to the next frame that is not ignored, or to its timer.
    async fn next_event(
        &mut self,
        ex: &mut Exchange,
        deadline: Duration,
    ) -> Result<Action, Dlt645Error> {
        let mut buf = [0u8; 512];
        loop {
            while let Some(next) = self.deframer.next_frame().transpose() {
                match next {
                    Ok(frame) => match ex.handle_frame(self.origin.elapsed(), &frame) {
                        Action::Ignored(why) => {
                            self.ignored += 1;
                            tracing::debug!(?why, "DL/T 645 frame ignored");
                        }
                        action => return Ok(action),
                    },
                    Err(e) => {
                        self.damaged += 1;
                        tracing::debug!(error = %e, "DL/T 645 damaged frame dropped");
                    }
                }
            }
            tokio::select! {
                read = self.link.read(&mut buf) => {
                    let n = match read {
                        Ok(0) => return Err(TransportError::Closed { link: self.link.describe() }.into()),
                        Ok(n) => n,
                        Err(source) => {
                            return Err(TransportError::Io { link: self.link.describe(), source }.into())
                        }
                    };
                    let mut rest = buf.get(..n).unwrap_or_default();
                    while !rest.is_empty() {
                        let taken = self.deframer.push(rest);
                        rest = rest.get(taken..).unwrap_or_default();
                        if taken == 0 {
                            // Full of bytes that are no frame yet: make room.
                            self.deframer.clear();
                        }
                    }
                }
                () = sleep_until(self.origin + deadline) => {
                    return Ok(ex.handle_timeout(self.origin.elapsed()));
                }
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), TransportError> {
        let mut result = self.link.write_all(bytes).await;
        if result.is_ok() {
            result = self.link.flush().await;
        }
        result.map_err(|source| TransportError::Io {
            link: self.link.describe(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_usual_line_and_timing() {
        let c = Dlt645Config::new(Version::V2007);
        assert_eq!(c.line.unwrap().to_string(), "2400 8E1");
        assert_eq!(c.address, None);
        assert_eq!(c.vendor_version, Version::V1997);
        let e = c.exchange(Version::V1997);
        assert_eq!(e.version, Version::V1997);
        assert_eq!(
            (e.max_attempts, e.reply_timeout),
            (3, Duration::from_secs(1))
        );
        assert_eq!(line_8e1(1200).to_string(), "1200 8E1");
    }

    #[test]
    fn no_answer_says_what_to_try() {
        let e = Dlt645Error::NoAnswer {
            link: "serial /dev/ttyUSB0 2400 8E1".into(),
            address: Address::WILDCARD,
            attempts: 3,
        };
        let text = e.to_string();
        assert!(
            text.contains("AAAAAAAAAAAA") && text.contains("2400 8E1"),
            "{text}"
        );
        assert!(text.contains("--dlt645-version"), "{text}");
        assert!(e.is_unreachable());
    }
}
