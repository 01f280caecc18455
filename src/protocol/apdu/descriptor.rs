//! Addressing parts shared by GET/SET/ACTION (Green Book 9.5): invoke-id-and-priority,
//! COSEM attribute and method descriptors, and selective access (Blue Book 4.3.6 for the
//! profile-generic range and entry descriptors).

use crate::protocol::axdr::reader::Reader;
use crate::protocol::axdr::{Data, Limits};
use crate::protocol::obis::ObisCode;

use super::ApduError;

/// Invoke-Id-And-Priority: bits 0-3 invoke id, bit 6 service class (1 = confirmed),
/// bit 7 priority (1 = high). The raw byte is kept, reserved bits included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct InvokeIdAndPriority(pub u8);

impl InvokeIdAndPriority {
    const CONFIRMED: u8 = 0x40;
    const HIGH_PRIORITY: u8 = 0x80;

    /// `invoke_id` is taken modulo 16.
    pub const fn new(invoke_id: u8, confirmed: bool, high_priority: bool) -> Self {
        let mut b = invoke_id & 0x0F;
        if confirmed {
            b |= Self::CONFIRMED;
        }
        if high_priority {
            b |= Self::HIGH_PRIORITY;
        }
        InvokeIdAndPriority(b)
    }

    pub const fn invoke_id(self) -> u8 {
        self.0 & 0x0F
    }

    pub const fn confirmed(self) -> bool {
        self.0 & Self::CONFIRMED != 0
    }

    pub const fn high_priority(self) -> bool {
        self.0 & Self::HIGH_PRIORITY != 0
    }
}

/// 0xC1: invoke id 1, confirmed, high priority (what most clients send).
impl Default for InvokeIdAndPriority {
    fn default() -> Self {
        InvokeIdAndPriority::new(1, true, true)
    }
}

/// Cosem-Attribute-Descriptor: class id, logical name, attribute id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct AttributeDescriptor {
    pub class_id: u16,
    pub instance_id: ObisCode,
    pub attribute_id: i8,
}

impl AttributeDescriptor {
    pub const fn new(class_id: u16, instance_id: ObisCode, attribute_id: i8) -> Self {
        AttributeDescriptor {
            class_id,
            instance_id,
            attribute_id,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        Ok(AttributeDescriptor {
            class_id: r.u16()?,
            instance_id: ObisCode(r.array()?),
            attribute_id: i8::from_be_bytes(r.array()?),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.class_id.to_be_bytes());
        out.extend_from_slice(&self.instance_id.0);
        out.extend_from_slice(&self.attribute_id.to_be_bytes());
    }
}

/// Cosem-Method-Descriptor: class id, logical name, method id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct MethodDescriptor {
    pub class_id: u16,
    pub instance_id: ObisCode,
    pub method_id: i8,
}

impl MethodDescriptor {
    pub const fn new(class_id: u16, instance_id: ObisCode, method_id: i8) -> Self {
        MethodDescriptor {
            class_id,
            instance_id,
            method_id,
        }
    }

    pub(crate) fn decode(r: &mut Reader<'_>) -> Result<Self, ApduError> {
        Ok(MethodDescriptor {
            class_id: r.u16()?,
            instance_id: ObisCode(r.array()?),
            method_id: i8::from_be_bytes(r.array()?),
        })
    }

    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.class_id.to_be_bytes());
        out.extend_from_slice(&self.instance_id.0);
        out.extend_from_slice(&self.method_id.to_be_bytes());
    }
}

/// Read an A-XDR OPTIONAL presence flag: 0 absent, 1 present, anything else is refused.
pub(crate) fn presence(r: &mut Reader<'_>, field: &'static str) -> Result<bool, ApduError> {
    match r.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(ApduError::BadValue { field }),
    }
}

/// Selective-Access-Descriptor: an access selector and its parameters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SelectiveAccess {
    pub selector: u8,
    pub parameters: Data,
}

impl SelectiveAccess {
    /// Profile generic `buffer`: by range (Blue Book 4.3.6).
    pub const BY_RANGE: u8 = 1;
    /// Profile generic `buffer`: by entry (Blue Book 4.3.6).
    pub const BY_ENTRY: u8 = 2;

    pub fn by_range(range: &RangeDescriptor) -> Self {
        SelectiveAccess {
            selector: Self::BY_RANGE,
            parameters: range.to_data(),
        }
    }

    pub fn by_entry(entry: &EntryDescriptor) -> Self {
        SelectiveAccess {
            selector: Self::BY_ENTRY,
            parameters: entry.to_data(),
        }
    }

    /// `OPTIONAL` access-selection: presence flag, then selector and parameters.
    pub(crate) fn decode_optional(
        r: &mut Reader<'_>,
        limits: &Limits,
    ) -> Result<Option<Self>, ApduError> {
        if !presence(r, "access-selection flag")? {
            return Ok(None);
        }
        Ok(Some(SelectiveAccess {
            selector: r.u8()?,
            parameters: Data::decode_from(r, limits)?,
        }))
    }

    pub(crate) fn encode_optional(access: &Option<Self>, out: &mut Vec<u8>) {
        match access {
            Some(a) => {
                out.extend([1, a.selector]);
                a.parameters.encode(out);
            }
            None => out.push(0),
        }
    }
}

/// capture_object_definition (Blue Book 4.3.6): which column of a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct CaptureObject {
    pub class_id: u16,
    pub logical_name: ObisCode,
    pub attribute_index: i8,
    pub data_index: u16,
}

impl CaptureObject {
    pub fn to_data(&self) -> Data {
        Data::Structure(vec![
            Data::LongUnsigned(self.class_id),
            Data::OctetString(self.logical_name.0.to_vec()),
            Data::Integer(self.attribute_index),
            Data::LongUnsigned(self.data_index),
        ])
    }

    pub fn from_data(d: &Data) -> Option<Self> {
        match d.as_elements()? {
            [Data::LongUnsigned(class_id), Data::OctetString(ln), Data::Integer(attr), Data::LongUnsigned(idx)] => {
                Some(CaptureObject {
                    class_id: *class_id,
                    logical_name: ObisCode::from_slice(ln)?,
                    attribute_index: *attr,
                    data_index: *idx,
                })
            }
            _ => None,
        }
    }
}

/// range_descriptor (selector 1): entries whose `restricting_object` lies in
/// `from..=to`, limited to `selected_values` columns (empty = all).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RangeDescriptor {
    pub restricting_object: CaptureObject,
    pub from_value: Data,
    pub to_value: Data,
    pub selected_values: Vec<CaptureObject>,
}

impl RangeDescriptor {
    pub fn to_data(&self) -> Data {
        Data::Structure(vec![
            self.restricting_object.to_data(),
            self.from_value.clone(),
            self.to_value.clone(),
            Data::Array(
                self.selected_values
                    .iter()
                    .map(CaptureObject::to_data)
                    .collect(),
            ),
        ])
    }

    pub fn from_data(d: &Data) -> Option<Self> {
        match d.as_elements()? {
            [restricting, from, to, Data::Array(selected)] => Some(RangeDescriptor {
                restricting_object: CaptureObject::from_data(restricting)?,
                from_value: from.clone(),
                to_value: to.clone(),
                selected_values: selected
                    .iter()
                    .map(CaptureObject::from_data)
                    .collect::<Option<_>>()?,
            }),
            _ => None,
        }
    }
}

/// entry_descriptor (selector 2): entries `from_entry..=to_entry` (1-based, 0 = last) and
/// columns `from_selected_value..=to_selected_value` (0 = last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct EntryDescriptor {
    pub from_entry: u32,
    pub to_entry: u32,
    pub from_selected_value: u16,
    pub to_selected_value: u16,
}

impl EntryDescriptor {
    pub fn to_data(&self) -> Data {
        Data::Structure(vec![
            Data::DoubleLongUnsigned(self.from_entry),
            Data::DoubleLongUnsigned(self.to_entry),
            Data::LongUnsigned(self.from_selected_value),
            Data::LongUnsigned(self.to_selected_value),
        ])
    }

    pub fn from_data(d: &Data) -> Option<Self> {
        match d.as_elements()? {
            [Data::DoubleLongUnsigned(a), Data::DoubleLongUnsigned(b), Data::LongUnsigned(c), Data::LongUnsigned(e)] => {
                Some(EntryDescriptor {
                    from_entry: *a,
                    to_entry: *b,
                    from_selected_value: *c,
                    to_selected_value: *e,
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_id_and_priority_bits() {
        let d = InvokeIdAndPriority::default();
        assert_eq!(d.0, 0xC1);
        assert_eq!(
            (d.invoke_id(), d.confirmed(), d.high_priority()),
            (1, true, true)
        );
        let p = InvokeIdAndPriority::new(0x1F, false, true);
        assert_eq!(p.0, 0x8F);
        assert_eq!((p.invoke_id(), p.confirmed()), (15, false));
    }

    #[test]
    fn descriptors_round_trip_through_data() {
        let clock = CaptureObject {
            class_id: 8,
            logical_name: ObisCode::new(0, 0, 1, 0, 0, 255),
            attribute_index: 2,
            data_index: 0,
        };
        let range = RangeDescriptor {
            restricting_object: clock,
            from_value: Data::Unsigned(1),
            to_value: Data::Unsigned(2),
            selected_values: vec![clock],
        };
        assert_eq!(RangeDescriptor::from_data(&range.to_data()), Some(range));
        let entry = EntryDescriptor {
            from_entry: 1,
            to_entry: 0,
            from_selected_value: 1,
            to_selected_value: 0,
        };
        assert_eq!(EntryDescriptor::from_data(&entry.to_data()), Some(entry));
        assert_eq!(EntryDescriptor::from_data(&Data::NullData), None);
        assert_eq!(SelectiveAccess::by_entry(&entry).selector, 2);
    }
}
