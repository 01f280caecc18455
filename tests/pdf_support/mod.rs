//! Reading the PDFs the agent writes (card, visit report) with poppler-utils
//! (`pdftotext`, `pdfinfo`, `pdftoppm`), shared by their tests. `.ci/run` installs it.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// A poppler tool, which must be installed.
pub fn tool(name: &str) -> Command {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(found, "`{name}` is missing: apt-get install poppler-utils");
    Command::new(name)
}

/// Run it; it must succeed.
pub fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().expect("run");
    assert!(
        o.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The text layer of `pdf` (`extra`: e.g. `-layout`, `-bbox`).
pub fn pdftotext(pdf: &Path, extra: &[&str]) -> String {
    let o = run(tool("pdftotext").args(extra).arg(pdf).arg("-"));
    String::from_utf8(o.stdout).expect("UTF-8 text layer")
}

/// Pages, as `pdfinfo` counts them.
pub fn page_count(pdf: &Path) -> usize {
    let info = String::from_utf8(run(tool("pdfinfo").arg(pdf)).stdout).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo names the page count")
}

/// A word and its box: xMin, yMin, xMax, yMax in points from the top-left corner.
pub type WordBox = (String, [f64; 4]);

/// `pdftotext -bbox`: every word's box, per page, with the page's size.
pub fn word_boxes(pdf: &Path) -> Vec<((f64, f64), Vec<WordBox>)> {
    let html = pdftotext(pdf, &["-bbox"]);
    let attr = |tag: &str, name: &str| -> f64 {
        let key = format!("{name}=\"");
        let start = tag.find(&key).expect(name) + key.len();
        let end = start + tag[start..].find('"').unwrap();
        tag[start..end].parse().unwrap()
    };
    let mut pages = Vec::new();
    for chunk in html.split("<page ").skip(1) {
        let head = &chunk[..chunk.find('>').unwrap()];
        let size = (attr(head, "width"), attr(head, "height"));
        let mut words = Vec::new();
        for w in chunk.split("<word ").skip(1) {
            let tag = &w[..w.find('>').unwrap()];
            let text = w[w.find('>').unwrap() + 1..w.find("</word>").unwrap()].to_owned();
            let b = ["xMin", "yMin", "xMax", "yMax"].map(|n| attr(tag, n));
            words.push((text, b));
        }
        pages.push((size, words));
    }
    pages
}
