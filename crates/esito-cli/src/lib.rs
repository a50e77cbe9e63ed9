//! The library of `esito-cli`: what the binary `esito` shares with the benchmarks
//! (`esito-bench`): the demo, the synthetic load, the store's connection and a progress bar.

use std::io::IsTerminal;

use anyhow::Context;
use esito_store::Store;

pub mod demo;
pub mod load;

/// The database when none is named: the embedded SQLite file in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://esito.db";

/// Logs to standard error, filtered by `RUST_LOG` (default: Esito's own at info, others'
/// warnings); standard output is the command's result.
pub fn init_tracing() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "esito=info,warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}

pub async fn connect(database: &str) -> anyhow::Result<Store> {
    Store::connect(database)
        .await
        .with_context(|| format!("opening {database}"))
}

/// A progress bar on standard error when it is a terminal; hidden otherwise.
pub fn progress_bar(length: u64, what: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(length);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} entries, {per_sec}, eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    bar
}
