//! The technician's probe (the real binary) against calin-sim (in-process), over
//! loopback TCP and a PTY pair: values decoded through the lookup core, errors that say
//! what to try, and recovery from damaged frames.

mod probe_support;

use calin_agent::codes::ShortCode;
use calin_agent::sim::{FaultKind, Framing, Scenario, SimOptions, Simulator};
use probe_support::{find, json_lines, probe};

fn sim() -> Simulator {
    Simulator::new(Scenario::builtin(), SimOptions::default()).expect("built-in scenario")
}

async fn tcp(sim: &Simulator, framing: Framing) -> String {
    let (addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), framing)
        .await
        .expect("listen on loopback");
    addr.to_string()
}

#[tokio::test]
async fn reads_every_short_code_over_tcp_as_json() {
    let s = sim();
    let addr = tcp(&s, Framing::Hdlc).await;
    let o = probe(&["--tcp", &addr, "--physical-address", "17", "--json"]).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = json_lines(&o);
    let energy = find(&lines, "01");
    assert_eq!(energy["class"], 3);
    assert_eq!(energy["obis"], "1.0.1.8.0.255");
    assert_eq!(energy["attribute"], 2);
    assert_eq!(energy["value"], 1234.567);
    assert_eq!(energy["unit"], "kWh");
    let status = find(&lines, "status");
    assert_eq!(status["value"], 1000);
    assert_eq!(status["category"], "normal");
    assert!(status["action"].as_str().unwrap().contains("No action"));
    let reason = find(&lines, "87");
    assert_eq!(reason["sub_code"], 0);
    for code in ["14", "31", "35", "40", "46", "52", "58", "41", "47", "53"] {
        find(&lines, code);
    }
}

#[tokio::test]
async fn a_tamper_is_decoded_with_its_action() {
    let s = sim();
    s.handle().set_status(0, 1015).unwrap();
    s.handle().bump_counter(0, ShortCode(40), 1).unwrap();
    let addr = tcp(&s, Framing::Hdlc).await;
    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--read",
        "status,40",
    ])
    .await;
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("1015"), "{text}");
    assert!(text.contains("Magnetic field interference"), "{text}");
    assert!(text.contains("critical"), "{text}");
    assert!(text.contains("magnet tampering"), "{text}");
    assert!(text.contains("Site visit: yes"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("40") && l.contains(" 2")),
        "{text}"
    );
}

#[tokio::test]
async fn reads_over_a_pty_pair_and_the_wrapper() {
    let s = sim();
    let (slave, _task) = s.serve_pty(Framing::Hdlc).expect("pty");
    let o = probe(&[
        "--port",
        slave.to_str().unwrap(),
        "--physical-address",
        "17",
        "--read",
        "01,status",
        "--json",
    ])
    .await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(find(&json_lines(&o), "01")["value"], 1234.567);

    let s = sim();
    let addr = tcp(&s, Framing::Wrapper { meter: 0 }).await;
    let o = probe(&["--tcp", &addr, "--wrapper", "--read", "31", "--json"]).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(find(&json_lines(&o), "31")["unit"], "kW");
}

#[tokio::test]
async fn damaged_and_duplicated_frames_are_recovered_never_taken_as_data() {
    let s = sim();
    let addr = tcp(&s, Framing::Hdlc).await;
    for fault in [
        FaultKind::FlipBit { bit: None },
        FaultKind::Duplicate,
        FaultKind::Truncate { count: None },
    ] {
        s.handle().inject_fault(0, fault.clone()).unwrap();
        let o = probe(&[
            "--tcp",
            &addr,
            "--physical-address",
            "17",
            "--read",
            "01",
            "--json",
            "--timeout",
            "0.5",
        ])
        .await;
        assert_eq!(
            o.status.code(),
            Some(0),
            "{fault:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(find(&json_lines(&o), "01")["value"], 1234.567, "{fault:?}");
    }
}

#[tokio::test]
async fn errors_say_what_failed_and_what_to_try() {
    let s = sim();
    let addr = tcp(&s, Framing::Hdlc).await;
    // Nobody at physical address 99.
    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "99",
        "--timeout",
        "0.3",
    ])
    .await;
    assert_eq!(o.status.code(), Some(69));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no answer at physical address 99"), "{err}");
    assert!(err.contains("--autodetect"), "{err}");
    // An object the meter does not have.
    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--read",
        "1:0.0.99.99.99.255:2",
    ])
    .await;
    assert_ne!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("0.0.99.99.99.255") && text.contains("not read"),
        "{text}"
    );
    // A password on the command line is refused before anything is sent.
    let o = probe(&["--tcp", &addr, "--password", "secret"]).await;
    assert_eq!(o.status.code(), Some(64));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--password-file"));
    // A missing port names itself.
    let o = probe(&["--port", "/dev/ttyNOPE9"]).await;
    assert_eq!(o.status.code(), Some(69));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/dev/ttyNOPE9"));
}

#[tokio::test]
async fn wrong_password_is_reported_as_such() {
    let s = sim();
    s.handle()
        .inject_fault(0, FaultKind::RejectPassword)
        .unwrap();
    let addr = tcp(&s, Framing::Hdlc).await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "00000000\n").unwrap();
    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--client",
        "1",
        "--password-file",
        pw.to_str().unwrap(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(77));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("refused the password"), "{err}");
    assert!(!err.contains("00000000"), "the password is never printed");
}

#[tokio::test]
async fn lists_the_meters_own_objects_and_traces_frames() {
    let s = sim();
    let addr = tcp(&s, Framing::Hdlc).await;
    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--list-objects",
        "--json",
    ])
    .await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let objs = json_lines(&o);
    assert!(
        objs.iter().any(|v| v["obis"] == "0.0.96.5.0.255"),
        "{objs:?}"
    );
    assert!(objs.iter().any(|v| v["class_id"] == 70));

    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--read",
        "status",
        "--trace",
    ])
    .await;
    let trace = String::from_utf8_lossy(&o.stderr);
    assert!(trace.contains("7E A0"), "hex of frames: {trace}");
    assert!(
        trace.contains("AARQ") && trace.contains("GET"),
        "decoded frames: {trace}"
    );
}

#[tokio::test]
async fn autodetect_finds_the_meter_and_prints_the_config() {
    let s = sim();
    let addr = tcp(&s, Framing::Hdlc).await;
    // The built-in meter sits at physical address 17: autodetect must find it from the
    // broadcast address even though we do not give it.
    let o = probe(&["--tcp", &addr, "--autodetect", "--timeout", "0.3"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(text.contains("ANSWERED"), "{text}");
    assert!(text.contains("[[bus.meter]]"), "{text}");
}

#[tokio::test]
async fn every_injected_fault_is_recovered_or_a_typed_error() {
    use std::time::Duration;
    let s = sim();
    let addr = tcp(&s, Framing::Hdlc).await;
    let args = [
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--read",
        "01",
        "--json",
        "--timeout",
        "0.5",
    ];
    let read = || probe(&args);
    // Recovered on the link: the value read is the right one.
    for fault in [
        FaultKind::Delay(Duration::from_millis(200)),
        FaultKind::DropBytes { count: 3 },
        FaultKind::Silence,
        FaultKind::WrongSource { physical: None },
    ] {
        s.handle().inject_fault(0, fault.clone()).unwrap();
        let o = read().await;
        assert_eq!(
            o.status.code(),
            Some(0),
            "{fault:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(find(&json_lines(&o), "01")["value"], 1234.567, "{fault:?}");
    }
    // Not recoverable: a typed error that names the cause, and no value printed.
    for (fault, words) in [
        (FaultKind::Frmr, "FRMR"),
        (FaultKind::RefuseAssociation, "association refused"),
    ] {
        s.handle().inject_fault(0, fault.clone()).unwrap();
        let o = read().await;
        assert_ne!(o.status.code(), Some(0), "{fault:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(words), "{fault:?}: {err}");
        assert!(o.stdout.is_empty(), "{fault:?}: nothing taken as data");
    }
}

#[tokio::test]
async fn writes_a_site_visit_report_pdf_and_html() {
    let s = sim();
    s.handle().set_status(0, 1015).unwrap();
    let addr = tcp(&s, Framing::Hdlc).await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("visit.pdf");
    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--report",
        pdf.to_str().unwrap(),
    ])
    .await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = std::process::Command::new("pdftotext")
        .args([pdf.to_str().unwrap(), "-"])
        .output()
        .expect("pdftotext (poppler-utils; .ci/run installs it)");
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("WHAT TO DO NOW"), "{text}");
    assert!(text.contains("1015") && text.contains("magnet"), "{text}");
    let html = dir.path().join("visit.html");
    let o = probe(&[
        "--tcp",
        &addr,
        "--physical-address",
        "17",
        "--report",
        html.to_str().unwrap(),
    ])
    .await;
    assert_eq!(o.status.code(), Some(0));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("1015"));
}
