//! The reference card as a technician gets it: `calin-agent card` run as the real
//! binary, the PDF read back with poppler (pdfinfo, pdftotext, pdftoppm) — an
//! independent reader, so a file only our own writer understands fails here.
//!
//! Needs Debian's poppler-utils (`.ci/run` installs it).

mod pdf_support;

use pdf_support::{page_count, pdftotext, run, tool, word_boxes};
use std::path::PathBuf;
use std::process::Command;

const SITE_CONFIG: &str = r#"
[site]
name = "Kibera North substation"
mode = "postpaid"

[[code_override]]
code = "1008"
action = "Enter the commissioning token printed on the job card (not the default 12345); call the control room if it is refused."
severity = "high"

[[code_override]]
code = "40"
action = "Photograph the seal, then reseal with a numbered seal and log it."
"#;

const PLAIN_CONFIG: &str = "[site]\nmode = \"postpaid\"\n";

/// Every code the guide defines, written as the card prints it.
const SHORT_CODES: &[u32] = &[
    1, 14, 31, 35, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 87,
];
const STATUSES: &[u32] = &[
    1000, 1001, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1011, 1012, 1013, 1014, 1015, 1016, 1017,
    1018, 1021, 1022, 1023, 1024, 1025,
];
const UNDEFINED: &[u32] = &[1002, 1010, 1019, 1020];

/// Key words of each code's field action (postpaid, no overrides): the card may
/// shorten an action, never lose what the technician must do.
#[rustfmt::skip]
const ACTION_WORDS: &[(&str, &[&str])] = &[
    ("1000", &["No", "action", "supplying"]),
    ("1001", &["Postpaid", "ignore", "not", "applicable"]),
    ("1003", &["trip", "limit", "load", "adjust"]),
    ("1004", &["No", "action", "tested"]),
    ("1005", &["Reseal", "cover", "clear-tamper", "token"]),
    ("1006", &["Reseal", "cover", "clear-tamper", "token"]),
    ("1007", &["Confirm", "backend/HES", "reconnect", "not", "intended"]),
    ("1008", &["Commission", "token", "12345", "CIU", "backend"]),
    ("1009", &["Inspect", "surges", "advise", "protection"]),
    ("1011", &["too", "high", "report", "utility/feeder"]),
    ("1012", &["too", "low", "report", "utility/feeder"]),
    ("1013", &["wiring", "polarity", "clear", "tamper"]),
    ("1014", &["Reseal", "enclosure", "clear-tamper", "token"]),
    ("1015", &["magnet", "tampering", "clear"]),
    ("1016", &["phase", "imbalance", "troubleshoot"]),
    ("1017", &["Inspect", "neutral", "wiring"]),
    ("1018", &["bypass", "escalate", "confirmed"]),
    ("1021", &["Investigate", "feeder's", "phase", "imbalance"]),
    ("1022", &["overheating", "ventilation", "load", "cool"]),
    ("1023", &["PF", "correction", "(capacitors)"]),
    ("1024", &["Tariff", "backend", "escalate", "AMI"]),
    ("1025", &["troubleshoot", "before", "reconnecting"]),
    ("01", &["Record", "usage", "trend"]),
    ("14", &["Compare", "customer's", "load", "adjust"]),
    ("31", &["load", "moment", "query"]),
    ("35", &["low", "PF", "correction"]),
    ("40", &["tamper", "log", "reseal"]),
    ("41–45", &["Verify", "tamper", "history"]),
    ("46", &["load", "demand", "upgrade", "frequent"]),
    ("47–51", &["Identify", "overloads"]),
    ("52", &["reliability", "supply"]),
    ("53–57", &["Cross-check", "outage", "records"]),
    ("58", &["Investigate", "supply-side"]),
    ("87", &["1000", "status", "table"]),
];

struct Card {
    dir: tempfile::TempDir,
    pdf: PathBuf,
    stderr: String,
}

/// Run `calin-agent --config <config> card <args> --out card.pdf`.
fn card(config: &str, args: &[&str]) -> Card {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("agent.toml");
    std::fs::write(&cfg, config).unwrap();
    let pdf = dir.path().join("card.pdf");
    let o = run(Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("--config")
        .arg(&cfg)
        .arg("card")
        .args(args)
        .arg("--out")
        .arg(&pdf));
    Card {
        dir,
        pdf,
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Rasterise every page; returns the PNG files.
fn pngs(card: &Card) -> Vec<PathBuf> {
    let prefix = card.dir.path().join("page");
    run(tool("pdftoppm")
        .args(["-r", "60", "-png"])
        .arg(&card.pdf)
        .arg(&prefix));
    let mut files: Vec<PathBuf> = std::fs::read_dir(card.dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    files
}

fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// The lines of the row that starts with `label`, in `pdftotext -layout` text: the
/// first line holds the label as a word; the row's wrapped lines follow, indented.
fn row_text(layout: &str, label: &str) -> String {
    let lines: Vec<&str> = layout.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            let w = words(l);
            // The label is the first or second word (after the category symbol).
            w.iter().take(2).any(|x| *x == label)
        })
        .unwrap_or_else(|| panic!("no row for {label}"));
    let mut row = lines[start].to_owned();
    for l in &lines[start + 1..] {
        if l.starts_with("          ") && !l.trim().is_empty() {
            row.push(' ');
            row.push_str(l);
        } else {
            break;
        }
    }
    row
}

fn assert_every_code(text: &str) {
    let w = words(text);
    for s in STATUSES.iter().chain(UNDEFINED) {
        assert!(w.contains(&s.to_string().as_str()), "status {s} missing");
    }
    for c in SHORT_CODES {
        let alone = format!("{c:02}");
        let in_range = w.iter().any(|x| match x.split_once('–') {
            Some((a, b)) => matches!((a.parse::<u32>(), b.parse::<u32>()), (Ok(a), Ok(b)) if (a..=b).contains(c)),
            None => false,
        });
        assert!(
            w.contains(&alone.as_str()) || in_range,
            "short code {alone} missing"
        );
    }
    // Sub-codes are printed next to their status.
    for s in STATUSES {
        let sub = format!("87:{:02}", s - 1000);
        assert!(w.contains(&sub.as_str()), "{sub} missing");
    }
}

#[test]
fn a4_and_letter_cards_hold_every_code_and_its_action() {
    for paper in ["a4", "letter"] {
        let c = card(PLAIN_CONFIG, &["--paper", paper, "--date", "2026-11-27"]);
        let pages = page_count(&c.pdf);
        assert!((1..=2).contains(&pages), "{paper}: {pages} pages");
        let images = pngs(&c);
        assert_eq!(images.len(), pages, "{paper}: one PNG per page");
        for png in &images {
            let bytes = std::fs::read(png).unwrap();
            assert!(bytes.starts_with(b"\x89PNG"), "{png:?}");
            // A blank A4 page at 60 dpi compresses to well under 2 kB.
            assert!(
                bytes.len() > 8_000,
                "{png:?} looks blank: {} bytes",
                bytes.len()
            );
        }
        let text = pdftotext(&c.pdf, &[]);
        assert_every_code(&text);
        let layout = pdftotext(&c.pdf, &["-layout"]);
        for (label, keys) in ACTION_WORDS {
            let row = row_text(&layout, label);
            let row_words = words(&row);
            for k in *keys {
                assert!(
                    row_words
                        .iter()
                        .any(|w| w.trim_end_matches(['.', ',', ';', ':']) == *k),
                    "{paper}: row {label} lacks {k:?}: {row}"
                );
            }
        }
        let flat = words(&text).join(" ");
        for needle in [
            "Default commissioning code 12345",
            "site-specific commissioning token",
            "Credit codes are ignored",
            "Unknown: record the raw value",
            "unknown: record the raw value",
            "printed 2026-11-27",
            "postpaid mode",
            "Site: not configured",
        ] {
            assert!(flat.contains(needle), "{paper}: missing {needle:?}");
        }
        assert!(c.stderr.contains("body text 10 pt"), "{}", c.stderr);
    }
}

#[test]
fn site_overrides_and_the_site_name_are_printed() {
    let c = card(SITE_CONFIG, &["--date", "2026-11-27"]);
    assert!((1..=2).contains(&page_count(&c.pdf)));
    let text = pdftotext(&c.pdf, &[]);
    assert_every_code(&text);
    let flat = words(&text).join(" ");
    for needle in [
        "Site: Kibera North substation",
        "Kibera North substation · printed 2026-11-27",
        "Enter the commissioning token printed on the job card (not the default 12345); call the control room if it is refused.",
        "Photograph the seal, then reseal with a numbered seal and log it.",
        "site procedure",
    ] {
        assert!(flat.contains(needle), "missing {needle:?} in {flat}");
    }
    // The overridden rows carry the SITE mark and the site's severity (HIGH for 1008).
    let layout = pdftotext(&c.pdf, &["-layout"]);
    let row = row_text(&layout, "1008");
    assert!(row.contains("SITE") && row.contains("HIGH"), "{row}");
    assert!(
        !row.contains("Commission:"),
        "the guide's text is replaced: {row}"
    );
    let row = row_text(&layout, "40");
    assert!(row.contains("SITE") && row.contains("Photograph"), "{row}");
    assert!(!row_text(&layout, "1005").contains("SITE"));
}

#[test]
fn prepaid_cards_treat_credit_codes_as_applicable() {
    let c = card(PLAIN_CONFIG, &["--mode", "prepaid", "--date", "2026-11-27"]);
    let layout = pdftotext(&c.pdf, &["-layout"]);
    let row = row_text(&layout, "1001");
    assert!(
        row.contains("credit token") && !row.contains("n/a"),
        "{row}"
    );
    let flat = words(&pdftotext(&c.pdf, &[])).join(" ");
    assert!(flat.contains("PREPAID MODE") && flat.contains("Credit codes apply"));
    let post = card(PLAIN_CONFIG, &["--date", "2026-11-27"]);
    let row = row_text(&pdftotext(&post.pdf, &["-layout"]), "1001");
    assert!(row.contains("n/a") && row.contains("ignore"), "{row}");
}

#[test]
fn nothing_runs_off_the_page() {
    // A long site procedure exercises the wrapping as well.
    let long = format!(
        "{SITE_CONFIG}\n[[code_override]]\ncode = \"1025\"\naction = \"{}\"\n",
        "Do not reconnect remotely again: send a crew with the overload kit, photograph the display and the seals, and call the control room before and after the visit.",
    );
    for (config, paper) in [
        (PLAIN_CONFIG, "a4"),
        (SITE_CONFIG, "letter"),
        (long.as_str(), "a4"),
        (long.as_str(), "letter"),
    ] {
        let c = card(config, &["--paper", paper, "--date", "2026-11-27"]);
        let pages = word_boxes(&c.pdf);
        assert!(
            (1..=2).contains(&pages.len()),
            "{paper}: {} pages",
            pages.len()
        );
        let expected = if paper == "a4" {
            (595.3, 841.9)
        } else {
            (612.0, 792.0)
        };
        // Design: 24 pt (8.5 mm) is what office printers reliably reach; the card keeps 32.
        let margin = 24.0;
        for (i, ((w, h), words)) in pages.iter().enumerate() {
            assert!(
                (w - expected.0).abs() < 0.5 && (h - expected.1).abs() < 0.5,
                "{paper}: {w}×{h}"
            );
            assert!(words.len() > 100, "page {i} has only {} words", words.len());
            for (text, [x0, y0, x1, y1]) in words {
                assert!(
                    *x0 >= margin && *y0 >= margin && *x1 <= w - margin && *y1 <= h - margin,
                    "{paper} page {}: {text:?} at [{x0:.1} {y0:.1} {x1:.1} {y1:.1}] is outside the margin",
                    i + 1
                );
            }
        }
    }
}

#[test]
fn the_card_goes_to_standard_output_with_dash() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("agent.toml");
    std::fs::write(&cfg, PLAIN_CONFIG).unwrap();
    let o = run(Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("--config")
        .arg(&cfg)
        .args(["card", "--out", "-", "--date", "2026-11-27"]));
    assert!(o.stdout.starts_with(b"%PDF-"));
    assert!(o.stdout.ends_with(b"%%EOF") || o.stdout.ends_with(b"%%EOF\n"));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("agent.toml");
    std::fs::write(&cfg, PLAIN_CONFIG).unwrap();
    let agent = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_calin-agent"));
        c.arg("--config").arg(&cfg);
        c
    };
    let o = agent()
        .args(["card", "--date", "27/11/2026", "--out", "-"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&o.stderr).contains("YYYY-MM-DD"));
    let o = agent().args(["card", "--paper", "a3"]).output().unwrap();
    assert_eq!(o.status.code(), Some(64));
    let o = agent()
        .args([
            "card",
            "--out",
            "/nonexistent-dir/card.pdf",
            "--date",
            "2026-11-27",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(73));
}
