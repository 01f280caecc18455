//! Trace lines for `probe --optical --trace`: every chunk with its time, direction and
//! hex, and a summary of each IEC 62056-21 message it completes; after a mode E switch,
//! the HDLC frames and APDUs as the DLMS probe shows them.
//!
//! Passwords never appear: the value of a P1/P2 command is shown as `*` (`2A`) in both
//! directions (an optical head echoes it back), even across chunks, and an AARQ's LLS
//! password is masked by the DLMS tracer. Nothing here changes what crosses the link.

use crate::meter::trace::{TraceLine, Tracer};
use crate::meter::Framing as CarrierFraming;
use crate::protocol::iec62056_21::{
    BccPolicy, Command, CommandId, DataMessage, Frame, Framer, Identification, Limits,
    OptionSelect, ACK, SOH, STX,
};
use crate::transport::{BoxLink, Direction, TraceEvent, TraceTap};

/// Longest IEC 62056-21 block the tracer reassembles.
const MAX_TRACE_BLOCK: usize = 1 << 16;

/// Where a password command stands in one direction's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mask {
    #[default]
    Idle,
    Soh,
    P,
    Digit,
    Stx,
    /// Inside `(…)`: every byte up to `)` is secret.
    Secret,
}

impl Mask {
    /// Advance over `b`; true when `b` must be hidden.
    fn step(&mut self, b: u8) -> bool {
        let c = b & 0x7F;
        *self = match (*self, c) {
            (Mask::Secret, b')') => Mask::Idle,
            (Mask::Secret, _) => return true,
            (_, SOH) => Mask::Soh,
            (Mask::Soh, b'P') => Mask::P,
            (Mask::P, d) if d.is_ascii_digit() && d != b'0' => Mask::Digit,
            (Mask::Digit, STX) => Mask::Stx,
            (Mask::Stx, b'(') => Mask::Secret,
            _ => Mask::Idle,
        };
        false
    }
}

/// One direction: the IEC framer and the password mask.
struct Side {
    framer: Framer,
    mask: Mask,
}

impl Side {
    fn new(ack_starts_line: bool) -> Self {
        Side {
            framer: Framer::new(ack_starts_line, MAX_TRACE_BLOCK),
            mask: Mask::Idle,
        }
    }

    /// Masks `bytes` in place and returns the summaries of the messages they complete.
    fn feed(&mut self, bytes: &mut [u8]) -> Vec<String> {
        let mut out = Vec::new();
        for b in bytes.iter_mut() {
            let hide = self.mask.step(*b);
            // The framer sees the real byte (so a block still ends where it ends) but
            // its summary of a password command never includes the value.
            if let Ok(Some(frame)) = self.framer.push(*b & 0x7F) {
                out.push(summary(&frame));
            }
            if hide {
                *b = b'*';
            }
        }
        out
    }
}

fn summary(frame: &Frame) -> String {
    match frame {
        Frame::Ack => "IEC ACK".into(),
        Frame::Nak => "IEC NAK (repeat request)".into(),
        Frame::Line(line) if line.starts_with(b"/?") => "IEC sign-on request".into(),
        Frame::Line(line) if line.first() == Some(&b'/') => match Identification::parse(line) {
            Ok(id) => format!(
                "IEC identification: manufacturer {}, baud character {:?}{}, ident {:?}",
                id.manufacturer().as_str(),
                char::from(id.baud_char().as_byte()),
                if id.offers_mode_e() {
                    ", mode E offered"
                } else {
                    ""
                },
                id.ident()
            ),
            Err(e) => format!("IEC identification, undecodable: {e}"),
        },
        Frame::Line(line) if line.first() == Some(&ACK) => match OptionSelect::parse(line) {
            Ok(o) => format!(
                "IEC option select: protocol {:?}, baud character {:?}, mode {:?}",
                o.protocol,
                char::from(o.baud.as_byte()),
                o.mode
            ),
            Err(e) => format!("IEC option select, undecodable: {e}"),
        },
        Frame::Line(_) => "IEC line".into(),
        Frame::Block(block) if block.first() == Some(&SOH) => command_summary(block),
        Frame::Block(block) => {
            let limits = Limits::default();
            match DataMessage::parse(block, &limits, BccPolicy::WarnOnly) {
                Ok(checked) => format!(
                    "IEC data block: {} data sets{}",
                    checked.message.data_sets.len(),
                    match checked.bcc {
                        Some(m) => format!(", {m}"),
                        None => String::new(),
                    }
                ),
                Err(e) => format!("IEC data block, undecodable: {e}"),
            }
        }
    }
}

fn command_summary(block: &[u8]) -> String {
    let limits = Limits::default();
    let Ok(checked) = Command::parse(block, &limits, BccPolicy::WarnOnly) else {
        return "IEC command, undecodable".into();
    };
    let c = &checked.message;
    let name = format!("{}{}", char::from(c.command.as_byte()), c.command_type);
    if c.is_secret() {
        return format!("IEC {name} password command (value hidden)");
    }
    match (c.command, &c.data) {
        (CommandId::Break, _) => format!("IEC {name} break (sign-off)"),
        (CommandId::Password, Some(_)) => format!("IEC {name} password request"),
        (CommandId::Read, Some(d)) => format!(
            "IEC {name} read {}",
            d.id.as_ref().map_or("(no id)".into(), ToString::to_string)
        ),
        _ => format!("IEC {name} command"),
    }
}

/// Finds IEC 62056-21 messages (and HDLC frames after a mode E switch) in both
/// directions of one link.
pub struct OpticalTracer {
    sent: Side,
    received: Side,
    hdlc: Tracer,
}

impl Default for OpticalTracer {
    fn default() -> Self {
        Self::new()
    }
}

impl OpticalTracer {
    pub fn new() -> Self {
        OpticalTracer {
            sent: Side::new(true),
            received: Side::new(false),
            hdlc: Tracer::new(CarrierFraming::Hdlc),
        }
    }

    /// Describe one chunk reported by a `TraceTap`.
    pub fn line(&mut self, event: TraceEvent) -> TraceLine {
        let side = match event.direction {
            Direction::Sent => &mut self.sent,
            Direction::Received => &mut self.received,
        };
        let mut masked = event.bytes.clone();
        let mut frames = side.feed(&mut masked);
        let hidden: Vec<usize> = (0..masked.len())
            .filter(|&i| masked.get(i) != event.bytes.get(i))
            .collect();
        // The HDLC tracer masks an AARQ's password in what it returns; ours go on top.
        let mut line = self.hdlc.line(event);
        for i in hidden {
            if let Some(b) = line.bytes.get_mut(i) {
                *b = b'*';
            }
        }
        frames.append(&mut line.frames);
        line.frames = frames;
        line
    }
}

/// Wrap `link` so that every chunk is reported to `sink` as a decoded line.
pub fn traced(link: BoxLink, mut sink: impl FnMut(TraceLine) + Send + 'static) -> BoxLink {
    let mut tracer = OpticalTracer::new();
    Box::new(TraceTap::new(link, move |event| sink(tracer.line(event))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::iec62056_21::{DataId, Password};
    use tokio::time::Instant;

    fn event(direction: Direction, bytes: &[u8]) -> TraceEvent {
        TraceEvent {
            at: Instant::now(),
            direction,
            bytes: bytes.to_vec(),
        }
    }

    #[test]
    fn a_password_never_shows_even_split_and_echoed() {
        let p1 = Command::password(&Password::new("s3cret").unwrap())
            .to_vec()
            .unwrap();
        let mut t = OpticalTracer::new();
        let (head, tail) = p1.split_at(7);
        let mut shown = String::new();
        for (dir, part) in [
            (Direction::Sent, head),
            (Direction::Sent, tail),
            (Direction::Received, &p1[..]),
        ] {
            let line = t.line(event(dir, part));
            shown.push_str(&line.to_string());
            shown.push_str(&String::from_utf8_lossy(&line.bytes));
            shown.push('\n');
        }
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            !shown.contains("73 33 63 72 65 74"),
            "hex of the password: {shown}"
        );
        assert!(shown.contains("password command (value hidden)"), "{shown}");
        assert_eq!(
            shown.matches("2A 2A 2A 2A 2A 2A").count(),
            1,
            "received side masked whole: {shown}"
        );
    }

    #[test]
    fn messages_are_summarised() {
        let mut t = OpticalTracer::new();
        let l = t.line(event(Direction::Sent, b"/?!\r\n"));
        assert_eq!(l.frames, ["IEC sign-on request"]);
        let l = t.line(event(Direction::Received, b"/CAL5\\2CALIN-OPT\r\n"));
        assert!(
            l.frames[0].contains("manufacturer CAL") && l.frames[0].contains("mode E offered"),
            "{:?}",
            l.frames
        );
        let l = t.line(event(
            Direction::Sent,
            &[ACK, b'0', b'5', b'0', b'\r', b'\n'],
        ));
        assert!(
            l.frames[0].starts_with("IEC option select"),
            "{:?}",
            l.frames
        );
        let r1 = Command::read(DataId::new("1.8.0").unwrap())
            .to_vec()
            .unwrap();
        let l = t.line(event(Direction::Sent, &r1));
        assert_eq!(l.frames, ["IEC R1 read 1.8.0"]);
    }
}
