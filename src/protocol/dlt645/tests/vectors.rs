//! Byte-exact DL/T 645 frames, annotated per field, checksums verified by the tests.
//!
//! "Published" vectors appear in public code we read (not copied: only the bytes of the
//! frames, which are protocol facts); the others we built and checked by hand.

/// Published: read the address of the lone meter (2007), with the FE preamble.
/// Source: comment in `Protocol_test.go` of github.com/zcx1218029121/go645; the same bytes
/// appear in many public DL/T 645 tools.
#[rustfmt::skip]
pub const READ_ADDRESS_REQUEST: &[u8] = &[
    0xFE, 0xFE, 0xFE, 0xFE,             // wake-up preamble
    0x68,                               // start
    0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, // address: wildcard AA..AA
    0x68,                               // start
    0x13,                               // C: request, read address (2007)
    0x00,                               // L = 0
    0xDF,                               // CS = 68+AA*6+68+13+00 mod 256
    0x16,                               // end
];

/// Published: the meter's answer to [`READ_ADDRESS_REQUEST`]. Same source as above.
#[rustfmt::skip]
pub const READ_ADDRESS_REPLY: &[u8] = &[
    0x68,                               // start
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // address 000000000001, A0 first
    0x68,                               // start
    0x93,                               // C: reply, normal, read address
    0x06,                               // L = 6
    0x34, 0x33, 0x33, 0x33, 0x33, 0x33, // data: address 01 00 00 00 00 00, each +0x33
    0x9D,                               // CS
    0x16,                               // end
];

/// Published: read forward active energy total (2007 `00 01 00 00`) from 000000000001.
/// Same source as above.
#[rustfmt::skip]
pub const READ_ENERGY_REQUEST: &[u8] = &[
    0x68,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // address 000000000001
    0x68,
    0x11,                               // C: request, read data (2007)
    0x04,                               // L = 4
    0x33, 0x33, 0x34, 0x33,             // DI0..DI3 = 00 00 01 00, each +0x33
    0xB3,                               // CS
    0x16,
];

/// Published: a normal reply with energy 000000.04 kWh from meter 398192000337.
/// Source: comment in a public Java DL/T 645 utility (class `DLT645FrameUtils`; the
/// search index did not name its repository).
#[rustfmt::skip]
pub const READ_ENERGY_REPLY: &[u8] = &[
    0x68,
    0x37, 0x03, 0x00, 0x92, 0x81, 0x39, // address 398192000337, A0 first
    0x68,
    0x91,                               // C: reply, normal, read data, no follow-up
    0x08,                               // L = 8
    0x33, 0x33, 0x34, 0x33,             // DI 00 01 00 00
    0x37, 0x33, 0x33, 0x33,             // XXXXXX.XX = 04 00 00 00 -> 0.04 kWh
    0x8C,                               // CS
    0x16,
];

/// Published: a 1997 read of `90 10` with a three-byte preamble. Source: comment in a
/// public Node.js DL/T 645-1997 MQTT bridge script (repository not named by the index).
#[rustfmt::skip]
pub const READ_1997_REQUEST: &[u8] = &[
    0xFE, 0xFE, 0xFE,                   // preamble (any number of FE)
    0x68,
    0x14, 0x04, 0x00, 0x00, 0x00, 0x00, // address 000000000414
    0x68,
    0x01,                               // C: request, read data (1997)
    0x02,                               // L = 2
    0x43, 0xC3,                         // DI0 DI1 = 10 90, each +0x33
    0xF1,                               // CS
    0x16,
];

/// Published: the 1997 reply, 9580.15 kWh. Same source as [`READ_1997_REQUEST`].
#[rustfmt::skip]
pub const READ_1997_REPLY: &[u8] = &[
    0x68,
    0x14, 0x04, 0x00, 0x00, 0x00, 0x00,
    0x68,
    0x81,                               // C: reply, normal, read data (1997)
    0x06,                               // L = 6
    0x43, 0xC3,                         // DI 90 10
    0x48, 0xB3, 0xC8, 0x33,             // 15 80 95 00 -> 009580.15 kWh
    0x6B,                               // CS
    0x16,
];

/// Built: 2007 abnormal reply to a read, error byte 0x02 (no requested data).
#[rustfmt::skip]
pub const ABNORMAL_REPLY: &[u8] = &[
    0x68,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x68,
    0xD1,                               // C: reply, abnormal (D6), read data
    0x01,                               // L = 1
    0x35,                               // error byte 0x02 + 0x33
    0xD8,                               // CS
    0x16,
];

/// Built: 2007 reply with D5 set: the first two data bytes of `04 00 04 01`; more follows.
#[rustfmt::skip]
pub const FOLLOW_UP_FIRST: &[u8] = &[
    0x68,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x68,
    0xB1,                               // C: reply, normal, more follows (D5), read data
    0x06,                               // L = 6
    0x34, 0x37, 0x33, 0x37,             // DI 04 00 04 01
    0x34, 0x33,                         // data 01 00
    0xC4,                               // CS
    0x16,
];

/// Built: 2007 read follow-up request, sequence number 1.
#[rustfmt::skip]
pub const FOLLOW_UP_REQUEST: &[u8] = &[
    0x68,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x68,
    0x12,                               // C: request, read follow-up (2007)
    0x05,                               // L = 5
    0x34, 0x37, 0x33, 0x37,             // DI 04 00 04 01
    0x34,                               // SEQ = 1
    0xF1,                               // CS
    0x16,
];

/// Built: 2007 follow-up reply, last part, echoing sequence number 1.
#[rustfmt::skip]
pub const FOLLOW_UP_LAST: &[u8] = &[
    0x68,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x68,
    0x92,                               // C: reply, normal, read follow-up, no more
    0x09,                               // L = 9
    0x34, 0x37, 0x33, 0x37,             // DI 04 00 04 01
    0x33, 0x33, 0x33, 0x33,             // data 00 00 00 00
    0x34,                               // SEQ = 1
    0x41,                               // CS
    0x16,
];

/// Built: 2007 broadcast time 2024-03-15 08:30:00 to 99..99 (never answered).
#[rustfmt::skip]
pub const BROADCAST_TIME: &[u8] = &[
    0xFE, 0xFE, 0xFE, 0xFE,
    0x68,
    0x99, 0x99, 0x99, 0x99, 0x99, 0x99, // broadcast address
    0x68,
    0x08,                               // C: request, broadcast time
    0x06,                               // L = 6
    0x33, 0x63, 0x3B, 0x48, 0x36, 0x57, // ss mm hh DD MM YY = 00 30 08 15 03 24, +0x33
    0x1A,                               // CS
    0x16,
];

/// Built: 2007 instantaneous active power total `02 03 00 00` = -1.2345 kW.
#[rustfmt::skip]
pub const NEGATIVE_POWER_REPLY: &[u8] = &[
    0x68,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x68,
    0x91,                               // C: reply, normal, read data
    0x07,                               // L = 7
    0x33, 0x33, 0x36, 0x35,             // DI 02 03 00 00
    0x78, 0x56, 0xB4,                   // 45 23 81: XX.XXXX = 01.2345, top bit = negative
    0xBC,                               // CS
    0x16,
];
