//! The meter's DLMS/COSEM application layer, sans-IO: one [`Association`] per client and
//! meter turns a request APDU into the response APDU.
//!
//! Serves AARQ/AARE, RLRQ/RLRE, GET normal / next / with-list (a response longer than the
//! negotiated PDU goes out as GET blocks), SET normal and ACTION normal. A request outside
//! an association gets an exception-response (service-not-allowed); an APDU it cannot
//! decode or does not serve gets exception-response (service-unknown). This module does
//! not frame, time or fault anything: `station` does.

mod associate;
mod get;

#[cfg(test)]
mod tests;

use core::time::Duration;

use crate::protocol::apdu::{
    AcseServiceUserDiagnostic, ActionRequest, ActionResponse, ActionResult, Apdu, DataAccessResult,
    ExceptionResponse, ExceptionServiceError, ReleaseResponseReason, Rlre, SetRequest, SetResponse,
    StateError,
};
use crate::protocol::obis::ObisCode;

use super::cosem::{AssociationInfo, Context, Refusal};
use super::meter::SimMeter;

pub use associate::{Outcome, PUBLIC_CLIENT, SERVER_CONFORMANCE};

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

/// One client's application association with one meter.
#[derive(Debug, Clone)]
pub struct Association {
    server_sap: u16,
    info: Option<AssociationInfo>,
    blocks: Option<get::Blocks>,
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
