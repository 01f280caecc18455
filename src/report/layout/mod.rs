//! The report on paper: a flow of sections down the pages, drawn with the reference
//! card's PDF helpers. The first page opens with the title and the "what to do now"
//! box; later pages repeat a one-line header; every page has a footer.
//!
//! All text is at least [`MIN_SIZE`] points and wrapped to the printed area, so nothing
//! runs off the page whatever the site name, actions or errors say.

mod chart;
mod sections;
mod table;

pub use chart::{mark_color, mark_points};

use super::content::VisitReport;
use crate::card::pdf::{Document, FontError, Meta, Page, Paper, Rgb, Weight};
use crate::card::style;
use crate::codes::{Severity, SiteVisit};

/// White space around the printed area, in points (12.7 mm).
pub const MARGIN: f32 = 36.0;
/// No text in the report is smaller than this.
pub const MIN_SIZE: f32 = 8.0;

const BODY: f32 = 9.0;
const SMALL: f32 = 8.0;
const LINE: f32 = 11.0;
const HEADING: f32 = 12.0;
const TITLE: f32 = 18.0;

const INK: Rgb = Rgb::hex(0x111111);
const FADED: Rgb = Rgb::hex(0x5f5f5f);
const RULE: Rgb = Rgb::hex(0x9e9e9e);
const LIGHT: Rgb = Rgb::hex(0xdddddd);
const ZEBRA: Rgb = Rgb::hex(0xf2f2f2);
const COLUMN_HEAD: Rgb = Rgb::hex(0xd6d6d6);

/// The colour of the verdict band.
fn verdict_color(v: SiteVisit) -> Rgb {
    match v {
        SiteVisit::Yes => Rgb::hex(0xB71C1C),
        SiteVisit::IfUnresolved => Rgb::hex(0xBF5B00),
        SiteVisit::No => Rgb::hex(0x2E7D32),
    }
}

/// Render the report as a PDF file.
pub fn render_pdf(report: &VisitReport, paper: Paper) -> Result<Vec<u8>, FontError> {
    let mut doc = Document::new(paper)?;
    for p in lay_out(&doc, report) {
        doc.push_page(p);
    }
    let site = report.site.as_deref().unwrap_or("no site configured");
    doc.finish(&Meta {
        title: format!("{}: meter {}", report.title, report.meter),
        subject: format!("{site}, read {}", report.read_at),
        creator: report.generator.clone(),
    })
}

/// The pages of the report.
pub fn lay_out(doc: &Document, report: &VisitReport) -> Vec<Page> {
    let mut f = Flow::new(doc, report);
    f.title();
    f.todo();
    f.identity();
    f.status();
    f.values();
    f.counters();
    f.timeline();
    f.unread();
    f.finish()
}

/// Where the drawing is: the pages so far, the page being drawn, and the pen's height.
struct Flow<'a> {
    doc: &'a Document,
    r: &'a VisitReport,
    left: f32,
    width: f32,
    /// Lowest point text may reach (above the footer).
    bottom: f32,
    pages: Vec<Page>,
    page: Page,
    y: f32,
}

impl<'a> Flow<'a> {
    fn new(doc: &'a Document, r: &'a VisitReport) -> Self {
        let paper = doc.paper();
        Flow {
            doc,
            r,
            left: MARGIN,
            width: paper.width - 2.0 * MARGIN,
            bottom: paper.height - MARGIN - SMALL * 2.5,
            pages: Vec::new(),
            page: Page::default(),
            y: MARGIN,
        }
    }

    fn right(&self) -> f32 {
        self.left + self.width
    }

    // ---- pages ---------------------------------------------------------------------

    /// Start a new page unless `h` points still fit on this one; true if it started one.
    fn ensure(&mut self, h: f32) -> bool {
        if self.y + h <= self.bottom {
            return false;
        }
        self.pages.push(std::mem::take(&mut self.page));
        self.y = MARGIN;
        self.running_header();
        true
    }

    /// The one-line header of the pages after the first.
    fn running_header(&mut self) {
        let text = format!(
            "{} (continued) · meter {} · {}",
            self.r.title,
            self.r.meter,
            self.r.site.as_deref().unwrap_or("no site configured")
        );
        let line = self.fit(&text, SMALL, Weight::Bold, self.width);
        let base = self.y + SMALL;
        self.page
            .text(self.left, base, SMALL, Weight::Bold, FADED, &line);
        self.y = base + SMALL * 0.6;
        self.page.fill(self.left, self.y, self.width, 0.5, RULE);
        self.y += LINE;
    }

    fn finish(mut self) -> Vec<Page> {
        self.pages.push(std::mem::take(&mut self.page));
        self.footers();
        self.pages
    }

    fn footers(&mut self) {
        let paper = self.doc.paper();
        let total = self.pages.len();
        let base = paper.height - MARGIN;
        let site = self.r.site.as_deref().unwrap_or("no site configured");
        let left_text = format!("Meter {} · {site} · read {}", self.r.meter, self.r.read_at);
        for i in 0..total {
            let right = format!("{} · page {} of {total}", self.r.generator, i + 1);
            let rw = self.doc.width(&right, SMALL, Weight::Regular);
            let left = self.fit(
                &left_text,
                SMALL,
                Weight::Bold,
                self.width - rw - SMALL * 2.0,
            );
            let (x, width) = (self.left, self.width);
            if let Some(page) = self.pages.get_mut(i) {
                page.fill(x, base - SMALL * 1.4, width, 0.5, RULE);
                page.text(x, base, SMALL, Weight::Bold, INK, &left);
                page.text(x + width - rw, base, SMALL, Weight::Regular, INK, &right);
            }
        }
    }

    // ---- text helpers --------------------------------------------------------------

    fn wrap(&self, text: &str, size: f32, weight: Weight, width: f32) -> Vec<String> {
        self.doc.wrap(text, size, weight, width)
    }

    /// `text` shortened with an ellipsis to fit `width` on one line.
    fn fit(&self, text: &str, size: f32, weight: Weight, width: f32) -> String {
        if self.doc.width(text, size, weight) <= width {
            return text.to_owned();
        }
        let mut s: String = text.to_owned();
        while !s.is_empty() && self.doc.width(&format!("{s}…"), size, weight) > width {
            s.pop();
        }
        format!("{}…", s.trim_end())
    }

    /// Wrapped lines from the pen's height, each on a new page if it must be.
    fn paragraph(&mut self, text: &str, size: f32, weight: Weight, color: Rgb) {
        let line = size * 1.25;
        for l in self.wrap(text, size, weight, self.width) {
            self.ensure(line);
            self.page
                .text(self.left, self.y + size, size, weight, color, &l);
            self.y += line;
        }
    }

    /// A section heading with a rule under it; kept with `keep` points of what follows.
    fn heading(&mut self, text: &str, keep: f32) {
        self.y += LINE * 0.6;
        self.ensure(HEADING * 1.8 + keep);
        self.page.text(
            self.left,
            self.y + HEADING,
            HEADING,
            Weight::Bold,
            INK,
            text,
        );
        self.y += HEADING * 1.35;
        self.page.fill(self.left, self.y, self.width, 0.8, INK);
        self.y += 4.0;
    }

    /// A severity mark as the reference card prints it: CRIT white on black, HIGH
    /// outlined, the others plain bold words. Returns its width.
    fn severity_mark(&mut self, x: f32, base: f32, sev: Severity) -> f32 {
        let mark = style::severity_mark(sev);
        let w = self.doc.width(mark, SMALL, Weight::Bold) + 6.0;
        let f = self.doc.face(Weight::Bold);
        let top = base - f.cap_height(SMALL) - 2.5;
        let h = f.cap_height(SMALL) + 5.0;
        match sev {
            Severity::Critical => {
                self.page.fill(x, top, w, h, INK);
                self.page
                    .text(x + 3.0, base, SMALL, Weight::Bold, Rgb::WHITE, mark);
            }
            Severity::High => {
                self.page
                    .stroke(x + 0.4, top + 0.4, w - 0.8, h - 0.8, 0.8, INK);
                self.page
                    .text(x + 3.0, base, SMALL, Weight::Bold, INK, mark);
            }
            _ => self
                .page
                .text(x + 3.0, base, SMALL, Weight::Bold, INK, mark),
        }
        w
    }

    /// The widest severity mark.
    fn mark_width(&self) -> f32 {
        style::SEVERITIES
            .iter()
            .map(|s| {
                self.doc
                    .width(style::severity_mark(*s), SMALL, Weight::Bold)
                    + 6.0
            })
            .fold(0.0, f32::max)
    }
}

#[cfg(test)]
mod tests;
