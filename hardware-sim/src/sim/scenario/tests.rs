//! Scenario parsing: the shipped files, defaults, and errors that point at the line.

use super::*;
use crate::protocol::units::Unit;
use crate::sim::fault::FaultKind;

fn meter_toml(extra: &str) -> String {
    format!("[[meter]]\nphysical = 17\nserial = \"123\"\n{extra}")
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse("test.toml", text)
}

fn err(text: &str) -> ScenarioError {
    parse(text).expect_err("should be refused")
}

#[test]
fn builtin_single_scenario_parses_with_every_code() {
    let s = Scenario::parse("single.toml", SINGLE_SCENARIO_TOML).unwrap();
    assert_eq!(s.meters.len(), 1);
    let m = &s.meters[0];
    assert_eq!(m.name, "demo");
    assert_eq!(m.address, HdlcAddress::server(1, Some(17)).unwrap());
    assert_eq!(m.device_name, "CLN47001234567");
    let codes: Vec<u8> = m.codes.keys().map(|c| c.0).collect();
    assert_eq!(codes, [1, 14, 31, 35, 40, 46, 52, 58, 87]);
    let pf = m.codes[&ShortCode(35)];
    assert_eq!(pf.value, 950);
    assert_eq!(
        pf.scaler_unit,
        Some(ScalerUnit {
            scaler: -3,
            unit: Unit::Count
        })
    );
    assert_eq!(
        m.codes[&ShortCode(40)].scaler_unit,
        None,
        "a counter is plain data"
    );
    assert_eq!(m.event_logs.len(), 3);
    assert_eq!(Scenario::builtin(), s);
    assert_eq!(m.public_reads, PublicReads::All);
}

#[test]
fn demo_fleet_parses_with_changes_and_faults() {
    let s = Scenario::demo().unwrap();
    let names: Vec<&str> = s.meters.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        names,
        ["house-1", "shop-2", "farm-3", "kiosk-4", "pump-5", "flat-6"]
    );
    // pump-5 speaks only DL/T 645, flat-6 only its optical port.
    let (pump, flat) = (&s.meters[4], &s.meters[5]);
    assert!(!pump.dlms && pump.dlt645.is_some() && pump.optical.is_none());
    assert!(!flat.dlms && flat.dlt645.is_none() && flat.optical.is_some());
    let farm = &s.meters[2];
    assert_eq!(farm.changes.len(), 2);
    assert_eq!(farm.changes[0].at, Duration::from_secs(20));
    assert_eq!(farm.changes[0].relay, Some(RelayState::Disconnected));
    assert_eq!(
        farm.changes[0].set,
        vec![(ShortCode(31), 0), (ShortCode(87), 11)]
    );
    let kiosk = &s.meters[3];
    assert_eq!(kiosk.changes[0].offline, Some(true));
    assert_eq!(kiosk.faults[0].kind, FaultKind::FlipBit { bit: None });
    assert_eq!(kiosk.faults[0].trigger.probability, Some(0.1));
    assert_eq!(s.start.deviation, -180);
    assert_eq!(s.meter_index("47001000003"), Some(2));
    assert_eq!(s.meter_index("shop-2"), Some(1));
}

#[test]
fn defaults_fill_in_a_minimal_meter() {
    let s = parse(&meter_toml("")).unwrap();
    let m = &s.meters[0];
    assert_eq!(m.name, "123");
    assert_eq!(
        (m.status, m.relay, m.control_mode),
        (1000, RelayState::Connected, 1)
    );
    assert_eq!((m.max_pdu, m.max_info), (512, 128));
    assert_eq!(m.codes[&ShortCode(1)].value, 0);
    assert_eq!(
        m.codes[&ShortCode(1)].data_type,
        IntType::DoubleLongUnsigned
    );
    assert_eq!(m.codes[&ShortCode(14)].scaler_unit, None);
    assert!(m.password.is_none());
}

#[test]
fn password_is_redacted_and_restricts_the_public_client() {
    let s = parse(&meter_toml("password = \"s3cret-pw\"\n")).unwrap();
    let m = &s.meters[0];
    assert_eq!(m.public_reads, PublicReads::Identity);
    let shown = format!("{s:?}");
    assert!(!shown.contains("s3cret"), "{shown}");
    assert!(shown.contains("redacted"));
    assert!(m.password.as_ref().unwrap().matches(b"s3cret-pw"));
    assert!(!m.password.as_ref().unwrap().matches(b"s3cret-px"));
}

#[test]
fn code_values_take_types_units_and_registers_only_take_scalers() {
    let s = parse(&meter_toml(
        "[meter.codes]\n01 = { value = 7, scaler = 2, unit = \"kWh\", type = \"long64-unsigned\" }\n",
    ));
    let e = s.unwrap_err();
    assert_eq!(e.line(), Some(5));
    assert!(e.to_string().contains("kWh"), "{e}");

    let s = parse(&meter_toml(
        "[meter.codes]\n01 = { value = 7, scaler = 2, unit = \"Wh\", type = \"long64-unsigned\" }\n",
    ))
    .unwrap();
    let v = s.meters[0].codes[&ShortCode(1)];
    assert_eq!(v.data_type, IntType::Long64Unsigned);
    assert_eq!(
        v.scaler_unit,
        Some(ScalerUnit {
            scaler: 2,
            unit: Unit::WattHour
        })
    );

    let e = err(&meter_toml(
        "[meter.codes]\n40 = { value = 1, scaler = 1 }\n",
    ));
    assert!(e.to_string().contains("no scaler"), "{e}");
    assert_eq!(e.key(), Some("meter[0].codes.40.scaler"));
}

#[test]
fn errors_name_the_line_and_key() {
    // (text, line, key, words in the message)
    let cases: &[(&str, usize, Option<&str>, &str)] = &[
        ("[[meter]]\nphysical = 17\nserial = \"1\"\ncolour = 3\n", 4, None, "unknown field"),
        ("[[meter]]\nphysical = 3\nserial = \"1\"\n", 2, Some("meter[0].physical"), "outside"),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[meter.codes]\n41 = 5\n",
            5,
            Some("meter[0].codes.41"),
            "event time",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[meter.codes]\n02 = 5\n",
            5,
            Some("meter[0].codes.02"),
            "not a short code",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[meter.codes]\n87 = 30\n",
            5,
            Some("meter[0].codes.87"),
            "sub-code",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[meter.codes]\n35 = 40000\n",
            5,
            Some("meter[0].codes.35"),
            "does not fit",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter]]\nphysical = 17\nserial = \"2\"\n",
            5,
            Some("meter[1].physical"),
            "used twice",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.events]]\nlog = \"0.0.99.98.7.255\"\n",
            5,
            Some("meter[0].events[0].log"),
            "not an event log",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.events]]\nlog = \"0.0.99.98.1.255\"\nentries = [\n{ time = \"2024-05-02T00:00:00\", code = 44 },\n{ time = \"2024-05-01T00:00:00\", code = 44 },\n]\n",
            8,
            Some("meter[0].events[0].entries[1].time"),
            "oldest first",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.change]]\nat = 5\nset = { 40 = -1 }\n",
            6,
            Some("meter[0].change[0].set.40"),
            "does not fit",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.change]]\nat = 5\nrelay = \"open\"\n",
            6,
            Some("meter[0].change[0].relay"),
            "not a relay state",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.fault]]\nkind = \"meltdown\"\n",
            5,
            Some("meter[0].fault[0].kind"),
            "not a fault",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.fault]]\nkind = \"silence\"\ndelay_ms = 5\n",
            6,
            Some("meter[0].fault[0].delay_ms"),
            "takes no",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.fault]]\nkind = \"delay\"\n",
            5,
            Some("meter[0].fault[0].delay_ms"),
            "needs",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.fault]]\nkind = \"silence\"\nfrom = 10\nuntil = 5\n",
            7,
            Some("meter[0].fault[0].until"),
            "after",
        ),
        (
            "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter.fault]]\nkind = \"silence\"\nprobability = 1.5\n",
            6,
            Some("meter[0].fault[0].probability"),
            "0.0..1.0",
        ),
        ("start = \"yesterday\"\n[[meter]]\nphysical = 17\nserial = \"1\"\n", 1, Some("start"), "not a time"),
    ];
    for (text, line, key, words) in cases {
        let e = err(text);
        let shown = e.to_string();
        assert_eq!(e.line(), Some(*line), "{shown}\n--- for:\n{text}");
        assert_eq!(e.key(), *key, "{shown}");
        assert!(shown.contains(words), "`{words}` not in: {shown}");
        assert!(shown.starts_with(&format!("test.toml:{line}:")), "{shown}");
    }
}

#[test]
fn a_scenario_without_meters_is_refused() {
    let e = err("description = \"empty\"\n");
    assert!(e.to_string().contains("at least one [[meter]]"), "{e}");
}

#[test]
fn changes_are_sorted_by_time_and_events_keep_their_log() {
    let s = parse(&meter_toml(
        "[[meter.change]]\nat = 90\noffline = false\n[[meter.change]]\nat = 60.5\noffline = true\nevents = [{ log = \"0.0.99.98.0.255\", code = 1 }]\n",
    ))
    .unwrap();
    let c = &s.meters[0].changes;
    assert_eq!(c[0].at, Duration::from_millis(60_500));
    assert_eq!(c[0].offline, Some(true));
    assert_eq!(c[0].events[0].log, ObisCode::new(0, 0, 99, 98, 0, 255));
    assert_eq!(c[1].at, Duration::from_secs(90));
}

#[test]
fn four_byte_addresses_and_big_physical_addresses() {
    let s = parse("[[meter]]\nphysical = 4660\nserial = \"9\"\n").unwrap();
    assert_eq!(s.meters[0].address.size().len(), 4);
    let s = parse("[[meter]]\nphysical = 17\naddress_size = 4\nserial = \"9\"\n").unwrap();
    assert_eq!(s.meters[0].address.size().len(), 4);
    assert_eq!(s.meters[0].address.lower(), Some(17));
    let e = err("[[meter]]\nphysical = 200\naddress_size = 2\nserial = \"9\"\n");
    assert_eq!(e.key(), Some("meter[0].physical"));
}

/// The key an error names.
fn key_of(e: &ScenarioError) -> String {
    match e {
        ScenarioError::Invalid { key, .. } => key.clone().unwrap_or_default(),
        ScenarioError::Read { .. } => String::new(),
    }
}

#[test]
fn every_meter_speaks_all_three_protocols_by_default() {
    let s = parse(&meter_toml("password = \"12345678\"")).unwrap();
    let m = &s.meters[0];
    assert!(m.dlms);
    let o = m.optical.as_ref().unwrap();
    assert_eq!(o.identification.to_vec(), b"/CLN5\\2CALIN-SIM\r\n");
    assert_eq!(o.address.as_str(), "123");
    assert_eq!(o.password.as_ref().map(|p| p.expose()), Some("12345678"));
    assert_eq!(o.reaction_time, Duration::from_millis(200));
    let d = m.dlt645.unwrap();
    assert_eq!(d.version, crate::protocol::dlt645::Version::V2007);
    assert_eq!(d.address.to_string(), "000000000123");
}

#[test]
fn ports_are_configured_per_meter() {
    let s = parse(&meter_toml(
        "protocols = [\"iec62056-21\", \"dlt645\"]\n\
         [meter.optical]\nmanufacturer = \"ABc\"\nident = \"X1\"\nbaud = 19200\naddress = \"7\"\n\
         password = \"secret\"\nreaction_ms = 20\n\
         [meter.dlt645]\nversion = 1997\naddress = \"000000000042\"\ncredit = 10\n",
    ))
    .unwrap();
    let m = &s.meters[0];
    assert!(!m.dlms);
    let o = m.optical.as_ref().unwrap();
    assert_eq!(
        o.identification.to_vec(),
        b"/ABc6X1\r\n",
        "no mode E without dlms"
    );
    assert_eq!(o.reaction_time, Duration::from_millis(20));
    let d = m.dlt645.unwrap();
    assert_eq!(d.version, crate::protocol::dlt645::Version::V1997);
    assert_eq!(d.address.to_string(), "000000000042");
    assert_eq!(d.credit, crate::protocol::dlt645::Decimal::new(1000, 2));
}

#[test]
fn port_mistakes_name_their_key_and_line() {
    let cases = [
        ("protocols = [\"modbus\"]", "meter[0].protocols", 4),
        ("protocols = []", "meter[0].protocols", 4),
        (
            "protocols = [\"dlms\"]\n[meter.optical]\nbaud = 9600",
            "meter[0].optical",
            5,
        ),
        ("[meter.optical]\nbaud = 1000", "meter[0].optical.baud", 5),
        (
            "[meter.optical]\nident = \"a/b\"",
            "meter[0].optical.ident",
            5,
        ),
        (
            "[meter.optical]\nreaction_ms = 20",
            "meter[0].optical.reaction_ms",
            5,
        ),
        (
            "protocols = [\"iec62056-21\"]\n[meter.optical]\nmode_e = true",
            "meter[0].optical.mode_e",
            6,
        ),
        (
            "[meter.dlt645]\nversion = 2013",
            "meter[0].dlt645.version",
            5,
        ),
        (
            "[meter.dlt645]\naddress = \"12\"",
            "meter[0].dlt645.address",
            5,
        ),
        ("[meter.dlt645]\ncredit = -1.0", "meter[0].dlt645.credit", 5),
    ];
    for (extra, key, line) in cases {
        let e = err(&meter_toml(extra));
        assert_eq!(key_of(&e), key, "{extra}: {e}");
        assert_eq!(e.line(), Some(line), "{extra}: {e}");
    }
    // Two meters may not share a DL/T 645 address (serials 1 and 001 both give ...001).
    let two =
        "[[meter]]\nphysical = 17\nserial = \"1\"\n[[meter]]\nphysical = 18\nserial = \"001\"\n";
    let e = err(two);
    assert_eq!(key_of(&e), "meter[1].dlt645.address", "{e}");
    // A serial without digits needs an explicit address, only when the meter speaks DL/T 645.
    let e = err("[[meter]]\nphysical = 17\nserial = \"ABC\"\n");
    assert_eq!(key_of(&e), "meter[0].dlt645.address", "{e}");
    assert!(parse("[[meter]]\nphysical = 17\nserial = \"ABC\"\nprotocols = [\"dlms\"]\n").is_ok());
}
