//! The DL/T 645 client (`meter::dlt645`) against the protocol's own meter side
//! (`Responder`) served by a task over `tokio::io::duplex` (virtual time, faults by
//! request) and over a PTY pair (the line the agent set, seen from the meter side), and
//! the probe binary against the same meter on loopback TCP.

mod probe_support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use calin_agent::codes::{OperatingStatus, ShortCode};
use calin_agent::meter::dlt645::{Dlt645Config, Dlt645Error, Dlt645ItemError, Dlt645Meter};
use calin_agent::meter::read::ReadValue;
use calin_agent::profile::Reads;
use calin_agent::protocol::dlt645::calin::{RUNNING_STATUS, STATUS_REPORT};
use calin_agent::protocol::dlt645::{
    catalog, Address, DataId, Decimal, Deframer, ErrorCondition, MeterDateTime, Responder,
    Response, RunningStatus, StatusBit, StatusWord, Value, Version,
};
use calin_agent::protocol::units::{Quantity, Unit};
use calin_agent::transport::{BoxLink, PtyLink, SerialLink};
use probe_support::{find, json_lines, probe};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

const ADDRESS: &str = "000012345678";

fn address() -> Address {
    Address::from_digits(ADDRESS).unwrap()
}

fn encode(code: u8, version: Version, value: Value) -> (DataId, Vec<u8>) {
    let e = catalog::for_short_code(ShortCode(code), version).unwrap();
    (e.di, e.format.encode(&value).unwrap())
}

/// A 2007 meter with the Calin vendor identifiers (answered in 1997 framing).
fn table(word: StatusWord) -> BTreeMap<DataId, Vec<u8>> {
    let mut t = BTreeMap::new();
    for (di, data) in [
        encode(1, Version::V2007, Value::Number(Decimal::new(958_015, 2))),
        encode(31, Version::V2007, Value::Number(Decimal::new(12_345, 4))),
        encode(40, Version::V2007, Value::Number(Decimal::new(2, 0))),
        encode(
            41,
            Version::V2007,
            Value::EventTime(Some(MeterDateTime {
                year: 24,
                month: 3,
                day: 15,
                hour: 8,
                minute: 30,
                second: 5,
            })),
        ),
        encode(1, Version::V1997, Value::Number(Decimal::new(958_015, 2))),
    ] {
        t.insert(di, data);
    }
    t.insert(STATUS_REPORT, word.encode());
    t.insert(
        RUNNING_STATUS,
        RunningStatus { sub_code: 8 }.encode().unwrap(),
    );
    t
}

/// The control code's edition: 1997 codes are below 0x11.
fn edition(control: u8) -> Version {
    match control & 0x1F {
        0x01..=0x07 | 0x09..=0x10 => Version::V1997,
        _ => Version::V2007,
    }
}

#[derive(Debug, Default)]
struct MeterLog {
    /// (edition, control code) of each request received.
    requests: Vec<(Version, u8)>,
    /// The client's baud rate when each reply went out (PTY only).
    peer_baud: Vec<u32>,
}

#[derive(Clone)]
struct Serve {
    table: BTreeMap<DataId, Vec<u8>>,
    /// Which editions the meter answers.
    editions: Vec<Version>,
    /// Data bytes per reply frame (longer data goes in follow-up frames).
    max_chunk: usize,
    /// Stay silent to the first n requests.
    drop_first: usize,
    /// Echo requests (a two-wire bus or an adapter without echo suppression).
    echo: bool,
}

impl Serve {
    fn new(word: StatusWord) -> Self {
        Serve {
            table: table(word),
            editions: vec![Version::V2007, Version::V1997],
            max_chunk: Responder::DEFAULT_MAX_CHUNK,
            drop_first: 0,
            echo: false,
        }
    }
}

fn spawn<S>(mut io: S, serve: Serve, peer: fn(&S) -> Option<u32>) -> Arc<Mutex<MeterLog>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let log = Arc::new(Mutex::new(MeterLog::default()));
    let shared = log.clone();
    tokio::spawn(async move {
        let mut responders: Vec<(Version, Responder)> = serve
            .editions
            .iter()
            .map(|v| {
                (
                    *v,
                    Responder::new(address(), *v).with_max_chunk(serve.max_chunk),
                )
            })
            .collect();
        let mut deframer = Deframer::new();
        let mut seen = 0usize;
        let mut buf = [0u8; 512];
        loop {
            let n = match io.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if serve.echo && io.write_all(&buf[..n]).await.is_err() {
                return;
            }
            for frame in deframer.feed(&buf[..n]).into_iter().flatten() {
                let version = edition(frame.control.0);
                shared
                    .lock()
                    .unwrap()
                    .requests
                    .push((version, frame.control.0));
                seen += 1;
                if seen <= serve.drop_first {
                    continue;
                }
                let Some((_, r)) = responders.iter_mut().find(|(v, _)| *v == version) else {
                    continue;
                };
                if let Response::Reply(reply) = r.respond(&frame, &serve.table) {
                    if let Some(b) = peer(&io) {
                        shared.lock().unwrap().peer_baud.push(b);
                    }
                    if io.write_all(&reply.to_bytes_with_preamble()).await.is_err() {
                        return;
                    }
                }
            }
        }
    });
    log
}

fn no_peer<S>(_: &S) -> Option<u32> {
    None
}

async fn connect(
    serve: Serve,
    cfg: Dlt645Config,
) -> (Result<Dlt645Meter, Dlt645Error>, Arc<Mutex<MeterLog>>) {
    let (client, server) = tokio::io::duplex(4096);
    let log = spawn(server, serve, no_peer);
    (Dlt645Meter::connect(Box::new(client), cfg).await, log)
}

fn cfg(version: Version) -> Dlt645Config {
    let mut c = Dlt645Config::new(version);
    c.line = None;
    c
}

#[tokio::test(start_paused = true)]
async fn reads_energy_power_and_a_magnetic_status_bit_as_1015() {
    let serve = Serve::new(StatusWord::from_bits(&[StatusBit::Magnetic]));
    let (meter, log) = connect(serve, cfg(Version::V2007)).await;
    let mut meter = meter.unwrap();
    assert_eq!(meter.address(), address(), "found from AA..AA");
    let report = meter
        .read(&[
            Reads::Short(ShortCode(1)),
            Reads::Short(ShortCode(31)),
            Reads::Status,
            Reads::Relay,
            Reads::Serial,
        ])
        .await;
    assert!(report.aborted.is_none());
    let values: Vec<ReadValue> = report.items.into_iter().map(|i| i.unwrap().value).collect();
    assert_eq!(
        values,
        [
            // 9580.15 kWh = 958015 × 10^1 Wh; 1.2345 kW = 12345 × 10^-1 W.
            ReadValue::Quantity(Quantity {
                mantissa: 958_015,
                scaler: 1,
                unit: Unit::WattHour
            }),
            ReadValue::Quantity(Quantity {
                mantissa: 12_345,
                scaler: -1,
                unit: Unit::Watt
            }),
            ReadValue::Status(OperatingStatus(1015)),
            ReadValue::Relay(true),
            ReadValue::Text(ADDRESS.into()),
        ]
    );
    let requests = log.lock().unwrap().requests.clone();
    assert_eq!(requests[0], (Version::V2007, 0x13), "read address first");
    // The status and the relay share one read of the status word.
    let vendor = requests.iter().filter(|r| r.0 == Version::V1997).count();
    assert_eq!(vendor, 1, "{requests:?}");
}

#[tokio::test(start_paused = true)]
async fn several_conditions_give_several_statuses_and_an_open_relay_its_reason() {
    let serve = Serve::new(StatusWord::from_bits(&[
        StatusBit::Cover,
        StatusBit::Magnetic,
    ]));
    let (meter, _) = connect(serve, cfg(Version::V2007)).await;
    let report = meter.unwrap().read(&[Reads::Status]).await;
    let statuses: Vec<ReadValue> = report.items.into_iter().map(|i| i.unwrap().value).collect();
    assert_eq!(
        statuses,
        [
            ReadValue::Status(OperatingStatus(1015)),
            ReadValue::Status(OperatingStatus(1005))
        ]
    );

    // Relay open, no condition bit: the running status says why (8 = not active).
    let serve = Serve::new(StatusWord::from_bits(&[StatusBit::RelayOpen]));
    let (meter, _) = connect(serve, cfg(Version::V2007)).await;
    let report = meter
        .unwrap()
        .read(&[Reads::Status, Reads::Relay, Reads::Short(ShortCode(87))])
        .await;
    let got: Vec<(Option<DataId>, ReadValue)> = report
        .items
        .into_iter()
        .map(|i| i.map(|r| (r.di, r.value)).unwrap())
        .collect();
    assert_eq!(
        got,
        [
            (
                Some(RUNNING_STATUS),
                ReadValue::Status(OperatingStatus(1008))
            ),
            (Some(STATUS_REPORT), ReadValue::Relay(false)),
            (Some(RUNNING_STATUS), ReadValue::RelayReason(8)),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn long_data_comes_in_follow_up_frames() {
    let mut serve = Serve::new(StatusWord::default());
    serve.max_chunk = 16;
    let (meter, log) = connect(serve, cfg(Version::V2007)).await;
    let report = meter.unwrap().read(&[Reads::Short(ShortCode(41))]).await;
    let reading = report.items[0].as_ref().unwrap();
    assert_eq!(reading.raw.len(), 60, "the whole 60-byte cover record");
    let ReadValue::Timestamp(t) = &reading.value else {
        panic!("{:?}", reading.value)
    };
    assert_eq!(t.to_string(), "2024-03-15T08:30:05.00");
    let follow_ups = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.1 == 0x12)
        .count();
    assert_eq!(follow_ups, 3, "60 bytes in frames of 16: three follow-ups");
}

#[tokio::test(start_paused = true)]
async fn lost_requests_are_retried_a_bounded_number_of_times() {
    let mut serve = Serve::new(StatusWord::default());
    serve.drop_first = 2;
    let (meter, log) = connect(serve, cfg(Version::V2007)).await;
    assert_eq!(
        meter.unwrap().address(),
        address(),
        "third attempt answered"
    );
    assert_eq!(log.lock().unwrap().requests.len(), 3);

    let mut serve = Serve::new(StatusWord::default());
    serve.drop_first = usize::MAX;
    let started = tokio::time::Instant::now();
    let (meter, log) = connect(serve, cfg(Version::V2007)).await;
    let err = meter.unwrap_err();
    assert!(
        matches!(err, Dlt645Error::NoAnswer { attempts: 3, .. }),
        "{err}"
    );
    assert!(err.is_unreachable());
    assert_eq!(log.lock().unwrap().requests.len(), 3);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "three reply timeouts of 1 s"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_identifier_fails_alone() {
    let serve = Serve::new(StatusWord::default());
    let (meter, _) = connect(serve, cfg(Version::V2007)).await;
    // 52 (power down count) is in the catalogue but not in this meter.
    let report = meter
        .unwrap()
        .read(&[Reads::Short(ShortCode(52)), Reads::Short(ShortCode(40))])
        .await;
    let Err(f) = &report.items[0] else {
        panic!("{:?}", report.items[0])
    };
    let Dlt645ItemError::Refused(word) = &f.error else {
        panic!("{f}")
    };
    assert!(word.has(ErrorCondition::NoRequestedData), "{f}");
    assert_eq!(report.items[1].as_ref().unwrap().value, ReadValue::Count(2));
    assert!(report.aborted.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_meter_silent_to_vendor_identifiers_costs_one_wait_not_one_per_item() {
    let mut serve = Serve::new(StatusWord::default());
    serve.editions = vec![Version::V2007];
    let (meter, log) = connect(serve, cfg(Version::V2007)).await;
    let report = meter
        .unwrap()
        .read(&[
            Reads::Status,
            Reads::Relay,
            Reads::Short(ShortCode(87)),
            Reads::Short(ShortCode(1)),
        ])
        .await;
    for i in &report.items[..3] {
        let f = i.as_ref().unwrap_err();
        assert!(matches!(f.error, Dlt645ItemError::NotRead(_)), "{f}");
    }
    assert!(report.items[3].is_ok(), "standard identifiers still read");
    let vendor = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.0 == Version::V1997)
        .count();
    assert_eq!(vendor, 3, "one exchange of three attempts, then skipped");
}

#[tokio::test(start_paused = true)]
async fn a_1997_meter_is_found_by_its_meter_number() {
    let mut serve = Serve::new(StatusWord::from_bits(&[StatusBit::TerminalCover]));
    serve.editions = vec![Version::V1997];
    let mut t = serve.table.clone();
    t.insert(DataId::v1997([0xC0, 0x32]), address().wire().to_vec());
    serve.table = t;
    let (meter, log) = connect(serve, cfg(Version::V1997)).await;
    let mut meter = meter.unwrap();
    assert_eq!(meter.address(), address());
    let report = meter
        .read(&[Reads::Short(ShortCode(1)), Reads::Status])
        .await;
    let values: Vec<ReadValue> = report.items.into_iter().map(|i| i.unwrap().value).collect();
    assert_eq!(values[1], ReadValue::Status(OperatingStatus(1006)));
    assert!(log
        .lock()
        .unwrap()
        .requests
        .iter()
        .all(|r| r.0 == Version::V1997));
}

#[tokio::test(start_paused = true)]
async fn an_echo_on_the_bus_is_not_taken_as_the_answer() {
    let mut serve = Serve::new(StatusWord::default());
    serve.echo = true;
    let (meter, _) = connect(serve, cfg(Version::V2007)).await;
    let mut meter = meter.unwrap();
    let report = meter.read(&[Reads::Short(ShortCode(1))]).await;
    assert!(report.items[0].is_ok());
    assert!(
        meter.stats().0 >= 2,
        "echoes set aside: {:?}",
        meter.stats()
    );
}

fn pty_peer(p: &PtyLink) -> Option<u32> {
    p.peer_baud().ok()
}

#[tokio::test]
async fn over_a_pty_pair_at_2400_8e1() {
    let pty = PtyLink::open().unwrap();
    let slave = pty.slave_path().to_str().unwrap().to_owned();
    let log = spawn(pty, Serve::new(StatusWord::default()), pty_peer);
    let link: BoxLink = Box::new(
        SerialLink::open(&slave, calin_agent::transport::LineSettings::new_8n1(9600))
            .await
            .unwrap(),
    );
    // The default configuration sets 2400 8E1 before the first frame.
    let mut meter = Dlt645Meter::connect(link, Dlt645Config::new(Version::V2007))
        .await
        .unwrap();
    let report = meter.read(&[Reads::Short(ShortCode(1))]).await;
    assert!(report.items[0].is_ok());
    let log = log.lock().unwrap();
    assert_eq!(log.peer_baud, [2400, 2400]);
}

// ---- the probe binary ------------------------------------------------------------------

async fn serve_tcp(serve: Serve) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            spawn(stream, serve.clone(), no_peer);
        }
    });
    addr
}

#[tokio::test]
async fn probe_dlt645_json_decodes_values_and_the_status_word() {
    let addr = serve_tcp(Serve::new(StatusWord::from_bits(&[StatusBit::Magnetic]))).await;
    let o = probe(&[
        "--protocol",
        "dlt645",
        "--tcp",
        &addr,
        "--read",
        "01,31,40,41,status,relay,serial",
        "--json",
        "--trace",
    ])
    .await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let lines = json_lines(&o);
    let energy = find(&lines, "01");
    assert_eq!(energy["value"], 9580.15);
    assert_eq!(energy["unit"], "kWh");
    assert_eq!(energy["di"], "00 01 00 00");
    assert_eq!(find(&lines, "31")["value"], 1.2345);
    assert_eq!(find(&lines, "40")["value"], 2);
    assert_eq!(find(&lines, "41")["value"], "2024-03-15T08:30:05.00");
    let status = find(&lines, "status");
    assert_eq!(status["value"], 1015);
    assert_eq!(status["category"], "tamper");
    assert_eq!(status["di"], "C1 11");
    assert!(
        status["meaning"].as_str().unwrap().contains("Magnetic"),
        "{status}"
    );
    assert_eq!(find(&lines, "relay")["value"], "connected");
    assert_eq!(find(&lines, "serial")["value"], ADDRESS);
    assert!(
        stderr.contains("DL/T 645-2007 AAAAAAAAAAAA C=0x13 read address"),
        "{stderr}"
    );
    assert!(stderr.contains("reply 00 01 00 00"), "{stderr}");

    // The human form.
    let o = probe(&[
        "--protocol",
        "dlt645",
        "--tcp",
        &addr,
        "--read",
        "status,01",
    ])
    .await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("Meter 000012345678 (DL/T 645-2007) on tcp "),
        "{text}"
    );
    assert!(
        text.contains("9580.15 kWh") && text.contains("Site visit: yes"),
        "{text}"
    );

    // A given address and the 1997 edition.
    let o = probe(&[
        "--protocol",
        "dlt645",
        "--dlt645-version",
        "1997",
        "--dlt645-address",
        ADDRESS,
        "--tcp",
        &addr,
        "--read",
        "01",
        "--json",
    ])
    .await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let lines = json_lines(&o);
    assert_eq!(find(&lines, "01")["di"], "90 10");
}

#[tokio::test]
async fn probe_dlt645_reports_a_silent_meter_and_bad_arguments() {
    let mut serve = Serve::new(StatusWord::default());
    serve.drop_first = usize::MAX;
    let addr = serve_tcp(serve).await;
    let o = probe(&["--protocol", "dlt645", "--tcp", &addr, "--timeout", "0.2"]).await;
    assert_eq!(o.status.code(), Some(69));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("no answer") && err.contains("2400 8E1"),
        "{err}"
    );
    let o = probe(&[
        "--protocol",
        "dlt645",
        "--tcp",
        &addr,
        "--dlt645-address",
        "12AB",
    ])
    .await;
    assert_eq!(o.status.code(), Some(64));
    let o = probe(&[
        "--protocol",
        "dlt645",
        "--tcp",
        &addr,
        "--dlt645-version",
        "2001",
    ])
    .await;
    assert_eq!(o.status.code(), Some(64));
}

#[tokio::test]
async fn autodetect_finds_a_dlt645_meter_by_its_address() {
    let addr = serve_tcp(Serve::new(StatusWord::default())).await;
    let o = probe(&["--tcp", &addr, "--autodetect", "--timeout", "0.3"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    let answered: Vec<&str> = text.lines().filter(|l| l.contains("ANSWERED")).collect();
    assert_eq!(answered.len(), 1, "{text}");
    assert!(answered[0].contains("DL/T 645-2007"), "{text}");
    assert!(text.contains("protocol = \"dlt645\""), "{text}");
    assert!(
        text.contains("# DL/T 645 meter address 000012345678"),
        "{text}"
    );

    // What it prints is a config the daemon takes as it is.
    let snippet = text
        .split("Put this in the config (/etc/calin-agent/agent.toml):")
        .nth(1)
        .expect("a config snippet");
    let config = calin_agent::config::Config::parse(std::path::Path::new("snippet.toml"), snippet)
        .unwrap_or_else(|e| panic!("{e}\n{snippet}"));
    assert_eq!(config.buses.len(), 1);
    let meter = config.buses[0].meters[0].dlt645.unwrap();
    assert_eq!(meter.address.unwrap().to_string(), "000012345678");
}

#[tokio::test]
async fn a_visit_report_is_refused_without_a_dlms_session() {
    let addr = serve_tcp(Serve::new(StatusWord::default())).await;
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("visit.pdf");
    let o = probe(&[
        "--tcp",
        &addr,
        "--protocol",
        "dlt645",
        "--report",
        pdf.to_str().unwrap(),
    ])
    .await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(64), "{stderr}");
    assert!(stderr.contains("--report needs a DLMS session"), "{stderr}");
    assert!(!pdf.exists(), "nothing is written");
}
