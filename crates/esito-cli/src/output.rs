//! Standard output, written so that a reader that stops early (`esito export | head`) ends the
//! command quietly: a closed pipe is an error the command returns, never a panic, and `main`
//! exits 0 on it without a message.

use std::fmt::Display;
use std::io::Write;

/// Writes `text` and a newline to standard output.
pub fn line(text: impl Display) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()
}

/// Writes `text` as it is to standard output.
pub fn text(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Writes `bytes` as they are to standard output.
pub fn bytes(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Whether the command failed because the reader of its standard output went away: not a
/// failure of the command, so it is not reported.
pub fn reader_went_away(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
