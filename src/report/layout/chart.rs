//! The event timeline drawn with path operations: one lane per event kind with a mark
//! per event, over a time axis with date ticks. Each kind has its own mark shape as
//! well as its colour, so a black-and-white copy keeps them apart.

use super::{Flow, FADED, INK, LIGHT, RULE, SMALL};
use crate::agent::reading::Counter;
use crate::card::pdf::{Rgb, Weight};

/// Height of one lane.
const LANE: f32 = 24.0;
/// Width of the lane labels left of the chart.
const LABEL_W: f32 = 104.0;
/// Half the size of a mark.
const MARK: f32 = 4.5;
/// Room under the axis for the tick labels.
const AXIS: f32 = 20.0;

/// The colour of a kind's marks, `0xRRGGBB` (the PDF and the HTML chart alike).
pub fn mark_color(kind: Counter) -> u32 {
    match kind {
        Counter::CoverOpen => 0xB71C1C,
        Counter::OverloadTrip => 0xBF5B00,
        Counter::PowerDown => 0x0D47A1,
        Counter::PhaseDown => 0x455A64,
    }
}

/// The outline of a mark centred at (`x`, `y`): triangle (cover open), diamond
/// (overload trip), square (power down), octagon (phase down).
pub fn mark_points(kind: Counter, x: f32, y: f32, r: f32) -> Vec<(f32, f32)> {
    match kind {
        Counter::CoverOpen => vec![(x, y - r), (x + r, y + r * 0.8), (x - r, y + r * 0.8)],
        Counter::OverloadTrip => vec![(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
        Counter::PowerDown => {
            let s = r * 0.8;
            vec![
                (x - s, y - s),
                (x + s, y - s),
                (x + s, y + s),
                (x - s, y + s),
            ]
        }
        Counter::PhaseDown => (0..8)
            .map(|i| {
                let a = std::f32::consts::PI / 8.0 + i as f32 * std::f32::consts::PI / 4.0;
                (x + r * a.cos(), y + r * a.sin())
            })
            .collect(),
    }
}

impl Flow<'_> {
    pub(super) fn chart_height(&self) -> f32 {
        self.r.timeline.lanes.len() as f32 * LANE + AXIS + 6.0
    }

    pub(super) fn chart(&mut self) {
        let t = &self.r.timeline;
        let h = self.chart_height();
        self.ensure(h);
        let top = self.y + 2.0;
        let x0 = self.left + LABEL_W;
        let w = self.width - LABEL_W - MARK * 2.0;
        let axis_y = top + t.lanes.len() as f32 * LANE;
        let xs = |at: f32| x0 + at.clamp(0.0, 1.0) * w;
        // Grid lines first, so the marks paint over them.
        for tick in &t.ticks {
            let x = xs(tick.at);
            self.page.line((x, top), (x, axis_y), 0.4, LIGHT);
        }
        for (i, lane) in t.lanes.iter().enumerate() {
            let cy = top + (i as f32 + 0.5) * LANE;
            let color = Rgb::hex(mark_color(lane.kind));
            // The lane's own mark before its name doubles as the legend.
            self.page
                .polygon(&mark_points(lane.kind, self.left + MARK, cy, MARK), color);
            let label = self.fit(
                &lane.label,
                SMALL + 0.5,
                Weight::Bold,
                LABEL_W - MARK * 2.0 - 8.0,
            );
            self.page.text(
                self.left + MARK * 2.0 + 4.0,
                cy + 3.0,
                SMALL + 0.5,
                Weight::Bold,
                INK,
                &label,
            );
            self.page.line((x0, cy), (x0 + w, cy), 0.6, RULE);
            for m in &lane.marks {
                self.page
                    .polygon(&mark_points(lane.kind, xs(m.at), cy, MARK), color);
            }
        }
        self.page.line((x0, axis_y), (x0 + w, axis_y), 0.9, INK);
        self.page.line((x0, top), (x0, axis_y), 0.9, INK);
        for tick in &t.ticks {
            let x = xs(tick.at);
            self.page.line((x, axis_y), (x, axis_y + 3.0), 0.8, INK);
            let lw = self.doc.width(&tick.label, SMALL, Weight::Regular);
            // Centred under the tick, but never past the printed area.
            let lx = (x - lw / 2.0).clamp(self.left, self.right() - lw);
            self.page.text(
                lx,
                axis_y + 3.0 + SMALL + 2.0,
                SMALL,
                Weight::Regular,
                INK,
                &tick.label,
            );
        }
        if t.mark_count() == 0 {
            let text = "No events to show";
            let tw = self.doc.width(text, SMALL, Weight::Bold);
            let cy = top + LANE * 0.5 * t.lanes.len() as f32;
            self.page.fill(
                x0 + (w - tw) / 2.0 - 4.0,
                cy - SMALL,
                tw + 8.0,
                SMALL * 1.8,
                Rgb::WHITE,
            );
            self.page.text(
                x0 + (w - tw) / 2.0,
                cy + 3.0,
                SMALL,
                Weight::Bold,
                FADED,
                text,
            );
        }
        self.y += h;
    }
}
