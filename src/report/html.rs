//! The report as one self-contained HTML page (inline style, an inline SVG chart, no
//! scripts, no external files), in the same order as the PDF.

use super::actions::{Action, WhatToDo};
use super::content::{CodedValue, Field, VisitReport};
use super::layout::{mark_color, mark_points};
use super::timeline::Timeline;
use crate::agent::reading::Counter;
use crate::card::html::esc;
use crate::card::style;
use crate::codes::{Severity, SiteVisit};
use std::fmt::Write;

const CSS: &str = "
body{font-family:'DejaVu Sans Condensed','DejaVu Sans',Arial,sans-serif;font-size:11pt;color:#111;margin:1.5em;max-width:60em}
h1{font-size:18pt;margin:0}h2{font-size:13pt;margin:1.3em 0 .3em;border-bottom:1px solid #111}
h3{font-size:11pt;margin:.3em 0}
.mode{float:right;background:#111;color:#fff;font-weight:bold;padding:.1em .4em}
.meter{font-size:13pt;font-weight:bold;margin:.3em 0 0}.site{font-weight:bold;margin:.1em 0}
.todo{border:2px solid;margin:1em 0}
.todo .band{color:#fff;font-weight:bold;font-size:12pt;padding:.3em .5em}
.todo ol{margin:.3em 0;padding-left:2.2em}.todo li{margin:.4em 0}
.todo .finding{font-weight:bold}.todo .visit,.faded{color:#5f5f5f;font-size:9.5pt}
.todo .note{padding:.2em .5em .4em}
.cols{display:flex;gap:1.5em;flex-wrap:wrap}.cols>div{flex:1;min-width:18em}
table{border-collapse:collapse;width:100%}
th{background:#d6d6d6;text-align:left;padding:.2em .4em;font-size:10pt}
td{padding:.2em .4em;vertical-align:top}
tr:nth-child(even) td{background:#f2f2f2}
td.code,td.value{font-weight:bold;white-space:nowrap}
.coded{border-left:4px solid;padding:.2em .6em;margin:.5em 0}
.coded .head{font-weight:bold;font-size:12pt}
.sev{font-weight:bold;font-size:9pt;padding:0 .25em;margin:0 .4em}
.sev.critical{background:#111;color:#fff}.sev.high{border:1px solid #111}
svg text{font-family:inherit;font-size:9pt}
footer{margin-top:1.5em;border-top:1px solid #9e9e9e;font-size:9pt;padding-top:.3em}
@media print{body{margin:0}.band,.mode,.sev.critical{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
";

/// The report as an HTML document.
pub fn render_html(r: &VisitReport) -> String {
    let mut h = String::new();
    let site = r.site.as_deref().unwrap_or("not configured");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}: meter {}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&r.title),
        esc(&r.meter)
    );
    let _ = writeln!(
        h,
        "<header>\n<span class=\"mode\">{} MODE</span>\n<h1>{}</h1>\n<p class=\"meter\">Meter {}</p>\n<p class=\"site\">Site: {}</p>\n<p>Read {} · {} mode</p>\n</header>",
        esc(&r.mode.to_string().to_uppercase()),
        esc(&r.title),
        esc(&r.meter),
        esc(site),
        esc(&r.read_at),
        r.mode
    );
    todo(&mut h, &r.todo);
    h.push_str("<h2>Meter and how it was read</h2>\n<div class=\"cols\">\n");
    fields(&mut h, "Meter", &r.identity);
    fields(&mut h, "How it was read", &r.settings);
    h.push_str("</div>\n<h2>Operating status and relay</h2>\n");
    if r.status.is_empty() {
        h.push_str("<p>The operating status and the relay disconnect reason were not read: see “What could not be read”.</p>\n");
    }
    for c in &r.status {
        coded(&mut h, c);
    }
    for f in &r.relay {
        let _ = writeln!(h, "<p><b>{}: {}</b></p>", esc(&f.label), esc(&f.value));
    }
    values(&mut h, r);
    counters(&mut h, r);
    h.push_str("<h2>Event timeline</h2>\n");
    chart(&mut h, &r.timeline);
    unread(&mut h, r);
    let _ = writeln!(
        h,
        "<footer>Meter {} · {} · read {} · {}</footer>\n</body>\n</html>",
        esc(&r.meter),
        esc(site),
        esc(&r.read_at),
        esc(&r.generator)
    );
    h
}

fn verdict_color(v: SiteVisit) -> u32 {
    match v {
        SiteVisit::Yes => 0xB71C1C,
        SiteVisit::IfUnresolved => 0xBF5B00,
        SiteVisit::No => 0x2E7D32,
    }
}

fn sev_mark(sev: Severity) -> String {
    format!(
        "<span class=\"sev {}\">{}</span>",
        sev.as_str(),
        style::severity_mark(sev)
    )
}

fn todo(h: &mut String, t: &WhatToDo) {
    let color = verdict_color(t.visit);
    let _ = writeln!(
        h,
        "<section class=\"todo\" style=\"border-color:#{color:06x}\">\n<div class=\"band\" style=\"background:#{color:06x}\">WHAT TO DO NOW: {}</div>",
        esc(&t.headline)
    );
    if !t.actions.is_empty() {
        h.push_str("<ol>\n");
        for a in &t.actions {
            action(h, a);
        }
        h.push_str("</ol>\n");
    }
    if let Some(n) = &t.note {
        let _ = writeln!(h, "<p class=\"note faded\">{}</p>", esc(n));
    }
    h.push_str("</section>\n");
}

fn action(h: &mut String, a: &Action) {
    let st = style::category(a.category);
    let _ = writeln!(
        h,
        "<li>{}<b style=\"color:#{:06x}\">{}</b> <span class=\"finding\">{}</span><br>{}<br><span class=\"visit\">Site visit: {} · {}</span></li>",
        sev_mark(a.severity),
        st.color,
        st.symbol,
        esc(&a.finding),
        esc(&a.action),
        a.site_visit,
        a.category
    );
}

fn fields(h: &mut String, title: &str, fields: &[Field]) {
    let _ = writeln!(h, "<div>\n<h3>{}</h3>\n<table>", esc(title));
    for f in fields {
        let _ = writeln!(
            h,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(&f.label),
            esc(&f.value)
        );
    }
    h.push_str("</table>\n</div>\n");
}

fn coded(h: &mut String, c: &CodedValue) {
    if c.repeats_status {
        let _ = writeln!(
            h,
            "<p><b>{}: {}, the same condition as the operating status above.</b></p>",
            esc(&c.label),
            esc(&c.value)
        );
        return;
    }
    let i = &c.info;
    let st = style::category(i.category);
    let mut tail = format!("Site visit: {}", i.site_visit);
    if !i.relevant {
        tail.push_str(&format!(" · not applicable in {} mode", i.mode));
    }
    if i.overridden {
        tail.push_str(" · site procedure");
    }
    let _ = writeln!(
        h,
        "<div class=\"coded\" style=\"border-color:#{:06x}\"><div class=\"head\">{}: {}{}<span style=\"color:#{:06x}\">{} {}</span></div><b>{}</b><br>{}<br>Action: {}<br><span class=\"faded\">{}</span></div>",
        st.color,
        esc(&c.label),
        esc(&c.value),
        sev_mark(i.severity),
        st.color,
        st.symbol,
        i.category,
        esc(&i.meaning),
        esc(&i.detail),
        esc(&i.action),
        esc(&tail)
    );
}

fn values(h: &mut String, r: &VisitReport) {
    h.push_str("<h2>Short-code values</h2>\n");
    if r.values.is_empty() {
        h.push_str("<p>No short code was asked for.</p>\n");
        return;
    }
    h.push_str("<table>\n<tr><th>Code</th><th>Name</th><th>Value</th><th>Unit</th></tr>\n");
    for v in &r.values {
        let class = if v.read { "value" } else { "faded" };
        let _ = writeln!(
            h,
            "<tr><td class=\"code\">{}</td><td>{}</td><td class=\"{class}\">{}</td><td>{}</td></tr>",
            esc(&v.code),
            esc(&v.name),
            esc(&v.value),
            esc(&v.unit)
        );
    }
    h.push_str("</table>\n");
}

fn counters(h: &mut String, r: &VisitReport) {
    h.push_str("<h2>Counters and their last events</h2>\n");
    if r.counters.is_empty() {
        h.push_str("<p>No counter was asked for.</p>\n");
        return;
    }
    h.push_str("<table>\n<tr><th>Code</th><th>Counter</th><th>Count</th><th>Last event times, most recent first</th></tr>\n");
    for c in &r.counters {
        let times = if c.last.is_empty() {
            format!(
                "<span class=\"faded\">{}</span>",
                esc(c.times_note.as_deref().unwrap_or(""))
            )
        } else {
            esc(&c.last.join(", "))
        };
        let _ = writeln!(
            h,
            "<tr><td class=\"code\">{}</td><td>{}</td><td class=\"value\">{}</td><td>{times}</td></tr>",
            esc(&c.code),
            esc(&c.name),
            esc(&c.count)
        );
    }
    h.push_str("</table>\n");
}

/// SVG points of a kind's mark (the same shapes as the PDF).
fn shape(kind: Counter, x: f32, y: f32) -> String {
    mark_points(kind, x, y, 5.0)
        .iter()
        .map(|(px, py)| format!("{px:.1},{py:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn chart(h: &mut String, t: &Timeline) {
    let (label_w, lane, width, axis) = (130.0f32, 28.0f32, 760.0f32, 24.0f32);
    let plot = width - label_w - 12.0;
    let height = t.lanes.len() as f32 * lane + axis;
    let axis_y = t.lanes.len() as f32 * lane;
    let _ = writeln!(
        h,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"100%\" role=\"img\" aria-label=\"Event timeline\">"
    );
    let xs = |at: f32| label_w + at.clamp(0.0, 1.0) * plot;
    for tick in &t.ticks {
        let x = xs(tick.at);
        let _ = writeln!(
            h,
            "<line x1=\"{x:.1}\" y1=\"0\" x2=\"{x:.1}\" y2=\"{axis_y}\" stroke=\"#ddd\"/><line x1=\"{x:.1}\" y1=\"{axis_y}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#111\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            axis_y + 4.0,
            axis_y + 17.0,
            esc(&tick.label)
        );
    }
    for (i, l) in t.lanes.iter().enumerate() {
        let cy = (i as f32 + 0.5) * lane;
        let c = mark_color(l.kind);
        let _ = writeln!(
            h,
            "<polygon points=\"{}\" fill=\"#{c:06x}\"/><text x=\"16\" y=\"{:.1}\" font-weight=\"bold\">{}</text><line x1=\"{label_w}\" y1=\"{cy:.1}\" x2=\"{:.1}\" y2=\"{cy:.1}\" stroke=\"#9e9e9e\"/>",
            shape(l.kind, 6.0, cy),
            cy + 4.0,
            esc(&l.label),
            label_w + plot
        );
        for m in &l.marks {
            let _ = writeln!(
                h,
                "<polygon points=\"{}\" fill=\"#{c:06x}\"><title>{}</title></polygon>",
                shape(l.kind, xs(m.at), cy),
                esc(&m.when)
            );
        }
    }
    let _ = writeln!(
        h,
        "<line x1=\"{label_w}\" y1=\"{axis_y}\" x2=\"{:.1}\" y2=\"{axis_y}\" stroke=\"#111\"/><line x1=\"{label_w}\" y1=\"0\" x2=\"{label_w}\" y2=\"{axis_y}\" stroke=\"#111\"/>\n</svg>",
        label_w + plot
    );
    let mut text = String::new();
    if !t.from.is_empty() {
        text.push_str(&format!("From {} to {} (meter clock). ", t.from, t.to));
    }
    text.push_str(&t.source);
    if let Some(n) = &t.note {
        text.push(' ');
        text.push_str(n);
    }
    let _ = writeln!(h, "<p class=\"faded\">{}</p>", esc(&text));
}

fn unread(h: &mut String, r: &VisitReport) {
    h.push_str("<h2>What could not be read</h2>\n");
    if let Some(e) = &r.aborted {
        let _ = writeln!(
            h,
            "<p><b>The read ended early: {}. Items after the break were not read.</b></p>",
            esc(e)
        );
    }
    if r.unread.is_empty() {
        h.push_str("<p>Everything asked for was read.</p>\n");
        return;
    }
    h.push_str("<p>These items have no value in this report. Each line says why, and what to try.</p>\n<table>\n<tr><th>Item</th><th>Object</th><th>Error</th><th>What it means, what to try</th></tr>\n");
    for u in &r.unread {
        let _ = writeln!(
            h,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&u.what),
            esc(&u.object),
            esc(&u.error),
            esc(&u.meaning)
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::{Lookup, Mode};
    use crate::meter::SessionConfig;
    use crate::protocol::hdlc::HdlcAddress;
    use crate::report::content::{ReadSettings, VisitInput};

    #[test]
    fn site_text_is_escaped_and_an_empty_read_still_has_every_section() {
        let settings = ReadSettings::new(
            "tcp 127.0.0.1:4059",
            &SessionConfig::new(16, HdlcAddress::server(1, None).unwrap()),
        );
        let r = VisitReport::build(&VisitInput {
            reports: &[],
            settings: &settings,
            read_at: "now",
            lookup: &Lookup::builtin(),
            mode: Mode::Prepaid,
            site: Some("<script>alert('x')</script> & co"),
            event_log: None,
        });
        let h = render_html(&r);
        assert!(!h.contains("<script>"));
        assert!(h.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
        let at = |s: &str| h.find(s).unwrap_or_else(|| panic!("{s} missing"));
        assert!(at("WHAT TO DO NOW") < at("<h2>Meter and how it was read"));
        for s in [
            "<h2>Operating status and relay",
            "<h2>Short-code values",
            "<h2>Counters and their last events",
            "<h2>Event timeline",
            "<h2>What could not be read",
            "PREPAID MODE",
            "none (network link)",
        ] {
            at(s);
        }
        // Three lanes, each with its legend mark and no event marks.
        assert_eq!(h.matches("<polygon").count(), 3);
        assert_eq!(
            esc("<b>\"A&B\"</b>"),
            "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;"
        );
    }
}
