//! MQTT over TLS with mutual authentication against a real Mosquitto broker: a CA, a
//! server certificate for 127.0.0.1 and a client certificate are generated here with
//! rcgen. The publisher delivers over TLS; a broker signed by another CA is refused;
//! unusable TLS files stop the publisher at start with the file named.

mod mqtt_support;

use calin_agent::agent::metrics::Metrics;
use calin_agent::agent::publish::{tls_config, Doorbell, PublishError, Publisher};
use calin_agent::agent::StoreConfig;
use calin_agent::config::TlsSettings;
use mqtt_support::*;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use tokio::sync::watch;

struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write a PEM file");
    p
}

/// A CA and two leaf certificates it signed, as PEM files in `dir`.
fn make_pki(dir: &Path, tag: &str) -> Pki {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, format!("calin test CA {tag}"));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    server
        .subject_alt_names
        .push(SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)));
    let server_cert = server.signed_by(&server_key, &issuer).unwrap();

    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client.distinguished_name.push(DnType::CommonName, "gw-t");
    let client_cert = client.signed_by(&client_key, &issuer).unwrap();

    Pki {
        ca: write(dir, &format!("ca-{tag}.pem"), &ca_cert.pem()),
        server_cert: write(dir, &format!("server-{tag}.pem"), &server_cert.pem()),
        server_key: write(
            dir,
            &format!("server-{tag}.key"),
            &server_key.serialize_pem(),
        ),
        client_cert: write(dir, &format!("client-{tag}.pem"), &client_cert.pem()),
        client_key: write(
            dir,
            &format!("client-{tag}.key"),
            &client_key.serialize_pem(),
        ),
    }
}

fn client_tls(pki: &Pki) -> TlsSettings {
    TlsSettings {
        ca_file: pki.ca.clone(),
        client_cert: Some((pki.client_cert.clone(), pki.client_key.clone())),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_over_mutual_tls() {
    let certs = tempfile::tempdir().unwrap();
    let pki = make_pki(certs.path(), "a");
    let broker = Broker::start_with(Some(BrokerTls {
        ca: pki.ca.clone(),
        cert: pki.server_cert.clone(),
        key: pki.server_key.clone(),
        require_client_cert: true,
    }));
    let sub_tls = rumqttc::TlsConfiguration::Rustls(tls_config(&client_tls(&pki)).unwrap());
    let mut sub = Subscriber::start_with(broker.port, "consumer", "test/#", Some(sub_tls)).await;

    let dir = state_dir();
    let mut settings = broker.settings("gw-t");
    settings.tls = Some(client_tls(&pki));
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let mut store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    record(&mut store, "CAL9", 0..3);
    let (stop, shutdown) = watch::channel(false);
    let publisher = Publisher::spawn(settings, &db, doorbell, metrics, shutdown).unwrap();
    assert_eq!(sub.next().await.text(), "online");
    let last = format!("CAL9@{}", T0 + 2 * PERIOD);
    let got = sub
        .until(|m| m.topic.ends_with("/status") && message_id(m) == last)
        .await;
    let readings: Vec<String> = got
        .iter()
        .filter(|m| m.topic == "test/gw-t/CAL9/reading")
        .map(message_id)
        .collect();
    assert_eq!(
        readings,
        (0..3)
            .map(|i| format!("CAL9@{}", T0 + i * PERIOD))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        got.iter().filter(|m| m.topic.ends_with("/alert")).count(),
        2
    );
    stop.send_replace(true);
    publisher.join().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_signed_by_another_ca_is_refused() {
    let certs = tempfile::tempdir().unwrap();
    let ours = make_pki(certs.path(), "ours");
    let theirs = make_pki(certs.path(), "theirs");
    let broker = Broker::start_with(Some(BrokerTls {
        ca: theirs.ca.clone(),
        cert: theirs.server_cert.clone(),
        key: theirs.server_key.clone(),
        require_client_cert: false,
    }));
    // The TLS config the publisher would use, trusting only our CA.
    let config = tls_config(&TlsSettings {
        ca_file: ours.ca.clone(),
        client_cert: None,
    })
    .unwrap();
    let mut o = rumqttc::MqttOptions::new("intruder-check", "127.0.0.1", broker.port);
    o.set_transport(rumqttc::Transport::tls_with_config(
        rumqttc::TlsConfiguration::Rustls(config),
    ));
    let (_client, mut events) = rumqttc::AsyncClient::new(o, 8);
    let first = tokio::time::timeout(BOUND, events.poll())
        .await
        .expect("an answer in time");
    let err = first.expect_err("the handshake must fail").to_string();
    assert!(
        err.contains("UnknownIssuer") || err.contains("certificate"),
        "{err}"
    );
}

#[tokio::test]
async fn unusable_tls_files_stop_the_publisher_at_start() {
    let dir = state_dir();
    let settings = calin_agent::config::MqttSettings::new("127.0.0.1", 1, "gw");
    let (doorbell, metrics) = (Doorbell::new(), Metrics::new());
    let _store = store_with_outbox(dir.path(), &settings, &doorbell, &metrics);
    let db = StoreConfig::in_dir(dir.path()).db_path();
    let garbage = write(dir.path(), "garbage.pem", "not a certificate\n");
    let certs = make_pki(dir.path(), "x");
    for tls in [
        TlsSettings {
            ca_file: garbage.clone(),
            client_cert: None,
        },
        TlsSettings {
            ca_file: dir.path().join("missing.pem"),
            client_cert: None,
        },
        TlsSettings {
            ca_file: certs.ca.clone(),
            client_cert: Some((certs.client_cert.clone(), garbage.clone())),
        },
    ] {
        let mut s = settings.clone();
        s.tls = Some(tls.clone());
        let (_stop, shutdown) = watch::channel(false);
        match Publisher::spawn(s, &db, doorbell.clone(), metrics.clone(), shutdown) {
            Err(PublishError::Tls { path, .. }) => {
                let named = tls.client_cert.map_or(tls.ca_file, |(_, key)| key);
                assert_eq!(path, named);
            }
            Err(e) => panic!("unexpected error {e}"),
            Ok(_) => panic!("started with unusable TLS files {tls:?}"),
        }
    }
}
