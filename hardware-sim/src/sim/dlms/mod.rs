//! The meter's DLMS/COSEM application layer, sans-IO: one [`Association`] per client and
//! meter turns a request APDU into the response APDU.
//!
//! Serves AARQ/AARE, RLRQ/RLRE, GET normal / next / with-list (a response longer than the
//! negotiated PDU goes out as GET blocks), SET normal and ACTION normal. A request outside
//! an association gets an exception-response (service-not-allowed); an APDU it cannot
//! decode or does not serve gets exception-response (service-unknown). This module does
//! not frame, time or fault anything: `station` does.

mod associate;

#[cfg(test)]
mod tests;

use core::time::Duration;

use crate::protocol::apdu::{
    AcseServiceUserDiagnostic, ActionRequest, ActionResponse, ActionResult, Apdu, Conformance,
    DataAccessResult, DataBlockResult, ExceptionResponse, ExceptionServiceError, GetDataResult,
    GetRequest, GetResponse, InvokeIdAndPriority, ReleaseResponseReason, Rlre, SelectiveAccess,
    SetRequest, SetResponse, StateError,
};
use crate::protocol::obis::ObisCode;

use super::cosem::{AssociationInfo, Context, Refusal, Selection};
use super::meter::SimMeter;

pub use associate::{Outcome, PUBLIC_CLIENT, SERVER_CONFORMANCE};

/// Bytes of a GET-Response-With-Datablock around its raw data: tag, choice, invoke,
/// last-block, block number (4), result choice, length (up to 3 for 16-bit sizes).
const BLOCK_OVERHEAD: usize = 12;

/// What one request did, for logs and the handle's event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Served {
    Associated {
        client_sap: u16,
        lls: bool,
    },
    AssociationRejected {
        client_sap: u16,
        diagnostic: AcseServiceUserDiagnostic,
    },
    Released,
    Get {
        obis: ObisCode,
        attribute: i8,
        result: Result<(), DataAccessResult>,
        blocks: bool,
    },
    GetList {
        count: usize,
    },
    GetNext {
        block_number: u32,
        last: bool,
    },
    Set {
        obis: ObisCode,
        attribute: i8,
        result: DataAccessResult,
    },
    Action {
        obis: ObisCode,
        method: i8,
        result: ActionResult,
    },
    /// Answered with an exception-response.
    Exception {
        state: StateError,
    },
}

/// A long GET response being handed out in blocks.
#[derive(Debug, Clone)]
struct Blocks {
    invoke: InvokeIdAndPriority,
    raw: Vec<u8>,
    sent: usize,
    block_number: u32,
    block_size: usize,
}

/// One client's application association with one meter.
#[derive(Debug, Clone)]
pub struct Association {
    server_sap: u16,
    info: Option<AssociationInfo>,
    blocks: Option<Blocks>,
}

impl Association {
    pub fn new(server_sap: u16) -> Self {
        Association {
            server_sap,
            info: None,
            blocks: None,
        }
    }

    pub fn info(&self) -> Option<&AssociationInfo> {
        self.info.as_ref()
    }

    /// Forget the association (the lower layer disconnected).
    pub fn reset(&mut self) {
        self.info = None;
        self.blocks = None;
    }

    /// Answer one request APDU from `client_sap` at scenario time `t`.
    pub fn handle(
        &mut self,
        meter: &mut SimMeter,
        client_sap: u16,
        request: &[u8],
        t: Duration,
    ) -> (Vec<u8>, Served) {
        let (apdu, served) = match Apdu::decode(request) {
            Ok(apdu) => self.dispatch(meter, client_sap, apdu, t),
            Err(e) => {
                tracing::debug!(meter = %meter.name(), error = %e, "undecodable request");
                exception(
                    StateError::ServiceUnknown,
                    ExceptionServiceError::ServiceNotSupported,
                )
            }
        };
        (apdu.to_bytes(), served)
    }

    fn dispatch(
        &mut self,
        meter: &mut SimMeter,
        client_sap: u16,
        apdu: Apdu,
        t: Duration,
    ) -> (Apdu, Served) {
        let info = match (&apdu, self.info) {
            (Apdu::Aarq(aarq), _) => {
                self.reset();
                let (aare, outcome) =
                    associate::answer(meter, aarq, client_sap, self.server_sap, t);
                let served = match outcome {
                    Outcome::Accepted(info) => {
                        self.info = Some(info);
                        Served::Associated {
                            client_sap,
                            lls: info.lls,
                        }
                    }
                    Outcome::Rejected(diagnostic) => Served::AssociationRejected {
                        client_sap,
                        diagnostic,
                    },
                };
                return (Apdu::Aare(aare), served);
            }
            (Apdu::Rlrq(_), _) => {
                self.reset();
                let rlre = Rlre {
                    reason: Some(ReleaseResponseReason::Normal),
                    user_information: None,
                };
                return (Apdu::Rlre(rlre), Served::Released);
            }
            (_, None) => {
                return exception(
                    StateError::ServiceNotAllowed,
                    ExceptionServiceError::OperationNotPossible,
                )
            }
            (_, Some(info)) => info,
        };
        let base_time = meter.base_time(t);
        let cx = Context {
            base_time,
            association: &info,
        };
        match apdu {
            Apdu::GetRequest(req) => self.get(meter, req, &cx),
            Apdu::SetRequest(req) => set(meter, req, &cx),
            Apdu::ActionRequest(req) => action(meter, req, &info),
            _ => exception(
                StateError::ServiceUnknown,
                ExceptionServiceError::ServiceNotSupported,
            ),
        }
    }

    fn get(&mut self, meter: &SimMeter, req: GetRequest, cx: &Context<'_>) -> (Apdu, Served) {
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

fn set(meter: &mut SimMeter, req: SetRequest, cx: &Context<'_>) -> (Apdu, Served) {
    let d = req.attribute;
    let result = match req.access {
        Some(_) => DataAccessResult::ScopeOfAccessViolated,
        None => match meter
            .objects
            .set(d.class_id, &d.instance_id, d.attribute_id, req.value, cx)
        {
            Ok(()) => DataAccessResult::Success,
            Err(r) => access_result(r),
        },
    };
    let served = Served::Set {
        obis: d.instance_id,
        attribute: d.attribute_id,
        result,
    };
    (
        Apdu::SetResponse(SetResponse {
            invoke: req.invoke,
            result,
        }),
        served,
    )
}

fn action(meter: &mut SimMeter, req: ActionRequest, info: &AssociationInfo) -> (Apdu, Served) {
    let m = req.method;
    let result = match meter.objects.action(
        m.class_id,
        &m.instance_id,
        m.method_id,
        req.parameters.as_ref(),
        info.level,
    ) {
        Ok(change) => {
            if let Some(change) = change {
                meter.after_relay_change(change);
            }
            ActionResult::Success
        }
        Err(r) => ActionResult::from(u8::from(access_result(r))),
    };
    let served = Served::Action {
        obis: m.instance_id,
        method: m.method_id,
        result,
    };
    let response = ActionResponse {
        invoke: req.invoke,
        result,
        return_parameters: None,
    };
    (Apdu::ActionResponse(response), served)
}

/// The data-access-result of a refusal (table in `cosem`).
pub fn access_result(r: Refusal) -> DataAccessResult {
    match r {
        Refusal::ObjectUndefined => DataAccessResult::ObjectUndefined,
        Refusal::ClassInconsistent => DataAccessResult::ObjectClassInconsistent,
        Refusal::AttributeUndefined => DataAccessResult::ObjectUnavailable,
        Refusal::Denied => DataAccessResult::ReadWriteDenied,
        Refusal::TypeUnmatched => DataAccessResult::TypeUnmatched,
        Refusal::SelectionUnsupported => DataAccessResult::ScopeOfAccessViolated,
        Refusal::BadSelection => DataAccessResult::OtherReason,
    }
}

fn exception(state: StateError, service: ExceptionServiceError) -> (Apdu, Served) {
    (
        Apdu::ExceptionResponse(ExceptionResponse {
            state_error: state,
            service_error: service,
        }),
        Served::Exception { state },
    )
}
