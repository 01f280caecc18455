//! Fuzz the A-XDR decoder: it must never panic, and whatever it accepts must re-encode
//! to bytes that decode to the same value.
#![no_main]

use calin_agent::protocol::axdr::{Data, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits::default();
    if let Ok((data, used)) = Data::decode(bytes, &limits) {
        assert!(used <= bytes.len());
        let again = data.to_bytes();
        assert_eq!(again.len(), data.encoded_len());
        let (back, used_again) = Data::decode(&again, &limits).expect("re-encoding decodes");
        assert_eq!(back, data);
        assert_eq!(used_again, again.len());
        if let Data::CompactArray(ca) = &data {
            let _ = ca.elements(&limits);
        }
    }
});
