//! `probe --trace` lines: every chunk with its frames decoded, damaged frames named,
//! the password never shown; and the wrapper framing's "no answer".

mod meter_support;

use std::sync::{Arc, Mutex};

use calin_agent::config::Secret;
use calin_agent::meter::trace::{traced, TraceLine};
use calin_agent::meter::{Framing, MeterError, Session};
use calin_agent::transport::Direction;
use meter_support::*;

#[tokio::test(start_paused = true)]
async fn trace_lines_decode_frames_and_hide_the_password() {
    let mut meter = standard_meter();
    meter.password = Some(b"S3CRETPW".to_vec());
    let faults = Faults {
        to_client: vec![(2, Fault::FlipBit(12))],
        ..Faults::default()
    };
    let (client, server) = tokio::io::duplex(8192);
    let _meter = spawn_meter(server, meter, faults);
    let lines: Arc<Mutex<Vec<TraceLine>>> = Arc::default();
    let sink = lines.clone();
    let link = traced(Box::new(client), Framing::Hdlc, move |line| {
        sink.lock().unwrap().push(line)
    });
    let mut c = config();
    c.client = 1;
    c.password = Some(Secret::new(b"S3CRETPW".to_vec()));
    let mut session = Session::open(link, c).await.unwrap();
    session
        .get(a("3:1.0.1.8.0.255:2"), None)
        .await
        .unwrap()
        .unwrap();
    session.release().await.unwrap();

    let lines = lines.lock().unwrap();
    let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
    let all = text.join("\n");
    assert!(
        lines[0].direction == Direction::Sent && all.contains("SNRM"),
        "{all}"
    );
    assert!(all.contains("= HDLC 1/17 (2 bytes) -> 1 UA"), "{all}");
    assert!(
        all.contains("AARQ LogicalName, mechanism Some(Low)"),
        "{all}"
    );
    assert!(all.contains("AARE Accepted"), "{all}");
    assert!(
        all.contains("GET-Request-Normal #1 3:1.0.1.8.0.255:2"),
        "{all}"
    );
    assert!(all.contains("damaged frame, not taken as data"), "{all}");
    assert!(
        all.contains("RR N(R)="),
        "the poll after the damaged frame: {all}"
    );
    assert!(all.contains("RLRQ") && all.contains("DISC"), "{all}");
    // The password's bytes (53 33 43 52 45 54 50 57) appear nowhere.
    assert!(!all.contains("53 33 43 52 45 54 50 57"), "{all}");
    assert!(!all.contains("S3CRETPW"), "{all}");
    assert!(all.contains("2A 2A 2A 2A 2A 2A 2A 2A"), "{all}");
    // Times are relative to the start and never go backwards.
    assert!(lines.windows(2).all(|w| w[0].at <= w[1].at));
}

#[tokio::test(start_paused = true)]
async fn wrapper_without_an_answer_names_the_port() {
    let (client, _silent) = tokio::io::duplex(1024);
    let mut c = config();
    c.framing = Framing::Wrapper {
        client_wport: 16,
        server_wport: 1,
    };
    let err = Session::open(Box::new(client), c).await.unwrap_err();
    match err {
        MeterError::NoAnswer { link, address } => {
            assert_eq!(link, "in-memory duplex");
            assert_eq!(address, "wrapper port 1");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_whole_answer_costs_no_inter_character_wait() {
    let (session, _) = open(standard_meter(), Faults::default(), config()).await;
    let mut session = session.unwrap();
    let start = tokio::time::Instant::now();
    for _ in 0..10 {
        session
            .get(a("1:0.0.96.99.0.255:2"), None)
            .await
            .unwrap()
            .unwrap();
    }
    // Ten reads of 8 blocks each: with a 20 ms inter-character wait per answer this
    // would take seconds of (virtual) time.
    assert!(
        start.elapsed() < config().inter_char_timeout,
        "{:?}",
        start.elapsed()
    );
}
