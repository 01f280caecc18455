//! A bus's link, kept open between meters and reopened with backoff when it fails.
//!
//! A missing serial port or a refused TCP connection is not an error of the daemon:
//! the bus waits out a growing delay before trying again, and the meters due meanwhile
//! fail their poll with the last open error. Nothing here reads or writes meter bytes.

use crate::config::{BusConfig, BusEndpoint};
use crate::transport::{Backoff, BoxLink, Delays, LinkSpec};
use std::time::Duration;
use tokio::time::Instant;

/// How long a TCP connection may take to come up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The link of one bus: open, or closed with the time of the next attempt.
pub struct BusLink {
    spec: LinkSpec,
    backoff: Backoff,
    delays: Delays,
    seed: u64,
    link: Option<BoxLink>,
    /// After a failed open: not before this instant, and why it failed.
    blocked: Option<(Instant, String)>,
}

/// What `take` found.
pub enum Taken {
    /// The link, open (`fresh` when it was opened just now).
    Open { link: BoxLink, fresh: bool },
    /// The link cannot be opened (now): the error, and whether this call tried.
    Unavailable { error: String, tried: bool },
}

impl BusLink {
    /// `quickest` is the shortest status interval on the bus: the first retry comes no
    /// later than that, the longest wait is four of them (at most a minute).
    pub fn new(bus: &BusConfig, quickest: Duration, seed: u64) -> Self {
        let backoff = Backoff {
            initial: Duration::from_secs(1).min(quickest),
            max: Duration::from_secs(60).min(quickest.saturating_mul(4)),
            factor: 2.0,
            jitter: 0.2,
        };
        BusLink {
            spec: spec(bus),
            backoff,
            delays: backoff.delays(seed),
            seed,
            link: None,
            blocked: None,
        }
    }

    pub fn target(&self) -> &str {
        self.spec.target()
    }

    /// The open link, opening it first if needed (unless a recent failure says wait).
    pub async fn take(&mut self) -> Taken {
        if let Some(link) = self.link.take() {
            return Taken::Open { link, fresh: false };
        }
        if let Some((until, error)) = &self.blocked {
            if Instant::now() < *until {
                return Taken::Unavailable {
                    error: error.clone(),
                    tried: false,
                };
            }
        }
        match self.spec.open().await {
            Ok(link) => {
                self.blocked = None;
                // The next outage starts again from the shortest delay.
                self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
                self.delays = self.backoff.delays(self.seed);
                Taken::Open { link, fresh: true }
            }
            Err(e) => {
                let error = e.to_string();
                let wait = self.delays.next().unwrap_or(self.backoff.max);
                self.blocked = Some((Instant::now() + wait, error.clone()));
                Taken::Unavailable { error, tried: true }
            }
        }
    }

    /// Give the link back after a clean conversation (kept for the next meter).
    pub fn put_back(&mut self, link: BoxLink) {
        self.link = Some(link);
    }

    /// Close the link (it is reopened for the next meter).
    pub fn close(&mut self) {
        self.link = None;
    }
}

/// The link spec of a bus.
pub fn spec(bus: &BusConfig) -> LinkSpec {
    match &bus.endpoint {
        BusEndpoint::Serial { port, line } => LinkSpec::Serial {
            port: port.clone(),
            line: *line,
        },
        BusEndpoint::Tcp { endpoint } => LinkSpec::Tcp {
            endpoint: endpoint.clone(),
            connect_timeout: CONNECT_TIMEOUT,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BusProtocol;

    fn tcp_bus(endpoint: String) -> BusConfig {
        BusConfig {
            name: "b".into(),
            endpoint: BusEndpoint::Tcp { endpoint },
            protocol: BusProtocol::Hdlc,
            response_timeout: Duration::from_secs(1),
            inter_char_timeout: Duration::from_millis(50),
            retries: 1,
            optical: None,
            meters: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_refused_link_waits_before_trying_again_then_reopens() {
        // A port that was just free: nothing listens there.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let mut link = BusLink::new(&tcp_bus(port.to_string()), Duration::from_secs(5), 1);
        assert!(matches!(
            link.take().await,
            Taken::Unavailable { tried: true, .. }
        ));
        assert!(
            matches!(link.take().await, Taken::Unavailable { tried: false, .. }),
            "the second call inside the backoff does not try"
        );
        let listener = tokio::net::TcpListener::bind(port).await.unwrap();
        tokio::time::pause();
        tokio::time::advance(Duration::from_millis(1001)).await;
        tokio::time::resume();
        let Taken::Open { link: l, fresh } = link.take().await else {
            panic!("the listener is back");
        };
        assert!(fresh);
        let _accepted = listener.accept().await.unwrap();
        link.put_back(l);
        assert!(matches!(
            link.take().await,
            Taken::Open { fresh: false, .. }
        ));
    }
}
