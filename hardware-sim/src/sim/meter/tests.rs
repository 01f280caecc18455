//! A meter built from a scenario: objects where the profile says, changes over time.

use super::*;
use crate::protocol::units::{ScalerUnit, Unit};
use crate::sim::scenario::Scenario;

const STATUS: ObisCode = ObisCode::new(0, 0, 96, 5, 0, 255);
const ENERGY: ObisCode = ObisCode::new(1, 0, 1, 8, 0, 255);
const COVER_COUNT: ObisCode = ObisCode::new(0, 0, 96, 20, 0, 255);
const FRAUD_LOG: ObisCode = ObisCode::new(0, 0, 99, 98, 1, 255);
const LIMITER: ObisCode = ObisCode::new(0, 0, 17, 0, 0, 255);

fn demo_meter(i: usize) -> SimMeter {
    let s = Scenario::demo().unwrap();
    SimMeter::new(s.meters[i].clone(), &Profile::calin(), s.start).unwrap()
}

fn single() -> SimMeter {
    let s = Scenario::builtin();
    SimMeter::new(s.meters[0].clone(), &Profile::calin(), s.start).unwrap()
}

#[test]
fn every_profile_object_exists_with_its_class() {
    let m = single();
    let profile = Profile::calin();
    for o in &profile.objects {
        let obj = m
            .objects
            .object(&o.target.obis)
            .unwrap_or_else(|| panic!("{}", o.reads));
        assert_eq!(obj.class_id(), o.target.class_id, "{}", o.reads);
    }
    for e in &profile.events {
        let obj = m.objects.object(&e.log).unwrap();
        assert_eq!(obj.class_id(), 7);
    }
}

#[test]
fn initial_values_follow_the_scenario() {
    let m = single();
    assert_eq!(
        m.objects.object(&ENERGY),
        Some(&CosemObject::Register {
            value: Data::DoubleLongUnsigned(1_234_567),
            scaler_unit: ScalerUnit {
                scaler: 0,
                unit: Unit::WattHour
            }
        })
    );
    assert_eq!(m.reading(Reads::Status), Some(Data::LongUnsigned(1000)));
    assert_eq!(
        m.reading(Reads::Serial),
        Some(Data::OctetString(b"47001234567".to_vec()))
    );
    assert_eq!(m.reading(Reads::Relay), Some(Data::Boolean(true)));
    let Some(CosemObject::Limiter(l)) = m.objects.object(&LIMITER) else {
        panic!()
    };
    assert_eq!(l.threshold_active, Data::DoubleLongUnsigned(6000));
    assert_eq!(l.monitored.1, ObisCode::new(1, 0, 1, 7, 0, 255));
    let snap = m.snapshot();
    assert_eq!(snap.codes[&ShortCode(40)], 1);
    assert_eq!(snap.event_counts[&FRAUD_LOG], 1);
    assert_eq!(snap.relay, Some(RelayState::Connected));
}

#[test]
fn tamper_change_applies_at_its_time_with_the_clock_then() {
    let mut m = demo_meter(1); // shop-2: at 30 s status 1005, cover count + 1, event 44
    assert!(m.advance(Duration::from_secs(29)).is_empty());
    assert_eq!(m.snapshot().status, Some(1000));
    // Applied lazily at 100 s: the event still carries the 30 s time.
    assert_eq!(m.advance(Duration::from_secs(100)).len(), 1);
    let snap = m.snapshot();
    assert_eq!(snap.status, Some(1005));
    assert_eq!(snap.codes[&ShortCode(40)], 1);
    assert_eq!(snap.event_counts[&FRAUD_LOG], 1);
    let Some(CosemObject::ProfileGeneric(pg)) = m.objects.object(&FRAUD_LOG) else {
        panic!()
    };
    let t = pg.buffer[0][0].as_date_time().unwrap();
    assert_eq!((t.time.hour, t.time.minute, t.time.second), (8, 0, 30));
    assert_eq!(t.deviation, -180);
    assert_eq!(pg.buffer[0][1], Data::Unsigned(44));
    assert_eq!(
        m.objects.object(&ObisCode::new(0, 0, 96, 11, 1, 255)),
        Some(&CosemObject::Data(Data::Unsigned(44)))
    );
    assert!(
        m.advance(Duration::from_secs(200)).is_empty(),
        "applied once"
    );
}

#[test]
fn over_voltage_and_recovery_move_the_relay() {
    let mut m = demo_meter(2); // farm-3
    m.advance(Duration::from_secs(20));
    let s = m.snapshot();
    assert_eq!(
        (s.status, s.relay),
        (Some(1011), Some(RelayState::Disconnected))
    );
    assert_eq!(s.codes[&ShortCode(87)], 11);
    m.advance(Duration::from_secs(75));
    let s = m.snapshot();
    assert_eq!(
        (s.status, s.relay),
        (Some(1000), Some(RelayState::Connected))
    );
}

#[test]
fn offline_and_back_bumps_the_power_epoch() {
    let mut m = demo_meter(3); // kiosk-4
    m.advance(Duration::from_secs(45));
    assert!(m.is_offline());
    assert_eq!(m.power_epoch(), 0);
    m.advance(Duration::from_secs(90));
    assert!(!m.is_offline());
    assert_eq!(m.power_epoch(), 1);
    assert_eq!(m.snapshot().codes[&ShortCode(52)], 1);
}

#[test]
fn counters_saturate_at_their_type() {
    let mut m = single();
    m.set_code(ShortCode(87), 300);
    assert_eq!(m.snapshot().codes[&ShortCode(87)], 255);
    m.set_code(ShortCode(40), 5);
    m.add_code(ShortCode(40), -10);
    assert_eq!(m.snapshot().codes[&ShortCode(40)], 0);
    m.add_code(ShortCode(40), 3);
    assert_eq!(
        m.objects.object(&COVER_COUNT),
        Some(&CosemObject::Data(Data::DoubleLongUnsigned(3)))
    );
}

#[test]
fn remote_disconnect_sets_status_and_reason() {
    let mut m = single();
    m.after_relay_change(RelayChange { from: 1, to: 0 });
    assert_eq!(m.snapshot().status, Some(1007));
    assert_eq!(m.snapshot().codes[&ShortCode(87)], 7);
    m.after_relay_change(RelayChange { from: 0, to: 1 });
    assert_eq!(m.snapshot().status, Some(1000));
    m.set_status(1005);
    m.after_relay_change(RelayChange { from: 0, to: 1 });
    assert_eq!(
        m.objects.object(&STATUS),
        Some(&CosemObject::Data(Data::LongUnsigned(1005))),
        "a tamper status stays"
    );
}
