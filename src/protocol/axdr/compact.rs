//! compact-array (Blue Book 4.1.5, tag 19): a type description followed by untagged values.
//!
//! The contents are kept as the raw bytes received, so a decoded compact-array re-encodes
//! exactly; `elements()` expands them into ordinary `Data` under the same `Limits`.

use super::decode::Decoder;
use super::error::AxdrError;
use super::length::{length_len, read_length, write_length};
use super::reader::Reader;
use super::{Data, DataType, Limits};

/// TypeDescription (Blue Book 4.1.5): how each compact-array element is laid out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeDescription {
    /// Any type other than array, structure and compact-array.
    Simple(DataType),
    /// array: a fixed element count (Unsigned16) and one element description.
    Array {
        count: u16,
        element: Box<TypeDescription>,
    },
    /// structure: one description per field.
    Structure(Vec<TypeDescription>),
}

impl TypeDescription {
    pub fn tag(&self) -> u8 {
        match self {
            TypeDescription::Simple(t) => t.tag(),
            TypeDescription::Array { .. } => DataType::Array.tag(),
            TypeDescription::Structure(_) => DataType::Structure.tag(),
        }
    }

    pub(crate) fn decode(
        d: &mut Decoder,
        r: &mut Reader<'_>,
        depth: usize,
    ) -> Result<TypeDescription, AxdrError> {
        d.check_depth(depth)?;
        d.spend(1)?;
        let tag = d.take(r, 1)?.first().copied().unwrap_or_default();
        let ty = DataType::from_tag(tag).ok_or(AxdrError::UnknownTag(tag))?;
        Ok(match ty {
            DataType::CompactArray => return Err(AxdrError::InvalidTypeDescription(tag)),
            DataType::Array => {
                let mut count = [0u8; 2];
                count.copy_from_slice(d.take(r, 2)?);
                let count = u16::from_be_bytes(count);
                let element = Box::new(TypeDescription::decode(d, r, depth + 1)?);
                TypeDescription::Array { count, element }
            }
            DataType::Structure => {
                let n = d.check_count(read_length(r)?)?;
                let mut fields = Vec::with_capacity(n.min(r.remaining()));
                for _ in 0..n {
                    fields.push(TypeDescription::decode(d, r, depth + 1)?);
                }
                TypeDescription::Structure(fields)
            }
            other => TypeDescription::Simple(other),
        })
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(self.tag());
        match self {
            TypeDescription::Simple(_) => {}
            TypeDescription::Array { count, element } => {
                out.extend_from_slice(&count.to_be_bytes());
                element.encode(out);
            }
            TypeDescription::Structure(fields) => {
                write_length(fields.len(), out);
                for f in fields {
                    f.encode(out);
                }
            }
        }
    }

    pub fn encoded_len(&self) -> usize {
        1 + match self {
            TypeDescription::Simple(_) => 0,
            TypeDescription::Array { element, .. } => 2 + element.encoded_len(),
            TypeDescription::Structure(fields) => {
                length_len(fields.len()) + fields.iter().map(Self::encoded_len).sum::<usize>()
            }
        }
    }

    /// Append `value` without tags, laid out by this description.
    fn encode_untagged(&self, value: &Data, out: &mut Vec<u8>) -> Result<(), AxdrError> {
        let mismatch = || AxdrError::TypeMismatch {
            expected: self.tag(),
            found: value.data_type().tag(),
        };
        match (self, value) {
            (
                TypeDescription::Simple(
                    DataType::Array | DataType::Structure | DataType::CompactArray,
                ),
                _,
            ) => Err(AxdrError::InvalidTypeDescription(self.tag())),
            (TypeDescription::Simple(ty), v) if v.data_type() == *ty => {
                v.encode_body(out);
                Ok(())
            }
            (TypeDescription::Array { count, element }, Data::Array(items)) => {
                if items.len() != usize::from(*count) {
                    return Err(AxdrError::CountMismatch {
                        expected: usize::from(*count),
                        found: items.len(),
                    });
                }
                items
                    .iter()
                    .try_for_each(|i| element.encode_untagged(i, out))
            }
            (TypeDescription::Structure(fields), Data::Structure(items)) => {
                if items.len() != fields.len() {
                    return Err(AxdrError::CountMismatch {
                        expected: fields.len(),
                        found: items.len(),
                    });
                }
                fields
                    .iter()
                    .zip(items)
                    .try_for_each(|(f, i)| f.encode_untagged(i, out))
            }
            _ => Err(mismatch()),
        }
    }
}

/// A compact-array value: its description and its raw contents.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CompactArray {
    description: TypeDescription,
    contents: Vec<u8>,
}

impl CompactArray {
    pub(crate) fn from_parts(description: TypeDescription, contents: Vec<u8>) -> Self {
        CompactArray {
            description,
            contents,
        }
    }

    /// Build a compact-array from values; each must match `description`.
    pub fn new(description: TypeDescription, elements: &[Data]) -> Result<Self, AxdrError> {
        let mut contents = Vec::new();
        for e in elements {
            description.encode_untagged(e, &mut contents)?;
        }
        if !contents.is_empty() || elements.is_empty() {
            Ok(CompactArray::from_parts(description, contents))
        } else {
            // Zero-size elements cannot be counted back out of the contents.
            Err(AxdrError::InvalidTypeDescription(description.tag()))
        }
    }

    pub fn description(&self) -> &TypeDescription {
        &self.description
    }

    /// The untagged contents as received.
    pub fn contents(&self) -> &[u8] {
        &self.contents
    }

    /// Expand the contents into one `Data` per element.
    pub fn elements(&self, limits: &Limits) -> Result<Vec<Data>, AxdrError> {
        let mut d = Decoder::new(*limits, 0);
        let mut r = Reader::new(&self.contents);
        let mut out = Vec::new();
        while !r.is_empty() {
            let before = r.pos();
            out.push(d.untagged(&mut r, &self.description, 1)?);
            if r.pos() == before {
                return Err(AxdrError::InvalidTypeDescription(self.description.tag()));
            }
        }
        Ok(out)
    }

    pub(crate) fn encode_body(&self, out: &mut Vec<u8>) {
        self.description.encode(out);
        write_length(self.contents.len(), out);
        out.extend_from_slice(&self.contents);
    }

    pub(crate) fn body_len(&self) -> usize {
        self.description.encoded_len() + length_len(self.contents.len()) + self.contents.len()
    }
}
