//! `Session`: one DLMS association with one meter over one link (LN referencing, no
//! ciphering): open (SNRM/UA, AARQ/AARE), GET (normal, block transfer, with-list), SET,
//! ACTION, release (RLRQ/RLRE, DISC).
//!
//! A meter's refusal of an attribute is a value (`Ok(Err(DataAccessResult))`); a failure
//! of the link, the association or the protocol is a `MeterError`. This module keeps the
//! association state (invoke ids, negotiated conformance and PDU size); framing and
//! timing are the carrier's, wire formats are `protocol`'s.

use super::block::{BlockAssembler, BlockStep};
use super::carrier::{Carrier, LinkStats};
use super::config::SessionConfig;
use super::error::MeterError;
use crate::profile::AttributeRef;
use crate::protocol::apdu::{
    ActionRequest, ActionResult, Apdu, ApduError, AttributeDescriptor, AttributeWithSelection,
    DataAccessResult, GetDataResult, GetRequest, GetResponse, InvokeIdAndPriority,
    MethodDescriptor, Rlrq, SelectiveAccess, SetRequest,
};
use crate::protocol::apdu::{Conformance, ReleaseRequestReason};
use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{read_length, Data, Limits};
use crate::protocol::hdlc::HdlcParameters;
use crate::protocol::obis::ObisCode;
use crate::transport::BoxLink;

mod associate;

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

/// What answered a GET request, before the value is decoded.
enum Answer {
    Normal(GetDataResult),
    List(Vec<GetDataResult>),
    /// A block transfer: the reassembled encoding, or the meter's abort.
    Blocks(Result<Vec<u8>, DataAccessResult>),
}

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

    /// Read one attribute, with optional selective access; block transfer is followed
    /// to the end within `max_response_bytes` and `max_blocks`.
    pub async fn get(
        &mut self,
        attr: AttributeRef,
        access: Option<SelectiveAccess>,
    ) -> Result<GetResult, MeterError> {
        self.get_with_progress(attr, access, &mut |_| {}).await
    }

    /// As [`Session::get`], reporting each block of a block transfer to `progress`.
    pub async fn get_with_progress(
        &mut self,
        attr: AttributeRef,
        access: Option<SelectiveAccess>,
        progress: &mut ProgressFn<'_>,
    ) -> Result<GetResult, MeterError> {
        let invoke = self.next_invoke();
        let request = GetRequest::Normal {
            invoke,
            attribute: descriptor(attr),
            access,
        };
        match self.get_answer(invoke, request, progress).await? {
            Answer::Normal(result) => Ok(from_get_data_result(result)),
            Answer::Blocks(Err(e)) => Ok(Err(e)),
            Answer::Blocks(Ok(raw)) => self.decode_value(&raw).map(Ok),
            Answer::List(_) => Err(unexpected("GET-Response-Normal", "GET-Response-With-List")),
        }
    }

    /// Read several attributes: GET-with-list when the meter accepted multiple
    /// references (lists split to fit its PDU size and `max_list_len`), else one GET
    /// each. Results are in the order asked.
    pub async fn get_many(&mut self, attrs: &[AttributeRef]) -> Result<Vec<GetResult>, MeterError> {
        let mut out = Vec::with_capacity(attrs.len());
        let lists = attrs.len() > 1
            && !self.list_declined
            && self
                .negotiated
                .conformance
                .contains(Conformance::MULTIPLE_REFERENCES);
        if !lists {
            for attr in attrs {
                out.push(self.get(*attr, None).await?);
            }
            return Ok(out);
        }
        for chunk in attrs.chunks(self.list_chunk_len()) {
            match self.get_list(chunk).await? {
                Some(results) => out.extend(results),
                None => {
                    // Design: the meter declined the list form although it accepted
                    // multiple references; ask one by one from now on.
                    self.list_declined = true;
                    for attr in chunk {
                        out.push(self.get(*attr, None).await?);
                    }
                }
            }
        }
        Ok(out)
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

    /// Attributes per GET-with-list: `max_list_len`, and few enough that the request fits
    /// the meter's receive PDU (3-byte header, up to 3-byte count, 10 bytes per entry).
    fn list_chunk_len(&self) -> usize {
        let room = usize::from(self.negotiated.server_max_pdu_size).saturating_sub(6) / 10;
        room.min(self.config.max_list_len).max(1)
    }

    /// One GET-with-list; `None` if the meter declined the list form.
    async fn get_list(
        &mut self,
        attrs: &[AttributeRef],
    ) -> Result<Option<Vec<GetResult>>, MeterError> {
        let invoke = self.next_invoke();
        let request = GetRequest::WithList {
            invoke,
            attributes: attrs
                .iter()
                .map(|a| AttributeWithSelection {
                    attribute: descriptor(*a),
                    access: None,
                })
                .collect(),
        };
        let answer = match self.get_answer(invoke, request, &mut |_| {}).await {
            Err(MeterError::Exception(_) | MeterError::ServiceError(_)) => return Ok(None),
            other => other?,
        };
        let results = match answer {
            Answer::List(results) => results,
            Answer::Blocks(Ok(raw)) => self.decode_list(&raw)?,
            Answer::Normal(GetDataResult::DataAccessResult(_)) | Answer::Blocks(Err(_)) => {
                return Ok(None)
            }
            Answer::Normal(GetDataResult::Data(_)) => {
                return Err(unexpected("GET-Response-With-List", "GET-Response-Normal"))
            }
        };
        if results.len() != attrs.len() {
            return Err(MeterError::Unexpected {
                expected: "one result per requested attribute",
                found: format!("{} results for {} attributes", results.len(), attrs.len()),
            });
        }
        Ok(Some(
            results.into_iter().map(from_get_data_result).collect(),
        ))
    }

    /// Send a GET request and follow block transfer to the end.
    async fn get_answer(
        &mut self,
        invoke: InvokeIdAndPriority,
        request: GetRequest,
        progress: &mut ProgressFn<'_>,
    ) -> Result<Answer, MeterError> {
        let mut response = self.get_request(invoke, request).await?;
        let mut blocks: Option<BlockAssembler> = None;
        loop {
            match (response, blocks.is_some()) {
                (GetResponse::Normal { result, .. }, false) => return Ok(Answer::Normal(result)),
                (GetResponse::WithList { results, .. }, false) => return Ok(Answer::List(results)),
                // A meter may end a transfer with a normal response carrying its reason.
                (
                    GetResponse::Normal {
                        result: GetDataResult::DataAccessResult(e),
                        ..
                    },
                    true,
                ) => return Ok(Answer::Blocks(Err(e))),
                (
                    GetResponse::WithDataBlock {
                        last_block,
                        block_number,
                        result,
                        ..
                    },
                    _,
                ) => {
                    let (max_bytes, max_blocks) =
                        (self.config.max_response_bytes, self.config.max_blocks);
                    let assembler =
                        blocks.get_or_insert_with(|| BlockAssembler::new(max_bytes, max_blocks));
                    match assembler.push(last_block, block_number, result)? {
                        BlockStep::Next(acked) => {
                            progress(TransferProgress {
                                blocks: assembler.blocks(),
                                bytes: assembler.received(),
                            });
                            let next = GetRequest::Next {
                                invoke,
                                block_number: acked,
                            };
                            response = self.get_request(invoke, next).await?;
                        }
                        BlockStep::Done(raw) => return Ok(Answer::Blocks(Ok(raw))),
                        BlockStep::Refused(e) => return Ok(Answer::Blocks(Err(e))),
                    }
                }
                (other, true) => {
                    return Err(unexpected(
                        "GET-Response-With-Datablock",
                        get_response_name(&other),
                    ))
                }
            }
        }
    }

    async fn get_request(
        &mut self,
        invoke: InvokeIdAndPriority,
        request: GetRequest,
    ) -> Result<GetResponse, MeterError> {
        match self.request(Apdu::GetRequest(request)).await? {
            Apdu::GetResponse(r) => {
                check_invoke(invoke, r.invoke())?;
                Ok(r)
            }
            other => Err(unexpected("GET-Response", apdu_name(&other))),
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

    /// Decode a value reassembled from blocks; it must use every byte.
    fn decode_value(&self, raw: &[u8]) -> Result<Data, MeterError> {
        let (data, used) = Data::decode(raw, &self.limits()).map_err(ApduError::from)?;
        if used != raw.len() {
            return Err(ApduError::TrailingBytes {
                count: raw.len() - used,
            }
            .into());
        }
        Ok(data)
    }

    /// Decode a `SEQUENCE OF Get-Data-Result` reassembled from blocks (with-list answer).
    fn decode_list(&self, raw: &[u8]) -> Result<Vec<GetDataResult>, MeterError> {
        let limits = self.limits();
        let mut r = Reader::new(raw);
        let declared = read_length(&mut r).map_err(ApduError::from)?;
        let count = usize::try_from(declared)
            .ok()
            .filter(|n| *n <= self.config.max_list_len.max(1))
            .ok_or(ApduError::TooManyItems {
                declared,
                max: self.config.max_list_len,
            })?;
        let mut results = Vec::with_capacity(count);
        for _ in 0..count {
            results.push(GetDataResult::decode(&mut r, &limits)?);
        }
        if !r.is_empty() {
            return Err(ApduError::TrailingBytes {
                count: r.remaining(),
            }
            .into());
        }
        Ok(results)
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

fn from_get_data_result(result: GetDataResult) -> GetResult {
    match result {
        GetDataResult::Data(d) => Ok(d),
        GetDataResult::DataAccessResult(e) => Err(e),
    }
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
