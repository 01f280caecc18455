//! The simulator on real links: HDLC and the IEC 62056-47 wrapper over loopback TCP,
//! HDLC over a pty that the client closes and reopens. Only 127.0.0.1.

use std::time::Duration;

use calin_agent::protocol::apdu::{
    Aarq, Apdu, AttributeDescriptor, GetDataResult, GetRequest, GetResponse, InitiateRequest,
    InvokeIdAndPriority,
};
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::obis::ObisCode;
use calin_agent::sim::testkit::{RawClient, WrapperClient};
use calin_agent::sim::{Framing, Scenario, SimOptions, Simulator};
use calin_agent::transport::{LineSettings, SerialLink, TcpLink};

const SERIAL: ObisCode = ObisCode::new(0, 0, 96, 1, 0, 255);
const WAIT: Duration = Duration::from_secs(5);

fn demo() -> Simulator {
    Simulator::new(Scenario::demo().unwrap(), SimOptions::default()).unwrap()
}

async fn serial_of<L: calin_agent::transport::Link>(c: &mut RawClient<L>) -> Data {
    c.connect().await.unwrap();
    assert!(c.associate(None, 512).await.unwrap().is_accepted());
    c.get(1, SERIAL, 2, None).await.unwrap().unwrap()
}

#[tokio::test]
async fn hdlc_over_tcp_serves_concurrent_connections() {
    let sim = demo();
    let (addr, _task) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc)
        .await
        .unwrap();
    assert!(addr.ip().is_loopback() && addr.port() != 0);
    let a = TcpLink::connect(&addr.to_string(), WAIT).await.unwrap();
    let b = TcpLink::connect(&addr.to_string(), WAIT).await.unwrap();
    let mut ca = RawClient::public(a, 17).unwrap();
    let mut cb = RawClient::public(b, 19).unwrap();
    let (sa, sb) = tokio::join!(serial_of(&mut ca), serial_of(&mut cb));
    assert_eq!(sa, Data::OctetString(b"47001000001".to_vec()));
    assert_eq!(sb, Data::OctetString(b"47001000003".to_vec()));
    drop(ca);
    // A new connection after one closed is served too.
    let c = TcpLink::connect(&addr.to_string(), WAIT).await.unwrap();
    let mut cc = RawClient::public(c, 18).unwrap();
    assert_eq!(
        serial_of(&mut cc).await,
        Data::OctetString(b"47001000002".to_vec())
    );
    sim.handle().shutdown();
}

#[tokio::test]
async fn the_wrapper_over_tcp_answers_client_wports_16_1_and_102() {
    let sim = demo();
    let (addr, _task) = sim
        .serve_tcp(
            "127.0.0.1:0".parse().unwrap(),
            Framing::Wrapper { meter: 2 },
        )
        .await
        .unwrap();
    for client in [16u16, 1, 102] {
        let link = TcpLink::connect(&addr.to_string(), WAIT).await.unwrap();
        let mut c = WrapperClient::new(link, client, 1);
        let aarq = Apdu::Aarq(Aarq::logical_name(None, InitiateRequest::new(512)));
        let aare = c.exchange(&aarq, WAIT).await.unwrap().expect("an AARE");
        assert_eq!((aare.source, aare.destination), (1, client));
        assert!(matches!(Apdu::decode(&aare.apdu), Ok(Apdu::Aare(a)) if a.is_accepted()));
        let get = Apdu::GetRequest(GetRequest::Normal {
            invoke: InvokeIdAndPriority::default(),
            attribute: AttributeDescriptor::new(1, SERIAL, 2),
            access: None,
        });
        let answer = c
            .exchange(&get, WAIT)
            .await
            .unwrap()
            .expect("a GET response");
        assert_eq!(
            Apdu::decode(&answer.apdu).unwrap(),
            Apdu::GetResponse(GetResponse::Normal {
                invoke: InvokeIdAndPriority::default(),
                result: GetDataResult::Data(Data::OctetString(b"47001000003".to_vec())),
            })
        );
    }
    // A frame for another logical device gets no answer.
    let link = TcpLink::connect(&addr.to_string(), WAIT).await.unwrap();
    let mut c = WrapperClient::new(link, 16, 7);
    let aarq = Apdu::Aarq(Aarq::logical_name(None, InitiateRequest::new(512)));
    assert!(c
        .exchange(&aarq, Duration::from_millis(300))
        .await
        .unwrap()
        .is_none());
    sim.handle().shutdown();
}

#[tokio::test]
async fn a_pty_keeps_serving_after_the_client_closes_and_reopens_it() {
    let sim = Simulator::new(Scenario::builtin(), SimOptions::default()).unwrap();
    let (path, _task) = sim.serve_pty(Framing::Hdlc).unwrap();
    let path = path.to_str().unwrap().to_string();
    assert!(path.starts_with("/dev/pts/"), "{path}");
    for round in 0..3 {
        let port = SerialLink::open(&path, LineSettings::new_8n1(9600))
            .await
            .unwrap();
        let mut c = RawClient::public(port, 17).unwrap();
        assert_eq!(
            serial_of(&mut c).await,
            Data::OctetString(b"47001234567".to_vec()),
            "round {round}"
        );
        if round == 1 {
            // Leave without DISC: the next opener's SNRM starts over.
            continue;
        }
        c.disconnect().await.unwrap();
    }
    sim.handle().shutdown();
}
