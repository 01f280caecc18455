//! `calin-agent frame`: the protocol analyser, run as the real binary.

use std::process::Command;

fn agent(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn good_frame_exits_0_and_bad_frame_65_with_reason() {
    let snrm = [
        "frame", "7E", "A0", "07", "03", "21", "93", "0F", "01", "7E",
    ];
    let o = agent(&snrm);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("Snrm"));

    let o = agent(&["frame", "7EA00703219300017E"]);
    assert_eq!(o.status.code(), Some(65));
    assert!(String::from_utf8_lossy(&o.stdout).contains("bad FCS"));

    let o = agent(&["frame", "7E A0 07 03 21 93 0F 01 7E", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["layers"][0]["fields"]["source"], "16");

    let o = agent(&["frame", "7E A"]);
    assert_eq!(o.status.code(), Some(64));
}
