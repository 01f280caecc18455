//! The site-visit report built from a real read: calin-sim (in-process, a tamper
//! scenario) over loopback TCP, read with `meter::Session` + `read_profile` and the
//! whole event logs, one object the meter lacks read as well; the PDF read back with
//! poppler (pdfinfo, pdftotext, pdftoppm), an independent reader, and the HTML checked.
//!
//! Needs Debian's poppler-utils (`.ci/run` installs it).

mod pdf_support;

use calin_agent::codes::{Lookup, Mode, ShortCode};
use calin_agent::meter::read::{read_profile, ReadReport, Selection};
use calin_agent::meter::{Session, SessionConfig};
use calin_agent::profile::{AttributeRef, Profile};
use calin_agent::protocol::hdlc::HdlcAddress;
use calin_agent::protocol::obis::ObisCode;
use calin_agent::report::{
    read_event_logs, render_html, render_pdf, EventLog, Paper, ReadSettings, VisitInput,
    VisitReport,
};
use calin_agent::sim::{Framing, RelayState, Scenario, SimOptions, Simulator};
use calin_agent::transport::TcpLink;
use pdf_support::{page_count, pdftotext, run, tool, word_boxes};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// An object the simulated meter does not have (a manufacturer-specific Data object).
const MISSING: &str = "1:0.0.96.128.99.255:2";
const FRAUD_LOG: &str = "0.0.99.98.1.255";
const SITE: &str = "Kibera North substation";
const READ_AT: &str = "2024-05-01 08:05 +00:00";

/// The tamper scenario: magnetic interference (1015) tripped the relay, the cover was
/// opened once more (count 2, a second cover-open row in the fraud log).
async fn read_tampered_meter() -> (Vec<ReadReport>, EventLog, ReadSettings) {
    let sim = Simulator::new(Scenario::builtin(), SimOptions::default()).expect("scenario");
    let h = sim.handle();
    h.set_status(0, 1015).unwrap();
    h.set_code(0, ShortCode(87), 15).unwrap();
    h.set_relay(0, RelayState::Disconnected).unwrap();
    h.bump_counter(0, ShortCode(40), 1).unwrap();
    h.add_event(0, FRAUD_LOG.parse::<ObisCode>().unwrap(), 44)
        .unwrap();
    let (addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc)
        .await
        .expect("listen on loopback");
    let link = TcpLink::connect(&addr.to_string(), Duration::from_secs(5))
        .await
        .expect("connect");
    let mut config = SessionConfig::new(16, HdlcAddress::server(1, Some(17)).unwrap());
    config.response_timeout = Duration::from_secs(5);
    let mut session = Session::open(Box::new(link), config)
        .await
        .expect("associate");
    let settings = ReadSettings::from_session(&session);
    let profile = Profile::calin();
    let mut reports = Vec::new();
    for sel in [
        Selection::All,
        Selection::Attributes(vec![MISSING.parse::<AttributeRef>().unwrap()]),
    ] {
        let r = read_profile(&mut session, &profile, &sel, &mut |_| {}).await;
        assert!(r.aborted.is_none(), "{:?}", r.aborted);
        reports.push(r);
    }
    let log = read_event_logs(&mut session, &profile, &mut |_| {})
        .await
        .expect("event logs");
    session.release().await.expect("release");
    (reports, log, settings)
}

fn build(reports: &[ReadReport], log: &EventLog, settings: &ReadSettings) -> VisitReport {
    VisitReport::build(&VisitInput {
        reports,
        settings,
        read_at: READ_AT,
        lookup: &Lookup::builtin(),
        mode: Mode::Postpaid,
        site: Some(SITE),
        event_log: Some(log),
    })
}

// ---- poppler ---------------------------------------------------------------------

fn files_with(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    files
}

fn read_pnm(path: &Path) -> (usize, usize, usize, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap();
    let channels = match &bytes[..2] {
        b"P6" => 3,
        b"P5" => 1,
        other => panic!("{path:?}: not a binary PNM: {other:?}"),
    };
    // Header: magic, width, height, maxval, each followed by white space.
    let mut fields = Vec::new();
    let mut i = 2;
    while fields.len() < 3 {
        while bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        fields.push(
            std::str::from_utf8(&bytes[start..i])
                .unwrap()
                .parse::<usize>()
                .unwrap(),
        );
    }
    let pixels = bytes[i + 1..].to_vec();
    assert_eq!(fields[2], 255);
    assert_eq!(pixels.len(), fields[0] * fields[1] * channels);
    (fields[0], fields[1], channels, pixels)
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The line of `pdftotext -layout` output that starts with the short code `code`.
fn value_row<'a>(layout: &'a str, code: &str) -> &'a str {
    layout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(code))
        .unwrap_or_else(|| panic!("no row for {code} in\n{layout}"))
}

// ---- tests -------------------------------------------------------------------------

#[tokio::test]
async fn a_tampered_meter_gives_a_report_that_says_what_to_do_first() {
    let (reports, log, settings) = read_tampered_meter().await;
    let report = build(&reports, &log, &settings);

    // The content: the tamper first, a visit, the failure explained.
    let first = &report.todo.actions[0];
    assert!(first.finding.contains("1015"), "{first:?}");
    assert!(first.finding.contains("87:15 agrees"), "{first:?}");
    assert_eq!(report.todo.headline, "Site visit needed.");
    assert_eq!(report.meter, "47001234567");
    assert_eq!(report.unread.len(), 1, "{:?}", report.unread);
    let lanes: Vec<(String, usize)> = report
        .timeline
        .lanes
        .iter()
        .map(|l| (l.label.clone(), l.marks.len()))
        .collect();
    assert_eq!(
        lanes,
        [
            ("Cover opens (2)".to_owned(), 2),
            ("Overload trips (2)".to_owned(), 2),
            ("Power downs (5)".to_owned(), 5)
        ]
    );

    let dir = tempfile::tempdir().unwrap();
    for (paper, name, size) in [
        (Paper::A4, "a4", (595.3, 841.9)),
        (Paper::LETTER, "letter", (612.0, 792.0)),
    ] {
        let pdf = dir.path().join(format!("visit-{name}.pdf"));
        std::fs::write(&pdf, render_pdf(&report, paper).expect("render")).unwrap();
        let pages = page_count(&pdf);
        if let Ok(keep) = std::env::var("REPORT_PNG_DIR") {
            // For a person to look at: the pages at 100 dpi.
            let out = Path::new(&keep).join(format!("visit-{name}"));
            run(tool("pdftoppm")
                .args(["-r", "100", "-png"])
                .arg(&pdf)
                .arg(&out));
        }
        assert!((1..=3).contains(&pages), "{name}: {pages} pages");

        let text = flat(&pdftotext(&pdf, &[]));
        for needle in [
            "WHAT TO DO NOW: Site visit needed.",
            "Operating status 1015: Magnetic field interference (tamper)",
            "Investigate possible magnet tampering; clear the tamper.",
            "Site: Kibera North substation",
            "Meter 47001234567",
            "CL710K22-1.04",
            "tcp 127.0.0.1:",
            "physical address 17 (logical device 1)",
            "16 (public client)",
            "Relay (output state): disconnected",
            "Cover open count (40) is 2",
            "Check the tamper log; reseal the meter if necessary.",
            // The failure, its error and what it means.
            "Attribute 1:0.0.96.128.99.255:2",
            "refused by the meter: ObjectUndefined",
            "The meter does not have this object",
            "Cover opens (2)",
            "Overload trips (2)",
            "Power downs (5)",
            "Feb 2024",
            "Apr 2024",
            "From 2024-01-15 03:00 to 2024-05-01 08:0",
        ] {
            assert!(
                text.contains(needle),
                "{name}: missing {needle:?} in {text}"
            );
        }
        // The box comes first: before the identity, the status and the values.
        let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s:?} missing"));
        let todo = at("WHAT TO DO NOW");
        assert!(todo < at("Meter and how it was read"));
        assert!(todo < at("Operating status and relay"));
        assert!(at("Short-code values") < at("These items have no value in this report"));
        // Most severe first: the critical tamper, then the cover count, then the rest.
        assert!(at("Operating status 1015:") < at("Cover open count (40) is 2"));
        assert!(at("Cover open count (40) is 2") < at("Overload trip count (46) is 2"));
        assert!(at("Overload trip count (46) is 2") < at("Power down count (52) is 5"));

        // Every short code's value with its unit, on its own row.
        let layout = pdftotext(&pdf, &["-layout"]);
        for (code, value, unit) in [
            ("01", "1234.567", "kWh"),
            ("14", "6.000", "kW"),
            ("31", "1.820", "kW"),
            ("35", "0.950", ""),
            ("40", "2", "count"),
            ("46", "2", "count"),
            ("52", "5", "count"),
            ("58", "0", "count"),
            ("87", "15 (status 1015)", ""),
            ("41", "2024-05-01", ""),
            ("42", "2024-03-02 10:15:00", ""),
            ("43", "none recorded", ""),
            ("47", "2024-04-20 19:02:45", ""),
            ("53", "2024-04-29 23:59:59", ""),
            ("57", "2024-01-15 03:00:00", ""),
        ] {
            let row = value_row(&layout, code);
            assert!(row.contains(value), "{name}: {code}: {row}");
            assert!(row.contains(unit), "{name}: {code}: {row}");
        }
        for code in Profile::calin().short_codes() {
            value_row(&layout, &code.to_string());
        }

        // Nothing runs off the page: every word inside the media box minus 24 pt.
        let boxes = word_boxes(&pdf);
        assert_eq!(boxes.len(), pages);
        let margin = 24.0;
        for (i, ((w, h), words)) in boxes.iter().enumerate() {
            assert!(
                (w - size.0).abs() < 0.5 && (h - size.1).abs() < 0.5,
                "{w}×{h}"
            );
            assert!(words.len() > 40, "page {} has {} words", i + 1, words.len());
            for (t, [x0, y0, x1, y1]) in words {
                assert!(
                    *x0 >= margin && *y0 >= margin && *x1 <= w - margin && *y1 <= h - margin,
                    "{name} page {}: {t:?} at [{x0:.1} {y0:.1} {x1:.1} {y1:.1}]",
                    i + 1
                );
            }
        }

        // The pages are drawn: PNGs to look at, and pixels to count.
        let prefix = dir.path().join(name);
        run(tool("pdftoppm")
            .args(["-r", "60", "-png"])
            .arg(&pdf)
            .arg(&prefix));
        run(tool("pdftoppm").args(["-r", "30"]).arg(&pdf).arg(&prefix));
        let pngs: Vec<PathBuf> = files_with(dir.path(), "png")
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
            .collect();
        assert_eq!(pngs.len(), pages);
        for png in &pngs {
            let bytes = std::fs::read(png).unwrap();
            assert!(bytes.starts_with(b"\x89PNG"), "{png:?}");
            // A blank page at 60 dpi compresses to well under 2 kB.
            assert!(
                bytes.len() > 8_000,
                "{png:?} looks blank: {} bytes",
                bytes.len()
            );
        }
        let ppms: Vec<PathBuf> = files_with(dir.path(), "ppm")
            .into_iter()
            .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(name))
            .collect();
        let (width, height, ch, px) = read_pnm(&ppms[0]);
        assert_eq!(ch, 3);
        let dark = px.chunks(3).filter(|p| p.iter().all(|c| *c < 100)).count();
        assert!(dark * 100 > width * height, "page 1 is almost blank");
        // The verdict band is red ("site visit needed") and near the top of page 1.
        let red_rows: Vec<usize> = (0..height)
            .filter(|y| {
                let row = &px[y * width * 3..(y + 1) * width * 3];
                row.chunks(3)
                    .filter(|p| p[0] > 150 && p[1] < 60 && p[2] < 60)
                    .count()
                    > width / 2
            })
            .collect();
        assert!(!red_rows.is_empty(), "{name}: no red verdict band");
        assert!(
            red_rows[0] < height / 4,
            "{name}: band at row {}",
            red_rows[0]
        );
    }

    // The same content as HTML, the box first, the chart as SVG.
    let html = render_html(&report);
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s:?} missing"));
    assert!(at("WHAT TO DO NOW: Site visit needed.") < at("Meter and how it was read"));
    assert!(html.contains("Investigate possible magnet tampering; clear the tamper."));
    assert!(html.contains("The meter does not have this object"));
    assert!(html.contains("<td class=\"value\">1234.567</td><td>kWh</td>"));
    let marks = report.timeline.mark_count() + report.timeline.lanes.len();
    assert_eq!(html.matches("<polygon").count(), marks);
    assert!(html.ends_with("</html>\n"));
}

#[tokio::test]
async fn without_the_event_logs_the_timeline_uses_the_event_times() {
    let (reports, _log, settings) = read_tampered_meter().await;
    let report = VisitReport::build(&VisitInput {
        reports: &reports,
        settings: &settings,
        read_at: READ_AT,
        lookup: &Lookup::builtin(),
        mode: Mode::Postpaid,
        site: None,
        event_log: None,
    });
    let t = &report.timeline;
    assert!(t.source.contains("41–45"), "{}", t.source);
    // The five power downs fit in 53–57; both cover opens and both trips are there.
    let counts: Vec<usize> = t.lanes.iter().map(|l| l.marks.len()).collect();
    assert_eq!(counts, [2, 2, 5]);
    let pdf = render_pdf(&report, Paper::A4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("visit.pdf");
    std::fs::write(&path, pdf).unwrap();
    let text = flat(&pdftotext(&path, &[]));
    assert!(text.contains("Site: not configured"), "{text}");
    assert!(text.contains("the last five of each kind only"), "{text}");
}
