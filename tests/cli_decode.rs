//! The technician's offline decoder, run as the real binary.

use std::process::{Command, Output};

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .args(args)
        .output()
        .expect("run calin-agent")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn json(args: &[&str]) -> serde_json::Value {
    let o = agent(args);
    serde_json::from_slice(&o.stdout).expect("one JSON value")
}

/// Worked example #1 of the guide: 1008 = sub-code 8, not commissioned, code 12345.
#[test]
fn worked_example_1008() {
    let o = agent(&["decode", "1008"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for needle in [
        "1008 = code 87 sub-code 08",
        "not commissioned",
        "postpaid setup",
        "will not supply power",
        "12345",
        "site-specific commissioning token",
        "Site visit:",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

/// Worked example #2 of the guide: 1000 = sub-code 00, relay closed, no action.
#[test]
fn worked_example_1000() {
    let o = agent(&["decode", "1000"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for needle in [
        "1000 = code 87 sub-code 00",
        "Relay closed",
        "supplying electricity normally",
        "No action",
        "Site visit: no",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn sub_code_forms_are_the_same_entry() {
    let a = json(&["decode", "1008", "--json"]);
    assert_eq!(a, json(&["decode", "87:8", "--json"]));
    assert_eq!(a, json(&["decode", "87:08", "--json"]));
    for field in [
        "code",
        "sub_code",
        "meaning",
        "category",
        "severity",
        "action",
        "site_visit",
        "postpaid",
    ] {
        assert!(a.get(field).is_some(), "field {field} in {a}");
    }
    assert_eq!(a["code"], 1008);
    assert_eq!(a["sub_code"], 8);
    assert_eq!(a["category"], "not_commissioned");
}

#[test]
fn short_code_json_has_name_unit_action() {
    let v = json(&["decode", "40", "--json"]);
    assert_eq!(v["code"], 40);
    assert_eq!(v["name"], "Cover open count");
    assert_eq!(v["unit"], "count");
    assert!(v["action"].as_str().unwrap().contains("reseal"));
    assert_eq!(json(&["decode", "01", "--json"])["unit"], "kWh");
}

#[test]
fn credit_in_postpaid_and_prepaid() {
    let post = json(&["decode", "1001", "--json"]);
    let pre = json(&["decode", "1001", "--json", "--mode", "prepaid"]);
    assert_eq!(post["relevant"], false);
    assert_eq!(pre["relevant"], true);
    assert!(stdout(&agent(&["decode", "1001"])).contains("Not applicable in postpaid mode"));
}

#[test]
fn unknown_numbers_exit_3_with_raw_value() {
    for code in [
        "1002", "1010", "1019", "1020", "87:2", "1099", "11001", "99",
    ] {
        let o = agent(&["decode", code, "--json"]);
        assert_eq!(o.status.code(), Some(3), "{code}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["category"], "unknown", "{code}");
        assert_eq!(v["known"], false);
    }
    let o = agent(&["decode", "1019"]);
    assert!(stdout(&o).contains("Unknown status 1019"));
}

#[test]
fn non_codes_exit_2_and_show_the_forms() {
    for bad in ["abc", "87:", "86:1", "-5", ""] {
        let o = agent(&["decode", bad]);
        assert_eq!(o.status.code(), Some(2), "{bad:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("87:8") && err.contains("1008"), "{err}");
    }
}

#[test]
fn codes_table_lists_everything() {
    let o = agent(&["codes"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    for code in [
        "01", "14", "31", "35", "40", "41", "45", "46", "51", "52", "57", "58", "87",
    ] {
        assert!(
            text.lines().any(|l| l.starts_with(code)),
            "short code {code}"
        );
    }
    for status in (1000..=1025).filter(|s| ![1002, 1010, 1019, 1020].contains(s)) {
        assert!(
            text.lines().any(|l| l.starts_with(&status.to_string())),
            "{status}"
        );
    }
    let arr = json(&["codes", "--json"]);
    assert_eq!(arr.as_array().unwrap().len(), 24 + 22);
}

#[test]
fn site_override_from_config_file() {
    let dir = std::env::temp_dir().join(format!("calin-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("agent.toml");
    std::fs::write(
        &cfg,
        "[[code_override]]\ncode = \"87:8\"\naction = \"Use the token on the job card.\"\n",
    )
    .unwrap();
    let c = cfg.to_str().unwrap();
    let v = json(&["--config", c, "decode", "1008", "--json"]);
    assert_eq!(v["action"], "Use the token on the job card.");
    assert_eq!(v["overridden"], true);
    assert!(stdout(&agent(&["--config", c, "decode", "1008"])).contains("(site procedure)"));

    std::fs::write(&cfg, "[[code_override]]\ncode = \"1010\"\naction = \"x\"\n").unwrap();
    let o = agent(&["check-config", c]);
    assert_eq!(o.status.code(), Some(78));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(":2:") && err.contains("1010"), "{err}");
    let o = agent(&["--config", c, "decode", "1008"]);
    assert_eq!(o.status.code(), Some(78));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_errors_exit_64() {
    assert_eq!(agent(&["decode"]).status.code(), Some(64));
    assert_eq!(agent(&["no-such-command"]).status.code(), Some(64));
    assert_eq!(agent(&["--help"]).status.code(), Some(0));
}
