//! Fuzz the IEC 62056-47 wrapper: one-frame parse and the push decoder. Properties: nothing
//! panics; a parsed frame re-emits to the same bytes; the decoder never yields an APDU over
//! its maximum nor buffers more than one maximal frame.
#![no_main]

use calin_agent::protocol::wrapper::{WrapperDecoder, WrapperFrame, HEADER_LEN};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = WrapperFrame::parse(data) {
        assert_eq!(frame.to_bytes().expect("a parsed frame fits"), data);
    }
    let max = usize::from(data.first().copied().unwrap_or(0)) * 4;
    let mut decoder = WrapperDecoder::new(max);
    for chunk in data.chunks(13) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let n = decoder.push(rest);
            rest = &rest[n..];
            while let Ok(Some(frame)) = decoder.next_frame() {
                assert!(frame.apdu.len() <= max);
            }
            assert!(decoder.buffered() <= HEADER_LEN + max);
            if n == 0 {
                break;
            }
        }
    }
});
