//! End to end over loopback TCP: the daemon polls simulated meters, and every alert
//! kind is raised once when the meter changes, cleared when it recovers, and reminded
//! while it lasts; the store and the JSON-lines file hold each alert exactly once.

mod daemon_support;

use calin_agent::agent::AlertKind;
use calin_agent::codes::ShortCode;
use daemon_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alert_kind_is_raised_once_cleared_and_reminded() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(2, 0, 17));
    let addr = hdlc_over_tcp(&sim).await;
    let h = sim.handle();
    let text = config_text(&state, &[TestBus::tcp("tcp-1", addr, meters(2, 0, 17))], "");
    let (_, config) = write_config(dir.path(), &text);
    let mut d = start(config);
    let metrics = d.metrics_addr().await;
    let m = serial(0);
    let other = serial(1);

    // Healthy first polls: baselines, no alerts.
    let first = d.recorded_polls(&m, 2).await;
    assert!(
        first.is_empty(),
        "a healthy meter raises nothing: {first:?}"
    );

    // Status 1005 (upper cover opened): one status change, reminded while it lasts.
    h.set_status(0, 1005).unwrap();
    let a = d
        .wait_alert(&m, AlertKind::StatusChanged, |a| a.code == Some(1005))
        .await;
    assert_eq!(a.sub_code, Some(5));
    assert!(a.meaning.to_lowercase().contains("cover"), "{}", a.meaning);
    let r = d
        .wait_alert(&m, AlertKind::Reminder, |r| r.code == Some(1005))
        .await;
    assert!(
        r.raised_at - a.raised_at >= 1000,
        "reminded after the interval"
    );

    // Relay reason 87:5, then a counter that grows and one that is reset.
    h.set_code(0, ShortCode(87), 5).unwrap();
    d.wait_alert(&m, AlertKind::RelayReasonChanged, |a| a.sub_code == Some(5))
        .await;
    h.bump_counter(0, ShortCode(40), 2).unwrap();
    let grew = d.wait_alert(&m, AlertKind::CounterGrew, |_| true).await;
    assert_eq!(grew.code, Some(40));
    h.set_code(0, ShortCode(40), 0).unwrap();
    d.wait_alert(&m, AlertKind::CounterReset, |a| a.code == Some(40))
        .await;

    // Recovery: the status clears, the relay reason returns to 0.
    // (One change at a time: a wait consumes the poll whose alerts it looks at.)
    h.set_status(0, 1000).unwrap();
    d.wait_alert(&m, AlertKind::StatusCleared, |_| true).await;
    h.set_code(0, ShortCode(87), 0).unwrap();
    d.wait_alert(&m, AlertKind::RelayReasonChanged, |a| a.sub_code == Some(0))
        .await;

    // A status the guide does not define.
    h.set_status(0, 1077).unwrap();
    d.wait_alert(&m, AlertKind::UnknownCode, |a| a.code == Some(1077))
        .await;
    h.set_status(0, 1000).unwrap();
    d.wait_alert(&m, AlertKind::StatusCleared, |_| true).await;

    // Powered off: unreachable after two failed polls; back: reachable.
    h.set_offline(0, true).unwrap();
    let u = d.wait_alert(&m, AlertKind::Unreachable, |_| true).await;
    assert!(u.message.contains("2 polls"), "{}", u.message);
    h.set_offline(0, false).unwrap();
    d.wait_alert(&m, AlertKind::Reachable, |_| true).await;
    // A few more healthy polls: nothing is raised twice.
    let after = d.recorded_polls(&m, 3).await;
    assert!(after.is_empty(), "{after:?}");
    let text = scrape(metrics).await;
    for line in [
        format!("calin_polls_total{{meter=\"{m}\",result=\"read\"}}"),
        format!("calin_polls_total{{meter=\"{m}\",result=\"unreachable\"}}"),
        "calin_wire_bytes_total{bus=\"tcp-1\",direction=\"sent\"}".to_string(),
        "calin_wire_bytes_total{bus=\"tcp-1\",direction=\"received\"}".to_string(),
    ] {
        assert!(text.contains(&line), "{line} in {text}");
    }
    assert!(
        !text.contains("calin_active_alerts{category=\"tamper\"} 1"),
        "{text}"
    );
    d.stop().await;

    let alerts = assert_store_and_file_agree(&state);
    use AlertKind::*;
    for (kind, n) in [
        (StatusChanged, 1),
        (RelayReasonChanged, 2),
        (CounterGrew, 1),
        (CounterReset, 1),
        (StatusCleared, 2),
        (UnknownCode, 1),
        (Unreachable, 1),
        (Reachable, 1),
    ] {
        assert_eq!(count(&alerts, &m, kind), n, "{kind}: {alerts:#?}");
    }
    assert!(count(&alerts, &m, Reminder) >= 1);
    assert!(
        alerts.iter().all(|a| a.meter.as_str() != other),
        "the healthy meter on the same bus raised nothing"
    );
}
