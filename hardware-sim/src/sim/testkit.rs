//! A raw client for testing the simulator (and anything else that serves DLMS): the
//! protocol crate's `HdlcClient` driven over any [`Link`], with an independent `Deframer`
//! recording every frame and every damaged byte run that arrived, and a wrapper client.
//!
//! Deliberately not the agent's meter client: the simulator is tested against the
//! protocol layer alone, so the two ends do not share a client's mistakes.

use core::time::Duration;
use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

use crate::protocol::apdu::{
    Aare, Aarq, Apdu, ApduError, AttributeDescriptor, DataAccessResult, DataBlockResult,
    GetDataResult, GetRequest, GetResponse, InitiateRequest, InvokeIdAndPriority, SelectiveAccess,
};
use crate::protocol::axdr::{Data, Limits};
use crate::protocol::hdlc::{
    Action, AddressError, ClientConfig, DeframeError, Deframer, FailReason, Frame, HdlcAddress,
    HdlcClient, HdlcParameters, SessionError,
};
use crate::protocol::obis::ObisCode;
use crate::protocol::wrapper::{WrapperDecoder, WrapperFrame, MAX_APDU_LEN};
use crate::transport::Link;

/// Why a raw exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum RawError {
    #[error("link: {0}")]
    Io(#[from] io::Error),
    #[error("link closed")]
    Closed,
    #[error("HDLC session failed: {0}")]
    Session(FailReason),
    #[error("HDLC session refused the call: {0}")]
    State(#[from] SessionError),
    #[error("answer does not decode: {0}")]
    Decode(#[from] ApduError),
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

/// What ended one drive of the HDLC session.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Connected(HdlcParameters),
    Delivered(Vec<u8>),
    Disconnected,
}

/// An HDLC client over a link. See the module documentation.
pub struct RawClient<L> {
    link: L,
    hdlc: HdlcClient,
    origin: Instant,
    deadline: Option<Duration>,
    deframer: Deframer,
    /// Every frame that arrived, and every damaged run of bytes, in order.
    pub received: Vec<Result<Frame, DeframeError>>,
    invoke: u8,
}

impl<L: Link> RawClient<L> {
    pub fn new(link: L, config: ClientConfig) -> Self {
        RawClient {
            link,
            hdlc: HdlcClient::new(config),
            origin: Instant::now(),
            deadline: None,
            deframer: Deframer::new(),
            received: Vec::new(),
            invoke: 0,
        }
    }

    /// Public client 16 to a meter at physical address `physical` (logical 1).
    pub fn public(link: L, physical: u16) -> Result<Self, AddressError> {
        Self::with_client(link, 0x10, HdlcAddress::server(1, Some(physical))?)
    }

    pub fn with_client(link: L, client: u8, server: HdlcAddress) -> Result<Self, AddressError> {
        Ok(Self::new(
            link,
            ClientConfig::new(HdlcAddress::client(client)?, server),
        ))
    }

    pub fn session(&self) -> &HdlcClient {
        &self.hdlc
    }

    pub fn link_mut(&mut self) -> &mut L {
        &mut self.link
    }

    /// The link back, e.g. to talk to another meter on the same line.
    pub fn into_link(self) -> L {
        self.link
    }

    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    /// SNRM → UA.
    pub async fn connect(&mut self) -> Result<HdlcParameters, RawError> {
        let now = self.now();
        self.hdlc.connect(now)?;
        match self.drive().await? {
            Outcome::Connected(p) => Ok(p),
            other => Err(RawError::Unexpected(format!("{other:?}"))),
        }
    }

    /// DISC → UA (or DM).
    pub async fn disconnect(&mut self) -> Result<(), RawError> {
        let now = self.now();
        self.hdlc.disconnect(now)?;
        match self.drive().await? {
            Outcome::Disconnected => Ok(()),
            other => Err(RawError::Unexpected(format!("{other:?}"))),
        }
    }

    /// One APDU out, one back.
    pub async fn request(&mut self, apdu: &Apdu) -> Result<Apdu, RawError> {
        let now = self.now();
        self.hdlc.send_apdu(now, &apdu.to_bytes())?;
        match self.drive().await? {
            Outcome::Delivered(bytes) => Ok(Apdu::decode(&bytes)?),
            other => Err(RawError::Unexpected(format!("{other:?}"))),
        }
    }

    /// AARQ (LN, no ciphering; LLS with `password`) → AARE.
    pub async fn associate(
        &mut self,
        password: Option<&[u8]>,
        max_pdu: u16,
    ) -> Result<Aare, RawError> {
        let aarq = Aarq::logical_name(password, InitiateRequest::new(max_pdu));
        match self.request(&Apdu::Aarq(aarq)).await? {
            Apdu::Aare(aare) => Ok(aare),
            other => Err(RawError::Unexpected(format!("{other:?}"))),
        }
    }

    fn next_invoke(&mut self) -> InvokeIdAndPriority {
        self.invoke = (self.invoke + 1) % 16;
        InvokeIdAndPriority::new(self.invoke, true, true)
    }

    /// GET one attribute, following GET blocks to the end.
    pub async fn get(
        &mut self,
        class_id: u16,
        obis: ObisCode,
        attribute: i8,
        access: Option<SelectiveAccess>,
    ) -> Result<Result<Data, DataAccessResult>, RawError> {
        let invoke = self.next_invoke();
        let request = Apdu::GetRequest(GetRequest::Normal {
            invoke,
            attribute: AttributeDescriptor::new(class_id, obis, attribute),
            access,
        });
        let mut answer = self.request(&request).await?;
        let mut raw = Vec::new();
        loop {
            match answer {
                Apdu::GetResponse(GetResponse::Normal { result, .. }) => {
                    return Ok(match result {
                        GetDataResult::Data(d) => Ok(d),
                        GetDataResult::DataAccessResult(e) => Err(e),
                    })
                }
                Apdu::GetResponse(GetResponse::WithDataBlock {
                    last_block,
                    block_number,
                    result,
                    ..
                }) => {
                    match result {
                        DataBlockResult::RawData(chunk) => raw.extend(chunk),
                        DataBlockResult::DataAccessResult(e) => return Ok(Err(e)),
                    }
                    if last_block {
                        let (data, _) = Data::decode(&raw, &Limits::default())
                            .map_err(|e| RawError::Decode(e.into()))?;
                        return Ok(Ok(data));
                    }
                    let next = Apdu::GetRequest(GetRequest::Next {
                        invoke,
                        block_number,
                    });
                    answer = self.request(&next).await?;
                }
                other => return Err(RawError::Unexpected(format!("{other:?}"))),
            }
        }
    }

    /// Write bytes as they are (a hand-made or damaged frame).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), RawError> {
        self.link.write_all(bytes).await?;
        self.link.flush().await?;
        Ok(())
    }

    /// Read whatever arrives within `window` (recorded in `received` too), without the session.
    pub async fn read_raw(&mut self, window: Duration) -> Result<Vec<u8>, RawError> {
        let end = Instant::now() + window;
        let mut out = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match tokio::time::timeout_at(end, self.link.read(&mut buf)).await {
                Err(_) => return Ok(out),
                Ok(Ok(0)) => return Ok(out),
                Ok(Ok(n)) => {
                    let bytes = buf.get(..n).unwrap_or_default();
                    self.record(bytes);
                    out.extend_from_slice(bytes);
                }
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }

    fn record(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let n = self.deframer.push(rest);
            rest = rest.get(n..).unwrap_or_default();
            while let Some(r) = self.deframer.next_frame().transpose() {
                self.received.push(r);
            }
            if n == 0 {
                self.deframer.clear();
            }
        }
    }

    /// Carry out the session's actions until it connects, delivers, disconnects or fails.
    async fn drive(&mut self) -> Result<Outcome, RawError> {
        let mut buf = [0u8; 1024];
        loop {
            while let Some(action) = self.hdlc.poll_action() {
                match action {
                    Action::Send(bytes) => {
                        self.link.write_all(&bytes).await?;
                        self.link.flush().await?;
                    }
                    Action::SetTimer(at) => self.deadline = Some(at),
                    Action::CancelTimer => self.deadline = None,
                    Action::Deliver(apdu) => return Ok(Outcome::Delivered(apdu)),
                    Action::Connected(p) => return Ok(Outcome::Connected(p)),
                    Action::Disconnected => return Ok(Outcome::Disconnected),
                    Action::Fail(reason) => return Err(RawError::Session(reason)),
                    Action::Discarded(_) => {}
                }
            }
            let timer = self.deadline.map(|d| self.origin + d);
            tokio::select! {
                read = self.link.read(&mut buf) => match read? {
                    0 => return Err(RawError::Closed),
                    n => {
                        let bytes = buf.get(..n).unwrap_or_default().to_vec();
                        self.record(&bytes);
                        let now = self.now();
                        self.hdlc.handle_bytes(now, &bytes);
                    }
                },
                _ = sleep_until(timer), if timer.is_some() => {
                    let now = self.now();
                    self.hdlc.handle_timeout(now);
                }
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A DLMS client over the IEC 62056-47 wrapper.
pub struct WrapperClient<L> {
    link: L,
    client: u16,
    server: u16,
    decoder: WrapperDecoder,
}

impl<L: Link> WrapperClient<L> {
    pub fn new(link: L, client: u16, server: u16) -> Self {
        WrapperClient {
            link,
            client,
            server,
            decoder: WrapperDecoder::new(MAX_APDU_LEN),
        }
    }

    /// One APDU out; the next wrapper frame back (any wPorts), or `None` if the link
    /// stays quiet for `wait`.
    pub async fn exchange(
        &mut self,
        apdu: &Apdu,
        wait: Duration,
    ) -> Result<Option<WrapperFrame>, RawError> {
        let frame = WrapperFrame::new(self.client, self.server, apdu.to_bytes())
            .to_bytes()
            .map_err(|e| RawError::Unexpected(e.to_string()))?;
        self.link.write_all(&frame).await?;
        self.link.flush().await?;
        self.next_frame(wait).await
    }

    /// The next wrapper frame, or `None` after `wait` of silence.
    pub async fn next_frame(&mut self, wait: Duration) -> Result<Option<WrapperFrame>, RawError> {
        let end = Instant::now() + wait;
        let mut buf = [0u8; 1024];
        loop {
            match self.decoder.next_frame() {
                Ok(Some(f)) => return Ok(Some(f)),
                Ok(None) => {}
                Err(e) => return Err(RawError::Unexpected(e.to_string())),
            }
            match tokio::time::timeout_at(end, self.link.read(&mut buf)).await {
                Err(_) => return Ok(None),
                Ok(Ok(0)) => return Err(RawError::Closed),
                Ok(Ok(n)) => {
                    self.decoder.push(buf.get(..n).unwrap_or_default());
                }
                Ok(Err(e)) => return Err(e.into()),
            }
        }
    }
}
