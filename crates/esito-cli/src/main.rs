//! The binary `esito`: settings, telemetry, wiring and subcommands.

mod backup;
mod contracts;
mod export;
mod fetch;
mod import;
mod indicators;
mod output;
mod serve;
mod settle;
mod signing_key;
mod vault_key;
mod verify;

use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use esito_cli::logging::LogFormat;
use esito_cli::{connect, connect_existing, demo, load, DEFAULT_DATABASE};
use esito_domain::ContractId;

#[derive(Parser)]
#[command(
    name = "esito",
    version,
    about = "The ledger of outcome-based social contracts"
)]
struct Cli {
    /// How log lines are written to standard error: `json` (one object a line) or `text`.
    /// Default: text on a terminal, JSON otherwise.
    #[arg(long, global = true, env = "ESITO_LOG_FORMAT", value_enum)]
    log_format: Option<LogFormat>,
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Serve the HTTP API.
    Serve {
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
        #[arg(long, env = "ESITO_LISTEN", default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// The Ed25519 key that signs checkpoints: created (mode 0600) if missing.
        #[arg(long, env = "ESITO_SIGNING_KEY", default_value = "esito-signing.key")]
        signing_key: PathBuf,
        /// The identity vault's master key: created (mode 0600) on first start. If it is lost
        /// the vault cannot be read, and everything else still works.
        #[arg(long, env = "ESITO_VAULT_KEY", default_value = "esito-vault.key")]
        vault_key: PathBuf,
    },
    /// The identity vault.
    Vault {
        #[command(subcommand)]
        command: VaultCommand,
    },
    /// Load the demo programmes; running it again adds nothing.
    Demo {
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
    /// Write a consistent copy of a SQLite store to a new file while the service may be
    /// writing; for PostgreSQL, print the `pg_dump` invocation that does it.
    Backup(backup::BackupArgs),
    /// Write a contract's export (JSON Lines) to standard output, from the database or, with
    /// `--url`, from a running service.
    Export {
        #[arg(long)]
        contract: String,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
        /// The service's base URL (`http://host:port`): fetch the export from it rather than
        /// reading a database.
        #[arg(long, requires = "key")]
        url: Option<String>,
        /// A bearer key of an evaluator, payer, funder or admin (with `--url`).
        #[arg(long, env = "ESITO_KEY", requires = "url", hide_env_values = true)]
        key: Option<String>,
        /// Only the entries after this position, and the checkpoints above it (with `--url`).
        #[arg(long, requires = "url", default_value_t = 0)]
        after: u64,
        /// Write to this file, which appears only once the export is whole (with `--url`;
        /// default: standard output).
        #[arg(long, requires = "url")]
        output: Option<PathBuf>,
        /// `jsonl`: the log, as `esito verify` reads it; `indigo`: one INDIGO project.json
        /// (from the database).
        #[arg(long, value_enum, default_value_t = export::ExportFormat::Jsonl, conflicts_with = "url")]
        format: export::ExportFormat,
    },
    /// Rebuild the indicators' projection from the log, for one contract or all.
    Rebuild {
        #[arg(long)]
        contract: Option<String>,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
    /// The indicators of a period as JSON, as `GET /v1/contracts/{id}/indicators` returns them:
    /// offline from an export alone, or from the store.
    Indicators {
        /// An export to verify and compute from, trusting nothing else.
        #[arg(long, value_name = "EXPORT", conflicts_with_all = ["contract"])]
        offline: Option<PathBuf>,
        /// `2024`, `2024-H1`, `2024-Q1` or `2024-03`.
        #[arg(long)]
        period: String,
        /// The log position the values are computed as of (default: the last).
        #[arg(long)]
        as_of: Option<u64>,
        /// Indicator definitions to use instead of those the export records (offline only).
        #[arg(long, requires = "offline")]
        definitions: Option<PathBuf>,
        /// The contract, when reading the store.
        #[arg(long, required_unless_present = "offline")]
        contract: Option<String>,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
        /// `json`, or `csv`: one row per indicator, for spreadsheets.
        #[arg(long, value_enum, default_value_t = TableFormat::Json)]
        format: TableFormat,
    },
    /// A period's settlement as JSON (the document `GET /v1/contracts/{id}/settlements/{period}`
    /// holds): offline from an export alone, or from the store as the service would calculate
    /// it now (nothing is recorded).
    Settle {
        /// An export to verify and compute from, trusting nothing else.
        #[arg(long, value_name = "EXPORT", conflicts_with_all = ["contract"])]
        offline: Option<PathBuf>,
        /// `2024`, `2024-H1`, `2024-Q1` or `2024-03`.
        #[arg(long)]
        period: String,
        /// The log position to settle as of (offline only). Default: the position the export's
        /// own settlement of the period was computed as of, or else the last.
        #[arg(long, requires = "offline")]
        as_of: Option<u64>,
        /// Indicator definitions to use instead of those the export records (offline only).
        #[arg(long, requires = "offline")]
        definitions: Option<PathBuf>,
        /// Print the printable HTML page instead of the JSON document; offline, with the acts
        /// the export records (the RUP's certification, the determina, the mandato).
        #[arg(long, conflicts_with = "format")]
        html: bool,
        /// `json`, or `csv`: one row per line and the totals, for spreadsheets.
        #[arg(long, value_enum, default_value_t = TableFormat::Json)]
        format: TableFormat,
        /// The contract, when reading the store.
        #[arg(long, required_unless_present = "offline")]
        contract: Option<String>,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
    /// Contracts from files: `create --file CONTRACT.toml` registers a whole contract
    /// (docs/contracts.md).
    Contracts {
        #[command(subcommand)]
        command: contracts::ContractsCommand,
    },
    /// Bearer keys (list, create, revoke), and rotation of the checkpoint signing key.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Commands from a CSV file, one row each: every row checked first, nothing written
    /// while one is bad (unless --skip-invalid); importing the same file again writes nothing.
    Import(import::ImportArgs),
    /// Verify an export: re-hash every entry, check positions, tree heads, checkpoints and
    /// their signatures, and that it extends a checkpoint kept from before.
    Verify(verify::VerifyArgs),
    /// Append synthetic centre accesses from concurrent writers, printing each acknowledged
    /// event id as soon as its transaction commits (for durability tests and load).
    #[command(hide = true)]
    Load(load::LoadArgs),
}

/// What `esito indicators` and `esito settle` print.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum TableFormat {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum VaultCommand {
    /// Replace the vault's master key: every data key is rewrapped under a new key file (mode
    /// 0600), in one transaction. Restart `esito serve` afterwards.
    RotateMasterKey {
        #[arg(long, env = "ESITO_VAULT_KEY", default_value = "esito-vault.key")]
        vault_key: PathBuf,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// List every key: id, role, contracts, created, last used, expiry, revocation; never a key.
    List {
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
    /// Create a key; it is printed once and only its hash is stored.
    Create {
        /// admin, operator, provider, payer, funder or evaluator.
        #[arg(long)]
        role: String,
        /// A contract the key may touch (repeat for several; none: every contract, admin only).
        #[arg(long = "contract")]
        contracts: Vec<String>,
        /// For a provider's key: the provider id it speaks for.
        #[arg(long)]
        provider: Option<String>,
        /// Who holds the key, recorded as `recorded_by` on what it writes.
        #[arg(long)]
        principal: Option<String>,
        /// How long the key works: `90d`, `12h` or `30m` (default: until revoked).
        #[arg(long)]
        expires_in: Option<String>,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
    /// Revoke a key by its id (as `esito keys list` shows it): every running `esito serve`
    /// refuses it within a second.
    Revoke {
        /// The key's id: 16 hex digits.
        id: String,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
    /// Replace the checkpoint signing key: a new key file (mode 0600) in place of the old one,
    /// whose public key stays recorded so that its checkpoints stay verifiable. Restart
    /// `esito serve` afterwards: the old key signs nothing more.
    RotateSigning {
        /// The key file `esito serve` signs with.
        #[arg(long, env = "ESITO_SIGNING_KEY", default_value = "esito-signing.key")]
        signing_key: PathBuf,
        #[arg(long, env = "ESITO_DATABASE", default_value = DEFAULT_DATABASE)]
        database: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    esito_cli::logging::init(cli.log_format);
    // What a binary without the four built-in files computes: an export's own definitions
    // text alone (docs/evaluator-guide.md). For checking that claim; a service never sets it.
    if std::env::var_os("ESITO_HIDE_BUILT_IN_DEFINITIONS").is_some_and(|value| value == "1") {
        esito_indicators::templates::hide_built_ins();
    }
    // A command whose result is its standard output ends quietly when the reader goes away;
    // the service and the load, whose output is no result, fail as on any other error.
    let output_is_the_result = !matches!(cli.command, Commands::Serve { .. } | Commands::Load(_));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(error) if output_is_the_result && output::reader_went_away(&error) => ExitCode::SUCCESS,
        Err(error) => {
            // A database URL quoted anywhere in the chain shows no password.
            eprintln!("esito: {}", esito_store::redacted(&format!("{error:#}")));
            ExitCode::FAILURE
        }
    }
}

/// Prints the process's peak resident memory (Linux `VmHWM`) to standard error, for the
/// benchmarks (`esito-bench`), which run `esito` in a process of its own to read it.
fn report_peak_memory() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    if let Some(kib) = status.lines().find_map(|line| line.strip_prefix("VmHWM:")) {
        eprintln!("peak_rss_kib={}", kib.trim().trim_end_matches("kB").trim());
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Commands::Serve {
            database,
            listen,
            signing_key,
            vault_key,
        } => {
            serve::serve(connect(&database).await?, listen, &signing_key, &vault_key).await?;
        }
        Commands::Vault {
            command:
                VaultCommand::RotateMasterKey {
                    vault_key,
                    database,
                },
        } => {
            let store = connect_existing(&database).await?;
            let rotation = vault_key::rotate(&vault_key, &store).await?;
            output::line(format_args!(
                "vault master key {} replaces {}: {} data keys rewrapped; restart esito serve",
                rotation.new_key_id, rotation.old_key_id, rotation.rewrapped
            ))?;
        }
        Commands::Demo { database } => {
            let store = connect(&database).await?;
            let summary = demo::load(&store).await?;
            output::line(summary)?;
            output::line("demo keys (public: for the demo only):")?;
            for (role, key, provider) in demo::demo_keys() {
                let scope = provider.map_or(String::new(), |p| format!(", provider {p}"));
                output::line(format_args!("  {:<10} {key}{scope}", role.as_str()))?;
            }
        }
        Commands::Export {
            contract,
            url: Some(url),
            key: Some(key),
            after,
            output,
            ..
        } => {
            let contract = ContractId::parse(&contract).context("--contract")?;
            let remote = fetch::Remote {
                url: &url,
                key: &key,
                contract: &contract,
                after,
            };
            fetch::export(&remote, output.as_deref()).await?;
        }
        Commands::Export {
            contract,
            database,
            format: export::ExportFormat::Indigo,
            ..
        } => {
            let contract = ContractId::parse(&contract).context("--contract")?;
            export::indigo(&database, &contract).await?;
        }
        Commands::Export {
            contract, database, ..
        } => {
            let contract = ContractId::parse(&contract).context("--contract")?;
            let store = connect_existing(&database).await?;
            if store.head(&contract).await?.is_none() {
                anyhow::bail!(
                    "contract {contract} has no entries in {}",
                    esito_store::redacted(&database)
                );
            }
            let mut out = BufWriter::new(std::io::stdout().lock());
            store.export(&contract, &mut out).await?;
            out.flush()?;
        }
        Commands::Rebuild { contract, database } => {
            let store = connect_existing(&database).await?;
            for (contract, size) in indicators::rebuild(&store, contract.as_deref()).await? {
                output::line(format_args!(
                    "rebuilt: {contract}, {size} entries projected"
                ))?;
            }
            if std::env::var_os("ESITO_REPORT_PEAK_MEMORY").is_some() {
                report_peak_memory();
            }
        }
        Commands::Indicators {
            offline,
            period,
            as_of,
            definitions,
            contract,
            database,
            format,
        } => {
            let period: esito_indicators::Period = period.parse().context("--period")?;
            let report = match (offline, contract) {
                (Some(file), _) => {
                    indicators::offline(&file, period, as_of, definitions.as_deref())?
                }
                (None, Some(contract)) => {
                    let contract = ContractId::parse(&contract).context("--contract")?;
                    connect_existing(&database)
                        .await?
                        .indicators(&contract, period, as_of)
                        .await?
                }
                (None, None) => anyhow::bail!("give --offline EXPORT or --contract ID"),
            };
            match format {
                TableFormat::Json => output::line(serde_json::to_string_pretty(&report)?)?,
                TableFormat::Csv => output::bytes(&esito_api::tables::indicators(&report))?,
            }
        }
        Commands::Settle {
            offline,
            period,
            as_of,
            definitions,
            html,
            format,
            contract,
            database,
        } => {
            let period: esito_indicators::Period = period.parse().context("--period")?;
            let settled = match (&offline, contract) {
                (Some(file), _) => settle::offline(file, period, as_of, definitions.as_deref())?,
                (None, Some(contract)) => {
                    settle::from_store(&connect_existing(&database).await?, &contract, period)
                        .await?
                }
                (None, None) => anyhow::bail!("give --offline EXPORT or --contract ID"),
            };
            if std::env::var_os("ESITO_REPORT_PEAK_MEMORY").is_some() {
                report_peak_memory();
            }
            if html {
                // Offline, the page lists the acts the export records on the settlement.
                let acts = match &offline {
                    Some(file) => settle::recorded_acts(file, period)?,
                    None => esito_settlement::PageActs::default(),
                };
                output::text(&esito_settlement::render_html_with_acts(
                    &settled.document,
                    &acts,
                ))?;
            } else if format == TableFormat::Csv {
                output::bytes(&esito_api::tables::settlement(&settled.document))?;
            } else {
                output::line(serde_json::to_string_pretty(&settled.document)?)?;
            }
        }
        Commands::Verify(args) => return verify::run(args),
        Commands::Import(args) => return import::run(args).await,
        Commands::Contracts { command } => contracts::run(command).await?,
        Commands::Keys {
            command: KeysCommand::List { database },
        } => {
            let store = connect_existing(&database).await?;
            let now = chrono::Utc::now();
            output::line(format_args!(
                "{:<16}  {:<9}  {:<8}  {:<27}  {:<27}  {:<27}  {:<20}  contracts",
                "id", "role", "state", "created", "last used", "expires", "principal"
            ))?;
            for stored in store.keys().await? {
                let listing = esito_api::keys::listing(&stored, now);
                let text = |field: &str| listing[field].as_str().unwrap_or("-").to_owned();
                let contracts = if stored.record.contracts.is_empty() {
                    "(every contract)".to_owned()
                } else {
                    stored.record.contracts.join(",")
                };
                output::line(format_args!(
                    "{:<16}  {:<9}  {:<8}  {:<27}  {:<27}  {:<27}  {:<20}  {contracts}",
                    text("id"),
                    text("role"),
                    text("state"),
                    text("created_at"),
                    text("last_used_at"),
                    text("expires_at"),
                    text("principal"),
                ))?;
            }
        }
        Commands::Keys {
            command:
                KeysCommand::Create {
                    role,
                    contracts,
                    provider,
                    principal,
                    expires_in,
                    database,
                },
        } => {
            let role = esito_api::auth::Role::parse(&role).with_context(|| {
                format!("--role {role}: one of admin, operator, provider, payer, funder, evaluator")
            })?;
            let contracts = contracts
                .iter()
                .map(|c| ContractId::parse(c).with_context(|| format!("--contract {c}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let lifetime = expires_in
                .as_deref()
                .map(esito_api::auth::Lifetime::parse)
                .transpose()
                .map_err(|e| anyhow::anyhow!("--expires-in {}", e.reason))?;
            let new = esito_api::auth::NewKey::new(principal, role, contracts, provider, lifetime)
                .map_err(|e| {
                    let flag = match e.field {
                        "contracts" => "contract",
                        other => other,
                    };
                    anyhow::anyhow!("--{flag}: {}", e.reason)
                })?;
            let store = connect(&database).await?;
            let key = esito_api::auth::create(&store, &new).await?;
            output::line(key)?;
        }
        Commands::Keys {
            command: KeysCommand::Revoke { id, database },
        } => {
            let store = connect_existing(&database).await?;
            let stored = esito_api::keys::revoke_by_id(&store, &id)
                .await
                .map_err(|e| anyhow::anyhow!("{id}: {}", e.detail))?;
            output::line(format_args!(
                "key {id} revoked at {}",
                stored.revoked_at.as_deref().unwrap_or("-")
            ))?;
        }
        Commands::Keys {
            command:
                KeysCommand::RotateSigning {
                    signing_key,
                    database,
                },
        } => {
            let store = connect(&database).await?;
            let rotation = signing_key::rotate(&signing_key, &store).await?;
            match rotation.old_key_id {
                Some(old) => output::line(format_args!(
                    "signing key {} replaces {old} (kept as retired); restart esito serve",
                    rotation.new_key_id
                ))?,
                None => output::line(format_args!(
                    "signing key {} (no key at {}: every recorded key is retired); restart esito serve",
                    rotation.new_key_id,
                    signing_key.display()
                ))?,
            }
        }
        Commands::Load(args) => load::run(args).await?,
        Commands::Backup(args) => backup::run(args).await?,
    }
    Ok(ExitCode::SUCCESS)
}
