use super::*;
use proptest::prelude::*;

#[test]
fn tables_are_sorted_and_unique() {
    assert!(SHORT_CODES.windows(2).all(|w| w[0].code < w[1].code));
    assert!(OPERATING_STATUS
        .windows(2)
        .all(|w| w[0].sub_code < w[1].sub_code));
    assert!(OPERATING_STATUS.iter().all(|e| e.sub_code <= MAX_SUB_CODE));
}

/// Every row of the guide's status table: status, sub-code, a word of its meaning,
/// category (from the guide's key notes), and a word of its field action.
#[rustfmt::skip]
const GUIDE_STATUS_ROWS: &[(u32, u8, &str, Category, &str)] = &[
    (1000, 0,  "Relay closed",         Category::Normal,           "No action"),
    (1001, 1,  "No credit",            Category::Credit,           "Postpaid: ignore"),
    (1003, 3,  "Over power",           Category::LoadPowerQuality, "trip limit"),
    (1004, 4,  "Relay test",           Category::RelayTest,        "relay was tested"),
    (1005, 5,  "Upper cover",          Category::Tamper,           "clear-tamper token"),
    (1006, 6,  "Terminal cover",       Category::Tamper,           "clear-tamper token"),
    (1007, 7,  "Remote disconnect",    Category::Backend,          "backend/HES"),
    (1008, 8,  "not commissioned",     Category::NotCommissioned,  "12345"),
    (1009, 9,  "Over current",         Category::LoadPowerQuality, "surges"),
    (1011, 11, "Over voltage",         Category::LoadPowerQuality, "too high"),
    (1012, 12, "Under voltage",        Category::LoadPowerQuality, "too low"),
    (1013, 13, "Current reverse",      Category::LoadPowerQuality, "polarity"),
    (1014, 14, "Enclosure cover",      Category::Tamper,           "clear-tamper token"),
    (1015, 15, "Magnetic field",       Category::Tamper,           "magnet"),
    (1016, 16, "Current imbalance",    Category::LoadPowerQuality, "phase imbalance"),
    (1017, 17, "Neutral line",         Category::LoadPowerQuality, "neutral wiring"),
    (1018, 18, "Bypass",               Category::Tamper,           "escalate"),
    (1021, 21, "Voltage imbalance",    Category::LoadPowerQuality, "feeder"),
    (1022, 22, "Thermal overload",     Category::LoadPowerQuality, "cool"),
    (1023, 23, "Low power factor",     Category::LoadPowerQuality, "capacitors"),
    (1024, 24, "Tariff error",         Category::Backend,          "AMI administrator"),
    (1025, 25, "Remote reconnect",     Category::Backend,          "before reconnecting"),
];

#[test]
fn every_guide_status_row_decodes() {
    let lookup = Lookup::builtin();
    assert_eq!(GUIDE_STATUS_ROWS.len(), OPERATING_STATUS.len());
    for &(status, sub, meaning, category, action) in GUIDE_STATUS_ROWS {
        let by_status = lookup.status(OperatingStatus(status), Mode::Postpaid);
        let by_sub = lookup.relay_reason(u32::from(sub), Mode::Postpaid);
        assert_eq!(by_status, by_sub, "{status} and 87:{sub} must be one entry");
        assert!(by_status.known, "{status}");
        assert_eq!(by_status.sub_code, Some(sub));
        assert!(
            by_status.meaning.contains(meaning),
            "{status}: {}",
            by_status.meaning
        );
        assert_eq!(by_status.category, category, "{status}");
        assert!(
            by_status.action.contains(action),
            "{status}: {}",
            by_status.action
        );
        // One clean sentence per cell: no merge debris such as a word glued to the next.
        for text in [&by_status.meaning, &by_status.action, &by_status.detail] {
            assert!(
                !text.contains(";;") && !text.contains("..") && !text.contains(" ."),
                "{text}"
            );
        }
    }
}

#[test]
fn tamper_and_bypass_are_the_most_severe() {
    let lookup = Lookup::builtin();
    let max = OPERATING_STATUS.iter().map(|e| e.severity).max();
    for s in [1005, 1006, 1014, 1015, 1018] {
        let info = lookup.status(OperatingStatus(s), Mode::Postpaid);
        assert_eq!(Some(info.severity), max, "{s}");
        assert_eq!(info.site_visit, SiteVisit::Yes, "{s}");
    }
    for e in OPERATING_STATUS
        .iter()
        .filter(|e| e.category != Category::Tamper)
    {
        assert!(e.severity < Severity::Critical, "{}", e.status());
        assert!(!e.severity_reason.is_empty());
    }
}

#[test]
fn commissioning_action_names_default_and_site_token() {
    let info = Lookup::builtin().status(OperatingStatus(1008), Mode::Postpaid);
    assert!(info.action.contains("12345"));
    assert!(info.action.contains("site-specific"));
}

#[test]
fn credit_is_ignored_in_postpaid_only() {
    let lookup = Lookup::builtin();
    let post = lookup.status(OperatingStatus(1001), Mode::Postpaid);
    let pre = lookup.status(OperatingStatus(1001), Mode::Prepaid);
    assert!(!post.postpaid && !post.relevant);
    assert!(pre.relevant);
    assert_eq!(Mode::default(), Mode::Postpaid);
    // Every other code matters in both modes.
    for e in OPERATING_STATUS.iter().filter(|e| e.sub_code != 1) {
        assert!(
            lookup
                .status(OperatingStatus(e.status()), Mode::Postpaid)
                .relevant
        );
    }
}

#[test]
fn undefined_numbers_are_explicit_unknowns_with_raw_value() {
    let lookup = Lookup::builtin();
    for raw in [1002, 1010, 1019, 1020, 1026, 999, 0, 11001, u32::MAX] {
        let info = lookup.status(OperatingStatus(raw), Mode::Postpaid);
        assert!(!info.known, "{raw}");
        assert_eq!(info.category, Category::Unknown);
        assert_eq!(info.code, raw);
        assert!(info.meaning.contains(&raw.to_string()));
    }
    for sub in [2, 10, 19, 20] {
        let info = lookup.relay_reason(sub, Mode::Prepaid);
        assert!(!info.known);
        assert_eq!(info.sub_code, Some(sub as u8));
        assert_eq!(info.code, 1000 + sub);
    }
    assert_eq!(lookup.relay_reason(26, Mode::Postpaid).sub_code, None);
}

/// Every short code of the guide, with its unit.
#[rustfmt::skip]
const GUIDE_SHORT_ROWS: &[(u8, &str, &str)] = &[
    (1, "kWh", "usage trend"), (14, "kW", "too low"), (31, "kW", "moment of the query"),
    (35, "", "power-factor correction"), (40, "count", "reseal"), (46, "count", "upgrade"),
    (52, "count", "reliability"), (58, "count", "supply-side"), (87, "sub-code", "1000 + sub-code"),
];

#[test]
fn every_guide_short_code_decodes() {
    let lookup = Lookup::builtin();
    for &(code, unit, action) in GUIDE_SHORT_ROWS {
        let info = lookup.short_code(ShortCode(code));
        assert!(info.known, "{code}");
        assert_eq!(info.unit, unit, "{code}");
        assert!(info.action.contains(action), "{code}: {}", info.action);
    }
    for (range, action) in [
        (41..=45, "tamper history"),
        (47..=51, "overloads"),
        (53..=57, "outage"),
    ] {
        for (i, code) in range.enumerate() {
            let info = lookup.short_code(ShortCode(code));
            assert_eq!(info.unit, "timestamp", "{code}");
            assert!(info.action.contains(action), "{code}");
            assert!(
                info.name.ends_with(&(i + 1).to_string()),
                "{code}: {}",
                info.name
            );
        }
    }
    assert_eq!(SHORT_CODES.len(), 9 + 15);
    assert!(!lookup.short_code(ShortCode(2)).known);
    assert!(!lookup.short_code(ShortCode(99)).known);
}

#[test]
fn queries_parse_in_every_accepted_form() {
    let q = |s: &str| s.parse::<CodeQuery>();
    assert_eq!(q("1008"), Ok(CodeQuery::Status(OperatingStatus(1008))));
    assert_eq!(q("87:8"), q("1008"));
    assert_eq!(q("87:08"), q("1008"));
    assert_eq!(q(" 87:08 "), q("1008"));
    assert_eq!(q("40"), Ok(CodeQuery::Short(ShortCode(40))));
    assert_eq!(q("01"), Ok(CodeQuery::Short(ShortCode(1))));
    assert_eq!(q("1"), Ok(CodeQuery::Short(ShortCode(1))));
    assert_eq!(q("87"), Ok(CodeQuery::Short(ShortCode(87))));
    assert_eq!(q("11001"), Ok(CodeQuery::Other(11001)));
    assert_eq!(q("87:99"), Ok(CodeQuery::Status(OperatingStatus(1099))));
    for bad in [
        "",
        "abc",
        "10a8",
        "-1",
        "86:1",
        "87:",
        ":8",
        "87:x",
        "1e3",
        "1234567890123456789",
        "８７",
    ] {
        let err = q(bad).expect_err(bad);
        assert!(
            err.to_string().contains("87:8"),
            "error shows the accepted forms"
        );
    }
}

#[test]
fn overrides_replace_action_and_severity() {
    let mut o = Overrides::default();
    let token = "Enter the site token from the job card.";
    o.insert(
        "87:8",
        CodeOverride {
            action: Some(token.into()),
            severity: Some(Severity::High),
        },
    )
    .unwrap();
    o.insert(
        "40",
        CodeOverride {
            action: Some("Photograph the seal.".into()),
            severity: None,
        },
    )
    .unwrap();
    let lookup = Lookup::with_overrides(o);
    let info = lookup.status(OperatingStatus(1008), Mode::Postpaid);
    assert_eq!(info.action, token);
    assert_eq!(info.severity, Severity::High);
    assert!(info.overridden);
    assert_eq!(
        lookup.short_code(ShortCode(40)).action,
        "Photograph the seal."
    );
    assert!(
        !lookup
            .status(OperatingStatus(1005), Mode::Postpaid)
            .overridden
    );
}

#[test]
fn overrides_for_missing_codes_are_refused_by_name() {
    let mut o = Overrides::default();
    let some = || CodeOverride {
        action: Some("x".into()),
        severity: None,
    };
    assert_eq!(
        o.insert("1002", some()),
        Err(OverrideError::UnknownCode("1002".into()))
    );
    assert_eq!(
        o.insert("99", some()),
        Err(OverrideError::UnknownCode("99".into()))
    );
    assert!(matches!(
        o.insert("nope", some()),
        Err(OverrideError::NotACode(_))
    ));
    assert_eq!(
        o.insert("1008", CodeOverride::default()),
        Err(OverrideError::Empty("1008".into()))
    );
    o.insert("1008", some()).unwrap();
    assert_eq!(
        o.insert("87:08", some()),
        Err(OverrideError::Duplicate("87:08".into()))
    );
    let sev = CodeOverride {
        action: None,
        severity: Some(Severity::Low),
    };
    assert_eq!(
        o.insert("40", sev),
        Err(OverrideError::SeverityOnShortCode("40".into()))
    );
}

proptest! {
    #[test]
    fn any_string_parses_or_fails_cleanly(s in "\\PC{0,24}") {
        let lookup = Lookup::builtin();
        match s.parse::<CodeQuery>() {
            Ok(CodeQuery::Status(st)) => { lookup.status(st, Mode::Prepaid); }
            Ok(CodeQuery::Short(c)) => { lookup.short_code(c); }
            Ok(CodeQuery::Other(_)) => {}
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    #[test]
    fn digit_strings_always_parse(s in "[0-9]{1,18}") {
        prop_assert!(s.parse::<CodeQuery>().is_ok());
    }

    #[test]
    fn any_status_decodes(raw in any::<u32>()) {
        let info = Lookup::builtin().status(OperatingStatus(raw), Mode::Postpaid);
        prop_assert_eq!(info.code, raw);
        prop_assert_eq!(info.known, info.category != Category::Unknown);
    }
}
