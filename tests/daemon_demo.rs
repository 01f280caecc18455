//! `calin-agent demo` end to end: the binary runs the daemon against the in-process
//! demo fleet on pseudo-terminals (DLMS over HDLC, DL/T 645, an optical head) and
//! prints the story's alerts as JSON lines.

use std::collections::HashSet;
use std::process::Command;

#[test]
fn the_demo_tells_the_whole_story() {
    let out = Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .args(["demo", "--time-scale", "20", "--json"])
        .env_remove("CALIN_LOG")
        .output()
        .expect("calin-agent runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: HashSet<(String, String, Option<u64>)> = stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one alert per line");
            (
                v["meter"].as_str().unwrap().to_owned(),
                v["kind"].as_str().unwrap().to_owned(),
                v["code"].as_u64(),
            )
        })
        .collect();
    for (meter, kind, code) in [
        ("47001000002", "status_changed", Some(1005)),
        ("47001000002", "counter_grew", Some(40)),
        ("47001000003", "status_changed", Some(1011)),
        ("47001000003", "status_cleared", Some(1000)),
        ("47001000004", "unreachable", None),
        ("47001000004", "reachable", None),
        // DL/T 645: the magnetic bit of the Calin status word is tamper 1015.
        ("47001000005", "status_changed", Some(1015)),
        ("47001000005", "status_cleared", Some(1000)),
        // The optical readout's power-failure count (C.7.0).
        ("47001000006", "counter_grew", Some(52)),
    ] {
        assert!(
            seen.contains(&(meter.to_owned(), kind.to_owned(), code)),
            "{meter} {kind} {code:?} missing from:\n{stdout}"
        );
    }
    assert!(
        !seen.iter().any(|(m, _, _)| m == "47001000001"),
        "the healthy meter raised nothing:\n{stdout}"
    );
}
