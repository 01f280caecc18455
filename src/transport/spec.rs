//! `LinkSpec`: which link to open, as plain data, and the one call that opens it.
//!
//! Lets the agent and the CLI hold "what to connect to" separately from the open link
//! (for reconnects and retries). Must not parse config syntax; the config layer builds it.

use std::time::Duration;

use super::error::TransportError;
use super::line::LineSettings;
use super::link::BoxLink;
use super::serial::SerialLink;
use super::tcp::TcpLink;

/// Where a link goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkSpec {
    /// A serial device (RS-485 adapter, optical head, pty slave) with its initial line settings.
    Serial { port: String, line: LineSettings },
    /// A TCP endpoint "HOST:PORT".
    Tcp {
        endpoint: String,
        connect_timeout: Duration,
    },
}

impl LinkSpec {
    /// The port path or endpoint, for logs and `open_with_retry`.
    pub fn target(&self) -> &str {
        match self {
            LinkSpec::Serial { port, .. } => port,
            LinkSpec::Tcp { endpoint, .. } => endpoint,
        }
    }

    /// Open the link once (no retry; see `open_with_retry`).
    pub async fn open(&self) -> Result<BoxLink, TransportError> {
        Ok(match self {
            LinkSpec::Serial { port, line } => Box::new(SerialLink::open(port, *line).await?),
            LinkSpec::Tcp {
                endpoint,
                connect_timeout,
            } => Box::new(TcpLink::connect(endpoint, *connect_timeout).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::pty::PtyLink;

    #[tokio::test]
    async fn opens_serial_and_tcp_as_boxed_links() {
        let pty = PtyLink::open().unwrap();
        let port = pty.slave_path().to_str().unwrap().to_string();
        let serial = LinkSpec::Serial {
            port: port.clone(),
            line: LineSettings::new_8n1(9600),
        };
        assert_eq!(serial.target(), port);
        let link = serial.open().await.unwrap();
        assert_eq!(link.describe(), format!("serial {port} 9600 8N1"));

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let tcp = LinkSpec::Tcp {
            endpoint: endpoint.clone(),
            connect_timeout: Duration::from_secs(5),
        };
        let link = tcp.open().await.unwrap();
        assert_eq!(link.describe(), format!("tcp {endpoint}"));
    }
}
