//! The protocol and codes layers stay pure (ARCHITECTURE.md): no tokio, no clock, no I/O.

use std::path::Path;

const FORBIDDEN: &[&str] = &[
    "tokio",
    "std::net",
    "std::fs",
    "std::thread",
    "std::time::Instant",
    "std::time::SystemTime",
    "std::io::Read",
];

fn scan(dir: &Path, hits: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            scan(&path, hits);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                if FORBIDDEN.iter().any(|f| code.contains(f)) {
                    hits.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
    }
}

#[test]
fn protocol_and_codes_do_no_io() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut hits = Vec::new();
    for layer in ["protocol", "codes"] {
        scan(&root.join(layer), &mut hits);
    }
    assert!(
        hits.is_empty(),
        "I/O or clock in a pure layer:\n{}",
        hits.join("\n")
    );
}
