//! The wrapper carrier (IEC 62056-47 over TCP): one wrapper frame per APDU each way.
//! TCP already recovers lost bytes, so there is no retransmission: a request is never
//! sent twice (an ACTION must not run twice); a missing answer fails after the response
//! timeout. Frames between other wPorts are set aside.

use std::time::Duration;

use tokio::time::Instant;

use super::{write_all, LinkStats, Phase};
use crate::meter::config::SessionConfig;
use crate::meter::error::MeterError;
use crate::protocol::wrapper::{WrapperDecoder, WrapperFrame};
use crate::transport::{read_some, BoxLink, TimeoutPhase, TransportError};

pub(crate) struct WrapperCarrier {
    client_wport: u16,
    server_wport: u16,
    decoder: WrapperDecoder,
    response_timeout: Duration,
    inter_char: Duration,
    address: String,
    /// Nothing has answered yet: a timeout means "no answer at this address".
    answered: bool,
    pub(super) stats: LinkStats,
}

impl WrapperCarrier {
    pub(super) fn new(config: &SessionConfig, client_wport: u16, server_wport: u16) -> Self {
        WrapperCarrier {
            client_wport,
            server_wport,
            decoder: WrapperDecoder::new(config.max_response_bytes),
            response_timeout: config.response_timeout,
            inter_char: config.inter_char_timeout,
            address: config.describe_address(),
            answered: false,
            stats: LinkStats::default(),
        }
    }

    pub(super) async fn exchange(
        &mut self,
        link: &mut BoxLink,
        apdu: &[u8],
    ) -> Result<Vec<u8>, MeterError> {
        let frame = WrapperFrame::new(self.client_wport, self.server_wport, apdu.to_vec());
        let bytes = frame.to_bytes().map_err(|e| wrapper_error(link, e))?;
        write_all(link, &bytes).await?;
        self.stats.frames_sent += 1;
        let phase = if self.answered {
            Phase::Exchanging
        } else {
            Phase::Connecting
        };
        let mut buf = vec![0u8; 4096];
        loop {
            if let Some(apdu) = self.next_apdu(link)? {
                self.answered = true;
                return Ok(apdu);
            }
            let deadline = Instant::now() + self.response_timeout;
            let n = match read_some(link.as_mut(), &mut buf, deadline, self.inter_char).await {
                Ok(n) => n,
                Err(TransportError::Timeout {
                    phase: TimeoutPhase::FirstByte,
                    ..
                }) if phase == Phase::Connecting => {
                    self.stats.timeouts += 1;
                    return Err(MeterError::NoAnswer {
                        link: link.describe(),
                        address: self.address.clone(),
                    });
                }
                Err(e) => {
                    self.stats.timeouts += u64::from(matches!(e, TransportError::Timeout { .. }));
                    return Err(e.into());
                }
            };
            let mut rest = buf.get(..n).unwrap_or(&[]);
            while !rest.is_empty() {
                let taken = self.decoder.push(rest);
                rest = rest.get(taken..).unwrap_or(&[]);
                if let Some(apdu) = self.next_apdu(link)? {
                    // Design: anything after the answer belongs to no request of ours.
                    self.decoder.reset();
                    self.answered = true;
                    return Ok(apdu);
                }
                if taken == 0 {
                    break;
                }
            }
        }
    }

    /// The next frame from the meter to us, skipping frames between other ports.
    fn next_apdu(&mut self, link: &BoxLink) -> Result<Option<Vec<u8>>, MeterError> {
        loop {
            match self.decoder.next_frame() {
                Ok(None) => return Ok(None),
                Ok(Some(f))
                    if f.source == self.server_wport && f.destination == self.client_wport =>
                {
                    return Ok(Some(f.apdu))
                }
                Ok(Some(_)) => self.stats.ignored += 1,
                Err(e) => {
                    self.stats.damaged += 1;
                    return Err(wrapper_error(link, e));
                }
            }
        }
    }
}

fn wrapper_error(link: &BoxLink, e: crate::protocol::wrapper::WrapperError) -> MeterError {
    MeterError::Wrapper {
        link: link.describe(),
        error: e,
    }
}
