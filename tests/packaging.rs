//! The .deb recipe stays consistent without building it (`scripts/package` builds and
//! smoke-tests the real packages): the assets in `[package.metadata.deb]` exist, the
//! unit starts what the package installs as the user the postinst creates, the config
//! is a conffile where the unit and the config expect it, and the scripts parse.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn manifest() -> toml::Table {
    read("Cargo.toml").parse().expect("Cargo.toml parses")
}

fn deb_metadata(manifest: &toml::Table) -> &toml::Table {
    manifest["package"]["metadata"]["deb"]
        .as_table()
        .expect("[package.metadata.deb]")
}

/// Files matching `pattern` (relative to the repo; `*` only in the last component).
fn expand(pattern: &str) -> Vec<PathBuf> {
    let Some((dir, name)) = pattern.rsplit_once('/').filter(|_| pattern.contains('*')) else {
        return vec![PathBuf::from(pattern)];
    };
    let (prefix, suffix) = name.split_once('*').expect("one * in the file name");
    let mut found: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|entry| entry.expect("dir entry").file_name().into_string().unwrap())
        .filter(|f| f.len() >= prefix.len() + suffix.len())
        .filter(|f| f.starts_with(prefix) && f.ends_with(suffix))
        .map(|f| Path::new(dir).join(f))
        .collect();
    found.sort();
    found
}

/// Installed absolute path -> (source in the repo or `target/release/…`, mode).
fn installed_files() -> BTreeMap<String, (PathBuf, String)> {
    let manifest = manifest();
    let bins: Vec<&str> = manifest["bin"]
        .as_array()
        .expect("[[bin]]")
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    let assets = deb_metadata(&manifest)["assets"]
        .as_array()
        .expect("assets = [...]");
    let mut files = BTreeMap::new();
    for asset in assets {
        let fields: Vec<&str> = asset
            .as_array()
            .expect("an asset is [source, dest, mode]")
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let [source, dest, mode] = fields[..] else {
            panic!("asset {asset} is not [source, dest, mode]")
        };
        assert!(
            !dest.starts_with('/'),
            "{dest}: cargo-deb dests are relative"
        );
        let sources = if let Some(bin) = source.strip_prefix("target/release/") {
            // Built by cargo-deb: it must be one of this package's binaries.
            assert!(
                bins.contains(&bin),
                "{source} is not a [[bin]] of calin-agent"
            );
            vec![PathBuf::from(source)]
        } else {
            let found = expand(source);
            assert!(!found.is_empty(), "asset {source} matches no file");
            for f in &found {
                assert!(
                    repo().join(f).is_file(),
                    "asset {} does not exist",
                    f.display()
                );
            }
            found
        };
        for src in sources {
            let target = if dest.ends_with('/') {
                format!("/{dest}{}", src.file_name().unwrap().to_str().unwrap())
            } else {
                assert!(!source.contains('*'), "a glob must go to a directory");
                format!("/{dest}")
            };
            let clash = files.insert(target.clone(), (src, mode.to_string()));
            assert!(clash.is_none(), "two assets install {target}");
        }
    }
    files
}

/// `Key=value` lines of the unit, in order.
fn unit(key: &str) -> Vec<String> {
    read("systemd/calin-agent.service")
        .lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .map(str::to_string)
        .collect()
}

fn one(key: &str) -> String {
    let values = unit(key);
    assert_eq!(values.len(), 1, "{key}= once in the unit");
    values[0].clone()
}

#[test]
fn assets_exist_and_install_the_binary_the_unit_and_the_config() {
    let files = installed_files();
    let (source, mode) = &files["/usr/bin/calin-agent"];
    assert_eq!(source, Path::new("target/release/calin-agent"));
    assert_eq!(mode, "755");
    assert_eq!(
        files["/lib/systemd/system/calin-agent.service"].0,
        Path::new("systemd/calin-agent.service")
    );
    assert!(files.contains_key("/usr/share/doc/calin-agent/README.md"));
    for (path, (_, mode)) in &files {
        assert!(
            u32::from_str_radix(mode, 8).is_ok_and(|m| m & 0o7022 == 0),
            "{path}: mode {mode}"
        );
    }
}

#[test]
fn the_unit_starts_what_the_package_installs() {
    let files = installed_files();
    let mut commands = unit("ExecStartPre");
    commands.extend(unit("ExecStart"));
    assert!(!commands.is_empty());
    for command in &commands {
        let program = command
            .trim_start_matches(['-', '@', '!', '+', ':', '|'])
            .split_whitespace()
            .next()
            .unwrap();
        assert!(
            files.contains_key(program),
            "the unit runs {program}, which the package does not install"
        );
        // Every absolute path the daemon is given (--config FILE, check-config FILE).
        for arg in command.split_whitespace().skip(1) {
            if arg.starts_with('/') {
                assert!(
                    files.contains_key(arg),
                    "the unit reads {arg}, not packaged"
                );
            }
        }
    }
}

#[test]
fn the_config_is_a_conffile_in_the_units_configuration_directory() {
    let files = installed_files();
    let manifest = manifest();
    let dir = one("ConfigurationDirectory");
    let config = format!("/etc/{dir}/agent.toml");
    assert_eq!(files[&config].0, Path::new("config/agent.toml"));
    // cargo-deb makes every file under /etc a conffile; anything listed elsewhere must
    // be packaged too.
    if let Some(listed) = deb_metadata(&manifest).get("conf-files") {
        for f in listed.as_array().expect("conf-files = [...]") {
            let f = f.as_str().unwrap();
            assert!(files.contains_key(f), "conffile {f} is not an asset");
        }
    }
    // The example config keeps its state where the unit's StateDirectory= puts it.
    let example: toml::Table = read("config/agent.toml").parse().unwrap();
    assert_eq!(
        example["agent"]["state_dir"].as_str(),
        Some(format!("/var/lib/{}", one("StateDirectory")).as_str())
    );
}

#[test]
fn postinst_creates_the_units_user_and_lets_it_read_the_config() {
    let manifest = manifest();
    let deb = deb_metadata(&manifest);
    let scripts = deb["maintainer-scripts"]
        .as_str()
        .expect("maintainer-scripts");
    let postinst = read(&format!("{scripts}/postinst"));
    let user = one("User");
    assert_eq!(one("Group"), user, "postinst makes the user's own group");
    assert!(
        postinst.contains(&format!("USER_NAME={user}\n")),
        "postinst does not name {user}"
    );
    assert!(postinst.contains("adduser --system --group"));
    let depends = deb["depends"].as_str().unwrap();
    assert!(depends.contains("adduser"), "postinst uses adduser");
    // A fixed glibc floor (scripts/package checks the binary against it), not "$auto",
    // which would tie the arm64 package to the cross toolchain's libc.
    assert!(
        depends.contains("libc6 (>= 2.34)") && !depends.contains("$auto"),
        "{depends}"
    );
    for group in one("SupplementaryGroups").split_whitespace() {
        assert!(
            postinst.contains(&format!("\"$USER_NAME\" {group}")),
            "postinst does not add {user} to {group}"
        );
    }
    // systemd does not chown a ConfigurationDirectory=, and leaves the mode of an
    // existing one: the package gives it to the user's group with the unit's mode.
    assert!(postinst.contains(&format!(
        "CONF_DIR=/etc/{}\n",
        one("ConfigurationDirectory")
    )));
    assert!(postinst.contains("chown root:\"$USER_NAME\" \"$CONF_DIR\""));
    let mode = one("ConfigurationDirectoryMode");
    assert!(postinst.contains(&format!("chmod {mode} \"$CONF_DIR\"")));
}

#[test]
fn maintainer_scripts_parse_and_talk_to_systemd_only_when_it_runs() {
    let manifest = manifest();
    let dir = deb_metadata(&manifest)["maintainer-scripts"]
        .as_str()
        .unwrap()
        .to_string();
    for name in ["postinst", "prerm", "postrm"] {
        let path = repo().join(&dir).join(name);
        let text = read(&format!("{dir}/{name}"));
        assert!(text.starts_with("#!/bin/sh\n"), "{name}: not a sh script");
        assert!(text.contains("\nset -e\n"), "{name}: no set -e");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert!(mode & 0o111 == 0o111, "{name} is not executable");
        }
        let out = Command::new("sh").arg("-n").arg(&path).output().unwrap();
        assert!(
            out.status.success(),
            "sh -n {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Only enable/disable work without a running manager (a chroot, an image
        // build); every other systemctl call sits inside `if [ -d /run/systemd/system ]`.
        let mut ifs: Vec<bool> = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let code = line.split('#').next().unwrap().trim();
            if code.starts_with("if ") {
                ifs.push(code.contains("[ -d /run/systemd/system ]"));
            } else if code.starts_with("elif ") || code == "else" {
                // Conservative: another branch is not the guarded one.
                *ifs.last_mut().expect("else without if") = false;
            } else if code == "fi" {
                ifs.pop().expect("fi without if");
            }
            if code.contains("command -v systemctl") {
                continue;
            }
            if let Some(rest) = code.split("systemctl ").nth(1) {
                let verb = rest.split_whitespace().next().unwrap_or("");
                let offline = matches!(verb, "enable" | "disable");
                assert!(
                    offline || ifs.contains(&true),
                    "{name}:{}: `systemctl {verb}` without a running systemd",
                    n + 1
                );
            }
        }
        assert!(ifs.is_empty(), "{name}: unbalanced if/fi");
    }
}

#[test]
fn package_script_parses_and_checks_the_packaged_paths() {
    let out = Command::new("bash")
        .args(["-n", "scripts/package"])
        .current_dir(repo())
        .output()
        .expect("bash");
    assert!(
        out.status.success(),
        "bash -n scripts/package: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The paths the script requires in each .deb are ones Cargo.toml installs.
    let script = read("scripts/package");
    let list = script
        .split("\nfiles=(\n")
        .nth(1)
        .and_then(|rest| rest.split("\n)\n").next())
        .expect("files=( ... ) in scripts/package");
    let files = installed_files();
    let mut checked = 0;
    for line in list.lines() {
        let path = line.trim().trim_start_matches('.');
        assert!(files.contains_key(path), "scripts/package expects {path}");
        checked += 1;
    }
    assert_eq!(checked, files.len(), "scripts/package checks every asset");
}
