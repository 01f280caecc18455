//! `SessionConfig`: how to reach one meter and what to propose to it. Plain data; it
//! opens nothing.

use std::time::Duration;

use crate::config::{BusConfig, BusProtocol, MeterConfig, Secret};
use crate::protocol::apdu::Conformance;
use crate::protocol::hdlc::HdlcAddress;

/// What carries the APDUs on the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// IEC 62056-46 HDLC (RS-485, optical head after mode E, HDLC over a TCP converter).
    Hdlc,
    /// IEC 62056-47 wrapper over TCP: an 8-byte header with two wPorts per APDU.
    Wrapper {
        client_wport: u16,
        server_wport: u16,
    },
}

/// How one session behaves. Build with [`SessionConfig::new`] or
/// [`SessionConfig::for_meter`] and adjust fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// Client SAP (16 = public client, no password; 1 = management, usually LLS).
    pub client: u8,
    /// The meter's HDLC address (logical device and, on a multi-drop bus, physical address).
    pub server: HdlcAddress,
    /// LLS password; `None` for lowest-level security. Never logged.
    pub password: Option<Secret>,
    pub framing: Framing,
    /// How long to wait for an answer before polling (HDLC) or giving up (wrapper).
    pub response_timeout: Duration,
    /// Longest silence inside one answer.
    pub inter_char_timeout: Duration,
    /// HDLC polls or retransmissions in a row without progress before giving up.
    pub retries: u8,
    /// client-max-receive-pdu-size proposed in the AARQ.
    pub max_pdu_size: u16,
    /// xDLMS services proposed in the AARQ.
    pub conformance: Conformance,
    /// Most bytes one response may reassemble to (block transfer included).
    pub max_response_bytes: usize,
    /// Most blocks one block transfer may take.
    pub max_blocks: u32,
    /// Most attributes in one GET-with-list request.
    pub max_list_len: usize,
    /// Send RLRQ before DISC on release. Some meters never answer it; DISC alone also
    /// ends the association on HDLC.
    pub release_with_rlrq: bool,
}

/// Default inter-character timeout: generous for 9600 Bd RS-485 behind converters.
pub const DEFAULT_INTER_CHAR: Duration = Duration::from_millis(200);

impl SessionConfig {
    /// HDLC, 3 s response timeout, 3 retries, PDU 1024, `LN_CLIENT_DEFAULT` conformance,
    /// 1 MiB per response, 4096 blocks, 10 attributes per list, RLRQ on release.
    pub fn new(client: u8, server: HdlcAddress) -> Self {
        SessionConfig {
            client,
            server,
            password: None,
            framing: Framing::Hdlc,
            response_timeout: Duration::from_secs(3),
            inter_char_timeout: DEFAULT_INTER_CHAR,
            retries: 3,
            max_pdu_size: 1024,
            conformance: Conformance::LN_CLIENT_DEFAULT,
            max_response_bytes: 1 << 20,
            max_blocks: 4096,
            max_list_len: 10,
            release_with_rlrq: true,
        }
    }

    /// From the agent configuration. `None` for a meter that does not speak DLMS
    /// (DL/T 645). An optical bus runs HDLC once IEC 62056-21 mode E has switched to it.
    /// Design: on a wrapper bus the wPorts are the client SAP and the logical device, as
    /// the Green Book maps them.
    pub fn for_meter(bus: &BusConfig, meter: &MeterConfig) -> Option<Self> {
        let framing = match meter.protocol {
            BusProtocol::Hdlc | BusProtocol::Optical => Framing::Hdlc,
            BusProtocol::Wrapper => Framing::Wrapper {
                client_wport: u16::from(meter.client),
                server_wport: meter.address.upper(),
            },
            BusProtocol::Dlt645 => return None,
        };
        let mut config = SessionConfig::new(meter.client, meter.address);
        config.password = meter.password.clone();
        config.framing = framing;
        config.response_timeout = bus.response_timeout;
        config.inter_char_timeout = bus.inter_char_timeout;
        config.retries = bus.retries;
        Some(config)
    }

    /// "physical address 17 (logical device 1)", or "wrapper port 1" — for messages.
    pub fn describe_address(&self) -> String {
        match self.framing {
            Framing::Wrapper { server_wport, .. } => format!("wrapper port {server_wport}"),
            Framing::Hdlc => match self.server.lower() {
                Some(physical) => format!(
                    "physical address {physical} (logical device {})",
                    self.server.upper()
                ),
                None => format!("logical device {}", self.server.upper()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describes_physical_and_logical_addresses() {
        let c = SessionConfig::new(16, HdlcAddress::server(1, Some(17)).unwrap());
        assert_eq!(
            c.describe_address(),
            "physical address 17 (logical device 1)"
        );
        let c = SessionConfig::new(16, HdlcAddress::server(1, None).unwrap());
        assert_eq!(c.describe_address(), "logical device 1");
        let mut c = c;
        c.framing = Framing::Wrapper {
            client_wport: 16,
            server_wport: 1,
        };
        assert_eq!(c.describe_address(), "wrapper port 1");
    }

    fn bus(protocol: BusProtocol) -> (BusConfig, MeterConfig) {
        let meter = MeterConfig {
            serial: "CAL0001".into(),
            address: HdlcAddress::server(1, Some(17)).unwrap(),
            client: 1,
            password: Some(Secret::new(b"pw".to_vec())),
            password_file: None,
            mode: crate::codes::Mode::Postpaid,
            poll: crate::config::PollPlan::default(),
            protocol,
            line: None,
            optical: None,
            dlt645: None,
        };
        let bus = BusConfig {
            name: "rs485-a".into(),
            endpoint: crate::config::BusEndpoint::Tcp {
                endpoint: "127.0.0.1:4059".into(),
            },
            protocol,
            response_timeout: Duration::from_millis(1500),
            inter_char_timeout: Duration::from_millis(50),
            retries: 5,
            optical: None,
            meters: vec![meter.clone()],
        };
        (bus, meter)
    }

    #[test]
    fn from_the_agent_configuration() {
        let (b, m) = bus(BusProtocol::Hdlc);
        let c = SessionConfig::for_meter(&b, &m).unwrap();
        assert_eq!(c.framing, Framing::Hdlc);
        assert_eq!((c.client, c.retries), (1, 5));
        assert_eq!(c.response_timeout, Duration::from_millis(1500));
        assert_eq!(c.inter_char_timeout, Duration::from_millis(50));
        assert_eq!(c.password, m.password);
        let (b, m) = bus(BusProtocol::Wrapper);
        assert_eq!(
            SessionConfig::for_meter(&b, &m).unwrap().framing,
            Framing::Wrapper {
                client_wport: 1,
                server_wport: 1
            }
        );
        let (b, m) = bus(BusProtocol::Dlt645);
        assert!(SessionConfig::for_meter(&b, &m).is_none());
    }

    #[test]
    fn password_is_not_in_debug() {
        let mut c = SessionConfig::new(1, HdlcAddress::server(1, Some(17)).unwrap());
        c.password = Some(Secret::new(b"s3cret-pw".to_vec()));
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("<redacted>"), "{shown}");
    }
}
