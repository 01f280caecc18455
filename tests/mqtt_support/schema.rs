//! A small JSON Schema checker for the payload schemas in `schema/`: exactly the
//! keywords those files use (type, const, enum, required, properties,
//! additionalProperties, items, minimum, oneOf, $ref within and across the files). An
//! unknown keyword fails the check, so a schema cannot quietly use one it ignores.

use serde_json::Value;
use std::path::Path;

const KNOWN: &[&str] = &[
    "$schema",
    "$id",
    "$defs",
    "title",
    "description",
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "minimum",
    "oneOf",
    "$ref",
];

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("schema")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Check `v` against `schema/<file>`; the errors name the JSON path.
pub fn check(file: &str, v: &Value) -> Result<(), Vec<String>> {
    let root = load(file);
    let mut errors = Vec::new();
    walk(file, &root, &root, v, "$", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn resolve(file: &str, root: &Value, r: &str) -> (String, Value, Value) {
    let (doc, frag) = r.split_once('#').unwrap_or((r, ""));
    let (file, root) = if doc.is_empty() {
        (file.to_owned(), root.clone())
    } else {
        (doc.to_owned(), load(doc))
    };
    let mut node = root.clone();
    for part in frag.split('/').filter(|p| !p.is_empty()) {
        node = node
            .get(part)
            .unwrap_or_else(|| panic!("unresolved $ref {r}"))
            .clone();
    }
    (file, root, node)
}

fn type_ok(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        other => panic!("unknown type {other}"),
    }
}

fn walk(file: &str, root: &Value, s: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    let Some(s) = s.as_object() else {
        panic!("{file}: schema at {at} is not an object")
    };
    for k in s.keys() {
        assert!(
            KNOWN.contains(&k.as_str()),
            "{file}: unsupported keyword {k}"
        );
    }
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let (f, rt, node) = resolve(file, root, r);
        walk(&f, &rt, &node, v, at, errors);
    }
    if let Some(t) = s.get("type") {
        let ok = match t {
            Value::String(t) => type_ok(t, v),
            Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap_or(""), v)),
            _ => panic!("bad type keyword"),
        };
        if !ok {
            errors.push(format!("{at}: {v} is not of type {t}"));
            return;
        }
    }
    if let Some(c) = s.get("const") {
        if c != v {
            errors.push(format!("{at}: {v} is not {c}"));
        }
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{at}: {v} is not one of {e:?}"));
        }
    }
    if let (Some(m), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        if n < m {
            errors.push(format!("{at}: {n} < {m}"));
        }
    }
    if let Some(alts) = s.get("oneOf").and_then(Value::as_array) {
        let matching = alts
            .iter()
            .filter(|a| {
                let mut e = Vec::new();
                walk(file, root, a, v, at, &mut e);
                e.is_empty()
            })
            .count();
        if matching != 1 {
            errors.push(format!("{at}: {v} matches {matching} of oneOf"));
        }
    }
    if let Some(obj) = v.as_object() {
        if let Some(req) = s.get("required").and_then(Value::as_array) {
            for r in req.iter().filter_map(Value::as_str) {
                if !obj.contains_key(r) {
                    errors.push(format!("{at}: missing `{r}`"));
                }
            }
        }
        let props = s.get("properties").and_then(Value::as_object);
        for (k, child) in obj {
            let path = format!("{at}.{k}");
            match props.and_then(|p| p.get(k)) {
                Some(ps) => walk(file, root, ps, child, &path, errors),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => errors.push(format!("{path}: not in the schema")),
                    Some(extra @ Value::Object(_)) => walk(file, root, extra, child, &path, errors),
                    _ => {}
                },
            }
        }
    }
    if let (Some(arr), Some(items)) = (v.as_array(), s.get("items")) {
        for (i, child) in arr.iter().enumerate() {
            walk(file, root, items, child, &format!("{at}[{i}]"), errors);
        }
    }
}

/// The schema file of a topic's last level.
pub fn for_topic(topic: &str) -> Option<&'static str> {
    match topic.rsplit('/').next()? {
        "status" => Some("status.json"),
        "reading" => Some("reading.json"),
        "alert" => Some("alert.json"),
        _ => None,
    }
}
