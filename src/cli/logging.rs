//! Where the daemon's log goes: journald under systemd, JSON lines or human text
//! otherwise. A missing journal socket falls back to text, it never stops the agent.

use crate::config::LogFormat;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// What was actually chosen (for a log line at start-up and for tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogTarget {
    Journald,
    Json,
    Text,
}

/// Decide the target: `auto` is journald when systemd connected stderr to the journal
/// (`JOURNAL_STREAM` set), text otherwise.
pub fn choose(format: LogFormat, journal_stream: bool) -> LogTarget {
    match format {
        LogFormat::Journald => LogTarget::Journald,
        LogFormat::Json => LogTarget::Json,
        LogFormat::Text => LogTarget::Text,
        LogFormat::Auto if journal_stream => LogTarget::Journald,
        LogFormat::Auto => LogTarget::Text,
    }
}

/// Install the global subscriber; returns the target in use. Safe to call once per
/// process; a second call keeps the first subscriber.
pub fn init(format: LogFormat) -> LogTarget {
    let filter = EnvFilter::try_from_env("CALIN_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let wanted = choose(format, std::env::var_os("JOURNAL_STREAM").is_some());
    let target = match wanted {
        LogTarget::Journald => match tracing_journald::layer() {
            Ok(layer) => {
                let _ = tracing_subscriber::registry()
                    .with(filter)
                    .with(layer.with_syslog_identifier("calin-agent".into()))
                    .try_init();
                return LogTarget::Journald;
            }
            Err(e) => {
                eprintln!("calin-agent: no journal socket ({e}); logging to stderr as text");
                LogTarget::Text
            }
        },
        other => other,
    };
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let _ = match target {
        LogTarget::Json => tracing_subscriber::registry()
            .with(filter)
            .with(fmt.json())
            .try_init(),
        _ => tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init(),
    };
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_follows_the_journal_stream() {
        assert_eq!(choose(LogFormat::Auto, true), LogTarget::Journald);
        assert_eq!(choose(LogFormat::Auto, false), LogTarget::Text);
        assert_eq!(choose(LogFormat::Json, true), LogTarget::Json);
    }

    #[test]
    fn journald_without_a_socket_falls_back() {
        // No journald runs in the test sandbox: the layer cannot connect, and we must
        // still get a working (text) subscriber rather than an error.
        if std::path::Path::new("/run/systemd/journal/socket").exists() {
            return;
        }
        assert_eq!(init(LogFormat::Journald), LogTarget::Text);
        tracing::info!("logging works after the fallback");
    }
}
