//! The `[mqtt]` and `[metrics]` sections: where the gateway publishes to the fleet's
//! broker and where it serves its Prometheus metrics. Validated here (secrets read
//! from their files); no socket is opened.

use super::duration::HumanDuration;
use super::secret::Secret;
use super::ConfigError;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// The MQTT protocol version spoken to the broker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum MqttProtocol {
    /// MQTT 3.1.1 (the default: every broker speaks it).
    #[default]
    #[serde(rename = "3.1.1")]
    V311,
    /// MQTT 5.
    #[serde(rename = "5")]
    V5,
}

/// TLS to the broker: the CA that signed the broker's certificate, and optionally the
/// gateway's own certificate for mutual TLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM file of the CA certificate(s) the broker's certificate must chain to.
    pub ca_file: PathBuf,
    /// PEM client certificate chain and its PEM private key (both or neither).
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

/// `[mqtt]`, validated. Absent from the config: nothing is published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MqttSettings {
    pub host: String,
    pub port: u16,
    pub protocol: MqttProtocol,
    /// This gateway's name in every topic (`<prefix>/<gateway>/...`).
    pub gateway: String,
    /// The first topic level(s), e.g. `calin` or `utility/meters`.
    pub topic_prefix: String,
    /// Default: `calin-agent-<gateway>`.
    pub client_id: String,
    pub keep_alive: Duration,
    pub username: Option<String>,
    /// Read from `password_file`; `Debug` prints `<redacted>`.
    pub password: Option<Secret>,
    pub tls: Option<TlsSettings>,
    /// Publish every successful reading (alerts and status are always published).
    pub publish_readings: bool,
    /// Outbox size past which the oldest readings are dropped (alerts never are).
    pub outbox_max: u32,
    /// Publishes awaiting the broker's PUBACK at once.
    pub inflight: u16,
    /// Reconnect backoff: first wait, doubling up to `reconnect_max`.
    pub reconnect_min: Duration,
    pub reconnect_max: Duration,
}

impl MqttSettings {
    /// Settings for a plain-TCP broker at `host:port` (tests and tools).
    pub fn new(host: impl Into<String>, port: u16, gateway: impl Into<String>) -> Self {
        let gateway = gateway.into();
        MqttSettings {
            host: host.into(),
            port,
            protocol: MqttProtocol::V311,
            client_id: format!("calin-agent-{gateway}"),
            gateway,
            topic_prefix: d_prefix(),
            keep_alive: d_keep_alive().0,
            username: None,
            password: None,
            tls: None,
            publish_readings: true,
            outbox_max: d_outbox_max(),
            inflight: d_inflight(),
            reconnect_min: d_reconnect_min().0,
            reconnect_max: d_reconnect_max().0,
        }
    }
}

/// `[metrics]`, validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Serve `/metrics` at all.
    pub enabled: bool,
    /// Where (keep it on loopback or a management network).
    pub listen: SocketAddr,
}

/// The default metrics address: loopback, the port registered for this kind of
/// exporter range.
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9464";

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            enabled: true,
            listen: DEFAULT_METRICS_LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 9464))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMqtt {
    broker: Spanned<String>,
    #[serde(default)]
    protocol: MqttProtocol,
    gateway: Spanned<String>,
    #[serde(default = "d_prefix_spanned")]
    topic_prefix: Spanned<String>,
    #[serde(default)]
    client_id: Option<Spanned<String>>,
    #[serde(default = "d_keep_alive_spanned")]
    keep_alive: Spanned<HumanDuration>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password_file: Option<Spanned<String>>,
    #[serde(default)]
    tls: Option<RawTls>,
    #[serde(default = "d_true")]
    publish_readings: bool,
    #[serde(default = "d_outbox_max")]
    outbox_max: u32,
    #[serde(default = "d_inflight_spanned")]
    inflight: Spanned<u16>,
    #[serde(default = "d_reconnect_min")]
    reconnect_min: HumanDuration,
    #[serde(default = "d_reconnect_max")]
    reconnect_max: HumanDuration,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca_file: Spanned<String>,
    #[serde(default)]
    client_cert: Option<Spanned<String>>,
    #[serde(default)]
    client_key: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMetrics {
    #[serde(default = "d_true")]
    enabled: bool,
    #[serde(default = "d_listen")]
    listen: Spanned<String>,
}

impl Default for RawMetrics {
    fn default() -> Self {
        RawMetrics {
            enabled: true,
            listen: d_listen(),
        }
    }
}

fn d_prefix() -> String {
    "calin".to_owned()
}
fn d_prefix_spanned() -> Spanned<String> {
    Spanned::new(0..0, d_prefix())
}
fn d_keep_alive() -> HumanDuration {
    HumanDuration(Duration::from_secs(30))
}
fn d_keep_alive_spanned() -> Spanned<HumanDuration> {
    Spanned::new(0..0, d_keep_alive())
}
fn d_true() -> bool {
    true
}
fn d_outbox_max() -> u32 {
    100_000
}
fn d_inflight() -> u16 {
    32
}
fn d_inflight_spanned() -> Spanned<u16> {
    Spanned::new(0..0, d_inflight())
}
fn d_reconnect_min() -> HumanDuration {
    HumanDuration(Duration::from_secs(1))
}
fn d_reconnect_max() -> HumanDuration {
    HumanDuration(Duration::from_secs(120))
}
fn d_listen() -> Spanned<String> {
    Spanned::new(0..0, DEFAULT_METRICS_LISTEN.to_owned())
}

/// Where a key's error is reported.
struct At<'a> {
    path: &'a Path,
    text: &'a str,
}

impl At<'_> {
    fn err<T>(&self, at: &Spanned<T>, key: &str, msg: impl Into<String>) -> ConfigError {
        ConfigError::at(self.path, self.text, at.span(), key, msg)
    }
}

/// A topic level must not be empty nor hold MQTT wildcards or separators.
fn topic_level_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        Some("it is empty")
    } else if s.contains(['+', '#']) {
        Some("MQTT wildcards `+` and `#` are not allowed in topics")
    } else if s.contains('/') {
        Some("`/` separates topic levels and cannot be part of a name")
    } else if s.contains('\0') {
        Some("NUL is not allowed in topics")
    } else {
        None
    }
}

/// `host:port`, `host` (default port), `[v6]:port`.
fn split_broker(s: &str, default_port: u16) -> Result<(String, u16), String> {
    let s = s.trim();
    let bad = || {
        format!("`{s}` is not a broker address: write HOST or HOST:PORT (e.g. \"mqtt.example.net:8883\")")
    };
    if s.is_empty() {
        return Err(bad());
    }
    if let Some(rest) = s.strip_prefix('[') {
        let (host, tail) = rest.split_once(']').ok_or_else(bad)?;
        let port = match tail.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if tail.is_empty() => default_port,
            None => return Err(bad()),
        };
        return Ok((host.to_owned(), port));
    }
    match s.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') => {
            let port: u16 = port.parse().map_err(|_| bad())?;
            if host.is_empty() || port == 0 {
                return Err(bad());
            }
            Ok((host.to_owned(), port))
        }
        Some(_) => Err(bad()),
        None => Ok((s.to_owned(), default_port)),
    }
}

pub(super) fn validate_mqtt(
    path: &Path,
    text: &str,
    raw: RawMqtt,
) -> Result<MqttSettings, ConfigError> {
    let at = At { path, text };
    let tls = raw.tls.map(|t| validate_tls(&at, t)).transpose()?;
    let default_port = if tls.is_some() { 8883 } else { 1883 };
    let (host, port) = split_broker(raw.broker.get_ref(), default_port)
        .map_err(|m| at.err(&raw.broker, "mqtt.broker", m))?;
    let gateway = raw.gateway.get_ref().trim().to_owned();
    if let Some(p) = topic_level_problem(&gateway) {
        return Err(at.err(
            &raw.gateway,
            "mqtt.gateway",
            format!("`{gateway}` cannot name the gateway in topics: {p}"),
        ));
    }
    let prefix = raw.topic_prefix.get_ref().trim().to_owned();
    for level in prefix.split('/') {
        if let Some(p) = topic_level_problem(level) {
            return Err(at.err(
                &raw.topic_prefix,
                "mqtt.topic_prefix",
                format!("`{prefix}` is not a topic prefix: {p} (write e.g. \"calin\" or \"utility/meters\", no leading or trailing `/`)"),
            ));
        }
    }
    let client_id = match &raw.client_id {
        Some(c) if c.get_ref().trim().is_empty() => {
            return Err(at.err(
                c,
                "mqtt.client_id",
                "the client id is empty: remove the key for the default calin-agent-<gateway>",
            ));
        }
        Some(c) => c.get_ref().trim().to_owned(),
        None => format!("calin-agent-{gateway}"),
    };
    let password = match &raw.password_file {
        None => None,
        Some(pf) => {
            let file = super::resolve(path, pf.get_ref());
            let bytes = std::fs::read(&file).map_err(|e| {
                at.err(pf, "mqtt.password_file", format!("cannot read the broker password file {}: {e}; create it (mode 0600, the password on one line) or remove the key", file.display()))
            })?;
            Some(Secret::from_file_text(&bytes).ok_or_else(|| {
                at.err(
                    pf,
                    "mqtt.password_file",
                    format!("the broker password file {} is empty", file.display()),
                )
            })?)
        }
    };
    if password.is_some() && raw.username.is_none() {
        let pf = raw.password_file.as_ref().map_or(0..0, |p| p.span());
        return Err(ConfigError::at(
            path,
            text,
            pf,
            "mqtt.password_file",
            "a password needs a `username` too",
        ));
    }
    let keep_alive = raw.keep_alive.get_ref().0;
    // MQTT carries it in whole seconds (16 bits); rumqttc's MQTT 5 client wants >= 5 s.
    if keep_alive < Duration::from_secs(5) || keep_alive > Duration::from_secs(65_535) {
        return Err(at.err(
            &raw.keep_alive,
            "mqtt.keep_alive",
            format!(
                "keep_alive {} must be between 5s and 65535s (about 18h)",
                raw.keep_alive.get_ref()
            ),
        ));
    }
    let inflight = *raw.inflight.get_ref();
    if inflight == 0 || inflight > 1000 {
        return Err(at.err(
            &raw.inflight,
            "mqtt.inflight",
            "inflight must be 1..=1000 publishes awaiting PUBACK",
        ));
    }
    if raw.reconnect_min.0.is_zero() || raw.reconnect_max.0 < raw.reconnect_min.0 {
        return Err(ConfigError::at(
            path,
            text,
            raw.broker.span(),
            "mqtt.reconnect_min",
            format!(
                "reconnect_min ({}) must be above zero and at most reconnect_max ({})",
                raw.reconnect_min, raw.reconnect_max
            ),
        ));
    }
    Ok(MqttSettings {
        host,
        port,
        protocol: raw.protocol,
        gateway,
        topic_prefix: prefix,
        client_id,
        keep_alive,
        username: raw.username,
        password,
        tls,
        publish_readings: raw.publish_readings,
        outbox_max: raw.outbox_max,
        inflight,
        reconnect_min: raw.reconnect_min.0,
        reconnect_max: raw.reconnect_max.0,
    })
}

fn validate_tls(at: &At<'_>, raw: RawTls) -> Result<TlsSettings, ConfigError> {
    let file = |s: &Spanned<String>, key: &str| -> Result<PathBuf, ConfigError> {
        let p = super::resolve(at.path, s.get_ref());
        if !p.is_file() {
            return Err(at.err(
                s,
                key,
                format!("{} does not exist or is not a file", p.display()),
            ));
        }
        Ok(p)
    };
    let ca_file = file(&raw.ca_file, "mqtt.tls.ca_file")?;
    let client_cert = match (&raw.client_cert, &raw.client_key) {
        (None, None) => None,
        (Some(c), Some(k)) => Some((
            file(c, "mqtt.tls.client_cert")?,
            file(k, "mqtt.tls.client_key")?,
        )),
        (Some(c), None) => {
            return Err(at.err(
                c,
                "mqtt.tls.client_key",
                "a client certificate needs its `client_key`",
            ))
        }
        (None, Some(k)) => {
            return Err(at.err(
                k,
                "mqtt.tls.client_cert",
                "a client key needs its `client_cert`",
            ))
        }
    };
    Ok(TlsSettings {
        ca_file,
        client_cert,
    })
}

pub(super) fn validate_metrics(
    path: &Path,
    text: &str,
    raw: RawMetrics,
) -> Result<MetricsSettings, ConfigError> {
    let listen = raw.listen.get_ref().trim().parse().map_err(|_| {
        ConfigError::at(
            path,
            text,
            raw.listen.span(),
            "metrics.listen",
            format!(
                "`{}` is not an address to listen on: write IP:PORT (e.g. \"{DEFAULT_METRICS_LISTEN}\")",
                raw.listen.get_ref()
            ),
        )
    })?;
    Ok(MetricsSettings {
        enabled: raw.enabled,
        listen,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("site.toml"), text)
    }

    #[test]
    fn broker_addresses() {
        assert_eq!(split_broker("h:1884", 1883), Ok(("h".into(), 1884)));
        assert_eq!(split_broker("h", 8883), Ok(("h".into(), 8883)));
        assert_eq!(split_broker("[::1]:99", 1883), Ok(("::1".into(), 99)));
        assert_eq!(split_broker("[::1]", 1883), Ok(("::1".into(), 1883)));
        for bad in ["", "h:", "h:x", ":5", "::1:5", "h:0", "[::1]x"] {
            assert!(split_broker(bad, 1883).is_err(), "{bad}");
        }
    }

    #[test]
    fn no_mqtt_section_publishes_nothing_and_metrics_default_to_loopback() {
        let c = parse("").unwrap();
        assert!(c.mqtt.is_none());
        assert!(c.metrics.enabled);
        assert_eq!(c.metrics.listen.to_string(), DEFAULT_METRICS_LISTEN);
    }

    #[test]
    fn mqtt_section_with_defaults() {
        let c = parse("[mqtt]\nbroker = \"mqtt.example.net\"\ngateway = \"gw-17\"\n").unwrap();
        let m = c.mqtt.unwrap();
        assert_eq!((m.host.as_str(), m.port), ("mqtt.example.net", 1883));
        assert_eq!(m.client_id, "calin-agent-gw-17");
        assert_eq!(m.topic_prefix, "calin");
        assert_eq!(m.protocol, MqttProtocol::V311);
        assert_eq!(m.outbox_max, 100_000);
        assert!(m.tls.is_none() && m.password.is_none());
    }

    #[test]
    fn password_is_read_from_its_file_and_never_printed() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("broker.pw");
        std::fs::write(&pw, "hunter2-broker\n").unwrap();
        let text = format!(
            "[mqtt]\nbroker = \"b:1\"\ngateway = \"g\"\nprotocol = \"5\"\nusername = \"gw\"\npassword_file = \"{}\"\n",
            pw.display()
        );
        let c = parse(&text).unwrap();
        let m = c.mqtt.as_ref().unwrap();
        assert_eq!(m.protocol, MqttProtocol::V5);
        assert_eq!(m.password.as_ref().unwrap().expose(), b"hunter2-broker");
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }

    #[test]
    fn bad_keys_name_the_line_and_key() {
        let cases = [
            ("[mqtt]\nbroker = \"b\"\ngateway = \"gw/1\"\n", 3, "mqtt.gateway"),
            ("[mqtt]\nbroker = \"b\"\ngateway = \"g\"\ntopic_prefix = \"a/#\"\n", 4, "mqtt.topic_prefix"),
            ("[mqtt]\nbroker = \"b:x\"\ngateway = \"g\"\n", 2, "mqtt.broker"),
            ("[mqtt]\nbroker = \"b\"\ngateway = \"g\"\ninflight = 0\n", 4, "mqtt.inflight"),
            ("[mqtt]\nbroker = \"b\"\ngateway = \"g\"\nkeep_alive = \"2s\"\n", 4, "mqtt.keep_alive"),
            ("[mqtt]\nbroker = \"b\"\ngateway = \"g\"\npassword_file = \"/nonexistent/pw\"\nusername = \"u\"\n", 4, "mqtt.password_file"),
            ("[mqtt]\nbroker = \"b\"\ngateway = \"g\"\n[mqtt.tls]\nca_file = \"/nonexistent/ca.pem\"\n", 5, "mqtt.tls.ca_file"),
            ("[metrics]\nlisten = \"localhost\"\n", 2, "metrics.listen"),
        ];
        for (text, line, key) in cases {
            let err = parse(text).unwrap_err();
            assert_eq!(err.line(), Some(line), "{text}: {err}");
            assert!(err.to_string().contains(key), "{text}: {err}");
        }
        let err = parse("[mqtt]\nbroker = \"b\"\ngateway = \"g\"\nbrokr = 1\n").unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn tls_defaults_to_port_8883_and_pairs_cert_with_key() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        std::fs::write(&ca, "x").unwrap();
        let text = format!(
            "[mqtt]\nbroker = \"b\"\ngateway = \"g\"\n[mqtt.tls]\nca_file = \"{}\"\n",
            ca.display()
        );
        let m = parse(&text).unwrap().mqtt.unwrap();
        assert_eq!(m.port, 8883);
        assert_eq!(m.tls.unwrap().ca_file, ca);
        let half = format!("{text}client_cert = \"{}\"\n", ca.display());
        let err = parse(&half).unwrap_err();
        assert!(err.to_string().contains("client_key"), "{err}");
    }
}
