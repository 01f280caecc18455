//! Small PDF helpers for printable documents: paper sizes, pages of text runs, filled
//! or stroked boxes, lines and filled polygons (for charts), word wrapping, and two
//! embedded TrueType faces.
//!
//! Coordinates are in points from the page's *top-left* corner (y grows downwards),
//! the way a layout is planned; the writer flips them into PDF space. This module
//! knows nothing of meter codes, so other printed reports can reuse it. It must not
//! read files or fonts at run time: every byte it writes comes from the caller or
//! from crates compiled in.

mod font;
mod wrap;

pub use font::{FontError, FontFace, Weight};
pub use wrap::{wrap, wrap_indented};

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// A sheet of paper, in points (1/72 inch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paper {
    pub name: &'static str,
    pub width: f32,
    pub height: f32,
}

impl Paper {
    /// ISO 216 A4, 210 × 297 mm.
    pub const A4: Paper = Paper {
        name: "A4",
        width: 595.276,
        height: 841.89,
    };
    /// US Letter, 8.5 × 11 in.
    pub const LETTER: Paper = Paper {
        name: "Letter",
        width: 612.0,
        height: 792.0,
    };
}

/// A colour, each channel 0.0–1.0.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
    pub const WHITE: Rgb = Rgb(1.0, 1.0, 1.0);

    /// From a `0xRRGGBB` number, as colours are written in style sheets.
    pub const fn hex(v: u32) -> Rgb {
        Rgb(
            ((v >> 16) & 0xff) as f32 / 255.0,
            ((v >> 8) & 0xff) as f32 / 255.0,
            (v & 0xff) as f32 / 255.0,
        )
    }
}

/// One drawing instruction, in top-left coordinates.
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Text {
        x: f32,
        baseline: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        text: String,
    },
    Fill {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        color: Rgb,
    },
    Stroke {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        width: f32,
        color: Rgb,
    },
    Line {
        from: (f32, f32),
        to: (f32, f32),
        width: f32,
        color: Rgb,
    },
    Polygon {
        points: Vec<(f32, f32)>,
        color: Rgb,
    },
}

/// The drawing of one page, in the order it is painted.
#[derive(Clone, Debug, Default)]
pub struct Page {
    ops: Vec<Op>,
}

impl Page {
    /// Text whose baseline is `baseline` points below the top edge.
    pub fn text(
        &mut self,
        x: f32,
        baseline: f32,
        size: f32,
        weight: Weight,
        color: Rgb,
        text: &str,
    ) {
        if text.is_empty() {
            return;
        }
        self.ops.push(Op::Text {
            x,
            baseline,
            size,
            weight,
            color,
            text: text.to_owned(),
        });
    }

    /// A filled box whose top-left corner is at (`x`, `y`).
    pub fn fill(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgb) {
        self.ops.push(Op::Fill { x, y, w, h, color });
    }

    /// The outline of a box, `width` points thick.
    pub fn stroke(&mut self, x: f32, y: f32, w: f32, h: f32, width: f32, color: Rgb) {
        self.ops.push(Op::Stroke {
            x,
            y,
            w,
            h,
            width,
            color,
        });
    }

    /// A straight line from `from` to `to` (x, y from the top-left), `width` points thick.
    pub fn line(&mut self, from: (f32, f32), to: (f32, f32), width: f32, color: Rgb) {
        self.ops.push(Op::Line {
            from,
            to,
            width,
            color,
        });
    }

    /// A closed polygon through `points` (x, y from the top-left), filled with `color`.
    /// Fewer than three points draw nothing.
    pub fn polygon(&mut self, points: &[(f32, f32)], color: Rgb) {
        if points.len() < 3 {
            return;
        }
        self.ops.push(Op::Polygon {
            points: points.to_vec(),
            color,
        });
    }

    /// Every text run on the page, in painting order (for tests and checks).
    pub fn text_runs(&self) -> impl Iterator<Item = TextRun<'_>> {
        self.ops.iter().filter_map(|op| match op {
            Op::Text {
                x,
                baseline,
                size,
                weight,
                text,
                ..
            } => Some(TextRun {
                x: *x,
                baseline: *baseline,
                size: *size,
                weight: *weight,
                text,
            }),
            _ => None,
        })
    }
}

/// A text run as placed on a page.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TextRun<'a> {
    pub x: f32,
    pub baseline: f32,
    pub size: f32,
    pub weight: Weight,
    pub text: &'a str,
}

/// Title and author lines of the document information dictionary.
#[derive(Clone, Debug, Default)]
pub struct Meta {
    pub title: String,
    pub subject: String,
    pub creator: String,
}

/// A document being laid out: the paper, the two faces, and the pages so far.
pub struct Document {
    paper: Paper,
    regular: FontFace,
    bold: FontFace,
    pages: Vec<Page>,
}

impl Document {
    pub fn new(paper: Paper) -> Result<Self, FontError> {
        Ok(Document {
            paper,
            regular: FontFace::dejavu(Weight::Regular)?,
            bold: FontFace::dejavu(Weight::Bold)?,
            pages: Vec::new(),
        })
    }

    pub fn paper(&self) -> Paper {
        self.paper
    }

    pub fn face(&self, weight: Weight) -> &FontFace {
        match weight {
            Weight::Regular => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// Width of `text` in points.
    pub fn width(&self, text: &str, size: f32, weight: Weight) -> f32 {
        self.face(weight).width(text, size)
    }

    /// Lines of at most `max_width` points (see [`wrap`]).
    pub fn wrap(&self, text: &str, size: f32, weight: Weight, max_width: f32) -> Vec<String> {
        wrap(self.face(weight), text, size, max_width)
    }

    /// Lines of at most `max_width` points, the first at most `first_width`.
    pub fn wrap_indented(
        &self,
        text: &str,
        size: f32,
        weight: Weight,
        first_width: f32,
        max_width: f32,
    ) -> Vec<String> {
        wrap_indented(self.face(weight), text, size, first_width, max_width)
    }

    /// Append a finished page.
    pub fn push_page(&mut self, page: Page) {
        self.pages.push(page);
    }

    pub fn pages(&self) -> &[Page] {
        &self.pages
    }

    /// Write the PDF file. Fonts are embedded as subsets of the glyphs used.
    pub fn finish(mut self, meta: &Meta) -> Result<Vec<u8>, FontError> {
        let mut pdf = Pdf::new();
        let mut last = 0;
        let mut next = || {
            last += 1;
            Ref::new(last)
        };
        let (catalog, tree, info, f_regular, f_bold) = (next(), next(), next(), next(), next());
        let page_ids: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (next(), next())).collect();

        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().map(|(p, _)| *p))
            .count(page_ids.len() as i32);
        let media = Rect::new(0.0, 0.0, self.paper.width, self.paper.height);
        let pages = std::mem::take(&mut self.pages);
        for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
            let mut p = pdf.page(*page_id);
            p.media_box(media).parent(tree).contents(*content_id);
            let mut resources = p.resources();
            let mut fonts = resources.fonts();
            fonts.pair(Name(b"R"), f_regular);
            fonts.pair(Name(b"B"), f_bold);
            fonts.finish();
            resources.finish();
            p.finish();
            let stream = self.content(page);
            let packed = miniz_oxide::deflate::compress_to_vec_zlib(&stream, 6);
            pdf.stream(*content_id, &packed).filter(Filter::FlateDecode);
        }
        self.regular.write(&mut pdf, f_regular, &mut next)?;
        self.bold.write(&mut pdf, f_bold, &mut next)?;
        pdf.document_info(info)
            .title(TextStr(&meta.title))
            .subject(TextStr(&meta.subject))
            .creator(TextStr(&meta.creator))
            .producer(TextStr(concat!("calin-agent ", env!("CARGO_PKG_VERSION"))));
        Ok(pdf.finish())
    }

    /// The content stream of one page, in PDF coordinates.
    fn content(&mut self, page: &Page) -> Vec<u8> {
        let h = self.paper.height;
        let mut c = Content::new();
        for op in &page.ops {
            match op {
                Op::Fill {
                    x,
                    y,
                    w,
                    h: bh,
                    color,
                } => {
                    c.set_fill_rgb(color.0, color.1, color.2);
                    c.rect(*x, h - y - bh, *w, *bh).fill_nonzero();
                }
                Op::Stroke {
                    x,
                    y,
                    w,
                    h: bh,
                    width,
                    color,
                } => {
                    c.set_stroke_rgb(color.0, color.1, color.2);
                    c.set_line_width(*width);
                    c.rect(*x, h - y - bh, *w, *bh).stroke();
                }
                Op::Line {
                    from,
                    to,
                    width,
                    color,
                } => {
                    c.set_stroke_rgb(color.0, color.1, color.2);
                    c.set_line_width(*width);
                    c.move_to(from.0, h - from.1);
                    c.line_to(to.0, h - to.1);
                    c.stroke();
                }
                Op::Polygon { points, color } => {
                    c.set_fill_rgb(color.0, color.1, color.2);
                    let mut rest = points.iter();
                    if let Some((x, y)) = rest.next() {
                        c.move_to(*x, h - y);
                    }
                    for (x, y) in rest {
                        c.line_to(*x, h - y);
                    }
                    c.close_path();
                    c.fill_nonzero();
                }
                Op::Text {
                    x,
                    baseline,
                    size,
                    weight,
                    color,
                    text,
                } => {
                    let (name, face) = match weight {
                        Weight::Regular => (Name(b"R"), &mut self.regular),
                        Weight::Bold => (Name(b"B"), &mut self.bold),
                    };
                    let glyphs = face.encode(text);
                    c.set_fill_rgb(color.0, color.1, color.2);
                    c.begin_text();
                    c.set_font(name, *size);
                    c.set_text_matrix([1.0, 0.0, 0.0, 1.0, *x, h - baseline]);
                    c.show(Str(&glyphs));
                    c.end_text();
                }
            }
        }
        c.finish().into_vec()
    }
}

#[cfg(test)]
mod tests;
