//! Tables: wrapped cells, zebra rows, a column header repeated on each page; and
//! label–value lists.

use super::{Flow, BODY, COLUMN_HEAD, FADED, INK, LINE, SMALL, ZEBRA};
use crate::card::pdf::{Rgb, Weight};
use crate::report::content::Field;

/// Padding inside a cell.
const PAD: f32 = 2.5;
/// Height of the column header.
const HEAD_H: f32 = SMALL + 2.0 * PAD + 2.0;

/// A column: its heading and its share of the width.
pub(super) struct Column {
    pub title: &'static str,
    pub frac: f32,
}

/// One cell's text and look.
pub(super) struct Cell {
    pub text: String,
    pub weight: Weight,
    pub color: Rgb,
}

impl Cell {
    pub fn plain(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            weight: Weight::Regular,
            color: INK,
        }
    }

    pub fn bold(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            weight: Weight::Bold,
            color: INK,
        }
    }

    pub fn faded(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            weight: Weight::Regular,
            color: FADED,
        }
    }
}

impl Flow<'_> {
    /// Left edges and widths of the columns.
    fn edges(&self, cols: &[Column]) -> Vec<(f32, f32)> {
        let total: f32 = cols.iter().map(|c| c.frac).sum();
        let mut x = self.left;
        cols.iter()
            .map(|c| {
                let w = self.width * c.frac / total;
                let e = (x, w);
                x += w;
                e
            })
            .collect()
    }

    fn column_head(&mut self, cols: &[Column], edges: &[(f32, f32)]) {
        let h = HEAD_H;
        self.page
            .fill(self.left, self.y, self.width, h, COLUMN_HEAD);
        for (c, (x, w)) in cols.iter().zip(edges) {
            let t = self.fit(c.title, SMALL, Weight::Bold, w - 2.0 * PAD);
            self.page
                .text(x + PAD, self.y + PAD + SMALL, SMALL, Weight::Bold, INK, &t);
        }
        self.y += h;
    }

    /// Height of the column header and the first row: what a heading above the table
    /// must keep with it.
    pub(super) fn table_lead(&self, cols: &[Column], first: Option<&Vec<Cell>>) -> f32 {
        let edges = self.edges(cols);
        let n = first.map_or(1, |row| {
            row.iter()
                .zip(&edges)
                .map(|(cell, (_, w))| {
                    self.wrap(&cell.text, BODY, cell.weight, w - 2.0 * PAD)
                        .len()
                })
                .max()
                .unwrap_or(1)
                .max(1)
        });
        HEAD_H + n as f32 * LINE + 2.0 * PAD
    }

    /// Draw a table from the pen's height; rows that do not fit go to the next page
    /// under a repeated column header.
    pub(super) fn table(&mut self, cols: &[Column], rows: &[Vec<Cell>]) {
        let edges = self.edges(cols);
        let wrapped: Vec<Vec<Vec<String>>> = rows
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&edges)
                    .map(|(cell, (_, w))| self.wrap(&cell.text, BODY, cell.weight, w - 2.0 * PAD))
                    .collect()
            })
            .collect();
        let height = |cells: &Vec<Vec<String>>| {
            let n = cells.iter().map(Vec::len).max().unwrap_or(1).max(1);
            n as f32 * LINE + 2.0 * PAD
        };
        // The header never stands alone at the foot of a page.
        let first = wrapped.first().map_or(0.0, height);
        self.ensure(HEAD_H + first);
        self.column_head(cols, &edges);
        for (i, (row, wrapped)) in rows.iter().zip(&wrapped).enumerate() {
            let h = height(wrapped);
            if self.ensure(h) {
                self.column_head(cols, &edges);
            }
            if i % 2 == 1 {
                self.page.fill(self.left, self.y, self.width, h, ZEBRA);
            }
            for ((cell, lines), (x, _)) in row.iter().zip(wrapped).zip(&edges) {
                for (k, l) in lines.iter().enumerate() {
                    let base = self.y + PAD + BODY + k as f32 * LINE;
                    self.page
                        .text(x + PAD, base, BODY, cell.weight, cell.color, l);
                }
            }
            self.y += h;
        }
    }

    /// Width of the label column of a list: its longest label, within 20–45 % of `width`.
    pub(super) fn label_width(&self, fields: &[Field], width: f32) -> f32 {
        let longest = fields
            .iter()
            .map(|f| self.doc.width(&f.label, SMALL, Weight::Bold))
            .fold(0.0, f32::max);
        (longest + 3.0 * PAD).clamp(width * 0.2, width * 0.45)
    }

    /// Height of a label–value list `width` points wide.
    pub(super) fn fields_height(&self, fields: &[Field], width: f32, label_w: f32) -> f32 {
        fields
            .iter()
            .map(|f| self.field_lines(f, width, label_w).len() as f32 * LINE + 2.0)
            .sum()
    }

    fn field_lines(&self, f: &Field, width: f32, label_w: f32) -> Vec<String> {
        let lines = self.wrap(&f.value, BODY, Weight::Regular, width - label_w - PAD);
        if lines.is_empty() {
            vec![String::new()]
        } else {
            lines
        }
    }

    /// A label–value list at `x`, `width` wide, from the pen's height (the caller has
    /// made room); returns its height.
    pub(super) fn fields(&mut self, x: f32, width: f32, label_w: f32, fields: &[Field]) -> f32 {
        let mut y = self.y;
        for (i, f) in fields.iter().enumerate() {
            let lines = self.field_lines(f, width, label_w);
            let h = lines.len() as f32 * LINE + 2.0;
            if i % 2 == 0 {
                self.page.fill(x, y, width, h, ZEBRA);
            }
            let label = self.fit(&f.label, SMALL, Weight::Bold, label_w - PAD * 2.0);
            self.page
                .text(x + PAD, y + 1.0 + BODY, SMALL, Weight::Bold, FADED, &label);
            for (k, l) in lines.iter().enumerate() {
                self.page.text(
                    x + label_w,
                    y + 1.0 + BODY + k as f32 * LINE,
                    BODY,
                    Weight::Regular,
                    INK,
                    l,
                );
            }
            y += h;
        }
        y - self.y
    }
}
