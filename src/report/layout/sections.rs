//! The sections of the report, top to bottom.

use super::table::{Cell, Column};
use super::{verdict_color, Flow, BODY, FADED, HEADING, INK, LINE, SMALL, TITLE};
use crate::card::pdf::{Rgb, Weight};
use crate::card::style;
use crate::report::actions::Action;
use crate::report::content::CodedValue;

/// Space inside the boxes of the "what to do now" list.
const BOX_PAD: f32 = 5.0;

impl Flow<'_> {
    pub(super) fn title(&mut self) {
        let r = self.r;
        let base = self.y + TITLE;
        self.page
            .text(self.left, base, TITLE, Weight::Bold, INK, &r.title);
        // The billing mode, white on black at the right of the title.
        let mode = format!("{} MODE", r.mode.to_string().to_uppercase());
        let size = BODY;
        let w = self.doc.width(&mode, size, Weight::Bold) + 8.0;
        let cap = self.doc.face(Weight::Bold).cap_height(size);
        self.page
            .fill(self.right() - w, base - cap - 4.0, w, cap + 8.0, INK);
        self.page.text(
            self.right() - w + 4.0,
            base,
            size,
            Weight::Bold,
            Rgb::WHITE,
            &mode,
        );
        self.y = base + 4.0;
        let meter = format!("Meter {}", r.meter);
        for l in self.wrap(&meter, HEADING, Weight::Bold, self.width) {
            self.y += HEADING * 1.25;
            self.page
                .text(self.left, self.y, HEADING, Weight::Bold, INK, &l);
        }
        let site = match &r.site {
            Some(s) => format!("Site: {s}"),
            None => "Site: not configured".to_owned(),
        };
        for l in self.wrap(&site, BODY + 1.0, Weight::Bold, self.width) {
            self.y += LINE * 1.1;
            self.page
                .text(self.left, self.y, BODY + 1.0, Weight::Bold, INK, &l);
        }
        let read = format!("Read {} · {} mode", r.read_at, r.mode);
        for l in self.wrap(&read, BODY, Weight::Regular, self.width) {
            self.y += LINE;
            self.page
                .text(self.left, self.y, BODY, Weight::Regular, INK, &l);
        }
        self.y += LINE * 0.8;
    }

    /// The verdict band: "WHAT TO DO NOW" and the headline, white on the verdict colour.
    fn todo_band(&mut self, continued: bool) {
        let t = &self.r.todo;
        let color = verdict_color(t.visit);
        let size = HEADING - 1.0;
        let text = if continued {
            "WHAT TO DO NOW (continued)".to_owned()
        } else {
            format!("WHAT TO DO NOW: {}", t.headline)
        };
        let lines = self.wrap(&text, size, Weight::Bold, self.width - 2.0 * BOX_PAD);
        let h = lines.len() as f32 * size * 1.3 + 2.0 * BOX_PAD;
        self.page.fill(self.left, self.y, self.width, h, color);
        for (k, l) in lines.iter().enumerate() {
            let base = self.y + BOX_PAD + size + k as f32 * size * 1.3;
            self.page
                .text(self.left + BOX_PAD, base, size, Weight::Bold, Rgb::WHITE, l);
        }
        self.y += h;
    }

    pub(super) fn todo(&mut self) {
        let t = &self.r.todo;
        let color = verdict_color(t.visit);
        self.ensure(HEADING * 3.0 + LINE * 3.0);
        self.todo_band(false);
        for (i, a) in t.actions.iter().enumerate() {
            self.action(i + 1, a, color);
        }
        let mut closing: Vec<String> = Vec::new();
        if t.actions.is_empty() {
            closing.push(
                "Record the readings below. The status is normal, no counter shows events and no code is unknown."
                    .to_owned(),
            );
        }
        closing.extend(t.note.clone());
        for text in closing {
            let lines = self.wrap(&text, BODY, Weight::Regular, self.width - 2.0 * BOX_PAD);
            let h = lines.len() as f32 * LINE + 2.0 * BOX_PAD;
            if self.ensure(h) {
                self.todo_band(true);
            }
            self.page
                .stroke(self.left, self.y, self.width, h, 1.2, color);
            for (k, l) in lines.iter().enumerate() {
                let base = self.y + BOX_PAD + BODY + k as f32 * LINE;
                self.page
                    .text(self.left + BOX_PAD, base, BODY, Weight::Regular, FADED, l);
            }
            self.y += h;
        }
    }

    /// One numbered action: number and severity mark on the left; the finding (with
    /// its category symbol), the action and the site-visit need on the right.
    fn action(&mut self, n: usize, a: &Action, border: Rgb) {
        let num_w = self.doc.width("00.", BODY, Weight::Bold) + 2.0;
        let lead = BOX_PAD + num_w + self.mark_width() + 6.0;
        let text_w = self.width - lead - BOX_PAD;
        let st = style::category(a.category);
        let sym = format!("{} ", st.symbol);
        let sym_w = self.doc.width(&sym, BODY + 0.5, Weight::Bold);
        let finding =
            self.doc
                .wrap_indented(&a.finding, BODY + 0.5, Weight::Bold, text_w - sym_w, text_w);
        let action = self.wrap(&a.action, BODY, Weight::Regular, text_w);
        let visit = format!("Site visit: {} · {}", a.site_visit, a.category);
        let visit = self.wrap(&visit, SMALL, Weight::Regular, text_w);
        let lines = finding.len() + action.len() + visit.len();
        let h = lines as f32 * LINE + 2.0 * BOX_PAD;
        if self.ensure(h) {
            self.todo_band(true);
        }
        self.page
            .stroke(self.left, self.y, self.width, h, 1.2, border);
        let first = self.y + BOX_PAD + BODY;
        self.page.text(
            self.left + BOX_PAD,
            first,
            BODY,
            Weight::Bold,
            INK,
            &format!("{n}."),
        );
        self.severity_mark(self.left + BOX_PAD + num_w, first, a.severity);
        let x = self.left + lead;
        self.page
            .text(x, first, BODY + 0.5, Weight::Bold, Rgb::hex(st.color), &sym);
        let mut base = first;
        for (k, l) in finding.iter().enumerate() {
            let lx = if k == 0 { x + sym_w } else { x };
            self.page.text(lx, base, BODY + 0.5, Weight::Bold, INK, l);
            base += LINE;
        }
        for l in &action {
            self.page.text(x, base, BODY, Weight::Regular, INK, l);
            base += LINE;
        }
        for l in &visit {
            self.page.text(x, base, SMALL, Weight::Regular, FADED, l);
            base += LINE;
        }
        self.y += h;
    }

    pub(super) fn identity(&mut self) {
        let gap = 12.0;
        let half = (self.width - gap) / 2.0;
        let r = self.r;
        let (lw_a, lw_b) = (
            self.label_width(&r.identity, half),
            self.label_width(&r.settings, half),
        );
        let h = self
            .fields_height(&r.identity, half, lw_a)
            .max(self.fields_height(&r.settings, half, lw_b));
        self.heading("Meter and how it was read", h);
        let (left, right) = (self.left, self.left + half + gap);
        let a = self.fields(left, half, lw_a, &r.identity);
        let b = self.fields(right, half, lw_b, &r.settings);
        self.y += a.max(b);
    }

    pub(super) fn status(&mut self) {
        let r = self.r;
        self.heading("Operating status and relay", LINE * 4.0);
        if r.status.is_empty() {
            self.paragraph(
                "The operating status and the relay disconnect reason were not read: see “What could not be read”.",
                BODY,
                Weight::Regular,
                INK,
            );
        }
        for c in &r.status {
            self.coded(c);
        }
        for f in &r.relay {
            let text = format!("{}: {}", f.label, f.value);
            self.paragraph(&text, BODY, Weight::Bold, INK);
        }
    }

    /// A decoded value: a coloured bar, the value with its severity and category, the
    /// meaning, what it means for the supply, the action and the site-visit need.
    fn coded(&mut self, c: &CodedValue) {
        if c.repeats_status {
            let text = format!(
                "{}: {}, the same condition as the operating status above.",
                c.label, c.value
            );
            self.paragraph(&text, BODY, Weight::Bold, INK);
            self.y += 2.0;
            return;
        }
        let i = &c.info;
        let st = style::category(i.category);
        let indent = 10.0;
        let w = self.width - indent;
        let head = format!("{}: {}", c.label, c.value);
        let head_w = self.doc.width(&head, BODY + 2.0, Weight::Bold);
        let meaning = self.wrap(&i.meaning, BODY, Weight::Bold, w);
        let detail = self.wrap(&i.detail, BODY, Weight::Regular, w);
        let action = self.wrap(&format!("Action: {}", i.action), BODY, Weight::Regular, w);
        let mut tail = format!("Site visit: {}", i.site_visit);
        if !i.relevant {
            tail.push_str(&format!(" · not applicable in {} mode", i.mode));
        }
        if i.overridden {
            tail.push_str(" · site procedure");
        }
        let lines = 1 + meaning.len() + detail.len() + action.len() + 1;
        let h = lines as f32 * LINE + 6.0;
        self.ensure(h);
        self.page
            .fill(self.left, self.y + 1.0, 3.0, h - 4.0, Rgb::hex(st.color));
        let x = self.left + indent;
        let mut base = self.y + BODY + 3.0;
        self.page
            .text(x, base, BODY + 2.0, Weight::Bold, INK, &head);
        let after = x + head_w + 8.0;
        let mw = self.mark_width();
        let cat = format!("{} {}", st.symbol, i.category);
        let cat = self.fit(
            &cat,
            SMALL,
            Weight::Bold,
            (self.right() - after - mw - 4.0).max(0.0),
        );
        if after + mw + 4.0 < self.right() {
            self.severity_mark(after, base, i.severity);
            self.page.text(
                after + mw + 4.0,
                base,
                SMALL,
                Weight::Bold,
                Rgb::hex(st.color),
                &cat,
            );
        }
        base += LINE + 1.0;
        for l in &meaning {
            self.page.text(x, base, BODY, Weight::Bold, INK, l);
            base += LINE;
        }
        for l in &detail {
            self.page.text(x, base, BODY, Weight::Regular, INK, l);
            base += LINE;
        }
        for l in &action {
            self.page.text(x, base, BODY, Weight::Regular, INK, l);
            base += LINE;
        }
        let tail = self.fit(&tail, SMALL, Weight::Regular, w);
        self.page
            .text(x, base, SMALL, Weight::Regular, FADED, &tail);
        self.y += h;
    }

    pub(super) fn values(&mut self) {
        let r = self.r;
        if r.values.is_empty() {
            self.heading("Short-code values", LINE);
            self.paragraph("No short code was asked for.", BODY, Weight::Regular, INK);
            return;
        }
        let cols = [
            Column {
                title: "Code",
                frac: 0.09,
            },
            Column {
                title: "Name",
                frac: 0.36,
            },
            Column {
                title: "Value",
                frac: 0.43,
            },
            Column {
                title: "Unit",
                frac: 0.12,
            },
        ];
        let rows: Vec<Vec<Cell>> = r
            .values
            .iter()
            .map(|v| {
                let value = if v.read {
                    Cell::bold(v.value.clone())
                } else {
                    Cell::faded(v.value.clone())
                };
                vec![
                    Cell::bold(v.code.clone()),
                    Cell::plain(v.name.clone()),
                    value,
                    Cell::plain(v.unit.clone()),
                ]
            })
            .collect();
        let keep = self.table_lead(&cols, rows.first());
        self.heading("Short-code values", keep);
        self.table(&cols, &rows);
    }

    pub(super) fn counters(&mut self) {
        let r = self.r;
        if r.counters.is_empty() {
            self.heading("Counters and their last events", LINE);
            self.paragraph("No counter was asked for.", BODY, Weight::Regular, INK);
            return;
        }
        let cols = [
            Column {
                title: "Code",
                frac: 0.09,
            },
            Column {
                title: "Counter",
                frac: 0.24,
            },
            Column {
                title: "Count",
                frac: 0.12,
            },
            Column {
                title: "Last event times, most recent first",
                frac: 0.55,
            },
        ];
        let rows: Vec<Vec<Cell>> = r
            .counters
            .iter()
            .map(|c| {
                let times = if c.last.is_empty() {
                    Cell::faded(c.times_note.clone().unwrap_or_default())
                } else {
                    Cell::plain(c.last.join(", "))
                };
                vec![
                    Cell::bold(c.code.clone()),
                    Cell::plain(c.name.clone()),
                    Cell::bold(c.count.clone()),
                    times,
                ]
            })
            .collect();
        let keep = self.table_lead(&cols, rows.first());
        self.heading("Counters and their last events", keep);
        self.table(&cols, &rows);
    }

    pub(super) fn timeline(&mut self) {
        let h = self.chart_height();
        self.heading("Event timeline", h + LINE * 2.0);
        self.chart();
        let t = &self.r.timeline;
        let mut text = String::new();
        if !t.from.is_empty() {
            text.push_str(&format!("From {} to {} (meter clock). ", t.from, t.to));
        }
        text.push_str(&t.source);
        if let Some(n) = &t.note {
            text.push(' ');
            text.push_str(n);
        }
        self.paragraph(&text, SMALL, Weight::Regular, FADED);
    }

    pub(super) fn unread(&mut self) {
        let r = self.r;
        let cols = [
            Column {
                title: "Item",
                frac: 0.25,
            },
            Column {
                title: "Object",
                frac: 0.19,
            },
            Column {
                title: "Error",
                frac: 0.2,
            },
            Column {
                title: "What it means, what to try",
                frac: 0.36,
            },
        ];
        let rows: Vec<Vec<Cell>> = r
            .unread
            .iter()
            .map(|u| {
                vec![
                    Cell::bold(u.what.clone()),
                    Cell::plain(u.object.clone()),
                    Cell::plain(u.error.clone()),
                    Cell::plain(u.meaning.clone()),
                ]
            })
            .collect();
        // The heading, the first lines and the table's start stay together.
        let mut keep = LINE * 2.0;
        if !rows.is_empty() {
            keep += self.table_lead(&cols, rows.first());
        }
        if r.aborted.is_some() {
            keep += LINE * 2.0;
        }
        self.heading("What could not be read", keep);
        if let Some(e) = &r.aborted {
            self.paragraph(
                &format!("The read ended early: {e}. Items after the break were not read."),
                BODY,
                Weight::Bold,
                INK,
            );
        }
        if r.unread.is_empty() {
            self.paragraph("Everything asked for was read.", BODY, Weight::Regular, INK);
            return;
        }
        self.paragraph(
            "These items have no value in this report. Each line says why, and what to try.",
            BODY,
            Weight::Regular,
            INK,
        );
        self.y += 2.0;
        self.table(&cols, &rows);
    }
}
