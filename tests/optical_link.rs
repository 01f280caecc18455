//! The optical client (`meter::optical`) against the protocol's own meter session
//! (`MeterSession`) served by a task: over `tokio::io::duplex` in virtual time, where a
//! recording link shows to the microsecond when the agent switched baud; over a PTY pair
//! in real time, where the meter side reads the baud the agent set on the slave
//! (`PtyLink::peer_baud`) and garbles what crosses while the two ends disagree, as a UART
//! would. Mode E continues into a DLMS association with `meter_support`'s scripted HDLC
//! meter; the probe binary reads a meter served on loopback TCP.

mod meter_support;
mod probe_support;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use calin_agent::codes::{OperatingStatus, ShortCode};
use calin_agent::meter::optical::{self, OpticalConfig, OpticalError, ReadoutMap};
use calin_agent::meter::read::ReadValue;
use calin_agent::meter::SessionConfig;
use calin_agent::profile::Reads;
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::iec62056_21::{
    wire_time, BaudChar, BccPolicy, ClientFailure, DataId, DataSet, Enhanced, Framing,
    Identification, Manufacturer, MeterAction, MeterConfig, MeterEvent, MeterFaults, MeterSession,
    Password, SessionEnd, SwitchCheck, Value, ACK,
};
use calin_agent::protocol::units::{Quantity, Unit};
use calin_agent::transport::{
    BoxFuture, BoxLink, LineSettings, Link, PtyLink, SerialLink, TransportError,
};
use meter_support::{FakeMeter, Faults};
use probe_support::{find, json_lines, probe};
use serde_json::Value as Json;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream, ReadBuf};
use tokio::time::{sleep_until, Instant};

// ---- the meter side ----------------------------------------------------------------

fn data() -> Vec<DataSet> {
    let set = |id: &str, v: &str, unit: Option<&str>| {
        DataSet::single(DataId::new(id).unwrap(), Value::new(v, unit).unwrap())
    };
    vec![
        set("C.1.0", "45654321", None),
        set("1.8.0", "0012345.678", Some("kWh")),
        set("1.7.0", "1.250", Some("kW")),
        set("C.7.0", "3", None),
        set("C.87.0", "08", None),
        set("C.5.0", "1015", None),
        set("0.9.1", "123456", None),
    ]
}

fn ident(mode_e: bool) -> Identification {
    Identification::new(
        Manufacturer::new(*b"CAL").unwrap(),
        BaudChar::mode_c(9600).unwrap(),
        mode_e.then_some(Enhanced::Hdlc),
        "CALIN-OPT1",
    )
    .unwrap()
}

fn meter(mode_e: bool) -> MeterConfig {
    MeterConfig::new(ident(mode_e), data())
}

/// What the meter side saw.
#[derive(Debug, Default)]
struct MeterLog {
    events: Vec<MeterEvent>,
    /// The client's baud rate when the meter sent each message (`None`: not visible).
    peer_baud_at_send: Vec<Option<u32>>,
    meter_switches: Vec<u32>,
    /// Mode E: the meter's baud and the client's, at the hand-over to HDLC.
    hdlc: Option<(u32, Option<u32>)>,
    /// Chunks garbled because the two ends' baud rates differed.
    garbled: usize,
    /// Received characters that carried a parity bit (soft parity).
    parity_bits_seen: usize,
    /// Woken on every event.
    changed: Arc<tokio::sync::Notify>,
}

/// Wait (in the test's time, bounded) until the meter has reported `want`.
async fn until_event(log: &Arc<Mutex<MeterLog>>, want: MeterEvent) {
    let changed = log.lock().unwrap().changed.clone();
    let wait = async {
        loop {
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if log.lock().unwrap().events.contains(&want) {
                return;
            }
            notified.await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "the meter never reported {want:?}: {:?}",
                log.lock().unwrap().events
            )
        });
}

impl MeterLog {
    fn switch_checks(&self) -> Vec<SwitchCheck> {
        self.events
            .iter()
            .filter_map(|e| match e {
                MeterEvent::SwitchChecked(c) => Some(*c),
                _ => None,
            })
            .collect()
    }
}

/// The client's line as the meter side can see it: baud rate and, when known, when it
/// was set.
type Peer<S> = Box<dyn Fn(&S) -> Option<(u32, Option<Instant>)> + Send>;

struct Serve<S> {
    io: S,
    cfg: MeterConfig,
    /// The optical head echoes what the client sends.
    echo: bool,
    /// The link carries 8-bit characters: strip and add the parity bit here.
    parity: bool,
    peer: Peer<S>,
    /// Mode E: the DLMS meter that answers after the switch.
    hdlc: Option<FakeMeter>,
}

fn blind<S>() -> Peer<S> {
    Box::new(|_| None)
}

fn spawn<S>(serve: Serve<S>) -> Arc<Mutex<MeterLog>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let log = Arc::new(Mutex::new(MeterLog::default()));
    let shared = log.clone();
    tokio::spawn(async move {
        let Serve {
            mut io,
            cfg,
            echo,
            parity,
            peer,
            mut hdlc,
        } = serve;
        let origin = Instant::now();
        let mut meter = MeterSession::new(cfg).unwrap();
        let mut line = 300u32;
        let mut last_peer = peer(&io).map(|p| p.0);
        let mut buf = [0u8; 1024];
        loop {
            while let Some(action) = meter.poll_action() {
                match action {
                    MeterAction::Send(mut bytes) => {
                        let p = peer(&io).map(|p| p.0);
                        shared.lock().unwrap().peer_baud_at_send.push(p);
                        if p.is_some_and(|b| b != line) {
                            shared.lock().unwrap().garbled += 1;
                            bytes.fill(0x7F);
                        } else if parity {
                            bytes.iter_mut().for_each(|b| {
                                *b = calin_agent::protocol::iec62056_21::add_even_parity(*b)
                            });
                        }
                        if io.write_all(&bytes).await.is_err() {
                            return;
                        }
                    }
                    MeterAction::SetTimer(_) => {}
                    MeterAction::SwitchLine { baud, .. } => {
                        line = baud;
                        shared.lock().unwrap().meter_switches.push(baud);
                    }
                    MeterAction::EnterHdlc { baud, pending } => {
                        shared.lock().unwrap().hdlc = Some((baud, peer(&io).map(|p| p.0)));
                        let Some(fake) = hdlc.take() else { return };
                        let (mut near, far) = tokio::io::duplex(8192);
                        meter_support::spawn_meter(far, fake, Faults::default());
                        near.write_all(&pending).await.unwrap();
                        let _ = tokio::io::copy_bidirectional(&mut io, &mut near).await;
                        return;
                    }
                    MeterAction::Event(e) => {
                        let mut log = shared.lock().unwrap();
                        log.events.push(e);
                        log.changed.notify_waiters();
                    }
                }
            }
            let deadline = meter.next_deadline();
            let got = tokio::select! {
                r = io.read(&mut buf) => Some(r),
                () = sleep_until(origin + deadline.unwrap_or_default()), if deadline.is_some() => None,
            };
            let now = origin.elapsed();
            if let Some((baud, at)) = peer(&io) {
                if Some(baud) != last_peer {
                    last_peer = Some(baud);
                    let at = at.map_or(now, |t| t.saturating_duration_since(origin));
                    meter.handle_peer_switch(at);
                }
            }
            match got {
                None => meter.handle_timeout(now),
                Some(Ok(0) | Err(_)) => return,
                Some(Ok(n)) => {
                    let mut bytes = buf[..n].to_vec();
                    if echo && io.write_all(&bytes).await.is_err() {
                        return;
                    }
                    if peer(&io).is_some_and(|p| p.0 != line) {
                        shared.lock().unwrap().garbled += 1;
                        bytes.fill(0x7F);
                    } else if parity {
                        let mut log = shared.lock().unwrap();
                        for b in &mut bytes {
                            log.parity_bits_seen += usize::from(*b & 0x80 != 0);
                            *b = calin_agent::protocol::iec62056_21::strip_parity(*b)
                                .unwrap_or(0x7F);
                        }
                    }
                    meter.handle_bytes(now, &bytes);
                }
            }
        }
    });
    log
}

// ---- a link that records what the agent did to its line -----------------------------

type Lines = Arc<Mutex<Vec<(Instant, LineSettings)>>>;
type Writes = Arc<Mutex<Vec<(Instant, Vec<u8>)>>>;

struct Recorder {
    inner: DuplexStream,
    lines: Lines,
    writes: Writes,
}

impl AsyncRead for Recorder {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Recorder {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.writes
                .lock()
                .unwrap()
                .push((Instant::now(), buf[..*n].to_vec()));
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl Link for Recorder {
    fn describe(&self) -> String {
        "recording duplex".into()
    }
    fn set_line(&mut self, line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        self.lines.lock().unwrap().push((Instant::now(), line));
        Box::pin(async { Ok(()) })
    }
}

/// A recording client link and a meter served on the other end, which sees the
/// client's line through the recording.
fn recorded(
    serve: impl FnOnce(DuplexStream, Peer<DuplexStream>) -> Serve<DuplexStream>,
) -> (Recorder, Lines, Writes, Arc<Mutex<MeterLog>>) {
    let (client, server) = tokio::io::duplex(8192);
    let lines: Lines = Arc::default();
    let writes: Writes = Arc::default();
    let seen = lines.clone();
    let peer: Peer<DuplexStream> = Box::new(move |_| {
        seen.lock()
            .unwrap()
            .last()
            .map(|(at, l)| (l.baud, Some(*at)))
    });
    let log = spawn(serve(server, peer));
    let rec = Recorder {
        inner: client,
        lines: lines.clone(),
        writes: writes.clone(),
    };
    (rec, lines, writes, log)
}

fn plain(io: DuplexStream, peer: Peer<DuplexStream>, cfg: MeterConfig) -> Serve<DuplexStream> {
    Serve {
        io,
        cfg,
        echo: false,
        parity: false,
        peer,
        hdlc: None,
    }
}

// ---- mode C readout ------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn mode_c_readout_switches_baud_when_the_ack_has_left_the_wire() {
    let (mut link, lines, writes, log) = recorded(|io, peer| plain(io, peer, meter(false)));
    let cfg = OpticalConfig::new();
    let readout = optical::read_out(&mut link, &cfg).await.unwrap();

    assert_eq!(readout.baud, 9600);
    assert_eq!(readout.identification.ident(), "CALIN-OPT1");
    assert_eq!(readout.data_sets, data());
    assert!(readout.bcc_warnings.is_empty());

    let lines = lines.lock().unwrap().clone();
    assert_eq!(
        lines.iter().map(|l| l.1).collect::<Vec<_>>(),
        [LineSettings::new_7e1(300), LineSettings::new_7e1(9600)],
        "sign-on line first, then one switch"
    );
    let writes = writes.lock().unwrap().clone();
    let (sent_at, option) = writes
        .iter()
        .find(|(_, b)| b.first() == Some(&ACK))
        .expect("an option select went out")
        .clone();
    assert_eq!(option, b"\x06050\r\n");
    // The switch comes when the six characters have left the wire at 300 baud, plus the
    // configured delay: not before (the ack's tail would be garbled), not much later.
    let expected = wire_time(option.len(), 300, Framing::SevenE1) + cfg.switch_delay;
    let took = lines[1].0 - sent_at;
    assert!(
        took >= expected && took <= expected + Duration::from_millis(1),
        "switched {took:?} after the option select, expected {expected:?}"
    );
    until_event(&log, MeterEvent::Ended(SessionEnd::ReadoutSent)).await;
    let log = log.lock().unwrap();
    let checks = log.switch_checks();
    assert!(!checks.is_empty(), "{:?}", log.events);
    assert!(
        checks
            .iter()
            .all(|c| matches!(c, SwitchCheck::InTime { .. })),
        "{checks:?}"
    );
    assert_eq!(log.garbled, 0);
    assert_eq!(log.peer_baud_at_send, [Some(300), Some(9600)]);
    assert!(log
        .events
        .contains(&MeterEvent::Ended(SessionEnd::ReadoutSent)));
}

#[tokio::test(start_paused = true)]
async fn readout_values_map_to_short_codes() {
    let (mut link, _, _, _) = recorded(|io, peer| plain(io, peer, meter(false)));
    let readout = optical::read_out(&mut link, &OpticalConfig::new())
        .await
        .unwrap();
    let readings: Vec<_> = ReadoutMap::builtin()
        .readings(&readout.data_sets)
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let by = |reads: Reads| {
        readings
            .iter()
            .find(|r| r.reads == Some(reads))
            .unwrap_or_else(|| panic!("{reads} missing"))
            .value
            .clone()
    };
    assert_eq!(
        by(Reads::Short(ShortCode(1))),
        ReadValue::Quantity(Quantity {
            mantissa: 12_345_678,
            scaler: 0,
            unit: Unit::WattHour
        })
    );
    assert_eq!(by(Reads::Short(ShortCode(52))), ReadValue::Count(3));
    assert_eq!(by(Reads::Short(ShortCode(87))), ReadValue::RelayReason(8));
    assert_eq!(by(Reads::Status), ReadValue::Status(OperatingStatus(1015)));
    let unmapped: Vec<_> = readings.iter().filter(|r| r.reads.is_none()).collect();
    assert_eq!(unmapped.len(), 1);
    assert_eq!(unmapped[0].id.as_str(), "0.9.1");
}

#[tokio::test]
async fn mode_c_over_a_pty_pair_the_meter_sees_the_new_baud() {
    let pty = PtyLink::open().unwrap();
    let slave = pty.slave_path().to_str().unwrap().to_owned();
    let log = spawn(Serve {
        io: pty,
        cfg: meter(false),
        echo: false,
        parity: false,
        peer: Box::new(|p: &PtyLink| p.peer_baud().ok().map(|b| (b, None))),
        hdlc: None,
    });
    let mut link: BoxLink = Box::new(
        SerialLink::open(&slave, LineSettings::new_7e1(300))
            .await
            .unwrap(),
    );
    let readout = optical::read_out(&mut link, &OpticalConfig::new())
        .await
        .unwrap();
    assert_eq!(readout.baud, 9600);
    assert_eq!(readout.data_sets, data());
    let log = log.lock().unwrap();
    // The identification went out while the agent's port was at 300 baud, the readout
    // while it was at 9600: the agent switched between the two, as the meter did.
    assert_eq!(log.peer_baud_at_send, [Some(300), Some(9600)]);
    assert_eq!(log.garbled, 0);
    assert_eq!(log.meter_switches.first(), Some(&9600));
    assert!(
        log.switch_checks()
            .iter()
            .all(|c| matches!(c, SwitchCheck::InTime { .. })),
        "{:?}",
        log.events
    );
}

#[tokio::test(start_paused = true)]
async fn a_bad_bcc_fails_under_strict_and_is_reported_under_warn_only() {
    let faulty = || {
        let mut m = meter(false);
        m.faults = MeterFaults { corrupt_bcc: 1 };
        m
    };
    let (mut link, _, _, _) = recorded(|io, peer| plain(io, peer, faulty()));
    let err = optical::read_out(&mut link, &OpticalConfig::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OpticalError::Session {
                failure: ClientFailure::BadBcc(_),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("warn-only"), "{err}");

    let (mut link, _, _, _) = recorded(|io, peer| plain(io, peer, faulty()));
    let mut cfg = OpticalConfig::new();
    cfg.bcc_policy = BccPolicy::WarnOnly;
    let readout = optical::read_out(&mut link, &cfg).await.unwrap();
    assert_eq!(readout.bcc_warnings.len(), 1);
    let m = readout.bcc_warnings[0];
    assert_ne!(m.expected, m.found);
    assert_eq!(readout.data_sets, data(), "the data itself is intact");
}

#[tokio::test(start_paused = true)]
async fn the_optical_heads_echo_is_skipped() {
    let (mut link, _, _, log) = recorded(|io, peer| Serve {
        echo: true,
        ..plain(io, peer, meter(false))
    });
    let readout = optical::read_out(&mut link, &OpticalConfig::new())
        .await
        .unwrap();
    assert_eq!(readout.data_sets, data());
    assert_eq!(
        readout.echoes_skipped, 2,
        "sign-on and option select came back"
    );
    assert_eq!(log.lock().unwrap().garbled, 0);
}

#[tokio::test(start_paused = true)]
async fn soft_parity_sends_7e1_characters_over_an_8_bit_link() {
    let (mut link, _, _, log) = recorded(|io, peer| Serve {
        parity: true,
        ..plain(io, peer, meter(false))
    });
    let mut cfg = OpticalConfig::new();
    cfg.soft_parity = true;
    let readout = optical::read_out(&mut link, &cfg).await.unwrap();
    assert_eq!(readout.data_sets, data());
    // "/?!\r\n" has characters with an odd number of ones ('?' = 0x3F): their parity
    // bit is set on the wire.
    assert!(log.lock().unwrap().parity_bits_seen > 0);
}

#[tokio::test(start_paused = true)]
async fn a_silent_port_is_no_answer_naming_the_optical_head() {
    let (client, mut server) = tokio::io::duplex(1024);
    tokio::spawn(async move {
        let mut sink = [0u8; 64];
        while matches!(server.read(&mut sink).await, Ok(n) if n > 0) {}
    });
    let mut link: BoxLink = Box::new(client);
    let started = Instant::now();
    let err = optical::read_out(&mut link, &OpticalConfig::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, OpticalError::NoAnswer { baud: 300, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("optical head"), "{err}");
    // Sign-on on the wire (5 characters at 300 baud) plus the reply timeout.
    let waited = started.elapsed();
    let expected = wire_time(5, 300, Framing::SevenE1) + OpticalConfig::new().reply_timeout;
    assert!(
        waited >= expected && waited < expected + Duration::from_millis(5),
        "{waited:?}"
    );
}

// ---- programming mode ------------------------------------------------------------------

fn locked_meter() -> MeterConfig {
    let mut m = meter(false);
    m.password = Some(Password::new("12345678").unwrap());
    m.password_operand = Value::new("45654321", None).unwrap();
    m
}

fn ids(list: &[&str]) -> Vec<DataId> {
    list.iter().map(|i| DataId::new(i).unwrap()).collect()
}

#[tokio::test(start_paused = true)]
async fn programming_mode_reads_registers_after_the_password_and_never_shows_it() {
    let (client, server) = tokio::io::duplex(8192);
    let log = spawn(plain(server, blind(), locked_meter()));
    let trace = Arc::new(Mutex::new(String::new()));
    let sink = trace.clone();
    let mut link = optical::traced(Box::new(client), move |line| {
        let mut t = sink.lock().unwrap();
        t.push_str(&line.to_string());
        t.push('\n');
    });
    let mut cfg = OpticalConfig::new();
    cfg.password = Some(Password::new("12345678").unwrap());
    let r = optical::read_registers(&mut link, &cfg, ids(&["1.8.0", "C.87.0", "9.9.9"]))
        .await
        .unwrap();
    let got: Vec<(&str, &str)> = r
        .data_sets
        .iter()
        .map(|s| {
            (
                s.id.as_ref().unwrap().as_str(),
                s.value().unwrap().value.as_str(),
            )
        })
        .collect();
    assert_eq!(got, [("1.8.0", "0012345.678"), ("C.87.0", "08")]);
    assert_eq!(r.register_errors.len(), 1);
    assert_eq!(r.register_errors[0].id.as_str(), "9.9.9");
    // Signed off with B0.
    until_event(&log, MeterEvent::Ended(SessionEnd::Break)).await;
    assert!(log
        .lock()
        .unwrap()
        .events
        .contains(&MeterEvent::PasswordAccepted));
    let trace = trace.lock().unwrap();
    assert!(trace.contains("IEC R1 read 1.8.0"), "{trace}");
    assert!(trace.contains("password command (value hidden)"), "{trace}");
    assert!(!trace.contains("12345678"), "{trace}");
    assert!(
        !trace.contains("31 32 33 34 35 36 37 38"),
        "password hex in: {trace}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_wrong_or_missing_password_is_said_so() {
    let (client, server) = tokio::io::duplex(8192);
    let log = spawn(plain(server, blind(), locked_meter()));
    let mut link: BoxLink = Box::new(client);
    let mut cfg = OpticalConfig::new();
    cfg.password = Some(Password::new("00000000").unwrap());
    let err = optical::read_registers(&mut link, &cfg, ids(&["1.8.0"]))
        .await
        .unwrap_err();
    assert!(err.is_password(), "{err}");
    assert!(
        matches!(
            err,
            OpticalError::Session {
                failure: ClientFailure::PasswordRejected,
                ..
            }
        ),
        "{err}"
    );
    assert!(log
        .lock()
        .unwrap()
        .events
        .contains(&MeterEvent::PasswordRejected));

    let (client, server) = tokio::io::duplex(8192);
    spawn(plain(server, blind(), locked_meter()));
    let mut link: BoxLink = Box::new(client);
    let err = optical::read_registers(&mut link, &OpticalConfig::new(), ids(&["1.8.0"]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OpticalError::Session {
                failure: ClientFailure::PasswordRequired,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("--password-file"), "{err}");
}

// ---- mode E ------------------------------------------------------------------------

#[tokio::test]
async fn mode_e_continues_into_a_dlms_association_on_the_same_port() {
    let pty = PtyLink::open().unwrap();
    let slave = pty.slave_path().to_str().unwrap().to_owned();
    let log = spawn(Serve {
        io: pty,
        cfg: meter(true),
        echo: false,
        parity: false,
        peer: Box::new(|p: &PtyLink| p.peer_baud().ok().map(|b| (b, None))),
        hdlc: Some(meter_support::standard_meter()),
    });
    let link: BoxLink = Box::new(
        SerialLink::open(&slave, LineSettings::new_7e1(300))
            .await
            .unwrap(),
    );
    let dlms = SessionConfig::new(16, meter_support::server_address());
    let mut session = optical::open_mode_e(link, &OpticalConfig::new(), dlms)
        .await
        .unwrap();
    let energy = session
        .get(meter_support::a("3:1.0.1.8.0.255:2"), None)
        .await
        .unwrap();
    assert_eq!(energy, Ok(Data::DoubleLongUnsigned(123_456)));
    assert!(
        session.link_description().contains("9600 8N1"),
        "{}",
        session.link_description()
    );
    session.release().await.unwrap();
    let log = log.lock().unwrap();
    assert_eq!(
        log.hdlc,
        Some((9600, Some(9600))),
        "both ends at 9600 for HDLC"
    );
    assert_eq!(
        log.peer_baud_at_send,
        [Some(300)],
        "only the identification at 300"
    );
}

#[tokio::test(start_paused = true)]
async fn mode_e_is_refused_by_a_meter_that_does_not_offer_it() {
    let (client, server) = tokio::io::duplex(8192);
    spawn(plain(server, blind(), meter(false)));
    let dlms = SessionConfig::new(16, meter_support::server_address());
    let err = optical::open_mode_e(Box::new(client), &OpticalConfig::new(), dlms)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OpticalError::Session {
                failure: ClientFailure::ModeEUnavailable,
                ..
            }
        ),
        "{err}"
    );
}

// ---- the probe binary ------------------------------------------------------------------

/// Serve one optical meter per connection on loopback TCP.
async fn serve_tcp(cfg: MeterConfig, hdlc: Option<FakeMeter>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            spawn(Serve {
                io: stream,
                cfg: cfg.clone(),
                echo: false,
                parity: false,
                peer: blind(),
                hdlc: hdlc.clone(),
            });
        }
    });
    addr
}

#[tokio::test]
async fn probe_optical_json_decodes_the_readout() {
    let addr = serve_tcp(meter(false), None).await;
    let o = probe(&["--optical", "--tcp", &addr, "--json", "--trace"]).await;
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let lines = json_lines(&o);
    let energy = find(&lines, "01");
    assert_eq!(energy["value"], 12345.678);
    assert_eq!(energy["unit"], "kWh");
    assert_eq!(energy["id"], "1.8.0");
    assert_eq!(energy["name"], "Total active energy");
    let power = find(&lines, "31");
    assert_eq!(
        (power["value"].as_f64(), &power["unit"]),
        (Some(1.25), &Json::from("kW"))
    );
    let status = find(&lines, "status");
    assert_eq!(status["value"], 1015);
    assert_eq!(status["category"], "tamper");
    assert_eq!(status["site_visit"], "yes");
    let reason = find(&lines, "87");
    assert_eq!(reason["sub_code"], 8);
    assert_eq!(reason["code"], 1008);
    assert_eq!(find(&lines, "52")["value"], 3);
    assert_eq!(find(&lines, "serial")["value"], "45654321");
    assert_eq!(
        find(&lines, "0.9.1")["value"],
        123456,
        "unmapped ids are shown too"
    );
    // --trace: the messages, decoded, on stderr.
    assert!(stderr.contains("IEC sign-on request"), "{stderr}");
    assert!(
        stderr.contains("IEC identification: manufacturer CAL"),
        "{stderr}"
    );
    assert!(stderr.contains("IEC data block: 7 data sets"), "{stderr}");

    // The human form: the meter, then status first with its meaning and action.
    let o = probe(&["--optical", "--tcp", &addr]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("Meter CAL5 \"CALIN-OPT1\" on tcp "),
        "{text}"
    );
    assert!(text.contains("read at 9600 baud"), "{text}");
    let status_at = text.find("status ").unwrap();
    let energy_at = text.find("Total active energy").unwrap();
    assert!(status_at < energy_at, "status first: {text}");
    assert!(
        text.contains("Magnetic field interference") && text.contains("Action:"),
        "{text}"
    );
    assert!(text.contains("12345.678 kWh"), "{text}");

    // --read narrows the readout to what is asked.
    let o = probe(&["--optical", "--tcp", &addr, "--json", "--read", "status"]).await;
    assert_eq!(o.status.code(), Some(0));
    let reads: Vec<String> = json_lines(&o)
        .iter()
        .map(|l| l["reads"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reads, ["status", "87"]);
}

#[tokio::test]
async fn probe_optical_mode_e_reads_by_profile_over_dlms() {
    let addr = serve_tcp(meter(true), Some(meter_support::standard_meter())).await;
    let o = probe(&[
        "--optical",
        "--mode-e",
        "--tcp",
        &addr,
        "--physical-address",
        "17",
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
    let energy = find(&lines, "01");
    assert_eq!(energy["obis"], "1.0.1.8.0.255");
    assert_eq!(energy["unit"], "kWh");
    assert_eq!(energy["value"], 1.23456);
}

#[tokio::test]
async fn probe_optical_says_what_went_wrong() {
    // A meter without mode E: the probe says to read it in mode C.
    let addr = serve_tcp(meter(false), None).await;
    let o = probe(&["--optical", "--mode-e", "--tcp", &addr, "--timeout", "1"]).await;
    assert_eq!(o.status.code(), Some(65));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("mode C readout instead"), "{err}");
    // --mode-e without --optical is a usage error.
    let o = probe(&["--mode-e", "--tcp", &addr]).await;
    assert_eq!(o.status.code(), Some(64), "usage error");
}

#[tokio::test]
async fn autodetect_finds_an_optical_meter_first() {
    let addr = serve_tcp(meter(true), None).await;
    let o = probe(&["--tcp", &addr, "--autodetect", "--timeout", "0.5"]).await;
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{text}");
    assert!(
        text.contains("IEC 62056-21 optical sign-on") && text.contains("ANSWERED"),
        "{text}"
    );
    assert!(text.contains("protocol = \"optical\""), "{text}");
    assert!(
        text.contains("# identification: CAL5 \"CALIN-OPT1\"") && text.contains("mode E offered"),
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
    assert_eq!(
        config.buses[0].optical.unwrap().mode,
        calin_agent::config::OpticalMode::ModeE
    );
}

#[tokio::test]
async fn probe_optical_takes_readout_ids_and_timing_from_the_site_config() {
    let addr = serve_tcp(meter(false), None).await;
    // The site says its meters print the relay reason under C.7.0 (the built-in table
    // has the power-failure count there): the probe follows the site's profile.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("agent.toml");
    std::fs::write(
        &config,
        "[[profile.readout]]\nid = \"C.7.0\"\nreads = \"87\"\nprovenance = \"public-code\"\n",
    )
    .unwrap();
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_calin-agent"))
        .arg("--config")
        .arg(&config)
        .args([
            "probe",
            "--optical",
            "--switch-delay",
            "40",
            "--tcp",
            &addr,
            "--json",
        ])
        .output()
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    let lines = json_lines(&o);
    let reason = find(&lines, "87");
    assert_eq!(reason["id"], "C.7.0");
    assert_eq!(reason["sub_code"], 3, "the meter's C.7.0 value, read as 87");
    assert!(
        lines.iter().all(|l| l["reads"] != "52"),
        "C.7.0 no longer answers 52: {lines:?}"
    );
    // A switch delay out of range is refused before anything is sent.
    let o = probe(&["--optical", "--switch-delay", "5000", "--tcp", &addr]).await;
    assert_eq!(o.status.code(), Some(64));
}
