//! APDU tests: byte-exact vectors (annotated) and property tests.
//!
//! Vectors marked "u9n" were produced by the u9n `dlms-cosem` 25.1.0 Python package,
//! "gurux" by `gurux-dlms` 1.0.203 (GXDLMSClient, or its GXDLMSTranslator as decoder).

mod acse_vectors;
mod props;
mod xdlms_vectors;

use super::*;
use crate::protocol::obis::ObisCode;

/// Decode must give `expected` and re-encoding must give the same bytes.
fn exact(bytes: &[u8], expected: Apdu) {
    assert_eq!(Apdu::decode(bytes), Ok(expected.clone()));
    assert_eq!(expected.to_bytes(), bytes);
}

const ENERGY: ObisCode = ObisCode::new(1, 0, 1, 8, 0, 255);
const INVOKE: InvokeIdAndPriority = InvokeIdAndPriority(0xC1);
