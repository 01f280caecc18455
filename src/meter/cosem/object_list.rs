//! Association LN object_list (class 15, attribute 2; Blue Book 4.4.3): every object the
//! meter offers to this association, with its attribute and method access rights.

use super::{attr, bad, ItemError, ItemResult, CLASS_ASSOCIATION_LN, CURRENT_ASSOCIATION};
use crate::meter::session::{ProgressFn, Session};
use crate::protocol::axdr::Data;
use crate::protocol::obis::ObisCode;

/// attribute_access_item: an attribute, its access mode and the selective-access
/// selectors it supports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttributeAccess {
    pub attribute: i8,
    /// 0 no access, 1 read, 2 write, 3 read-write, 4-6 the same with authentication.
    pub access_mode: u8,
    pub selectors: Vec<i8>,
}

impl AttributeAccess {
    pub fn readable(&self) -> bool {
        matches!(self.access_mode, 1 | 3 | 4 | 6)
    }

    pub fn writable(&self) -> bool {
        matches!(self.access_mode, 2 | 3 | 5 | 6)
    }
}

/// method_access_item: a method and whether it may be invoked (0 no, 1 yes,
/// 2 authenticated; version 0 sends a boolean, read as 0 or 1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MethodAccess {
    pub method: i8,
    pub access_mode: u8,
}

/// object_list_element.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ObjectListEntry {
    pub class_id: u16,
    pub version: u8,
    pub obis: ObisCode,
    pub attributes: Vec<AttributeAccess>,
    pub methods: Vec<MethodAccess>,
}

fn small<T: TryFrom<i128>>(d: &Data) -> Option<T> {
    d.as_integer().and_then(|v| T::try_from(v).ok())
}

/// Parse the object_list value (an array of object_list_element).
pub fn parse_object_list(d: &Data) -> Result<Vec<ObjectListEntry>, ItemError> {
    let Data::Array(elements) = d else {
        return Err(bad("object_list array", d));
    };
    elements.iter().map(parse_element).collect()
}

fn parse_element(d: &Data) -> Result<ObjectListEntry, ItemError> {
    let shape = "object_list_element structure { class_id, version, logical_name, access_rights }";
    let [class_id, version, Data::OctetString(ln), rights] = d.as_elements().unwrap_or_default()
    else {
        return Err(bad(shape, d));
    };
    let (Some(class_id), Some(version), Some(obis)) =
        (small(class_id), small(version), ObisCode::from_slice(ln))
    else {
        return Err(bad(shape, d));
    };
    let [Data::Array(attrs), Data::Array(methods)] = rights.as_elements().unwrap_or_default()
    else {
        return Err(bad("access_rights structure { array, array }", rights));
    };
    Ok(ObjectListEntry {
        class_id,
        version,
        obis,
        attributes: attrs
            .iter()
            .map(parse_attribute)
            .collect::<Result<_, _>>()?,
        methods: methods.iter().map(parse_method).collect::<Result<_, _>>()?,
    })
}

fn parse_attribute(d: &Data) -> Result<AttributeAccess, ItemError> {
    let shape = "attribute_access_item structure { integer, enum, selectors }";
    let [id, mode, selectors] = d.as_elements().unwrap_or_default() else {
        return Err(bad(shape, d));
    };
    let (Some(attribute), Some(access_mode)) = (small(id), small(mode)) else {
        return Err(bad(shape, d));
    };
    let selectors = match selectors {
        Data::NullData => Vec::new(),
        Data::Array(s) => s
            .iter()
            .map(|v| small(v).ok_or_else(|| bad("access selector integer", v)))
            .collect::<Result<_, _>>()?,
        other => return Err(bad("access_selectors null or array", other)),
    };
    Ok(AttributeAccess {
        attribute,
        access_mode,
        selectors,
    })
}

fn parse_method(d: &Data) -> Result<MethodAccess, ItemError> {
    let shape = "method_access_item structure { integer, enum or boolean }";
    let [id, mode] = d.as_elements().unwrap_or_default() else {
        return Err(bad(shape, d));
    };
    let access_mode = match mode {
        Data::Boolean(b) => Some(u8::from(*b)),
        other => small(other),
    };
    match (small(id), access_mode) {
        (Some(method), Some(access_mode)) => Ok(MethodAccess {
            method,
            access_mode,
        }),
        _ => Err(bad(shape, d)),
    }
}

/// Read the current association's object list (usually long: block transfer), reporting
/// progress per block.
pub async fn read_object_list(
    session: &mut Session,
    progress: &mut ProgressFn<'_>,
) -> ItemResult<Vec<ObjectListEntry>> {
    let target = attr(CLASS_ASSOCIATION_LN, CURRENT_ASSOCIATION, 2);
    let r = session.get_with_progress(target, None, progress).await?;
    Ok(r.map_err(ItemError::Refused)
        .and_then(|d| parse_object_list(&d)))
}
