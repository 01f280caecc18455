//! An embedded TrueType face: measuring text, and writing the glyphs a document used
//! as a font subset (a CID-keyed Type 0 font with a ToUnicode map).
//!
//! The faces are DejaVu Sans Condensed (regular and bold), shipped as bytes by the
//! `dejavu` crate: nothing is read from disk or the network at run time.

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Filter, Finish, Name, Pdf, Rect, Ref, Str};
use std::collections::BTreeMap;
use subsetter::GlyphRemapper;
use ttf_parser::Face;

/// Which of the two embedded faces a run of text uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Weight {
    Regular,
    Bold,
}

/// Why a face could not be used. Only a broken font crate can cause this.
#[derive(Debug, thiserror::Error)]
pub enum FontError {
    #[error("the embedded {0} font cannot be parsed")]
    Parse(&'static str),
    #[error("the embedded {name} font cannot be subset: {message}")]
    Subset { name: &'static str, message: String },
}

/// A parsed face plus the glyphs the document has used so far.
pub struct FontFace {
    /// PostScript name, written into the PDF (with a subset tag).
    name: &'static str,
    data: &'static [u8],
    face: Face<'static>,
    units_per_em: f32,
    /// Glyphs used, renumbered densely for the subset (old id -> new id).
    remapper: GlyphRemapper,
    /// New glyph id -> the text it stands for (for copy-paste and search).
    unicode: BTreeMap<u16, char>,
}

impl FontFace {
    fn parse(name: &'static str, data: &'static [u8]) -> Result<Self, FontError> {
        let face = Face::parse(data, 0).map_err(|_| FontError::Parse(name))?;
        let units_per_em = f32::from(face.units_per_em());
        Ok(FontFace {
            name,
            data,
            face,
            units_per_em,
            remapper: GlyphRemapper::new(),
            unicode: BTreeMap::new(),
        })
    }

    /// DejaVu Sans Condensed in the given weight.
    pub fn dejavu(weight: Weight) -> Result<Self, FontError> {
        match weight {
            Weight::Regular => {
                Self::parse("DejaVuSansCondensed", dejavu::sans_condensed::regular())
            }
            Weight::Bold => Self::parse("DejaVuSansCondensed-Bold", dejavu::sans_condensed::bold()),
        }
    }

    /// Whether the face has a glyph for `c` (a missing one prints as an empty box).
    pub fn has_glyph(&self, c: char) -> bool {
        self.face.glyph_index(c).is_some()
    }

    /// Width of `text` at `size` points, without kerning (the card sets no kerning).
    pub fn width(&self, text: &str, size: f32) -> f32 {
        self.units_to_points(self.advance_units(text), size)
    }

    /// Sum of the advances of `text`, in font units: exact, so widths of pieces add up.
    pub fn advance_units(&self, text: &str) -> u32 {
        text.chars()
            .map(|c| {
                let gid = self.face.glyph_index(c).unwrap_or(ttf_parser::GlyphId(0));
                u32::from(self.face.glyph_hor_advance(gid).unwrap_or(0))
            })
            .sum()
    }

    /// Points at `size` for a width in font units.
    pub fn units_to_points(&self, units: u32, size: f32) -> f32 {
        units as f32 / self.units_per_em * size
    }

    /// Height above the baseline of the tallest glyphs, at `size` points.
    pub fn ascent(&self, size: f32) -> f32 {
        f32::from(self.face.ascender()) / self.units_per_em * size
    }

    /// Depth below the baseline (a positive number), at `size` points.
    pub fn descent(&self, size: f32) -> f32 {
        -f32::from(self.face.descender()) / self.units_per_em * size
    }

    /// Height of capital letters, at `size` points.
    pub fn cap_height(&self, size: f32) -> f32 {
        let cap = self
            .face
            .capital_height()
            .unwrap_or(self.face.ascender() * 7 / 10);
        f32::from(cap) / self.units_per_em * size
    }

    /// Encode `text` for a `Tj` operator: two bytes per glyph (Identity-H), recording
    /// each glyph for the subset.
    pub(super) fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let old = self.face.glyph_index(c).map_or(0, |g| g.0);
            let new = self.remapper.remap(old);
            if old != 0 {
                self.unicode.entry(new).or_insert(c);
            }
            out.extend_from_slice(&new.to_be_bytes());
        }
        out
    }

    /// Write the subset font and its dictionaries; `type0` is the font resource's id.
    /// `next` hands out fresh object ids.
    pub(super) fn write(
        &self,
        pdf: &mut Pdf,
        type0: Ref,
        next: &mut impl FnMut() -> Ref,
    ) -> Result<(), FontError> {
        let (cid_id, descriptor_id, cmap_id, file_id) = (next(), next(), next(), next());
        let subset =
            subsetter::subset(self.data, 0, &self.remapper).map_err(|e| FontError::Subset {
                name: self.name,
                message: format!("{e:?}"),
            })?;
        let base = format!("{}+{}", self.subset_tag(), self.name);
        let base = Name(base.as_bytes());
        let system_info = SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"Identity"),
            supplement: 0,
        };

        pdf.type0_font(type0)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(cid_id)
            .to_unicode(cmap_id);

        let to_em = |v: f32| v / self.units_per_em * 1000.0;
        let widths: Vec<f32> = self
            .remapper
            .remapped_gids()
            .map(|old| {
                to_em(f32::from(
                    self.face
                        .glyph_hor_advance(ttf_parser::GlyphId(old))
                        .unwrap_or(0),
                ))
            })
            .collect();
        let mut cid = pdf.cid_font(cid_id);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(system_info)
            .font_descriptor(descriptor_id)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, widths);
        cid.finish();

        let bbox = self.face.global_bounding_box();
        pdf.font_descriptor(descriptor_id)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(Rect::new(
                to_em(f32::from(bbox.x_min)),
                to_em(f32::from(bbox.y_min)),
                to_em(f32::from(bbox.x_max)),
                to_em(f32::from(bbox.y_max)),
            ))
            .italic_angle(0.0)
            .ascent(to_em(f32::from(self.face.ascender())))
            .descent(to_em(f32::from(self.face.descender())))
            .cap_height(self.cap_height(1000.0))
            .stem_v(if self.name.ends_with("Bold") {
                140.0
            } else {
                80.0
            })
            .font_file2(file_id);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
        for (gid, c) in &self.unicode {
            cmap.pair(*gid, *c);
        }
        pdf.cmap(cmap_id, &cmap.finish());

        let packed = miniz_oxide::deflate::compress_to_vec_zlib(&subset, 6);
        pdf.stream(file_id, &packed)
            .filter(Filter::FlateDecode)
            .pair(Name(b"Length1"), subset.len() as i32);
        Ok(())
    }

    /// Six capital letters naming this subset (PDF 32000-1 §9.6.4), derived from the
    /// glyph set so that the same card gives the same bytes.
    fn subset_tag(&self) -> String {
        let mut h: u32 = 2_166_136_261;
        for g in self.remapper.remapped_gids() {
            for b in g.to_be_bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(16_777_619);
            }
        }
        (0..6)
            .map(|i| char::from(b'A' + ((h >> (i * 5)) % 26) as u8))
            .collect()
    }
}
