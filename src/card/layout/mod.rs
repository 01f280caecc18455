//! The card on paper: header, legend, the two code tables, notes and footer, laid out
//! on one or two pages with the PDF helpers.
//!
//! All text is at least [`MIN_SIZE`] points. The body starts at the largest size of
//! [`BODY_SIZES`] and steps down only when the card would not fit two pages (long site
//! procedures can do that).

mod notes;
mod table;

use super::content::CardContent;
use super::pdf::{Document, FontError, Meta, Page, Paper, Rgb, Weight};
use super::style::{self, SITE_MARK};
use crate::codes::{Category, Severity};

/// White space around the printed area, in points (about 11 mm: clear of what office
/// printers cannot reach).
pub const MARGIN: f32 = 32.0;
/// Body text sizes tried, largest first.
pub const BODY_SIZES: [f32; 5] = [10.0, 9.5, 9.0, 8.5, 8.0];
/// No text on the card is smaller than this.
pub const MIN_SIZE: f32 = 8.0;
/// The card aims at this many pages (one sheet, printed on both sides).
pub const MAX_PAGES: usize = 2;

const INK: Rgb = Rgb::hex(0x111111);
const FADED: Rgb = Rgb::hex(0x5f5f5f);
const ZEBRA: Rgb = Rgb::hex(0xefefef);
const RULE: Rgb = Rgb::hex(0x9e9e9e);
const COLUMN_HEAD: Rgb = Rgb::hex(0xd6d6d6);
const NOTE_BG: Rgb = Rgb::hex(0xf4f4f4);

/// A rendered card and how it came out.
#[derive(Clone, Debug)]
pub struct RenderedPdf {
    pub bytes: Vec<u8>,
    pub pages: usize,
    /// The body text size chosen, in points.
    pub body_size: f32,
}

/// Render the card as a PDF file.
pub fn render_pdf(content: &CardContent, paper: Paper) -> Result<RenderedPdf, FontError> {
    let mut doc = Document::new(paper)?;
    let (pages, body_size) = lay_out(&doc, content);
    let count = pages.len();
    for p in pages {
        doc.push_page(p);
    }
    let site = content.site_name.as_deref().unwrap_or("no site configured");
    let bytes = doc.finish(&Meta {
        title: content.title.clone(),
        subject: format!("{site}, {} mode, {}", content.mode, content.date),
        creator: content.generator.clone(),
    })?;
    Ok(RenderedPdf {
        bytes,
        pages: count,
        body_size,
    })
}

/// The pages and the body size chosen: the largest size at which every table stays
/// whole on one page within [`MAX_PAGES`]; failing that, the largest within
/// [`MAX_PAGES`]; failing that, the smallest size.
pub fn lay_out(doc: &Document, content: &CardContent) -> (Vec<Page>, f32) {
    let tries: Vec<(Vec<Page>, bool, f32)> = BODY_SIZES
        .iter()
        .map(|&body| {
            let (pages, whole) = Layout::new(doc, content, body).run();
            (pages, whole, body)
        })
        .collect();
    let pick = tries
        .iter()
        .position(|(p, whole, _)| *whole && p.len() <= MAX_PAGES)
        .or_else(|| tries.iter().position(|(p, _, _)| p.len() <= MAX_PAGES))
        .unwrap_or(tries.len() - 1);
    let (pages, _, body) = tries.into_iter().nth(pick).unwrap_or_default();
    (pages, body)
}

/// Sizes derived from the body size.
#[derive(Clone, Copy)]
struct Sizes {
    body: f32,
    small: f32,
    title: f32,
    section: f32,
    /// Distance between baselines of body text.
    line: f32,
    /// Space above and below the text of a row.
    pad: f32,
}

impl Sizes {
    fn new(body: f32) -> Self {
        Sizes {
            body,
            small: (body - 1.0).max(MIN_SIZE),
            title: body + 5.0,
            section: body + 1.5,
            line: body * 1.18,
            pad: body * 0.25,
        }
    }
}

/// One entry of the legend line.
enum LegendItem {
    Category(Category),
    Label(&'static str),
    Severity(Severity),
    Site,
    /// Go on at the start of the next line.
    Break,
}

/// Category symbols are drawn this much larger than the text around them: the
/// DejaVu dingbats are small for their size.
const SYMBOL_SCALE: f32 = 1.2;

/// Space between columns.
const GAP: f32 = 5.0;
/// Width of the coloured bar plus the symbol at the start of each row.
const LEAD: f32 = 19.0;

struct Layout<'a> {
    doc: &'a Document,
    content: &'a CardContent,
    s: Sizes,
    left: f32,
    width: f32,
    bottom: f32,
    pages: Vec<Page>,
    page: Page,
    y: f32,
    /// False once a table had to be split across pages.
    whole: bool,
    /// Where the body starts on each page (below the header).
    header_height: f32,
}

impl<'a> Layout<'a> {
    fn new(doc: &'a Document, content: &'a CardContent, body: f32) -> Self {
        let paper = doc.paper();
        let s = Sizes::new(body);
        Layout {
            doc,
            content,
            s,
            left: MARGIN,
            width: paper.width - 2.0 * MARGIN,
            bottom: paper.height - MARGIN - s.small * 2.0,
            pages: Vec::new(),
            page: Page::default(),
            y: MARGIN,
            whole: true,
            header_height: MARGIN,
        }
    }

    fn run(mut self) -> (Vec<Page>, bool) {
        self.header();
        let content = self.content;
        if let Some((first, rest)) = content.sections.split_first() {
            self.section(first);
            self.notes(&content.notes);
            for s in rest {
                self.section(s);
            }
        }
        self.pages.push(std::mem::take(&mut self.page));
        self.footers();
        (self.pages, self.whole)
    }

    // ---- pages -------------------------------------------------------------------

    fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.page));
        self.y = MARGIN;
        self.header();
    }

    /// Where the body starts below the page header.
    fn top_of_body(&self) -> f32 {
        self.header_height
    }

    /// Start a new page unless `h` points still fit on this one.
    fn reserve(&mut self, h: f32) -> bool {
        if self.y + h > self.bottom {
            self.new_page();
            return true;
        }
        false
    }

    /// Baseline of a line of `size` text in a box starting at `top` of height `line`.
    fn baseline(&self, top: f32, size: f32, line: f32) -> f32 {
        let f = self.doc.face(Weight::Regular);
        let (asc, desc) = (f.ascent(size), f.descent(size));
        top + (line - asc - desc) / 2.0 + asc
    }

    fn header(&mut self) {
        let s = self.s;
        let right = self.left + self.width;
        let top = self.y;
        // Title, with the billing mode as an inverted badge on the right.
        let base = top + s.title;
        self.page.text(
            self.left,
            base,
            s.title,
            Weight::Bold,
            INK,
            &self.content.title,
        );
        let mode = format!("{} MODE", self.content.mode.to_string().to_uppercase());
        let mw = self.doc.width(&mode, s.section, Weight::Bold);
        self.badge(
            right - mw - 6.0,
            base - 2.0,
            &mode,
            s.section,
            true,
            Rgb::BLACK,
        );
        let site = match &self.content.site_name {
            Some(n) => format!("Site: {n}"),
            None => "Site: not configured".to_owned(),
        };
        let mut base = base + s.section * 0.4;
        for line in self.doc.wrap(&site, s.section, Weight::Bold, self.width) {
            base += s.section * 1.2;
            self.page
                .text(self.left, base, s.section, Weight::Bold, INK, &line);
        }
        self.y = base + s.small * 0.9;
        self.legend();
        self.page.fill(self.left, self.y, self.width, 0.8, INK);
        self.y += s.pad * 2.0;
        self.header_height = self.y;
    }

    /// One or two lines: every category's symbol and name, the severity marks, and the
    /// site mark when the card has site procedures.
    fn legend(&mut self) {
        let size = self.s.small;
        let mut items: Vec<LegendItem> = Category::ALL
            .iter()
            .map(|&c| LegendItem::Category(c))
            .collect();
        items.push(LegendItem::Break);
        items.push(LegendItem::Label("Severity:"));
        items.extend(style::SEVERITIES.iter().map(|&s| LegendItem::Severity(s)));
        if self.content.rows().any(|r| r.site_procedure) {
            items.push(LegendItem::Site);
        }
        let line = size * 1.6;
        let mut x = self.left;
        let mut top = self.y;
        for item in items {
            let w = self.legend_item(&item, x, None);
            if matches!(item, LegendItem::Break) || x + w > self.left + self.width {
                x = self.left;
                top += line;
            }
            if matches!(item, LegendItem::Break) {
                continue;
            }
            let base = self.baseline(top, size, line);
            x += self.legend_item(&item, x, Some(base)) + size;
        }
        self.y = top + line + self.s.pad;
    }

    /// Draw one legend item at `x` when `base` is given; its width either way.
    fn legend_item(&mut self, item: &LegendItem, x: f32, base: Option<f32>) -> f32 {
        let size = self.s.small;
        let (first, first_color, rest): (String, Rgb, String) = match item {
            LegendItem::Category(c) => {
                let st = style::category(*c);
                (
                    st.symbol.to_string(),
                    Rgb::hex(st.color),
                    format!(" {}", c.as_str()),
                )
            }
            LegendItem::Label(t) => (String::new(), INK, (*t).to_owned()),
            LegendItem::Break => return 0.0,
            LegendItem::Severity(sev) => {
                let w = self.mark_width(*sev);
                if let Some(b) = base {
                    self.severity_mark(x, b, *sev, INK);
                }
                return w;
            }
            LegendItem::Site => {
                let w = self.doc.width(SITE_MARK, size, Weight::Bold) + 6.0;
                if let Some(b) = base {
                    self.badge(x, b, SITE_MARK, size, true, INK);
                }
                let t = " site procedure";
                if let Some(b) = base {
                    self.page.text(x + w, b, size, Weight::Regular, INK, t);
                }
                return w + self.doc.width(t, size, Weight::Regular);
            }
        };
        let sym = size * SYMBOL_SCALE;
        let fw = self.doc.width(&first, sym, Weight::Bold);
        let weight = if first.is_empty() {
            Weight::Bold
        } else {
            Weight::Regular
        };
        if let Some(b) = base {
            self.page.text(x, b, sym, Weight::Bold, first_color, &first);
            self.page.text(x + fw, b, size, weight, INK, &rest);
        }
        fw + self.doc.width(&rest, size, weight)
    }

    fn mark_width(&self, sev: Severity) -> f32 {
        self.doc
            .width(style::severity_mark(sev), self.s.small, Weight::Bold)
            + 6.0
    }

    /// A severity mark: CRIT white on black, HIGH outlined, the others plain; all bold
    /// words, so they survive a black-and-white copy.
    fn severity_mark(&mut self, x: f32, base: f32, sev: Severity, ink: Rgb) {
        let size = self.s.small;
        let mark = style::severity_mark(sev);
        match sev {
            Severity::Critical => {
                self.badge(x, base, mark, size, true, ink);
            }
            Severity::High => {
                self.badge(x, base, mark, size, false, ink);
            }
            _ => self.page.text(x + 3.0, base, size, Weight::Bold, ink, mark),
        }
    }

    /// A severity or site mark: white on `color` when `filled`, else outlined when it
    /// marks a high severity. Returns its width.
    fn badge(&mut self, x: f32, base: f32, text: &str, size: f32, filled: bool, color: Rgb) -> f32 {
        let w = self.doc.width(text, size, Weight::Bold) + 6.0;
        let f = self.doc.face(Weight::Bold);
        let top = base - f.cap_height(size) - 2.5;
        let h = f.cap_height(size) + 5.0;
        if filled {
            self.page.fill(x, top, w, h, color);
            self.page
                .text(x + 3.0, base, size, Weight::Bold, Rgb::WHITE, text);
        } else {
            self.page
                .stroke(x + 0.4, top + 0.4, w - 0.8, h - 0.8, 0.8, color);
            self.page
                .text(x + 3.0, base, size, Weight::Bold, color, text);
        }
        w
    }

    fn footers(&mut self) {
        let s = self.s;
        let paper = self.doc.paper();
        let total = self.pages.len();
        let c = self.content;
        let site = c.site_name.as_deref().unwrap_or("site not configured");
        let tail = format!(" · printed {} · {} mode", c.date, c.mode);
        let base = paper.height - MARGIN;
        let (x, width) = (self.left, self.width);
        for (i, page) in self.pages.iter_mut().enumerate() {
            let right = format!("{} · page {} of {total}", c.generator, i + 1);
            let rw = self.doc.width(&right, s.small, Weight::Regular);
            // A long site name is shortened here; the header prints it whole.
            let room = width - rw - s.small * 2.0;
            let mut name: String = site.to_owned();
            let mut left = format!("{name}{tail}");
            while self.doc.width(&left, s.small, Weight::Bold) > room && !name.is_empty() {
                name.pop();
                left = format!("{}…{tail}", name.trim_end());
            }
            page.fill(x, base - s.small * 1.3, width, 0.5, RULE);
            page.text(x, base, s.small, Weight::Bold, INK, &left);
            page.text(x + width - rw, base, s.small, Weight::Regular, INK, &right);
        }
    }
}
