//! Faults on demand: what a meter does wrong, when, and what that does to the bytes.
//!
//! A fault is a kind (delay, damaged bytes, silence, a refused association...) and a
//! trigger (the Nth occurrence, a window of scenario time, a probability with a fixed
//! seed, a maximum count). Wire faults act on the bytes of one response frame *after*
//! framing, so the client's checks and recovery are really exercised; association faults
//! act on the answer to an AARQ. Sans-IO: this module decides and transforms; it never
//! sleeps or writes.

use core::fmt;
use core::time::Duration;

use crate::protocol::hdlc::frmr::{FrameReject, FRMR_W_INVALID_CONTROL};
use crate::protocol::hdlc::{Control, Frame, HdlcAddress};

/// What goes wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// The response leaves this much later.
    Delay(Duration),
    /// `count` bytes are lost from the middle of the frame.
    DropBytes { count: usize },
    /// One bit is inverted: bit `bit` counted from the first byte's MSB, or by default the
    /// lowest bit of the FCS's first byte (so the client sees a bad FCS).
    FlipBit { bit: Option<usize> },
    /// The last `count` bytes never arrive (default: half the frame).
    Truncate { count: Option<usize> },
    /// The response is never sent.
    Silence,
    /// The response is sent twice.
    Duplicate,
    /// The response carries another source address (physical address `physical`, default
    /// ours + 1), with valid checksums: the client must ignore it.
    WrongSource { physical: Option<u16> },
    /// The response is replaced by an FRMR (frame reject). HDLC only.
    Frmr,
    /// The AARQ is answered with an AARE "rejected-permanent, no reason given".
    RefuseAssociation,
    /// An AARQ with a password is answered "authentication failure", right password or not.
    RejectPassword,
}

/// Where a fault acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTarget {
    /// The bytes of each response frame.
    Wire,
    /// The answer to each AARQ (for `RejectPassword`: each AARQ carrying a password).
    Association,
}

impl FaultKind {
    /// The scenario name of the kind (`kind = "..."`).
    pub const NAMES: [&'static str; 10] = [
        "delay",
        "drop-bytes",
        "flip-bit",
        "truncate",
        "silence",
        "duplicate",
        "wrong-source",
        "frmr",
        "refuse-association",
        "reject-password",
    ];

    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Delay(_) => "delay",
            FaultKind::DropBytes { .. } => "drop-bytes",
            FaultKind::FlipBit { .. } => "flip-bit",
            FaultKind::Truncate { .. } => "truncate",
            FaultKind::Silence => "silence",
            FaultKind::Duplicate => "duplicate",
            FaultKind::WrongSource { .. } => "wrong-source",
            FaultKind::Frmr => "frmr",
            FaultKind::RefuseAssociation => "refuse-association",
            FaultKind::RejectPassword => "reject-password",
        }
    }

    pub fn target(&self) -> FaultTarget {
        match self {
            FaultKind::RefuseAssociation | FaultKind::RejectPassword => FaultTarget::Association,
            _ => FaultTarget::Wire,
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// When a fault acts. All given conditions must hold; none given means "every time".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trigger {
    /// Only the Nth occurrence (1-based) counted since the simulator started: response
    /// frames of this meter for wire faults, AARQs for association faults.
    pub nth: Option<u64>,
    /// From this scenario time on (inclusive).
    pub from: Option<Duration>,
    /// Before this scenario time (exclusive).
    pub until: Option<Duration>,
    /// Each occurrence with this probability, drawn from a generator seeded with `seed`.
    pub probability: Option<f64>,
    pub seed: u64,
    /// At most this many times.
    pub times: Option<u64>,
}

/// One fault of a meter.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    pub trigger: Trigger,
}

/// A small seeded generator (SplitMix64): the same seed gives the same faults every run.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Debug, Clone)]
struct Armed {
    spec: FaultSpec,
    rng: SplitMix64,
    applied: u64,
}

impl Armed {
    fn new(spec: FaultSpec) -> Self {
        let rng = SplitMix64(spec.trigger.seed);
        Armed {
            spec,
            rng,
            applied: 0,
        }
    }

    /// Whether the fault acts on occurrence number `n` at scenario time `t`.
    fn fires(&mut self, n: u64, t: Duration) -> bool {
        let tr = &self.spec.trigger;
        let due = tr.nth.is_none_or(|k| k == n)
            && tr.from.is_none_or(|from| t >= from)
            && tr.until.is_none_or(|until| t < until)
            && tr.times.is_none_or(|max| self.applied < max);
        // Design: draw only for occurrences that pass the other conditions, so a window
        // or count does not change which later occurrences a seed picks.
        let lucky = match tr.probability {
            Some(p) if due => self.rng.next_f64() < p,
            _ => true,
        };
        if due && lucky {
            self.applied += 1;
        }
        due && lucky
    }
}

/// The faults of one meter and the occurrence counters their triggers use.
#[derive(Debug, Clone, Default)]
pub struct FaultBook {
    armed: Vec<Armed>,
    frames: u64,
    associations: u64,
    password_associations: u64,
}

impl FaultBook {
    pub fn new(specs: &[FaultSpec]) -> Self {
        FaultBook {
            armed: specs.iter().cloned().map(Armed::new).collect(),
            ..Default::default()
        }
    }

    /// Arm `kind` for the next occurrence only.
    pub fn inject(&mut self, kind: FaultKind) {
        let next = match kind.target() {
            FaultTarget::Wire => self.frames + 1,
            FaultTarget::Association if kind == FaultKind::RejectPassword => {
                self.password_associations + 1
            }
            FaultTarget::Association => self.associations + 1,
        };
        self.armed.push(Armed::new(FaultSpec {
            kind,
            trigger: Trigger {
                nth: Some(next),
                times: Some(1),
                ..Default::default()
            },
        }));
    }

    /// Count one response frame at scenario time `t`; the wire faults that act on it.
    pub fn on_frame(&mut self, t: Duration) -> Vec<FaultKind> {
        self.frames += 1;
        let n = self.frames;
        self.armed
            .iter_mut()
            .filter(|a| a.spec.kind.target() == FaultTarget::Wire)
            .filter_map(|a| a.fires(n, t).then(|| a.spec.kind.clone()))
            .collect()
    }

    /// Count one AARQ at scenario time `t`; the association fault that answers it, if any.
    pub fn on_association(&mut self, t: Duration, with_password: bool) -> Option<FaultKind> {
        self.associations += 1;
        if with_password {
            self.password_associations += 1;
        }
        let (all, pw) = (self.associations, self.password_associations);
        let mut hit = None;
        for a in &mut self.armed {
            let n = match a.spec.kind {
                FaultKind::RefuseAssociation => all,
                FaultKind::RejectPassword if with_password => pw,
                _ => continue,
            };
            if a.fires(n, t) && hit.is_none() {
                hit = Some(a.spec.kind.clone());
            }
        }
        hit
    }

    /// Response frames counted so far.
    pub fn frames_sent(&self) -> u64 {
        self.frames
    }
}

/// How responses are framed on this connection (wire faults depend on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    Hdlc,
    /// IEC 62056-47: header bytes 2..4 are the source wPort.
    Wrapper,
    /// IEC 62056-21 messages on the optical port: a block ends in its BCC.
    Optical,
    /// DL/T 645 frames (after the `FE` preamble): the checksum is the last byte but one.
    Dlt645,
}

/// What the faults made of one frame.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WireOutcome {
    /// Extra time before the first copy leaves.
    pub delay: Duration,
    /// What to write, in order (none: silence).
    pub copies: Vec<Vec<u8>>,
}

/// Apply `faults`, in order, to one frame's bytes.
pub fn apply_wire(faults: &[FaultKind], frame: Vec<u8>, format: WireFormat) -> WireOutcome {
    let mut out = WireOutcome {
        delay: Duration::ZERO,
        copies: vec![frame],
    };
    for fault in faults {
        match fault {
            FaultKind::Delay(d) => out.delay += *d,
            FaultKind::Silence => out.copies.clear(),
            FaultKind::Duplicate => {
                if let Some(first) = out.copies.first().cloned() {
                    out.copies.push(first);
                }
            }
            other => {
                for copy in &mut out.copies {
                    *copy = damage(other, core::mem::take(copy), format);
                }
            }
        }
    }
    out
}

/// One byte-level fault on one copy.
fn damage(fault: &FaultKind, mut bytes: Vec<u8>, format: WireFormat) -> Vec<u8> {
    let len = bytes.len();
    match fault {
        FaultKind::DropBytes { count } => {
            let count = (*count).min(len);
            let start = (len - count) / 2;
            bytes.drain(start..start + count);
        }
        FaultKind::FlipBit { bit } => {
            // Default: the FCS's first byte (HDLC: flag at len-1, FCS at len-3..len-1),
            // or the last byte of a wrapper frame.
            let default_byte = match format {
                WireFormat::Hdlc => len.saturating_sub(3),
                WireFormat::Wrapper | WireFormat::Optical => len.saturating_sub(1),
                WireFormat::Dlt645 => len.saturating_sub(2),
            };
            let bit = bit.unwrap_or(default_byte * 8 + 7);
            if let Some(b) = bytes.get_mut(bit / 8) {
                *b ^= 0x80 >> (bit % 8);
            }
        }
        FaultKind::Truncate { count } => {
            let cut = count.unwrap_or(len / 2).min(len);
            bytes.truncate(len - cut);
        }
        FaultKind::WrongSource { physical } => bytes = wrong_source(bytes, *physical, format),
        FaultKind::Frmr => {
            if format == WireFormat::Hdlc {
                bytes = frame_reject(bytes);
            }
        }
        // Not byte faults; handled by the caller.
        FaultKind::Delay(_)
        | FaultKind::Silence
        | FaultKind::Duplicate
        | FaultKind::RefuseAssociation
        | FaultKind::RejectPassword => {}
    }
    bytes
}

/// The same frame from another station (checksums recomputed, so only the address is wrong).
fn wrong_source(bytes: Vec<u8>, physical: Option<u16>, format: WireFormat) -> Vec<u8> {
    match format {
        // The optical port is point to point: a message carries no address.
        WireFormat::Optical => bytes,
        WireFormat::Dlt645 => dlt645_other_meter(bytes),
        WireFormat::Wrapper => {
            let mut bytes = bytes;
            if let Some(src) = bytes.get_mut(2..4) {
                let port = u16::from_be_bytes([src[0], src[1]]).wrapping_add(1);
                src.copy_from_slice(&port.to_be_bytes());
            }
            bytes
        }
        WireFormat::Hdlc => {
            let Ok(mut frame) = Frame::parse(&bytes) else {
                return bytes;
            };
            let own = frame.source;
            let other = physical.unwrap_or_else(|| own.lower().unwrap_or(0).wrapping_add(1));
            let moved = HdlcAddress::server_sized(own.upper(), Some(other), own.size())
                .or_else(|_| HdlcAddress::server(own.upper().wrapping_add(1), None));
            if let Ok(address) = moved {
                frame.source = address;
            }
            frame.to_bytes().unwrap_or(bytes)
        }
    }
}

/// The same DL/T 645 reply from the meter whose address is ours plus one (lowest byte,
/// BCD wrapping 99 to 00), checksum recomputed.
fn dlt645_other_meter(bytes: Vec<u8>) -> Vec<u8> {
    use crate::protocol::dlt645::{Address, Frame};
    let start = bytes.iter().take_while(|b| **b == 0xFE).count();
    let Some(Ok(mut frame)) = bytes.get(start..).map(Frame::parse) else {
        return bytes;
    };
    let mut wire = frame.address.wire();
    let low = (wire[0] >> 4) * 10 + (wire[0] & 0x0F);
    let next = (low + 1) % 100;
    wire[0] = ((next / 10) << 4) | (next % 10);
    frame.address = Address::from_wire(wire);
    let mut out = bytes.get(..start).unwrap_or_default().to_vec();
    out.extend(frame.to_bytes());
    out
}

/// An FRMR from the same station to the same client, rejecting the control field this
/// frame carried (reason W, invalid control).
fn frame_reject(bytes: Vec<u8>) -> Vec<u8> {
    let Ok(frame) = Frame::parse(&bytes) else {
        return bytes;
    };
    let (vs, vr) = match frame.control {
        Control::I { ns, nr, .. } => (ns, nr),
        other => (0, other.nr().unwrap_or(0)),
    };
    let info = FrameReject {
        rejected_control: frame.control.to_byte(),
        vs,
        vr,
        rejected_response: false,
        reasons: FRMR_W_INVALID_CONTROL,
    }
    .encode()
    .to_vec();
    Frame::new(
        frame.destination,
        frame.source,
        Control::Frmr { poll: true },
        info,
    )
    .to_bytes()
    .unwrap_or(bytes)
}

#[cfg(test)]
#[path = "fault_tests.rs"]
mod tests;
