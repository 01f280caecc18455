//! Property tests: round trips, prefixes, arbitrary bytes.

use super::*;
use crate::protocol::axdr::Data;
use proptest::prelude::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn data() -> impl Strategy<Value = Data> {
    crate::protocol::axdr::tests::any_data()
}

fn invoke() -> impl Strategy<Value = InvokeIdAndPriority> {
    any::<u8>().prop_map(InvokeIdAndPriority)
}

fn attribute() -> impl Strategy<Value = AttributeDescriptor> {
    (any::<u16>(), any::<[u8; 6]>(), any::<i8>())
        .prop_map(|(c, o, a)| AttributeDescriptor::new(c, ObisCode(o), a))
}

fn access() -> impl Strategy<Value = Option<SelectiveAccess>> {
    proptest::option::of(
        (any::<u8>(), data()).prop_map(|(selector, parameters)| SelectiveAccess {
            selector,
            parameters,
        }),
    )
}

fn get_data_result() -> impl Strategy<Value = GetDataResult> {
    prop_oneof![
        data().prop_map(GetDataResult::Data),
        any::<u8>().prop_map(|e| GetDataResult::DataAccessResult(e.into())),
    ]
}

fn oid_or_named(prefix: [u8; 6]) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (0u8..10).prop_map(move |id| {
            let mut v = prefix.to_vec();
            v.push(id);
            v
        }),
        bytes(12),
    ]
}

fn user_information() -> impl Strategy<Value = UserInformation> {
    let req = (
        proptest::option::of(bytes(64)),
        any::<bool>(),
        proptest::option::of(any::<u8>()),
        any::<u8>(),
        any::<u32>(),
        any::<u16>(),
    )
        .prop_map(|(key, allowed, qos, v, c, pdu)| {
            UserInformation::InitiateRequest(InitiateRequest {
                dedicated_key: key.map(SecretBytes::new),
                response_allowed: allowed,
                proposed_quality_of_service: qos,
                proposed_dlms_version: v,
                proposed_conformance: Conformance::from_bits(c),
                client_max_receive_pdu_size: pdu,
            })
        });
    let resp = (
        proptest::option::of(any::<u8>()),
        any::<u8>(),
        any::<u32>(),
        any::<u16>(),
        any::<u16>(),
    )
        .prop_map(|(qos, v, c, pdu, vaa)| {
            UserInformation::InitiateResponse(InitiateResponse {
                negotiated_quality_of_service: qos,
                negotiated_dlms_version: v,
                negotiated_conformance: Conformance::from_bits(c),
                server_max_receive_pdu_size: pdu,
                vaa_name: vaa,
            })
        });
    let cse = (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(s, c, v)| {
        UserInformation::ConfirmedServiceError(ConfirmedServiceError {
            service: s.into(),
            error: ServiceError::from_parts(c, v),
        })
    });
    let other = bytes(40)
        .prop_filter("not a typed xDLMS tag", |b| {
            !matches!(b.first(), Some(0x01 | 0x08 | 0x0E))
        })
        .prop_map(UserInformation::Other);
    prop_oneof![req, resp, cse, other]
}

fn auth_value() -> impl Strategy<Value = AuthenticationValue> {
    prop_oneof![
        bytes(40).prop_map(AuthenticationValue::password),
        (any::<u8>(), bytes(40))
            .prop_filter("single-byte tag other than charstring", |(t, _)| *t != 0x80
                && t & 0x1F != 0x1F)
            .prop_map(|(tag, v)| AuthenticationValue::Other {
                tag,
                value: SecretBytes::new(v)
            }),
    ]
}

const CONTEXT_PREFIX: [u8; 6] = [0x60, 0x85, 0x74, 0x05, 0x08, 0x01];
const MECHANISM_PREFIX: [u8; 6] = [0x60, 0x85, 0x74, 0x05, 0x08, 0x02];

fn acse() -> impl Strategy<Value = Apdu> {
    let aarq = (
        oid_or_named(CONTEXT_PREFIX),
        proptest::option::of(bytes(200)),
        any::<bool>(),
        proptest::option::of(oid_or_named(MECHANISM_PREFIX)),
        proptest::option::of(auth_value()),
        proptest::option::of(user_information()),
    )
        .prop_map(|(ctx, title, auth, mech, value, ui)| {
            Apdu::Aarq(Aarq {
                application_context_name: ApplicationContextName::from_oid(&ctx),
                calling_ap_title: title,
                authentication_required: auth,
                mechanism_name: mech.map(|m| MechanismName::from_oid(&m)),
                calling_authentication_value: value,
                user_information: ui,
            })
        });
    let aare = (
        oid_or_named(CONTEXT_PREFIX),
        any::<u8>(),
        any::<bool>(),
        any::<u8>(),
        proptest::option::of(bytes(200)),
        any::<bool>(),
        proptest::option::of(auth_value()),
        proptest::option::of(user_information()),
    )
        .prop_map(|(ctx, result, user, diag, title, auth, value, ui)| {
            Apdu::Aare(Aare {
                application_context_name: ApplicationContextName::from_oid(&ctx),
                result: result.into(),
                result_source_diagnostic: if user {
                    SourceDiagnostic::ServiceUser(diag.into())
                } else {
                    SourceDiagnostic::ServiceProvider(diag.into())
                },
                responding_ap_title: title,
                authentication_required: auth,
                mechanism_name: None,
                responding_authentication_value: value,
                user_information: ui,
            })
        });
    let rlrq = (
        proptest::option::of(any::<u8>()),
        proptest::option::of(user_information()),
    )
        .prop_map(|(r, ui)| {
            Apdu::Rlrq(Rlrq {
                reason: r.map(Into::into),
                user_information: ui,
            })
        });
    let rlre = (
        proptest::option::of(any::<u8>()),
        proptest::option::of(user_information()),
    )
        .prop_map(|(r, ui)| {
            Apdu::Rlre(Rlre {
                reason: r.map(Into::into),
                user_information: ui,
            })
        });
    prop_oneof![aarq, aare, rlrq, rlre]
}

fn items<S: Strategy>(s: S) -> impl Strategy<Value = Vec<S::Value>> {
    proptest::collection::vec(s, 0..4)
}

fn xdlms() -> impl Strategy<Value = Apdu> {
    let get_req = prop_oneof![
        (invoke(), attribute(), access()).prop_map(|(invoke, attribute, access)| {
            GetRequest::Normal {
                invoke,
                attribute,
                access,
            }
        }),
        (invoke(), any::<u32>()).prop_map(|(invoke, block_number)| GetRequest::Next {
            invoke,
            block_number
        }),
        (invoke(), items((attribute(), access()))).prop_map(|(invoke, a)| GetRequest::WithList {
            invoke,
            attributes: a
                .into_iter()
                .map(|(attribute, access)| AttributeWithSelection { attribute, access })
                .collect(),
        }),
    ]
    .prop_map(Apdu::GetRequest);
    let block = prop_oneof![
        bytes(300).prop_map(DataBlockResult::RawData),
        any::<u8>().prop_map(|e| DataBlockResult::DataAccessResult(e.into())),
    ];
    let get_resp = prop_oneof![
        (invoke(), get_data_result())
            .prop_map(|(invoke, result)| GetResponse::Normal { invoke, result }),
        (invoke(), any::<bool>(), any::<u32>(), block).prop_map(
            |(invoke, last_block, block_number, result)| {
                GetResponse::WithDataBlock {
                    invoke,
                    last_block,
                    block_number,
                    result,
                }
            }
        ),
        (invoke(), items(get_data_result()))
            .prop_map(|(invoke, results)| GetResponse::WithList { invoke, results }),
    ]
    .prop_map(Apdu::GetResponse);
    let set_req =
        (invoke(), attribute(), access(), data()).prop_map(|(invoke, attribute, access, value)| {
            Apdu::SetRequest(SetRequest {
                invoke,
                attribute,
                access,
                value,
            })
        });
    let set_resp = (invoke(), any::<u8>()).prop_map(|(invoke, r)| {
        Apdu::SetResponse(SetResponse {
            invoke,
            result: r.into(),
        })
    });
    let act_req = (invoke(), attribute(), proptest::option::of(data())).prop_map(
        |(invoke, a, parameters)| {
            Apdu::ActionRequest(ActionRequest {
                invoke,
                method: MethodDescriptor::new(a.class_id, a.instance_id, a.attribute_id),
                parameters,
            })
        },
    );
    let act_resp = (
        invoke(),
        any::<u8>(),
        proptest::option::of(get_data_result()),
    )
        .prop_map(|(invoke, r, return_parameters)| {
            Apdu::ActionResponse(ActionResponse {
                invoke,
                result: r.into(),
                return_parameters,
            })
        });
    let exc = (
        any::<u8>(),
        prop_oneof![
            Just(ExceptionServiceError::OperationNotPossible),
            Just(ExceptionServiceError::ServiceNotSupported),
            Just(ExceptionServiceError::OtherReason),
            Just(ExceptionServiceError::PduTooLong),
            Just(ExceptionServiceError::DecipheringError),
            any::<u32>().prop_map(ExceptionServiceError::InvocationCounterError),
            prop_oneof![Just(0u8), 7u8..=255].prop_map(ExceptionServiceError::Unknown),
        ],
    )
        .prop_map(|(s, service_error)| {
            Apdu::ExceptionResponse(ExceptionResponse {
                state_error: s.into(),
                service_error,
            })
        });
    let cse = (any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(s, c, v)| {
        Apdu::ConfirmedServiceError(ConfirmedServiceError {
            service: s.into(),
            error: ServiceError::from_parts(c, v),
        })
    });
    prop_oneof![get_req, get_resp, set_req, set_resp, act_req, act_resp, exc, cse]
}

fn any_apdu() -> impl Strategy<Value = Apdu> {
    prop_oneof![acse(), xdlms()]
}

proptest! {
    #[test]
    fn decode_inverts_encode(apdu in any_apdu()) {
        let bytes = apdu.to_bytes();
        prop_assert_eq!(Apdu::decode(&bytes), Ok(apdu));
    }

    #[test]
    fn strict_prefixes_do_not_decode_to_something_else(apdu in any_apdu()) {
        let bytes = apdu.to_bytes();
        // The only prefix allowed to decode is an ACTION-Response cut right after its
        // result (the tolerated terse form), which reads as "no return parameters".
        let terse = match &apdu {
            Apdu::ActionResponse(a) => Some(Apdu::ActionResponse(ActionResponse {
                return_parameters: None,
                ..a.clone()
            })),
            _ => None,
        };
        for cut in 0..bytes.len() {
            let res = Apdu::decode(&bytes[..cut]);
            let tolerated = cut == 4 && terse.is_some() && res.as_ref().ok() == terse.as_ref();
            prop_assert!(res.is_err() || tolerated, "cut {}: {:?}", cut, res);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in bytes(300)) {
        if let Ok(apdu) = Apdu::decode(&b) {
            let again = apdu.to_bytes();
            prop_assert_eq!(Apdu::decode(&again), Ok(apdu));
        }
    }

    #[test]
    fn known_tags_with_arbitrary_bodies_never_panic(
        tag in prop_oneof![
            Just(0x60u8), Just(0x61), Just(0x62), Just(0x63), Just(0xC0), Just(0xC1),
            Just(0xC3), Just(0xC4), Just(0xC5), Just(0xC7), Just(0xD8), Just(0x0E)
        ],
        choice in 0u8..5,
        rest in bytes(200),
    ) {
        let mut b = vec![tag, choice];
        b.extend_from_slice(&rest);
        if let Ok(apdu) = Apdu::decode(&b) {
            prop_assert_eq!(Apdu::decode(&apdu.to_bytes()), Ok(apdu));
        }
    }
}
