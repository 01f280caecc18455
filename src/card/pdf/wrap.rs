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
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let width_of = |lines: &Vec<String>| {
        if lines.is_empty() {
            first_width
        } else {
            max_width
        }
    };
    for word in text.split_whitespace() {
        let candidate = if line.is_empty() {
            word.to_owned()
        } else {
            format!("{line} {word}")
        };
        if face.width(&candidate, size) <= width_of(&lines) {
            line = candidate;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        // The word alone: cut it if it does not fit on a line of its own.
        for c in word.chars() {
            let mut longer = line.clone();
            longer.push(c);
            if !line.is_empty() && face.width(&longer, size) > width_of(&lines) {
                lines.push(std::mem::take(&mut line));
                line.push(c);
            } else {
                line = longer;
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}
