//! The service unit stays hardened: systemd's own offline analysis scores it.

use std::path::Path;
use std::process::Command;

#[test]
fn unit_exposure_is_ok() {
    let unit = Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/calin-agent.service");
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=true", "--threshold=20"])
        .arg(&unit)
        .output()
        .expect("systemd-analyze is needed (Debian package systemd; .ci/run installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let score: f64 = text
        .lines()
        .find_map(|l| l.split("exposure level for calin-agent.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("an overall exposure line");
    assert!(score <= 2.0, "exposure {score} > 2.0:\n{text}");
}

#[test]
fn unit_has_what_a_gateway_needs() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("systemd/calin-agent.service"),
    )
    .unwrap();
    for line in [
        "Type=notify",
        "WatchdogSec=",
        "Restart=on-failure",
        "ExecStartPre=/usr/bin/calin-agent check-config",
        "SupplementaryGroups=dialout",
        "StateDirectory=calin-agent",
        // agent.alerts_file may live in /var/log/calin-agent (ProtectSystem=strict).
        "LogsDirectory=calin-agent",
        "ConfigurationDirectory=calin-agent",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=",
        "SystemCallFilter=",
        "DeviceAllow=char-ttyUSB rw",
    ] {
        assert!(unit.lines().any(|l| l.starts_with(line)), "missing {line}");
    }
    assert!(
        !unit.contains("PrivateDevices=yes"),
        "would hide the serial ports"
    );
}
