//! GET on a session: normal, block transfer (followed to the end within the size and
//! block bounds) and with-list (split to fit the meter's PDU, with a fallback to one GET
//! per attribute for meters that decline lists).

use super::{
    apdu_name, check_invoke, descriptor, get_response_name, unexpected, GetResult, ProgressFn,
    Session, TransferProgress,
};
use crate::meter::block::{BlockAssembler, BlockStep};
use crate::meter::error::MeterError;
use crate::profile::AttributeRef;
use crate::protocol::apdu::{
    Apdu, ApduError, AttributeWithSelection, Conformance, DataAccessResult, GetDataResult,
    GetRequest, GetResponse, InvokeIdAndPriority, SelectiveAccess,
};
use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{read_length, Data};

/// What answered a GET request, before the value is decoded.
enum Answer {
    Normal(GetDataResult),
    List(Vec<GetDataResult>),
    /// A block transfer: the reassembled encoding, or the meter's abort.
    Blocks(Result<Vec<u8>, DataAccessResult>),
}

impl Session {
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

fn from_get_data_result(result: GetDataResult) -> GetResult {
    match result {
        GetDataResult::Data(d) => Ok(d),
        GetDataResult::DataAccessResult(e) => Err(e),
    }
}
