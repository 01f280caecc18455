//! The card as one self-contained HTML page (inline style, no scripts, no external
//! files): for screens, intranets, and browsers that print it themselves.

use super::content::{CardContent, Row, Section};
use super::style::{self, SITE_MARK};
use crate::codes::{Category, Severity};
use std::fmt::Write;

const CSS: &str = "
body{font-family:'DejaVu Sans Condensed','DejaVu Sans',Arial,sans-serif;font-size:11pt;color:#111;margin:1.5em}
h1{font-size:16pt;margin:0}h2{font-size:12pt;margin:1.2em 0 .1em}
.mode{float:right;background:#000;color:#fff;font-weight:bold;padding:.1em .4em}
.site{font-weight:bold;font-size:12pt;margin:.3em 0}
.legend span{margin-right:1em;white-space:nowrap}
.sub{font-size:10pt;margin:0 0 .3em}
table{border-collapse:collapse;width:100%}
th{background:#d6d6d6;text-align:left;padding:.2em .4em}
td{padding:.2em .4em;vertical-align:top}
tr.group td{color:#fff;font-weight:bold}
tr.row:nth-child(even){background:#efefef}
tr.na td{color:#5f5f5f}
td.code{font-weight:bold;white-space:nowrap}
.sev{font-weight:bold;font-size:9pt;padding:0 .25em}
.sev.critical{background:#111;color:#fff}.sev.high{border:1px solid #111}
.site-mark{background:#111;color:#fff;font-weight:bold;font-size:9pt;padding:0 .25em;margin-right:.4em}
.note{background:#f4f4f4;border-left:4px solid #424242;padding:.3em .5em;margin:.4em 0}
footer{margin-top:1.5em;border-top:1px solid #9e9e9e;font-size:9pt;padding-top:.3em}
@media print{body{margin:0}tr.group td,.mode,.sev.critical,.site-mark{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
";

/// The card as an HTML document.
pub fn render_html(c: &CardContent) -> String {
    let mut h = String::new();
    let site = c.site_name.as_deref().unwrap_or("not configured");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&c.title)
    );
    let _ = writeln!(
        h,
        "<header>\n<span class=\"mode\">{} MODE</span>\n<h1>{}</h1>\n<p class=\"site\">Site: {}</p>",
        esc(&c.mode.to_string().to_uppercase()),
        esc(&c.title),
        esc(site)
    );
    legend(&mut h, c);
    h.push_str("</header>\n");
    if let Some((first, rest)) = c.sections.split_first() {
        section(&mut h, first);
        notes(&mut h, c);
        for s in rest {
            section(&mut h, s);
        }
    }
    let _ = writeln!(
        h,
        "<footer>{} · printed {} · {} mode · {}</footer>\n</body>\n</html>",
        esc(site),
        esc(&c.date),
        c.mode,
        esc(&c.generator)
    );
    h
}

fn legend(h: &mut String, c: &CardContent) {
    h.push_str("<p class=\"legend\">");
    for cat in Category::ALL {
        let st = style::category(cat);
        let _ = write!(
            h,
            "<span><b style=\"color:#{:06x}\">{}</b> {}</span>",
            st.color,
            st.symbol,
            esc(cat.as_str())
        );
    }
    h.push_str("<br><b>Severity:</b> ");
    for sev in style::SEVERITIES {
        let _ = write!(h, "<span>{}</span>", sev_mark(sev));
    }
    if c.rows().any(|r| r.site_procedure) {
        let _ = write!(
            h,
            "<span><span class=\"site-mark\">{SITE_MARK}</span>site procedure</span>"
        );
    }
    h.push_str("</p>\n");
}

fn sev_mark(sev: Severity) -> String {
    format!(
        "<span class=\"sev {}\">{}</span>",
        sev.as_str(),
        style::severity_mark(sev)
    )
}

fn section(h: &mut String, s: &Section) {
    let has_sub = s
        .groups
        .iter()
        .flat_map(|g| &g.rows)
        .any(|r| !r.sub_code.is_empty());
    let has_sev = s
        .groups
        .iter()
        .flat_map(|g| &g.rows)
        .any(|r| r.severity.is_some());
    let cols = 4 + usize::from(has_sub) + usize::from(has_sev);
    let _ = writeln!(
        h,
        "<section>\n<h2>{}</h2>\n<p class=\"sub\">{}</p>\n<table>",
        esc(&s.title),
        esc(&s.subtitle)
    );
    let _ = write!(h, "<tr><th></th><th>{}</th>", esc(&s.code_heading));
    if has_sub {
        h.push_str("<th>87:</th>");
    }
    if has_sev {
        h.push_str("<th>Sev.</th>");
    }
    h.push_str("<th>Meaning</th><th>Field action</th></tr>\n");
    for g in &s.groups {
        let st = style::category(g.category);
        let _ = writeln!(
            h,
            "<tr class=\"group\" style=\"background:#{:06x}\"><td colspan=\"{cols}\">{} {}</td></tr>",
            st.color, st.symbol, st.heading
        );
        for r in &g.rows {
            row(h, r, has_sub, has_sev);
        }
    }
    h.push_str("</table>\n</section>\n");
}

fn row(h: &mut String, r: &Row, has_sub: bool, has_sev: bool) {
    let st = style::category(r.category);
    let class = if r.applies { "row" } else { "row na" };
    let _ = write!(
        h,
        "<tr class=\"{class}\" style=\"border-left:4px solid #{:06x}\"><td style=\"color:#{:06x}\">{}</td><td class=\"code\">{}</td>",
        st.color,
        st.color,
        st.symbol,
        esc(&r.label)
    );
    if has_sub {
        let _ = write!(h, "<td>{}</td>", esc(&r.sub_code));
    }
    if has_sev {
        let mark = match (r.applies, r.severity) {
            (false, _) => "<b>n/a</b>".to_owned(),
            (true, Some(s)) => sev_mark(s),
            (true, None) => String::new(),
        };
        let _ = write!(h, "<td>{mark}</td>");
    }
    let site = if r.site_procedure {
        format!("<span class=\"site-mark\">{SITE_MARK}</span>")
    } else {
        String::new()
    };
    let _ = writeln!(
        h,
        "<td>{}</td><td>{site}{}</td></tr>",
        esc(&r.meaning),
        esc(&r.action)
    );
}

fn notes(h: &mut String, c: &CardContent) {
    for n in &c.notes {
        let (symbol, color) = match n.category {
            Some(cat) => {
                let st = style::category(cat);
                (st.symbol, st.color)
            }
            None => ('⚑', 0x111111),
        };
        let _ = writeln!(
            h,
            "<p class=\"note\" style=\"border-left-color:#{color:06x}\"><b style=\"color:#{color:06x}\">{symbol}</b> <b>{}:</b> {}</p>",
            esc(&n.title),
            esc(&n.text)
        );
    }
}

/// Text for HTML element content and attribute values (also used by the report).
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_site_text_is_escaped() {
        assert_eq!(
            esc("<b>\"A&B\"</b>"),
            "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;"
        );
    }
}
