//! Meter passwords: read from a file named in the config, never logged or printed.

use std::fmt;

/// A secret (an LLS password). `Debug` and `Display` print `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(bytes)
    }

    /// The password bytes, for the one place that puts them on the wire.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// A password file holds the password on its first line; a trailing newline and
    /// surrounding white space are not part of it.
    pub fn from_file_text(text: &[u8]) -> Option<Secret> {
        let line = text.split(|b| *b == b'\n').next().unwrap_or(&[]);
        let trimmed = line.trim_ascii();
        (!trimmed.is_empty()).then(|| Secret(trimmed.to_vec()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_printed() {
        let s = Secret::from_file_text(b"  s3cret-pw \nignored\n").unwrap();
        assert_eq!(s.expose(), b"s3cret-pw");
        assert_eq!(format!("{s:?} {s}"), "<redacted> <redacted>");
        assert!(!format!("{:?}", Some(&s)).contains("s3cret"));
        assert!(Secret::from_file_text(b"\n").is_none());
    }
}
