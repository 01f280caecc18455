//! The real `calin-agent run` binary against simulated meters on loopback TCP:
//! exit codes at start, SIGKILL mid-cycle and restart, SIGHUP with a bad and then a
//! good config, SIGTERM within a bound, and the systemd notifications.

mod daemon_support;

use daemon_support::process::{self, spawn, NotifySocket};
use daemon_support::*;
use std::collections::HashSet;
use std::time::Duration;

fn json_logs(text: String) -> String {
    text.replace("log_format = \"text\"", "log_format = \"json\"")
}

#[tokio::test]
async fn a_bad_config_is_refused_at_start_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.toml");
    std::fs::write(
        &path,
        "[agent]\nstate_dir = \"/tmp/x\"\n\n[poll]\nstatus = \"5 minutes\"\n",
    )
    .unwrap();
    let mut agent = spawn(&path, &[]);
    let (status, _) = agent.wait_exit().await;
    assert_eq!(status.code(), Some(78));
    let text: Vec<&str> = agent.seen.iter().map(process::message).collect();
    let expected = format!("{}:5:", path.display());
    assert!(
        agent
            .seen
            .iter()
            .any(|l| l["raw"].as_str().is_some_and(|r| r.contains(&expected))),
        "{text:?}"
    );
    assert!(!dir.path().join("x").exists());
}

#[tokio::test]
async fn an_unusable_or_busy_state_directory_exits_69() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let (path, _) = write_config(dir.path(), &config_text(&file, &[], ""));
    let (status, _) = spawn(&path, &[]).wait_exit().await;
    assert_eq!(status.code(), Some(69));

    // Two daemons on one state directory: the second is refused.
    let state = dir.path().join("state");
    let (path, _) = write_config(dir.path(), &json_logs(config_text(&state, &[], "")));
    let mut first = spawn(&path, &[]);
    first
        .line("running", |l| {
            (process::message(l) == "calin-agent running").then_some(())
        })
        .await;
    let mut second = spawn(&path, &[]);
    let (status, _) = second.wait_exit().await;
    assert_eq!(status.code(), Some(69), "{:#?}", second.seen);
    first.signal(libc::SIGTERM);
    assert!(first.wait_exit().await.0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_cycle_loses_nothing_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(3, 0, 17));
    let addr = hdlc_over_tcp(&sim).await;
    let h = sim.handle();
    let bus = TestBus::tcp("tcp-1", addr, meters(3, 0, 17));
    let (path, _) = write_config(dir.path(), &json_logs(config_text(&state, &[bus], "")));
    let mut logged: Vec<String> = Vec::new();

    // Round 1: two meters in alarm (reminders every second keep the store busy), and
    // a kill right after a commit, while the next meter is being polled.
    h.set_status(0, 1005).unwrap();
    h.set_status(1, 1011).unwrap();
    let mut agent = spawn(&path, &[]);
    agent.alert(&serial(0), "status_changed").await;
    agent.alert(&serial(1), "status_changed").await;
    agent.alert(&serial(0), "reminder").await;
    agent.kill9().await;
    logged.extend(agent.logged_alert_ids());

    // Round 2: restart; a new change is seen, the old ones are not raised again.
    for round in 0..2 {
        let mut agent = spawn(&path, &[]);
        h.bump_counter(2, calin_agent::codes::ShortCode(40), 1)
            .unwrap();
        agent.alert(&serial(2), "counter_grew").await;
        agent.alert(&serial(1), "reminder").await;
        if round == 0 {
            agent.kill9().await;
        } else {
            agent.signal(libc::SIGTERM);
            let (status, _) = agent.wait_exit().await;
            assert!(status.success(), "{:#?}", agent.seen);
        }
        logged.extend(agent.logged_alert_ids());
    }

    let alerts = assert_store_and_file_agree(&state);
    let stored: HashSet<&str> = alerts.iter().map(|a| a.id.as_str()).collect();
    for id in &logged {
        assert!(stored.contains(id.as_str()), "logged alert {id} was lost");
    }
    let unique: HashSet<&String> = logged.iter().collect();
    assert_eq!(unique.len(), logged.len(), "an alert was logged twice");
    use calin_agent::agent::AlertKind::*;
    assert_eq!(count(&alerts, &serial(0), StatusChanged), 1);
    assert_eq!(count(&alerts, &serial(1), StatusChanged), 1);
    assert_eq!(count(&alerts, &serial(2), CounterGrew), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_keeps_the_old_config_when_the_new_one_is_bad_and_applies_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(2, 0, 17));
    let addr = hdlc_over_tcp(&sim).await;
    let h = sim.handle();
    h.set_status(1, 1011).unwrap();
    let one = config_text(&state, &[TestBus::tcp("tcp-1", addr, meters(1, 0, 17))], "");
    let (path, _) = write_config(dir.path(), &json_logs(one.clone()));
    let mut notify = NotifySocket::bind(dir.path());
    let env = [
        ("NOTIFY_SOCKET", notify.path.display().to_string()),
        ("WATCHDOG_USEC", "400000".to_string()),
    ];
    let mut agent = spawn(&path, &env);
    notify.expect("READY=1").await;
    for _ in 0..3 {
        notify.expect("WATCHDOG=1").await;
    }
    let status = notify.expect("STATUS=").await;
    assert!(status.contains("1 meters"), "{status}");

    // A bad config: the error names its line; the old config keeps polling meter 0.
    let bad = json_logs(one.clone()).replace("[poll]", "[poll]\nbogus = 1");
    std::fs::write(&path, &bad).unwrap();
    let line = bad.lines().position(|l| l == "bogus = 1").unwrap() + 1;
    agent.signal(libc::SIGHUP);
    let error = agent
        .line("the refusal", |l| {
            process::message(l)
                .contains("refused")
                .then(|| process::field(l, "error").unwrap_or_default())
        })
        .await;
    assert!(
        error.contains(&format!("{}:{line}:", path.display())),
        "{error}"
    );
    h.set_status(0, 1005).unwrap();
    agent.alert(&serial(0), "status_changed").await;

    // A good config adds meter 1 (status 1011): it is polled from now on.
    let two = config_text(&state, &[TestBus::tcp("tcp-1", addr, meters(2, 0, 17))], "");
    std::fs::write(&path, json_logs(two)).unwrap();
    agent.signal(libc::SIGHUP);
    notify.expect("RELOADING=1").await;
    notify.expect("READY=1").await;
    agent.alert(&serial(1), "status_changed").await;

    agent.signal(libc::SIGTERM);
    notify.expect("STOPPING=1").await;
    let (status, took) = agent.wait_exit().await;
    assert!(status.success(), "{:#?}", agent.seen);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_ends_promptly_even_while_a_silent_meter_is_being_tried() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let sim = simulator(scenario(1, 0, 17));
    let addr = hdlc_over_tcp(&sim).await;
    sim.handle().set_offline(0, true).unwrap();
    // A patient bus: each try at the silent meter takes seconds.
    let text = json_logs(config_text(
        &state,
        &[TestBus::tcp("tcp-1", addr, meters(1, 0, 17))],
        "",
    ))
    .replace("response_timeout = \"300ms\"", "response_timeout = \"3s\"")
    .replace("retries = 1", "retries = 3");
    let (path, _) = write_config(dir.path(), &text);
    let mut agent = spawn(&path, &[]);
    agent
        .line("the link", |l| {
            (process::message(l) == "link open").then_some(())
        })
        .await;
    agent.signal(libc::SIGTERM);
    let (status, took) = agent.wait_exit().await;
    assert!(status.success(), "{:#?}", agent.seen);
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
    assert!(
        agent.seen.iter().any(|l| process::message(l) == "stopped"),
        "{:#?}",
        agent.seen
    );
}
