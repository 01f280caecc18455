//! Greedy word wrapping by measured width.

use super::FontFace;

/// Break `text` into lines no wider than `max_width` points at `size`. Lines break
/// at spaces; a single word wider than a line is cut between characters, so no
/// line ever runs past `max_width` (unless one character alone is wider).
pub fn wrap(face: &FontFace, text: &str, size: f32, max_width: f32) -> Vec<String> {
    wrap_indented(face, text, size, max_width, max_width)
}

/// Like [`wrap`], with a first line of its own width (for a line that starts after a
/// label or mark drawn in front of it).
pub fn wrap_indented(
    face: &FontFace,
    text: &str,
    size: f32,
    first_width: f32,
    max_width: f32,
) -> Vec<String> {
    // Design: widths are summed in integer font units, so the width of a line built
    // piece by piece is exactly `face.width(line)`: a line that passes here fits there.
    let fits = |units: u32, lines: &[String]| {
        let limit = if lines.is_empty() {
            first_width
        } else {
            max_width
        };
        face.units_to_points(units, size) <= limit
    };
    let space = face.advance_units(" ");
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut line_units = 0;
    for word in text.split_whitespace() {
        let word_units = face.advance_units(word);
        let candidate = if line.is_empty() {
            word_units
        } else {
            line_units + space + word_units
        };
        if fits(candidate, &lines) {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
            line_units = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
            line_units = 0;
        }
        if fits(word_units, &lines) {
            line.push_str(word);
            line_units = word_units;
            continue;
        }
        // A word too long for any line: cut it between characters.
        for c in word.chars() {
            let mut buf = [0u8; 4];
            let c_units = face.advance_units(c.encode_utf8(&mut buf));
            if !line.is_empty() && !fits(line_units + c_units, &lines) {
                lines.push(std::mem::take(&mut line));
                line_units = 0;
            }
            line.push(c);
            line_units += c_units;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
