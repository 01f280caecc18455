//! Buses are independent: one whose port vanishes (a PTY whose slave path goes away,
//! a TCP listener that closes) is reopened with backoff and polled again when it
//! returns, while the other bus keeps polling throughout.

mod daemon_support;

use calin_agent::agent::daemon::DaemonEvent;
use calin_agent::agent::{AlertKind, MeterId};
use calin_agent::sim::Framing;
use daemon_support::*;

/// Point `link` at a new simulator's pty; returns the simulator.
fn pty_bus_up(link: &std::path::Path) -> calin_agent::sim::Simulator {
    let sim = simulator(scenario(1, 0, 17));
    let (path, _serving) = sim.serve_pty(Framing::Hdlc).unwrap();
    let _ = std::fs::remove_file(link);
    std::os::unix::fs::symlink(&path, link).unwrap();
    sim
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vanished_pty_returns_while_the_tcp_bus_keeps_polling() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    // Bus A: a serial port (a symlink to the pty the simulator serves, as udev gives
    // /dev/serial/by-id/...). Bus B: TCP.
    let port_a = dir.path().join("ttyA");
    let sim_a = pty_bus_up(&port_a);
    let sim_b = simulator(scenario(1, 1, 18));
    let addr_b = hdlc_over_tcp(&sim_b).await;
    let buses = [
        TestBus::serial("rs485-a", &port_a, meters(1, 0, 17)),
        TestBus::tcp("tcp-b", addr_b, meters(1, 1, 18)),
    ];
    let (_, config) = write_config(dir.path(), &config_text(&state, &buses, ""));
    let (a, b) = (serial(0), serial(1));
    let mut d = start(config);
    d.polls(&a, true, 2).await;
    d.polls(&b, true, 2).await;

    // Bus A's adapter is unplugged: the pty closes and its path disappears.
    sim_a.handle().shutdown();
    std::fs::remove_file(&port_a).unwrap();
    d.wait_for("bus A cannot reopen its port", |e| match e {
        DaemonEvent::LinkFailed { bus, error } if bus == "rs485-a" => Some(error.clone()),
        _ => None,
    })
    .await;
    // Meanwhile bus B is polled, and meter A fails (unreachable after two failures).
    let (mut b_ok, mut a_failed) = (0, 0);
    let mut unreachable = false;
    d.wait_for("bus B polls during the outage", |e| {
        match e {
            DaemonEvent::Polled {
                meter, ok: true, ..
            } if meter.as_str() == b => b_ok += 1,
            DaemonEvent::Polled {
                meter, ok: false, ..
            } if meter.as_str() == a => a_failed += 1,
            DaemonEvent::Recorded { alerts, .. } => {
                unreachable |= alerts
                    .iter()
                    .any(|x| x.meter.as_str() == a && x.kind == AlertKind::Unreachable)
            }
            _ => {}
        }
        (b_ok >= 5 && unreachable).then_some(())
    })
    .await;
    assert!(a_failed >= 2, "{a_failed}");

    // Plugged back in (a new pty behind the same path): bus A is reopened and polled.
    let _sim_a2 = pty_bus_up(&port_a);
    d.wait_for("bus A reopened", |e| match e {
        DaemonEvent::LinkOpened { bus } if bus == "rs485-a" => Some(()),
        _ => None,
    })
    .await;
    d.wait_alert(&a, AlertKind::Reachable, |_| true).await;
    d.polls(&a, true, 2).await;
    d.stop().await;
    let alerts = assert_store_and_file_agree(&state);
    assert!(
        alerts.iter().all(|x| x.meter != MeterId::new(&b)),
        "bus B never failed: {alerts:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_tcp_listener_is_reconnected_when_it_listens_again() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim_a = simulator(scenario(1, 0, 17));
    let (addr_a, _serving) = sim_a
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc)
        .await
        .unwrap();
    let sim_b = simulator(scenario(1, 1, 18));
    let addr_b = hdlc_over_tcp(&sim_b).await;
    let buses = [
        TestBus::tcp("tcp-a", addr_a, meters(1, 0, 17)),
        TestBus::tcp("tcp-b", addr_b, meters(1, 1, 18)),
    ];
    let (_, config) = write_config(dir.path(), &config_text(&state, &buses, ""));
    let (a, b) = (serial(0), serial(1));
    let mut d = start(config);
    d.polls(&a, true, 2).await;

    // The converter goes away: its connections and its listener close.
    sim_a.handle().shutdown();
    d.wait_for("tcp-a refused", |e| match e {
        DaemonEvent::LinkFailed { bus, .. } if bus == "tcp-a" => Some(()),
        _ => None,
    })
    .await;
    d.polls(&b, true, 3).await;

    // It comes back on the same address.
    let sim_a2 = simulator(scenario(1, 0, 17));
    let (back, _serving2) = sim_a2
        .serve_tcp(addr_a, Framing::Hdlc)
        .await
        .expect("the address is free again");
    assert_eq!(back, addr_a);
    d.polls(&a, true, 2).await;
    d.stop().await;
    assert_store_and_file_agree(&state);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_link_serves_every_meter_of_a_bus_poll_after_poll() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(3, 0, 17));
    let mut sim_events = sim.handle().subscribe();
    let addr = hdlc_over_tcp(&sim).await;
    let buses = [TestBus::tcp("tcp-1", addr, meters(3, 0, 17))];
    let (_, config) = write_config(dir.path(), &config_text(&state, &buses, ""));
    let mut d = start(config);
    let (mut opened, mut polls) = (0, 0);
    d.wait_for("12 polls", |e| {
        match e {
            DaemonEvent::LinkOpened { .. } => opened += 1,
            DaemonEvent::Polled { ok: true, .. } => polls += 1,
            DaemonEvent::Polled {
                ok: false, reason, ..
            } => panic!("{reason:?}"),
            _ => {}
        }
        (polls >= 12).then_some(())
    })
    .await;
    d.stop().await;
    assert_eq!(
        opened, 1,
        "the link is released and kept, not reopened per meter"
    );
    // The simulator saw one connection, and every meter was associated on it.
    let mut connections = 0;
    let mut meters_seen = std::collections::HashSet::new();
    while let Ok(e) = sim_events.try_recv() {
        match e {
            calin_agent::sim::SimEvent::LinkOpened { .. } => connections += 1,
            calin_agent::sim::SimEvent::HdlcConnected { meter, .. } => {
                meters_seen.insert(meter);
            }
            _ => {}
        }
    }
    assert_eq!(connections, 1);
    assert_eq!(meters_seen.len(), 3);
}
