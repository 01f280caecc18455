//! `calin-agent alerts`: the alerts in the gateway's store, for a technician.

use super::exit;
use crate::agent::{format_unix_ms, MeterId, Store};
use crate::config::{Config, HumanDuration};
use std::io::Write;

/// Unix ms of `--since`: a duration back from now (`24h`, `7d`) or a UTC date
/// (`2026-11-27`).
pub fn parse_since(s: &str, now_ms: i64) -> Result<i64, String> {
    if let Ok(d) = s.parse::<HumanDuration>() {
        let ms = i64::try_from(d.0.as_millis()).unwrap_or(i64::MAX);
        return Ok(now_ms.saturating_sub(ms));
    }
    let parts: Vec<&str> = s.split('-').collect();
    if let [y, m, d] = parts.as_slice() {
        if let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i64>(), m.parse::<u32>(), d.parse::<u32>()) {
            if (1970..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d) {
                return Ok(days_from_civil(y, m, d) * 86_400_000);
            }
        }
    }
    Err(format!(
        "`{s}` is neither a duration back from now (24h, 7d) nor a date (2026-11-27)"
    ))
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

pub fn run(
    config: &Config,
    since: Option<&str>,
    meter: Option<&str>,
    limit: usize,
    as_json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let since = match since.map(|s| parse_since(s, now)).transpose() {
        Ok(s) => s.unwrap_or(0),
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::USAGE;
        }
    };
    let dir = &config.agent.state_dir;
    if !dir.join("state.db").exists() {
        let _ = writeln!(
            err,
            "error: no alert store at {}: the daemon has not run here yet (or set [agent] state_dir)",
            dir.display()
        );
        return exit::UNAVAILABLE;
    }
    // Read-only: the daemon may be running and is the only writer of the store and of
    // the alert file (a second writer could cut a line mid-append or write an alert
    // twice).
    let store = match Store::open_read_only(crate::agent::daemon::store_config(config)) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                err,
                "error: cannot open the store in {}: {e}",
                dir.display()
            );
            return exit::UNAVAILABLE;
        }
    };
    let meter = meter.map(MeterId::new);
    let alerts = match store.alerts(since, meter.as_ref(), limit) {
        Ok(a) => a,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::UNAVAILABLE;
        }
    };
    for a in &alerts {
        let line = if as_json {
            serde_json::to_string(a).unwrap_or_default()
        } else {
            format!(
                "{}  {:<10} {:<8} {:<20} {}",
                format_unix_ms(a.raised_at),
                a.meter.as_str(),
                a.severity,
                a.kind,
                a.message
            )
        };
        if writeln!(out, "{line}").is_err() {
            return exit::SOFTWARE;
        }
    }
    if !as_json && alerts.is_empty() {
        let _ = writeln!(out, "no alerts");
    }
    exit::OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_accepts_durations_and_dates() {
        let now = 1_800_000_000_000;
        assert_eq!(parse_since("24h", now), Ok(now - 86_400_000));
        assert_eq!(parse_since("1970-01-02", now), Ok(86_400_000));
        assert_eq!(parse_since("2026-11-27", now), Ok(1_795_737_600_000));
        assert!(parse_since("yesterday", now).is_err());
        assert!(parse_since("2026-13-01", now).is_err());
    }
}
