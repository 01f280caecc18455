//! Serial ports (RS-485 adapters, optical heads) as `Link`s, through tokio-serial.
//!
//! Opens with exclusive access (TIOCEXCL plus an advisory exclusive flock, both done by
//! serialport) and turns every open failure into a typed error naming the port. Must
//! not retry (that is `backoff`) and must not know about frames.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_serial::{ClearBuffer, SerialPort, SerialStream};

use super::error::TransportError;
use super::line::LineSettings;
use super::link::{BoxFuture, Link};

/// An open serial port.
#[derive(Debug)]
pub struct SerialLink {
    stream: SerialStream,
    port: String,
    line: LineSettings,
}

impl SerialLink {
    /// Open `port` (e.g. `/dev/ttyUSB0`, or a pty slave path) with `line` settings.
    ///
    /// Errors: `PortMissing` when the path does not exist, `PortBusy` when another
    /// process holds it, `PortOpen` for anything else (permissions, not a tty).
    /// Must run inside a tokio runtime.
    pub async fn open(port: &str, line: LineSettings) -> Result<Self, TransportError> {
        let open_err = |source| TransportError::PortOpen {
            port: port.to_string(),
            source,
        };
        tokio::runtime::Handle::try_current().map_err(|e| open_err(io::Error::other(e)))?;
        // Design: stat first so that a missing port reports the OS's own error;
        // serialport keeps only a description string of it.
        if let Err(source) = std::fs::metadata(port) {
            return Err(if source.kind() == io::ErrorKind::NotFound {
                TransportError::PortMissing {
                    port: port.to_string(),
                    source,
                }
            } else {
                open_err(source)
            });
        }
        let builder = tokio_serial::new(port, line.baud)
            .data_bits(line.data_bits.into())
            .parity(line.parity.into())
            .stop_bits(line.stop_bits.into())
            .flow_control(tokio_serial::FlowControl::None)
            .exclusive(true);
        let stream = SerialStream::open(&builder).map_err(|e| map_open_error(port, e))?;
        // Design: drop whatever sat in the driver's buffers before we came (a reply to
        // the previous, timed-out owner of the port, or noise at plug-in).
        stream
            .clear(ClearBuffer::All)
            .map_err(|e| open_err(io::Error::from(e)))?;
        tracing::debug!(port, %line, "serial port open");
        Ok(SerialLink {
            stream,
            port: port.to_string(),
            line,
        })
    }

    /// The path this link was opened with.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// The line settings currently applied.
    pub fn line(&self) -> LineSettings {
        self.line
    }

    /// Wait until every written byte has left the UART (tcdrain), without blocking the runtime.
    async fn drain(&self) -> io::Result<()> {
        // SAFETY: the stream owns this fd and outlives the borrow; we only duplicate it.
        let fd = unsafe { BorrowedFd::borrow_raw(self.stream.as_raw_fd()) }.try_clone_to_owned()?;
        // Design: tcdrain blocks for up to the wire time of the output queue (long at
        // 300 baud), so it runs on the blocking pool, on a duplicate fd that stays valid
        // even if this future is dropped and the port closed meanwhile.
        tokio::task::spawn_blocking(move || loop {
            match nix::sys::termios::tcdrain(&fd) {
                Err(nix::errno::Errno::EINTR) => continue,
                other => return other.map_err(io::Error::from),
            }
        })
        .await
        .map_err(io::Error::other)?
    }

    async fn apply_line(&mut self, line: LineSettings) -> io::Result<()> {
        self.drain().await?;
        let port = &mut self.stream;
        port.set_baud_rate(line.baud)?;
        port.set_data_bits(line.data_bits.into())?;
        port.set_parity(line.parity.into())?;
        port.set_stop_bits(line.stop_bits.into())?;
        Ok(())
    }
}

fn map_open_error(port: &str, e: tokio_serial::Error) -> TransportError {
    match e.kind {
        // serialport reports EBUSY from TIOCEXCL and a refused flock as NoDevice.
        tokio_serial::ErrorKind::NoDevice => TransportError::PortBusy {
            port: port.to_string(),
            detail: e.description,
        },
        tokio_serial::ErrorKind::Io(io::ErrorKind::NotFound) => TransportError::PortMissing {
            port: port.to_string(),
            source: io::Error::from(e),
        },
        _ => TransportError::PortOpen {
            port: port.to_string(),
            source: io::Error::from(e),
        },
    }
}

impl AsyncRead for SerialLink {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for SerialLink {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    /// Design: tokio-serial's flush is a blocking tcdrain on the runtime thread. Written
    /// bytes are already in the kernel's queue, which is all a flush promises here;
    /// `set_line` drains properly before a baud switch.
    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Link for SerialLink {
    fn describe(&self) -> String {
        format!("serial {} {}", self.port, self.line)
    }

    fn set_line(&mut self, line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            match self.apply_line(line).await {
                Ok(()) => {
                    tracing::debug!(port = %self.port, from = %self.line, to = %line, "line switched");
                    self.line = line;
                    Ok(())
                }
                Err(source) => Err(TransportError::LineSettings {
                    link: self.describe(),
                    line,
                    source,
                }),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::pty::PtyLink;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn open_slave(pty: &PtyLink, line: &str) -> SerialLink {
        SerialLink::open(pty.slave_path().to_str().unwrap(), line.parse().unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn pty_round_trip_both_ways_through_tokio_serial() {
        let mut master = PtyLink::open().unwrap();
        let mut serial = open_slave(&master, "9600 8N1").await;

        let request: Vec<u8> = (0..=255u8).collect();
        serial.write_all(&request).await.unwrap();
        let mut got = vec![0u8; request.len()];
        master.read_exact(&mut got).await.unwrap();
        assert_eq!(got, request, "agent -> meter, all byte values");

        let reply = [0x7E, 0xA0, 0x0D, 0x11, 0x13, 0x03, 0x7E];
        master.write_all(&reply).await.unwrap();
        let mut got = [0u8; 7];
        serial.read_exact(&mut got).await.unwrap();
        assert_eq!(got, reply, "meter -> agent, XON/XOFF/CR untouched");
    }

    #[tokio::test]
    async fn describe_names_port_and_line() {
        let master = PtyLink::open().unwrap();
        let serial = open_slave(&master, "300 7E1").await;
        let path = master.slave_path().display().to_string();
        assert_eq!(serial.describe(), format!("serial {path} 300 7E1"));
    }

    #[tokio::test]
    async fn set_line_switches_the_baud_rate() {
        let master = PtyLink::open().unwrap();
        let mut serial = open_slave(&master, "300 7E1").await;
        assert_eq!(master.peer_baud().unwrap(), 300);

        serial.set_line("9600 8N1".parse().unwrap()).await.unwrap();
        assert_eq!(master.peer_baud().unwrap(), 9600);
        assert_eq!(serial.stream.baud_rate().unwrap(), 9600);
        assert_eq!(serial.line(), "9600 8N1".parse().unwrap());
        assert!(serial.describe().ends_with("9600 8N1"));

        // A pty forces 8N1 framing, so only the baud rate is visible on the other side.
        serial.set_line("2400 8O2".parse().unwrap()).await.unwrap();
        assert_eq!(master.peer_baud().unwrap(), 2400);
    }

    #[tokio::test]
    async fn missing_port_is_a_typed_error_naming_the_port() {
        let port = "/dev/ttyCALIN-does-not-exist";
        let err = SerialLink::open(port, LineSettings::new_8n1(9600))
            .await
            .unwrap_err();
        match &err {
            TransportError::PortMissing { port: p, source } => {
                assert_eq!(p, port);
                assert_eq!(source.raw_os_error(), Some(libc::ENOENT));
            }
            other => panic!("expected PortMissing, got {other:?}"),
        }
        assert!(err.to_string().contains(port));
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn second_open_of_the_same_port_is_busy() {
        let master = PtyLink::open().unwrap();
        let _first = open_slave(&master, "9600 8N1").await;
        let path = master.slave_path().to_str().unwrap().to_string();
        let err = SerialLink::open(&path, LineSettings::new_8n1(9600))
            .await
            .unwrap_err();
        match &err {
            TransportError::PortBusy { port, .. } => assert_eq!(port, &path),
            other => panic!("expected PortBusy, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_tty_is_an_open_error() {
        let err = SerialLink::open("/dev/null", LineSettings::new_8n1(9600))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, TransportError::PortOpen { port, .. } if port == "/dev/null"),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn slave_closed_then_reopened_works_and_stale_bytes_are_dropped() {
        let mut master = PtyLink::open().unwrap();
        let path = master.slave_path().to_str().unwrap().to_string();

        let mut serial = open_slave(&master, "9600 8N1").await;
        serial.write_all(b"first").await.unwrap();
        let mut got = [0u8; 5];
        master.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"first");
        drop(serial);

        // A late reply lands while nobody has the port open.
        master.write_all(b"stale").await.unwrap();
        wait_until_slave_has_input(&master).await;

        let mut serial = open_slave(&master, "9600 8N1").await;
        master.write_all(b"fresh").await.unwrap();
        let mut got = [0u8; 5];
        serial.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"fresh", "open must discard what arrived before it");

        serial.write_all(b"again").await.unwrap();
        master.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"again");
        assert_eq!(path, serial.port());
    }

    #[tokio::test]
    async fn a_vanished_port_is_an_error_naming_it_not_a_hang() {
        use crate::transport::read::read_some;
        use tokio::time::{Duration, Instant};

        let master = PtyLink::open().unwrap();
        let mut serial = open_slave(&master, "9600 8N1").await;
        let name = serial.describe();
        drop(master); // the USB adapter is pulled

        let mut buf = [0u8; 8];
        let deadline = Instant::now() + Duration::from_secs(30);
        let err = read_some(&mut serial, &mut buf, deadline, Duration::from_millis(50))
            .await
            .unwrap_err();
        match &err {
            TransportError::Io { link, .. } | TransportError::Closed { link } => {
                assert_eq!(link, &name)
            }
            other => panic!("expected Io or Closed, got {other:?}"),
        }
        assert!(Instant::now() < deadline, "must not wait for the deadline");
        assert!(serial.write_all(b"x").await.is_err());
    }

    /// Block (off the runtime) until the pty has moved the master's bytes into the
    /// slave's input queue, so the test does not race the kernel's flip buffer.
    async fn wait_until_slave_has_input(master: &PtyLink) {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        let fd = master.held_slave().unwrap().try_clone().unwrap();
        let ready = tokio::task::spawn_blocking(move || {
            let mut fds = [PollFd::new(
                std::os::fd::AsFd::as_fd(&fd),
                PollFlags::POLLIN,
            )];
            poll(&mut fds, PollTimeout::from(5000u16)).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(ready, 1, "stale bytes never reached the slave");
    }
}
