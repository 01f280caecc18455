//! Decoded trace lines for `probe --trace`: every chunk that crossed the link, with its
//! time, direction and hex, and a one-line summary of each HDLC or wrapper frame (and
//! its APDU) completed by that chunk.
//!
//! Built on `transport::TraceTap` (which only reports bytes); frames are found again here
//! with the protocol's own decoders, per direction. Passwords never appear: an AARQ is
//! summarised by its mechanism only. Nothing here changes what goes over the link.

use std::fmt;
use std::time::Duration;

use tokio::time::Instant;

use super::config::Framing;
use crate::protocol::apdu::{Apdu, GetRequest, GetResponse};
use crate::protocol::hdlc::{Control, Deframer, Frame, LlcHeader};
use crate::protocol::wrapper::WrapperDecoder;
use crate::transport::{BoxLink, Direction, TraceEvent, TraceTap};

/// One chunk as it crossed the link, and what it completed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceLine {
    /// Since the tracer started.
    pub at: Duration,
    pub direction: Direction,
    pub bytes: Vec<u8>,
    /// One summary per frame completed by this chunk (or damaged in it).
    pub frames: Vec<String>,
}

/// ` 0.012 -> 7E A0 07 …` then `         = summary` per frame.
impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
        };
        write!(f, "{:>8.3} {arrow}", self.at.as_secs_f64())?;
        for b in &self.bytes {
            write!(f, " {b:02X}")?;
        }
        for summary in &self.frames {
            write!(f, "\n         = {summary}")?;
        }
        Ok(())
    }
}

/// Frames found again in one direction's bytes.
enum Finder {
    Hdlc {
        deframer: Deframer,
        /// Segments of an APDU so far (bounded).
        segments: Vec<u8>,
    },
    Wrapper(WrapperDecoder),
}

/// Longest segmented APDU the tracer reassembles for its summary.
const MAX_TRACE_APDU: usize = 1 << 16;

impl Finder {
    fn new(framing: Framing) -> Self {
        match framing {
            Framing::Hdlc => Finder::Hdlc {
                deframer: Deframer::new(),
                segments: Vec::new(),
            },
            Framing::Wrapper { .. } => Finder::Wrapper(WrapperDecoder::new(MAX_TRACE_APDU)),
        }
    }

    fn feed(&mut self, bytes: &[u8], out: &mut Vec<String>) {
        let mut rest = bytes;
        loop {
            let taken = match self {
                Finder::Hdlc { deframer, .. } => deframer.push(rest),
                Finder::Wrapper(d) => d.push(rest),
            };
            rest = rest.get(taken..).unwrap_or(&[]);
            self.drain(out);
            if rest.is_empty() || taken == 0 {
                return;
            }
        }
    }

    fn drain(&mut self, out: &mut Vec<String>) {
        match self {
            Finder::Hdlc { deframer, segments } => loop {
                match deframer.next_frame() {
                    Ok(None) => return,
                    Ok(Some(frame)) => out.push(hdlc_summary(&frame, segments)),
                    Err(e) => out.push(format!("damaged frame, not taken as data: {e}")),
                }
            },
            Finder::Wrapper(d) => loop {
                match d.next_frame() {
                    Ok(None) => return,
                    Ok(Some(w)) => out.push(format!(
                        "wrapper {} -> {}: {}",
                        w.source,
                        w.destination,
                        apdu_summary(&w.apdu)
                    )),
                    Err(e) => {
                        out.push(format!("wrapper stream out of step: {e}"));
                        d.reset();
                        return;
                    }
                }
            },
        }
    }
}

fn hdlc_summary(frame: &Frame, segments: &mut Vec<u8>) -> String {
    let head = format!(
        "HDLC {} -> {} {}{}",
        frame.source,
        frame.destination,
        control_summary(frame.control),
        if frame.segmented { " segmented" } else { "" }
    );
    if !matches!(frame.control, Control::I { .. }) || frame.info.is_empty() {
        return head;
    }
    if segments.len().saturating_add(frame.info.len()) > MAX_TRACE_APDU {
        segments.clear();
    }
    segments.extend_from_slice(&frame.info);
    if frame.segmented {
        return format!("{head} ({} bytes so far)", segments.len());
    }
    let whole = core::mem::take(segments);
    let apdu = LlcHeader::Command
        .strip(&whole)
        .or_else(|_| LlcHeader::Response.strip(&whole));
    match apdu {
        Ok(apdu) => format!("{head}: {}", apdu_summary(apdu)),
        Err(e) => format!("{head}: bad LLC header ({e})"),
    }
}

fn control_summary(c: Control) -> String {
    let pf = |p: bool| if p { " P/F" } else { "" };
    match c {
        Control::I { ns, nr, poll } => format!("I N(S)={ns} N(R)={nr}{}", pf(poll)),
        Control::Rr { nr, poll } => format!("RR N(R)={nr}{}", pf(poll)),
        Control::Rnr { nr, poll } => format!("RNR N(R)={nr}{}", pf(poll)),
        Control::Snrm { .. } => "SNRM".into(),
        Control::Disc { .. } => "DISC".into(),
        Control::Ua { .. } => "UA".into(),
        Control::Dm { .. } => "DM".into(),
        Control::Frmr { .. } => "FRMR".into(),
        Control::Ui { .. } => "UI".into(),
        Control::Unknown(b) => format!("control 0x{b:02X}"),
    }
}

/// One line for an APDU: its kind and the few fields that identify it. Never secrets.
pub fn apdu_summary(bytes: &[u8]) -> String {
    let apdu = match Apdu::decode(bytes) {
        Ok(a) => a,
        Err(e) => return format!("undecodable APDU ({e})"),
    };
    let name = super::session::apdu_name(&apdu);
    match &apdu {
        Apdu::Aarq(a) => format!(
            "{name} {:?}, mechanism {:?}",
            a.application_context_name, a.mechanism_name
        ),
        Apdu::Aare(a) => format!("{name} {:?} {:?}", a.result, a.result_source_diagnostic),
        Apdu::GetRequest(GetRequest::Normal {
            invoke,
            attribute,
            access,
        }) => format!(
            "{name}-Normal #{} {}:{}:{}{}",
            invoke.invoke_id(),
            attribute.class_id,
            attribute.instance_id,
            attribute.attribute_id,
            access
                .as_ref()
                .map(|a| format!(" selector {}", a.selector))
                .unwrap_or_default()
        ),
        Apdu::GetRequest(GetRequest::Next {
            invoke,
            block_number,
        }) => format!(
            "{name}-Next #{} after block {block_number}",
            invoke.invoke_id()
        ),
        Apdu::GetRequest(GetRequest::WithList { invoke, attributes }) => format!(
            "{name}-With-List #{} ({} attributes)",
            invoke.invoke_id(),
            attributes.len()
        ),
        Apdu::GetResponse(GetResponse::WithDataBlock {
            invoke,
            last_block,
            block_number,
            ..
        }) => format!(
            "{name} #{} block {block_number}{}",
            invoke.invoke_id(),
            if *last_block { " (last)" } else { "" }
        ),
        Apdu::ExceptionResponse(e) => format!("{name} {:?} {:?}", e.state_error, e.service_error),
        _ => name.to_string(),
    }
}

/// The AARQ's application-context-name field (DLMS UA arc), which marks a chunk as
/// carrying an AARQ.
const AARQ_CONTEXT: [u8; 7] = [0xA1, 0x09, 0x06, 0x07, 0x60, 0x85, 0x74];
/// calling-authentication-value `[12]` holding a charstring `[0]` (Green Book 9.5).
const AUTH_VALUE_TAG: u8 = 0xAC;
const CHARSTRING_TAG: u8 = 0x80;

/// Overwrite the password of an AARQ in `bytes` with `*`; true if one was found.
fn mask_password(bytes: &mut [u8]) -> bool {
    if !bytes.windows(AARQ_CONTEXT.len()).any(|w| w == AARQ_CONTEXT) {
        return false;
    }
    let mut masked = false;
    let mut i = 0;
    while let Some(&[tag, outer, inner_tag, len]) = bytes.get(i..i + 4) {
        let n = usize::from(len);
        if tag == AUTH_VALUE_TAG
            && inner_tag == CHARSTRING_TAG
            && usize::from(outer) == n + 2
            && n > 0
        {
            if let Some(secret) = bytes.get_mut(i + 4..i + 4 + n) {
                secret.fill(b'*');
                masked = true;
                i += 4 + n;
                continue;
            }
        }
        i += 1;
    }
    masked
}

/// Finds frames in both directions of one link.
pub struct Tracer {
    start: Instant,
    sent: Finder,
    received: Finder,
}

impl Tracer {
    pub fn new(framing: Framing) -> Self {
        Tracer {
            start: Instant::now(),
            sent: Finder::new(framing),
            received: Finder::new(framing),
        }
    }

    /// Describe one chunk reported by a `TraceTap`. An LLS password in an AARQ is
    /// shown as `2A` bytes (`*`): the frame is decoded first, then masked.
    pub fn line(&mut self, event: TraceEvent) -> TraceLine {
        let mut frames = Vec::new();
        let finder = match event.direction {
            Direction::Sent => &mut self.sent,
            Direction::Received => &mut self.received,
        };
        finder.feed(&event.bytes, &mut frames);
        let mut bytes = event.bytes;
        if mask_password(&mut bytes) {
            frames.push("password bytes shown as 2A".into());
        }
        TraceLine {
            at: event.at.saturating_duration_since(self.start),
            direction: event.direction,
            bytes,
            frames,
        }
    }
}

/// Wrap `link` so that every chunk is reported to `sink` as a decoded line.
pub fn traced(
    link: BoxLink,
    framing: Framing,
    mut sink: impl FnMut(TraceLine) + Send + 'static,
) -> BoxLink {
    let mut tracer = Tracer::new(framing);
    Box::new(TraceTap::new(link, move |event| sink(tracer.line(event))))
}
