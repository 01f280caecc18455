//! The `calin-sim` binary: its first stdout line, serving over TCP, the wrapper and a pty,
//! exit codes, and a clean exit on SIGTERM. Only 127.0.0.1.

use std::process::Stdio;
use std::time::Duration;

use calin_agent::protocol::apdu::{Aarq, Apdu, InitiateRequest};
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::obis::ObisCode;
use calin_agent::sim::testkit::{RawClient, WrapperClient};
use calin_agent::transport::{LineSettings, SerialLink, TcpLink};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

const WAIT: Duration = Duration::from_secs(10);

fn demo_scenario() -> String {
    format!(
        "{}/../config/scenarios/demo.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn sim(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_calin-sim"));
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    c
}

/// Start the simulator and read its first stdout line.
async fn start(args: &[&str]) -> (Child, String) {
    let mut child = sim(args).spawn().expect("calin-sim starts");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .expect("a line within the wait")
        .unwrap()
        .expect("a first line");
    (child, line)
}

fn tcp_port(line: &str) -> u16 {
    let addr = line
        .strip_prefix("listening tcp 127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    addr.parse()
        .unwrap_or_else(|_| panic!("no port in {line:?}"))
}

#[tokio::test]
async fn tcp_prints_the_listening_line_and_answers_snrm() {
    let (mut child, line) = start(&["--tcp", "127.0.0.1:0"]).await;
    let port = tcp_port(&line);
    let link = TcpLink::connect(&format!("127.0.0.1:{port}"), WAIT)
        .await
        .unwrap();
    let mut c = RawClient::public(link, 17).unwrap();
    let params = c.connect().await.unwrap();
    assert_eq!(params.max_info_rx, 128);
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
    assert_eq!(
        c.get(1, ObisCode::new(0, 0, 96, 1, 0, 255), 2, None)
            .await
            .unwrap(),
        Ok(Data::OctetString(b"47001234567".to_vec()))
    );
    child.kill().await.unwrap();
}

#[tokio::test]
async fn pty_prints_the_slave_path_and_answers_snrm() {
    let (mut child, line) = start(&["--pty", "--scenario", &demo_scenario()]).await;
    let path = line
        .strip_prefix("listening pty /dev/pts/")
        .map(|n| format!("/dev/pts/{n}"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    for physical in [20, 18] {
        let port = SerialLink::open(&path, LineSettings::new_8n1(9600))
            .await
            .unwrap();
        let mut c = RawClient::public(port, physical).unwrap();
        c.connect().await.unwrap();
        c.disconnect().await.unwrap();
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn wrapper_serves_the_chosen_meter_and_sigterm_stops_it() {
    let (mut child, line) = start(&[
        "--tcp",
        "127.0.0.1:0",
        "--wrapper",
        "--scenario",
        &demo_scenario(),
        "--meter",
        "farm-3",
        "--baud",
        "19200",
        "--time-scale",
        "4",
    ])
    .await;
    let port = tcp_port(&line);
    let link = TcpLink::connect(&format!("127.0.0.1:{port}"), WAIT)
        .await
        .unwrap();
    let mut c = WrapperClient::new(link, 16, 1);
    let aarq = Apdu::Aarq(Aarq::logical_name(None, InitiateRequest::new(512)));
    let aare = c.exchange(&aarq, WAIT).await.unwrap().expect("an AARE");
    assert!(matches!(Apdu::decode(&aare.apdu), Ok(Apdu::Aare(a)) if a.is_accepted()));
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(0), "a clean exit on SIGTERM");
}

/// Read byte by byte up to a line end.
async fn read_line(link: &mut (impl tokio::io::AsyncRead + Unpin)) -> Vec<u8> {
    let mut got = Vec::new();
    let mut b = [0u8; 1];
    while !got.ends_with(b"\r\n") {
        tokio::time::timeout(WAIT, link.read_exact(&mut b))
            .await
            .expect("an answer in time")
            .unwrap();
        got.push(b[0]);
    }
    got
}

#[tokio::test]
async fn optical_over_tcp_and_a_pty_answers_a_sign_on() {
    let (mut child, line) = start(&["--tcp", "127.0.0.1:0", "--optical"]).await;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", tcp_port(&line)))
        .await
        .unwrap();
    tcp.write_all(b"/?47001234567!\r\n").await.unwrap();
    assert_eq!(read_line(&mut tcp).await, b"/CLN5\\2CALIN-SIM\r\n");
    child.kill().await.unwrap();

    let (mut child, line) = start(&["--pty", "--protocol", "iec62056-21"]).await;
    let path = line
        .strip_prefix("listening pty ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let mut port = SerialLink::open(path, LineSettings::new_7e1(300))
        .await
        .unwrap();
    port.write_all(b"/?!\r\n").await.unwrap();
    assert_eq!(read_line(&mut port).await, b"/CLN5\\2CALIN-SIM\r\n");
    child.kill().await.unwrap();
}

#[tokio::test]
async fn dlt645_over_tcp_answers_a_wildcard_read_address() {
    let (mut child, line) = start(&["--tcp", "127.0.0.1:0", "--protocol", "dlt645"]).await;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", tcp_port(&line)))
        .await
        .unwrap();
    // 68 AA×6 68 13 00 CS 16: read the communication address (2007).
    let mut request = vec![0x68, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0x68, 0x13, 0x00];
    let cs = request.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    request.extend([cs, 0x16]);
    tcp.write_all(&request).await.unwrap();
    let mut reply = [0u8; 4 + 12 + 6];
    tokio::time::timeout(WAIT, tcp.read_exact(&mut reply))
        .await
        .unwrap()
        .unwrap();
    // Serial 47001234567 is address 047001234567: A0 = 67 .. A5 = 04.
    let address = [0x67, 0x45, 0x23, 0x01, 0x70, 0x04];
    assert_eq!(reply[..5], [0xFE, 0xFE, 0xFE, 0xFE, 0x68]);
    assert_eq!(reply[5..11], address);
    assert_eq!(reply[12..14], [0x93, 0x06]);
    let plain: Vec<u8> = reply[14..20].iter().map(|b| b.wrapping_sub(0x33)).collect();
    assert_eq!(plain, address);
    child.kill().await.unwrap();
}

async fn exit_of(args: &[&str]) -> (Option<i32>, String) {
    let out = tokio::time::timeout(WAIT, sim(args).output())
        .await
        .unwrap()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn exit_codes_follow_sysexits() {
    let dir = std::env::temp_dir().join(format!("calin-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[meter]]\nphysical = 17\nserial = \"1\"\n[meter.codes]\n87 = 40\n",
    )
    .unwrap();
    let bad = bad.to_str().unwrap();

    let (code, err) = exit_of(&["--tcp", "127.0.0.1:0", "--scenario", bad]).await;
    assert_eq!(code, Some(78));
    assert!(err.contains("bad.toml:5:"), "{err}");
    assert!(err.contains("codes.87"), "{err}");
    assert_eq!(exit_of(&["--check", bad]).await.0, Some(78));
    assert_eq!(exit_of(&["--check", &demo_scenario()]).await.0, Some(0));
    assert_eq!(exit_of(&[]).await.0, Some(64), "no --tcp or --pty");
    assert_eq!(exit_of(&["--pty", "--wrapper"]).await.0, Some(64));
    assert_eq!(
        exit_of(&["--tcp", "127.0.0.1:0", "--meter", "farm-3"])
            .await
            .0,
        Some(64)
    );
    let (code, err) = exit_of(&["--tcp", "127.0.0.1:0", "--wrapper", "--meter", "nobody"]).await;
    assert_eq!(code, Some(64));
    assert!(err.contains("nobody"), "{err}");
    assert_eq!(
        exit_of(&["--tcp", "127.0.0.1:0", "--time-scale", "0"])
            .await
            .0,
        Some(64)
    );
    let (code, err) = exit_of(&["--tcp", "127.0.0.1:0", "--optical", "--wrapper"]).await;
    assert_eq!(code, Some(64));
    assert!(err.contains("different protocols"), "{err}");
    let (code, err) = exit_of(&["--tcp", "127.0.0.1:0", "--dlt645-version", "1997"]).await;
    assert_eq!(code, Some(64));
    assert!(err.contains("--protocol dlt645"), "{err}");
    let dlms_only = dir.join("dlms.toml");
    std::fs::write(
        &dlms_only,
        "[[meter]]\nphysical = 17\nserial = \"1\"\nprotocols = [\"dlms\"]\n",
    )
    .unwrap();
    let dlms_only = dlms_only.to_str().unwrap();
    let (code, err) =
        exit_of(&["--tcp", "127.0.0.1:0", "--optical", "--scenario", dlms_only]).await;
    assert_eq!(code, Some(78));
    assert!(err.contains("iec62056-21"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
