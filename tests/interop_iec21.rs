//! An independent IEC 62056-21 client (pwitab's `iec62056-21` from PyPI, run by
//! `tests/peers/iec21_client.py`) reads the simulator's optical port: the mode C readout
//! over TCP with and without a device address, programming mode with the password and a
//! register read, and the readout over a pty, where the simulator also checks when the
//! client switched baud. The Rust side checks what the client printed against the
//! scenario; the sim and the agent share our protocol crate, this catches a shared mistake.
//!
//! Runs when `CALIN_PY` names a Python with the peers (`scripts/test` sets it); without
//! it the test says so and passes, except under CI where it fails. Only 127.0.0.1.

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::Duration;

use calin_agent::protocol::iec62056_21::{MeterEvent, SwitchCheck};
use calin_agent::sim::{wait_for, Framing, Scenario, SimEvent, SimOptions, Simulator};
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(60);

const SCENARIO: &str = r#"
start = "2024-05-01T08:00:00Z"
[[meter]]
name = "a"
physical = 17
serial = "47009999"
password = "12345678"
status = 1006
[meter.codes]
01 = { value = 5550123, scaler = 0, unit = "Wh" }
31 = { value = 730, scaler = 0, unit = "W" }
35 = { value = 910, scaler = -3 }
52 = 4
87 = 6
"#;

fn python() -> Option<String> {
    let py = std::env::var("CALIN_PY")
        .ok()
        .filter(|p| std::path::Path::new(p).exists());
    // In CI the peers must run: a missing interpreter is a failure, not a skip.
    assert!(
        py.is_some() || std::env::var_os("CI").is_none(),
        "CI is set but CALIN_PY does not name a Python with the peers (scripts/peers makes ./.venv)"
    );
    py
}

/// What the client printed.
#[derive(Debug, Default)]
struct Printed {
    ident: Vec<String>,
    /// address -> (value, unit)
    sets: BTreeMap<String, (String, String)>,
    password_request: Option<String>,
    register: Option<(String, String, String)>,
    done: bool,
}

fn parse(out: &str) -> Printed {
    let mut p = Printed::default();
    for line in out.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        match f.as_slice() {
            ["ident", rest @ ..] => p.ident = rest.iter().map(|s| s.to_string()).collect(),
            ["set", id, value, unit] => {
                p.sets
                    .insert(id.to_string(), (value.to_string(), unit.to_string()));
            }
            ["password-request", operand] => p.password_request = Some(operand.to_string()),
            ["register", id, value, unit] => {
                p.register = Some((id.to_string(), value.to_string(), unit.to_string()))
            }
            ["done"] => p.done = true,
            _ => panic!("unexpected line {line:?} in\n{out}"),
        }
    }
    p
}

/// Run the peer; its parsed output (it must succeed).
async fn peer(py: &str, args: &[&str]) -> Printed {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/peers/iec21_client.py");
    let out = tokio::time::timeout(
        WAIT,
        Command::new(py)
            .arg(script)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the peer finishes")
    .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let p = parse(&stdout);
    assert!(p.done, "{stdout}");
    p
}

fn set<'a>(p: &'a Printed, id: &str) -> (&'a str, &'a str) {
    let (v, u) = p
        .sets
        .get(id)
        .unwrap_or_else(|| panic!("no {id} in {:?}", p.sets));
    (v, u)
}

/// The data sets the scenario must show, as the client parsed them.
fn check_readout(p: &Printed, serial: &str) {
    // The client reads `/CLN5\2…`: manufacturer, baud character 5 (9600). It takes the
    // identification to start after one character past Z, so it keeps the `2` of `\2`.
    assert_eq!(p.ident[..2], ["CLN", "5"], "{:?}", p.ident);
    assert!(p.ident[2].ends_with("CALIN-SIM"), "{:?}", p.ident);
    assert_eq!(set(p, "C.1.0"), (serial, "-"));
    assert_eq!(set(p, "0.0.0"), (serial, "-"));
    assert_eq!(set(p, "1.8.0"), ("005550.123", "kWh"));
    assert_eq!(set(p, "1.7.0"), ("00.730", "kW"));
    assert_eq!(set(p, "13.7.0"), ("0.910", "-"));
    assert_eq!(set(p, "C.5.0"), ("1006", "-"));
    assert_eq!(set(p, "C.87.0"), ("6", "-"));
    assert_eq!(set(p, "C.7.0"), ("4", "-"));
    assert_eq!(set(p, "F.F"), ("00000000", "-"));
}

#[tokio::test]
async fn the_python_client_reads_the_optical_port_over_tcp() {
    let Some(py) = python() else {
        eprintln!("CALIN_PY is not set: interop with iec62056-21 not run (scripts/test runs it)");
        return;
    };
    let sim = Simulator::new(
        Scenario::parse("iec21.toml", SCENARIO).unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    let (addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Optical)
        .await
        .unwrap();
    let port = addr.port().to_string();

    let p = peer(&py, &["readout", "tcp", "127.0.0.1", &port]).await;
    check_readout(&p, "47009999");
    // With the meter's device address in the sign-on.
    let p = peer(&py, &["readout", "tcp", "127.0.0.1", &port, "47009999"]).await;
    check_readout(&p, "47009999");

    // A change through the handle shows in the next readout.
    sim.handle().set_status(0, 1015).unwrap();
    let p = peer(&py, &["readout", "tcp", "127.0.0.1", &port]).await;
    assert_eq!(set(&p, "C.5.0"), ("1015", "-"));

    // Programming mode: P0 carries the serial, P1 the meter password, then R1.
    let p = peer(
        &py,
        &["program", "tcp", "127.0.0.1", &port, "12345678", "1.8.0"],
    )
    .await;
    assert_eq!(p.password_request.as_deref(), Some("47009999"));
    assert_eq!(
        p.register,
        Some(("1.8.0".into(), "005550.123".into(), "kWh".into()))
    );
    sim.handle().shutdown();
}

#[tokio::test]
async fn the_python_client_reads_the_optical_port_on_a_pty_and_switches_in_time() {
    let Some(py) = python() else {
        eprintln!("CALIN_PY is not set: interop with iec62056-21 not run (scripts/test runs it)");
        return;
    };
    // The client rests 0.25 s after its ack and 0.5 s more before it reopens the port at
    // the new rate (flushing its input), so this meter answers 1.5 s after the ack.
    let text = format!("{SCENARIO}[meter.optical]\nreaction_ms = 1500\n");
    let sim = Simulator::new(
        Scenario::parse("iec21.toml", &text).unwrap(),
        SimOptions::default(),
    )
    .unwrap();
    let mut events = sim.handle().subscribe();
    let (path, _task) = sim.serve_pty(Framing::Optical).unwrap();
    let p = peer(&py, &["readout", "serial", path.to_str().unwrap()]).await;
    check_readout(&p, "47009999");
    let check = tokio::time::timeout(
        WAIT,
        wait_for(&mut events, |e| match e {
            SimEvent::Optical {
                event: MeterEvent::SwitchChecked(c),
                ..
            } => Some(*c),
            _ => None,
        }),
    )
    .await
    .unwrap()
    .unwrap();
    match check {
        SwitchCheck::InTime { after } => {
            assert!(after >= Duration::from_millis(300), "{after:?}")
        }
        other => panic!("the client switched at the wrong moment: {other:?}"),
    }
    assert!(
        !std::iter::from_fn(|| events.try_recv().ok())
            .any(|e| matches!(e, SimEvent::OpticalPeerBaud { .. })),
        "the client switched to 9600 as agreed"
    );
}
