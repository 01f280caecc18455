use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("site.toml"), text)
}

#[test]
fn empty_file_is_the_builtin_default() {
    let c = parse("").unwrap();
    assert_eq!(c.site.mode, Mode::Postpaid);
    assert!(c.lookup.overrides().is_empty());
}

#[test]
fn site_and_overrides_load() {
    let c = parse(
        r#"
[site]
name = "Kabwe North"
mode = "prepaid"

[[code_override]]
code = "1008"
action = "Enter the token from the job card."
severity = "high"
"#,
    )
    .unwrap();
    assert_eq!(c.site.name.as_deref(), Some("Kabwe North"));
    assert_eq!(c.site.mode, Mode::Prepaid);
    let info = c
        .lookup
        .status(crate::codes::OperatingStatus(1008), Mode::Postpaid);
    assert_eq!(info.action, "Enter the token from the job card.");
    assert_eq!(info.severity, Severity::High);
}

#[test]
fn override_of_a_missing_code_names_file_line_key_and_code() {
    let err = parse("[site]\nname = \"x\"\n\n[[code_override]]\ncode = \"1002\"\naction = \"y\"\n")
        .unwrap_err();
    assert_eq!(err.line(), Some(5));
    let msg = err.to_string();
    assert!(msg.starts_with("site.toml:5:"), "{msg}");
    assert!(msg.contains("code_override[0].code"), "{msg}");
    assert!(msg.contains("`1002` does not exist"), "{msg}");
}

#[test]
fn unknown_key_names_the_line_and_key() {
    let err = parse("[site]\nname = \"x\"\nmdoe = \"prepaid\"\n").unwrap_err();
    assert_eq!(err.line(), Some(3));
    let msg = err.to_string();
    assert!(msg.contains("mdoe"), "{msg}");
    assert!(msg.contains("unknown field"), "{msg}");
}

#[test]
fn wrong_value_names_the_line_and_accepted_values() {
    let err = parse("[[code_override]]\ncode = \"1005\"\nseverity = \"hgh\"\n").unwrap_err();
    assert_eq!(err.line(), Some(3));
    let msg = err.to_string();
    assert!(msg.contains("severity"), "{msg}");
    assert!(msg.contains("critical"), "lists the accepted values: {msg}");
}

#[test]
fn syntax_error_has_a_position() {
    let err = parse("[site\nname = 1\n").unwrap_err();
    assert_eq!(err.line(), Some(1));
}

#[test]
fn missing_file_names_the_file() {
    let err = Config::load(Path::new("/nonexistent/calin/agent.toml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/calin/agent.toml"));
}

fn tmp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("calin-cfg-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn example_config_in_the_repo_is_valid() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/agent.toml");
    let c = Config::load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!c.buses.is_empty(), "the example documents a bus");
}

#[test]
fn fleet_loads_with_defaults_and_secrets_stay_hidden() {
    let dir = tmp_dir("fleet");
    let pw = dir.join("m1.pw");
    std::fs::write(&pw, "hunter22\n").unwrap();
    let text = format!(
        r#"
[poll]
status = "1m"

[[bus]]
name = "rs485-1"
port = "/dev/ttyUSB0"
line = "2400 8E1"

[[bus.meter]]
serial = "CAL001"
physical_address = 17
password_file = "{}"
mode = "prepaid"

[[bus.meter]]
serial = "CAL002"
physical_address = 18

[[bus]]
name = "converter"
tcp = "127.0.0.1:4059"
protocol = "wrapper"
"#,
        pw.display()
    );
    let c = parse(&text).unwrap();
    assert_eq!(c.buses.len(), 2);
    let m = &c.buses[0].meters[0];
    assert_eq!(m.serial, "CAL001");
    assert_eq!(m.address.lower(), Some(17));
    assert_eq!(m.address.upper(), 1);
    assert_eq!(m.client, 16);
    assert_eq!(m.mode, Mode::Prepaid);
    assert_eq!(m.poll.status.0, std::time::Duration::from_secs(60));
    assert_eq!(c.buses[0].meters[1].mode, Mode::Postpaid);
    assert_eq!(m.password.as_ref().unwrap().expose(), b"hunter22");
    assert!(
        !format!("{c:?}").contains("hunter22"),
        "Debug must redact the password"
    );
    assert_eq!(c.buses[1].protocol, BusProtocol::Wrapper);
    std::fs::remove_dir_all(dir).ok();
}

fn bus_with(meters: &str) -> String {
    format!("[[bus]]\nname = \"b\"\nport = \"/dev/ttyUSB0\"\n{meters}")
}

#[test]
fn fleet_mistakes_name_line_key_and_fix() {
    let cases: &[(&str, usize, &str, &str)] = &[
        // (meters, line, key, words of the message)
        ("[[bus.meter]]\nserial = \"A\"\nphysical_address = 5\n", 6, "physical_address", "16..=16381"),
        ("[[bus.meter]]\nserial = \"A\"\n[[bus.meter]]\nserial = \"A\"\n", 7, "meter[1].serial", "configured twice"),
        ("[[bus.meter]]\nserial = \"A\"\nphysical_address = 20\n[[bus.meter]]\nserial = \"B\"\nphysical_address = 20\n", 9, "physical_address", "already used"),
        ("[[bus.meter]]\nserial = \"A\"\npassword_file = \"/nonexistent/pw\"\n", 6, "password_file", "/nonexistent/pw"),
        ("[[bus.meter]]\nserial = \"A\"\nclient = 200\n", 6, "client", "1..=127"),
        ("[[bus.meter]]\nserial = \"A\"\nadress = 3\n", 6, "adress", "unknown field"),
        ("[[bus.meter]]\nserial = \"A\"\nphysical_address = \"x\"\n", 6, "physical_address", "invalid type"),
    ];
    for (meters, line, key, words) in cases {
        let err = parse(&bus_with(meters)).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.line(), Some(*line), "{msg}");
        assert!(msg.contains(key), "key {key} in: {msg}");
        assert!(msg.contains(words), "{words} in: {msg}");
        assert!(msg.starts_with("site.toml:"), "{msg}");
    }
    let err = parse("[[bus]]\nname = \"b\"\n").unwrap_err();
    assert!(err.to_string().contains("exactly one of `port`"), "{err}");
    let err = parse("[[bus]]\nname = \"b\"\nport = \"/dev/x\"\nline = \"9600 9Q1\"\n").unwrap_err();
    assert_eq!(err.line(), Some(4), "{err}");
    let err = parse("[poll]\njitter = 0.9\n").unwrap_err();
    assert!(err.to_string().contains("jitter"), "{err}");
    let err = parse("[poll]\nstatus = \"5 minutes\"\n").unwrap_err();
    assert_eq!(err.line(), Some(2), "{err}");
}

#[test]
fn profile_entry_override_and_bad_profile_file() {
    let c = parse("[[profile.object]]\nreads = \"14\"\nclass = 1\nobis = \"0.0.96.128.14.255\"\nattribute = 2\nprovenance = \"guess\"\n").unwrap();
    let e = c
        .profile
        .object(crate::profile::Reads::Short(crate::codes::ShortCode(14)))
        .unwrap();
    assert_eq!(e.target.class_id, 1);
    let err = parse("[profile]\nfile = \"/nonexistent/profile.toml\"\n").unwrap_err();
    assert_eq!(err.line(), Some(2));
    assert!(err.to_string().contains("profile.file"), "{err}");
}

#[test]
fn alerts_file_is_under_the_state_dir_unless_absolute() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("log")).unwrap();
    let state = dir.path().join("state");
    let at = |alerts: &str| {
        let mut text = format!("[agent]\nstate_dir = \"{}\"\n", state.display());
        if !alerts.is_empty() {
            text.push_str(&format!("alerts_file = \"{alerts}\"\n"));
        }
        parse(&text)
    };
    // Default, a bare name and an absolute path in the state dir: the state dir need
    // not exist yet (the daemon creates it).
    for alerts in [
        "",
        "site.jsonl",
        &state.join("alerts.jsonl").display().to_string(),
    ] {
        let c = at(alerts).unwrap_or_else(|e| panic!("{alerts}: {e}"));
        let name = if alerts.is_empty() {
            "alerts.jsonl"
        } else {
            alerts
        };
        assert_eq!(c.agent.alerts_file_path(), state.join(name));
    }
    let outside = dir.path().join("log/alerts.jsonl");
    let c = at(&outside.display().to_string()).unwrap();
    assert_eq!(c.agent.alerts_file_path(), outside);
    assert_eq!(c.agent.alerts_file.as_deref(), Some(outside.as_path()));
}

#[test]
fn alerts_file_in_a_missing_directory_names_line_key_and_directory() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let text = format!(
        "[agent]\nstate_dir = \"{}\"\nlog_format = \"text\"\nalerts_file = \"{}\"\n",
        dir.path().display(),
        missing.join("alerts.jsonl").display()
    );
    let err = parse(&text).unwrap_err();
    assert_eq!(err.line(), Some(4), "{err}");
    let msg = err.to_string();
    assert!(msg.starts_with("site.toml:4:"), "{msg}");
    assert!(msg.contains("key `agent.alerts_file`"), "{msg}");
    assert!(
        msg.contains(&format!(
            "the directory {} does not exist",
            missing.display()
        )),
        "{msg}"
    );
    // Relative: under the state dir, whose subdirectory is missing.
    let text = format!(
        "[agent]\nalerts_file = \"sub/alerts.jsonl\"\nstate_dir = \"{}\"\n",
        dir.path().display()
    );
    let err = parse(&text).unwrap_err();
    assert_eq!(err.line(), Some(2), "{err}");
    assert!(
        err.to_string().contains(&format!(
            "{} does not exist",
            dir.path().join("sub").display()
        )),
        "{err}"
    );
    // Not a file: empty, or an existing directory.
    for bad in ["", "."] {
        let text = format!(
            "[agent]\nstate_dir = \"{}\"\nalerts_file = \"{bad}\"\n",
            dir.path().display()
        );
        let err = parse(&text).unwrap_err();
        assert!(
            err.to_string().contains("agent.alerts_file"),
            "{bad}: {err}"
        );
    }
}
