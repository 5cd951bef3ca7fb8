//! Logging: human-readable or JSON lines on stderr, filtered by `RUST_LOG`.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

use crate::settings::{LogFormat, Settings};

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(settings: &Settings, default_filter: &str) {
    let chosen = if std::env::var_os("RUST_LOG").is_some() {
        settings.log_filter.as_str()
    } else {
        default_filter
    };
    let filter =
        EnvFilter::try_new(quiet_notices(chosen)).unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = std::io::stderr.with_max_level(tracing::Level::TRACE);
    let result = match settings.log_format {
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init(),
        LogFormat::Text => tracing_subscriber::fmt()
            .with_ansi(std::io::stderr().is_terminal())
            .with_env_filter(filter)
            .with_writer(writer)
            .try_init(),
    };
    // Already installed (several servers in one test process): keep the first.
    drop(result);
}

/// PostgreSQL's NOTICEs ("relation … already exists, skipping" at every migration check)
/// reach the log through sqlx at INFO; they say nothing an operator can act on, so they
/// are silenced unless the filter names sqlx itself.
fn quiet_notices(filter: &str) -> String {
    if filter.trim().is_empty() || filter.contains("sqlx") {
        filter.to_owned()
    } else {
        format!("{filter},sqlx::postgres::notice=warn")
    }
}

#[cfg(test)]
mod tests {
    use super::quiet_notices;

    #[test]
    fn postgres_notices_are_silenced_unless_sqlx_is_named() {
        assert_eq!(quiet_notices("info"), "info,sqlx::postgres::notice=warn");
        assert_eq!(quiet_notices("debug,sqlx=info"), "debug,sqlx=info");
    }
}
