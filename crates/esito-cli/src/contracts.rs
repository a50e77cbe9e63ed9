//! `esito contracts create --file CONTRACT.toml`: a whole contract registered from one file
//! (`docs/contracts.md`), by the same reading as `POST /v1/contracts` with a `file` member.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use esito_cli::{connect, DEFAULT_DATABASE};

#[derive(Subcommand)]
pub enum ContractsCommand {
    /// Registers the contract a file describes: its registration, then its terms from its
    /// first day, both written or neither.
    Create(CreateArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// The contract file (TOML, docs/contracts.md).
    #[arg(long)]
    file: PathBuf,
    #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
    database: String,
    /// Who the log records as having written it.
    #[arg(long, default_value = "admin")]
    principal: String,
}

pub async fn run(command: ContractsCommand) -> anyhow::Result<()> {
    let ContractsCommand::Create(args) = command;
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let (contract, submissions) =
        esito_api::contract_file::submissions(&text).map_err(|error| {
            anyhow::anyhow!("{}: {} ({})", args.file.display(), error.detail, error.code)
        })?;
    let store = connect(&args.database).await?;
    let outcomes = store
        .append(&contract, &args.principal, &submissions)
        .await
        .map_err(|error| anyhow::anyhow!("{}: {error}", args.file.display()))?;
    for outcome in outcomes {
        crate::output::line(format_args!(
            "{contract} position {} event {}",
            outcome.position, outcome.event_id
        ))?;
    }
    Ok(())
}
