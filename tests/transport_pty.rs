//! The transport pieces together, the way the agent and the simulator will use them:
//! a simulator serving a pty master, the agent opening the slave path as a serial port.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use calin_agent::transport::{
    open_with_retry, read_frame, Backoff, Bus, Direction, EchoSuppressor, LineSettings, Link,
    LinkSpec, PacedLink, PtyLink, ReadTimeouts, TraceTap, TransportError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

/// A path in the temp dir that no other test uses.
fn unique_path(tag: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("calin-{tag}-{}-{n}", std::process::id()))
}

/// Removes the symlink however the test ends.
struct Cleanup(PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_port_that_appears_later_is_opened_by_the_retry_loop() {
    let pty = PtyLink::open().unwrap();
    let port = unique_path("ttyUSB");
    let _cleanup = Cleanup(port.clone());
    let spec = LinkSpec::Serial {
        port: port.to_str().unwrap().to_string(),
        line: LineSettings::new_8n1(9600),
    };
    let backoff = Backoff {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(8),
        factor: 2.0,
        jitter: 0.0,
    };

    // "Plug in the adapter" 2.5 s from now: the device node appears.
    let slave = pty.slave_path().to_path_buf();
    let link_path = port.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(2500)).await;
        std::os::unix::fs::symlink(slave, link_path).unwrap();
    });

    let start = Instant::now();
    let failures = std::cell::RefCell::new(Vec::new());
    let link = open_with_retry(
        spec.target(),
        backoff.delays(0),
        || {
            let attempt = spec.open();
            async {
                let result = attempt.await;
                if let Err(e) = &result {
                    failures.borrow_mut().push(e.to_string());
                }
                result
            }
        },
        std::future::pending(),
    )
    .await
    .unwrap();
    // Failed at 0 s and 1 s, opened at 1 + 2 = 3 s.
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    let failures = failures.into_inner();
    assert_eq!(failures.len(), 2);
    assert!(failures
        .iter()
        .all(|f| f.contains(spec.target()) && f.contains("missing")));
    assert!(link.describe().contains(spec.target()));
}

#[tokio::test]
async fn agent_and_simulator_converse_through_a_pty_with_an_echoing_adapter() {
    let request = b"\x7E\xA0\x07\x03\x21\x93\x0F\x01\x7E";
    let response = b"\x7E\xA0\x07\x21\x03\x73\x44\x55\x7E";

    // Simulator: serves the master at 9600 baud wire speed, echoing like a cheap
    // RS-485 adapter, then answering.
    let master = PtyLink::open().unwrap();
    let port = master.slave_path().to_str().unwrap().to_string();
    // The master stays open until the agent has read the answer: closing it hangs up
    // the pty, and Linux then drops what the slave side has not read yet.
    let (read_done, agent_read) = tokio::sync::oneshot::channel::<()>();
    let sim = tokio::spawn(async move {
        let mut sim = PacedLink::new(master, LineSettings::new_8n1(9600)).with_chunk(4);
        let mut got = [0u8; 9];
        sim.read_exact(&mut got).await.unwrap();
        sim.write_all(&got).await.unwrap();
        sim.write_all(response).await.unwrap();
        sim.flush().await.unwrap();
        let _ = agent_read.await;
        got
    });

    // Agent: serial port, trace tap on the raw wire, echo suppression above it, on a bus.
    let serial = LinkSpec::Serial {
        port,
        line: LineSettings::new_8n1(9600),
    }
    .open()
    .await
    .unwrap();
    let (tap, mut trace) = TraceTap::with_channel(serial);
    let bus = Bus::new("rs485-0", EchoSuppressor::new(tap, Duration::from_secs(2)));

    let mut link = bus.lock().await;
    link.write_all(request).await.unwrap();
    let timeouts = ReadTimeouts {
        first_byte: Duration::from_secs(5),
        inter_char: Duration::from_millis(500),
    };
    let mut acc = Vec::new();
    let frame = read_frame(&mut *link, timeouts, 256, |chunk| {
        acc.extend_from_slice(chunk);
        (acc.len() >= response.len()).then(|| acc.clone())
    })
    .await
    .unwrap();
    assert_eq!(
        frame, response,
        "the agent sees the answer without the echo"
    );
    assert_eq!(link.report().seen, 1);
    drop(link);
    let _ = read_done.send(());
    assert_eq!(&sim.await.unwrap(), request);

    // The raw trace shows the request out, then echo and answer back, in order.
    let mut sent = Vec::new();
    let mut received = Vec::new();
    let mut last = None;
    while let Ok(event) = trace.try_recv() {
        assert!(last.is_none_or(|t| t <= event.at), "events out of order");
        last = Some(event.at);
        match event.direction {
            Direction::Sent => sent.extend(event.bytes),
            Direction::Received => received.extend(event.bytes),
        }
    }
    assert_eq!(sent, request);
    assert_eq!(received, [&request[..], &response[..]].concat());
}

#[tokio::test]
async fn the_simulator_sees_the_agent_switch_baud() {
    // IEC 62056-21 mode C: sign on at 300 7E1, acknowledge, switch to 9600.
    let mut master = PtyLink::open().unwrap();
    let port = master.slave_path().to_str().unwrap().to_string();
    let mut agent = LinkSpec::Serial {
        port,
        line: "300 7E1".parse().unwrap(),
    }
    .open()
    .await
    .unwrap();
    assert_eq!(master.peer_baud().unwrap(), 300);

    agent.write_all(b"\x06050\r\n").await.unwrap();
    agent.set_line("9600 7E1".parse().unwrap()).await.unwrap();
    let mut ack = [0u8; 6];
    master.read_exact(&mut ack).await.unwrap();
    assert_eq!(&ack, b"\x06050\r\n");
    assert_eq!(master.peer_baud().unwrap(), 9600);
    assert!(agent.describe().ends_with("9600 7E1"));

    // Missing ports stay typed errors through the boxed spec too.
    let err = LinkSpec::Serial {
        port: "/dev/ttyCALIN-gone".into(),
        line: LineSettings::new_8n1(9600),
    }
    .open()
    .await
    .err()
    .unwrap();
    assert!(matches!(err, TransportError::PortMissing { .. }), "{err:?}");
}
