//! The one set-up of logs: to standard error (standard output is a command's result), filtered
//! by `RUST_LOG`, as JSON lines for a log collector or as text for a person.
//!
//! Invariant: colour codes are written only to a terminal: a file or a pipe never gets them.

use std::io::IsTerminal;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One JSON object a line: `timestamp`, `level`, `target`, the event's fields at the top
    /// level (`message`, and for the access log `method`, `route`, `status`, ...), and the
    /// request's span when there is one.
    Json,
    /// A line of text for a person; coloured only on a terminal.
    Text,
}

impl LogFormat {
    /// The format when none is asked for: text on a terminal, JSON otherwise (a service's
    /// standard error goes to a journal or a collector).
    pub fn for_stderr() -> Self {
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    }
}

/// The filter when `RUST_LOG` is not set: Esito's own at info (the access log included), and
/// the libraries' warnings.
const DEFAULT_FILTER: &str = "esito=info,warn";

/// Installs the process's subscriber; `None` picks [`LogFormat::for_stderr`].
pub fn init(format: Option<LogFormat>) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| DEFAULT_FILTER.into());
    let terminal = std::io::stderr().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format.unwrap_or_else(LogFormat::for_stderr) {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => builder
            .with_ansi(terminal && std::env::var_os("NO_COLOR").is_none())
            .init(),
    }
}
