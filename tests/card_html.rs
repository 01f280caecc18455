//! The reference card's HTML form, run as the real binary: the same codes, actions,
//! notes and site procedures as the PDF.

use std::process::Command;

const CONFIG: &str = r#"
[site]
name = "Depot <North> & Co"

[[code_override]]
code = "1008"
action = "Use the token on the job card; call the control room if refused."
"#;

fn html(config: &str, args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("agent.toml");
    std::fs::write(&cfg, config).unwrap();
    let out = dir.path().join("card.html");
    let o = Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("--config")
        .arg(&cfg)
        .arg("card")
        .args(args)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::read_to_string(&out).unwrap()
}

/// The text of the page, tags removed and entities decoded, in words.
fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let body = &html[html.find("<body>").expect("a body")..];
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_html_card_holds_every_code_the_site_procedure_and_the_notes() {
    let page = html(CONFIG, &["--date", "2026-11-27"]);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    assert_eq!(page.matches("<table>").count(), 2);
    let t = text(&page);
    let words: Vec<&str> = t.split(' ').collect();
    for s in (1000..=1025).filter(|s| ![1002, 1010, 1019, 1020].contains(s)) {
        assert!(words.contains(&s.to_string().as_str()), "{s}");
        let sub = format!("87:{:02}", s - 1000);
        assert!(words.contains(&sub.as_str()), "{sub}");
    }
    for s in [1002, 1010, 1019, 1020] {
        assert!(words.contains(&s.to_string().as_str()), "{s}");
    }
    for c in [
        "01", "14", "31", "35", "40", "41–45", "46", "47–51", "52", "53–57", "58", "87",
    ] {
        assert!(words.contains(&c), "short code {c}");
    }
    for needle in [
        "Site: Depot <North> & Co",
        "Use the token on the job card; call the control room if refused.",
        "⚑ SITE site procedure",
        "Default commissioning code 12345",
        "site-specific commissioning token",
        "Credit codes are ignored",
        "Unknown: record the raw value",
        "printed 2026-11-27",
        "Reseal the cover; enter the clear-tamper token.",
        "POSTPAID MODE",
    ] {
        assert!(t.contains(needle), "missing {needle:?} in {t}");
    }
    // The site's name is text, never markup.
    assert!(!page.contains("<North>"));
    // 1001 is marked not applicable in postpaid.
    let row = &page[page.find(">1001<").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("n/a") && row.contains("ignore"), "{row}");
}

#[test]
fn the_format_follows_the_file_name_unless_given() {
    let page = html("", &["--date", "2026-11-27"]);
    assert!(page.starts_with("<!DOCTYPE html>"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("card.html");
    let cfg = dir.path().join("agent.toml");
    std::fs::write(&cfg, "").unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("--config")
        .arg(&cfg)
        .args(["card", "--format", "pdf", "--date", "2026-11-27", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(std::fs::read(&out).unwrap().starts_with(b"%PDF-"));
}
