//! The I/O loop under a session: carries whole APDUs over a link, by HDLC (driving the
//! sans-IO `HdlcClient`) or by the IEC 62056-47 wrapper. It must not interpret APDUs.

mod hdlc;
mod wrapper;

use tokio::io::AsyncWriteExt;

use super::config::{Framing, SessionConfig};
use super::error::MeterError;
use crate::protocol::hdlc::HdlcParameters;
use crate::transport::{BoxLink, TransportError};

use hdlc::HdlcCarrier;
use wrapper::WrapperCarrier;

/// What the link layer saw and set aside, for diagnostics (`probe`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Frames written.
    pub frames_sent: u64,
    /// Frames dropped for failing their checks (bad HCS/FCS, bad header).
    pub damaged: u64,
    /// Our own frames echoed back by the line.
    pub echoes: u64,
    /// Repeats of frames already handled.
    pub duplicates: u64,
    /// Valid frames for another station or port, or with no place in the state.
    pub ignored: u64,
    /// Response timeouts (HDLC: each followed by a poll, or by failure).
    pub timeouts: u64,
}

/// Which phase a failure happened in: while connecting, nothing has answered yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Connecting,
    Exchanging,
    Disconnecting,
}

/// Carries APDUs over one link.
pub(crate) enum Carrier {
    Hdlc(Box<HdlcCarrier>),
    Wrapper(WrapperCarrier),
}

impl Carrier {
    pub(crate) fn new(config: &SessionConfig) -> Result<Self, MeterError> {
        Ok(match config.framing {
            Framing::Hdlc => Carrier::Hdlc(Box::new(HdlcCarrier::new(config)?)),
            Framing::Wrapper {
                client_wport,
                server_wport,
            } => Carrier::Wrapper(WrapperCarrier::new(config, client_wport, server_wport)),
        })
    }

    /// Bring the link up (SNRM/UA); nothing to do for the wrapper.
    pub(crate) async fn connect(&mut self, link: &mut BoxLink) -> Result<(), MeterError> {
        match self {
            Carrier::Hdlc(h) => h.connect(link).await.map(|_| ()),
            Carrier::Wrapper(_) => Ok(()),
        }
    }

    /// Send one APDU and return the APDU that answers it.
    pub(crate) async fn exchange(
        &mut self,
        link: &mut BoxLink,
        apdu: &[u8],
    ) -> Result<Vec<u8>, MeterError> {
        match self {
            Carrier::Hdlc(h) => h.exchange(link, apdu).await,
            Carrier::Wrapper(w) => w.exchange(link, apdu).await,
        }
    }

    /// Take the link down (HDLC DISC; UA or DM both count as done). The wrapper has no
    /// link layer: the caller closes the connection.
    pub(crate) async fn disconnect(&mut self, link: &mut BoxLink) -> Result<(), MeterError> {
        match self {
            Carrier::Hdlc(h) => h.disconnect(link).await,
            Carrier::Wrapper(_) => Ok(()),
        }
    }

    pub(crate) fn stats(&self) -> LinkStats {
        match self {
            Carrier::Hdlc(h) => h.stats,
            Carrier::Wrapper(w) => w.stats,
        }
    }

    /// Negotiated HDLC parameters, while connected.
    pub(crate) fn hdlc_parameters(&self) -> Option<HdlcParameters> {
        match self {
            Carrier::Hdlc(h) => h.parameters(),
            Carrier::Wrapper(_) => None,
        }
    }
}

async fn write_all(link: &mut BoxLink, bytes: &[u8]) -> Result<(), MeterError> {
    let result = async {
        link.write_all(bytes).await?;
        link.flush().await
    }
    .await;
    result.map_err(|source| {
        MeterError::Transport(TransportError::Io {
            link: link.describe(),
            source,
        })
    })
}
