//! `EchoSuppressor`: drops our own bytes when the adapter echoes them back.
//!
//! Optical heads and some RS-485 adapters (those that do not disable their receiver
//! while transmitting) return every byte we send. After each write this wrapper expects
//! those bytes first, drops them if they come within a bounded wait, and reports
//! whether they did, so autodetect can say "adapter echoes". Generic over bytes: it
//! compares, it never decodes.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::error::TransportError;
use super::line::LineSettings;
use super::link::{BoxFuture, Link};

/// What happened to the echo of the most recent write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EchoState {
    /// Nothing written yet.
    NoWrite,
    /// Written, and the echo is neither complete nor ruled out yet.
    Pending,
    /// Every written byte came back and was dropped.
    Seen,
    /// Something else came first, or nothing came in time: no echo on this link.
    Absent,
}

/// Counts over the wrapper's lifetime, for autodetect and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EchoReport {
    /// Writes whose echo came back whole.
    pub seen: u32,
    /// Writes whose echo did not come.
    pub absent: u32,
}

/// A link wrapper that removes the local echo of what we write.
#[derive(Debug)]
pub struct EchoSuppressor<L> {
    inner: L,
    max_wait: Duration,
    /// Written bytes whose echo has not arrived yet.
    expected: VecDeque<u8>,
    /// Received bytes that so far match the echo; given back if the match fails.
    held: Vec<u8>,
    /// Bytes to hand to the reader before reading again.
    ready: VecDeque<u8>,
    deadline: Pin<Box<Sleep>>,
    state: EchoState,
    report: EchoReport,
}

impl<L> EchoSuppressor<L> {
    /// `max_wait` bounds the wait for the first echoed byte after a write and for each
    /// following one. Design: the echo trails the transmission by the adapter's latency,
    /// so at low baud `max_wait` should exceed a character time plus that latency;
    /// a too short wait only means the echo reaches the reader as data.
    pub fn new(inner: L, max_wait: Duration) -> Self {
        EchoSuppressor {
            inner,
            max_wait,
            expected: VecDeque::new(),
            held: Vec::new(),
            ready: VecDeque::new(),
            deadline: Box::pin(tokio::time::sleep(Duration::ZERO)),
            state: EchoState::NoWrite,
            report: EchoReport::default(),
        }
    }

    /// What happened to the echo of the most recent write.
    pub fn state(&self) -> EchoState {
        self.state
    }

    /// Counts of echoed and not echoed writes so far.
    pub fn report(&self) -> EchoReport {
        self.report
    }

    pub fn get_ref(&self) -> &L {
        &self.inner
    }

    pub fn into_inner(self) -> L {
        self.inner
    }

    /// Compare received bytes against the expected echo.
    fn take_in(&mut self, got: &[u8]) {
        for (i, &byte) in got.iter().enumerate() {
            if self.expected.front() == Some(&byte) {
                self.expected.pop_front();
                self.held.push(byte);
                if self.expected.is_empty() {
                    self.held.clear();
                    self.settle(EchoState::Seen);
                    self.ready.extend(&got[i + 1..]);
                    return;
                }
            } else {
                self.give_up();
                self.ready.extend(&got[i..]);
                return;
            }
        }
        self.deadline.as_mut().reset(Instant::now() + self.max_wait);
    }

    /// No (complete) echo: what looked like one is data after all.
    fn give_up(&mut self) {
        self.expected.clear();
        self.ready.extend(self.held.drain(..));
        self.settle(EchoState::Absent);
    }

    fn settle(&mut self, state: EchoState) {
        match state {
            EchoState::Seen => self.report.seen += 1,
            EchoState::Absent => self.report.absent += 1,
            EchoState::NoWrite | EchoState::Pending => {}
        }
        self.state = state;
    }
}

impl<L: AsyncRead + Unpin> AsyncRead for EchoSuppressor<L> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if !this.ready.is_empty() {
                let n = this.ready.len().min(buf.remaining());
                let (front, back) = this.ready.as_slices();
                let from_front = n.min(front.len());
                buf.put_slice(&front[..from_front]);
                buf.put_slice(&back[..n - from_front]);
                this.ready.drain(..n);
                return Poll::Ready(Ok(()));
            }
            if this.expected.is_empty() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            let mut scratch = [0u8; 256];
            let mut chunk = ReadBuf::new(&mut scratch);
            match Pin::new(&mut this.inner).poll_read(cx, &mut chunk) {
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if chunk.filled().is_empty() => {
                    // End of stream: give back any partial echo, then report the end.
                    this.give_up();
                }
                Poll::Ready(Ok(())) => this.take_in(chunk.filled()),
                Poll::Pending => {
                    if this.deadline.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.give_up();
                }
            }
        }
    }
}

impl<L: AsyncWrite + Unpin> AsyncWrite for EchoSuppressor<L> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let n = std::task::ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        if n > 0 {
            if this.expected.is_empty() {
                this.deadline.as_mut().reset(Instant::now() + this.max_wait);
            }
            this.expected.extend(&buf[..n]);
            this.state = EchoState::Pending;
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<L: Link> Link for EchoSuppressor<L> {
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
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt, DuplexStream};

    const WAIT: Duration = Duration::from_millis(100);

    fn setup() -> (EchoSuppressor<DuplexStream>, DuplexStream) {
        let (agent_end, adapter) = duplex(1024);
        (EchoSuppressor::new(agent_end, WAIT), adapter)
    }

    async fn read_n(link: &mut EchoSuppressor<DuplexStream>, n: usize) -> Vec<u8> {
        let mut got = vec![0u8; n];
        link.read_exact(&mut got).await.unwrap();
        got
    }

    #[tokio::test(start_paused = true)]
    async fn echoed_bytes_are_dropped_and_reported() {
        let (mut link, mut adapter) = setup();
        assert_eq!(link.state(), EchoState::NoWrite);
        link.write_all(b"/?!\r\n").await.unwrap();
        assert_eq!(link.state(), EchoState::Pending);
        let mut sent = [0u8; 5];
        adapter.read_exact(&mut sent).await.unwrap();
        // The adapter echoes in two pieces, the meter's answer follows in the same chunk.
        adapter.write_all(b"/?").await.unwrap();
        adapter.write_all(b"!\r\n/CAL5\r\n").await.unwrap();
        assert_eq!(read_n(&mut link, 7).await, b"/CAL5\r\n");
        assert_eq!(link.state(), EchoState::Seen);
        assert_eq!(link.report(), EchoReport { seen: 1, absent: 0 });
    }

    #[tokio::test(start_paused = true)]
    async fn an_answer_that_only_starts_like_the_request_is_delivered_whole() {
        // HDLC request and response both begin 7E A0; a non-echoing adapter must not
        // lose those two bytes of the response.
        let (mut link, mut adapter) = setup();
        link.write_all(&[0x7E, 0xA0, 0x07, 0x03, 0x21, 0x93, 0x7E])
            .await
            .unwrap();
        let response = [0x7E, 0xA0, 0x07, 0x21, 0x03, 0x73, 0x7E];
        adapter.write_all(&response).await.unwrap();
        assert_eq!(read_n(&mut link, 7).await, response);
        assert_eq!(link.state(), EchoState::Absent);
        assert_eq!(link.report(), EchoReport { seen: 0, absent: 1 });
    }

    #[tokio::test(start_paused = true)]
    async fn silence_rules_out_the_echo_after_the_bounded_wait() {
        let (mut link, mut adapter) = setup();
        let start = Instant::now();
        link.write_all(b"/?!\r\n").await.unwrap();
        let late = tokio::spawn(async move {
            tokio::time::sleep(WAIT * 3).await;
            adapter.write_all(b"/?!\r\n").await.unwrap();
            adapter
        });
        // After the wait the expectation is dropped, so the late identical bytes are
        // data: they reach the reader.
        assert_eq!(read_n(&mut link, 5).await, b"/?!\r\n");
        assert_eq!(start.elapsed(), WAIT * 3);
        assert_eq!(link.state(), EchoState::Absent);
        drop(late.await.unwrap());
    }

    #[tokio::test(start_paused = true)]
    async fn a_partial_echo_cut_short_by_silence_is_given_back() {
        let (mut link, mut adapter) = setup();
        link.write_all(b"ABCD").await.unwrap();
        adapter.write_all(b"AB").await.unwrap();
        let start = Instant::now();
        assert_eq!(read_n(&mut link, 2).await, b"AB");
        assert_eq!(
            start.elapsed(),
            WAIT,
            "gave up one wait after the last matching byte"
        );
        assert_eq!(link.state(), EchoState::Absent);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_pending_write_reads_pass_straight_through() {
        let (mut link, mut adapter) = setup();
        adapter.write_all(b"unsolicited").await.unwrap();
        assert_eq!(read_n(&mut link, 11).await, b"unsolicited");
        assert_eq!(link.state(), EchoState::NoWrite);
    }
}
