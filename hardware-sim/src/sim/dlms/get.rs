//! GET normal, with-list and next: answers that fit the negotiated PDU go out whole,
//! longer ones as GET blocks (Green Book 9.4.6.4, block transfer with GET).

use crate::protocol::apdu::{
    Apdu, Conformance, DataAccessResult, DataBlockResult, ExceptionServiceError, GetDataResult,
    GetRequest, GetResponse, InvokeIdAndPriority, SelectiveAccess, StateError,
};
use crate::protocol::obis::ObisCode;
use crate::sim::cosem::{Context, Selection};
use crate::sim::meter::SimMeter;

use super::{access_result, exception, Association, Served};

/// Bytes of a GET-Response-With-Datablock around its raw data: tag, choice, invoke,
/// last-block, block number (4), result choice, length (up to 3 for 16-bit sizes).
const BLOCK_OVERHEAD: usize = 12;

/// A long GET response being handed out in blocks.
#[derive(Debug, Clone)]
pub(super) struct Blocks {
    invoke: InvokeIdAndPriority,
    raw: Vec<u8>,
    sent: usize,
    block_number: u32,
    block_size: usize,
}

impl Association {
    pub(super) fn get(
        &mut self,
        meter: &SimMeter,
        req: GetRequest,
        cx: &Context<'_>,
    ) -> (Apdu, Served) {
        let info = cx.association;
        let limit = usize::from(info.client_max_pdu.min(info.server_max_pdu));
        match req {
            GetRequest::Normal {
                invoke,
                attribute,
                access,
            } => {
                self.blocks = None;
                let result = get_one(
                    meter,
                    attribute.class_id,
                    &attribute.instance_id,
                    attribute.attribute_id,
                    access.as_ref(),
                    cx,
                );
                let outcome = match &result {
                    GetDataResult::Data(_) => Ok(()),
                    GetDataResult::DataAccessResult(e) => Err(*e),
                };
                let response = GetResponse::Normal { invoke, result };
                let (apdu, blocks) = self.fit(invoke, response, limit, info.conformance);
                let served = Served::Get {
                    obis: attribute.instance_id,
                    attribute: attribute.attribute_id,
                    result: outcome,
                    blocks,
                };
                (apdu, served)
            }
            GetRequest::WithList { invoke, attributes } => {
                self.blocks = None;
                let results = attributes
                    .iter()
                    .map(|a| {
                        let d = a.attribute;
                        get_one(
                            meter,
                            d.class_id,
                            &d.instance_id,
                            d.attribute_id,
                            a.access.as_ref(),
                            cx,
                        )
                    })
                    .collect();
                let count = attributes.len();
                let response = GetResponse::WithList { invoke, results };
                let (apdu, _) = self.fit(invoke, response, limit, info.conformance);
                (apdu, Served::GetList { count })
            }
            GetRequest::Next {
                invoke,
                block_number,
            } => self.next_block(invoke, block_number),
        }
    }

    /// Send `response` as it is, or its first block when it exceeds `limit`. The raw data
    /// of the blocks (Green Book 9.4.6.4) is the encoded `Data` of a GET-Normal, or the
    /// encoded SEQUENCE OF Get-Data-Result of a GET-With-List.
    fn fit(
        &mut self,
        invoke: InvokeIdAndPriority,
        response: GetResponse,
        limit: usize,
        conformance: Conformance,
    ) -> (Apdu, bool) {
        let apdu = Apdu::GetResponse(response);
        let bytes = apdu.to_bytes();
        if bytes.len() <= limit {
            return (apdu, false);
        }
        if !conformance.contains(Conformance::BLOCK_TRANSFER_WITH_GET_OR_READ) {
            // Design: without block transfer the meter cannot send it at all.
            let result = GetDataResult::DataAccessResult(DataAccessResult::OtherReason);
            return (
                Apdu::GetResponse(GetResponse::Normal { invoke, result }),
                false,
            );
        }
        // Skip tag, choice and invoke id, and for GET-Normal the result choice (0 = data).
        let skip = match &apdu {
            Apdu::GetResponse(GetResponse::Normal { .. }) => 4,
            _ => 3,
        };
        self.blocks = Some(Blocks {
            invoke,
            raw: bytes.get(skip..).unwrap_or_default().to_vec(),
            sent: 0,
            block_number: 0,
            block_size: limit.saturating_sub(BLOCK_OVERHEAD).max(1),
        });
        (self.emit_block(), true)
    }

    fn next_block(&mut self, invoke: InvokeIdAndPriority, acked: u32) -> (Apdu, Served) {
        let refuse = |result| {
            let r = GetResponse::WithDataBlock {
                invoke,
                last_block: true,
                block_number: acked,
                result: DataBlockResult::DataAccessResult(result),
            };
            (
                Apdu::GetResponse(r),
                Served::GetNext {
                    block_number: acked,
                    last: true,
                },
            )
        };
        match &self.blocks {
            None => refuse(DataAccessResult::NoLongGetInProgress),
            Some(b) if b.block_number != acked => {
                self.blocks = None;
                refuse(DataAccessResult::DataBlockNumberInvalid)
            }
            Some(_) => {
                let apdu = self.emit_block();
                let last = self.blocks.is_none();
                (
                    apdu,
                    Served::GetNext {
                        block_number: acked + 1,
                        last,
                    },
                )
            }
        }
    }

    /// The next block of the pending response (dropping the state after the last).
    fn emit_block(&mut self) -> Apdu {
        let Some(b) = self.blocks.as_mut() else {
            return exception(
                StateError::ServiceNotAllowed,
                ExceptionServiceError::OperationNotPossible,
            )
            .0;
        };
        let end = (b.sent + b.block_size).min(b.raw.len());
        let chunk = b.raw.get(b.sent..end).unwrap_or_default().to_vec();
        b.sent = end;
        b.block_number += 1;
        let last_block = b.sent >= b.raw.len();
        let apdu = Apdu::GetResponse(GetResponse::WithDataBlock {
            invoke: b.invoke,
            last_block,
            block_number: b.block_number,
            result: DataBlockResult::RawData(chunk),
        });
        if last_block {
            self.blocks = None;
        }
        apdu
    }
}

fn get_one(
    meter: &SimMeter,
    class_id: u16,
    obis: &ObisCode,
    attr: i8,
    access: Option<&SelectiveAccess>,
    cx: &Context<'_>,
) -> GetDataResult {
    let selection = access.map(|a| Selection {
        selector: a.selector,
        parameters: &a.parameters,
    });
    match meter.objects.get(class_id, obis, attr, selection, cx) {
        Ok(data) => GetDataResult::Data(data),
        Err(r) => GetDataResult::DataAccessResult(access_result(r)),
    }
}
