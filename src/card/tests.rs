//! Layout checks on the pages before they become PDF bytes.

use super::layout::{lay_out, MARGIN, MAX_PAGES, MIN_SIZE};
use super::pdf::{Document, Paper, Weight};
use super::*;
use crate::codes::{CodeOverride, Lookup, Mode, Overrides, OPERATING_STATUS, SHORT_CODES};

fn content(lookup: &Lookup) -> CardContent {
    CardContent::build(lookup, Some("Test site"), Mode::Postpaid, "2026-11-27")
}

/// Every run is at least MIN_SIZE and lies inside the margins.
fn assert_on_paper(paper: Paper, content: &CardContent) -> (usize, f32) {
    let doc = Document::new(paper).unwrap();
    let (pages, body) = lay_out(&doc, content);
    for (i, p) in pages.iter().enumerate() {
        for r in p.text_runs() {
            assert!(
                r.size >= MIN_SIZE,
                "page {i}: {:?} at {} pt",
                r.text,
                r.size
            );
            let w = doc.width(r.text, r.size, r.weight);
            assert!(r.x >= MARGIN - 0.01, "{:?} starts at {}", r.text, r.x);
            assert!(
                r.x + w <= paper.width - MARGIN + 0.01,
                "page {i}: {:?} ends at {} of {}",
                r.text,
                r.x + w,
                paper.width
            );
            assert!(r.baseline - r.size >= MARGIN - 0.01, "{:?}", r.text);
            assert!(r.baseline <= paper.height - MARGIN + 0.01, "{:?}", r.text);
        }
    }
    (pages.len(), body)
}

#[test]
fn the_plain_card_fits_two_pages_at_ten_point_on_both_papers() {
    for paper in [Paper::A4, Paper::LETTER] {
        let (pages, body) = assert_on_paper(paper, &content(&Lookup::builtin()));
        assert!((1..=MAX_PAGES).contains(&pages), "{} pages", pages);
        assert_eq!(body, 10.0, "{}", paper.name);
    }
}

#[test]
fn every_code_is_drawn() {
    let doc = Document::new(Paper::A4).unwrap();
    let (pages, _) = lay_out(&doc, &content(&Lookup::builtin()));
    let drawn: Vec<&str> = pages
        .iter()
        .flat_map(|p| p.text_runs())
        .map(|r| r.text)
        .collect();
    for e in OPERATING_STATUS {
        let s = e.status().to_string();
        assert!(drawn.contains(&s.as_str()), "{s}");
    }
    let covers = |d: &str, code: u8| match d.split_once('–') {
        Some((a, b)) => match (a.parse::<u8>(), b.parse::<u8>()) {
            (Ok(a), Ok(b)) => (a..=b).contains(&code),
            _ => false,
        },
        None => d.len() == 2 && d.parse::<u8>() == Ok(code),
    };
    for e in SHORT_CODES {
        assert!(drawn.iter().any(|d| covers(d, e.code)), "{:02}", e.code);
    }
}

#[test]
fn long_site_procedures_wrap_inside_the_margins_and_shrink_the_text_at_most_to_eight_point() {
    let long = "Call the control room before touching the meter; photograph the seals, \
                the display and the terminal cover; record the raw value and the time; \
                then follow the job card step by step and ask for a second technician.";
    let mut o = Overrides::default();
    for e in OPERATING_STATUS {
        o.insert(
            &e.status().to_string(),
            CodeOverride {
                action: Some(long.to_owned()),
                severity: None,
            },
        )
        .unwrap();
    }
    let c = content(&Lookup::with_overrides(o));
    for paper in [Paper::A4, Paper::LETTER] {
        let (pages, body) = assert_on_paper(paper, &c);
        assert!(body < 10.0, "so much text must shrink the body");
        assert!(body >= MIN_SIZE);
        assert!(pages >= 2, "{pages}");
    }
    // Nothing of the site's text is lost to the wrapping.
    let doc = Document::new(Paper::A4).unwrap();
    let (pages, _) = lay_out(&doc, &c);
    let words: String = pages
        .iter()
        .flat_map(|p| p.text_runs())
        .map(|r| r.text)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(words.matches("second").count() >= OPERATING_STATUS.len());
}

#[test]
fn headings_are_bold() {
    let doc = Document::new(Paper::A4).unwrap();
    let (pages, _) = lay_out(&doc, &content(&Lookup::builtin()));
    let title = pages[0].text_runs().next().unwrap();
    assert!(title.text.starts_with("CalinMeter"));
    assert_eq!(title.weight, Weight::Bold);
    assert!(title.size > 12.0);
}

#[test]
fn a_long_site_name_wraps_in_the_header_and_is_shortened_in_the_footer() {
    let name = "Nairobi Eastlands Distribution Area, Kibera North Substation, Feeder 7 \
                (Olympic Estate, Karanja Road and the Laini Saba market stalls)";
    let c = CardContent::build(&Lookup::builtin(), Some(name), Mode::Postpaid, "2026-11-27");
    for paper in [Paper::A4, Paper::LETTER] {
        assert_on_paper(paper, &c);
    }
    let doc = Document::new(Paper::A4).unwrap();
    let (pages, _) = lay_out(&doc, &c);
    let runs: Vec<&str> = pages[0].text_runs().map(|r| r.text).collect();
    assert!(runs.iter().any(|r| r.starts_with("Site: Nairobi")));
    assert!(
        runs.iter().any(|r| r.contains("stalls)")),
        "the header keeps it whole"
    );
    assert!(runs
        .iter()
        .any(|r| r.contains("…") && r.contains("printed 2026-11-27")));
}
