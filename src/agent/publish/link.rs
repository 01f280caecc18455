//! One connection to the broker over rumqttc, MQTT 3.1.1 or 5 behind one small
//! interface: publish at QoS 1, and events reduced to what the publisher needs
//! (connected, a publish got its packet id, a packet id was acknowledged).
//!
//! A `Link` is used for one connection only and then dropped: rumqttc would otherwise
//! replay its in-memory unacknowledged messages on the next connection, while the
//! publisher republishes them from the outbox itself.

use super::error::PublishError;
use super::message::{Topics, OFFLINE};
use crate::config::{MqttProtocol, MqttSettings, TlsSettings};
use rumqttc::v5;
use rumqttc::{Outgoing, QoS, TlsConfiguration, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;

/// What the publisher learns from one poll of the connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkEvent {
    /// CONNACK accepted.
    Connected,
    /// The oldest publish handed to `publish` went out with this packet id.
    Sent(u16),
    /// The broker acknowledged this packet id (PUBACK).
    Acked(u16),
    /// The broker refused the publish with this packet id (MQTT 5 reason code).
    Refused { pkid: u16, reason: String },
    /// Anything else (pings, subscription traffic).
    Other,
}

/// The connection failed; the reason is for the log.
#[derive(Debug)]
pub struct LinkDown(pub String);

enum Inner {
    V311(rumqttc::AsyncClient, Box<rumqttc::EventLoop>),
    V5(v5::AsyncClient, Box<v5::EventLoop>),
}

pub struct Link {
    inner: Inner,
}

/// Build the rustls client config from the CA file and optional client certificate.
pub fn tls_config(tls: &TlsSettings) -> Result<Arc<rustls::ClientConfig>, PublishError> {
    let bad = |path: &std::path::Path, message: String| PublishError::Tls {
        path: path.to_owned(),
        message,
    };
    let mut roots = rustls::RootCertStore::empty();
    let cas = CertificateDer::pem_file_iter(&tls.ca_file)
        .map_err(|e| bad(&tls.ca_file, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(&tls.ca_file, e.to_string()))?;
    if cas.is_empty() {
        return Err(bad(&tls.ca_file, "no PEM certificate in the file".into()));
    }
    for ca in cas {
        roots
            .add(ca)
            .map_err(|e| bad(&tls.ca_file, e.to_string()))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(&tls.ca_file, e.to_string()))?
        .with_root_certificates(roots);
    let config = match &tls.client_cert {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| bad(cert, e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| bad(cert, e.to_string()))?;
            if chain.is_empty() {
                return Err(bad(cert, "no PEM certificate in the file".into()));
            }
            let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e.to_string()))?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|e| bad(cert, e.to_string()))?
        }
    };
    Ok(Arc::new(config))
}

impl Link {
    /// A new, not yet connected link (connecting happens in the first `poll`).
    pub fn new(
        settings: &MqttSettings,
        topics: &Topics,
        tls: Option<&Arc<rustls::ClientConfig>>,
    ) -> Link {
        // The broker's certificate must name `settings.host` (a DNS name or an IP
        // address), which is also where the TCP connection goes.
        let connect_host = settings.host.clone();
        let transport = match tls {
            Some(c) => Transport::tls_with_config(TlsConfiguration::Rustls(c.clone())),
            None => Transport::tcp(),
        };
        // Room for every publish the window allows plus online/offline: `try_publish`
        // then never finds the channel full.
        let capacity = usize::from(settings.inflight) * 2 + 8;
        let password = settings
            .password
            .as_ref()
            .map(|p| String::from_utf8_lossy(p.expose()).into_owned());
        // The config allows 5 s..=65535 s; rumqttc's MQTT 5 client panics below 5 s.
        let keep_alive = settings.keep_alive.max(std::time::Duration::from_secs(5));
        let inner = match settings.protocol {
            MqttProtocol::V311 => {
                let mut o =
                    rumqttc::MqttOptions::new(&settings.client_id, connect_host, settings.port);
                o.set_keep_alive(keep_alive)
                    .set_clean_session(true)
                    .set_inflight(settings.inflight.saturating_add(2))
                    .set_request_channel_capacity(capacity)
                    .set_transport(transport)
                    .set_last_will(rumqttc::LastWill::new(
                        topics.online(),
                        OFFLINE,
                        QoS::AtLeastOnce,
                        true,
                    ));
                if let (Some(u), Some(p)) = (&settings.username, &password) {
                    o.set_credentials(u, p);
                } else if let Some(u) = &settings.username {
                    o.set_credentials(u, "");
                }
                let (client, events) = rumqttc::AsyncClient::new(o, capacity);
                Inner::V311(client, Box::new(events))
            }
            MqttProtocol::V5 => {
                let mut o = v5::MqttOptions::new(&settings.client_id, connect_host, settings.port);
                o.set_keep_alive(keep_alive)
                    .set_clean_start(true)
                    .set_outgoing_inflight_upper_limit(settings.inflight.saturating_add(2))
                    .set_request_channel_capacity(capacity)
                    .set_transport(transport)
                    .set_last_will(v5::mqttbytes::v5::LastWill::new(
                        topics.online(),
                        OFFLINE,
                        v5::mqttbytes::QoS::AtLeastOnce,
                        true,
                        None,
                    ));
                if let Some(u) = &settings.username {
                    o.set_credentials(u, password.clone().unwrap_or_default());
                }
                let (client, events) = v5::AsyncClient::new(o, capacity);
                Inner::V5(client, Box::new(events))
            }
        };
        Link { inner }
    }

    /// Queue a QoS 1 publish; `false` when the request channel is full (try later).
    pub fn publish(&self, topic: String, payload: Vec<u8>, retain: bool, message_id: &str) -> bool {
        match &self.inner {
            Inner::V311(c, _) => c
                .try_publish(topic, QoS::AtLeastOnce, retain, payload)
                .is_ok(),
            Inner::V5(c, _) => {
                let props = v5::mqttbytes::v5::PublishProperties {
                    payload_format_indicator: Some(1),
                    content_type: Some("application/json".into()),
                    user_properties: vec![("message_id".into(), message_id.into())],
                    ..Default::default()
                };
                c.try_publish_with_properties(
                    topic,
                    v5::mqttbytes::QoS::AtLeastOnce,
                    retain,
                    payload,
                    props,
                )
                .is_ok()
            }
        }
    }

    /// Queue a plain-text QoS 1 publish (online/offline).
    pub fn publish_text(&self, topic: String, text: &str, retain: bool) -> bool {
        match &self.inner {
            Inner::V311(c, _) => c
                .try_publish(topic, QoS::AtLeastOnce, retain, text.as_bytes().to_vec())
                .is_ok(),
            Inner::V5(c, _) => c
                .try_publish(
                    topic,
                    v5::mqttbytes::QoS::AtLeastOnce,
                    retain,
                    text.as_bytes().to_vec(),
                )
                .is_ok(),
        }
    }

    /// Queue a DISCONNECT (a clean one: the broker does not send the last will).
    pub fn disconnect(&self) {
        match &self.inner {
            Inner::V311(c, _) => drop(c.try_disconnect()),
            Inner::V5(c, _) => drop(c.try_disconnect()),
        }
    }

    /// The next event; an error means the connection is gone.
    pub async fn poll(&mut self) -> Result<LinkEvent, LinkDown> {
        match &mut self.inner {
            Inner::V311(_, events) => {
                use rumqttc::{Event, Packet};
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => Ok(LinkEvent::Connected),
                    Ok(Event::Incoming(Packet::PubAck(a))) => Ok(LinkEvent::Acked(a.pkid)),
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => Ok(LinkEvent::Sent(pkid)),
                    Ok(Event::Incoming(Packet::Disconnect)) => {
                        Err(LinkDown("the broker disconnected".into()))
                    }
                    Ok(_) => Ok(LinkEvent::Other),
                    Err(e) => Err(LinkDown(e.to_string())),
                }
            }
            Inner::V5(_, events) => {
                use v5::mqttbytes::v5::{Packet, PubAckReason};
                use v5::Event;
                match events.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => Ok(LinkEvent::Connected),
                    Ok(Event::Incoming(Packet::PubAck(a))) => match a.reason {
                        PubAckReason::Success | PubAckReason::NoMatchingSubscribers => {
                            Ok(LinkEvent::Acked(a.pkid))
                        }
                        other => Ok(LinkEvent::Refused {
                            pkid: a.pkid,
                            reason: format!("{other:?}"),
                        }),
                    },
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => Ok(LinkEvent::Sent(pkid)),
                    Ok(Event::Incoming(Packet::Disconnect(d))) => Err(LinkDown(format!(
                        "the broker disconnected: {:?}",
                        d.reason_code
                    ))),
                    Ok(_) => Ok(LinkEvent::Other),
                    Err(e) => Err(LinkDown(e.to_string())),
                }
            }
        }
    }
}
