//! The wrapper carrier (IEC 62056-47 over TCP): one wrapper frame per APDU each way.
//! TCP already recovers lost bytes, so there is no retransmission: a request is never
//! sent twice (an ACTION must not run twice); a missing answer fails after the response
//! timeout. Frames between other wPorts are set aside.

use std::collections::VecDeque;
use std::time::Duration;

use super::{write_all, LinkStats, Phase};
use crate::meter::config::SessionConfig;
use crate::meter::error::MeterError;
use crate::protocol::wrapper::{WrapperDecoder, WrapperError, WrapperFrame, HEADER_LEN};
use crate::transport::{read_frame, BoxLink, ReadTimeouts, TimeoutPhase, TransportError};

pub(crate) struct WrapperCarrier {
    client_wport: u16,
    server_wport: u16,
    decoder: WrapperDecoder,
    /// Frames decoded, not yet looked at.
    inbox: VecDeque<Result<WrapperFrame, WrapperError>>,
    response_timeout: Duration,
    inter_char: Duration,
    max_burst: usize,
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
            inbox: VecDeque::new(),
            response_timeout: config.response_timeout,
            inter_char: config.inter_char_timeout,
            max_burst: config
                .max_response_bytes
                .saturating_add(HEADER_LEN)
                .saturating_mul(2),
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
        loop {
            if let Some(apdu) = self.next_apdu(link)? {
                self.answered = true;
                return Ok(apdu);
            }
            let timeouts = ReadTimeouts {
                first_byte: self.response_timeout,
                inter_char: self.inter_char,
            };
            // Every chunk goes to the decoder; the read ends once a whole frame is in.
            let (decoder, inbox) = (&mut self.decoder, &mut self.inbox);
            let read = read_frame(link.as_mut(), timeouts, self.max_burst, |chunk| {
                decode(decoder, inbox, chunk);
                (!inbox.is_empty()).then_some(())
            })
            .await;
            match read {
                Ok(()) => {}
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
            }
        }
    }

    /// The next frame from the meter to us, skipping frames between other ports.
    fn next_apdu(&mut self, link: &BoxLink) -> Result<Option<Vec<u8>>, MeterError> {
        while let Some(frame) = self.inbox.pop_front() {
            match frame {
                Ok(f) if f.source == self.server_wport && f.destination == self.client_wport => {
                    return Ok(Some(f.apdu))
                }
                Ok(_) => self.stats.ignored += 1,
                Err(e) => {
                    self.stats.damaged += 1;
                    return Err(wrapper_error(link, e));
                }
            }
        }
        Ok(None)
    }
}

/// Push a chunk into the decoder and take out every whole frame.
fn decode(
    decoder: &mut WrapperDecoder,
    inbox: &mut VecDeque<Result<WrapperFrame, WrapperError>>,
    chunk: &[u8],
) {
    let mut rest = chunk;
    loop {
        let taken = decoder.push(rest);
        rest = rest.get(taken..).unwrap_or(&[]);
        loop {
            match decoder.next_frame() {
                Ok(Some(f)) => inbox.push_back(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    // The stream is out of step for good (the decoder keeps failing).
                    inbox.push_back(Err(e));
                    return;
                }
            }
        }
        if rest.is_empty() || taken == 0 {
            return;
        }
    }
}

fn wrapper_error(link: &BoxLink, e: WrapperError) -> MeterError {
    MeterError::Wrapper {
        link: link.describe(),
        error: e,
    }
}
