//! Fuzz the APDU decoder: it must never panic, and whatever it accepts must re-encode to
//! bytes that decode to the same APDU.
#![no_main]

use calin_agent::protocol::apdu::Apdu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(apdu) = Apdu::decode(bytes) {
        let again = apdu.to_bytes();
        assert_eq!(Apdu::decode(&again), Ok(apdu));
    }
});
