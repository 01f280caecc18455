//! TCP links (DLMS over the IEC 62056-47 wrapper, or HDLC tunnelled by a gateway).
//!
//! Connects with a timeout and names the endpoint in every error. Must not parse the
//! wrapper header or anything else on the stream.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::error::TransportError;
use super::line::LineSettings;
use super::link::{BoxFuture, Link};

/// An open TCP connection to a meter or gateway.
#[derive(Debug)]
pub struct TcpLink {
    stream: TcpStream,
    endpoint: String,
}

impl TcpLink {
    /// Connect to `endpoint` ("HOST:PORT"), giving up after `timeout`.
    pub async fn connect(endpoint: &str, timeout: Duration) -> Result<Self, TransportError> {
        let stream = match tokio::time::timeout(timeout, TcpStream::connect(endpoint)).await {
            Err(_elapsed) => {
                return Err(TransportError::ConnectTimeout {
                    endpoint: endpoint.to_string(),
                    waited: timeout,
                })
            }
            Ok(Err(source)) => {
                return Err(TransportError::Connect {
                    endpoint: endpoint.to_string(),
                    source,
                })
            }
            Ok(Ok(stream)) => stream,
        };
        // Design: requests are small and strictly request/response; Nagle would only
        // delay them.
        stream
            .set_nodelay(true)
            .map_err(|source| TransportError::Connect {
                endpoint: endpoint.to_string(),
                source,
            })?;
        tracing::debug!(endpoint, "tcp connected");
        Ok(TcpLink {
            stream,
            endpoint: endpoint.to_string(),
        })
    }

    /// Wrap an accepted connection (the simulator's side); `endpoint` names the peer.
    pub fn from_stream(stream: TcpStream, endpoint: impl Into<String>) -> Self {
        TcpLink {
            stream,
            endpoint: endpoint.into(),
        }
    }

    /// The address actually connected to.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }
}

impl AsyncRead for TcpLink {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for TcpLink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

impl Link for TcpLink {
    fn describe(&self) -> String {
        format!("tcp {}", self.endpoint)
    }

    /// TCP has no line: accepted and ignored.
    fn set_line(&mut self, line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        tracing::trace!(endpoint = %self.endpoint, %line, "set_line ignored on tcp");
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpSocket};

    const CONNECT: Duration = Duration::from_secs(5);

    #[tokio::test]
    async fn loopback_round_trip_on_port_zero() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            let mut link = TcpLink::from_stream(stream, peer.to_string());
            let mut req = [0u8; 4];
            link.read_exact(&mut req).await.unwrap();
            assert_eq!(&req, b"ping");
            link.write_all(b"pong").await.unwrap();
        });

        let mut link = TcpLink::connect(&endpoint, CONNECT).await.unwrap();
        assert_eq!(link.describe(), format!("tcp {endpoint}"));
        assert_eq!(link.peer_addr().unwrap().to_string(), endpoint);
        link.set_line(LineSettings::new_7e1(300)).await.unwrap();
        link.write_all(b"ping").await.unwrap();
        let mut reply = [0u8; 4];
        link.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"pong");
        server.await.unwrap();
    }

    #[tokio::test]
    async fn refused_connect_names_the_endpoint() {
        // Bind to learn a free port, then close it so nothing listens there.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        drop(listener);

        let err = TcpLink::connect(&endpoint, CONNECT).await.unwrap_err();
        match &err {
            TransportError::Connect {
                endpoint: e,
                source,
            } => {
                assert_eq!(e, &endpoint);
                assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
            }
            other => panic!("expected Connect, got {other:?}"),
        }
        assert!(err.to_string().contains(&endpoint), "{err}");
    }

    #[tokio::test(start_paused = true)]
    async fn connect_that_never_completes_times_out_naming_the_endpoint() {
        // A listener with a zero backlog that never accepts: once its accept queue is
        // full, Linux drops further SYNs and the next connect hangs.
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut parked = Vec::new();
        let err = loop {
            match TcpLink::connect(&addr.to_string(), Duration::from_secs(3)).await {
                Ok(link) => parked.push(link),
                Err(e) => break e,
            }
            assert!(parked.len() < 8, "the accept queue never filled");
        };
        match err {
            TransportError::ConnectTimeout { endpoint, waited } => {
                assert_eq!(endpoint, addr.to_string());
                assert_eq!(waited, Duration::from_secs(3));
            }
            other => panic!("expected ConnectTimeout, got {other:?}"),
        }
    }
}
