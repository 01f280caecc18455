//! Interoperability: our session against an independent implementation, the
//! `dlms-cosem-rs` 0.1.0 `Server` (sans-IO), hosted here over HDLC (its own
//! `Connection`, `Framer` and `Reassembler`) on an in-memory duplex, and over the
//! IEC 62056-47 wrapper (its `StreamReassembler` and `Wpdu`) on loopback TCP. Nothing of
//! our protocol code runs on the meter side, so a bug shared by both ends of our own
//! tests cannot hide here.

use std::time::Duration;

use calin_agent::config::Secret;
use calin_agent::meter::cosem::{self, Measurement};
use calin_agent::meter::{Framing, MeterError, Session, SessionConfig};
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::hdlc::HdlcAddress;
use calin_agent::protocol::units::Unit;
use calin_agent::transport::TcpLink;
use dlms_cosem_rs::acse::AuthMechanism;
use dlms_cosem_rs::axdr::Data as TheirData;
use dlms_cosem_rs::codec::{Encode, Writer};
use dlms_cosem_rs::obis::Obis;
use dlms_cosem_rs::security::{FixedRandom, KeyRing, RustCryptoProvider};
use dlms_cosem_rs::server::{ObjectStore, Server, ServerConfig, StoreResult};
use dlms_cosem_rs::transport::hdlc::{
    Address, Connection, Event, Found, Framer, Parameters, Reassembler, Role,
};
use dlms_cosem_rs::transport::wrapper::{StreamReassembler, Wpdu};
use dlms_cosem_rs::xdlms::{DataAccessResult, SelectiveAccess};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ENERGY: Obis = Obis::new(1, 0, 1, 8, 0, 255);
const SERIAL: Obis = Obis::new(0, 0, 96, 1, 0, 255);

/// Two objects: an energy register (12 345 678 × 10^-1 Wh) and the serial number.
struct Meter;

impl ObjectStore for Meter {
    fn get_attribute(
        &self,
        class_id: u16,
        logical_name: Obis,
        attribute_id: i8,
        _access: Option<SelectiveAccess<'_>>,
        w: &mut dyn Writer,
    ) -> StoreResult<()> {
        let bad = |_| DataAccessResult::OtherReason;
        match (class_id, logical_name, attribute_id) {
            (3, ENERGY, 2) => TheirData::DoubleLongUnsigned(12_345_678)
                .encode(w)
                .map_err(bad),
            // structure { integer -1, enum 30 (Wh) }
            (3, ENERGY, 3) => w
                .write_bytes(&[0x02, 0x02, 0x0F, 0xFF, 0x16, 30])
                .map_err(bad),
            (1, SERIAL, 2) => TheirData::OctetString(b"CAL0042").encode(w).map_err(bad),
            _ => Err(DataAccessResult::ObjectUndefined),
        }
    }

    fn attribute_access(&self, _: u16, _: Obis, _: i8) -> dlms_cosem_rs::cosem::AttributeAccess {
        dlms_cosem_rs::cosem::AttributeAccess::READ
    }
}

type TheirServer = Server<Meter, RustCryptoProvider<FixedRandom>, 2048>;

fn their_server(password: Option<&[u8]>) -> TheirServer {
    let config = ServerConfig {
        mechanism: if password.is_some() {
            AuthMechanism::Low
        } else {
            AuthMechanism::None
        },
        password: password.map(|p| dlms_cosem_rs::security::Secret::new(p).unwrap()),
        max_pdu_size: 512,
        ..Default::default()
    };
    Server::new(
        config,
        Meter,
        RustCryptoProvider::with_rng(KeyRing::default(), FixedRandom(0x5A)),
    )
}

const LLC_COMMAND: [u8; 3] = [0xE6, 0xE6, 0x00];
const LLC_RESPONSE: [u8; 3] = [0xE6, 0xE7, 0x00];

/// Their HDLC secondary station and their server on one end of a duplex, until the
/// client closes it. Returns how many APDUs it answered.
async fn serve_hdlc(mut io: tokio::io::DuplexStream, mut server: TheirServer) -> usize {
    let local = Address::Double {
        upper: 1,
        lower: 17,
    };
    let mut conn = Connection::new(
        Role::Server,
        local,
        Address::client(0x10),
        Parameters::default(),
    );
    let mut framer = Framer::new();
    let mut storage = [0u8; 2048];
    let mut into = Reassembler::new(&mut storage);
    let mut buffered: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 1024];
    let mut answered = 0;
    loop {
        let n = match io.read(&mut chunk).await {
            Ok(0) | Err(_) => return answered,
            Ok(n) => n,
        };
        buffered.extend_from_slice(&chunk[..n]);
        loop {
            let mut outgoing: Vec<Vec<u8>> = Vec::new();
            let consumed = match framer.next_frame(&buffered).expect("framer") {
                Found::Incomplete { discard } => {
                    buffered.drain(..discard);
                    break;
                }
                Found::Frame { frame, consumed } => {
                    let mut out = [0u8; 2048];
                    match conn
                        .handle(&frame, &mut into)
                        .expect("their HDLC accepts our frame")
                    {
                        Event::AcknowledgeRequired => {
                            let len = conn.acknowledge(&mut out).unwrap();
                            outgoing.push(out[..len].to_vec());
                        }
                        Event::PollRequired => {
                            let len = conn.poll(&mut out).unwrap();
                            outgoing.push(out[..len].to_vec());
                        }
                        Event::Lsdu => {
                            let lsdu = into.lsdu().to_vec();
                            let apdu = lsdu.strip_prefix(&LLC_COMMAND).expect("LLC command header");
                            let mut reply = [0u8; 2048];
                            let len = server
                                .handle(apdu, &mut reply)
                                .expect("their server decodes our APDU");
                            if len > 0 {
                                answered += 1;
                                let mut unit = LLC_RESPONSE.to_vec();
                                unit.extend_from_slice(&reply[..len]);
                                let mut seg = conn.segmenter(&unit).unwrap();
                                while let Some(n) = conn.next_frame(&mut seg, &mut out).unwrap() {
                                    outgoing.push(out[..n].to_vec());
                                }
                            }
                        }
                        Event::Idle | Event::Connected | Event::Disconnected => {}
                    }
                    consumed
                }
            };
            buffered.drain(..consumed);
            for bytes in outgoing {
                if io.write_all(&bytes).await.is_err() {
                    return answered;
                }
            }
        }
    }
}

fn hdlc_config() -> SessionConfig {
    let mut c = SessionConfig::new(16, HdlcAddress::server(1, Some(17)).unwrap());
    c.response_timeout = Duration::from_millis(500);
    c.inter_char_timeout = Duration::from_millis(20);
    c
}

async fn open_hdlc(server: TheirServer, config: SessionConfig) -> Result<Session, MeterError> {
    let (client, meter) = tokio::io::duplex(8192);
    tokio::spawn(serve_hdlc(meter, server));
    Session::open(Box::new(client), config).await
}

async fn read_both(session: &mut Session) {
    let energy = cosem::read_register(session, 3, ENERGY_OURS)
        .await
        .unwrap()
        .unwrap();
    let Measurement::Exact(q) = energy else {
        panic!("{energy:?}")
    };
    assert_eq!(
        (q.mantissa, q.scaler, q.unit),
        (12_345_678, -1, Unit::WattHour)
    );
    assert_eq!(energy.to_string(), "1234567.8 Wh");
    let serial = session
        .get("1:0.0.96.1.0.255:2".parse().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(serial, Ok(Data::OctetString(b"CAL0042".to_vec())));
    let missing = session
        .get("3:1.0.2.8.0.255:2".parse().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(
        missing,
        Err(calin_agent::protocol::apdu::DataAccessResult::ObjectUndefined)
    );
}

const ENERGY_OURS: calin_agent::protocol::obis::ObisCode =
    calin_agent::protocol::obis::ObisCode::new(1, 0, 1, 8, 0, 255);

#[tokio::test(start_paused = true)]
async fn reads_their_server_over_their_hdlc() {
    let mut session = open_hdlc(their_server(None), hdlc_config()).await.unwrap();
    assert_eq!(session.negotiated().server_max_pdu_size, 512);
    read_both(&mut session).await;
    assert_eq!(session.link_stats().damaged, 0);
    assert_eq!(session.link_stats().timeouts, 0);
    session.release().await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn lls_against_their_server() {
    let mut c = hdlc_config();
    c.password = Some(Secret::new(b"ABCDEFGH".to_vec()));
    let mut session = open_hdlc(their_server(Some(b"ABCDEFGH")), c).await.unwrap();
    read_both(&mut session).await;
    session.release().await.unwrap();

    let mut c = hdlc_config();
    c.password = Some(Secret::new(b"wrong".to_vec()));
    let err = open_hdlc(their_server(Some(b"ABCDEFGH")), c)
        .await
        .unwrap_err();
    assert!(
        matches!(err, MeterError::WrongPassword { client: 16 }),
        "{err:?}"
    );
}

/// Their server behind their wrapper framing on a loopback TCP listener.
async fn serve_wrapper(listener: tokio::net::TcpListener) {
    let (mut stream, _) = listener.accept().await.unwrap();
    let mut server = their_server(None);
    let reassembler = StreamReassembler::new(2048);
    let mut buffered = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        buffered.extend_from_slice(&chunk[..n]);
        while let Some((wpdu, used)) = reassembler.next_pdu(&buffered).unwrap() {
            let mut out = [0u8; 2048];
            let len = server.handle(wpdu.apdu, &mut out).unwrap();
            let mut framed = Vec::new();
            Wpdu::new(wpdu.header.destination, wpdu.header.source, &out[..len])
                .unwrap()
                .encode(&mut framed)
                .unwrap();
            buffered.drain(..used);
            stream.write_all(&framed).await.unwrap();
        }
    }
}

#[tokio::test]
async fn reads_their_server_over_the_wrapper_on_loopback_tcp() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = listener.local_addr().unwrap().to_string();
    tokio::spawn(serve_wrapper(listener));
    let link = TcpLink::connect(&endpoint, Duration::from_secs(5))
        .await
        .unwrap();
    let mut c = SessionConfig::new(16, HdlcAddress::server(1, None).unwrap());
    c.framing = Framing::Wrapper {
        client_wport: 16,
        server_wport: 1,
    };
    c.response_timeout = Duration::from_secs(5);
    let mut session = Session::open(Box::new(link), c).await.unwrap();
    read_both(&mut session).await;
    session.release().await.unwrap();
}
