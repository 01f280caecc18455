//! `PacedLink`: writes no faster than a real serial line of a given baud and framing.
//!
//! For the simulator: a pty or TCP link delivers bytes instantly, a meter at 300 baud
//! does not, and the agent's timeouts must be tested against real wire time. Uses tokio
//! time, so tests pause the clock and assert exact virtual durations. Reads pass
//! through untouched. Must not change the bytes.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::error::TransportError;
use super::line::LineSettings;
use super::link::{BoxFuture, Link};

/// Lateness tolerated before the line counts as having been idle.
///
/// Design: tokio timers fire on millisecond ticks, so a wake-up is up to 1 ms late.
/// A write within this slack of the previous byte's end continues back to back from
/// that end (no drift over long frames); a later write starts a new burst at "now".
/// Either way no byte is handed over before its cumulative wire time.
const TIMER_SLACK: Duration = Duration::from_millis(1);

/// A link wrapper that paces writes to `line`'s wire time.
///
/// Each write hands over at most `chunk` bytes (default 1, so a reader sees bytes
/// trickle in like from a UART) and then holds the next write, or a flush, until the
/// line would be free. `flush` therefore completes when the last byte would have left
/// the wire.
#[derive(Debug)]
pub struct PacedLink<L> {
    inner: L,
    line: LineSettings,
    chunk: usize,
    line_free_at: Option<Instant>,
    sleep: Pin<Box<Sleep>>,
}

impl<L> PacedLink<L> {
    pub fn new(inner: L, line: LineSettings) -> Self {
        PacedLink {
            inner,
            line,
            chunk: 1,
            line_free_at: None,
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
        }
    }

    /// Hand over up to `bytes` per write (at least 1): fewer timer wake-ups at high baud.
    pub fn with_chunk(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// The line whose speed is emulated.
    pub fn line(&self) -> LineSettings {
        self.line
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

    /// Ready once the previous bytes have had their wire time.
    fn poll_line_free(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Some(free_at) = self.line_free_at {
            if self.sleep.deadline() != free_at {
                self.sleep.as_mut().reset(free_at);
            }
            ready!(self.sleep.as_mut().poll(cx));
        }
        Poll::Ready(())
    }

    /// Book `n` bytes handed over now onto the line's timetable.
    fn book(&mut self, n: usize) {
        let now = Instant::now();
        let start = match self.line_free_at {
            Some(free_at) if now < free_at + TIMER_SLACK => free_at,
            _ => now,
        };
        self.line_free_at = Some(start + self.line.wire_time(n as u64));
    }
}

impl<L: AsyncRead + Unpin> AsyncRead for PacedLink<L> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<L: AsyncWrite + Unpin> AsyncWrite for PacedLink<L> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let this = &mut *self;
        ready!(this.poll_line_free(cx));
        let n = buf.len().min(this.chunk);
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, &buf[..n]))?;
        this.book(written);
        Poll::Ready(Ok(written))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_line_free(cx));
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_line_free(cx));
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

impl<L: Link> Link for PacedLink<L> {
    fn describe(&self) -> String {
        format!("{} paced at {}", self.inner.describe(), self.line)
    }

    /// Waits until the bytes already written have had their wire time at the old
    /// speed, then paces at the new one (and passes the settings on).
    fn set_line(&mut self, line: LineSettings) -> BoxFuture<'_, Result<(), TransportError>> {
        Box::pin(async move {
            std::future::poll_fn(|cx| self.poll_line_free(cx)).await;
            self.line = line;
            self.inner.set_line(line).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    async fn timed_write(line: &str, bytes: usize) -> Duration {
        let (sim_end, mut agent_end) = duplex(4096);
        let mut paced = PacedLink::new(sim_end, line.parse().unwrap());
        let start = Instant::now();
        paced.write_all(&vec![0x55; bytes]).await.unwrap();
        paced.flush().await.unwrap();
        let elapsed = start.elapsed();
        let mut got = vec![0u8; bytes];
        agent_end.read_exact(&mut got).await.unwrap();
        assert!(got.iter().all(|&b| b == 0x55), "bytes must pass unchanged");
        elapsed
    }

    #[tokio::test(start_paused = true)]
    async fn takes_exactly_the_wire_time_at_9600_baud() {
        // 960 characters of 10 bits at 9600 bit/s: one second, to the nanosecond.
        assert_eq!(timed_write("9600 8N1", 960).await, Duration::from_secs(1));
        // 11-bit characters (8E1): 10 % longer.
        assert_eq!(
            timed_write("9600 8E1", 960).await,
            Duration::from_millis(1100)
        );
        // IEC 62056-21 sign-on speed: 5 characters of 7E1 at 300 baud take 166.7 ms,
        // which the last timer rounds up to tokio's next 1 ms tick.
        assert_eq!(timed_write("300 7E1", 5).await, Duration::from_millis(167));
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_arrive_no_earlier_than_their_wire_time() {
        let line: LineSettings = "2400 8N1".parse().unwrap();
        let (sim_end, mut agent_end) = duplex(4096);
        let start = Instant::now();
        let writer = tokio::spawn(async move {
            let mut paced = PacedLink::new(sim_end, line);
            paced.write_all(&[1, 2, 3, 4, 5, 6, 7, 8]).await.unwrap();
            paced.flush().await.unwrap();
            paced
        });
        for k in 0..8u64 {
            let mut b = [0u8; 1];
            agent_end.read_exact(&mut b).await.unwrap();
            assert_eq!(u64::from(b[0]), k + 1);
            let at = start.elapsed();
            assert!(at >= line.wire_time(k), "byte {k} at {at:?}, too early");
            // And not later than the timer tick after its slot.
            assert!(
                at <= line.wire_time(k) + TIMER_SLACK,
                "byte {k} at {at:?}, late"
            );
        }
        drop(writer.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_is_not_saved_up_for_a_faster_burst() {
        let (sim_end, mut agent_end) = duplex(4096);
        let mut paced = PacedLink::new(sim_end, LineSettings::new_8n1(9600));
        paced.write_all(&[0; 96]).await.unwrap();
        paced.flush().await.unwrap();
        tokio::time::sleep(Duration::from_secs(10)).await; // the meter is silent a while
        let start = Instant::now();
        paced.write_all(&[0; 96]).await.unwrap();
        paced.flush().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        let mut got = vec![0u8; 192];
        agent_end.read_exact(&mut got).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn set_line_changes_the_pace_after_the_old_bytes() {
        let (sim_end, _agent_end) = duplex(4096);
        let mut paced = PacedLink::new(sim_end, LineSettings::new_7e1(300));
        let start = Instant::now();
        paced.write_all(&[0; 3]).await.unwrap(); // 100 ms at 300 baud
        paced.set_line(LineSettings::new_7e1(9600)).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        paced.write_all(&[0; 96]).await.unwrap();
        paced.flush().await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(200));
        assert!(paced.describe().ends_with("paced at 9600 7E1"));
    }
}
