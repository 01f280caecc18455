use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("site.toml"), text)
}

#[test]
fn empty_file_is_the_builtin_default() {
    let c = parse("").unwrap();
    assert_eq!(c.site.mode, Mode::Postpaid);
    assert!(c.lookup.overrides().is_empty());
}

#[test]
fn site_and_overrides_load() {
    let c = parse(
        r#"
[site]
name = "Kabwe North"
mode = "prepaid"

[[code_override]]
code = "1008"
action = "Enter the token from the job card."
severity = "high"
"#,
    )
    .unwrap();
    assert_eq!(c.site.name.as_deref(), Some("Kabwe North"));
    assert_eq!(c.site.mode, Mode::Prepaid);
    let info = c
        .lookup
        .status(crate::codes::OperatingStatus(1008), Mode::Postpaid);
    assert_eq!(info.action, "Enter the token from the job card.");
    assert_eq!(info.severity, Severity::High);
}

#[test]
fn override_of_a_missing_code_names_file_line_key_and_code() {
    let err = parse("[site]\nname = \"x\"\n\n[[code_override]]\ncode = \"1002\"\naction = \"y\"\n")
        .unwrap_err();
    assert_eq!(err.line(), Some(5));
    let msg = err.to_string();
    assert!(msg.starts_with("site.toml:5:"), "{msg}");
    assert!(msg.contains("code_override[0].code"), "{msg}");
    assert!(msg.contains("`1002` does not exist"), "{msg}");
}

#[test]
fn unknown_key_names_the_line_and_key() {
    let err = parse("[site]\nname = \"x\"\nmdoe = \"prepaid\"\n").unwrap_err();
    assert_eq!(err.line(), Some(3));
    let msg = err.to_string();
    assert!(msg.contains("mdoe"), "{msg}");
    assert!(msg.contains("unknown field"), "{msg}");
}

#[test]
fn wrong_value_names_the_line_and_accepted_values() {
    let err = parse("[[code_override]]\ncode = \"1005\"\nseverity = \"hgh\"\n").unwrap_err();
    assert_eq!(err.line(), Some(3));
    let msg = err.to_string();
    assert!(msg.contains("severity"), "{msg}");
    assert!(msg.contains("critical"), "lists the accepted values: {msg}");
}

#[test]
fn syntax_error_has_a_position() {
    let err = parse("[site\nname = 1\n").unwrap_err();
    assert_eq!(err.line(), Some(1));
}

#[test]
fn missing_file_names_the_file() {
    let err = Config::load(Path::new("/nonexistent/calin/agent.toml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/calin/agent.toml"));
}
