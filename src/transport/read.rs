//! Reading with a response timeout (first byte) and an inter-character timeout (gap).
//!
//! Decoder-agnostic: `read_some` returns one burst of bytes, `read_frame` feeds bursts
//! to a caller's decoder until it says the frame is whole. Must not interpret bytes.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::time::{timeout, timeout_at, Instant};

use super::error::{TimeoutPhase, TransportError};
use super::link::Link;

/// The two timeouts of a request/response exchange on a byte link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTimeouts {
    /// From the call until the first byte of the answer.
    pub first_byte: Duration,
    /// Longest silence allowed between two bytes once the answer has started.
    pub inter_char: Duration,
}

/// Read one burst: wait for the first byte until `first_byte_deadline`, then keep
/// reading until `buf` is full or the line stays silent for `inter_char_timeout`.
///
/// Returns the number of bytes read (at least 1 for a non-empty `buf`). A silent gap
/// ends the burst and is not an error; only a missing first byte is
/// (`Timeout { phase: FirstByte }`). End of stream before any byte is `Closed`; end of
/// stream after some bytes returns them, and the next call reports `Closed`.
pub async fn read_some<L: Link + ?Sized>(
    link: &mut L,
    buf: &mut [u8],
    first_byte_deadline: Instant,
    inter_char_timeout: Duration,
) -> Result<usize, TransportError> {
    if buf.is_empty() {
        return Ok(0);
    }
    let started = Instant::now();
    let mut filled = match timeout_at(first_byte_deadline, link.read(buf)).await {
        Err(_elapsed) => {
            return Err(TransportError::Timeout {
                link: link.describe(),
                waited: first_byte_deadline.saturating_duration_since(started),
                phase: TimeoutPhase::FirstByte,
                received: 0,
            })
        }
        Ok(Err(source)) => return Err(io_error(link, source)),
        Ok(Ok(0)) => {
            return Err(TransportError::Closed {
                link: link.describe(),
            })
        }
        Ok(Ok(n)) => n,
    };
    while filled < buf.len() {
        match timeout(inter_char_timeout, link.read(&mut buf[filled..])).await {
            // A silent gap or end of stream ends the burst.
            Err(_) | Ok(Ok(0)) => break,
            Ok(Ok(n)) => filled += n,
            Ok(Err(source)) => return Err(io_error(link, source)),
        }
    }
    Ok(filled)
}

/// Read until `feed` recognises a whole frame, and return what it returned.
///
/// Every burst of bytes is passed to `feed` as it arrives; `feed` returns `Some` once
/// its decoder holds a complete frame. The first byte must come within
/// `timeouts.first_byte`, each later one within `timeouts.inter_char` of the previous
/// burst (`Timeout { phase: InterCharacter, received }` otherwise). After `max_bytes`
/// bytes without a frame the read stops with `TooLong`, so a babbling line cannot
/// keep us here forever.
pub async fn read_frame<L, T, F>(
    link: &mut L,
    timeouts: ReadTimeouts,
    max_bytes: usize,
    mut feed: F,
) -> Result<T, TransportError>
where
    L: Link + ?Sized,
    F: FnMut(&[u8]) -> Option<T>,
{
    let mut chunk = [0u8; 256];
    let mut received = 0usize;
    loop {
        let (limit, phase) = if received == 0 {
            (timeouts.first_byte, TimeoutPhase::FirstByte)
        } else {
            (timeouts.inter_char, TimeoutPhase::InterCharacter)
        };
        let n = match timeout(limit, link.read(&mut chunk)).await {
            Err(_elapsed) => {
                return Err(TransportError::Timeout {
                    link: link.describe(),
                    waited: limit,
                    phase,
                    received,
                })
            }
            Ok(Err(source)) => return Err(io_error(link, source)),
            Ok(Ok(0)) => {
                return Err(TransportError::Closed {
                    link: link.describe(),
                })
            }
            Ok(Ok(n)) => n,
        };
        received += n;
        if let Some(frame) = feed(&chunk[..n]) {
            return Ok(frame);
        }
        if received >= max_bytes {
            return Err(TransportError::TooLong {
                link: link.describe(),
                limit: max_bytes,
            });
        }
    }
}

fn io_error<L: Link + ?Sized>(link: &L, source: std::io::Error) -> TransportError {
    TransportError::Io {
        link: link.describe(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{duplex, AsyncWriteExt, DuplexStream};

    const GAP: Duration = Duration::from_millis(50);

    fn pair() -> (DuplexStream, DuplexStream) {
        duplex(1024)
    }

    #[tokio::test(start_paused = true)]
    async fn no_answer_is_a_first_byte_timeout_after_exactly_the_deadline() {
        let (mut agent, _meter) = pair();
        let start = Instant::now();
        let mut buf = [0u8; 16];
        let err = read_some(&mut agent, &mut buf, start + Duration::from_secs(2), GAP)
            .await
            .unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_secs(2));
        match err {
            TransportError::Timeout {
                waited,
                phase,
                received,
                link,
            } => {
                assert_eq!(waited, Duration::from_secs(2));
                assert_eq!(phase, TimeoutPhase::FirstByte);
                assert_eq!(received, 0);
                assert_eq!(link, "in-memory duplex");
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_gap_longer_than_the_inter_char_timeout_ends_the_burst() {
        let (mut agent, mut meter) = pair();
        let meter_task = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            meter.write_all(b"abc").await.unwrap();
            tokio::time::sleep(GAP / 2).await;
            meter.write_all(b"de").await.unwrap();
            // Longer than GAP: belongs to the next burst.
            tokio::time::sleep(GAP * 2).await;
            meter.write_all(b"XYZ").await.unwrap();
            meter
        });
        let start = Instant::now();
        let mut buf = [0u8; 16];
        let n = read_some(&mut agent, &mut buf, start + Duration::from_secs(1), GAP)
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"abcde");
        // 300 ms to the first byte, 25 ms to the second chunk, then one full gap.
        assert_eq!(start.elapsed(), Duration::from_millis(300 + 25 + 50));

        let n = read_some(&mut agent, &mut buf, Instant::now() + GAP * 3, GAP)
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"XYZ");
        drop(meter_task.await.unwrap());
    }

    #[tokio::test]
    async fn end_of_stream_returns_what_came_then_reports_closed() {
        let (mut agent, mut meter) = pair();
        meter.write_all(b"last").await.unwrap();
        drop(meter);
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut buf = [0u8; 16];
        let n = read_some(&mut agent, &mut buf, deadline, GAP)
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"last");
        let err = read_some(&mut agent, &mut buf, deadline, GAP)
            .await
            .unwrap_err();
        assert!(matches!(err, TransportError::Closed { .. }), "{err:?}");
    }

    #[tokio::test]
    async fn full_buffer_returns_without_waiting_for_a_gap() {
        let (mut agent, mut meter) = pair();
        meter.write_all(b"0123456789").await.unwrap();
        let mut buf = [0u8; 4];
        // A paused clock is not needed: a full buffer must return before any timer.
        let n = read_some(
            &mut agent,
            &mut buf,
            Instant::now() + GAP,
            Duration::from_secs(3600),
        )
        .await
        .unwrap();
        assert_eq!(&buf[..n], b"0123");
    }

    /// A toy decoder: a frame is everything up to and including a '\n'.
    fn line_decoder() -> impl FnMut(&[u8]) -> Option<Vec<u8>> {
        let mut acc = Vec::new();
        move |chunk| {
            acc.extend_from_slice(chunk);
            acc.contains(&b'\n').then(|| acc.clone())
        }
    }

    const TIMEOUTS: ReadTimeouts = ReadTimeouts {
        first_byte: Duration::from_secs(1),
        inter_char: GAP,
    };

    #[tokio::test(start_paused = true)]
    async fn read_frame_collects_bursts_until_the_decoder_is_satisfied() {
        let (mut agent, mut meter) = pair();
        tokio::spawn(async move {
            meter.write_all(b"/CAL5").await.unwrap();
            tokio::time::sleep(GAP / 2).await;
            meter.write_all(b"METER\r\n").await.unwrap();
            meter
        });
        let frame = read_frame(&mut agent, TIMEOUTS, 1024, line_decoder())
            .await
            .unwrap();
        assert_eq!(frame, b"/CAL5METER\r\n");
    }

    #[tokio::test(start_paused = true)]
    async fn read_frame_reports_an_inter_char_timeout_with_the_byte_count() {
        let (mut agent, mut meter) = pair();
        tokio::spawn(async move {
            meter.write_all(b"/CAL5").await.unwrap();
            tokio::time::sleep(GAP * 2).await;
            meter.write_all(b"\n").await.unwrap();
            meter
        });
        let start = Instant::now();
        let err = read_frame(&mut agent, TIMEOUTS, 1024, line_decoder())
            .await
            .unwrap_err();
        assert_eq!(start.elapsed(), GAP);
        match err {
            TransportError::Timeout {
                phase, received, ..
            } => {
                assert_eq!(phase, TimeoutPhase::InterCharacter);
                assert_eq!(received, 5);
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn read_frame_stops_a_babbling_line() {
        let (mut agent, mut meter) = pair();
        meter.write_all(&[0x55; 600]).await.unwrap();
        let err = read_frame(&mut agent, TIMEOUTS, 300, line_decoder())
            .await
            .unwrap_err();
        assert!(
            matches!(err, TransportError::TooLong { limit: 300, .. }),
            "{err:?}"
        );
    }
}
