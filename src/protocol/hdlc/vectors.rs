//! Byte-exact reference frames, annotated field by field, shared by the tests of this module.
//!
//! Each vector names the independent implementation that produced it: gurux-dlms 1.0.203
//! (Python) or u9n dlms-cosem 25.1.0 (Python). Where neither emits a frame type (DM, FRMR,
//! UA without parameters, frames to a four-byte address), the frame was assembled by hand
//! and its FCS computed by u9n's `dlms_cosem.crc.CRCCCITT`. Only the bytes are kept here.

/// gurux-dlms: `snrmRequest()`, client 0x10 -> server 1, default parameters (no info field).
#[rustfmt::skip]
pub const SNRM_GURUX: &[u8] = &[
    0x7E,       // flag
    0xA0, 0x07, // format type 3, S=0, length 7
    0x03,       // destination: server upper 1 (1 << 1 | 1)
    0x21,       // source: client 0x10 (0x10 << 1 | 1)
    0x93,       // control: SNRM, P=1
    0x0F, 0x01, // FCS 0x010F, LSB first
    0x7E,       // flag
];

/// gurux-dlms: `snrmRequest()` with maxInfoTX = maxInfoRX = 32 (windows left at 1 are omitted).
#[rustfmt::skip]
pub const SNRM_PARAMS_GURUX: &[u8] = &[
    0x7E,
    0xA0, 0x12, // format type 3, length 18
    0x03,       // destination: server 1
    0x21,       // source: client 0x10
    0x93,       // SNRM, P=1
    0xF9, 0xAC, // HCS
    0x81,       // format identifier
    0x80,       // group identifier (HDLC parameters)
    0x06,       // group length
    0x05, 0x01, 0x20, // max info field length transmit = 32
    0x06, 0x01, 0x20, // max info field length receive  = 32
    0x42, 0x6B, // FCS
    0x7E,
];

/// gurux-dlms: SNRM to server logical 1 / physical 17 on four bytes, max info 512 both ways.
#[rustfmt::skip]
pub const SNRM_FOUR_BYTE_GURUX: &[u8] = &[
    0x7E,
    0xA0, 0x17,             // format type 3, length 23
    0x00, 0x02, 0x00, 0x23, // destination: upper 1 (00 02), lower 17 (00 23, last byte)
    0x21,                   // source: client 0x10
    0x93,                   // SNRM, P=1
    0x9E, 0xEA,             // HCS
    0x81, 0x80, 0x08,       // format id, group id, group length 8
    0x05, 0x02, 0x02, 0x00, // max info transmit = 512 (two bytes)
    0x06, 0x02, 0x02, 0x00, // max info receive  = 512
    0x43, 0xB0,             // FCS
    0x7E,
];

/// u9n dlms-cosem: `UnNumberedAcknowledgmentFrame` from server 1/17 (two bytes) to client 0x10.
/// u9n frames whatever payload it is given: the parameter field here was written by hand in
/// the common meter style (all four parameters, lengths on two bytes, windows on four).
#[rustfmt::skip]
pub const UA_PARAMS_U9N: &[u8] = &[
    0x7E,
    0xA0, 0x21,             // format type 3, length 33
    0x21,                   // destination: client 0x10
    0x02, 0x23,             // source: server upper 1, lower 17
    0x73,                   // UA, F=1
    0x8F, 0x72,             // HCS
    0x81, 0x80, 0x14,       // format id, group id, group length 20
    0x05, 0x02, 0x00, 0x80, // max info transmit = 128
    0x06, 0x02, 0x00, 0x80, // max info receive  = 128
    0x07, 0x04, 0x00, 0x00, 0x00, 0x01, // window transmit = 1
    0x08, 0x04, 0x00, 0x00, 0x00, 0x01, // window receive  = 1
    0xCE, 0x6A,             // FCS
    0x7E,
];

/// gurux-dlms: `aarqRequest()` (no authentication), one I-frame with the LLC command header.
#[rustfmt::skip]
pub const I_AARQ_GURUX: &[u8] = &[
    0x7E,
    0xA0, 0x2B,       // format type 3, S=0, length 43
    0x03,             // destination: server 1
    0x21,             // source: client 0x10
    0x10,             // I-frame: N(R)=0, P=1, N(S)=0
    0xFB, 0xAF,       // HCS
    0xE6, 0xE6, 0x00, // LLC: destination LSAP, source LSAP (command), quality
    // AARQ APDU (31 bytes)
    0x60, 0x1D, 0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
    0xBE, 0x10, 0x04, 0x0E, 0x01, 0x00, 0x00, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00,
    0x40, 0x1E, 0x5D, 0xFF, 0xFF,
    0x91, 0x23,       // FCS
    0x7E,
];

/// gurux-dlms: first of two segments of an AARQ (LOW authentication) with maxInfoTX = 32.
/// Its HCS is `54 7E`: a flag value inside a frame, which a flag-delimited reader cuts short.
#[rustfmt::skip]
pub const I_SEGMENT_1_GURUX: &[u8] = &[
    0x7E,
    0xA8, 0x26,       // format type 3, S=1 (more segments follow), length 38
    0x03,             // destination: server 1
    0x21,             // source: client 0x10
    0x10,             // I-frame: N(R)=0, P=1, N(S)=0
    0x54, 0x7E,       // HCS (contains 0x7E)
    0xE6, 0xE6, 0x00, // LLC command header, first segment only
    0x60, 0x36, 0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x01, 0x01,
    0x8A, 0x02, 0x07, 0x80, 0x8B, 0x07, 0x60, 0x85, 0x74, 0x05, 0x08, 0x02, 0x01,
    0x0E, 0x5A,       // FCS
    0x7E,
];

/// gurux-dlms: second (last) segment of the same AARQ.
#[rustfmt::skip]
pub const I_SEGMENT_2_GURUX: &[u8] = &[
    0x7E,
    0xA0, 0x27,       // format type 3, S=0 (last segment), length 39
    0x03,             // destination: server 1
    0x21,             // source: client 0x10
    0x12,             // I-frame: N(R)=0, P=1, N(S)=1
    0xDD, 0x1B,       // HCS
    // continuation of the AARQ, no LLC header
    0xAC, 0x0A, 0x80, 0x08, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
    0xBE, 0x10, 0x04, 0x0E, 0x01, 0x00, 0x00, 0x00, 0x06, 0x5F, 0x1F, 0x04, 0x00,
    0x40, 0x1E, 0x5D, 0xFF, 0xFF,
    0x1F, 0x36,       // FCS
    0x7E,
];

/// u9n dlms-cosem: segmented `InformationFrame` to server 1/17, N(S)=2, N(R)=5, P=1.
#[rustfmt::skip]
pub const I_SEGMENTED_U9N: &[u8] = &[
    0x7E,
    0xA8, 0x1A,       // format type 3, S=1, length 26
    0x02, 0x23,       // destination: server upper 1, lower 17
    0x21,             // source: client 0x10
    0xB4,             // I-frame: N(R)=5, P=1, N(S)=2
    0x90, 0xB2,       // HCS
    0xE6, 0xE6, 0x00, // LLC command header
    // GET.request-normal of 1.0.0.96.1.0.255 attribute 2 (16 bytes incl. LLC)
    0xC0, 0x01, 0xC1, 0x00, 0x01, 0x00, 0x00, 0x60, 0x01, 0x00, 0xFF, 0x02, 0x00,
    0x89, 0xA0,       // FCS
    0x7E,
];

/// gurux-dlms: `receiverReady(FRAME)` after one received frame: RR N(R)=1, P=1.
#[rustfmt::skip]
pub const RR_GURUX: &[u8] = &[
    0x7E,
    0xA0, 0x07, // format type 3, length 7
    0x03,       // destination: server 1
    0x21,       // source: client 0x10
    0x31,       // RR: N(R)=1, P=1
    0x17, 0x87, // FCS
    0x7E,
];

/// gurux-dlms: `disconnectRequest()`: DISC, P=1.
#[rustfmt::skip]
pub const DISC_GURUX: &[u8] = &[
    0x7E,
    0xA0, 0x07, // format type 3, length 7
    0x03,       // destination: server 1
    0x21,       // source: client 0x10
    0x53,       // DISC, P=1
    0x03, 0xC7, // FCS
    0x7E,
];

/// Hand-assembled, FCS by u9n CRCCCITT: DM from server 1 to client 0x10 (refusal).
#[rustfmt::skip]
pub const DM_SERVER: &[u8] = &[
    0x7E,
    0xA0, 0x07, // format type 3, length 7
    0x21,       // destination: client 0x10
    0x03,       // source: server 1
    0x1F,       // DM, F=1
    0x6B, 0xE9, // FCS
    0x7E,
];

/// Hand-assembled, FCS by u9n CRCCCITT: FRMR (no information field) from server 1 to client 0x10.
#[rustfmt::skip]
pub const FRMR_SERVER: &[u8] = &[
    0x7E,
    0xA0, 0x07, // format type 3, length 7
    0x21,       // destination: client 0x10
    0x03,       // source: server 1
    0x97,       // FRMR, F=1
    0x2B, 0xE1, // FCS
    0x7E,
];

/// Hand-assembled, FCS by u9n CRCCCITT: UA without parameters from server 1 to client 0x10.
#[rustfmt::skip]
pub const UA_PLAIN: &[u8] = &[
    0x7E,
    0xA0, 0x07, // format type 3, length 7
    0x21,       // destination: client 0x10
    0x03,       // source: server 1
    0x73,       // UA, F=1
    0x01, 0x40, // FCS
    0x7E,
];

/// Hand-assembled, FCS by u9n CRCCCITT: DISC from client 0x10 to server 1/17 on four bytes.
#[rustfmt::skip]
pub const DISC_FOUR_BYTE: &[u8] = &[
    0x7E,
    0xA0, 0x0A,             // format type 3, length 10
    0x00, 0x02, 0x00, 0x23, // destination: upper 1, lower 17 (four bytes)
    0x21,                   // source: client 0x10
    0x53,                   // DISC, P=1
    0x14, 0xB7,             // FCS
    0x7E,
];

/// Hand-assembled, FCS by u9n CRCCCITT: UA from server 1/17 (four bytes) to client 0x10.
#[rustfmt::skip]
pub const UA_FOUR_BYTE: &[u8] = &[
    0x7E,
    0xA0, 0x0A,             // format type 3, length 10
    0x21,                   // destination: client 0x10
    0x00, 0x02, 0x00, 0x23, // source: upper 1, lower 17 (four bytes)
    0x73,                   // UA, F=1
    0x4C, 0xE7,             // FCS
    0x7E,
];
