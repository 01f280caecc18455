//! The simulator's DL/T 645 side on real links: frames written and checked by hand over
//! loopback TCP and a pty (checksum, +0x33, BCD values), the abnormal reply for an
//! unknown identifier, the wildcard read-address, and a tamper set through the handle
//! showing up as the magnetic bit of Calin `C1 11`. Only 127.0.0.1.

use std::time::Duration;

use calin_agent::codes::ShortCode;
use calin_agent::protocol::dlt645::{Address, DataId, Frame, Reply, Request, Version};
use calin_agent::sim::{wait_for, Framing, Scenario, SimEvent, SimOptions, Simulator};
use calin_agent::transport::{LineSettings, SerialLink};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(10);

const SCENARIO: &str = r#"
start = "2024-05-01T08:00:00Z"
[[meter]]
name = "a"
physical = 17
serial = "47001234567"
[meter.codes]
01 = { value = 42, scaler = 3, unit = "Wh" }
31 = { value = 2500, scaler = 0, unit = "W" }
52 = 3
"#;

/// 047001234567, A0 first.
const A: [u8; 6] = [0x67, 0x45, 0x23, 0x01, 0x70, 0x04];

fn sim() -> Simulator {
    Simulator::new(
        Scenario::parse("dlt645.toml", SCENARIO).unwrap(),
        SimOptions::default(),
    )
    .unwrap()
}

/// `FE FE 68 A 68 C L DATA+33 CS 16`, by hand (with a wake-up preamble).
fn frame(address: [u8; 6], control: u8, plain: &[u8]) -> Vec<u8> {
    let mut out = vec![0x68];
    out.extend(address);
    out.extend([0x68, control, plain.len() as u8]);
    out.extend(plain.iter().map(|b| b.wrapping_add(0x33)));
    let cs = out.iter().fold(0u8, |a, b| a.wrapping_add(*b));
    out.extend([cs, 0x16]);
    [vec![0xFE, 0xFE], out].concat()
}

/// Read one reply and check it by hand; (address, control, data with the offset removed).
async fn reply(link: &mut (impl AsyncRead + Unpin)) -> ([u8; 6], u8, Vec<u8>) {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    loop {
        let start = got.iter().position(|b| *b == 0x68);
        if let Some(s) = start {
            if got.len() >= s + 10 && got.len() >= s + 12 + usize::from(got[s + 9]) {
                break;
            }
        }
        let n = tokio::time::timeout(WAIT, link.read(&mut buf))
            .await
            .expect("a reply in time")
            .unwrap();
        assert!(n > 0, "closed");
        got.extend_from_slice(&buf[..n]);
    }
    let s = got.iter().position(|b| *b == 0x68).unwrap();
    assert!(
        got[..s].iter().all(|b| *b == 0xFE),
        "only FE before the frame"
    );
    let f = &got[s..];
    let len = usize::from(f[9]);
    assert_eq!(f.len(), 12 + len, "nothing after the frame");
    assert_eq!(f[7], 0x68);
    let cs = f[..10 + len].iter().fold(0u8, |a, b| a.wrapping_add(*b));
    assert_eq!(f[10 + len], cs, "checksum");
    assert_eq!(f[11 + len], 0x16);
    let data = f[10..10 + len]
        .iter()
        .map(|b| b.wrapping_sub(0x33))
        .collect();
    (f[1..7].try_into().unwrap(), f[8], data)
}

async fn ask(
    link: &mut (impl AsyncRead + AsyncWrite + Unpin),
    request: &[u8],
) -> ([u8; 6], u8, Vec<u8>) {
    link.write_all(request).await.unwrap();
    reply(link).await
}

#[tokio::test]
async fn reads_over_tcp_are_answered_byte_for_byte() {
    let sim = sim();
    let (addr, _task) = sim
        .serve_tcp(
            "127.0.0.1:0".parse().unwrap(),
            Framing::Dlt645 { version: None },
        )
        .await
        .unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();

    // Wildcard read-address: the lone meter answers with its address.
    let (a, control, data) = ask(&mut tcp, &frame([0xAA; 6], 0x13, &[])).await;
    assert_eq!((a, control), (A, 0x93));
    assert_eq!(data, A);

    // 00 01 00 00: 42 × 10^3 Wh = 42.00 kWh, BCD XXXXXX.XX LSB first.
    let (_, control, data) = ask(&mut tcp, &frame(A, 0x11, &[0, 0, 1, 0])).await;
    assert_eq!(control, 0x91);
    assert_eq!(data, [0, 0, 1, 0, 0x00, 0x42, 0x00, 0x00]);

    // 02 03 00 00: 2.5000 kW.
    let (_, _, data) = ask(&mut tcp, &frame(A, 0x11, &[0, 0, 3, 2])).await;
    assert_eq!(&data[4..], [0x00, 0x50, 0x02]);

    // An identifier the meter does not have: abnormal reply, "no requested data".
    let (_, control, data) = ask(&mut tcp, &frame(A, 0x11, &[0, 1, 1, 2])).await;
    assert_eq!((control, data.as_slice()), (0xD1, &[0x02][..]));

    // The same read through the protocol crate's codec agrees with the hand-made one.
    let request = Request::Read {
        di: DataId::v2007([0x03, 0x11, 0x00, 0x00]),
        params: Vec::new(),
    }
    .encode(Address::from_wire(A), Version::V2007)
    .unwrap();
    tcp.write_all(&request.to_bytes()).await.unwrap();
    let (a, control, data) = reply(&mut tcp).await;
    let f = Frame::new(
        Address::from_wire(a),
        calin_agent::protocol::dlt645::Control(control),
        data,
    )
    .unwrap();
    match Reply::decode(&f, Version::V2007).unwrap() {
        Reply::Read { di, data, .. } => {
            assert_eq!(di, DataId::v2007([0x03, 0x11, 0x00, 0x00]));
            assert_eq!(data, [0x03, 0x00, 0x00], "3 power downs");
        }
        other => panic!("{other:?}"),
    }
    sim.handle().shutdown();
}

#[tokio::test]
async fn a_magnetic_tamper_set_through_the_handle_is_the_magnetic_bit_of_c111() {
    let sim = sim();
    let mut events = sim.handle().subscribe();
    let (addr, _task) = sim
        .serve_tcp(
            "127.0.0.1:0".parse().unwrap(),
            Framing::Dlt645 { version: None },
        )
        .await
        .unwrap();
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let c111 = frame(A, 0x01, &[0x11, 0xC1]);
    let (_, control, data) = ask(&mut tcp, &c111).await;
    assert_eq!(control, 0x81, "the 1997 read of a 2007 meter");
    assert_eq!(data, [0x11, 0xC1, 0x00, 0x00]);

    let h = sim.handle();
    h.set_status(0, 1015).unwrap();
    h.set_code(0, ShortCode(87), 15).unwrap();
    let (_, _, data) = ask(&mut tcp, &c111).await;
    assert_eq!(data, [0x11, 0xC1, 0x02, 0x00], "bit 1: magnetic");
    let (_, _, data) = ask(&mut tcp, &frame(A, 0x01, &[0xF5, 0xEF])).await;
    assert_eq!(data, [0xF5, 0xEF, 0x15], "running status: sub-code 15");

    let served = tokio::time::timeout(
        WAIT,
        wait_for(&mut events, |e| match e {
            SimEvent::Dlt645Served {
                di: Some(di),
                abnormal: false,
                ..
            } if *di == DataId::v1997([0xC1, 0x11]) => Some(()),
            _ => None,
        }),
    )
    .await
    .unwrap();
    assert_eq!(served, Some(()));
    sim.handle().shutdown();
}

#[tokio::test]
async fn dlt645_over_a_pty() {
    let sim = sim();
    let (path, _task) = sim
        .serve_pty(Framing::Dlt645 {
            version: Some(Version::V1997),
        })
        .unwrap();
    let mut port = SerialLink::open(path.to_str().unwrap(), LineSettings::new_8n1(2400))
        .await
        .unwrap();
    // Served as 1997: 90 10 is the energy, and 0x11 frames go unanswered.
    let (_, control, data) = ask(&mut port, &frame(A, 0x01, &[0x10, 0x90])).await;
    assert_eq!(control, 0x81);
    assert_eq!(data, [0x10, 0x90, 0x00, 0x42, 0x00, 0x00]);
}

/// The agent's own DL/T 645 reader (`meter::dlt645`) against the simulator: it finds the
/// lone meter with the wildcard, and reads the status from Calin `C1 11` as the
/// operating status the handle set. Both ends are ours; the bytes are checked by hand above.
#[tokio::test]
async fn the_agents_dlt645_reader_reads_the_simulator() {
    use calin_agent::meter::dlt645::{all_reads, Dlt645Config, Dlt645Meter};
    use calin_agent::meter::read::ReadValue;
    use calin_agent::profile::Reads;
    use calin_agent::transport::{BoxLink, TcpLink};

    let sim = sim();
    sim.handle().set_status(0, 1015).unwrap();
    let (addr, _task) = sim
        .serve_tcp(
            "127.0.0.1:0".parse().unwrap(),
            Framing::Dlt645 { version: None },
        )
        .await
        .unwrap();
    let link: BoxLink = Box::new(TcpLink::connect(&addr.to_string(), WAIT).await.unwrap());
    let cfg = Dlt645Config::new(Version::V2007);
    let mut meter = Dlt645Meter::connect(link, cfg).await.unwrap();
    assert_eq!(meter.address(), Address::from_wire(A));
    let report = meter
        .read(&all_reads(Version::V2007, cfg.vendor_version))
        .await;
    assert!(report.aborted.is_none(), "{:?}", report.aborted);
    let value = |what: Reads| {
        report
            .items
            .iter()
            .find_map(|i| match i {
                Ok(r) if r.what == what => Some(r.value.clone()),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {what} in {:?}", report.items))
    };
    assert_eq!(
        value(Reads::Status),
        ReadValue::Status(calin_agent::codes::OperatingStatus(1015))
    );
    assert_eq!(value(Reads::Short(ShortCode(52))), ReadValue::Count(3));
    let energy = format!("{:?}", value(Reads::Short(ShortCode(1))));
    assert!(energy.contains("4200"), "42.00 kWh: {energy}");
}
