//! `Link`: one byte stream to a meter or a bus, whatever carries it.
//!
//! A link is `AsyncRead + AsyncWrite` plus the one thing only a serial line can do
//! (change baud and framing) and a human-readable name for errors and traces.
//! Nothing here knows about frames or protocols.

use std::future::Future;
use std::pin::Pin;

use tokio::io::{AsyncRead, AsyncWrite};

use super::error::TransportError;
use super::line::LineSettings;

/// A future boxed so that `Link` stays object-safe (`Box<dyn Link>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A byte link to a meter (serial port, TCP connection, pty master, in-memory pipe).
pub trait Link: AsyncRead + AsyncWrite + Unpin + Send {
    /// A short name for errors and traces: "serial /dev/ttyUSB0 9600 8N1", "tcp 127.0.0.1:4059".
    fn describe(&self) -> String;

    /// Change baud rate and framing (IEC 62056-21 baud switch).
    ///
    /// On a serial port this first waits until every byte already written has left the
    /// UART, so that an acknowledgement sent at the old speed is not garbled. Links
    /// without a line (TCP, pty master, in-memory) accept and ignore it.
    fn set_line(&mut self, line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>>;
}

/// A link whose concrete kind was chosen at run time.
pub type BoxLink = Box<dyn Link>;

impl<L: Link + ?Sized> Link for Box<L> {
    fn describe(&self) -> String {
        (**self).describe()
    }

    fn set_line(&mut self, line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        (**self).set_line(line)
    }
}

/// In-memory links for tests of the layers above: no line, nothing to configure.
impl Link for tokio::io::DuplexStream {
    fn describe(&self) -> String {
        "in-memory duplex".to_string()
    }

    fn set_line(&mut self, _line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async { Ok(()) })
    }
}
