//! The boxed notes under the status table (commissioning, billing mode, unknown
//! numbers, site procedures), kept together on one page.

use super::{Layout, INK, LEAD, NOTE_BG};
use crate::card::content::Note;
use crate::card::pdf::{Rgb, Weight};
use crate::card::style;

impl Layout<'_> {
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
    pub(super) fn notes(&mut self, notes: &[Note]) {
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
}
