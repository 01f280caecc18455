//! `Session`: one DLMS association with one meter over one link (LN referencing, no
//! ciphering): open (SNRM/UA, AARQ/AARE), GET (normal, block transfer, with-list), SET,
//! ACTION, release (RLRQ/RLRE, DISC).
//!
//! A meter's refusal of an attribute is a value (`Ok(Err(DataAccessResult))`); a failure
//! of the link, the association or the protocol is a `MeterError`. This module keeps the
//! association state (invoke ids, negotiated conformance and PDU size); framing and
//! timing are the carrier's, wire formats are `protocol`'s.

use super::carrier::{Carrier, LinkStats};
use super::config::SessionConfig;
use super::error::MeterError;
use crate::profile::AttributeRef;
use crate::protocol::apdu::{
    ActionRequest, ActionResult, Apdu, AttributeDescriptor, DataAccessResult, GetDataResult,
    GetResponse, InvokeIdAndPriority, MethodDescriptor, ReleaseRequestReason, Rlrq, SetRequest,
};
use crate::protocol::axdr::{Data, Limits};
use crate::protocol::hdlc::HdlcParameters;
use crate::protocol::obis::ObisCode;
use crate::transport::BoxLink;

mod associate;
mod get;

pub use associate::Negotiated;

/// One method of one COSEM object (for ACTION).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MethodRef {
    pub class_id: u16,
    pub obis: ObisCode,
    pub method: i8,
}

/// How far a long transfer has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferProgress {
    /// Blocks received so far.
    pub blocks: u32,
    /// Bytes of the encoded value received so far.
    pub bytes: usize,
}

/// A progress callback (`Send` so that sessions can run on any task).
pub type ProgressFn<'a> = dyn FnMut(TransferProgress) + Send + 'a;

/// The result of one GET: the value, or the meter's refusal.
pub type GetResult = Result<Data, DataAccessResult>;

/// An open association. See the module documentation.
pub struct Session {
    link: BoxLink,
    carrier: Carrier,
    config: SessionConfig,
    negotiated: Negotiated,
    invoke_id: u8,
    /// Why the association cannot be used any more.
    lost: Option<String>,
    /// The meter declined GET-with-list once: use one GET per attribute from then on.
    list_declined: bool,
    released: bool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("link", &self.link.describe())
            .field("config", &self.config)
            .field("negotiated", &self.negotiated)
            .field("lost", &self.lost)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connect the link layer and associate. On a refusal the link is taken down again.
    pub async fn open(mut link: BoxLink, config: SessionConfig) -> Result<Session, MeterError> {
        let mut carrier = Carrier::new(&config)?;
        carrier.connect(&mut link).await?;
        match associate::associate(&mut carrier, &mut link, &config).await {
            Ok(negotiated) => Ok(Session {
                link,
                carrier,
                config,
                negotiated,
                invoke_id: 0,
                lost: None,
                list_declined: false,
                released: false,
            }),
            Err(e) => {
                if !e.is_fatal() {
                    if let Err(disc) = carrier.disconnect(&mut link).await {
                        tracing::debug!(error = %disc, "DISC after a refused association");
                    }
                }
                Err(e)
            }
        }
    }

    /// What the meter accepted in its AARE.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// Negotiated HDLC parameters (`None` on the wrapper).
    pub fn hdlc_parameters(&self) -> Option<HdlcParameters> {
        self.carrier.hdlc_parameters()
    }

    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// The link's name ("serial /dev/ttyUSB0 9600 8N1").
    pub fn link_description(&self) -> String {
        self.link.describe()
    }

    /// Frames set aside by the link layer so far (damaged, echoes, duplicates, ...).
    pub fn link_stats(&self) -> LinkStats {
        self.carrier.stats()
    }

    /// Write one attribute (SET-Request-Normal).
    pub async fn set(
        &mut self,
        attr: AttributeRef,
        value: Data,
    ) -> Result<Result<(), DataAccessResult>, MeterError> {
        let invoke = self.next_invoke();
        let request = SetRequest {
            invoke,
            attribute: descriptor(attr),
            access: None,
            value,
        };
        match self.request(Apdu::SetRequest(request)).await? {
            Apdu::SetResponse(r) => {
                check_invoke(invoke, r.invoke)?;
                Ok(match r.result {
                    DataAccessResult::Success => Ok(()),
                    refused => Err(refused),
                })
            }
            other => Err(unexpected("SET-Response", apdu_name(&other))),
        }
    }

    /// Invoke one method (ACTION-Request-Normal); returns its return parameters.
    pub async fn action(
        &mut self,
        method: MethodRef,
        parameters: Option<Data>,
    ) -> Result<Result<Option<Data>, ActionResult>, MeterError> {
        let invoke = self.next_invoke();
        let request = ActionRequest {
            invoke,
            method: MethodDescriptor::new(method.class_id, method.obis, method.method),
            parameters,
        };
        match self.request(Apdu::ActionRequest(request)).await? {
            Apdu::ActionResponse(r) => {
                check_invoke(invoke, r.invoke)?;
                if r.result != ActionResult::Success {
                    return Ok(Err(r.result));
                }
                Ok(match r.return_parameters {
                    None => Ok(None),
                    Some(GetDataResult::Data(d)) => Ok(Some(d)),
                    // The two enumerations share their codes (Green Book 9.5).
                    Some(GetDataResult::DataAccessResult(e)) => {
                        Err(ActionResult::from(u8::from(e)))
                    }
                })
            }
            other => Err(unexpected("ACTION-Response", apdu_name(&other))),
        }
    }

    /// End the association: RLRQ/RLRE (unless disabled), then DISC. A meter that skips
    /// the RLRE or answers DISC with DM is tolerated; only a failing link is an error.
    pub async fn release(mut self) -> Result<(), MeterError> {
        self.release_in_place().await
    }

    /// `release`, then hand the link back for the next meter on the same bus. The link
    /// comes back only when the release went cleanly (a link whose state is unknown is
    /// better closed and opened again).
    pub async fn release_keep_link(mut self) -> (Result<(), MeterError>, Option<BoxLink>) {
        let was_lost = self.lost.is_some();
        let result = self.release_in_place().await;
        if was_lost || result.is_err() {
            return (result, None);
        }
        // Design: `Session` has a destructor, so the link is swapped for an inert one
        // rather than moved out.
        let (inert, _) = tokio::io::duplex(1);
        let link = std::mem::replace(&mut self.link, Box::new(inert));
        (result, Some(link))
    }

    async fn release_in_place(&mut self) -> Result<(), MeterError> {
        self.released = true;
        if self.lost.is_some() {
            return Ok(());
        }
        if self.config.release_with_rlrq {
            let rlrq = Apdu::Rlrq(Rlrq {
                reason: Some(ReleaseRequestReason::Normal),
                user_information: None,
            });
            match self
                .carrier
                .exchange(&mut self.link, &rlrq.to_bytes())
                .await
            {
                Ok(bytes) => match Apdu::decode(&bytes) {
                    Ok(Apdu::Rlre(_)) => {}
                    other => tracing::debug!(?other, "answer to RLRQ is not an RLRE"),
                },
                Err(MeterError::Transport(e)) => return Err(MeterError::Transport(e)),
                Err(e) => tracing::debug!(error = %e, "no RLRE; releasing by DISC"),
            }
        }
        match self.carrier.disconnect(&mut self.link).await {
            Err(MeterError::Transport(e)) => Err(MeterError::Transport(e)),
            Err(e) => {
                tracing::debug!(error = %e, "no answer to DISC");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    fn next_invoke(&mut self) -> InvokeIdAndPriority {
        self.invoke_id = (self.invoke_id + 1) & 0x0F;
        InvokeIdAndPriority::new(self.invoke_id, true, true)
    }

    fn limits(&self) -> Limits {
        Limits {
            max_total_bytes: self.config.max_response_bytes,
            ..Limits::default()
        }
    }

    /// Send one APDU and decode the answer; exception-response and
    /// confirmed-service-error become errors. A link failure makes the session unusable.
    async fn request(&mut self, apdu: Apdu) -> Result<Apdu, MeterError> {
        if let Some(reason) = &self.lost {
            return Err(MeterError::NotAssociated {
                reason: reason.clone(),
            });
        }
        let bytes = apdu.to_bytes();
        let limit = usize::from(self.negotiated.server_max_pdu_size);
        if bytes.len() > limit {
            return Err(MeterError::TooLarge {
                what: "request APDU (meter's max receive PDU size)",
                limit,
            });
        }
        let answer = match self.carrier.exchange(&mut self.link, &bytes).await {
            Ok(answer) => answer,
            Err(e) => {
                if e.is_fatal() {
                    self.lost = Some(e.to_string());
                }
                return Err(e);
            }
        };
        match Apdu::decode_with(&answer, &self.limits())? {
            Apdu::ExceptionResponse(e) => Err(MeterError::Exception(e)),
            Apdu::ConfirmedServiceError(e) => Err(MeterError::ServiceError(e)),
            other => Ok(other),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Design: no I/O here (a destructor cannot await). The meter ends the
        // association on its inactivity timeout; a new SNRM also resets it.
        if !self.released && self.lost.is_none() {
            tracing::debug!(link = %self.link.describe(), "session dropped without release");
        }
    }
}

pub(crate) fn descriptor(attr: AttributeRef) -> AttributeDescriptor {
    AttributeDescriptor::new(attr.class_id, attr.obis, attr.attribute)
}

fn check_invoke(sent: InvokeIdAndPriority, got: InvokeIdAndPriority) -> Result<(), MeterError> {
    if sent.invoke_id() == got.invoke_id() {
        Ok(())
    } else {
        Err(MeterError::InvokeIdMismatch {
            expected: sent.invoke_id(),
            found: got.invoke_id(),
        })
    }
}

pub(crate) fn unexpected(expected: &'static str, found: &str) -> MeterError {
    MeterError::Unexpected {
        expected,
        found: found.to_string(),
    }
}

fn get_response_name(r: &GetResponse) -> &'static str {
    match r {
        GetResponse::Normal { .. } => "GET-Response-Normal",
        GetResponse::WithDataBlock { .. } => "GET-Response-With-Datablock",
        GetResponse::WithList { .. } => "GET-Response-With-List",
    }
}

/// The APDU's name, for messages.
pub(crate) fn apdu_name(apdu: &Apdu) -> &'static str {
    match apdu {
        Apdu::Aarq(_) => "AARQ",
        Apdu::Aare(_) => "AARE",
        Apdu::Rlrq(_) => "RLRQ",
        Apdu::Rlre(_) => "RLRE",
        Apdu::GetRequest(_) => "GET-Request",
        Apdu::GetResponse(r) => get_response_name(r),
        Apdu::SetRequest(_) => "SET-Request",
        Apdu::SetResponse(_) => "SET-Response",
        Apdu::ActionRequest(_) => "ACTION-Request",
        Apdu::ActionResponse(_) => "ACTION-Response",
        Apdu::ExceptionResponse(_) => "exception-response",
        Apdu::ConfirmedServiceError(_) => "confirmed-service-error",
    }
}
