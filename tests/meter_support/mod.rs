//! An in-test scripted meter for the session tests: the HDLC server session
//! (`HdlcServer`) plus a small APDU responder over `tokio::io::duplex`, with faults
//! injected per frame in either direction. Time is tokio's (tests run with a paused
//! clock, so timeouts elapse without real waiting and nothing sleeps).

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use calin_agent::meter::{Session, SessionConfig};
use calin_agent::profile::AttributeRef;
use calin_agent::protocol::apdu::{
    Aare, AcseServiceUserDiagnostic, ActionResponse, ActionResult, Apdu, ApplicationContextName,
    AssociationResult, AuthenticationValue, Conformance, DataAccessResult, DataBlockResult,
    EntryDescriptor, ExceptionResponse, ExceptionServiceError, GetDataResult, GetRequest,
    GetResponse, InitiateResponse, InvokeIdAndPriority, Rlre, SetResponse, SourceDiagnostic,
    StateError, UserInformation,
};
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::hdlc::{Action, Deframer, HdlcAddress, HdlcServer, ServerConfig};
use calin_agent::protocol::obis::ObisCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub const PHYSICAL: u16 = 17;

pub fn server_address() -> HdlcAddress {
    HdlcAddress::server(1, Some(PHYSICAL)).unwrap()
}

pub fn a(s: &str) -> AttributeRef {
    s.parse().unwrap()
}

pub fn obis(s: &str) -> ObisCode {
    s.parse().unwrap()
}

/// What to do to the nth frame in one direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Drop,
    /// Flip the low bit of the byte at this offset (clamped inside the frame).
    FlipBit(usize),
    Duplicate,
    /// Drop this frame and every later one (the meter falls silent).
    SilenceFromHere,
}

/// Faults by frame index (0-based, per direction).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Frames the meter sends.
    pub to_client: Vec<(usize, Fault)>,
    /// Frames the meter receives.
    pub to_meter: Vec<(usize, Fault)>,
}

fn fault_at(list: &[(usize, Fault)], index: usize, silent: &mut bool) -> Option<Fault> {
    if *silent {
        return Some(Fault::Drop);
    }
    let f = list.iter().find(|(i, _)| *i == index).map(|(_, f)| *f);
    if f == Some(Fault::SilenceFromHere) {
        *silent = true;
    }
    f
}

fn apply(fault: Option<Fault>, mut frame: Vec<u8>) -> Vec<Vec<u8>> {
    match fault {
        None => vec![frame],
        Some(Fault::Drop | Fault::SilenceFromHere) => vec![],
        Some(Fault::Duplicate) => vec![frame.clone(), frame],
        Some(Fault::FlipBit(at)) => {
            let i = at.clamp(1, frame.len().saturating_sub(2));
            frame[i] ^= 0x01;
            vec![frame]
        }
    }
}

/// The objects and behaviour of the scripted meter.
#[derive(Debug, Clone)]
pub struct FakeMeter {
    pub objects: HashMap<AttributeRef, Data>,
    pub refused: HashMap<AttributeRef, DataAccessResult>,
    /// GETs of these get an exception-response.
    pub exception_on: Vec<AttributeRef>,
    /// Profile generic buffers (rows) by logical name, served with selective access.
    pub logs: HashMap<ObisCode, Vec<Data>>,
    pub selective_access_refused: bool,
    pub password: Option<Vec<u8>>,
    pub conformance: Conformance,
    pub server_max_pdu: u16,
    /// Encoded values longer than this go out by block transfer, in blocks of this size.
    pub block_size: usize,
    pub answer_rlrq: bool,
    /// Answer GET-with-list with an exception-response although the conformance has it.
    pub refuse_lists: bool,
}

impl Default for FakeMeter {
    fn default() -> Self {
        FakeMeter {
            objects: HashMap::new(),
            refused: HashMap::new(),
            exception_on: Vec::new(),
            logs: HashMap::new(),
            selective_access_refused: false,
            password: None,
            conformance: Conformance::from_bits(
                Conformance::BLOCK_TRANSFER_WITH_GET_OR_READ
                    | Conformance::MULTIPLE_REFERENCES
                    | Conformance::GET
                    | Conformance::SET
                    | Conformance::SELECTIVE_ACCESS
                    | Conformance::ACTION,
            ),
            server_max_pdu: 512,
            block_size: 200,
            answer_rlrq: true,
            refuse_lists: false,
        }
    }
}

/// What the meter saw.
#[derive(Debug, Default)]
pub struct MeterLog {
    pub requests: Vec<Apdu>,
    pub frames_received: usize,
    pub disconnects: usize,
}

struct Responder {
    meter: FakeMeter,
    /// Encoded value of a block transfer in progress, block size, last block sent.
    pending: Option<(Vec<u8>, usize)>,
}

impl Responder {
    fn answer(&mut self, apdu: &Apdu) -> Option<Apdu> {
        Some(match apdu {
            Apdu::Aarq(aarq) => Apdu::Aare(self.aare(aarq)),
            Apdu::GetRequest(GetRequest::Normal {
                invoke,
                attribute,
                access,
            }) => {
                let attr = AttributeRef {
                    class_id: attribute.class_id,
                    obis: attribute.instance_id,
                    attribute: attribute.attribute_id,
                };
                if self.meter.exception_on.contains(&attr) {
                    return Some(exception());
                }
                match self.value(attr, access.as_ref()) {
                    Ok(d) => self.maybe_blocks(*invoke, d.to_bytes(), |raw| {
                        Data::decode(&raw, &Default::default()).unwrap().0
                    }),
                    Err(e) => Apdu::GetResponse(GetResponse::Normal {
                        invoke: *invoke,
                        result: GetDataResult::DataAccessResult(e),
                    }),
                }
            }
            Apdu::GetRequest(GetRequest::WithList { invoke, attributes }) => {
                let odd = attributes.iter().any(|a| {
                    self.meter.exception_on.iter().any(|e| {
                        (e.class_id, e.obis, e.attribute)
                            == (
                                a.attribute.class_id,
                                a.attribute.instance_id,
                                a.attribute.attribute_id,
                            )
                    })
                });
                if self.meter.refuse_lists || odd {
                    return Some(exception());
                }
                let results: Vec<Result<Data, DataAccessResult>> = attributes
                    .iter()
                    .map(|a| {
                        self.value(
                            AttributeRef {
                                class_id: a.attribute.class_id,
                                obis: a.attribute.instance_id,
                                attribute: a.attribute.attribute_id,
                            },
                            a.access.as_ref(),
                        )
                    })
                    .collect();
                let mut raw = vec![u8::try_from(results.len()).unwrap()];
                for r in &results {
                    match r {
                        Ok(d) => {
                            raw.push(0);
                            raw.extend(d.to_bytes());
                        }
                        Err(e) => raw.extend([1, u8::from(*e)]),
                    }
                }
                if raw.len() > self.meter.block_size {
                    self.start_blocks(*invoke, raw)
                } else {
                    Apdu::GetResponse(GetResponse::WithList {
                        invoke: *invoke,
                        results: results
                            .into_iter()
                            .map(|r| match r {
                                Ok(d) => GetDataResult::Data(d),
                                Err(e) => GetDataResult::DataAccessResult(e),
                            })
                            .collect(),
                    })
                }
            }
            Apdu::GetRequest(GetRequest::Next {
                invoke,
                block_number,
            }) => self.next_block(*invoke, *block_number),
            Apdu::SetRequest(s) => {
                let attr = AttributeRef {
                    class_id: s.attribute.class_id,
                    obis: s.attribute.instance_id,
                    attribute: s.attribute.attribute_id,
                };
                let result = if let Some(v) = self.meter.objects.get_mut(&attr) {
                    *v = s.value.clone();
                    DataAccessResult::Success
                } else {
                    DataAccessResult::ObjectUndefined
                };
                Apdu::SetResponse(SetResponse {
                    invoke: s.invoke,
                    result,
                })
            }
            Apdu::ActionRequest(r) => Apdu::ActionResponse(ActionResponse {
                invoke: r.invoke,
                result: ActionResult::Success,
                return_parameters: None,
            }),
            Apdu::Rlrq(_) if self.meter.answer_rlrq => Apdu::Rlre(Rlre {
                reason: None,
                user_information: None,
            }),
            _ => return None,
        })
    }

    fn aare(&self, aarq: &calin_agent::protocol::apdu::Aarq) -> Aare {
        let given = aarq
            .calling_authentication_value
            .as_ref()
            .map(|v| v.value().expose().to_vec());
        let diagnostic = match (&self.meter.password, given) {
            (None, _) => None,
            (Some(_), None) => Some(AcseServiceUserDiagnostic::AuthenticationRequired),
            (Some(p), Some(g)) if *p == g => None,
            (Some(_), Some(_)) => Some(AcseServiceUserDiagnostic::AuthenticationFailure),
        };
        let proposed = match &aarq.user_information {
            Some(UserInformation::InitiateRequest(r)) => r.proposed_conformance.bits(),
            _ => 0,
        };
        Aare {
            application_context_name: ApplicationContextName::LogicalName,
            result: if diagnostic.is_some() {
                AssociationResult::RejectedPermanent
            } else {
                AssociationResult::Accepted
            },
            result_source_diagnostic: SourceDiagnostic::ServiceUser(
                diagnostic.unwrap_or(AcseServiceUserDiagnostic::Null),
            ),
            responding_ap_title: None,
            authentication_required: false,
            mechanism_name: None,
            responding_authentication_value: None::<AuthenticationValue>,
            user_information: Some(UserInformation::InitiateResponse(InitiateResponse {
                negotiated_quality_of_service: None,
                negotiated_dlms_version: 6,
                negotiated_conformance: Conformance::from_bits(
                    proposed & self.meter.conformance.bits(),
                ),
                server_max_receive_pdu_size: self.meter.server_max_pdu,
                vaa_name: InitiateResponse::VAA_NAME_LN,
            })),
        }
    }

    fn value(
        &self,
        attr: AttributeRef,
        access: Option<&calin_agent::protocol::apdu::SelectiveAccess>,
    ) -> Result<Data, DataAccessResult> {
        if let Some(e) = self.meter.refused.get(&attr) {
            return Err(*e);
        }
        if attr.class_id == 7 {
            if let Some(rows) = self.meter.logs.get(&attr.obis) {
                return match attr.attribute {
                    2 => self.buffer(rows, access),
                    7 => Ok(Data::DoubleLongUnsigned(rows.len() as u32)),
                    _ => self
                        .meter
                        .objects
                        .get(&attr)
                        .cloned()
                        .ok_or(DataAccessResult::ObjectUndefined),
                };
            }
        }
        self.meter
            .objects
            .get(&attr)
            .cloned()
            .ok_or(DataAccessResult::ObjectUndefined)
    }

    fn buffer(
        &self,
        rows: &[Data],
        access: Option<&calin_agent::protocol::apdu::SelectiveAccess>,
    ) -> Result<Data, DataAccessResult> {
        let Some(access) = access else {
            return Ok(Data::Array(rows.to_vec()));
        };
        if self.meter.selective_access_refused || access.selector != 2 {
            return Err(DataAccessResult::ScopeOfAccessViolated);
        }
        let e = EntryDescriptor::from_data(&access.parameters)
            .ok_or(DataAccessResult::TypeUnmatched)?;
        let n = rows.len() as u32;
        let to = if e.to_entry == 0 {
            n
        } else {
            e.to_entry.min(n)
        };
        if e.from_entry == 0 || e.from_entry > to {
            return Ok(Data::Array(vec![]));
        }
        Ok(Data::Array(
            rows[(e.from_entry - 1) as usize..to as usize].to_vec(),
        ))
    }

    fn maybe_blocks(
        &mut self,
        invoke: InvokeIdAndPriority,
        raw: Vec<u8>,
        decode: impl Fn(Vec<u8>) -> Data,
    ) -> Apdu {
        if raw.len() > self.meter.block_size {
            return self.start_blocks(invoke, raw);
        }
        Apdu::GetResponse(GetResponse::Normal {
            invoke,
            result: GetDataResult::Data(decode(raw)),
        })
    }

    fn start_blocks(&mut self, invoke: InvokeIdAndPriority, raw: Vec<u8>) -> Apdu {
        self.pending = Some((raw, 0));
        self.next_block(invoke, 0)
    }

    fn next_block(&mut self, invoke: InvokeIdAndPriority, acked: u32) -> Apdu {
        let Some((raw, sent)) = self.pending.as_mut() else {
            return Apdu::GetResponse(GetResponse::Normal {
                invoke,
                result: GetDataResult::DataAccessResult(DataAccessResult::NoLongGetInProgress),
            });
        };
        let number = (*sent / self.meter.block_size) as u32 + 1;
        if acked + 1 != number {
            return Apdu::GetResponse(GetResponse::Normal {
                invoke,
                result: GetDataResult::DataAccessResult(DataAccessResult::DataBlockNumberInvalid),
            });
        }
        let end = (*sent + self.meter.block_size).min(raw.len());
        let chunk = raw[*sent..end].to_vec();
        *sent = end;
        let last = end == raw.len();
        if last {
            self.pending = None;
        }
        Apdu::GetResponse(GetResponse::WithDataBlock {
            invoke,
            last_block: last,
            block_number: number,
            result: DataBlockResult::RawData(chunk),
        })
    }
}

fn exception() -> Apdu {
    Apdu::ExceptionResponse(ExceptionResponse {
        state_error: StateError::ServiceNotAllowed,
        service_error: ExceptionServiceError::OperationNotPossible,
    })
}

/// Run the meter on `io` until the client closes its end.
pub fn spawn_meter(
    mut io: DuplexStream,
    meter: FakeMeter,
    faults: Faults,
) -> (JoinHandle<()>, Arc<Mutex<MeterLog>>) {
    let log = Arc::new(Mutex::new(MeterLog::default()));
    let shared = log.clone();
    let handle = tokio::spawn(async move {
        let mut hdlc = HdlcServer::new(ServerConfig::new(server_address()));
        let mut responder = Responder {
            meter,
            pending: None,
        };
        let mut incoming = Deframer::new();
        let origin = Instant::now();
        let (mut rx_index, mut tx_index) = (0usize, 0usize);
        let (mut rx_silent, mut tx_silent) = (false, false);
        let mut buf = vec![0u8; 4096];
        loop {
            let n = match io.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            incoming.push(&buf[..n]);
            while let Some(frame) = incoming.next_frame().transpose() {
                let Ok(frame) = frame else { continue };
                let bytes = frame.to_bytes().unwrap();
                let fault = fault_at(&faults.to_meter, rx_index, &mut rx_silent);
                rx_index += 1;
                shared.lock().unwrap().frames_received += 1;
                for b in apply(fault, bytes) {
                    hdlc.handle_bytes(origin.elapsed(), &b);
                }
            }
            while let Some(action) = hdlc.poll_action() {
                match action {
                    Action::Send(bytes) => {
                        let fault = fault_at(&faults.to_client, tx_index, &mut tx_silent);
                        tx_index += 1;
                        for b in apply(fault, bytes) {
                            if io.write_all(&b).await.is_err() {
                                return;
                            }
                        }
                    }
                    Action::Deliver(apdu) => {
                        let request = Apdu::decode(&apdu).expect("client sent a valid APDU");
                        let answer = responder.answer(&request);
                        shared.lock().unwrap().requests.push(request);
                        if let Some(answer) = answer {
                            hdlc.send_apdu(origin.elapsed(), &answer.to_bytes())
                                .unwrap();
                        }
                    }
                    Action::Disconnected => shared.lock().unwrap().disconnects += 1,
                    _ => {}
                }
            }
        }
    });
    (handle, log)
}

/// A session config for the scripted meter: public client, short timeouts (the clock
/// is paused, so they cost no real time).
pub fn config() -> SessionConfig {
    let mut c = SessionConfig::new(16, server_address());
    c.response_timeout = Duration::from_millis(500);
    c.inter_char_timeout = Duration::from_millis(20);
    c.retries = 3;
    c
}

/// Start the meter and open a session to it.
pub async fn open(
    meter: FakeMeter,
    faults: Faults,
    config: SessionConfig,
) -> (
    Result<Session, calin_agent::meter::MeterError>,
    Arc<Mutex<MeterLog>>,
) {
    let (client, server) = tokio::io::duplex(8192);
    let (_task, log) = spawn_meter(server, meter, faults);
    (Session::open(Box::new(client), config).await, log)
}

/// A meter with an energy register (1234.56 kWh as 123456 × 10^-2... in Wh), a Data
/// object and a long string that needs block transfer.
pub fn standard_meter() -> FakeMeter {
    let mut m = FakeMeter::default();
    m.objects
        .insert(a("3:1.0.1.8.0.255:2"), Data::DoubleLongUnsigned(123_456));
    m.objects.insert(
        a("3:1.0.1.8.0.255:3"),
        Data::Structure(vec![Data::Integer(-2), Data::Enum(30)]),
    );
    m.objects.insert(
        a("1:0.0.96.1.0.255:2"),
        Data::OctetString(b"CAL12345678".to_vec()),
    );
    m.objects.insert(
        a("1:0.0.96.99.0.255:2"),
        Data::OctetString((0..=255u8).cycle().take(1500).collect()),
    );
    m
}
