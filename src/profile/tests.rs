use super::*;
use std::path::Path;

#[test]
fn builtin_calin_profile_loads_and_follows_the_issue_defaults() {
    let p = ProfileFile::parse(Path::new("calin.toml"), CALIN_PROFILE_TOML)
        .expect("the built-in profile is valid")
        .profile;
    assert_eq!(p, Profile::calin());
    let obj = |r: Reads| p.object(r).expect("mapped").target.to_string();
    assert_eq!(obj(Reads::Short(ShortCode(1))), "3:1.0.1.8.0.255:2");
    assert_eq!(obj(Reads::Short(ShortCode(14))), "71:0.0.17.0.0.255:3");
    assert_eq!(obj(Reads::Short(ShortCode(31))), "3:1.0.1.7.0.255:2");
    assert_eq!(obj(Reads::Short(ShortCode(35))), "3:1.0.13.7.0.255:2");
    assert_eq!(obj(Reads::Short(ShortCode(40))), "1:0.0.96.20.0.255:2");
    assert_eq!(obj(Reads::Short(ShortCode(52))), "1:0.0.96.7.0.255:2");
    assert_eq!(obj(Reads::Relay), "70:0.0.96.3.10.255:2");
    assert_eq!(obj(Reads::Status), "1:0.0.96.5.0.255:2");
    // Every short code of the table is answerable.
    let all: Vec<ShortCode> = crate::codes::SHORT_CODES
        .iter()
        .map(|e| ShortCode(e.code))
        .collect();
    assert_eq!(p.short_codes(), all);
    // Every non-standard entry is marked as such.
    for code in [46, 58, 87] {
        assert_eq!(
            p.object(Reads::Short(ShortCode(code))).unwrap().provenance,
            Provenance::Guess
        );
    }
    assert!(p.events.iter().all(|e| e.provenance == Provenance::Guess));
}

fn parse(text: &str) -> Result<Profile, ConfigError> {
    ProfileFile::parse(Path::new("p.toml"), text).map(|f| f.profile)
}

use crate::config::ConfigError;

#[test]
fn bad_entries_name_line_and_key() {
    let head = "name = \"x\"\n";
    let e = parse(&format!("{head}[[object]]\nreads = \"99\"\nclass = 1\nobis = \"0.0.1.0.0.255\"\nattribute = 2\nprovenance = \"guess\"\n")).unwrap_err();
    assert_eq!(e.line(), Some(3));
    assert!(e.to_string().contains("object[0].reads"), "{e}");
    let e = parse(&format!("{head}[[object]]\nreads = \"01\"\nclass = 3\nobis = \"1.0.1.8.0.255\"\nattribute = 0\nprovenance = \"guess\"\n")).unwrap_err();
    assert_eq!(e.line(), Some(6), "{e}");
    let e = parse(&format!("{head}[[object]]\nreads = \"01\"\nclass = 3\nobis = \"1.0.x.8.0.255\"\nattribute = 2\nprovenance = \"guess\"\n")).unwrap_err();
    assert!(e.to_string().contains("object[0].obis"), "{e}");
    let e = parse(&format!("{head}[[event]]\nreads = \"40\"\nlog = \"0.0.99.98.1.255\"\nevents = [44]\nnth = 1\nprovenance = \"guess\"\n")).unwrap_err();
    assert!(e.to_string().contains("not an event time"), "{e}");
    let e = parse(&format!("{head}[[event]]\nreads = \"41\"\nlog = \"0.0.99.98.1.255\"\nevents = [44]\nnth = 6\nprovenance = \"guess\"\n")).unwrap_err();
    assert_eq!(e.line(), Some(6), "{e}");
    let twice = "[[object]]\nreads = \"status\"\nclass = 1\nobis = \"0.0.96.5.0.255\"\nattribute = 2\nprovenance = \"standard\"\n";
    let e = parse(&format!("{head}{twice}{twice}")).unwrap_err();
    assert!(e.to_string().contains("mapped twice"), "{e}");
    let e = parse(&format!("{head}bogus = 1\n")).unwrap_err();
    assert!(e.to_string().contains("bogus"), "{e}");
}

#[test]
fn attribute_refs_parse_from_the_command_line_form() {
    let a: AttributeRef = "3:1.0.1.8.0.255:2".parse().unwrap();
    assert_eq!(a.class_id, 3);
    assert_eq!(a.obis, ObisCode::new(1, 0, 1, 8, 0, 255));
    assert_eq!(a.attribute, 2);
    assert_eq!(a.to_string(), "3:1.0.1.8.0.255:2");
    for bad in [
        "3:1.0.1.8.0.255",
        "x:1.0.1.8.0.255:2",
        "3:1.0.1.8.0.255:0",
        "3:nope:2",
        "",
    ] {
        assert!(bad.parse::<AttributeRef>().is_err(), "{bad}");
    }
}

#[test]
fn a_site_can_replace_one_entry() {
    let mut p = Profile::calin();
    let entry = ObjectEntry {
        reads: Reads::Short(ShortCode(41)),
        target: "1:0.0.96.20.1.255:2".parse().unwrap(),
        provenance: Provenance::Guess,
        note: None,
    };
    p.set_object(entry.clone());
    assert_eq!(p.object(Reads::Short(ShortCode(41))), Some(&entry));
    assert!(
        p.event(ShortCode(41)).is_none(),
        "the event entry it replaces is gone"
    );
}
