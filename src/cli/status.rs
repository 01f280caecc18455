//! `calin-agent status`: a short summary for a technician at the gateway: meters and
//! their last successful poll, active alerts by category, the MQTT outbox and the
//! broker link.
//!
//! It reads the state database read-only (safe while the daemon runs) and, when the
//! daemon runs, its metrics endpoint for what only the daemon knows (the broker
//! link). It changes nothing.

use super::exit;
use crate::agent::metrics::active_by_category;
use crate::agent::{format_unix_ms, MeterState};
use crate::config::Config;
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

/// How long the daemon's metrics endpoint may take to answer.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the store says.
struct Stored {
    states: Vec<MeterState>,
    /// `None` when the outbox table does not exist (MQTT never configured).
    outbox: Option<(u64, u64, Option<i64>)>,
}

fn read_store(db: &Path) -> Result<Stored, String> {
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| e.to_string())?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| e.to_string())?;
    let mut stmt = conn
        .prepare("SELECT meter, state FROM meter_state ORDER BY meter")
        .map_err(|e| e.to_string())?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .map_err(|e| e.to_string())?;
    let mut states = Vec::new();
    for row in rows {
        let (meter, body) = row.map_err(|e| e.to_string())?;
        states.push(
            serde_json::from_str(&body)
                .map_err(|e| format!("stored state of meter {meter} cannot be read: {e}"))?,
        );
    }
    let has_outbox: Option<String> = conn
        .query_row(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'mqtt_outbox'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(|e| e.to_string())?;
    let outbox = match has_outbox {
        None => None,
        Some(_) => {
            let (depth, oldest): (i64, Option<i64>) = conn
                .query_row(
                    "SELECT count(*), min(queued_at) FROM mqtt_outbox",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .map_err(|e| e.to_string())?;
            let dropped: i64 = conn
                .query_row(
                    "SELECT coalesce(max(dropped), 0) FROM mqtt_outbox_stats WHERE only = 1",
                    [],
                    |r| r.get(0),
                )
                .map_err(|e| e.to_string())?;
            Some((
                u64::try_from(depth).unwrap_or(0),
                u64::try_from(dropped).unwrap_or(0),
                oldest,
            ))
        }
    };
    Ok(Stored { states, outbox })
}

/// Samples of the daemon's metrics by full series name (`name{labels}`).
fn scrape(addr: SocketAddr) -> Result<BTreeMap<String, f64>, String> {
    let mut s = TcpStream::connect_timeout(&addr, SCRAPE_TIMEOUT).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(SCRAPE_TIMEOUT))
        .and_then(|()| s.set_write_timeout(Some(SCRAPE_TIMEOUT)))
        .map_err(|e| e.to_string())?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.take(4 * 1024 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or("not an HTTP answer")?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        return Err(head.lines().next().unwrap_or("").to_owned());
    }
    Ok(parse_samples(body))
}

/// `name{labels} value` lines; comments and unparsable lines are skipped.
fn parse_samples(body: &str) -> BTreeMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// "5 min ago", "3 h ago", "2 d ago".
fn ago(now: i64, at: i64) -> String {
    let s = (now - at).max(0) / 1000;
    match s {
        0..=119 => format!("{s} s ago"),
        120..=7199 => format!("{} min ago", s / 60),
        7200..=172_799 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

/// The broker state the daemon reports, from its metrics.
fn broker_state(samples: &BTreeMap<String, f64>) -> Option<&'static str> {
    ["connected", "disconnected", "disabled"]
        .into_iter()
        .find(|s| samples.get(&format!("calin_mqtt_broker_state{{state=\"{s}\"}}")) == Some(&1.0))
}

pub fn run(config: &Config, as_json: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let dir = &config.agent.state_dir;
    let db = dir.join(crate::agent::store::DB_FILE);
    if !db.exists() {
        let _ = writeln!(
            err,
            "error: no state at {}: the daemon has not run here yet (or set [agent] state_dir)",
            dir.display()
        );
        return exit::UNAVAILABLE;
    }
    let stored = match read_store(&db) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(
                err,
                "error: cannot read the state database {}: {e}",
                db.display()
            );
            return exit::UNAVAILABLE;
        }
    };
    let daemon = if config.metrics.enabled {
        Some(scrape(config.metrics.listen))
    } else {
        None
    };
    let now = now_ms();
    let by_category = active_by_category(&stored.states, &config.lookup);
    // Meters configured but never recorded are shown too.
    let recorded: std::collections::BTreeSet<&str> =
        stored.states.iter().map(|s| s.meter.as_str()).collect();
    let never: Vec<&str> = config
        .buses
        .iter()
        .flat_map(|b| b.meters.iter().map(|m| m.serial.as_str()))
        .filter(|m| !recorded.contains(m))
        .collect();
    let samples = match &daemon {
        Some(Ok(s)) => Some(s),
        _ => None,
    };
    let broker = match (&config.mqtt, samples) {
        (None, _) => "not configured".to_owned(),
        (Some(_), Some(s)) => broker_state(s).unwrap_or("unknown").to_owned(),
        (Some(_), None) => "unknown (the daemon is not answering)".to_owned(),
    };
    if as_json {
        let meters: Vec<serde_json::Value> = stored
            .states
            .iter()
            .map(|s| {
                serde_json::json!({
                    "meter": s.meter,
                    "last_read_at": s.last_read_at,
                    "last_poll_at": s.last_poll_at,
                    "status": s.status,
                    "reachable": !s.unreachable,
                    "consecutive_failures": s.consecutive_failures,
                    "active": s.conditions.len(),
                })
            })
            .chain(never.iter().map(
                |m| serde_json::json!({"meter": m, "last_read_at": null, "last_poll_at": null}),
            ))
            .collect();
        let v = serde_json::json!({
            "state_dir": dir,
            "daemon_running": samples.is_some(),
            "broker": broker,
            "outbox_depth": stored.outbox.map(|o| o.0),
            "outbox_dropped": stored.outbox.map(|o| o.1),
            "active_alerts": by_category,
            "meters": meters,
        });
        return match writeln!(out, "{v}") {
            Ok(()) => exit::OK,
            Err(_) => exit::SOFTWARE,
        };
    }
    let mut t = String::new();
    use std::fmt::Write as _;
    let site = config.site.name.as_deref().unwrap_or("(unnamed site)");
    let _ = writeln!(t, "calin-agent status: {site}, state in {}", dir.display());
    let _ = match &daemon {
        None => writeln!(t, "daemon:  unknown (metrics are off in [metrics])"),
        Some(Ok(_)) => writeln!(t, "daemon:  running (metrics at {})", config.metrics.listen),
        Some(Err(e)) => writeln!(
            t,
            "daemon:  not answering at {} ({e})",
            config.metrics.listen
        ),
    };
    let _ = match &config.mqtt {
        Some(m) => writeln!(
            t,
            "broker:  {broker}: {}:{} as gateway `{}`",
            m.host, m.port, m.gateway
        ),
        None => writeln!(t, "broker:  {broker}"),
    };
    let _ = match stored.outbox {
        None => writeln!(t, "outbox:  none (MQTT has not been used here)"),
        Some((0, dropped, _)) => writeln!(t, "outbox:  empty; {dropped} reading(s) ever dropped"),
        Some((depth, dropped, oldest)) => writeln!(
            t,
            "outbox:  {depth} message(s) waiting, oldest queued {}; {dropped} reading(s) ever dropped",
            oldest.map_or_else(|| "?".to_owned(), |o| ago(now, o))
        ),
    };
    let active: Vec<String> = by_category
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    let _ = writeln!(
        t,
        "alerts:  {}",
        if active.is_empty() {
            "no active conditions".to_owned()
        } else {
            format!("active by category: {}", active.join(", "))
        }
    );
    let _ = writeln!(t, "meters:  {}", stored.states.len() + never.len());
    for s in &stored.states {
        let read = s.last_read_at.map_or_else(
            || "never read".to_owned(),
            |at| format!("last read {} ({})", format_unix_ms(at), ago(now, at)),
        );
        let status = s
            .status
            .map(|st| {
                let info = config
                    .lookup
                    .status(crate::codes::OperatingStatus(st), s.mode);
                format!("status {st} {}", info.meaning)
            })
            .unwrap_or_default();
        let failing = if s.unreachable {
            format!("UNREACHABLE, {} failed poll(s)", s.consecutive_failures)
        } else if s.consecutive_failures > 0 {
            format!("{} failed poll(s)", s.consecutive_failures)
        } else {
            String::new()
        };
        let extra: Vec<&str> = [status.as_str(), failing.as_str()]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect();
        let _ = writeln!(t, "  {:<12} {read}  {}", s.meter.as_str(), extra.join("; "));
    }
    for m in never {
        let _ = writeln!(t, "  {m:<12} never polled");
    }
    match out.write_all(t.as_bytes()) {
        Ok(()) => exit::OK,
        Err(_) => exit::SOFTWARE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_and_broker_state_from_metrics_text() {
        let s = parse_samples(
            "# HELP x\ncalin_outbox_depth 3\ncalin_mqtt_broker_state{state=\"disconnected\"} 0\ncalin_mqtt_broker_state{state=\"connected\"} 1\nbad line\n",
        );
        assert_eq!(s.get("calin_outbox_depth"), Some(&3.0));
        assert_eq!(broker_state(&s), Some("connected"));
        assert_eq!(broker_state(&BTreeMap::new()), None);
    }

    #[test]
    fn ages_read_naturally() {
        assert_eq!(ago(100_000, 90_000), "10 s ago");
        assert_eq!(ago(10 * 60_000, 0), "10 min ago");
        assert_eq!(ago(5 * 3_600_000, 0), "5 h ago");
        assert_eq!(ago(3 * 86_400_000, 0), "3 d ago");
        assert_eq!(ago(0, 5), "0 s ago");
    }
}
