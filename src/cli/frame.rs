//! `calin-agent frame HEX...`: decode a captured HDLC frame, wrapper frame or bare APDU
//! into its fields, like a protocol analyser (human or `--json`).

use super::exit;
use crate::protocol::analyse::{analyse, Analysis};
use serde_json::Value;
use std::io::Write;

/// Parse hex as a technician pastes it: `7E A0 07`, `7ea007`, `0x7E,0xA0`, `7e:a0`.
pub fn parse_hex(parts: &[String]) -> Result<Vec<u8>, String> {
    let mut digits = String::new();
    for p in parts {
        for tok in p.split([' ', ',', ':', '\t', '\n']) {
            let tok = tok.trim();
            let tok = tok
                .strip_prefix("0x")
                .or_else(|| tok.strip_prefix("0X"))
                .unwrap_or(tok);
            digits.push_str(tok);
        }
    }
    if digits.is_empty() {
        return Err(
            "no bytes given: paste the frame as hex, e.g. `7E A0 07 03 21 93 0F 01 7E`".into(),
        );
    }
    if let Some((i, c)) = digits.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!("`{c}` (hex digit {}) is not a hex digit", i + 1));
    }
    if digits.len() % 2 != 0 {
        return Err(format!(
            "{} hex digits is an odd number: a byte is two digits",
            digits.len()
        ));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            digits
                .get(i..i + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
                .ok_or_else(|| format!("bad hex at digit {}", i + 1))
        })
        .collect()
}

pub fn run(hex: &[String], as_json: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let bytes = match parse_hex(hex) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    let a = analyse(&bytes);
    let written = if as_json {
        writeln!(out, "{}", serde_json::to_value(&a).unwrap_or(Value::Null))
    } else {
        out.write_all(render(&a, bytes.len()).as_bytes())
    };
    if written.is_err() {
        return exit::SOFTWARE;
    }
    if a.ok {
        exit::OK
    } else {
        exit::DATA
    }
}

/// The human form: one block per layer, fields indented, the APDU as a tree.
pub fn render(a: &Analysis, len: usize) -> String {
    let mut s = format!("{} capture, {len} bytes\n", a.kind);
    for l in &a.layers {
        s += &format!("\n{} [bytes {}..{}]\n", l.name, l.bytes.0, l.bytes.1);
        if let Some(e) = &l.error {
            s += &format!("  ERROR: {e}\n");
        }
        tree(&l.fields, 1, &mut s);
    }
    s += if a.ok {
        "\nAll checks passed.\n"
    } else {
        "\nDecoding failed: see ERROR above.\n"
    };
    s
}

fn tree(v: &Value, depth: usize, s: &mut String) {
    let pad = "  ".repeat(depth);
    match v {
        Value::Object(m) => {
            // An A-XDR value prints on one line: `long-unsigned 230`.
            if let (Some(Value::String(t)), Some(val), 2) = (m.get("type"), m.get("value"), m.len())
            {
                if !val.is_array() {
                    *s += &format!("{pad}{t} {}\n", scalar(val));
                    return;
                }
            }
            for (k, val) in m {
                if val.is_object() || val.is_array() {
                    *s += &format!("{pad}{k}:\n");
                    tree(val, depth + 1, s);
                } else {
                    *s += &format!("{pad}{k}: {}\n", scalar(val));
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                *s += &format!("{pad}[{i}]\n");
                tree(item, depth + 1, s);
            }
        }
        other => *s += &format!("{pad}{}\n", scalar(other)),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_every_pasted_form() {
        let h = |s: &str| parse_hex(&[s.to_owned()]);
        assert_eq!(h("7E A0 07"), Ok(vec![0x7E, 0xA0, 0x07]));
        assert_eq!(h("7ea007"), Ok(vec![0x7E, 0xA0, 0x07]));
        assert_eq!(h("0x7E,0xA0"), Ok(vec![0x7E, 0xA0]));
        assert_eq!(h("7e:a0"), Ok(vec![0x7E, 0xA0]));
        assert!(h("7E A").unwrap_err().contains("odd"));
        assert!(h("7E ZZ").unwrap_err().contains("not a hex digit"));
        assert!(h("").is_err());
    }
}
