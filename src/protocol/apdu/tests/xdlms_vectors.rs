//! GET/SET/ACTION and error vectors.

use super::*;
use crate::protocol::axdr::Data;

#[test]
fn get_request_normal_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0xC0, 0x01,                         // GET-Request-Normal
        0xC1,                               // invoke id 1, confirmed, high priority
        0x00, 0x03,                         // class 3 (Register)
        0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, // 1.0.1.8.0.255
        0x02,                               // attribute 2 (value)
        0x00,                               // no selective access
    ];
    exact(
        &bytes,
        Apdu::GetRequest(GetRequest::Normal {
            invoke: INVOKE,
            attribute: AttributeDescriptor::new(3, ENERGY, 2),
            access: None,
        }),
    );
}

#[test]
fn get_request_normal_from_gurux() {
    // Register 1.0.32.7.0.255 (voltage L1), attribute 2.
    let bytes = [
        0xC0, 0x01, 0xC1, 0x00, 0x03, 0x01, 0x00, 0x20, 0x07, 0x00, 0xFF, 0x02, 0x00,
    ];
    exact(
        &bytes,
        Apdu::GetRequest(GetRequest::Normal {
            invoke: INVOKE,
            attribute: AttributeDescriptor::new(3, ObisCode::new(1, 0, 32, 7, 0, 255), 2),
            access: None,
        }),
    );
}

#[test]
fn get_request_by_range_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0xC0, 0x01, 0xC1,
        0x00, 0x07, 0x01, 0x00, 0x63, 0x01, 0x00, 0xFF, 0x02, // Profile generic 1.0.99.1.0.255, buffer
        0x01, 0x01,                                           // selective access, selector 1 (range)
        0x02, 0x04,                                           // range_descriptor
        0x02, 0x04,                                           //   restricting_object
        0x12, 0x00, 0x08,                                     //     class 8 (Clock)
        0x09, 0x06, 0x00, 0x00, 0x01, 0x00, 0x00, 0xFF,       //     0.0.1.0.0.255
        0x0F, 0x02,                                           //     attribute 2
        0x12, 0x00, 0x00,                                     //     data index 0
        0x09, 0x0C, 0x07, 0xE8, 0x03, 0x0F, 0xFF,             //   from 2024-03-15
        0x00, 0x00, 0x00, 0x00, 0xFF, 0xC4, 0x00,             //     00:00:00.00 UTC+01:00
        0x09, 0x0C, 0x07, 0xE8, 0x03, 0x10, 0xFF,             //   to 2024-03-16
        0x00, 0x00, 0x00, 0x00, 0xFF, 0xC4, 0x00,             //     00:00:00.00 UTC+01:00
        0x01, 0x00,                                           //   selected_values: all columns
    ];
    let clock = CaptureObject {
        class_id: 8,
        logical_name: ObisCode::new(0, 0, 1, 0, 0, 255),
        attribute_index: 2,
        data_index: 0,
    };
    let day = |d: u8| {
        Data::OctetString(vec![
            0x07, 0xE8, 0x03, d, 0xFF, 0, 0, 0, 0, 0xFF, 0xC4, 0x00,
        ])
    };
    let range = RangeDescriptor {
        restricting_object: clock,
        from_value: day(15),
        to_value: day(16),
        selected_values: vec![],
    };
    let apdu = Apdu::GetRequest(GetRequest::Normal {
        invoke: INVOKE,
        attribute: AttributeDescriptor::new(7, ObisCode::new(1, 0, 99, 1, 0, 255), 2),
        access: Some(SelectiveAccess::by_range(&range)),
    });
    exact(&bytes, apdu.clone());
    let Apdu::GetRequest(GetRequest::Normal {
        access: Some(a), ..
    }) = apdu
    else {
        unreachable!()
    };
    assert_eq!(RangeDescriptor::from_data(&a.parameters), Some(range));
}

#[test]
fn get_request_by_entry() {
    #[rustfmt::skip]
    let bytes = [
        0xC0, 0x01, 0xC1,
        0x00, 0x07, 0x01, 0x00, 0x63, 0x01, 0x00, 0xFF, 0x02,
        0x01, 0x02,                         // selective access, selector 2 (entry)
        0x02, 0x04,                         // entry_descriptor
        0x06, 0x00, 0x00, 0x00, 0x01,       //   from_entry 1
        0x06, 0x00, 0x00, 0x00, 0x0A,       //   to_entry 10
        0x12, 0x00, 0x01,                   //   from_selected_value 1
        0x12, 0x00, 0x00,                   //   to_selected_value 0 (last)
    ];
    let entry = EntryDescriptor {
        from_entry: 1,
        to_entry: 10,
        from_selected_value: 1,
        to_selected_value: 0,
    };
    exact(
        &bytes,
        Apdu::GetRequest(GetRequest::Normal {
            invoke: INVOKE,
            attribute: AttributeDescriptor::new(7, ObisCode::new(1, 0, 99, 1, 0, 255), 2),
            access: Some(SelectiveAccess::by_entry(&entry)),
        }),
    );
}

#[test]
fn get_request_next_and_with_list_from_u9n() {
    #[rustfmt::skip]
    let next = [
        0xC0, 0x02, 0xC1,       // GET-Request-Next
        0x00, 0x00, 0x00, 0x01, // block number 1
    ];
    exact(
        &next,
        Apdu::GetRequest(GetRequest::Next {
            invoke: INVOKE,
            block_number: 1,
        }),
    );
    #[rustfmt::skip]
    let list = [
        0xC0, 0x03, 0xC1,       // GET-Request-With-List
        0x02,                   // 2 attributes
        0x00, 0x03, 0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, 0x02, 0x00, // value
        0x00, 0x03, 0x01, 0x00, 0x01, 0x08, 0x00, 0xFF, 0x03, 0x00, // scaler_unit
    ];
    let item = |attr| AttributeWithSelection {
        attribute: AttributeDescriptor::new(3, ENERGY, attr),
        access: None,
    };
    exact(
        &list,
        Apdu::GetRequest(GetRequest::WithList {
            invoke: INVOKE,
            attributes: vec![item(2), item(3)],
        }),
    );
}

#[test]
fn get_response_normal_and_error() {
    // Both decoded identically by u9n dlms-cosem (`GetResponseFactory.from_bytes`).
    #[rustfmt::skip]
    let data = [
        0xC4, 0x01, 0xC1,             // GET-Response-Normal
        0x00,                         // result: data
        0x06, 0x00, 0x00, 0x12, 0x34, //   double-long-unsigned 4660
    ];
    exact(
        &data,
        Apdu::GetResponse(GetResponse::Normal {
            invoke: INVOKE,
            result: GetDataResult::Data(Data::DoubleLongUnsigned(0x1234)),
        }),
    );
    #[rustfmt::skip]
    let refused = [
        0xC4, 0x01, 0xC1,
        0x01, 0x04,             // data-access-result: object-undefined (u9n produced these bytes)
    ];
    exact(
        &refused,
        Apdu::GetResponse(GetResponse::Normal {
            invoke: INVOKE,
            result: GetDataResult::DataAccessResult(DataAccessResult::ObjectUndefined),
        }),
    );
}

#[test]
fn get_response_with_datablock_from_u9n() {
    #[rustfmt::skip]
    let block = [
        0xC4, 0x02, 0xC1,               // GET-Response-With-Datablock
        0x00,                           // last-block: false
        0x00, 0x00, 0x00, 0x01,         // block number 1
        0x00,                           // raw-data
        0x05, 0x01, 0x02, 0x02, 0x02, 0x12, //   5 bytes of encoded Data
    ];
    exact(
        &block,
        Apdu::GetResponse(GetResponse::WithDataBlock {
            invoke: INVOKE,
            last_block: false,
            block_number: 1,
            result: DataBlockResult::RawData(vec![0x01, 0x02, 0x02, 0x02, 0x12]),
        }),
    );
    #[rustfmt::skip]
    let last = [
        0xC4, 0x02, 0xC1,
        0x01,                           // last-block: true
        0x00, 0x00, 0x00, 0x02,         // block number 2
        0x00, 0x07,                     // raw-data, 7 bytes
        0x00, 0x01, 0x06, 0x00, 0x00, 0x00, 0x04,
    ];
    exact(
        &last,
        Apdu::GetResponse(GetResponse::WithDataBlock {
            invoke: INVOKE,
            last_block: true,
            block_number: 2,
            result: DataBlockResult::RawData(vec![0x00, 0x01, 0x06, 0x00, 0x00, 0x00, 0x04]),
        }),
    );
    #[rustfmt::skip]
    let refused = [
        0xC4, 0x02, 0xC1, 0x01, 0x00, 0x00, 0x00, 0x03,
        0x01, 0x13,                     // data-access-result: data-block-number-invalid
    ];
    exact(
        &refused,
        Apdu::GetResponse(GetResponse::WithDataBlock {
            invoke: INVOKE,
            last_block: true,
            block_number: 3,
            result: DataBlockResult::DataAccessResult(DataAccessResult::DataBlockNumberInvalid),
        }),
    );
}

#[test]
fn get_response_with_list() {
    // u9n dlms-cosem decodes this as [4660, OBJECT_UNDEFINED].
    #[rustfmt::skip]
    let bytes = [
        0xC4, 0x03, 0xC1,             // GET-Response-With-List
        0x02,                         // 2 results
        0x00, 0x06, 0x00, 0x00, 0x12, 0x34, // data 4660
        0x01, 0x04,                   // object-undefined
    ];
    exact(
        &bytes,
        Apdu::GetResponse(GetResponse::WithList {
            invoke: INVOKE,
            results: vec![
                GetDataResult::Data(Data::DoubleLongUnsigned(0x1234)),
                GetDataResult::DataAccessResult(DataAccessResult::ObjectUndefined),
            ],
        }),
    );
}

// ---- SET / ACTION ----

#[test]
fn set_request_and_response_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0xC1, 0x01, 0xC1,                                     // SET-Request-Normal
        0x00, 0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0xFF, 0x02, // Clock 0.0.1.0.0.255, time
        0x00,                                                 // no selective access
        0x09, 0x0C, 0x07, 0xE8, 0x03, 0x0F, 0x05,             // octet-string: 2024-03-15 Fri
        0x0C, 0x1E, 0x05, 0x00, 0xFF, 0xC4, 0x00,             //   12:30:05.00 UTC+01:00
    ];
    let Ok(Apdu::SetRequest(req)) = Apdu::decode(&bytes) else {
        panic!("not a SET-Request")
    };
    assert_eq!(
        req.attribute,
        AttributeDescriptor::new(8, ObisCode::new(0, 0, 1, 0, 0, 255), 2)
    );
    assert_eq!(
        req.value.as_date_time().map(|d| d.to_string()),
        Some("2024-03-15T12:30:05.00+01:00".to_string())
    );
    assert_eq!(Apdu::SetRequest(req).to_bytes(), bytes);
    exact(
        &[0xC5, 0x01, 0xC1, 0x03], // SET-Response-Normal: read-write-denied
        Apdu::SetResponse(SetResponse {
            invoke: INVOKE,
            result: DataAccessResult::ReadWriteDenied,
        }),
    );
}

#[test]
fn action_request_and_response_from_u9n() {
    #[rustfmt::skip]
    let bytes = [
        0xC3, 0x01, 0xC1,                   // ACTION-Request-Normal
        0x00, 0x46,                         // class 70 (Disconnect control)
        0x00, 0x00, 0x60, 0x03, 0x0A, 0xFF, // 0.0.96.3.10.255
        0x01,                               // method 1 (remote_disconnect)
        0x01, 0x0F, 0x00,                   // parameters: integer 0
    ];
    exact(
        &bytes,
        Apdu::ActionRequest(ActionRequest {
            invoke: INVOKE,
            method: MethodDescriptor::new(70, ObisCode::new(0, 0, 96, 3, 10, 255), 1),
            parameters: Some(Data::Integer(0)),
        }),
    );
    // u9n omits the "no return parameters" flag; we accept it and write the flag.
    let ok = ActionResponse {
        invoke: INVOKE,
        result: ActionResult::Success,
        return_parameters: None,
    };
    assert_eq!(
        Apdu::decode(&[0xC7, 0x01, 0xC1, 0x00]),
        Ok(Apdu::ActionResponse(ok.clone()))
    );
    exact(&[0xC7, 0x01, 0xC1, 0x00, 0x00], Apdu::ActionResponse(ok));
    #[rustfmt::skip]
    let with_data = [
        0xC7, 0x01, 0xC1,
        0x00,               // success
        0x01, 0x00,         // return-parameters present, data
        0x11, 0x01,         //   unsigned 1
    ];
    exact(
        &with_data,
        Apdu::ActionResponse(ActionResponse {
            invoke: INVOKE,
            result: ActionResult::Success,
            return_parameters: Some(GetDataResult::Data(Data::Unsigned(1))),
        }),
    );
}

// ---- errors ----

#[test]
fn exception_and_confirmed_service_error() {
    // u9n: service-not-allowed / operation-not-possible.
    exact(
        &[0xD8, 0x01, 0x01],
        Apdu::ExceptionResponse(ExceptionResponse {
            state_error: StateError::ServiceNotAllowed,
            service_error: ExceptionServiceError::OperationNotPossible,
        }),
    );
    // Decoded the same way by u9n dlms-cosem.
    exact(
        &[0xD8, 0x02, 0x06, 0x00, 0x00, 0x12, 0x34], // invocation-counter-error, expected 4660
        Apdu::ExceptionResponse(ExceptionResponse {
            state_error: StateError::ServiceUnknown,
            service_error: ExceptionServiceError::InvocationCounterError(0x1234),
        }),
    );
    // u9n: InitiateError / initiate / dlms-version-too-low.
    exact(
        &[0x0E, 0x01, 0x06, 0x01],
        Apdu::ConfirmedServiceError(ConfirmedServiceError {
            service: ConfirmedService::InitiateError,
            error: ServiceError::Initiate(InitiateError::DlmsVersionTooLow),
        }),
    );
}

#[test]
fn apdu_errors_are_typed() {
    assert_eq!(Apdu::decode(&[]), Err(ApduError::Empty));
    assert_eq!(
        Apdu::decode(&[0xDB, 0x00]),
        Err(ApduError::UnknownTag(0xDB))
    );
    assert_eq!(
        Apdu::decode(&[0xC0, 0x04, 0xC1]),
        Err(ApduError::UnsupportedChoice {
            tag: 0xC0,
            choice: 4
        })
    );
    assert_eq!(
        Apdu::decode(&[0xC1, 0x02, 0xC1]),
        Err(ApduError::UnsupportedChoice {
            tag: 0xC1,
            choice: 2
        })
    );
    assert_eq!(
        Apdu::decode(&[0xC0, 0x02, 0xC1, 0x00, 0x00]),
        Err(ApduError::Truncated {
            needed: 4,
            available: 2
        })
    );
    assert_eq!(
        Apdu::decode(&[0xC5, 0x01, 0xC1, 0x00, 0xEE]),
        Err(ApduError::TrailingBytes { count: 1 })
    );
    assert_eq!(
        Apdu::decode(&[0xC4, 0x01, 0xC1, 0x00, 0x07]),
        Err(ApduError::Data(
            crate::protocol::axdr::AxdrError::UnknownTag(0x07)
        ))
    );
    assert_eq!(
        Apdu::decode(&[0xC4, 0x01, 0xC1, 0x02]),
        Err(ApduError::BadValue {
            field: "Get-Data-Result choice"
        })
    );
    // A with-list count far beyond the limit is refused before allocation.
    assert_eq!(
        Apdu::decode(&[0xC4, 0x03, 0xC1, 0x84, 0xFF, 0xFF, 0xFF, 0xFF]),
        Err(ApduError::TooManyItems {
            declared: 0xFFFF_FFFF,
            max: 65_536
        })
    );
    assert_eq!(
        Apdu::decode(&[0xC0, 0x01, 0xC1, 0, 3, 1, 0, 1, 8, 0, 255, 2, 0x02]),
        Err(ApduError::BadValue {
            field: "access-selection flag"
        })
    );
}
