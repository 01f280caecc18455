//! systemd notifications (`READY=1`, `WATCHDOG=1`, `RELOADING=1`, `STOPPING=1`) over
//! `$NOTIFY_SOCKET`. Without systemd (tests, a shell) every call is a no-op.

use std::os::unix::net::UnixDatagram;
use std::time::Duration;

/// A handle to systemd's notification socket, if the service was started with one.
#[derive(Debug)]
pub struct Notifier {
    socket: Option<(UnixDatagram, String)>,
}

impl Notifier {
    /// From the environment (`NOTIFY_SOCKET`); `@name` is an abstract socket.
    pub fn from_env() -> Notifier {
        match std::env::var("NOTIFY_SOCKET") {
            Ok(path) if !path.is_empty() => Notifier::to(&path),
            _ => Notifier::disabled(),
        }
    }

    /// To the socket at `path` (`@name` for an abstract socket).
    pub fn to(path: &str) -> Notifier {
        let socket = UnixDatagram::unbound().ok().and_then(|socket| {
            // Design: never block the daemon's runtime on a reader that is slow or
            // gone: a notification that does not fit now is dropped.
            socket.set_nonblocking(true).ok()?;
            Some((socket, path.to_owned()))
        });
        Notifier { socket }
    }

    /// A notifier that never sends (tests, `demo`).
    pub fn disabled() -> Notifier {
        Notifier { socket: None }
    }

    pub fn is_enabled(&self) -> bool {
        self.socket.is_some()
    }

    /// Send one state string; failures are ignored (systemd may be gone at shutdown).
    pub fn notify(&self, state: &str) {
        let Some((socket, path)) = &self.socket else {
            return;
        };
        let _ = match path.strip_prefix('@') {
            Some(name) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                    .and_then(|addr| socket.send_to_addr(state.as_bytes(), &addr))
            }
            None => socket.send_to(state.as_bytes(), path),
        };
    }

    pub fn ready(&self) {
        self.notify("READY=1");
    }

    pub fn watchdog(&self) {
        self.notify("WATCHDOG=1");
    }

    pub fn status(&self, text: &str) {
        self.notify(&format!("STATUS={text}"));
    }
}

/// Half the watchdog interval systemd asked for (`WATCHDOG_USEC`), if any.
pub fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    (usec > 0).then(|| Duration::from_micros(usec / 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_states_to_a_path_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier {
            socket: Some((UnixDatagram::unbound().unwrap(), path.display().to_string())),
        };
        n.ready();
        n.watchdog();
        let mut buf = [0u8; 64];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"READY=1");
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"WATCHDOG=1");
    }

    #[test]
    fn sends_to_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let name = format!("calin-agent-test-{}", std::process::id());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        let n = Notifier {
            socket: Some((UnixDatagram::unbound().unwrap(), format!("@{name}"))),
        };
        n.status("polling 3 meters");
        let mut buf = [0u8; 64];
        let len = server.recv(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"STATUS=polling 3 meters");
    }

    #[test]
    fn a_reader_that_never_reads_does_not_block_the_sender() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let _server = UnixDatagram::bind(&path).unwrap();
        let n = Notifier::to(path.to_str().unwrap());
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Far more than a datagram socket queues.
            for _ in 0..10_000 {
                n.watchdog();
            }
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(10))
            .expect("sending returns even when the queue is full");
    }

    #[test]
    fn disabled_is_silent() {
        let n = Notifier::disabled();
        assert!(!n.is_enabled());
        n.ready();
    }
}
