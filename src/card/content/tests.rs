use super::*;
use crate::codes::{CodeOverride, Overrides};

fn card(lookup: &Lookup, mode: Mode) -> CardContent {
    CardContent::build(lookup, Some("Test site"), mode, "2026-11-27")
}

fn with_overrides(list: &[(&str, &str)]) -> Lookup {
    let mut o = Overrides::default();
    for (code, action) in list {
        o.insert(
            code,
            CodeOverride {
                action: Some((*action).to_owned()),
                severity: None,
            },
        )
        .unwrap();
    }
    Lookup::with_overrides(o)
}

/// How many rows print `code`.
fn count(c: &CardContent, code: u32) -> usize {
    c.rows().filter(|r| r.codes.contains(&code)).count()
}

#[test]
fn every_status_and_short_code_is_on_exactly_one_row() {
    let c = card(&Lookup::builtin(), Mode::Postpaid);
    for e in OPERATING_STATUS {
        assert_eq!(count(&c, e.status()), 1, "{}", e.status());
    }
    for e in SHORT_CODES {
        assert_eq!(count(&c, u32::from(e.code)), 1, "short code {}", e.code);
    }
    // The undefined numbers of the family share the unknown row.
    let unknown: Vec<&Row> = c
        .rows()
        .filter(|r| r.category == Category::Unknown)
        .collect();
    assert_eq!(unknown.len(), 1);
    assert_eq!(unknown[0].codes, vec![1002, 1010, 1019, 1020]);
    assert!(unknown[0]
        .action
        .to_lowercase()
        .starts_with("unknown: record the raw value"));
    let total: usize = c.rows().map(|r| r.codes.len()).sum();
    assert_eq!(total, OPERATING_STATUS.len() + 4 + SHORT_CODES.len());
}

#[test]
fn timestamp_codes_share_a_line_per_range() {
    let c = card(&Lookup::builtin(), Mode::Postpaid);
    let labels: Vec<&str> = c.rows().map(|r| r.label.as_str()).collect();
    for range in ["41–45", "47–51", "53–57"] {
        assert!(labels.contains(&range), "{range} in {labels:?}");
    }
    let r = c.rows().find(|r| r.label == "41–45").unwrap();
    assert_eq!(r.codes, vec![41, 42, 43, 44, 45]);
    assert_eq!(r.meaning, "Cover open times 1–5 (1 = latest)");
    // Counts are not merged into the range that follows them.
    assert!(labels.contains(&"40") && labels.contains(&"46") && labels.contains(&"52"));
}

#[test]
fn a_site_override_inside_a_range_splits_it() {
    let c = card(
        &with_overrides(&[("43", "Photograph the seal.")]),
        Mode::Postpaid,
    );
    let labels: Vec<&str> = c
        .rows()
        .filter(|r| r.codes.iter().any(|c| (41..=45).contains(c)))
        .map(|r| r.label.as_str())
        .collect();
    assert_eq!(labels, ["41–42", "43", "44–45"]);
    let r = c.rows().find(|r| r.label == "43").unwrap();
    assert!(r.site_procedure);
    assert_eq!(r.action, "Photograph the seal.");
}

#[test]
fn site_overrides_are_printed_as_written_and_marked() {
    let text = "Use the token on the job card; call the control room if refused.";
    let c = card(&with_overrides(&[("87:8", text)]), Mode::Postpaid);
    let r = c.rows().find(|r| r.codes == [1008]).unwrap();
    assert!(r.site_procedure);
    assert_eq!(r.action, text);
    assert!(c.notes.iter().any(|n| n.title == "SITE"));
    // Rows without an override are not marked, and no SITE note without overrides.
    assert_eq!(c.rows().filter(|r| r.site_procedure).count(), 1);
    let plain = card(&Lookup::builtin(), Mode::Postpaid);
    assert!(plain.rows().all(|r| !r.site_procedure));
    assert!(plain.notes.iter().all(|n| n.title != "SITE"));
}

#[test]
fn credit_codes_do_not_apply_in_postpaid_only() {
    let post = card(&Lookup::builtin(), Mode::Postpaid);
    let pre = card(&Lookup::builtin(), Mode::Prepaid);
    let r = post.rows().find(|r| r.codes == [1001]).unwrap();
    assert!(!r.applies);
    assert!(r.action.contains("Postpaid: ignore"));
    let r = pre.rows().find(|r| r.codes == [1001]).unwrap();
    assert!(r.applies);
    assert!(r.action.contains("credit token"));
    assert!(post.rows().filter(|r| r.codes != [1001]).all(|r| r.applies));
    assert!(post
        .notes
        .iter()
        .any(|n| n.title == "Postpaid" && n.text.contains("1001") && n.text.contains("ignored")));
    assert!(pre.notes.iter().any(|n| n.title == "Prepaid"));
}

#[test]
fn the_commissioning_note_gives_the_default_and_the_site_token() {
    let c = card(&Lookup::builtin(), Mode::Postpaid);
    let n = c
        .notes
        .iter()
        .find(|n| n.title.starts_with("1008"))
        .unwrap();
    assert!(n.text.contains("12345"));
    assert!(n.text.contains("site-specific"));
    let r = c.rows().find(|r| r.codes == [1008]).unwrap();
    assert!(r.action.contains("12345"), "{}", r.action);
}

#[test]
fn the_card_has_its_own_short_wording_for_every_status() {
    for e in OPERATING_STATUS {
        for mode in [Mode::Postpaid, Mode::Prepaid] {
            let a = wording::status_action(e.sub_code, mode)
                .unwrap_or_else(|| panic!("no card wording for {}", e.status()));
            assert!(a.len() <= 95, "{}: {a}", e.status());
            assert!(
                a.len() < e.action.len() + 1,
                "{}: longer than the core",
                e.status()
            );
        }
    }
}

#[test]
fn groups_follow_the_card_order_and_keep_one_category() {
    let c = card(&Lookup::builtin(), Mode::Postpaid);
    for s in &c.sections {
        let order: Vec<usize> = s
            .groups
            .iter()
            .map(|g| Category::ALL.iter().position(|c| *c == g.category).unwrap())
            .collect();
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
        for g in &s.groups {
            assert!(g.rows.iter().all(|r| r.category == g.category));
        }
    }
    let tamper = &c.sections[0].groups[0];
    assert_eq!(tamper.category, Category::Tamper);
    let codes: Vec<u32> = tamper.rows.iter().flat_map(|r| r.codes.clone()).collect();
    assert_eq!(codes, [1005, 1006, 1014, 1015, 1018]);
}

#[test]
fn site_name_date_and_mode_are_carried() {
    let c = CardContent::build(&Lookup::builtin(), None, Mode::Prepaid, "2027-01-02");
    assert_eq!(c.site_name, None);
    assert_eq!(c.date, "2027-01-02");
    assert_eq!(c.mode, Mode::Prepaid);
    assert!(c.generator.starts_with("calin-agent "));
}
