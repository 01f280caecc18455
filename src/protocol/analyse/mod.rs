//! A protocol analyser: bytes captured on the wire (an HDLC frame or several, a wrapper
//! frame, or a bare APDU) described layer by layer, with every check's result.
//!
//! Pure and total like every parser here: any input gives an `Analysis`, and a bad frame
//! is described with where and why it fails, never a panic. Used by `calin-agent frame`
//! and by probe traces.

use super::apdu::Apdu;
use super::axdr::hex;
use super::hdlc::{Frame, FrameError, HdlcParameters, LlcHeader};
use super::wrapper::WrapperFrame;
use serde::Serialize;
use serde_json::{json, Value};

/// What a capture held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub kind: &'static str,
    pub layers: Vec<Layer>,
    /// True when every layer decoded and every check passed.
    pub ok: bool,
}

/// One decoded layer (or the place decoding stopped).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer {
    pub name: String,
    /// Byte range in the input, `[start, end)`.
    pub bytes: (usize, usize),
    pub fields: Value,
    /// Why this layer could not be decoded, if it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

const FLAG: u8 = 0x7E;

/// Describe captured bytes.
pub fn analyse(bytes: &[u8]) -> Analysis {
    let mut layers = Vec::new();
    let kind = match bytes {
        [FLAG, ..] => {
            hdlc_frames(bytes, &mut layers);
            "hdlc"
        }
        [0x00, 0x01, ..] if bytes.len() >= 8 => {
            wrapper(bytes, &mut layers);
            "wrapper"
        }
        _ => {
            apdu_layer(bytes, 0, &mut layers);
            "apdu"
        }
    };
    let ok = !layers.is_empty() && layers.iter().all(|l| l.error.is_none());
    Analysis { kind, layers, ok }
}

fn hdlc_frames(bytes: &[u8], layers: &mut Vec<Layer>) {
    let mut at = 0;
    while at < bytes.len() {
        let rest = bytes.get(at..).unwrap_or(&[]);
        // Design: the end of a frame comes from its length field, never from the next
        // flag (DLMS HDLC has no byte stuffing: 0x7E occurs inside frames).
        let declared = match rest {
            [FLAG, hi, lo, ..] => (usize::from(hi & 0x07) << 8 | usize::from(*lo)) + 2,
            _ => rest.len(),
        };
        let len = declared.min(rest.len()).max(1);
        let one = rest.get(..len).unwrap_or(rest);
        let range = (at, at + len);
        match Frame::parse(one) {
            Ok(f) => {
                layers.push(Layer {
                    name: "hdlc".into(),
                    bytes: range,
                    fields: frame_fields(&f, one),
                    error: None,
                });
                info_layers(&f, at + len.saturating_sub(3 + f.info.len()), layers);
            }
            Err(e) => layers.push(Layer {
                name: "hdlc".into(),
                bytes: range,
                fields: json!({ "hex": hex(one) }),
                error: Some(frame_error(&e, one)),
            }),
        }
        at += len;
    }
}

fn frame_error(e: &FrameError, frame: &[u8]) -> String {
    match e {
        FrameError::LengthMismatch { declared, actual } if actual < declared => format!(
            "{e}: the frame is truncated ({} byte(s) missing)",
            declared - actual
        ),
        FrameError::BadFcs { .. } => format!(
            "{e}: the last 2 bytes before the closing flag (offsets {}..{}) do not match the frame's contents — damaged in transit, never taken as data",
            frame.len().saturating_sub(3),
            frame.len().saturating_sub(1)
        ),
        _ => e.to_string(),
    }
}

fn frame_fields(f: &Frame, raw: &[u8]) -> Value {
    let fcs = raw
        .len()
        .checked_sub(3)
        .and_then(|i| raw.get(i..i + 2))
        .map(|b| format!("{:02x}{:02x}", b[0], b[1]));
    json!({
        "segmented": f.segmented,
        "length": raw.len().saturating_sub(2),
        "destination": f.destination.to_string(),
        "source": f.source.to_string(),
        "control": format!("{:?}", f.control),
        "hcs": if f.info.is_empty() { "absent (no information field)" } else { "ok" },
        "fcs": format!("ok ({})", fcs.unwrap_or_default()),
        "info_len": f.info.len(),
    })
}

fn info_layers(f: &Frame, offset: usize, layers: &mut Vec<Layer>) {
    if f.info.is_empty() {
        return;
    }
    let range = (offset, offset + f.info.len());
    // SNRM and UA carry the negotiation parameters, not an APDU.
    if matches!(
        f.control,
        super::hdlc::Control::Snrm { .. } | super::hdlc::Control::Ua { .. }
    ) {
        let (fields, error) = match HdlcParameters::parse(&f.info) {
            Ok(p) => (json!(format!("{p:?}")), None),
            Err(e) => (json!({ "hex": hex(&f.info) }), Some(e.to_string())),
        };
        layers.push(Layer {
            name: "parameters".into(),
            bytes: range,
            fields,
            error,
        });
        return;
    }
    for (llc, dir) in [
        (LlcHeader::Command, "command"),
        (LlcHeader::Response, "response"),
    ] {
        if let Ok(apdu) = llc.strip(&f.info) {
            layers.push(Layer {
                name: "llc".into(),
                bytes: (offset, offset + 3),
                fields: json!({ "header": hex(&llc.bytes()), "direction": dir }),
                error: None,
            });
            if f.segmented {
                layers.push(segment(apdu, offset + 3));
            } else {
                apdu_layer(apdu, offset + 3, layers);
            }
            return;
        }
    }
    // A later segment of a long APDU has no LLC header.
    layers.push(segment(&f.info, offset));
}

fn segment(bytes: &[u8], offset: usize) -> Layer {
    Layer {
        name: "segment".into(),
        bytes: (offset, offset + bytes.len()),
        fields: json!({ "hex": hex(bytes), "note": "part of a segmented APDU: reassemble all segments to decode" }),
        error: None,
    }
}

fn wrapper(bytes: &[u8], layers: &mut Vec<Layer>) {
    match WrapperFrame::parse(bytes) {
        Ok(w) => {
            layers.push(Layer {
                name: "wrapper".into(),
                bytes: (0, 8),
                fields: json!({ "version": 1, "source_wport": w.source, "destination_wport": w.destination, "length": w.apdu.len() }),
                error: None,
            });
            apdu_layer(&w.apdu, 8, layers);
        }
        Err(e) => layers.push(Layer {
            name: "wrapper".into(),
            bytes: (0, bytes.len()),
            fields: json!({ "hex": hex(bytes) }),
            error: Some(e.to_string()),
        }),
    }
}

fn apdu_layer(bytes: &[u8], offset: usize, layers: &mut Vec<Layer>) {
    let range = (offset, offset + bytes.len());
    let layer = match Apdu::decode(bytes) {
        Ok(a) => Layer {
            name: format!("apdu {}", apdu_name(&a)),
            bytes: range,
            fields: serde_json::to_value(&a).unwrap_or(Value::Null),
            error: None,
        },
        Err(e) => Layer {
            name: "apdu".into(),
            bytes: range,
            fields: json!({ "hex": hex(bytes) }),
            error: Some(e.to_string()),
        },
    };
    layers.push(layer);
}

/// The APDU's kind in the Green Book's words.
pub fn apdu_name(a: &Apdu) -> &'static str {
    match a {
        Apdu::Aarq(_) => "AARQ",
        Apdu::Aare(_) => "AARE",
        Apdu::Rlrq(_) => "RLRQ",
        Apdu::Rlre(_) => "RLRE",
        Apdu::GetRequest(_) => "GET-Request",
        Apdu::GetResponse(_) => "GET-Response",
        Apdu::SetRequest(_) => "SET-Request",
        Apdu::SetResponse(_) => "SET-Response",
        Apdu::ActionRequest(_) => "ACTION-Request",
        Apdu::ActionResponse(_) => "ACTION-Response",
        Apdu::ExceptionResponse(_) => "exception-response",
        Apdu::ConfirmedServiceError(_) => "confirmed-service-error",
    }
}

#[cfg(test)]
mod tests;
