use super::*;
use proptest::prelude::*;

fn regular() -> FontFace {
    FontFace::dejavu(Weight::Regular).expect("the embedded font parses")
}

#[test]
fn both_faces_have_every_symbol_the_card_prints() {
    let symbols = "⚠⚡☁○¤⚙✔?⚑–·≥";
    for weight in [Weight::Regular, Weight::Bold] {
        let f = FontFace::dejavu(weight).unwrap();
        for c in symbols.chars() {
            assert!(f.has_glyph(c), "{weight:?} lacks U+{:04X}", c as u32);
        }
    }
}

#[test]
fn widths_scale_with_size_and_bold_is_wider() {
    let r = regular();
    let b = FontFace::dejavu(Weight::Bold).unwrap();
    let w10 = r.width("Reseal the cover", 10.0);
    assert!(w10 > 40.0 && w10 < 100.0, "{w10}");
    assert!((r.width("Reseal the cover", 20.0) - 2.0 * w10).abs() < 0.01);
    assert!(b.width("Reseal the cover", 10.0) > w10);
    assert_eq!(r.width("", 10.0), 0.0);
    assert!(r.ascent(10.0) > r.cap_height(10.0) && r.descent(10.0) > 0.0);
}

#[test]
fn wrap_breaks_at_spaces_and_cuts_only_words_too_long_for_a_line() {
    let r = regular();
    let lines = wrap(
        &r,
        "Reseal the cover; enter the clear-tamper token.",
        10.0,
        100.0,
    );
    assert!(lines.len() >= 2, "{lines:?}");
    assert_eq!(
        lines.join(" "),
        "Reseal the cover; enter the clear-tamper token."
    );
    let long = wrap(&r, "0123456789012345678901234567890123456789", 10.0, 50.0);
    assert!(long.len() > 1 && long.iter().all(|l| r.width(l, 10.0) <= 50.0));
    assert_eq!(long.concat(), "0123456789012345678901234567890123456789");
    assert!(wrap(&r, "   ", 10.0, 50.0).is_empty());
}

#[test]
fn an_indented_first_line_is_shorter() {
    let r = regular();
    let text = "Enter the commissioning token printed on the job card";
    let lines = wrap_indented(&r, text, 10.0, 60.0, 200.0);
    assert!(r.width(&lines[0], 10.0) <= 60.0);
    assert!(lines[1..].iter().all(|l| r.width(l, 10.0) <= 200.0));
    assert_eq!(lines.join(" "), text);
}

proptest! {
    #[test]
    fn wrapped_lines_fit_and_keep_every_word(
        words in proptest::collection::vec("[a-zA-Z0-9;:,./()-]{1,14}", 0..40),
        width in 60.0f32..400.0,
    ) {
        let r = regular();
        let text = words.join(" ");
        let lines = wrap(&r, &text, 10.0, width);
        for l in &lines {
            prop_assert!(r.width(l, 10.0) <= width, "{l:?} wider than {width}");
        }
        // Cutting a long word leaves its pieces on separate lines; nothing is lost.
        let rejoined: String = lines.concat().chars().filter(|c| *c != ' ').collect();
        let original: String = text.chars().filter(|c| *c != ' ').collect();
        prop_assert_eq!(rejoined, original);
    }
}

fn one_page_doc(texts: &[(&str, Weight)]) -> Vec<u8> {
    let mut doc = Document::new(Paper::A4).unwrap();
    let mut page = Page::default();
    for (i, (t, w)) in texts.iter().enumerate() {
        page.text(40.0, 60.0 + 20.0 * i as f32, 10.0, *w, Rgb::BLACK, t);
    }
    page.fill(40.0, 200.0, 100.0, 10.0, Rgb::hex(0xB71C1C));
    page.stroke(40.0, 220.0, 100.0, 10.0, 1.0, Rgb::BLACK);
    doc.push_page(page);
    doc.finish(&Meta {
        title: "t".into(),
        ..Meta::default()
    })
    .unwrap()
}

#[test]
fn a_document_is_a_complete_pdf_with_subset_fonts() {
    let bytes = one_page_doc(&[("Reseal ⚠ 1005", Weight::Regular), ("CRIT", Weight::Bold)]);
    assert!(bytes.starts_with(b"%PDF-"));
    let tail = String::from_utf8_lossy(&bytes[bytes.len() - 40..]).to_string();
    assert!(tail.contains("%%EOF"), "{tail}");
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("/Type /Page"));
    assert!(text.contains("/FontFile2"));
    assert!(text.contains("/ToUnicode"));
    // Subset names carry a six-letter tag (ISO 32000-1 §9.6.4).
    let tagged = text
        .split("/BaseFont /")
        .skip(1)
        .filter(|s| s.as_bytes().get(6) == Some(&b'+'))
        .count();
    assert!(tagged >= 4, "{tagged} tagged font names");
    // The whole face is ~600 kB; a subset of a dozen glyphs is far smaller.
    let full = dejavu::sans_condensed::regular().len();
    assert!(bytes.len() * 10 < full, "{} bytes", bytes.len());
}

#[test]
fn the_same_pages_give_the_same_bytes() {
    let a = one_page_doc(&[("1008 87:08", Weight::Bold)]);
    let b = one_page_doc(&[("1008 87:08", Weight::Bold)]);
    assert_eq!(a, b);
}

#[test]
fn a_character_without_a_glyph_does_not_fail() {
    // U+10FFFD (private use) is not in DejaVu: it prints as .notdef, the rest as usual.
    let bytes = one_page_doc(&[("site \u{10FFFD} name", Weight::Regular)]);
    assert!(bytes.starts_with(b"%PDF-"));
}

#[test]
fn empty_text_draws_nothing() {
    let mut p = Page::default();
    p.text(0.0, 0.0, 10.0, Weight::Regular, Rgb::BLACK, "");
    p.text(1.0, 2.0, 9.0, Weight::Bold, Rgb::BLACK, "x");
    let runs: Vec<_> = p.text_runs().collect();
    assert_eq!(runs.len(), 1);
    assert_eq!((runs[0].x, runs[0].size, runs[0].text), (1.0, 9.0, "x"));
}

#[test]
fn colours_from_hex() {
    assert_eq!(Rgb::hex(0xff0000), Rgb(1.0, 0.0, 0.0));
    assert_eq!(Rgb::hex(0x000000), Rgb::BLACK);
}

#[test]
fn lines_and_polygons_are_path_operators_in_pdf_space() {
    let mut doc = Document::new(Paper::A4).unwrap();
    let mut page = Page::default();
    page.line((10.0, 20.0), (110.0, 20.0), 0.5, Rgb::BLACK);
    page.polygon(
        &[(10.0, 40.0), (20.0, 30.0), (30.0, 40.0)],
        Rgb::hex(0xB71C1C),
    );
    // Two points are no polygon: nothing is drawn.
    page.polygon(&[(0.0, 0.0), (1.0, 1.0)], Rgb::BLACK);
    let stream = String::from_utf8(doc.content(&page)).unwrap();
    let h = Paper::A4.height;
    // y is flipped: 20 points below the top edge is `height - 20` in PDF space.
    let y = h - 20.0;
    assert!(stream.contains(&format!("10 {y} m")), "{stream}");
    assert!(stream.contains(&format!("110 {y} l")), "{stream}");
    assert!(stream.contains("S"), "{stream}");
    assert_eq!(stream.matches(" m").count(), 2, "{stream}");
    assert!(stream.contains("h\nf"), "{stream}");
}
