//! A tiny HTTP/1.x server for `GET /metrics`: one request per connection, bounded
//! reads, no keep-alive. It serves the metrics text and nothing else.

use super::Metrics;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The longest request head read; a scraper's GET is a few hundred bytes.
const MAX_HEAD: usize = 8 * 1024;
/// A client that has not sent its request head by then is dropped.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The running server.
pub struct MetricsServer {
    /// The bound address (the port is the real one when 0 was asked for).
    pub local_addr: SocketAddr,
    pub task: JoinHandle<()>,
}

/// Bind `listen` now (so a taken port is an error at start) and serve until `shutdown`
/// turns true.
pub async fn serve(
    listen: SocketAddr,
    metrics: Metrics,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<MetricsServer> {
    let listener = TcpListener::bind(listen).await?;
    let local_addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stopped(&mut shutdown) => return,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let m = metrics.clone();
                        tokio::spawn(async move {
                            if let Err(e) = answer(stream, &m).await {
                                tracing::debug!(error = %e, "metrics request failed");
                            }
                        });
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "metrics server cannot accept");
                        // Out of file descriptors: let some close before the next try.
                        tokio::task::yield_now().await;
                    }
                },
            }
        }
    });
    Ok(MetricsServer { local_addr, task })
}

/// Resolves once shutdown is asked (or its sender is gone).
async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn answer(mut stream: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    if tokio::time::timeout(READ_TIMEOUT, read).await.is_err() {
        return Ok(());
    }
    let line = head.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = target.split('?').next().unwrap_or("");
    let (status, kind, body) = match (method, path) {
        ("GET" | "HEAD", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        ("GET" | "HEAD", "/") => (
            "200 OK",
            "text/plain; charset=utf-8",
            "calin-agent: metrics at /metrics\n".to_owned(),
        ),
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain", "not found\n".to_owned()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            "only GET\n".to_owned(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        response.extend_from_slice(body.as_bytes());
    }
    stream.write_all(&response).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(addr: SocketAddr, request: &str) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn serves_metrics_and_refuses_the_rest() {
        let m = Metrics::new();
        m.set_outbox_depth(42);
        let (stop_tx, stop) = watch::channel(false);
        let server = serve("127.0.0.1:0".parse().unwrap(), m.clone(), stop)
            .await
            .unwrap();
        let addr = server.local_addr;
        let ok = get(addr, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("text/plain; version=0.0.4"), "{ok}");
        assert!(ok.contains("\ncalin_outbox_depth 42\n"), "{ok}");
        let body = ok.split("\r\n\r\n").nth(1).unwrap();
        assert!(ok.contains(&format!("Content-Length: {}\r\n", body.len())));
        assert!(get(addr, "GET /nope HTTP/1.1\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 404"));
        assert!(get(addr, "POST /metrics HTTP/1.1\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 405"));
        // A value recorded later shows in the next scrape.
        m.set_outbox_depth(0);
        assert!(get(addr, "GET /metrics HTTP/1.0\r\n\r\n")
            .await
            .contains("\ncalin_outbox_depth 0\n"));
        stop_tx.send_replace(true);
        server.task.await.unwrap();
        assert!(
            TcpStream::connect(addr).await.is_err(),
            "still listening after shutdown"
        );
    }

    #[tokio::test]
    async fn a_taken_port_is_an_error_at_start() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let (_tx, stop) = watch::channel(false);
        let err = serve(held.local_addr().unwrap(), Metrics::new(), stop).await;
        assert!(err.is_err());
    }
}
