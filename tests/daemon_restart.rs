//! Stopping and starting the daemon again on the same state directory resumes from
//! the committed state: nothing is raised twice, nothing is lost, and the JSON-lines
//! file and the store still agree.

mod daemon_support;

use calin_agent::agent::AlertKind;
use calin_agent::codes::ShortCode;
use daemon_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_on_the_same_state_raises_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(1, 0, 17));
    let addr = hdlc_over_tcp(&sim).await;
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

/// `agent.alerts_file` outside the state directory: every alert lands there once, across
/// a restart, and the state directory gets no alert file of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_go_to_the_configured_file_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let logs = dir.path().join("log");
    std::fs::create_dir(&logs).unwrap();
    let file = logs.join("alerts.jsonl");
    let sim = simulator(scenario(1, 0, 17));
    let addr = hdlc_over_tcp(&sim).await;
    let h = sim.handle();
    let text = config_text(
        &state,
        &[TestBus::tcp("tcp-1", addr, meters(1, 0, 17))],
        &format!("alerts_file = \"{}\"", file.display()),
    );
    let (_, config) = write_config(dir.path(), &text);
    let store_cfg = calin_agent::agent::daemon::store_config(&config);
    assert_eq!(store_cfg.alert_file_path(), file);
    let m = serial(0);

    let mut d = start(config.clone());
    h.set_status(0, 1011).unwrap();
    d.wait_alert(&m, AlertKind::StatusChanged, |a| a.code == Some(1011))
        .await;
    d.stop().await;
    let first = file_alert_ids_at(&file);
    assert!(!first.is_empty());

    let mut d = start(config);
    h.bump_counter(0, ShortCode(52), 1).unwrap();
    d.wait_alert(&m, AlertKind::CounterGrew, |a| a.code == Some(52))
        .await;
    d.stop().await;

    assert!(
        !state.join("alerts.jsonl").exists(),
        "the state directory got an alert file"
    );
    let ids = file_alert_ids_at(&file);
    assert_eq!(ids[..first.len()], first[..], "appended, never rewritten");
    let alerts = assert_store_and_file_agree_with(store_cfg);
    assert_eq!(count(&alerts, &m, AlertKind::StatusChanged), 1);
    assert_eq!(count(&alerts, &m, AlertKind::CounterGrew), 1);
}
