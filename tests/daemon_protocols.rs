//! The daemon polls meters of every protocol: DL/T 645 on RS-485, and the optical port
//! (IEC 62056-21) as a mode C readout, as programming-mode R1 reads, and in mode E into
//! DLMS over HDLC. Each bus is a PTY pair served by the in-process simulator; a change
//! made through the simulator's handle must come out as the same alert the DLMS path
//! raises (a DL/T 645 magnetic bit is status 1015, tamper).

mod daemon_support;

use calin_agent::agent::{AlertKind, MeterId, PollOutcome, Store, StoreConfig};
use calin_agent::codes::{Category, OperatingStatus, ShortCode};
use calin_agent::protocol::iec62056_21::server::{MeterEvent, SessionEnd};
use calin_agent::sim::{Framing, SimEvent, Simulator};
use daemon_support::*;
use std::path::Path;

/// Config text with one bus served at `port`: `bus` is the bus's own keys and tables,
/// `meters` each meter's `[[bus.meter]]` body.
fn one_bus(state: &Path, port: &Path, bus: &str, meters: &[String]) -> String {
    let mut t = config_text(state, &[], "");
    t.push_str(&format!(
        "\n[[bus]]\nname = \"b\"\nport = \"{}\"\nresponse_timeout = \"500ms\"\ninter_char_timeout = \"50ms\"\nretries = 1\n{bus}\n",
        port.display()
    ));
    for m in meters {
        t.push_str(&format!("[[bus.meter]]\n{m}\n"));
    }
    t
}

fn serve(sim: &Simulator, framing: Framing) -> std::path::PathBuf {
    // Dropping the task's handle detaches it: the pty is served while `sim` lives.
    let (path, _serving) = sim.serve_pty(framing).unwrap();
    path
}

/// The latest stored reading of `meter`.
fn last_reading(state: &Path, meter: &str) -> calin_agent::agent::MeterReading {
    let store = Store::open(StoreConfig::in_dir(state)).unwrap();
    let all = store.readings(&MeterId::new(meter), 0, 100_000).unwrap();
    all.into_iter()
        .rev()
        .find_map(|o| match o {
            PollOutcome::Read(r) => Some(r),
            PollOutcome::Unreachable { .. } => None,
        })
        .expect("a stored reading")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlt645_meters_are_polled_and_their_status_bits_raise_the_dlms_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // DT000005 and DT000006: DL/T 645 addresses 000000000005 and 000000000006.
    let sim = simulator(scenario(2, 5, 17));
    let h = sim.handle();
    let port = serve(&sim, Framing::Dlt645 { version: None });
    let meters: Vec<String> = (5..7)
        .map(|i| {
            format!(
                "serial = \"{}\"\n[bus.meter.dlt645]\naddress = \"{:012}\"\nversion = \"2007\"",
                serial(i),
                i
            )
        })
        .collect();
    let text = one_bus(&state, &port, "protocol = \"dlt645\"", &meters);
    let (_, config) = write_config(dir.path(), &text);
    assert_eq!(
        config.buses[0].endpoint,
        calin_agent::config::BusEndpoint::Serial {
            port: port.display().to_string(),
            line: calin_agent::config::DLT645_LINE
        },
        "a DL/T 645 bus without `line` runs at 2400 8E1"
    );
    let mut d = start(config);
    let (a, b) = (serial(5), serial(6));
    let first = d.recorded_polls(&a, 2).await;
    assert!(
        first.is_empty(),
        "a healthy meter raises nothing: {first:?}"
    );
    d.polls(&b, true, 2).await;

    // Meter a: magnetic interference (the C1 11 magnetic bit) is status 1015, tamper.
    h.set_status(0, 1015).unwrap();
    let tamper = d
        .wait_alert(&a, AlertKind::StatusChanged, |x| x.code == Some(1015))
        .await;
    assert_eq!(tamper.category, Some(Category::Tamper));
    // The power-down counter (DI 03 11 00 00) grows by two.
    h.bump_counter(0, ShortCode(52), 2).unwrap();
    let grew = d.wait_alert(&a, AlertKind::CounterGrew, |_| true).await;
    assert_eq!(grew.code, Some(52));
    h.set_status(0, 1000).unwrap();
    d.wait_alert(&a, AlertKind::StatusCleared, |_| true).await;

    // A meter that goes silent is unreachable, and reachable again.
    h.set_offline(1, true).unwrap();
    d.wait_alert(&b, AlertKind::Unreachable, |_| true).await;
    h.set_offline(1, false).unwrap();
    d.wait_alert(&b, AlertKind::Reachable, |_| true).await;
    d.stop().await;

    let r = last_reading(&state, &b);
    assert_eq!(r.status, Some(OperatingStatus(1000)));
    assert!(r.values.contains_key(&1), "energy read: {r:?}");
    assert!(r.values.contains_key(&31), "power read: {r:?}");
    assert_eq!(r.counters.len(), 4, "counters 40, 46, 52, 58: {r:?}");
    let alerts = assert_store_and_file_agree(&state);
    assert_eq!(
        count(&alerts, &a, AlertKind::StatusChanged),
        1,
        "{alerts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optical_readouts_of_two_addressed_meters_raise_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(2, 5, 17));
    let h = sim.handle();
    let port = serve(&sim, Framing::Optical);
    // The simulator's optical address is the serial number.
    let meters: Vec<String> = (5..7)
        .map(|i| {
            format!(
                "serial = \"{0}\"\n[bus.meter.optical]\naddress = \"{0}\"",
                serial(i)
            )
        })
        .collect();
    let bus = "protocol = \"optical\"\n[bus.optical]\nmode = \"readout\"\nmax_baud = 9600";
    let text = one_bus(&state, &port, bus, &meters);
    let (_, config) = write_config(dir.path(), &text);
    let mut d = start(config);
    let (a, b) = (serial(5), serial(6));
    let first = d.recorded_polls(&a, 2).await;
    assert!(
        first.is_empty(),
        "a healthy meter raises nothing: {first:?}"
    );

    // Status C.5.0 of meter b only: the address reaches the right meter.
    h.set_status(1, 1005).unwrap();
    let cover = d
        .wait_alert(&b, AlertKind::StatusChanged, |x| x.code == Some(1005))
        .await;
    assert_eq!(cover.category, Some(Category::Tamper));
    // The power failure count C.7.0 (short code 52) grows.
    h.bump_counter(1, ShortCode(52), 1).unwrap();
    let grew = d.wait_alert(&b, AlertKind::CounterGrew, |_| true).await;
    assert_eq!(grew.code, Some(52));
    d.stop().await;

    let r = last_reading(&state, &a);
    assert_eq!(r.status, Some(OperatingStatus(1000)), "{r:?}");
    assert!(r.values.contains_key(&1), "energy 1.8.0 read: {r:?}");
    let alerts = assert_store_and_file_agree(&state);
    assert_eq!(
        count(&alerts, &a, AlertKind::StatusChanged),
        0,
        "{alerts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optical_register_reads_and_mode_e_poll_a_lone_meter() {
    for (mode, extra) in [("registers", ""), ("mode-e", "physical_address = 17\n")] {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let sim = simulator(scenario(1, 5, 17));
        let h = sim.handle();
        let mut seen = h.subscribe();
        let port = serve(&sim, Framing::Optical);
        let bus = format!("protocol = \"optical\"\n[bus.optical]\nmode = \"{mode}\"");
        let meter = format!("serial = \"{}\"\n{extra}", serial(5));
        let text = one_bus(&state, &port, &bus, &[meter]);
        let (_, config) = write_config(dir.path(), &text);
        let mut d = start(config);
        let m = serial(5);
        let first = d.recorded_polls(&m, 2).await;
        assert!(first.is_empty(), "{mode}: healthy: {first:?}");
        h.set_code(0, ShortCode(87), 8).unwrap();
        let relay = d
            .wait_alert(&m, AlertKind::RelayReasonChanged, |x| x.sub_code == Some(8))
            .await;
        assert_eq!(relay.meter.as_str(), m, "{mode}");
        d.stop().await;
        let r = last_reading(&state, &m);
        assert_eq!(r.relay_reason, Some(8), "{mode}: {r:?}");
        assert!(r.values.contains_key(&1), "{mode}: energy read: {r:?}");
        // The meter saw the session the mode asks for: R1 reads ended by B0, or the
        // switch to HDLC (and never a mode C readout).
        let (mut breaks, mut mode_e, mut readouts) = (0, 0, 0);
        loop {
            let e = match seen.try_recv() {
                Ok(e) => e,
                Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
                Err(_) => break,
            };
            match e {
                SimEvent::Optical {
                    event: MeterEvent::Ended(SessionEnd::Break),
                    ..
                } => breaks += 1,
                SimEvent::Optical {
                    event: MeterEvent::Ended(SessionEnd::ReadoutSent),
                    ..
                } => readouts += 1,
                SimEvent::OpticalModeE { .. } => mode_e += 1,
                _ => {}
            }
        }
        assert_eq!(readouts, 0, "{mode}");
        match mode {
            "registers" => assert!(breaks >= 2 && mode_e == 0, "{breaks} {mode_e}"),
            _ => assert!(mode_e >= 2, "{mode_e}"),
        }
    }
}

/// One RS-485 line shared by a DLMS meter and a DL/T 645 meter: a pty whose master
/// side is wired to two simulator stations (HDLC and DL/T 645) of one simulator, so
/// each station hears every frame on the line (the other protocol's frames are noise
/// to it) and both answer onto the same wire.
fn mixed_line(sim: &Simulator) -> std::path::PathBuf {
    use calin_agent::transport::PtyLink;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let pty = PtyLink::open().unwrap();
    let path = pty.slave_path().to_owned();
    let (hdlc_near, hdlc_far) = tokio::io::duplex(4096);
    let (dlt_near, dlt_far) = tokio::io::duplex(4096);
    drop(sim.serve_link(hdlc_far, Framing::Hdlc));
    drop(sim.serve_link(dlt_far, Framing::Dlt645 { version: None }));
    let (mut from_line, to_line) = tokio::io::split(pty);
    let (hdlc_rx, mut hdlc_tx) = tokio::io::split(hdlc_near);
    let (dlt_rx, mut dlt_tx) = tokio::io::split(dlt_near);
    // The line to both stations.
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok(n) = from_line.read(&mut buf).await {
            if n == 0
                || hdlc_tx.write_all(&buf[..n]).await.is_err()
                || dlt_tx.write_all(&buf[..n]).await.is_err()
            {
                break;
            }
        }
    });
    // Both stations' answers onto the line.
    let to_line = std::sync::Arc::new(tokio::sync::Mutex::new(to_line));
    for mut rx in [
        Box::new(hdlc_rx) as Box<dyn tokio::io::AsyncRead + Unpin + Send>,
        Box::new(dlt_rx),
    ] {
        let out = to_line.clone();
        tokio::spawn(async move {
            let mut buf = [0u8; 512];
            while let Ok(n) = rx.read(&mut buf).await {
                if n == 0 || out.lock().await.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dlms_and_dlt645_meters_share_one_rs485_line() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let scenario = calin_agent::sim::Scenario::parse(
        "mixed.toml",
        r#"
start = "2024-05-01T08:00:00Z"
[[meter]]
physical = 17
serial = "DT000005"
protocols = ["dlms"]
[meter.codes]
01 = { value = 1005, scaler = 0, unit = "Wh" }
[[meter]]
physical = 18
serial = "DT000006"
protocols = ["dlt645"]
[meter.codes]
01 = { value = 2006, scaler = 0, unit = "Wh" }
"#,
    )
    .unwrap();
    let sim = simulator(scenario);
    let h = sim.handle();
    let port = mixed_line(&sim);
    let meters = [
        format!("serial = \"{}\"\nphysical_address = 17", serial(5)),
        format!(
            "serial = \"{}\"\nprotocol = \"dlt645\"\n[bus.meter.dlt645]\naddress = \"000000000006\"",
            serial(6)
        ),
    ];
    let text = one_bus(&state, &port, "line = \"9600 8N1\"", &meters);
    let (_, config) = write_config(dir.path(), &text);
    let bus = &config.buses[0];
    assert_eq!(
        bus.meters[0].line, None,
        "the DLMS meter uses the bus's line"
    );
    assert_eq!(
        bus.meters[1].line,
        Some(calin_agent::config::DLT645_LINE),
        "the DL/T 645 meter gets 2400 8E1 unless it says otherwise"
    );
    let mut d = start(config);
    let (a, b) = (serial(5), serial(6));
    d.polls(&a, true, 2).await;
    d.polls(&b, true, 2).await;
    // Each meter's change reaches only its own alerts.
    h.set_status(1, 1015).unwrap();
    d.wait_alert(&b, AlertKind::StatusChanged, |x| x.code == Some(1015))
        .await;
    h.set_status(0, 1005).unwrap();
    d.wait_alert(&a, AlertKind::StatusChanged, |x| x.code == Some(1005))
        .await;
    d.stop().await;
    // Energy 1.005 and 2.006 kWh: each value came from the right meter.
    let (ra, rb) = (last_reading(&state, &a), last_reading(&state, &b));
    assert_ne!(ra.values.get(&1), rb.values.get(&1), "{ra:?} {rb:?}");
    assert!(ra.values.contains_key(&1) && rb.values.contains_key(&1));
    let alerts = assert_store_and_file_agree(&state);
    assert_eq!(
        count(&alerts, &a, AlertKind::StatusChanged),
        1,
        "{alerts:?}"
    );
    assert_eq!(
        count(&alerts, &b, AlertKind::StatusChanged),
        1,
        "{alerts:?}"
    );
}
