//! The card on paper: header, legend, the two code tables, notes and footer, laid out
//! on one or two pages with the PDF helpers.
//!
//! All text is at least [`MIN_SIZE`] points. The body starts at the largest size of
//! [`BODY_SIZES`] and steps down only when the card would not fit two pages (long site
//! procedures can do that).

use super::content::{CardContent, Note, Row, Section};
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

/// Left edges and widths of a table's columns.
#[derive(Clone, Copy)]
struct Columns {
    code: f32,
    code_w: f32,
    sub: f32,
    sub_w: f32,
    sev: f32,
    sev_w: f32,
    meaning: f32,
    meaning_w: f32,
    action: f32,
    action_w: f32,
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
        let base = base + s.section * 1.6;
        self.page
            .text(self.left, base, s.section, Weight::Bold, INK, &site);
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

    // ---- tables ------------------------------------------------------------------

    fn columns(&self, section: &Section) -> Columns {
        let s = self.s;
        let bold = |t: &str| self.doc.width(t, s.body, Weight::Bold);
        let has_sub = section
            .groups
            .iter()
            .flat_map(|g| &g.rows)
            .any(|r| !r.sub_code.is_empty());
        let has_sev = section
            .groups
            .iter()
            .flat_map(|g| &g.rows)
            .any(|r| r.severity.is_some());
        let code_w = bold("00–00")
            .max(bold("0000"))
            .max(bold(&section.code_heading))
            + GAP;
        let sub_w = if has_sub { bold("87:00") + GAP } else { 0.0 };
        let sev_w = if has_sev {
            style::SEVERITIES
                .iter()
                .map(|&v| self.mark_width(v))
                .fold(0.0, f32::max)
                + GAP
        } else {
            0.0
        };
        let code = self.left + LEAD;
        let sub = code + code_w;
        let sev = sub + sub_w;
        let meaning = sev + sev_w;
        let rest = self.left + self.width - meaning;
        // The meaning column is as wide as the longest meaning, within 25–40 %.
        let longest = section
            .groups
            .iter()
            .flat_map(|g| &g.rows)
            .map(|r| self.doc.width(&r.meaning, s.body, Weight::Regular))
            .fold(0.0, f32::max);
        let meaning_w = (longest + 1.6 * GAP).clamp(rest * 0.25, rest * 0.4).ceil();
        Columns {
            code,
            code_w,
            sub,
            sub_w,
            sev,
            sev_w,
            meaning,
            meaning_w,
            action: meaning + meaning_w,
            action_w: rest - meaning_w,
        }
    }

    fn section(&mut self, section: &Section) {
        let s = self.s;
        let cols = self.columns(section);
        let title_h = s.section * 1.5 + s.small * 1.4;
        let head_h = s.small + 2.0 * s.pad + 2.0;
        // Keep the title with the column heads and the first group's heading and row.
        let body: f32 = section
            .groups
            .iter()
            .map(|g| {
                self.group_head_height()
                    + g.rows
                        .iter()
                        .map(|r| self.row_height(r, &cols))
                        .sum::<f32>()
            })
            .sum();
        // Design: a table starts on a fresh page rather than split, when it fits one.
        let whole = title_h + head_h + body + self.s.pad;
        if whole <= self.bottom - self.top_of_body() {
            self.reserve(whole);
        } else {
            let first = section.groups.first().map_or(0.0, |g| {
                self.group_head_height() + g.rows.first().map_or(0.0, |r| self.row_height(r, &cols))
            });
            self.reserve(title_h + head_h + first);
        }
        self.y += s.pad;
        let base = self.y + s.section;
        self.page.text(
            self.left,
            base,
            s.section,
            Weight::Bold,
            INK,
            &section.title,
        );
        let base = base + s.small * 1.35;
        self.page.text(
            self.left,
            base,
            s.small,
            Weight::Regular,
            INK,
            &section.subtitle,
        );
        self.y = base + s.small * 0.5;
        self.column_heads(section, &cols);
        for g in &section.groups {
            let rows_h: f32 = g.rows.iter().map(|r| self.row_height(r, &cols)).sum();
            let whole = self.group_head_height() + rows_h;
            let need = if whole < (self.bottom - MARGIN) / 3.0 {
                whole
            } else {
                self.group_head_height() + g.rows.first().map_or(0.0, |r| self.row_height(r, &cols))
            };
            if self.reserve(need) {
                self.whole = false;
                self.column_heads(section, &cols);
            }
            self.group_head(g.category);
            for (i, r) in g.rows.iter().enumerate() {
                let h = self.row_height(r, &cols);
                if self.reserve(h) {
                    self.whole = false;
                    self.column_heads(section, &cols);
                    self.group_head(g.category);
                }
                self.row(r, &cols, i % 2 == 1);
            }
        }
    }

    fn column_heads(&mut self, section: &Section, c: &Columns) {
        let s = self.s;
        let h = s.small + 2.0 * s.pad + 2.0;
        self.page
            .fill(self.left, self.y, self.width, h, COLUMN_HEAD);
        let base = self.baseline(self.y, s.small, h);
        let mut heads = vec![(c.code, section.code_heading.as_str())];
        if c.sub_w > 0.0 {
            heads.push((c.sub, "87:"));
        }
        if c.sev_w > 0.0 {
            heads.push((c.sev, "Sev."));
        }
        heads.push((c.meaning, "Meaning"));
        heads.push((c.action, "Field action"));
        for (x, t) in heads {
            self.page.text(x, base, s.small, Weight::Bold, INK, t);
        }
        self.y += h;
    }

    fn group_head_height(&self) -> f32 {
        self.s.line + self.s.pad
    }

    fn group_head(&mut self, category: Category) {
        let s = self.s;
        let st = style::category(category);
        let h = self.group_head_height();
        let color = Rgb::hex(st.color);
        self.page.fill(self.left, self.y, self.width, h, color);
        let base = self.baseline(self.y, s.body, h);
        let text = format!("{}  {}", st.symbol, st.heading);
        self.page.text(
            self.left + 4.0,
            base,
            s.body,
            Weight::Bold,
            Rgb::WHITE,
            &text,
        );
        self.y += h;
    }

    /// The wrapped cells of a row: code, meaning, action.
    fn cells(&self, r: &Row, c: &Columns) -> (Vec<String>, Vec<String>, Vec<String>) {
        let s = self.s;
        // A row without a sub-code lends that column to the code.
        let code_w = if r.sub_code.is_empty() {
            c.code_w + c.sub_w
        } else {
            c.code_w
        };
        let code = self.doc.wrap(&r.label, s.body, Weight::Bold, code_w - GAP);
        let meaning = self
            .doc
            .wrap(&r.meaning, s.body, Weight::Regular, c.meaning_w - GAP);
        let action = if r.site_procedure {
            let mark = self.doc.width(SITE_MARK, s.small, Weight::Bold) + 6.0 + 4.0;
            self.doc.wrap_indented(
                &r.action,
                s.body,
                Weight::Regular,
                c.action_w - mark,
                c.action_w,
            )
        } else {
            self.doc
                .wrap(&r.action, s.body, Weight::Regular, c.action_w)
        };
        (code, meaning, action)
    }

    fn row_height(&self, r: &Row, c: &Columns) -> f32 {
        let (code, meaning, action) = self.cells(r, c);

        let n = code.len().max(meaning.len()).max(action.len()).max(1);
        n as f32 * self.s.line + 2.0 * self.s.pad
    }

    fn row(&mut self, r: &Row, c: &Columns, zebra: bool) {
        let s = self.s;
        let st = style::category(r.category);
        let h = self.row_height(r, c);
        let (code, meaning, action) = self.cells(r, c);
        if zebra {
            self.page.fill(self.left, self.y, self.width, h, ZEBRA);
        }
        self.page
            .fill(self.left, self.y, 3.0, h, Rgb::hex(st.color));
        let top = self.y + s.pad;
        let base = self.baseline(top, s.body, s.line);
        let ink = if r.applies { INK } else { FADED };
        self.page.text(
            self.left + 5.0,
            base,
            s.body * SYMBOL_SCALE,
            Weight::Bold,
            Rgb::hex(st.color),
            &st.symbol.to_string(),
        );
        for (i, l) in code.iter().enumerate() {
            let b = base + i as f32 * s.line;
            self.page.text(c.code, b, s.body, Weight::Bold, ink, l);
        }
        self.page
            .text(c.sub, base, s.body, Weight::Regular, ink, &r.sub_code);
        if !r.applies {
            self.page
                .text(c.sev, base, s.small, Weight::Bold, FADED, "n/a");
        } else if let Some(sev) = r.severity {
            self.severity_mark(c.sev, base, sev, ink);
        }
        for (i, l) in meaning.iter().enumerate() {
            let b = base + i as f32 * s.line;
            self.page
                .text(c.meaning, b, s.body, Weight::Regular, ink, l);
        }
        let mut x = c.action;
        if r.site_procedure {
            x += self.badge(c.action, base, SITE_MARK, s.small, true, INK) + 4.0;
        }
        for (i, l) in action.iter().enumerate() {
            let b = base + i as f32 * s.line;
            let lx = if i == 0 { x } else { c.action };
            self.page.text(lx, b, s.body, Weight::Regular, ink, l);
        }
        self.y += h;
    }

    // ---- notes and footer ---------------------------------------------------------

    fn note_lines(&self, n: &Note) -> (String, Vec<String>) {
        let s = self.s;
        let title = format!("{}: ", n.title);
        let tw = self.doc.width(&title, s.body, Weight::Bold);
        let inner = self.width - LEAD - 4.0;
        let lines = self
            .doc
            .wrap_indented(&n.text, s.body, Weight::Regular, inner - tw, inner);
        (title, lines)
    }

    fn note_height(&self, n: &Note) -> f32 {
        self.note_lines(n).1.len().max(1) as f32 * self.s.line + 2.0 * self.s.pad
    }

    /// The notes, kept together.
    fn notes(&mut self, notes: &[Note]) {
        let s = self.s;
        let all: f32 = notes.iter().map(|n| self.note_height(n) + s.pad).sum();
        self.reserve(all + s.pad * 2.0);
        self.y += s.pad * 2.0;
        for n in notes {
            let (title, lines) = self.note_lines(n);
            let h = self.note_height(n);
            self.reserve(h);
            let (symbol, color) = match n.category {
                Some(c) => {
                    let st = style::category(c);
                    (st.symbol.to_string(), Rgb::hex(st.color))
                }
                None => ("⚑".to_owned(), INK),
            };
            self.page.fill(self.left, self.y, self.width, h, NOTE_BG);
            self.page.fill(self.left, self.y, 3.0, h, color);
            let base = self.baseline(self.y + s.pad, s.body, s.line);
            self.page
                .text(self.left + 6.0, base, s.body, Weight::Bold, color, &symbol);
            let x = self.left + LEAD;
            self.page.text(x, base, s.body, Weight::Bold, INK, &title);
            let tw = self.doc.width(&title, s.body, Weight::Bold);
            for (i, l) in lines.iter().enumerate() {
                let lx = if i == 0 { x + tw } else { x };
                self.page.text(
                    lx,
                    base + i as f32 * s.line,
                    s.body,
                    Weight::Regular,
                    INK,
                    l,
                );
            }
            self.y += h + s.pad;
        }
    }

    fn footers(&mut self) {
        let s = self.s;
        let paper = self.doc.paper();
        let total = self.pages.len();
        let c = self.content;
        let site = c.site_name.as_deref().unwrap_or("site not configured");
        let left = format!("{site} · printed {} · {} mode", c.date, c.mode);
        let base = paper.height - MARGIN;
        let (x, width) = (self.left, self.width);
        for (i, page) in self.pages.iter_mut().enumerate() {
            let right = format!("{} · page {} of {total}", c.generator, i + 1);
            let rw = self.doc.width(&right, s.small, Weight::Regular);
            page.fill(x, base - s.small * 1.3, width, 0.5, RULE);
            page.text(x, base, s.small, Weight::Bold, INK, &left);
            page.text(x + width - rw, base, s.small, Weight::Regular, INK, &right);
        }
    }
}
