//! `TraceTap`: a link wrapper that reports every chunk sent and received, with time
//! and direction, for `probe --trace` and for debugging field captures.
//!
//! Bytes only: it must not decode, reorder or delay anything.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::error::TransportError;
use super::line::LineSettings;
use super::link::{BoxFuture, Link};

/// Which way a chunk travelled, seen from the side holding the tap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Sent,
    Received,
}

/// One chunk as the OS handed it over (a frame may span several chunks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceEvent {
    pub at: Instant,
    pub direction: Direction,
    pub bytes: Vec<u8>,
}

impl fmt::Display for TraceEvent {
    /// `-> 7E A0 07` or `<- 7E A0 07`, without the time (callers print it relative to their start).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.direction {
            Direction::Sent => "->",
            Direction::Received => "<-",
        })?;
        for b in &self.bytes {
            write!(f, " {b:02X}")?;
        }
        Ok(())
    }
}

type Sink = Box<dyn FnMut(TraceEvent) + Send>;

/// A link wrapper that reports traffic to a callback.
pub struct TraceTap<L> {
    inner: L,
    sink: Sink,
}

impl<L> fmt::Debug for TraceTap<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TraceTap").finish_non_exhaustive()
    }
}

impl<L> TraceTap<L> {
    /// Report each chunk to `sink`, synchronously, before the caller sees the result.
    pub fn new(inner: L, sink: impl FnMut(TraceEvent) + Send + 'static) -> Self {
        TraceTap {
            inner,
            sink: Box::new(sink),
        }
    }

    /// Report each chunk on an unbounded channel (dropped silently once the receiver is gone).
    pub fn with_channel(inner: L) -> (Self, mpsc::UnboundedReceiver<TraceEvent>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let tap = TraceTap::new(inner, move |event| {
            let _ = tx.send(event);
        });
        (tap, rx)
    }

    pub fn get_ref(&self) -> &L {
        &self.inner
    }

    pub fn get_mut(&mut self) -> &mut L {
        &mut self.inner
    }

    pub fn into_inner(self) -> L {
        self.inner
    }

    fn report(&mut self, direction: Direction, bytes: &[u8]) {
        if !bytes.is_empty() {
            (self.sink)(TraceEvent {
                at: Instant::now(),
                direction,
                bytes: bytes.to_vec(),
            });
        }
    }
}

impl<L: AsyncRead + Unpin> AsyncRead for TraceTap<L> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.inner).poll_read(cx, buf))?;
        self.report(Direction::Received, &buf.filled()[before..]);
        Poll::Ready(Ok(()))
    }
}

impl<L: AsyncWrite + Unpin> AsyncWrite for TraceTap<L> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, buf))?;
        self.report(Direction::Sent, &buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<L: Link> Link for TraceTap<L> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn set_line(&mut self, line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        self.inner.set_line(line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    #[tokio::test(start_paused = true)]
    async fn records_each_chunk_with_time_and_direction() {
        let (agent_end, mut meter) = duplex(256);
        let (mut tap, mut events) = TraceTap::with_channel(agent_end);
        let start = Instant::now();

        tap.write_all(b"/?!\r\n").await.unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        meter.write_all(b"/CAL5\r\n").await.unwrap();
        let mut got = [0u8; 7];
        tap.read_exact(&mut got).await.unwrap();

        let sent = events.recv().await.unwrap();
        assert_eq!(sent.direction, Direction::Sent);
        assert_eq!(sent.bytes, b"/?!\r\n");
        assert_eq!(sent.at, start);
        let received = events.recv().await.unwrap();
        assert_eq!(received.direction, Direction::Received);
        assert_eq!(received.bytes, b"/CAL5\r\n");
        assert_eq!(received.at - start, Duration::from_millis(250));
        assert!(events.try_recv().is_err(), "no empty or duplicate events");

        // The peer saw exactly what was recorded as sent.
        let mut wire = [0u8; 5];
        meter.read_exact(&mut wire).await.unwrap();
        assert_eq!(&wire, b"/?!\r\n");
    }

    #[test]
    fn display_is_hex_with_an_arrow() {
        let event = TraceEvent {
            at: Instant::now(),
            direction: Direction::Received,
            bytes: vec![0x7E, 0xA0, 0x07],
        };
        assert_eq!(event.to_string(), "<- 7E A0 07");
    }
}
