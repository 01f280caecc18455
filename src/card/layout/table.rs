//! The code tables: column widths, section titles, category group headings and rows.

use super::{Layout, COLUMN_HEAD, FADED, GAP, INK, LEAD, MARGIN, SYMBOL_SCALE, ZEBRA};
use crate::card::content::{Row, Section};
use crate::card::pdf::{Rgb, Weight};
use crate::card::style::{self, SITE_MARK};
use crate::codes::Category;

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

impl Layout<'_> {
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

    pub(super) fn section(&mut self, section: &Section) {
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
}
