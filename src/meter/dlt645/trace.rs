//! Trace lines for `probe --protocol dlt645 --trace`: every chunk with its time, direction
//! and hex, and a summary of each DL/T 645 frame it completes.
//!
//! A frame does not say its edition; the control code does (1997 codes are below 0x11,
//! 2007 read codes from 0x11). Reads carry no secrets, so nothing is masked; a write's
//! password bytes are not summarised. Nothing here changes what crosses the link.

use std::time::Duration;

use tokio::time::Instant;

use crate::meter::trace::TraceLine;
use crate::protocol::dlt645::{
    Deframer, Direction as FrameDirection, Frame, Reply, Request, Version,
};
use crate::transport::{BoxLink, Direction, TraceEvent, TraceTap};

/// The edition a control code belongs to (0x08, broadcast time, is in both: 2007).
fn edition(frame: &Frame) -> Version {
    match frame.control.function_code() {
        0x01..=0x07 | 0x09..=0x10 => Version::V1997,
        _ => Version::V2007,
    }
}

fn summary(frame: &Frame) -> String {
    let version = edition(frame);
    let year = match version {
        Version::V1997 => "1997",
        Version::V2007 => "2007",
    };
    let head = format!(
        "DL/T 645-{year} {} C={:#04x}",
        frame.address, frame.control.0
    );
    match frame.control.direction() {
        FrameDirection::FromMaster => match Request::decode(frame, version) {
            Ok(Request::Read { di, .. }) => format!("{head} read {di}"),
            Ok(Request::ReadFollowUp { di, seq }) => format!(
                "{head} read follow-up {di}{}",
                seq.map(|s| format!(" #{s}")).unwrap_or_default()
            ),
            Ok(Request::ReadAddress) => format!("{head} read address"),
            Ok(Request::Write { .. }) => format!("{head} write (password not shown)"),
            Ok(Request::BroadcastTime(_)) => format!("{head} broadcast time"),
            Ok(Request::Other { function, .. }) => format!("{head} {function:?}"),
            Err(e) => format!("{head} request, undecodable: {e}"),
        },
        FrameDirection::FromMeter => match Reply::decode(frame, version) {
            Ok(Reply::Read { di, data, more }) => format!(
                "{head} reply {di}: {} data bytes{}",
                data.len(),
                if more { ", more follows" } else { "" }
            ),
            Ok(Reply::ReadFollowUp {
                di,
                data,
                seq,
                more,
            }) => format!(
                "{head} follow-up reply {di}{}: {} data bytes{}",
                seq.map(|s| format!(" #{s}")).unwrap_or_default(),
                data.len(),
                if more { ", more follows" } else { "" }
            ),
            Ok(Reply::Address(a)) => format!("{head} address {a}"),
            Ok(Reply::Abnormal { function, error }) => {
                format!("{head} refused {function:?}: {:?}", error.conditions())
            }
            Ok(other) => format!("{head} {:?}", other.function()),
            Err(e) => format!("{head} reply, undecodable: {e}"),
        },
    }
}

/// Finds DL/T 645 frames in both directions of one link.
pub struct Dlt645Tracer {
    start: Instant,
    sent: Deframer,
    received: Deframer,
}

impl Default for Dlt645Tracer {
    fn default() -> Self {
        Self::new()
    }
}

impl Dlt645Tracer {
    pub fn new() -> Self {
        Dlt645Tracer {
            start: Instant::now(),
            sent: Deframer::new(),
            received: Deframer::new(),
        }
    }

    /// Describe one chunk reported by a `TraceTap`.
    pub fn line(&mut self, event: TraceEvent) -> TraceLine {
        let deframer = match event.direction {
            Direction::Sent => &mut self.sent,
            Direction::Received => &mut self.received,
        };
        let frames = deframer
            .feed(&event.bytes)
            .into_iter()
            .map(|r| match r {
                Ok(frame) => summary(&frame),
                Err(e) => format!("damaged frame, not taken as data: {e}"),
            })
            .collect();
        TraceLine {
            at: event
                .at
                .checked_duration_since(self.start)
                .unwrap_or(Duration::ZERO),
            direction: event.direction,
            bytes: event.bytes,
            frames,
        }
    }
}

/// Wrap `link` so that every chunk is reported to `sink` as a decoded line.
pub fn traced(link: BoxLink, mut sink: impl FnMut(TraceLine) + Send + 'static) -> BoxLink {
    let mut tracer = Dlt645Tracer::new();
    Box::new(TraceTap::new(link, move |event| sink(tracer.line(event))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::dlt645::{Address, DataId};

    #[test]
    fn requests_and_replies_are_summarised_by_edition() {
        let mut t = Dlt645Tracer::new();
        let at = Instant::now();
        let address = Address::from_digits("000000000001").unwrap();
        let di = DataId::v2007([0x00, 0x01, 0x00, 0x00]);
        let req = Request::Read { di, params: vec![] }
            .encode(address, Version::V2007)
            .unwrap();
        let line = t.line(TraceEvent {
            at,
            direction: Direction::Sent,
            bytes: req.to_bytes_with_preamble(),
        });
        assert_eq!(
            line.frames,
            ["DL/T 645-2007 000000000001 C=0x11 read 00 01 00 00"]
        );
        let old = DataId::v1997([0xC1, 0x11]);
        let reply = Reply::Read {
            di: old,
            data: vec![0x02, 0x00],
            more: false,
        }
        .encode(address, Version::V1997)
        .unwrap();
        let line = t.line(TraceEvent {
            at,
            direction: Direction::Received,
            bytes: reply.to_bytes(),
        });
        assert_eq!(
            line.frames,
            ["DL/T 645-1997 000000000001 C=0x81 reply C1 11: 2 data bytes"]
        );
        assert!(line.to_string().contains("<- 68 01 00"), "{line}");
    }
}
