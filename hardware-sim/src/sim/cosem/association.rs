//! Association LN (class 15, version 1; Blue Book 4.4.3): what the current association is,
//! and the object list with each object's access rights as this association sees them.

use crate::protocol::apdu::Conformance;
use crate::protocol::axdr::{BitString, Data};

use super::{AccessMode, Context, CosemObject, Level, ObjectStore, Refusal};

/// The association a request runs in (the attributes of 0.0.40.0.0.255).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AssociationInfo {
    pub client_sap: u16,
    pub server_sap: u16,
    pub level: Level,
    /// Authenticated with a password (LLS, mechanism 1) rather than none (mechanism 0).
    pub lls: bool,
    pub conformance: Conformance,
    /// What the client receives at most, and what the meter receives at most.
    pub client_max_pdu: u16,
    pub server_max_pdu: u16,
}

/// DLMS UA object identifier prefix {2 16 756 5 8} as the Association LN attributes 4 and 6
/// spell it: joint-iso-ctt, country, country-name, identified-organization, DLMS-UA.
fn dlms_ua_name(arc: u8, id: u8) -> Data {
    Data::Structure(vec![
        Data::Unsigned(2),
        Data::Unsigned(16),
        Data::LongUnsigned(756),
        Data::Unsigned(5),
        Data::Unsigned(8),
        Data::Unsigned(arc),
        Data::Unsigned(id),
    ])
}

pub(super) fn get(store: &ObjectStore, attr: i8, cx: &Context<'_>) -> Result<Data, Refusal> {
    let a = cx.association;
    Ok(match attr {
        2 => object_list(store, a.level),
        3 => Data::Structure(vec![
            Data::Integer(i8::try_from(a.client_sap).unwrap_or(i8::MAX)),
            Data::LongUnsigned(a.server_sap),
        ]),
        // Logical_Name_Referencing_No_Ciphering: {2 16 756 5 8 1 1}.
        4 => dlms_ua_name(1, 1),
        5 => {
            let bits = a.conformance.bits().to_be_bytes();
            let conformance = BitString::new(bits.get(1..).unwrap_or_default().to_vec(), 24)
                .unwrap_or_else(|| BitString::from_bits(&[false; 24]));
            Data::Structure(vec![
                Data::BitString(conformance),
                Data::LongUnsigned(a.server_max_pdu),
                Data::LongUnsigned(a.client_max_pdu.min(a.server_max_pdu)),
                Data::Unsigned(6),
                Data::Integer(0),
                Data::OctetString(Vec::new()),
            ])
        }
        6 => dlms_ua_name(2, u8::from(a.lls)),
        // associated.
        8 => Data::Enum(2),
        _ => return Err(Refusal::AttributeUndefined),
    })
}

/// object_list (attribute 2): class, version, logical name and access rights of every object.
fn object_list(store: &ObjectStore, level: Level) -> Data {
    Data::Array(
        store
            .iter()
            .map(|(obis, object)| {
                Data::Structure(vec![
                    Data::LongUnsigned(object.class_id()),
                    Data::Unsigned(object.version()),
                    Data::OctetString(obis.0.to_vec()),
                    access_rights(store, obis, object, level),
                ])
            })
            .collect(),
    )
}

fn access_rights(
    store: &ObjectStore,
    obis: &crate::protocol::obis::ObisCode,
    object: &CosemObject,
    level: Level,
) -> Data {
    let attributes = (1..=i8::MAX)
        .map_while(|attr| store.attribute_access(obis, attr, level).map(|m| (attr, m)))
        .map(|(attr, mode)| {
            let selectors = match (object, attr) {
                (CosemObject::ProfileGeneric(_), 2) if mode != AccessMode::NoAccess => {
                    Data::Array(vec![Data::Integer(1), Data::Integer(2)])
                }
                _ => Data::NullData,
            };
            Data::Structure(vec![Data::Integer(attr), Data::Enum(mode as u8), selectors])
        })
        .collect();
    let methods = (1..=i8::MAX)
        .map_while(|m| store.method_access(obis, m, level).map(|ok| (m, ok)))
        .map(|(m, ok)| Data::Structure(vec![Data::Integer(m), Data::Enum(u8::from(ok))]))
        .collect();
    Data::Structure(vec![Data::Array(attributes), Data::Array(methods)])
}
