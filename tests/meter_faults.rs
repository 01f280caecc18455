//! Faults on the line between the session and the scripted meter: a dropped, damaged or
//! duplicated frame in either direction, a meter that falls silent. The read either
//! succeeds with the right value after the HDLC session's bounded recovery, or fails
//! with a typed error; it never returns wrong data. The clock is paused: timeouts cost
//! no real time and nothing sleeps.

mod meter_support;

use std::time::Duration;

use calin_agent::meter::{MeterError, MethodRef};
use calin_agent::protocol::apdu::{Apdu, GetRequest};
use calin_agent::protocol::axdr::Data;
use calin_agent::protocol::hdlc::FailReason;
use meter_support::*;
use tokio::time::Instant;

// Frames the meter sends: 0 = UA, 1 = AARE, 2 = the first GET response.
const FIRST_ANSWER: usize = 2;
// Frames the meter receives: 0 = SNRM, 1 = AARQ, 2 = the first GET request.
const FIRST_REQUEST: usize = 2;

fn energy() -> Data {
    Data::DoubleLongUnsigned(123_456)
}

fn long_value() -> Data {
    Data::OctetString((0..=255u8).cycle().take(1500).collect())
}

async fn read_energy(faults: Faults) -> (calin_agent::meter::Session, Data) {
    let (session, _) = open(standard_meter(), faults, config()).await;
    let mut session = session.expect("associated");
    let value = session
        .get(a("3:1.0.1.8.0.255:2"), None)
        .await
        .expect("no link failure")
        .expect("value");
    (session, value)
}

#[tokio::test(start_paused = true)]
async fn a_lost_answer_is_polled_for_again() {
    let faults = Faults {
        to_client: vec![(FIRST_ANSWER, Fault::Drop)],
        ..Faults::default()
    };
    let (session, value) = read_energy(faults).await;
    assert_eq!(value, energy());
    assert_eq!(session.link_stats().timeouts, 1);
}

#[tokio::test(start_paused = true)]
async fn a_damaged_answer_is_never_taken_as_data() {
    for at in [3, 9, 14, 20] {
        let faults = Faults {
            to_client: vec![(FIRST_ANSWER, Fault::FlipBit(at))],
            ..Faults::default()
        };
        let (session, value) = read_energy(faults).await;
        assert_eq!(value, energy(), "bit flipped at byte {at}");
        assert_eq!(session.link_stats().damaged, 1, "bit flipped at byte {at}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_duplicated_answer_is_not_taken_for_the_next_one() {
    let faults = Faults {
        to_client: vec![(FIRST_ANSWER, Fault::Duplicate)],
        ..Faults::default()
    };
    let (mut session, value) = read_energy(faults).await;
    assert_eq!(value, energy());
    // The next read must get its own answer, not the stale copy of the first.
    let serial = session
        .get(a("1:0.0.96.1.0.255:2"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(serial, Data::OctetString(b"CAL12345678".to_vec()));
    assert_eq!(session.link_stats().duplicates, 1);
}

#[tokio::test(start_paused = true)]
async fn a_lost_request_is_sent_again_once() {
    let faults = Faults {
        to_meter: vec![(FIRST_REQUEST, Fault::Drop)],
        ..Faults::default()
    };
    let (session, log) = open(standard_meter(), faults, config()).await;
    let mut session = session.unwrap();
    let value = session
        .get(a("3:1.0.1.8.0.255:2"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value, energy());
    let gets = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| matches!(r, Apdu::GetRequest(_)))
        .count();
    assert_eq!(gets, 1);
}

#[tokio::test(start_paused = true)]
async fn an_action_whose_answer_is_lost_runs_exactly_once() {
    let faults = Faults {
        to_client: vec![(FIRST_ANSWER, Fault::Drop), (FIRST_ANSWER + 1, Fault::Drop)],
        ..Faults::default()
    };
    let (session, log) = open(standard_meter(), faults, config()).await;
    let mut session = session.unwrap();
    let method = MethodRef {
        class_id: 70,
        obis: obis("0.0.96.3.10.255"),
        method: 1,
    };
    assert_eq!(
        session
            .action(method, Some(Data::Integer(0)))
            .await
            .unwrap(),
        Ok(None)
    );
    let actions = log
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| matches!(r, Apdu::ActionRequest(_)))
        .count();
    assert_eq!(actions, 1);
}

#[tokio::test(start_paused = true)]
async fn a_damaged_segment_of_a_long_answer_is_recovered() {
    // The 1500-byte value comes in 8 blocks, each in two HDLC segments (128-byte
    // information fields): damage one segment in the middle of the third block.
    let faults = Faults {
        to_client: vec![(FIRST_ANSWER + 4, Fault::FlipBit(60))],
        ..Faults::default()
    };
    let (session, _) = open(standard_meter(), faults, config()).await;
    let mut session = session.unwrap();
    let value = session
        .get(a("1:0.0.96.99.0.255:2"), None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(value, long_value());
    assert_eq!(session.link_stats().damaged, 1);
}

#[tokio::test(start_paused = true)]
async fn a_meter_that_falls_silent_fails_after_the_bounded_retries() {
    let faults = Faults {
        to_client: vec![(FIRST_ANSWER, Fault::SilenceFromHere)],
        ..Faults::default()
    };
    let (session, _) = open(standard_meter(), faults, config()).await;
    let mut session = session.unwrap();
    let start = Instant::now();
    let err = session.get(a("3:1.0.1.8.0.255:2"), None).await.unwrap_err();
    match &err {
        MeterError::Link { link, reason } => {
            assert_eq!(link, "in-memory duplex");
            assert_eq!(*reason, FailReason::NoResponse { attempts: 4 });
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_fatal());
    // The first wait and three polls, 500 ms each (plus a burst's inter-char gap).
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(2000) && waited < Duration::from_millis(2200),
        "{waited:?}"
    );
    let again = session.get(a("3:1.0.1.8.0.255:2"), None).await.unwrap_err();
    assert!(
        matches!(again, MeterError::NotAssociated { .. }),
        "{again:?}"
    );
    // Releasing a lost session does not hang or fail.
    session.release().await.unwrap();
}

/// A small deterministic generator (no sleeps, no real randomness: failures reproduce).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn faults(&mut self, frames: usize, count: usize) -> Vec<(usize, Fault)> {
        (0..count)
            .map(|_| {
                let at = FIRST_ANSWER + (self.next() as usize) % frames;
                let fault = match self.next() % 3 {
                    0 => Fault::Drop,
                    1 => Fault::Duplicate,
                    _ => Fault::FlipBit((self.next() % 140) as usize),
                };
                (at, fault)
            })
            .collect()
    }
}

#[tokio::test(start_paused = true)]
async fn random_faults_give_the_right_value_or_a_typed_error() {
    let mut rng = Lcg(0x5eed);
    let (mut ok, mut failed, mut set_aside) = (0, 0, 0);
    for round in 0..40 {
        let heavy = round % 4 == 3;
        let faults = Faults {
            to_client: rng.faults(if heavy { 6 } else { 30 }, if heavy { 10 } else { 3 }),
            to_meter: rng.faults(30, 2),
        };
        let (session, log) = open(standard_meter(), faults.clone(), config()).await;
        let mut session = session.expect("association frames are not faulted");
        let outcome = session.get(a("1:0.0.96.99.0.255:2"), None).await;
        let stats = session.link_stats();
        set_aside += stats.damaged + stats.duplicates + stats.timeouts;
        match outcome {
            Ok(Ok(value)) => {
                assert_eq!(value, long_value(), "round {round}: {faults:?}");
                ok += 1;
            }
            Ok(Err(refusal)) => panic!("round {round}: refused {refusal:?} ({faults:?})"),
            Err(e) => {
                assert!(
                    matches!(e, MeterError::Link { .. }),
                    "round {round}: {e:?} ({faults:?})"
                );
                failed += 1;
            }
        }
        // Each block was asked for at most once per block number: no request replayed.
        let log = log.lock().unwrap();
        let mut nexts: Vec<u32> = log
            .requests
            .iter()
            .filter_map(|r| match r {
                Apdu::GetRequest(GetRequest::Next { block_number, .. }) => Some(*block_number),
                _ => None,
            })
            .collect();
        let n = nexts.len();
        nexts.dedup();
        assert_eq!(nexts.len(), n, "round {round}: a request executed twice");
    }
    assert!(ok >= 25, "most rounds recover: {ok} ok, {failed} failed");
    assert!(
        set_aside >= 60,
        "the faults fired: {set_aside} frames set aside"
    );
}
