//! A readable serde form of A-XDR values, for `frame --json`, probe output and traces:
//! `{"type": "long-unsigned", "value": 230}`. Octet-strings are hex, visible-strings text,
//! date-times their ISO-like display. Serialising only: nothing is parsed from it.

use super::{BitString, Data};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// The Blue Book name of a value's type.
pub fn type_name(d: &Data) -> &'static str {
    match d {
        Data::NullData => "null-data",
        Data::Array(_) => "array",
        Data::Structure(_) => "structure",
        Data::Boolean(_) => "boolean",
        Data::BitString(_) => "bit-string",
        Data::DoubleLong(_) => "double-long",
        Data::DoubleLongUnsigned(_) => "double-long-unsigned",
        Data::OctetString(_) => "octet-string",
        Data::VisibleString(_) => "visible-string",
        Data::Utf8String(_) => "utf8-string",
        Data::Bcd(_) => "bcd",
        Data::Integer(_) => "integer",
        Data::Long(_) => "long",
        Data::Unsigned(_) => "unsigned",
        Data::LongUnsigned(_) => "long-unsigned",
        Data::CompactArray(_) => "compact-array",
        Data::Long64(_) => "long64",
        Data::Long64Unsigned(_) => "long64-unsigned",
        Data::Enum(_) => "enum",
        Data::Float32(_) => "float32",
        Data::Float64(_) => "float64",
        Data::DateTime(_) => "date-time",
        Data::Date(_) => "date",
        Data::Time(_) => "time",
        Data::DontCare => "dont-care",
    }
}

/// Bytes as lower-case hex without separators.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn bits(b: &BitString) -> String {
    (0..b.bit_len())
        .map(|i| {
            let byte = b.as_bytes().get(i / 8).copied().unwrap_or(0);
            if byte & (0x80 >> (i % 8)) != 0 {
                '1'
            } else {
                '0'
            }
        })
        .collect()
}

struct Elements<'a>(&'a [Data]);

impl Serialize for Elements<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for d in self.0 {
            seq.serialize_element(d)?;
        }
        seq.end()
    }
}

impl Serialize for Data {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", type_name(self))?;
        match self {
            Data::NullData | Data::DontCare => m.serialize_entry("value", &())?,
            Data::Array(v) | Data::Structure(v) => m.serialize_entry("value", &Elements(v))?,
            Data::Boolean(b) => m.serialize_entry("value", b)?,
            Data::BitString(b) => m.serialize_entry("value", &bits(b))?,
            Data::DoubleLong(v) => m.serialize_entry("value", v)?,
            Data::DoubleLongUnsigned(v) => m.serialize_entry("value", v)?,
            Data::OctetString(v) => m.serialize_entry("value", &hex(v))?,
            Data::VisibleString(v) | Data::Utf8String(v) => {
                m.serialize_entry("value", &String::from_utf8_lossy(v))?
            }
            Data::Bcd(v) | Data::Unsigned(v) | Data::Enum(v) => m.serialize_entry("value", v)?,
            Data::Integer(v) => m.serialize_entry("value", v)?,
            Data::Long(v) => m.serialize_entry("value", v)?,
            Data::LongUnsigned(v) => m.serialize_entry("value", v)?,
            Data::CompactArray(c) => m.serialize_entry("value", &hex(c.contents()))?,
            Data::Long64(v) => m.serialize_entry("value", v)?,
            Data::Long64Unsigned(v) => m.serialize_entry("value", v)?,
            Data::Float32(v) => m.serialize_entry("value", v)?,
            Data::Float64(v) => m.serialize_entry("value", v)?,
            Data::DateTime(v) => m.serialize_entry("value", &v.to_string())?,
            Data::Date(v) => m.serialize_entry("value", &v.to_string())?,
            Data::Time(v) => m.serialize_entry("value", &v.to_string())?,
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_serialise_readably() {
        let d = Data::Structure(vec![
            Data::LongUnsigned(230),
            Data::OctetString(vec![0x01, 0xab]),
            Data::VisibleString(b"CAL".to_vec()),
            Data::BitString(BitString::from_bits(&[true, false, true])),
        ]);
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["type"], "structure");
        assert_eq!(v["value"][0]["value"], 230);
        assert_eq!(v["value"][0]["type"], "long-unsigned");
        assert_eq!(v["value"][1]["value"], "01ab");
        assert_eq!(v["value"][2]["value"], "CAL");
        assert_eq!(v["value"][3]["value"], "101");
    }
}
