//! Running the technician's probe (the real `calin-agent` binary) from integration
//! tests, and reading its `--json` output: shared by the DLMS, optical and DL/T 645
//! probe tests.

#![allow(dead_code)]

use serde_json::Value;
use std::process::Output;

/// `calin-agent probe ARGS...`, its exit status and output.
pub async fn probe(args: &[&str]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("probe")
        .args(args)
        .output()
        .await
        .expect("run calin-agent probe")
}

/// One JSON value per stdout line (`--json`).
pub fn json_lines(o: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The line that reads `reads` ("01", "status", ...).
pub fn find<'a>(lines: &'a [Value], reads: &str) -> &'a Value {
    lines
        .iter()
        .find(|v| v["reads"] == reads)
        .unwrap_or_else(|| panic!("{reads} not in {lines:?}"))
}
