//! Stopping and starting the daemon again on the same state directory resumes from
//! the committed state: nothing is raised twice, nothing is lost, and the JSON-lines
//! file and the store still agree.

mod daemon_support;

use calin_agent::agent::AlertKind;
use calin_agent::codes::ShortCode;
use calin_agent::sim::Framing;
use daemon_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_the_same_state_raises_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(1, 0, 17));
    let (addr, _serving) = sim
        .serve_tcp("127.0.0.1:0".parse().unwrap(), Framing::Hdlc)
        .await
        .unwrap();
    let h = sim.handle();
    let text = config_text(&state, &[TestBus::tcp("tcp-1", addr, meters(1, 0, 17))], "");
    let (_, config) = write_config(dir.path(), &text);
    let m = serial(0);

    let mut d = start(config.clone());
    h.set_status(0, 1011).unwrap();
    let raised = d
        .wait_alert(&m, AlertKind::StatusChanged, |a| a.code == Some(1011))
        .await;
    h.bump_counter(0, ShortCode(52), 1).unwrap();
    d.wait_alert(&m, AlertKind::CounterGrew, |a| a.code == Some(52))
        .await;
    d.stop().await;
    let before = assert_store_and_file_agree(&state);

    // Same state directory, same meter still at 1011: resumed, not raised again.
    let mut d = start(config.clone());
    let after_restart = d.recorded_polls(&m, 4).await;
    assert!(
        after_restart.iter().all(|a| a.kind == AlertKind::Reminder),
        "only reminders may follow a restart: {after_restart:#?}"
    );
    // A change after the restart is seen against the resumed counters.
    h.bump_counter(0, ShortCode(52), 1).unwrap();
    let grew = d
        .wait_alert(&m, AlertKind::CounterGrew, |a| a.code == Some(52))
        .await;
    assert!(grew.message.contains("from 1 to 2"), "{}", grew.message);
    d.stop().await;

    // A third run that stops at once must not disturb anything either.
    start(config).stop().await;

    let alerts = assert_store_and_file_agree(&state);
    assert_eq!(count(&alerts, &m, AlertKind::StatusChanged), 1);
    assert_eq!(count(&alerts, &m, AlertKind::CounterGrew), 2);
    for a in &before {
        assert!(
            alerts.iter().any(|b| b.id == a.id),
            "alert {} was lost",
            a.id
        );
    }
    assert!(alerts.iter().any(|a| a.id == raised.id));
}
