//! `esito backup`: a consistent copy of a SQLite store in a new file, taken while the service
//! may be writing; for PostgreSQL, the `pg_dump` invocation that does the same (see
//! docs/operations.md, "Backup and restore").
//!
//! Invariant: a backup never overwrites a file, and never creates the database it copies.

use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Args)]
pub struct BackupArgs {
    /// The copy: a file that does not exist yet.
    #[arg(long, value_name = "FILE")]
    to: PathBuf,
    #[arg(long, env = "ESITO_DATABASE", default_value = esito_cli::DEFAULT_DATABASE)]
    database: String,
}

pub async fn run(args: BackupArgs) -> anyhow::Result<()> {
    let shown = esito_store::redacted(&args.database);
    if args.database.starts_with("postgres://") || args.database.starts_with("postgresql://") {
        anyhow::bail!(
            "{shown}: esito backup copies a SQLite store only; back a PostgreSQL store up with its own \
             tools, which take one consistent snapshot while the service writes:\n  \
             pg_dump --format=custom --file={to} '{dump_url}'\n\
             giving the password by PGPASSWORD or ~/.pgpass rather than in the URL; restore \
             into an empty database with\n  \
             pg_restore --no-owner --dbname=NEW_DATABASE_URL {to}",
            to = args.to.display(),
            // The password goes by PGPASSWORD or ~/.pgpass: the URL shown has none.
            dump_url = shown.replacen(":***@", "@", 1)
        );
    }
    anyhow::ensure!(
        !args.to.exists(),
        "--to {}: the file exists; a backup never overwrites one",
        args.to.display()
    );
    let store = esito_cli::connect_existing(&args.database).await?;
    store
        .backup_into(&args.to)
        .await
        .with_context(|| format!("backing {shown} up to {}", args.to.display()))?;
    // The copy is on disk before it is reported: a backup that a power cut can lose is none.
    let copy = std::fs::File::open(&args.to)
        .and_then(|file| file.sync_all().and(file.metadata()))
        .with_context(|| format!("{}: the copy cannot be read back", args.to.display()))?;
    crate::output::line(format_args!(
        "backed up: {shown} to {} ({} bytes); restore by copying it to the database's path \
         while esito is stopped",
        args.to.display(),
        copy.len()
    ))?;
    Ok(())
}
