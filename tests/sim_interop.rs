//! An independent DLMS client (Gurux's Python gurux-dlms, from `scripts/peers`) reads the
//! simulator: SNRM/UA, AARQ/AARE with and without LLS, the object list in blocks, a
//! register with its scaler, an event log by entry, the relay methods, release. The sim
//! and the agent share our protocol crate; this catches a mistake they would share.
//!
//! Runs when `CALIN_PY` names a Python with gurux-dlms (`scripts/test` sets it); without
//! it the test says so and passes, except under CI where it fails. Only 127.0.0.1.

use std::process::Stdio;
use std::time::Duration;

use calin_agent::sim::{Framing, Scenario, SimOptions, Simulator};
use tokio::process::Command;

const CLIENT: &str = r#"import socket, sys
from gurux_dlms import GXDLMSClient, GXReplyData, GXByteBuffer
from gurux_dlms.enums import InterfaceType, Authentication, ObjectType, DataType

host, port, physical, client_sap, password, iface = sys.argv[1:7]
port, physical, client_sap = int(port), int(physical), int(client_sap)
wrapper = iface == "wrapper"
sock = socket.create_connection((host, port), timeout=5)
client = GXDLMSClient(
    True,
    client_sap,
    1 if wrapper else GXDLMSClient.getServerAddress(1, physical),
    Authentication.LOW if password != "-" else Authentication.NONE,
    password if password != "-" else None,
    InterfaceType.WRAPPER if wrapper else InterfaceType.HDLC,
)

def packet(data, reply):
    sock.sendall(bytes(data))
    rd = GXByteBuffer()
    while not client.getData(rd, reply, GXReplyData()):
        chunk = sock.recv(4096)
        if not chunk:
            raise Exception("closed")
        rd.set(chunk)

def block(data, reply):
    if isinstance(data, list):
        for it in data:
            reply.clear()
            block(it, reply)
        return
    packet(data, reply)
    while reply.isMoreData():
        packet(client.receiverReady(reply), reply)

def run(data):
    reply = GXReplyData()
    block(data, reply)
    return reply

if not wrapper:
    client.parseUAResponse(run(client.snrmRequest()).data)
client.parseAareResponse(run(client.aarqRequest()).data)
objects = client.parseObjects(run(client.getObjectsRequest()).data, True)
print("objects", len(objects))
def read(obj, attr):
    return client.updateValue(obj, attr, run(client.read(obj, attr)).value)
reg = objects.findByLN(ObjectType.REGISTER, "1.0.1.8.0.255")
read(reg, 3); read(reg, 2)
print("energy", reg.value, reg.scaler, int(reg.unit))
serial = objects.findByLN(ObjectType.DATA, "0.0.96.1.0.255")
read(serial, 2)
print("serial", bytes(serial.value).decode() if not isinstance(serial.value, str) else serial.value)
pg = objects.findByLN(ObjectType.PROFILE_GENERIC, "0.0.99.98.0.255")
read(pg, 3)
client.updateValue(pg, 2, run(client.readRowsByEntry(pg, 4, 2)).value)
print("rows", len(pg.buffer), pg.buffer[-1][1] if pg.buffer else "-")
if client_sap != 16:
    dc = objects.findByLN(ObjectType.DISCONNECT_CONTROL, "0.0.96.3.10.255")
    run(client.method(dc, 1, 0, DataType.INT8))
    read(dc, 2)
    print("relay", dc.outputState)
    run(client.method(dc, 2, 0, DataType.INT8))
    read(dc, 2)
    print("relay", dc.outputState)
run(client.releaseRequest())
if not wrapper:
    run(client.disconnectRequest())
print("done")
"#;

const SCENARIO: &str = "start = \"2024-05-01T08:00:00Z\"
[[meter]]
physical = 17
serial = \"47009999\"
password = \"12345678\"
public_reads = \"all\"
[meter.codes]
01 = { value = 424242, scaler = 1, unit = \"Wh\" }
[[meter.events]]
log = \"0.0.99.98.0.255\"
entries = [
  { time = \"2024-01-01T00:00:00Z\", code = 1 },
  { time = \"2024-02-01T00:00:00Z\", code = 1 },
  { time = \"2024-03-01T00:00:00Z\", code = 1 },
  { time = \"2024-04-01T00:00:00Z\", code = 1 },
  { time = \"2024-04-02T00:00:00Z\", code = 7 },
]
";

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

/// Run the Gurux client; (exit success, stdout, stderr).
async fn gurux(py: &str, port: u16, args: &[&str]) -> (bool, String, String) {
    let dir = std::env::temp_dir().join(format!("calin-sim-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("client.py");
    std::fs::write(&script, CLIENT).unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        Command::new(py)
            .arg(&script)
            .arg("127.0.0.1")
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("gurux finishes")
    .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn gurux_reads_the_simulated_meter() {
    let Some(py) = python() else {
        eprintln!("CALIN_PY is not set: interop with gurux-dlms not run (scripts/test runs it)");
        return;
    };
    let scenario = Scenario::parse("interop.toml", SCENARIO).unwrap();
    let sim = Simulator::new(scenario, SimOptions::default()).unwrap();
    let (hdlc, _t1) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc)
        .await
        .unwrap();
    let (wrapper, _t2) = sim
        .serve_tcp(
            "127.0.0.1:0".parse().unwrap(),
            Framing::Wrapper { meter: 0 },
        )
        .await
        .unwrap();

    // Public client, HDLC, no authentication.
    let (ok, out, err) = gurux(&py, hdlc.port(), &["17", "16", "-", "hdlc"]).await;
    assert!(ok, "{out}\n{err}");
    // Gurux applies the scaler itself: 424242 × 10^1 Wh (unit 30).
    assert!(out.contains("energy 4242420.0 10.0 30"), "{out}");
    assert!(out.contains("serial 47009999"), "{out}");
    assert!(out.contains("rows 2 7"), "entries 4 and 5: {out}");
    assert!(out.trim_end().ends_with("done"), "{out}");

    // Operator with LLS: relay off and on again.
    let (ok, out, err) = gurux(&py, hdlc.port(), &["17", "1", "12345678", "hdlc"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("relay False\nrelay True"), "{out}");

    // A wrong password is refused with authentication-failure.
    let (ok, _, err) = gurux(&py, hdlc.port(), &["17", "1", "12345679", "hdlc"]).await;
    assert!(!ok);
    assert!(err.contains("Authentication failure"), "{err}");

    // The wrapper, client wPort 102.
    let (ok, out, err) = gurux(&py, wrapper.port(), &["17", "102", "12345678", "wrapper"]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("relay False\nrelay True"), "{out}");
    sim.handle().shutdown();
}
