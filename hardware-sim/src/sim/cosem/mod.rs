//! The COSEM object model of one simulated meter: objects by logical name, attributes as
//! A-XDR `Data`, access rights per association, and the data-access-result of every
//! refusal.
//!
//! Classes served (Blue Book numbering): Data (1), Register (3), Extended Register (4),
//! Profile Generic (7, event logs with selective access by range and by entry), Clock (8),
//! Association LN (15, the object list), Disconnect Control (70), Limiter (71).
//! Attribute 1 (logical_name) of every object is readable by everyone.
//!
//! Refusals, and the data-access-result the DLMS layer sends for each:
//!
//! | situation                                          | `Refusal`              | result                    |
//! |----------------------------------------------------|------------------------|---------------------------|
//! | no object with that logical name                   | `ObjectUndefined`      | object-undefined (4)      |
//! | the object exists with another class id            | `ClassInconsistent`    | object-class-inconsistent (9) |
//! | the class has no such attribute or method          | `AttributeUndefined`   | object-unavailable (11)   |
//! | the association may not read / write / invoke it  | `Denied`               | read-write-denied (3)     |
//! | a written value or parameter of the wrong type     | `TypeUnmatched`        | type-unmatched (12)       |
//! | selective access on an attribute without it        | `SelectionUnsupported` | scope-of-access-violated (13) |
//! | malformed selective-access parameters              | `BadSelection`         | other-reason (250)        |
//!
//! Pure: no I/O and no clock; the meter passes the time in. This module knows nothing of
//! short codes or the profile: the meter places values with [`ObjectStore::put`].

mod association;
mod classes;
mod profile_generic;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::protocol::axdr::Data;
use crate::protocol::obis::ObisCode;
use crate::protocol::units::ScalerUnit;

use super::time::LocalTime;

pub use association::AssociationInfo;
pub use classes::{Limiter, RelayChange};
pub use profile_generic::{CaptureDef, ProfileGeneric};

pub use crate::protocol::cosem::{
    CLASS_ASSOCIATION_LN, CLASS_CLOCK, CLASS_DATA, CLASS_DISCONNECT_CONTROL,
    CLASS_EXTENDED_REGISTER, CLASS_LIMITER, CLASS_PROFILE_GENERIC, CLASS_REGISTER,
    CURRENT_ASSOCIATION,
};

/// Why a request on an object is refused. See the module table for the wire results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    ObjectUndefined,
    ClassInconsistent,
    AttributeUndefined,
    Denied,
    TypeUnmatched,
    SelectionUnsupported,
    BadSelection,
}

/// Attribute access_mode (Blue Book Association LN, attribute_access_item).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AccessMode {
    NoAccess = 0,
    Read = 1,
    Write = 2,
    ReadWrite = 3,
}

impl AccessMode {
    pub fn can_read(self) -> bool {
        matches!(self, AccessMode::Read | AccessMode::ReadWrite)
    }

    pub fn can_write(self) -> bool {
        matches!(self, AccessMode::Write | AccessMode::ReadWrite)
    }
}

/// What an association may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// The public client: reads only; `restricted` limits it to the public objects.
    Public { restricted: bool },
    /// An operator (authenticated, or on a meter without password): reads, writes, methods.
    Operator,
}

/// Selective access as requested: the selector and its parameters.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'a> {
    pub selector: u8,
    pub parameters: &'a Data,
}

/// One COSEM object and its state.
#[derive(Debug, Clone, PartialEq)]
pub enum CosemObject {
    Data(Data),
    Register {
        value: Data,
        scaler_unit: ScalerUnit,
    },
    ExtendedRegister {
        value: Data,
        scaler_unit: ScalerUnit,
        status: Data,
        capture_time: Option<LocalTime>,
    },
    ProfileGeneric(ProfileGeneric),
    /// The meter clock: `time` = the scenario's clock + `offset_secs` (a SET moves it).
    Clock {
        offset_secs: i64,
    },
    AssociationLn,
    DisconnectControl {
        output_state: bool,
        control_state: u8,
        control_mode: u8,
    },
    Limiter(Limiter),
}

impl CosemObject {
    pub fn class_id(&self) -> u16 {
        match self {
            CosemObject::Data(_) => CLASS_DATA,
            CosemObject::Register { .. } => CLASS_REGISTER,
            CosemObject::ExtendedRegister { .. } => CLASS_EXTENDED_REGISTER,
            CosemObject::ProfileGeneric(_) => CLASS_PROFILE_GENERIC,
            CosemObject::Clock { .. } => CLASS_CLOCK,
            CosemObject::AssociationLn => CLASS_ASSOCIATION_LN,
            CosemObject::DisconnectControl { .. } => CLASS_DISCONNECT_CONTROL,
            CosemObject::Limiter(_) => CLASS_LIMITER,
        }
    }

    /// The interface class version this object implements (object_list `version`).
    pub fn version(&self) -> u8 {
        match self {
            CosemObject::ProfileGeneric(_) | CosemObject::AssociationLn => 1,
            _ => 0,
        }
    }
}

/// What a GET or SET is evaluated against.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The scenario clock now (before any clock offset set by a client).
    pub base_time: LocalTime,
    pub association: &'a AssociationInfo,
}

/// All objects of one logical device, by logical name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObjectStore {
    objects: BTreeMap<ObisCode, CosemObject>,
    /// Objects the restricted public client may read beyond logical names.
    public: Vec<ObisCode>,
}

impl ObjectStore {
    pub fn new() -> Self {
        let mut store = ObjectStore::default();
        store.insert(CURRENT_ASSOCIATION, CosemObject::AssociationLn);
        store.mark_public(CURRENT_ASSOCIATION);
        store
    }

    /// Add or replace an object.
    pub fn insert(&mut self, obis: ObisCode, object: CosemObject) {
        self.objects.insert(obis, object);
    }

    /// Let the restricted public client read this object.
    pub fn mark_public(&mut self, obis: ObisCode) {
        if !self.public.contains(&obis) {
            self.public.push(obis);
        }
    }

    pub fn object(&self, obis: &ObisCode) -> Option<&CosemObject> {
        self.objects.get(obis)
    }

    pub fn object_mut(&mut self, obis: &ObisCode) -> Option<&mut CosemObject> {
        self.objects.get_mut(obis)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&ObisCode, &CosemObject)> {
        self.objects.iter()
    }

    /// The clock's current time (scenario clock plus any offset a client set).
    pub fn clock_time(&self, base: LocalTime) -> LocalTime {
        let offset = self
            .objects
            .values()
            .find_map(|o| match o {
                CosemObject::Clock { offset_secs } => Some(*offset_secs),
                _ => None,
            })
            .unwrap_or(0);
        LocalTime {
            secs: base.secs.saturating_add(offset),
            ..base
        }
    }

    fn find(&self, class_id: u16, obis: &ObisCode) -> Result<&CosemObject, Refusal> {
        let object = self.objects.get(obis).ok_or(Refusal::ObjectUndefined)?;
        if object.class_id() == class_id {
            Ok(object)
        } else {
            Err(Refusal::ClassInconsistent)
        }
    }

    /// The access mode of one attribute for an association of `level`; `None` when the
    /// class has no such attribute.
    pub fn attribute_access(&self, obis: &ObisCode, attr: i8, level: Level) -> Option<AccessMode> {
        let object = self.objects.get(obis)?;
        let native = classes::attribute_mode(object, attr)?;
        Some(match level {
            _ if attr == 1 => AccessMode::Read,
            Level::Operator => native,
            Level::Public { restricted } if restricted && !self.public.contains(obis) => {
                AccessMode::NoAccess
            }
            Level::Public { .. } if native.can_read() => AccessMode::Read,
            Level::Public { .. } => AccessMode::NoAccess,
        })
    }

    /// Whether an association of `level` may invoke a method; `None` when there is no such method.
    pub fn method_access(&self, obis: &ObisCode, method: i8, level: Level) -> Option<bool> {
        let object = self.objects.get(obis)?;
        let native = classes::method_allowed(object, method)?;
        Some(native && level == Level::Operator)
    }

    /// GET one attribute, with optional selective access.
    pub fn get(
        &self,
        class_id: u16,
        obis: &ObisCode,
        attr: i8,
        selection: Option<Selection<'_>>,
        cx: &Context<'_>,
    ) -> Result<Data, Refusal> {
        let object = self.find(class_id, obis)?;
        let mode = self
            .attribute_access(obis, attr, cx.association.level)
            .ok_or(Refusal::AttributeUndefined)?;
        if !mode.can_read() {
            return Err(Refusal::Denied);
        }
        if attr == 1 {
            return match selection {
                Some(_) => Err(Refusal::SelectionUnsupported),
                None => Ok(Data::OctetString(obis.0.to_vec())),
            };
        }
        match object {
            CosemObject::ProfileGeneric(pg) => pg.get(attr, selection),
            _ if selection.is_some() => Err(Refusal::SelectionUnsupported),
            CosemObject::AssociationLn => association::get(self, attr, cx),
            CosemObject::Clock { .. } => classes::clock_get(attr, self.clock_time(cx.base_time)),
            other => classes::get(other, attr),
        }
    }

    /// SET one attribute from a client: access rights and types are checked.
    pub fn set(
        &mut self,
        class_id: u16,
        obis: &ObisCode,
        attr: i8,
        value: Data,
        cx: &Context<'_>,
    ) -> Result<(), Refusal> {
        self.find(class_id, obis)?;
        let mode = self
            .attribute_access(obis, attr, cx.association.level)
            .ok_or(Refusal::AttributeUndefined)?;
        if !mode.can_write() {
            return Err(Refusal::Denied);
        }
        let base = cx.base_time;
        let object = self.objects.get_mut(obis).ok_or(Refusal::ObjectUndefined)?;
        classes::set(object, attr, value, base)
    }

    /// Place a value without access checks (the meter's own state changes). The value
    /// must have the attribute's shape; a register or data value may change type.
    pub fn put(&mut self, obis: &ObisCode, attr: i8, value: Data) -> Result<(), Refusal> {
        let object = self.objects.get_mut(obis).ok_or(Refusal::ObjectUndefined)?;
        classes::put(object, attr, value)
    }

    /// ACTION: invoke a method. Only Disconnect Control methods 1 and 2 do anything.
    pub fn action(
        &mut self,
        class_id: u16,
        obis: &ObisCode,
        method: i8,
        parameters: Option<&Data>,
        level: Level,
    ) -> Result<Option<RelayChange>, Refusal> {
        self.find(class_id, obis)?;
        match self.method_access(obis, method, level) {
            None => return Err(Refusal::AttributeUndefined),
            Some(false) => return Err(Refusal::Denied),
            Some(true) => {}
        }
        let object = self.objects.get_mut(obis).ok_or(Refusal::ObjectUndefined)?;
        classes::action(object, method, parameters)
    }
}
