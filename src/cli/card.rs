//! `calin-agent card`: write the printable code reference card for this site, as PDF
//! (default) or HTML, on A4 or Letter paper.

use super::exit;
use crate::card::{render_html, render_pdf, CardContent, Paper};
use crate::codes::Mode;
use crate::config::Config;
use clap::{Args, ValueEnum};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CardFormat {
    Pdf,
    Html,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PaperSize {
    A4,
    Letter,
}

#[derive(Debug, Args)]
pub struct CardArgs {
    /// Output file (`-` for standard output). Default: calin-card.pdf or calin-card.html.
    #[arg(long, short, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// pdf or html. Default: from the --out extension (.html, .htm), else pdf.
    #[arg(long, value_enum)]
    pub format: Option<CardFormat>,
    /// Paper size of the PDF.
    #[arg(long, value_enum, default_value = "a4")]
    pub paper: PaperSize,
    /// Billing mode the card is for (default: the config's [site] mode).
    #[arg(long)]
    pub mode: Option<Mode>,
    /// Date printed in the footer, YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub date: Option<String>,
}

pub fn run(config: &Config, args: &CardArgs, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let format = args
        .format
        .unwrap_or_else(|| format_of(args.out.as_deref()));
    let date = match &args.date {
        Some(d) if is_date(d) => d.clone(),
        Some(d) => {
            let _ = writeln!(err, "error: --date `{d}` is not a date: use YYYY-MM-DD");
            return exit::USAGE;
        }
        None => today(),
    };
    let mode = args.mode.unwrap_or(config.site.mode);
    let content = CardContent::build(&config.lookup, config.site.name.as_deref(), mode, &date);
    let (bytes, summary) = match format {
        CardFormat::Html => (render_html(&content).into_bytes(), "HTML".to_owned()),
        CardFormat::Pdf => {
            let paper = match args.paper {
                PaperSize::A4 => Paper::A4,
                PaperSize::Letter => Paper::LETTER,
            };
            match render_pdf(&content, paper) {
                Ok(r) => {
                    let summary = format!(
                        "PDF, {}, {} page(s), body text {} pt",
                        paper.name, r.pages, r.body_size
                    );
                    (r.bytes, summary)
                }
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    return exit::SOFTWARE;
                }
            }
        }
    };
    let default = match format {
        CardFormat::Pdf => "calin-card.pdf",
        CardFormat::Html => "calin-card.html",
    };
    let path = args.out.clone().unwrap_or_else(|| PathBuf::from(default));
    if path == Path::new("-") {
        return match out.write_all(&bytes) {
            Ok(()) => exit::OK,
            Err(_) => exit::CANT_CREATE,
        };
    }
    match std::fs::write(&path, &bytes) {
        Ok(()) => {
            let _ = writeln!(
                err,
                "wrote {} ({summary}, {mode} mode, {} bytes)",
                path.display(),
                bytes.len()
            );
            exit::OK
        }
        Err(e) => {
            let _ = writeln!(err, "error: cannot write {}: {e}", path.display());
            exit::CANT_CREATE
        }
    }
}

fn format_of(out: Option<&Path>) -> CardFormat {
    let ext = out
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => CardFormat::Html,
        _ => CardFormat::Pdf,
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
        && matches!(s[5..7].parse::<u8>(), Ok(1..=12))
        && matches!(s[8..10].parse::<u8>(), Ok(1..=31))
}

fn today() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    crate::agent::format_unix_ms(ms).chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_checked() {
        assert!(is_date("2026-11-27"));
        for bad in [
            "2026-13-01",
            "2026-1-01",
            "27.11.2026",
            "2026-11-00",
            "2026-11-2x",
        ] {
            assert!(!is_date(bad), "{bad}");
        }
        assert!(is_date(&today()), "{}", today());
    }

    #[test]
    fn format_follows_the_extension() {
        assert_eq!(format_of(Some(Path::new("a.HTML"))), CardFormat::Html);
        assert_eq!(format_of(Some(Path::new("a.htm"))), CardFormat::Html);
        assert_eq!(format_of(Some(Path::new("a.pdf"))), CardFormat::Pdf);
        assert_eq!(format_of(None), CardFormat::Pdf);
    }
}
