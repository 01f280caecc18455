//! Pseudo-terminal pairs: the master as an async `Link`, the slave as a path that any
//! program (the agent, `cat`, minicom) opens as if it were a serial port.
//!
//! Used by the simulator and by tests; the machine has no hardware serial ports. This
//! module creates and serves ptys only; opening the slave as a serial port is `serial`'s job.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::pty::{grantpt, posix_openpt, ptsname_r, unlockpt, PtyMaster};
use nix::sys::stat::Mode;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, ControlFlags, SetArg};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::error::TransportError;
use super::line::LineSettings;
use super::link::{BoxFuture, Link};

/// The master side of a pty pair, readable and writable without blocking the runtime.
///
/// Design: by default the master keeps its own descriptor of the slave open ("holds"
/// it). Linux then never reports a hang-up on the master when the agent closes the
/// slave, termios settings survive between openers, and the agent can close and reopen
/// the slave path as often as it likes. The price is that nobody notices the agent
/// going away, exactly like a real RS-485 line. `release_slave` gives that hold up
/// when a caller wants end-of-stream on disconnect instead.
#[derive(Debug)]
pub struct PtyLink {
    master: AsyncFd<PtyMaster>,
    slave_path: PathBuf,
    held_slave: Option<OwnedFd>,
}

impl PtyLink {
    /// Create a pair in raw mode (no echo, no line editing, 8 bit clean).
    ///
    /// Must run inside a tokio runtime (the master is registered with its reactor).
    pub fn open() -> Result<Self, TransportError> {
        tokio::runtime::Handle::try_current().map_err(|e| TransportError::Pty {
            source: io::Error::other(e),
        })?;
        let pty = |e: nix::Error| TransportError::Pty {
            source: io::Error::from(e),
        };
        let master =
            posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC).map_err(pty)?;
        grantpt(&master).map_err(pty)?;
        unlockpt(&master).map_err(pty)?;
        let slave_path = PathBuf::from(ptsname_r(&master).map_err(pty)?);
        let slave = nix::fcntl::open(
            &slave_path,
            OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(pty)?;

        // Design: raw mode is set on the slave because the line discipline (echo,
        // CR/LF mapping, ^C) lives on the slave side; a cooked slave would echo the
        // agent's requests back to it and mangle 0x0D/0x03 bytes.
        let mut termios = tcgetattr(&slave).map_err(pty)?;
        cfmakeraw(&mut termios);
        termios.control_flags |= ControlFlags::CLOCAL | ControlFlags::CREAD;
        tcsetattr(&slave, SetArg::TCSANOW, &termios).map_err(pty)?;

        let flags = fcntl(&master, FcntlArg::F_GETFL).map_err(pty)?;
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        fcntl(&master, FcntlArg::F_SETFL(flags)).map_err(pty)?;
        // SAFETY: `PtyMaster` owns its fd and always returns that same fd from
        // `as_raw_fd` until it is dropped together with the `AsyncFd`.
        let master = unsafe { AsyncFd::register(master) }
            .map_err(|e| TransportError::Pty { source: e.into() })?;

        Ok(PtyLink {
            master,
            slave_path,
            held_slave: Some(slave),
        })
    }

    /// The path to open as a serial port, e.g. `/dev/pts/7`.
    pub fn slave_path(&self) -> &Path {
        &self.slave_path
    }

    /// Stop holding the slave open: once the last other opener closes it, reads on the
    /// master return end-of-stream (Linux reports EIO; we map it to `Ok(0)`), and
    /// they keep returning it at once (never blocking, never spinning inside) until
    /// someone opens the slave again.
    pub fn release_slave(&mut self) {
        self.held_slave = None;
    }

    /// The held slave descriptor, for tests that must wait on the slave's input queue.
    #[cfg(test)]
    pub(crate) fn held_slave(&self) -> Option<&OwnedFd> {
        self.held_slave.as_ref()
    }

    /// The baud rate the slave's user last set, read from the slave's termios. A pty
    /// carries no baud rate on its "wire", but this lets a simulator check that the
    /// agent really switched speed (IEC 62056-21 mode C).
    ///
    /// Only the baud rate: Linux ptys force 8 data bits and no parity whatever the
    /// user asks, so framing cannot be observed here.
    /// Needs the slave hold (fails with `NotConnected` after `release_slave`).
    #[cfg(target_os = "linux")]
    pub fn peer_baud(&self) -> io::Result<u32> {
        let slave = self.held_slave.as_ref().ok_or_else(|| {
            io::Error::new(io::ErrorKind::NotConnected, "pty slave hold was released")
        })?;
        // SAFETY: termios2 is plain old data; TCGETS2 fills it completely or fails.
        let mut t: libc::termios2 = unsafe { std::mem::zeroed() };
        // SAFETY: the fd is open for the lifetime of `slave`; `t` is a valid out-pointer.
        let rc = unsafe { libc::ioctl(slave.as_raw_fd(), libc::TCGETS2, &mut t) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(t.c_ospeed)
    }
}

/// Linux answers EIO on the master while no process has the slave open.
fn is_slave_gone(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EIO)
}

impl AsyncRead for PtyLink {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.master.poll_read_ready(cx))?;
            let unfilled = buf.initialize_unfilled();
            match guard.try_io(|fd| fd.get_ref().read(unfilled)) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                // End of stream: nothing advanced.
                Ok(Err(e)) if is_slave_gone(&e) => return Poll::Ready(Ok(())),
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for PtyLink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.master.poll_write_ready(cx))?;
            match guard.try_io(|fd| fd.get_ref().write(buf)) {
                Ok(Err(e)) if is_slave_gone(&e) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "pty slave is not open",
                    )))
                }
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight into the slave's input queue; nothing is buffered here.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

impl Link for PtyLink {
    fn describe(&self) -> String {
        format!("pty master of {}", self.slave_path.display())
    }

    /// The master has no line of its own; the slave's user sets the line.
    fn set_line(&mut self, _line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Open the slave path the plain way, as `cat` would.
    fn open_slave_file(path: &Path) -> std::fs::File {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap()
    }

    #[tokio::test]
    async fn slave_path_is_a_pts_device_and_the_pair_is_raw() {
        let mut pty = PtyLink::open().unwrap();
        let path = pty.slave_path().to_path_buf();
        assert!(path.starts_with("/dev/pts/"), "{}", path.display());
        assert!(pty.describe().contains(path.to_str().unwrap()));

        // Raw mode: CR, ^C and NUL pass unchanged and nothing is echoed back to the master.
        let mut slave = open_slave_file(&path);
        let payload = [0x0D, 0x03, 0x00, 0x7E, 0x0A, 0xFF];
        pty.write_all(&payload).await.unwrap();
        let mut got = [0u8; 6];
        tokio::task::spawn_blocking(move || {
            slave.read_exact(&mut got).unwrap();
            slave.write_all(b"ok").unwrap();
            got
        })
        .await
        .map(|got| assert_eq!(got, payload))
        .unwrap();
        let mut reply = [0u8; 2];
        pty.read_exact(&mut reply).await.unwrap();
        assert_eq!(
            &reply, b"ok",
            "an echo of the payload would have come first"
        );
    }

    #[tokio::test]
    async fn released_master_reports_end_of_stream_when_the_slave_closes() {
        let mut pty = PtyLink::open().unwrap();
        pty.release_slave();
        let slave = open_slave_file(pty.slave_path());
        drop(slave);

        let mut buf = [0u8; 16];
        assert_eq!(
            pty.read(&mut buf).await.unwrap(),
            0,
            "EIO must read as end-of-stream"
        );
        assert_eq!(
            pty.read(&mut buf).await.unwrap(),
            0,
            "and again, without blocking"
        );
        assert_eq!(
            pty.peer_baud().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );

        // Reopening the slave later brings the link back.
        let mut slave = open_slave_file(pty.slave_path());
        let reader = tokio::task::spawn_blocking(move || {
            slave.write_all(b"back").unwrap();
            slave
        });
        let mut got = [0u8; 4];
        pty.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"back");
        drop(reader.await.unwrap());
    }
}
