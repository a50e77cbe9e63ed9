//! The library of `esito-cli`: what the binary `esito` shares with the benchmarks
//! (`esito-bench`): the demo, the synthetic load, the store's connection and a progress bar.

use std::io::IsTerminal;

use anyhow::Context;
use esito_store::Store;

pub mod demo;
pub mod load;
pub mod logging;

/// The database when none is named: the embedded SQLite file in the working directory.
pub const DEFAULT_DATABASE: &str = "sqlite://esito.db";

/// Logs to standard error as [`logging::init`] does when no format is asked for: text on a
/// terminal, JSON lines otherwise.
pub fn init_tracing() {
    logging::init(None);
}

/// Opens the store the URL names, creating a SQLite file that does not exist: for the
/// commands that set a store up or write to it (`serve`, `demo`, `load`, `keys`). An error
/// shows the URL with its password hidden.
pub async fn connect(database: &str) -> anyhow::Result<Store> {
    Store::connect(database)
        .await
        .with_context(|| format!("opening {}", esito_store::redacted(database)))
}

/// Opens a store that must already exist: for the commands that only read (`export`,
/// `indicators`, `settle`, `rebuild`, `backup`), which must not leave an empty database behind
/// a mistyped path. A SQLite file that is missing is an error naming it, and nothing is
/// created.
pub async fn connect_existing(database: &str) -> anyhow::Result<Store> {
    if let Some(file) = esito_store::database_url::sqlite_file(database) {
        anyhow::ensure!(
            file.is_file(),
            "--database {}: there is no SQLite database at {}; nothing was created \
             (`esito serve`, `esito demo` and `esito load` create one)",
            esito_store::redacted(database),
            file.display()
        );
    }
    connect(database).await
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
