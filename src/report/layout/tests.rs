//! Layout checks on the pages before they become PDF bytes: every run on the paper,
//! no text below the minimum size, the box first, long texts wrapped.

use super::*;
use crate::card::pdf::{Document, Paper};
use crate::codes::{CodeOverride, Lookup, Mode, OperatingStatus, Overrides, ShortCode};
use crate::meter::cosem::ItemError;
use crate::meter::read::{Item, ItemFailure, ReadReport, ReadValue, Reading};
use crate::meter::MeterError;
use crate::meter::SessionConfig;
use crate::profile::Reads;
use crate::protocol::apdu::DataAccessResult;
use crate::protocol::axdr::Data;
use crate::protocol::hdlc::HdlcAddress;
use crate::report::content::{ReadSettings, VisitInput};

fn ok(what: Item, value: ReadValue) -> Result<Reading, ItemFailure> {
    Ok(Reading {
        what,
        attr: "1:0.0.96.5.0.255:2".parse().unwrap(),
        value,
        raw: Data::NullData,
    })
}

fn failed(what: Item, error: ItemError) -> Result<Reading, ItemFailure> {
    Err(ItemFailure {
        what,
        attr: Some("1:0.0.96.128.58.255:2".parse().unwrap()),
        error,
    })
}

fn short(c: u8) -> Item {
    Item::Reads(Reads::Short(ShortCode(c)))
}

/// A read with an unknown status, a different relay reason, counters, many failures
/// and a read cut short: every part of the report has something to say.
fn worst_case() -> Vec<ReadReport> {
    let mut items = vec![
        ok(
            Item::Reads(Reads::Status),
            ReadValue::Status(OperatingStatus(1019)),
        ),
        ok(short(87), ReadValue::RelayReason(3)),
        ok(short(40), ReadValue::Count(7)),
        ok(short(46), ReadValue::Count(0)),
        ok(
            Item::Reads(Reads::Serial),
            ReadValue::Text(
                "4700123456789012345678901234567890123456789012345678901234567890".into(),
            ),
        ),
    ];
    for c in 41..=45 {
        items.push(failed(
            short(c),
            ItemError::NotRead("the HDLC link failed after 3 retries".into()),
        ));
    }
    for c in [1, 14, 31, 35, 52, 58] {
        items.push(failed(
            short(c),
            ItemError::Refused(DataAccessResult::ObjectUndefined),
        ));
    }
    items.push(failed(
        Item::Reads(Reads::Firmware),
        ItemError::BadValue {
            expected: "a string",
            found: "Structure([Unsigned(1), Unsigned(2), Unsigned(3), Unsigned(4), Unsigned(5), Unsigned(6), Unsigned(7)])".into(),
        },
    ));
    vec![ReadReport {
        items,
        aborted: Some(MeterError::NoAnswer {
            link: "serial /dev/ttyUSB0 9600 8N1".into(),
            address: "physical address 17 (logical device 1)".into(),
        }),
    }]
}

fn report(lookup: &Lookup, reports: &[ReadReport]) -> VisitReport {
    let config = SessionConfig::new(1, HdlcAddress::server(1, Some(17)).unwrap());
    let settings = ReadSettings::new("serial /dev/ttyUSB0 9600 8N1", &config);
    VisitReport::build(&VisitInput {
        reports,
        settings: &settings,
        read_at: "2026-11-27 14:05 +03:00",
        lookup,
        mode: Mode::Postpaid,
        site: Some("Kibera North substation, feeder 7, transformer KN-7/3 behind the market, gate code at the guard house"),
        event_log: None,
    })
}

/// Every run is at least MIN_SIZE and lies inside the margins; returns the page count.
fn assert_on_paper(paper: Paper, r: &VisitReport) -> Vec<Page> {
    let doc = Document::new(paper).unwrap();
    let pages = lay_out(&doc, r);
    for (i, p) in pages.iter().enumerate() {
        for run in p.text_runs() {
            assert!(
                run.size >= MIN_SIZE,
                "page {i}: {:?} at {}",
                run.text,
                run.size
            );
            let w = doc.width(run.text, run.size, run.weight);
            assert!(run.x >= MARGIN - 0.01, "{:?} starts at {}", run.text, run.x);
            assert!(
                run.x + w <= paper.width - MARGIN + 0.01,
                "page {i}: {:?} ends at {} of {}",
                run.text,
                run.x + w,
                paper.width
            );
            assert!(run.baseline - run.size >= MARGIN - 0.01, "{:?}", run.text);
            assert!(
                run.baseline <= paper.height - MARGIN + 0.01,
                "{:?}",
                run.text
            );
        }
    }
    pages
}

#[test]
fn long_texts_stay_on_the_paper_and_the_box_comes_first() {
    let mut overrides = Overrides::default();
    overrides
        .insert(
            "1003",
            CodeOverride {
                action: Some("Do not reconnect remotely again: send a crew with the overload kit, photograph the display and the seals, and call the control room before and after the visit; the customer's contract number is on the job card, and the supervisor signs off the visit in the field book.".into()),
                severity: None,
            },
        )
        .unwrap();
    let lookup = Lookup::with_overrides(overrides);
    let reports = worst_case();
    let r = report(&lookup, &reports);
    for paper in [Paper::A4, Paper::LETTER] {
        let pages = assert_on_paper(paper, &r);
        assert!(pages.len() >= 2, "{} pages", pages.len());
        let first: Vec<&str> = pages[0].text_runs().map(|t| t.text).collect();
        let at = |s: &str| first.iter().position(|t| t.starts_with(s));
        let todo = at("WHAT TO DO NOW").expect("the box is on page 1");
        assert!(todo < at("Meter and how it was read").unwrap_or(usize::MAX));
        // A running header on the later pages.
        for p in &pages[1..] {
            let t = p.text_runs().next().unwrap().text;
            assert!(t.contains("(continued)"), "{t}");
        }
    }
    // The unknown status, the relay reason that differs, the cover count and the cut
    // read are all actions; the unknown status names itself.
    let findings: Vec<&str> = r.todo.actions.iter().map(|a| a.finding.as_str()).collect();
    assert!(
        findings
            .iter()
            .any(|f| f.starts_with("Cover open count (40) is 7")),
        "{findings:?}"
    );
    assert!(findings
        .iter()
        .any(|f| f.starts_with("Operating status 1019: Unknown status 1019")));
    assert!(findings
        .iter()
        .any(|f| f.starts_with("Relay disconnect reason 87:03")));
    assert!(findings
        .iter()
        .any(|f| f.starts_with("The read was cut short")));
    assert!(
        !findings.iter().any(|f| f.contains("(46)")),
        "a zero count is no finding"
    );
    assert_eq!(r.todo.actions[0].finding.split(' ').next(), Some("Cover"));
    assert!(r.relay.is_empty());
    assert_eq!(r.unread.len(), 5 + 6 + 1);
    assert!(r.todo.note.as_deref().unwrap().contains("12 item(s)"));
    assert_eq!(r.settings[2].value, "9600 8N1");
    assert_eq!(r.settings[5].value, "1 (management client)");
}

#[test]
fn a_healthy_meter_needs_nothing_and_says_so() {
    let reports = vec![ReadReport {
        items: vec![
            ok(
                Item::Reads(Reads::Status),
                ReadValue::Status(OperatingStatus(1000)),
            ),
            ok(short(87), ReadValue::RelayReason(0)),
            ok(short(40), ReadValue::Count(0)),
            ok(Item::Reads(Reads::Relay), ReadValue::Relay(true)),
        ],
        aborted: None,
    }];
    let r = report(&Lookup::builtin(), &reports);
    assert!(r.todo.actions.is_empty());
    assert!(r.todo.headline.starts_with("Nothing abnormal"));
    assert_eq!(r.todo.note, None);
    assert!(r.unread.is_empty());
    let pages = assert_on_paper(Paper::A4, &r);
    assert_eq!(pages.len(), 1);
    let text: Vec<&str> = pages[0].text_runs().map(|t| t.text).collect();
    assert!(text.contains(&"Everything asked for was read."));
    assert!(text.contains(&"No events to show"));
}

#[test]
fn a_read_without_a_status_says_the_box_may_be_incomplete() {
    let reports = vec![ReadReport {
        items: vec![failed(
            Item::Reads(Reads::Status),
            ItemError::Refused(DataAccessResult::ReadWriteDenied),
        )],
        aborted: None,
    }];
    let r = report(&Lookup::builtin(), &reports);
    assert!(
        r.todo.headline.contains("in what was read"),
        "{}",
        r.todo.headline
    );
    let note = r.todo.note.unwrap();
    assert!(note.contains("operating status was not read"), "{note}");
    assert!(r.unread[0].meaning.contains("--client 1"));
    assert!(r.status.is_empty());
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    let reports = worst_case();
    let r = report(&Lookup::builtin(), &reports);
    let a = render_pdf(&r, Paper::A4).unwrap();
    assert!(a.starts_with(b"%PDF-"));
    assert_eq!(a, render_pdf(&r, Paper::A4).unwrap());
    assert_ne!(a, render_pdf(&r, Paper::LETTER).unwrap());
}
