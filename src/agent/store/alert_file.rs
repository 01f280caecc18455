//! The append-only JSON-lines alert file: one alert per line, fsync'd per batch, with
//! size-based rotation and tail repair after a crash.
//!
//! File mechanics only: which alerts to append is decided by the store from its
//! committed rows. Never rewrites a complete line; the only truncation removes a torn
//! (newline-less) last line left by a crash mid-append.

use super::error::StoreError;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// How far back the tail scan reads per step.
const TAIL_CHUNK: u64 = 64 * 1024;

pub(super) struct AlertFile {
    path: PathBuf,
    /// Rotate to `<path>.1` before an append once the file is this large.
    max_bytes: u64,
}

#[derive(serde::Deserialize)]
struct IdOnly {
    id: String,
}

impl AlertFile {
    pub fn new(path: PathBuf, max_bytes: u64) -> Self {
        AlertFile { path, max_bytes }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The rotated file's path (`alerts.jsonl.1`).
    pub fn rotated_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".1");
        PathBuf::from(p)
    }

    fn err(&self, op: &'static str) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
        move |source| StoreError::AlertFile {
            path: self.path.clone(),
            op,
            source,
        }
    }

    /// Open the file for appending as `append` will, creating it empty when missing,
    /// so that an unusable path is an error now rather than at the first alert.
    pub fn check_writable(&self) -> Result<(), StoreError> {
        let existed = self.path.exists();
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(self.err("open for append"))?;
        if !existed {
            self.sync_dir()?;
        }
        Ok(())
    }

    /// Append complete lines (JSON without newline) and fsync before returning.
    pub fn append<'a>(&self, lines: impl IntoIterator<Item = &'a str>) -> Result<(), StoreError> {
        let mut buf = Vec::new();
        for line in lines {
            buf.extend_from_slice(line.as_bytes());
            buf.push(b'\n');
        }
        if buf.is_empty() {
            return Ok(());
        }
        // Design: opened per batch, not held: after an outside rename (logrotate) the
        // next batch goes to a fresh file at the configured path.
        let existed = self.path.exists();
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(self.err("open for append"))?;
        f.write_all(&buf).map_err(self.err("append"))?;
        f.sync_data().map_err(self.err("fsync"))?;
        if !existed {
            self.sync_dir()?;
        }
        Ok(())
    }

    /// Move a large file to `<path>.1` (replacing an older one). Call only when every
    /// line in the file is known to the store as written.
    pub fn rotate_if_large(&self) -> Result<bool, StoreError> {
        let len = match std::fs::metadata(&self.path) {
            Ok(m) => m.len(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.err("stat")(e)),
        };
        if len < self.max_bytes {
            return Ok(false);
        }
        std::fs::rename(&self.path, self.rotated_path()).map_err(self.err("rotate"))?;
        self.sync_dir()?;
        Ok(true)
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        let dir = self
            .path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(self.err("fsync the directory"))
    }

    /// Cut a torn last line (bytes after the last newline), then return the ids of up
    /// to `want` last complete lines, oldest first. A missing file has none.
    pub fn repair_tail(&self, want: usize) -> Result<Vec<String>, StoreError> {
        let mut f = match OpenOptions::new().read(true).write(true).open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.err("open for repair")(e)),
        };
        let len = f.metadata().map_err(self.err("stat"))?.len();
        let (tail, start) = read_tail(&mut f, len, want + 1).map_err(self.err("read the tail"))?;
        let complete = tail.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if complete < tail.len() {
            f.set_len(start + complete as u64)
                .map_err(self.err("truncate a torn line"))?;
            f.sync_all().map_err(self.err("fsync"))?;
            tracing::warn!(path = %self.path.display(), bytes = tail.len() - complete, "cut a torn last line from the alert file");
        }
        let mut ids: Vec<String> = tail[..complete]
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| serde_json::from_slice::<IdOnly>(l).ok().map(|x| x.id))
            .collect();
        let skip = ids.len().saturating_sub(want);
        ids.drain(..skip);
        Ok(ids)
    }
}

/// The last bytes of a file, starting at a line boundary (or the file's start), holding
/// at least `lines` newlines when the file has that many. Returns the bytes and their
/// offset in the file.
fn read_tail(f: &mut File, len: u64, lines: usize) -> std::io::Result<(Vec<u8>, u64)> {
    let mut start = len;
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let step = TAIL_CHUNK.min(start);
        start -= step;
        let mut chunk = vec![0u8; usize::try_from(step).unwrap_or(usize::MAX)];
        f.seek(SeekFrom::Start(start))?;
        f.read_exact(&mut chunk)?;
        chunk.extend_from_slice(&buf);
        buf = chunk;
        let newlines = buf.iter().filter(|b| **b == b'\n').count();
        if start == 0 || newlines > lines {
            break;
        }
    }
    if start > 0 {
        // Drop the partial first line: it begins before the window.
        let first = buf
            .iter()
            .position(|b| *b == b'\n')
            .map_or(buf.len(), |i| i + 1);
        buf.drain(..first);
        start += first as u64;
    }
    Ok((buf, start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(id: &str, pad: usize) -> String {
        format!(r#"{{"id":"{id}","pad":"{}"}}"#, "x".repeat(pad))
    }

    #[test]
    fn tail_ids_come_back_in_order_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let file = AlertFile::new(dir.path().join("a.jsonl"), u64::MAX);
        let lines: Vec<String> = (0..300).map(|i| line(&format!("id{i}"), 700)).collect();
        file.append(lines.iter().map(String::as_str)).unwrap();
        let ids = file.repair_tail(150).unwrap();
        let expect: Vec<String> = (150..300).map(|i| format!("id{i}")).collect();
        assert_eq!(ids, expect);
        assert_eq!(file.repair_tail(1000).unwrap().len(), 300);
        assert!(file.repair_tail(0).unwrap().is_empty());
    }

    #[test]
    fn a_torn_last_line_is_cut_and_complete_lines_kept() {
        let dir = tempfile::tempdir().unwrap();
        let file = AlertFile::new(dir.path().join("a.jsonl"), u64::MAX);
        file.append([line("a", 1).as_str(), line("b", 1).as_str()])
            .unwrap();
        let good = std::fs::metadata(file.path()).unwrap().len();
        std::fs::OpenOptions::new()
            .append(true)
            .open(file.path())
            .unwrap()
            .write_all(br#"{"id":"c","pa"#)
            .unwrap();
        assert_eq!(file.repair_tail(10).unwrap(), vec!["a", "b"]);
        assert_eq!(std::fs::metadata(file.path()).unwrap().len(), good);
        // A missing file is an empty one.
        let none = AlertFile::new(dir.path().join("none.jsonl"), u64::MAX);
        assert!(none.repair_tail(10).unwrap().is_empty());
    }

    #[test]
    fn rotation_moves_a_full_file_aside() {
        let dir = tempfile::tempdir().unwrap();
        let file = AlertFile::new(dir.path().join("a.jsonl"), 100);
        file.append([line("a", 10).as_str()]).unwrap();
        assert!(!file.rotate_if_large().unwrap());
        file.append([line("b", 100).as_str()]).unwrap();
        assert!(file.rotate_if_large().unwrap());
        assert!(!file.path().exists());
        let rotated = std::fs::read_to_string(file.rotated_path()).unwrap();
        assert_eq!(rotated.lines().count(), 2);
        file.append([line("c", 1).as_str()]).unwrap();
        assert_eq!(file.repair_tail(5).unwrap(), vec!["c"]);
    }
}
