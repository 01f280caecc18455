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

const DLT645_BUS: &str = "[[bus]]\nname = \"d\"\nport = \"/dev/ttyUSB1\"\nprotocol = \"dlt645\"\n";
const OPTICAL_BUS: &str =
    "[[bus]]\nname = \"o\"\nport = \"/dev/ttyUSB2\"\nprotocol = \"optical\"\n";

#[test]
fn dlt645_and_optical_meters_load_with_their_port_settings() {
    let text = format!(
        "{DLT645_BUS}[[bus.meter]]\nserial = \"A\"\n[bus.meter.dlt645]\naddress = \"047001234567\"\nversion = \"1997\"\npreamble = false\n\
         [[bus.meter]]\nserial = \"B\"\n[bus.meter.dlt645]\naddress = \"047001234568\"\n\
         {OPTICAL_BUS}[bus.optical]\nmode = \"registers\"\nmax_baud = 4800\nswitch_delay = \"50ms\"\nsoft_parity = true\n\
         [[bus.meter]]\nserial = \"C\"\n[bus.meter.optical]\nbcc = \"warn-only\"\n"
    );
    let c = parse(&text).unwrap();
    let d = &c.buses[0];
    assert!(matches!(&d.endpoint, BusEndpoint::Serial { line, .. } if *line == DLT645_LINE));
    let a = d.meters[0].dlt645.unwrap();
    assert_eq!(a.address.unwrap().to_string(), "047001234567");
    assert_eq!(a.version, crate::protocol::dlt645::Version::V1997);
    assert!(!a.preamble);
    let b = d.meters[1].dlt645.unwrap();
    assert_eq!(b.version, crate::protocol::dlt645::Version::V2007);
    assert!(b.preamble);
    assert!(d.meters[0].optical.is_none() && d.optical.is_none());
    let o = &c.buses[1];
    let settings = o.optical.unwrap();
    assert_eq!(settings.mode, OpticalMode::Registers);
    assert_eq!(settings.max_baud, Some(4800));
    assert_eq!(
        settings.switch_delay,
        Some(std::time::Duration::from_millis(50))
    );
    assert!(settings.soft_parity);
    let port = o.meters[0].optical.clone().unwrap();
    assert_eq!(port.address, None, "a lone meter needs no address");
    assert_eq!(port.bcc, crate::protocol::iec62056_21::BccPolicy::WarnOnly);
    // Defaults: an optical bus without [bus.optical] reads out in mode C.
    let c = parse(&format!("{OPTICAL_BUS}[[bus.meter]]\nserial = \"C\"\n")).unwrap();
    assert_eq!(c.buses[0].optical.unwrap().mode, OpticalMode::Readout);
    assert_eq!(
        c.buses[0].meters[0].optical.clone().unwrap().bcc,
        crate::protocol::iec62056_21::BccPolicy::Strict
    );
}

#[test]
fn protocol_settings_errors_name_the_line_key_and_fix() {
    let cases = [
        (
            format!("{DLT645_BUS}[[bus.meter]]\nserial = \"A\"\n[[bus.meter]]\nserial = \"B\"\n"),
            6,
            "bus[0].meter[0].dlt645.address",
            "give each its dlt645 address",
        ),
        (
            format!("{DLT645_BUS}[[bus.meter]]\nserial = \"A\"\n[bus.meter.dlt645]\naddress = \"12ab\"\n"),
            8,
            "bus[0].meter[0].dlt645.address",
            "12 digits",
        ),
        (
            format!("{DLT645_BUS}[[bus.meter]]\nserial = \"A\"\n[bus.meter.dlt645]\nversion = \"2009\"\n"),
            8,
            "bus[0].meter[0].dlt645.version",
            "\"2007\" or \"1997\"",
        ),
        (
            format!("{DLT645_BUS}[[bus.meter]]\nserial = \"A\"\n[bus.meter.dlt645]\naddress = \"000000000001\"\n[[bus.meter]]\nserial = \"B\"\n[bus.meter.dlt645]\naddress = \"000000000001\"\n"),
            12,
            "bus[0].meter[1].dlt645.address",
            "already used by bus[0].meter[0]",
        ),
        (
            format!("{DLT645_BUS}[bus.optical]\nmode = \"readout\"\n"),
            5,
            "bus[0].optical",
            "protocol = \"optical\"",
        ),
        (
            format!("{OPTICAL_BUS}line = \"9600 8N1\"\n"),
            5,
            "bus[0].line",
            "300 baud 7E1",
        ),
        (
            format!("{OPTICAL_BUS}[bus.optical]\nmax_baud = 7200\n"),
            6,
            "bus[0].optical.max_baud",
            "not a mode C baud rate",
        ),
        (
            format!("{OPTICAL_BUS}[[bus.meter]]\nserial = \"A\"\n[bus.meter.optical]\nbcc = \"lax\"\n"),
            8,
            "bus[0].meter[0].optical.bcc",
            "warn-only",
        ),
        (
            format!("{OPTICAL_BUS}[[bus.meter]]\nserial = \"A\"\n[bus.meter.dlt645]\naddress = \"000000000001\"\n"),
            7,
            "bus[0].meter[0].dlt645",
            "protocol = \"dlt645\"",
        ),
        (
            format!("{OPTICAL_BUS}[[bus.meter]]\nserial = \"A\"\n[[bus.meter]]\nserial = \"B\"\n"),
            6,
            "bus[0].meter[0].optical.address",
            "only a lone meter",
        ),
        (
            "[[bus]]\nname = \"r\"\nport = \"/dev/ttyUSB0\"\n[[bus.meter]]\nserial = \"A\"\nprotocol = \"optical\"\n".to_owned(),
            6,
            "bus[0].meter[0].protocol",
            "only DLMS (hdlc) and DL/T 645 meters share an RS-485 line",
        ),
        (
            "[[bus]]\nname = \"t\"\ntcp = \"127.0.0.1:4059\"\n[[bus.meter]]\nserial = \"A\"\nprotocol = \"dlt645\"\nline = \"2400 8E1\"\n".to_owned(),
            7,
            "bus[0].meter[0].line",
            "serial RS-485 bus",
        ),
    ];
    for (text, line, key, fix) in cases {
        let err = parse(&text).unwrap_err();
        let msg = err.to_string();
        assert_eq!(err.line(), Some(line), "{msg}\n{text}");
        assert!(msg.starts_with(&format!("site.toml:{line}:")), "{msg}");
        assert!(msg.contains(key), "{key} in {msg}");
        assert!(msg.contains(fix), "{fix} in {msg}");
    }
}

#[test]
fn a_site_readout_id_replaces_the_profiles_and_a_bad_one_is_refused() {
    let c = parse(
        "[[profile.readout]]\nid = \"C.99.1\"\nreads = \"87\"\nprovenance = \"public-code\"\n",
    )
    .unwrap();
    let relay: Vec<_> = c
        .profile
        .readout
        .iter()
        .filter(|e| e.reads == crate::profile::Reads::Short(crate::codes::ShortCode(87)))
        .collect();
    assert_eq!(relay.len(), 1);
    assert_eq!(relay[0].id, "C.99.1");
    assert_eq!(c.profile.readout.len(), Profile::calin().readout.len());
    let err =
        parse("[[profile.readout]]\nid = \"1.8.0*02\"\nreads = \"01\"\nprovenance = \"guess\"\n")
            .unwrap_err();
    assert_eq!(err.line(), Some(2));
    assert!(err.to_string().contains("profile.readout[0].id"), "{err}");
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
