//! Exponential backoff with seeded jitter, and a retry loop for opening links.
//!
//! Delays are a pure function of the settings and a seed, so tests can assert exact
//! sequences under paused tokio time. Must not know what it is opening: the caller
//! passes a closure.

use std::future::Future;
use std::time::Duration;

use super::error::TransportError;

/// Settings of an exponential backoff.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Delay after the first failure.
    pub initial: Duration,
    /// No delay is ever longer than this.
    pub max: Duration,
    /// Each delay is the previous one times this (values below 1 are taken as 1).
    pub factor: f64,
    /// Fraction in 0..=1 by which a delay may be shortened at random, so that many
    /// buses retrying after one outage do not all fire at the same instant.
    pub jitter: f64,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(500),
            max: Duration::from_secs(60),
            factor: 2.0,
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The endless sequence of delays; the same seed always gives the same sequence.
    pub fn delays(&self, seed: u64) -> Delays {
        Delays {
            backoff: *self,
            base: self.initial.min(self.max),
            rng: seed,
        }
    }

    /// Delays seeded from the clock and process id (for production use).
    pub fn delays_unseeded(&self) -> Delays {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        self.delays(nanos ^ u64::from(std::process::id()).rotate_left(32))
    }
}

/// Iterator over backoff delays (never ends; use `take(n)` to bound the retries).
#[derive(Debug, Clone)]
pub struct Delays {
    backoff: Backoff,
    base: Duration,
    rng: u64,
}

impl Delays {
    /// splitmix64: tiny, good enough for jitter, and dependency-free.
    fn next_unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Iterator for Delays {
    type Item = Duration;

    fn next(&mut self) -> Option<Duration> {
        let base = self.base;
        let factor = if self.backoff.factor.is_finite() {
            self.backoff.factor.max(1.0)
        } else {
            1.0
        };
        let grown = base.as_secs_f64() * factor;
        self.base = if grown < self.backoff.max.as_secs_f64() {
            Duration::from_secs_f64(grown)
        } else {
            self.backoff.max
        };
        let jitter = if self.backoff.jitter.is_finite() {
            self.backoff.jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        if jitter == 0.0 {
            return Some(base);
        }
        let cut = jitter * self.next_unit();
        Some(base.mul_f64(1.0 - cut))
    }
}

/// Call `open` until it succeeds, sleeping the next of `delays` after each retryable
/// failure and logging it (link name, error, attempt, next delay) at warn level.
///
/// Returns the first success; the first non-retryable error
/// (`TransportError::is_retryable`); the last error once `delays` runs out; or
/// `Shutdown` as soon as `shutdown` completes, even in the middle of an attempt or a
/// delay. For a `watch::Receiver<bool>` pass
/// `async move { let _ = rx.wait_for(|stop| *stop).await; }`.
pub async fn open_with_retry<T, F, Fut, S>(
    target: &str,
    mut delays: impl Iterator<Item = Duration>,
    mut open: F,
    shutdown: S,
) -> Result<T, TransportError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, TransportError>>,
    S: Future<Output = ()>,
{
    tokio::pin!(shutdown);
    let mut failures = 0u32;
    let stopped = |attempts| TransportError::Shutdown {
        target: target.to_string(),
        attempts,
    };
    loop {
        let result = tokio::select! {
            biased;
            () = &mut shutdown => return Err(stopped(failures)),
            result = open() => result,
        };
        let error = match result {
            Ok(link) => {
                if failures > 0 {
                    tracing::info!(link = target, failures, "opened after retrying");
                }
                return Ok(link);
            }
            Err(e) if !e.is_retryable() => return Err(e),
            Err(e) => e,
        };
        failures += 1;
        let Some(delay) = delays.next() else {
            tracing::warn!(link = target, error = %error, attempt = failures, "open failed; giving up");
            return Err(error);
        };
        tracing::warn!(
            link = target,
            error = %error,
            attempt = failures,
            next_delay_ms = delay.as_millis() as u64,
            "open failed; retrying"
        );
        tokio::select! {
            biased;
            () = &mut shutdown => return Err(stopped(failures)),
            () = tokio::time::sleep(delay) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};
    use tokio::time::Instant;

    fn secs(s: &[f64]) -> Vec<Duration> {
        s.iter().map(|&x| Duration::from_secs_f64(x)).collect()
    }

    #[test]
    fn without_jitter_delays_double_up_to_the_cap() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.0,
        };
        let got: Vec<_> = b.delays(7).take(8).collect();
        assert_eq!(got, secs(&[1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]));
    }

    #[test]
    fn jitter_only_shortens_and_is_reproducible_from_the_seed() {
        let b = Backoff {
            initial: Duration::from_secs(1),
            max: Duration::from_secs(30),
            factor: 2.0,
            jitter: 0.5,
        };
        let plain: Vec<_> = Backoff { jitter: 0.0, ..b }.delays(0).take(10).collect();
        let a: Vec<_> = b.delays(42).take(10).collect();
        assert_eq!(a, b.delays(42).take(10).collect::<Vec<_>>());
        assert_ne!(a, b.delays(43).take(10).collect::<Vec<_>>());
        for (jittered, base) in a.iter().zip(&plain) {
            assert!(
                jittered <= base && *jittered >= *base / 2,
                "{jittered:?} vs {base:?}"
            );
        }
        assert!(
            a.iter().zip(&plain).any(|(j, b)| j < b),
            "jitter had no effect"
        );
    }

    #[test]
    fn odd_settings_never_panic() {
        let b = Backoff {
            initial: Duration::from_secs(100),
            max: Duration::from_secs(5),
            factor: f64::NAN,
            jitter: 7.0,
        };
        for d in b.delays(1).take(5) {
            assert!(d <= Duration::from_secs(5));
        }
        let huge = Backoff {
            factor: 1e300,
            jitter: 0.0,
            ..Backoff::default()
        };
        assert_eq!(huge.delays(0).nth(3).unwrap(), huge.max);
    }

    fn missing() -> TransportError {
        TransportError::PortMissing {
            port: "/dev/ttyUSB9".into(),
            source: io::Error::from_raw_os_error(libc::ENOENT),
        }
    }

    const FIXED: Backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(4),
        factor: 2.0,
        jitter: 0.0,
    };

    /// A tracing writer that keeps what it is given.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_a_missing_port_with_backoff_and_logs_each_failure() {
        let logs = Captured::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);

        let start = Instant::now();
        let mut attempts_at = Vec::new();
        let result = open_with_retry(
            "/dev/ttyUSB9",
            FIXED.delays(0),
            || {
                attempts_at.push(start.elapsed());
                let n = attempts_at.len();
                async move {
                    if n < 5 {
                        Err(missing())
                    } else {
                        Ok("link")
                    }
                }
            },
            std::future::pending(),
        )
        .await;
        assert_eq!(result.unwrap(), "link");
        // Attempts after 0, 1, 1+2, 1+2+4, 1+2+4+4 seconds.
        assert_eq!(attempts_at, secs(&[0.0, 1.0, 3.0, 7.0, 11.0]));

        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let warnings: Vec<_> = text
            .lines()
            .filter(|l| l.contains("open failed; retrying"))
            .collect();
        assert_eq!(warnings.len(), 4, "{text}");
        assert!(
            warnings.iter().all(|l| l.contains("/dev/ttyUSB9")),
            "{text}"
        );
        assert!(warnings[2].contains("next_delay_ms=4000"), "{text}");
    }

    #[tokio::test(start_paused = true)]
    async fn shutdown_stops_the_wait_at_once() {
        let (stop_tx, mut stop_rx) = tokio::sync::watch::channel(false);
        let start = Instant::now();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(2500)).await;
            stop_tx.send(true).unwrap();
        });
        let err = open_with_retry::<(), _, _, _>(
            "/dev/ttyUSB9",
            FIXED.delays(0),
            || async { Err(missing()) },
            async move {
                let _ = stop_rx.wait_for(|stop| *stop).await;
            },
        )
        .await
        .unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_millis(2500));
        match err {
            TransportError::Shutdown { target, attempts } => {
                assert_eq!(target, "/dev/ttyUSB9");
                assert_eq!(
                    attempts, 2,
                    "failed at 0 s and 1 s, stopped during the 2 s wait"
                );
            }
            other => panic!("expected Shutdown, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn non_retryable_errors_and_exhausted_delays_end_the_loop() {
        let mut calls = 0;
        let err = open_with_retry::<(), _, _, _>(
            "pty",
            FIXED.delays(0),
            || {
                calls += 1;
                async {
                    Err(TransportError::Pty {
                        source: io::Error::other("no ptmx"),
                    })
                }
            },
            std::future::pending(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, TransportError::Pty { .. }));
        assert_eq!(calls, 1);

        let start = Instant::now();
        let err = open_with_retry::<(), _, _, _>(
            "/dev/ttyUSB9",
            FIXED.delays(0).take(2),
            || async { Err(missing()) },
            std::future::pending(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, TransportError::PortMissing { .. }));
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }
}
