//! The application layer alone: APDUs in, APDUs out, against the built-in meter.

use super::*;
use crate::profile::Profile;
use crate::protocol::apdu::{
    Aare, Aarq, AssociationResult, AttributeDescriptor, AttributeWithSelection, Conformance,
    DataBlockResult, GetDataResult, GetRequest, GetResponse, InitiateError, InitiateRequest,
    InvokeIdAndPriority, MethodDescriptor, ReleaseRequestReason, Rlrq, SelectiveAccess,
    ServiceError, SourceDiagnostic, UserInformation,
};
use crate::protocol::axdr::{Data, Limits};
use crate::protocol::obis::ObisCode;
use crate::sim::fault::FaultKind;
use crate::sim::scenario::Scenario;

const T: Duration = Duration::ZERO;
const ENERGY: ObisCode = ObisCode::new(1, 0, 1, 8, 0, 255);
const SERIAL: ObisCode = ObisCode::new(0, 0, 96, 1, 0, 255);
const RELAY: ObisCode = ObisCode::new(0, 0, 96, 3, 10, 255);
const ASSOCIATION: ObisCode = ObisCode::new(0, 0, 40, 0, 0, 255);
const POWER_LOG: ObisCode = ObisCode::new(0, 0, 99, 98, 0, 255);

fn meter_with(extra: &str) -> SimMeter {
    let text = format!("[[meter]]\nphysical = 17\nserial = \"4700\"\n{extra}");
    let s = Scenario::parse("t.toml", &text).unwrap();
    SimMeter::new(s.meters[0].clone(), &Profile::calin(), s.start).unwrap()
}

fn builtin() -> SimMeter {
    let s = Scenario::builtin();
    SimMeter::new(s.meters[0].clone(), &Profile::calin(), s.start).unwrap()
}

fn invoke() -> InvokeIdAndPriority {
    InvokeIdAndPriority::new(5, true, true)
}

fn exchange(a: &mut Association, m: &mut SimMeter, client: u16, request: Apdu) -> (Apdu, Served) {
    let (bytes, served) = a.handle(m, client, &request.to_bytes(), T);
    (
        Apdu::decode(&bytes).expect("the meter's answer decodes"),
        served,
    )
}

fn associate(
    a: &mut Association,
    m: &mut SimMeter,
    client: u16,
    password: Option<&[u8]>,
    pdu: u16,
) -> Aare {
    let aarq = Aarq::logical_name(password, InitiateRequest::new(pdu));
    match exchange(a, m, client, Apdu::Aarq(aarq)).0 {
        Apdu::Aare(aare) => aare,
        other => panic!("{other:?}"),
    }
}

fn diagnostic(aare: &Aare) -> AcseServiceUserDiagnostic {
    match aare.result_source_diagnostic {
        SourceDiagnostic::ServiceUser(d) => d,
        other => panic!("{other:?}"),
    }
}

fn get_request(class: u16, obis: ObisCode, attr: i8) -> Apdu {
    Apdu::GetRequest(GetRequest::Normal {
        invoke: invoke(),
        attribute: AttributeDescriptor::new(class, obis, attr),
        access: None,
    })
}

fn get(
    a: &mut Association,
    m: &mut SimMeter,
    class: u16,
    obis: ObisCode,
    attr: i8,
) -> GetDataResult {
    match exchange(a, m, 0x10, get_request(class, obis, attr)).0 {
        Apdu::GetResponse(GetResponse::Normal { result, invoke: i }) => {
            assert_eq!(i, invoke(), "the invoke id is echoed");
            result
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn public_client_associates_and_reads_a_register() {
    let (mut a, mut m) = (Association::new(1), builtin());
    let aare = associate(&mut a, &mut m, 0x10, None, 1024);
    assert!(aare.is_accepted());
    let Some(UserInformation::InitiateResponse(ir)) = aare.user_information else {
        panic!()
    };
    assert_eq!(ir.server_max_receive_pdu_size, 512);
    assert_eq!(ir.negotiated_dlms_version, 6);
    // The proposal was LN_CLIENT_DEFAULT: the answer is what both support.
    assert_eq!(
        ir.negotiated_conformance.bits(),
        Conformance::LN_CLIENT_DEFAULT.bits() & SERVER_CONFORMANCE
    );
    assert_eq!(
        get(&mut a, &mut m, 3, ENERGY, 2),
        GetDataResult::Data(Data::DoubleLongUnsigned(1_234_567))
    );
    assert_eq!(
        get(&mut a, &mut m, 3, ObisCode::new(9, 9, 9, 9, 9, 9), 2),
        GetDataResult::DataAccessResult(DataAccessResult::ObjectUndefined)
    );
    assert_eq!(
        get(&mut a, &mut m, 1, ENERGY, 2),
        GetDataResult::DataAccessResult(DataAccessResult::ObjectClassInconsistent)
    );
    assert_eq!(
        get(&mut a, &mut m, 3, ENERGY, 7),
        GetDataResult::DataAccessResult(DataAccessResult::ObjectUnavailable)
    );
}

#[test]
fn requests_outside_an_association_get_an_exception() {
    let (mut a, mut m) = (Association::new(1), builtin());
    let (apdu, served) = exchange(&mut a, &mut m, 0x10, get_request(3, ENERGY, 2));
    assert_eq!(
        apdu,
        Apdu::ExceptionResponse(ExceptionResponse {
            state_error: StateError::ServiceNotAllowed,
            service_error: ExceptionServiceError::OperationNotPossible
        })
    );
    assert_eq!(
        served,
        Served::Exception {
            state: StateError::ServiceNotAllowed
        }
    );
    // Garbage: service unknown.
    let (bytes, _) = a.handle(&mut m, 0x10, &[0xEE, 1, 2], T);
    assert!(matches!(
        Apdu::decode(&bytes),
        Ok(Apdu::ExceptionResponse(ExceptionResponse {
            state_error: StateError::ServiceUnknown,
            ..
        }))
    ));
}

#[test]
fn password_rules_for_operators() {
    let mut m = meter_with("password = \"12345678\"\n");
    let mut a = Association::new(1);
    // (client SAP, password, expected rejection)
    type Case<'a> = (u16, Option<&'a [u8]>, Option<AcseServiceUserDiagnostic>);
    let cases: &[Case<'_>] = &[
        (1, Some(b"12345678"), None),
        (
            1,
            Some(b"12345679"),
            Some(AcseServiceUserDiagnostic::AuthenticationFailure),
        ),
        (
            1,
            None,
            Some(AcseServiceUserDiagnostic::AuthenticationRequired),
        ),
        (102, Some(b"12345678"), None),
        (0x10, None, None),
        (
            0x10,
            Some(b"nope"),
            Some(AcseServiceUserDiagnostic::AuthenticationFailure),
        ),
    ];
    for (client, pw, expected) in cases {
        let aare = associate(&mut a, &mut m, *client, *pw, 512);
        match expected {
            None => {
                assert!(aare.is_accepted(), "client {client}");
                assert_eq!(aare.mechanism_name.is_some(), pw.is_some());
            }
            Some(d) => {
                assert_eq!(
                    aare.result,
                    AssociationResult::RejectedPermanent,
                    "client {client}"
                );
                assert_eq!(diagnostic(&aare), *d, "client {client}");
                assert!(a.info().is_none());
            }
        }
    }
    // The restricted public client reads identity, not energy.
    associate(&mut a, &mut m, 0x10, None, 512);
    assert!(matches!(
        get(&mut a, &mut m, 1, SERIAL, 2),
        GetDataResult::Data(_)
    ));
    assert_eq!(
        get(&mut a, &mut m, 3, ENERGY, 2),
        GetDataResult::DataAccessResult(DataAccessResult::ReadWriteDenied)
    );
}

#[test]
fn faults_refuse_the_association_even_with_the_right_password() {
    let mut m = meter_with("password = \"pw\"\n");
    let mut a = Association::new(1);
    m.faults.inject(FaultKind::RejectPassword);
    let aare = associate(&mut a, &mut m, 1, Some(b"pw"), 512);
    assert_eq!(
        diagnostic(&aare),
        AcseServiceUserDiagnostic::AuthenticationFailure
    );
    assert!(
        associate(&mut a, &mut m, 1, Some(b"pw"), 512).is_accepted(),
        "once"
    );
    m.faults.inject(FaultKind::RefuseAssociation);
    let aare = associate(&mut a, &mut m, 0x10, None, 512);
    assert_eq!(aare.result, AssociationResult::RejectedPermanent);
    assert_eq!(diagnostic(&aare), AcseServiceUserDiagnostic::NoReasonGiven);
}

#[test]
fn xdlms_refusals_travel_in_user_information() {
    let (mut a, mut m) = (Association::new(1), builtin());
    let mut initiate = InitiateRequest::new(512);
    initiate.proposed_dlms_version = 5;
    let aarq = Aarq::logical_name(None, initiate);
    let Apdu::Aare(aare) = exchange(&mut a, &mut m, 0x10, Apdu::Aarq(aarq)).0 else {
        panic!()
    };
    assert!(!aare.is_accepted());
    let Some(UserInformation::ConfirmedServiceError(e)) = aare.user_information else {
        panic!()
    };
    assert_eq!(
        e.error,
        ServiceError::Initiate(InitiateError::DlmsVersionTooLow)
    );
}

/// Read a long attribute with GET-Next until the last block; the blocks' sizes too.
fn read_blocks(a: &mut Association, m: &mut SimMeter, first: Apdu, limit: usize) -> (Vec<u8>, u32) {
    let mut raw = Vec::new();
    let mut next = first;
    loop {
        let bytes = next.to_bytes();
        assert!(
            bytes.len() <= limit,
            "a block of {} bytes over the {limit} PDU",
            bytes.len()
        );
        let Apdu::GetResponse(GetResponse::WithDataBlock {
            last_block,
            block_number,
            result: DataBlockResult::RawData(chunk),
            ..
        }) = next
        else {
            panic!("{next:?}")
        };
        raw.extend(chunk);
        if last_block {
            return (raw, block_number);
        }
        next = exchange(
            a,
            m,
            0x10,
            Apdu::GetRequest(GetRequest::Next {
                invoke: invoke(),
                block_number,
            }),
        )
        .0;
    }
}

#[test]
fn object_list_comes_in_blocks_that_reassemble() {
    let (mut a, mut m) = (Association::new(1), builtin());
    associate(&mut a, &mut m, 0x10, None, 256);
    let (first, served) = exchange(&mut a, &mut m, 0x10, get_request(15, ASSOCIATION, 2));
    assert!(
        matches!(served, Served::Get { blocks: true, .. }),
        "{served:?}"
    );
    let (raw, blocks) = read_blocks(&mut a, &mut m, first, 256);
    assert!(blocks >= 4, "{blocks} blocks");
    let (list, used) = Data::decode(&raw, &Limits::default()).unwrap();
    assert_eq!(used, raw.len());
    let Data::Array(entries) = list else { panic!() };
    assert_eq!(entries.len(), m.objects.iter().count());
    // After the last block there is nothing to continue.
    let (apdu, _) = exchange(
        &mut a,
        &mut m,
        0x10,
        Apdu::GetRequest(GetRequest::Next {
            invoke: invoke(),
            block_number: blocks,
        }),
    );
    assert!(matches!(
        apdu,
        Apdu::GetResponse(GetResponse::WithDataBlock {
            result: DataBlockResult::DataAccessResult(DataAccessResult::NoLongGetInProgress),
            ..
        })
    ));
}

#[test]
fn a_wrong_block_number_ends_the_transfer() {
    let (mut a, mut m) = (Association::new(1), builtin());
    associate(&mut a, &mut m, 0x10, None, 128);
    exchange(&mut a, &mut m, 0x10, get_request(15, ASSOCIATION, 2));
    let next = |n| {
        Apdu::GetRequest(GetRequest::Next {
            invoke: invoke(),
            block_number: n,
        })
    };
    let (apdu, _) = exchange(&mut a, &mut m, 0x10, next(7));
    assert!(matches!(
        apdu,
        Apdu::GetResponse(GetResponse::WithDataBlock {
            last_block: true,
            result: DataBlockResult::DataAccessResult(DataAccessResult::DataBlockNumberInvalid),
            ..
        })
    ));
    let (apdu, _) = exchange(&mut a, &mut m, 0x10, next(1));
    assert!(matches!(
        apdu,
        Apdu::GetResponse(GetResponse::WithDataBlock {
            result: DataBlockResult::DataAccessResult(DataAccessResult::NoLongGetInProgress),
            ..
        })
    ));
}

#[test]
fn without_block_transfer_a_long_answer_is_refused() {
    let (mut a, mut m) = (Association::new(1), builtin());
    let mut initiate = InitiateRequest::new(256);
    initiate.proposed_conformance = Conformance::from_bits(Conformance::GET);
    exchange(
        &mut a,
        &mut m,
        0x10,
        Apdu::Aarq(Aarq::logical_name(None, initiate)),
    );
    assert_eq!(
        get(&mut a, &mut m, 15, ASSOCIATION, 2),
        GetDataResult::DataAccessResult(DataAccessResult::OtherReason)
    );
}

#[test]
fn get_with_list_and_selective_access_on_an_event_log() {
    let (mut a, mut m) = (Association::new(1), builtin());
    associate(&mut a, &mut m, 0x10, None, 1024);
    let last_two = SelectiveAccess {
        selector: SelectiveAccess::BY_ENTRY,
        parameters: Data::Structure(vec![
            Data::DoubleLongUnsigned(4),
            Data::DoubleLongUnsigned(0),
            Data::LongUnsigned(1),
            Data::LongUnsigned(1),
        ]),
    };
    let request = Apdu::GetRequest(GetRequest::WithList {
        invoke: invoke(),
        attributes: vec![
            AttributeWithSelection {
                attribute: AttributeDescriptor::new(3, ENERGY, 2),
                access: None,
            },
            AttributeWithSelection {
                attribute: AttributeDescriptor::new(7, POWER_LOG, 2),
                access: Some(last_two),
            },
            AttributeWithSelection {
                attribute: AttributeDescriptor::new(3, ENERGY, 9),
                access: None,
            },
        ],
    });
    let (apdu, served) = exchange(&mut a, &mut m, 0x10, request);
    assert_eq!(served, Served::GetList { count: 3 });
    let Apdu::GetResponse(GetResponse::WithList { results, .. }) = apdu else {
        panic!("{apdu:?}")
    };
    assert_eq!(
        results[0],
        GetDataResult::Data(Data::DoubleLongUnsigned(1_234_567))
    );
    let GetDataResult::Data(Data::Array(rows)) = &results[1] else {
        panic!("{:?}", results[1])
    };
    assert_eq!(rows.len(), 2, "entries 4 and 5 of 5");
    let t = rows[1].as_elements().unwrap()[0].as_date_time().unwrap();
    assert_eq!((t.date.month, t.date.day_of_month), (4, 29));
    assert_eq!(
        results[2],
        GetDataResult::DataAccessResult(DataAccessResult::ObjectUnavailable)
    );
}

#[test]
fn operator_disconnects_and_reconnects_the_relay() {
    let (mut a, mut m) = (Association::new(1), builtin());
    let act = |a: &mut Association, m: &mut SimMeter, client, method| {
        let req = Apdu::ActionRequest(ActionRequest {
            invoke: invoke(),
            method: MethodDescriptor::new(70, RELAY, method),
            parameters: Some(Data::Integer(0)),
        });
        match exchange(a, m, client, req).0 {
            Apdu::ActionResponse(r) => r.result,
            other => panic!("{other:?}"),
        }
    };
    associate(&mut a, &mut m, 0x10, None, 512);
    assert_eq!(act(&mut a, &mut m, 0x10, 1), ActionResult::ReadWriteDenied);
    associate(&mut a, &mut m, 1, None, 512);
    assert_eq!(act(&mut a, &mut m, 1, 1), ActionResult::Success);
    assert_eq!(
        get(&mut a, &mut m, 70, RELAY, 2),
        GetDataResult::Data(Data::Boolean(false))
    );
    assert_eq!(m.snapshot().status, Some(1007));
    assert_eq!(act(&mut a, &mut m, 1, 2), ActionResult::Success);
    assert_eq!(
        get(&mut a, &mut m, 70, RELAY, 2),
        GetDataResult::Data(Data::Boolean(true))
    );
    assert_eq!(m.snapshot().status, Some(1000));
    assert_eq!(act(&mut a, &mut m, 1, 9), ActionResult::ObjectUnavailable);

    let set = |a: &mut Association, m: &mut SimMeter, value| {
        let req = Apdu::SetRequest(SetRequest {
            invoke: invoke(),
            attribute: AttributeDescriptor::new(70, RELAY, 4),
            access: None,
            value,
        });
        match exchange(a, m, 1, req).0 {
            Apdu::SetResponse(r) => r.result,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        set(&mut a, &mut m, Data::Enum(2)),
        DataAccessResult::Success
    );
    assert_eq!(
        set(&mut a, &mut m, Data::Unsigned(2)),
        DataAccessResult::TypeUnmatched
    );
    assert_eq!(
        get(&mut a, &mut m, 70, RELAY, 4),
        GetDataResult::Data(Data::Enum(2))
    );
}

#[test]
fn release_ends_the_association() {
    let (mut a, mut m) = (Association::new(1), builtin());
    associate(&mut a, &mut m, 0x10, None, 512);
    let rlrq = Apdu::Rlrq(Rlrq {
        reason: Some(ReleaseRequestReason::Normal),
        user_information: None,
    });
    let (apdu, served) = exchange(&mut a, &mut m, 0x10, rlrq);
    assert_eq!(served, Served::Released);
    assert!(matches!(
        apdu,
        Apdu::Rlre(Rlre {
            reason: Some(ReleaseResponseReason::Normal),
            ..
        })
    ));
    assert!(a.info().is_none());
    assert!(matches!(
        exchange(&mut a, &mut m, 0x10, get_request(3, ENERGY, 2)).0,
        Apdu::ExceptionResponse(_)
    ));
}
