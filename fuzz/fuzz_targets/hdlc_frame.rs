//! Fuzz the HDLC frame layer: one-frame parse, the stream deframer and the parameter field.
//! Properties: nothing panics; every frame parsed re-emits to bytes that parse to the same
//! frame; the deframer never holds more than its capacity.
#![no_main]

use calin_agent::protocol::hdlc::deframer::BUFFER_CAPACITY;
use calin_agent::protocol::hdlc::{Deframer, Frame, HdlcParameters};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = Frame::parse(data) {
        let bytes = frame.to_bytes().expect("a parsed frame fits");
        assert_eq!(bytes, data);
        let _ = HdlcParameters::parse(&frame.info);
    }
    let _ = HdlcParameters::parse(data);

    // Feed the stream in uneven chunks; every frame that comes out must round-trip.
    let mut deframer = Deframer::new();
    for chunk in data.chunks(97) {
        let mut rest = chunk;
        while !rest.is_empty() {
            let n = deframer.push(rest);
            rest = &rest[n..];
            loop {
                match deframer.next_frame() {
                    Ok(None) => break,
                    Ok(Some(frame)) => {
                        let bytes = frame.to_bytes().expect("a deframed frame fits");
                        assert_eq!(Frame::parse(&bytes).as_ref(), Ok(&frame));
                    }
                    Err(e) => assert!(e.dropped > 0),
                }
            }
            assert!(deframer.buffered() <= BUFFER_CAPACITY);
        }
    }
});
