//! COSEM identifiers shared by both ends of the wire (Blue Book): interface class ids
//! and well-known logical names. Constants only.

use super::obis::ObisCode;

/// Interface class ids (Blue Book 4.3-4.5).
pub const CLASS_DATA: u16 = 1;
pub const CLASS_REGISTER: u16 = 3;
pub const CLASS_EXTENDED_REGISTER: u16 = 4;
pub const CLASS_PROFILE_GENERIC: u16 = 7;
pub const CLASS_CLOCK: u16 = 8;
pub const CLASS_ASSOCIATION_LN: u16 = 15;
pub const CLASS_DISCONNECT_CONTROL: u16 = 70;
pub const CLASS_LIMITER: u16 = 71;

/// The current association (Blue Book 4.4.3: Association LN instance 0.0.40.0.0.255).
pub const CURRENT_ASSOCIATION: ObisCode = ObisCode::new(0, 0, 40, 0, 0, 255);
