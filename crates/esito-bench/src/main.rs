//! `esito-bench`: the ledger's speed beside anchors measured in the same run on the same
//! machine (raw INSERTs of the same database, raw SHA-256), printed as ratios and written as
//! JSON under `target/bench/`.
//!
//! What `esito` does in a process of its own (`verify`, `rebuild`, `settle --offline`) is timed
//! by running the built `esito` binary beside this one, so that its time and peak memory are
//! the product's own; the data the benchmarks append is made with `esito-cli`'s library (the
//! synthetic accesses of `esito load`, the terms of the demo's first programme).

mod api;
mod appends;
mod data;
mod hot;
mod import;
mod indicators;
mod outcomes;
mod proofs;
mod scale;
mod settlement;
mod stored_entry;
mod vault;
mod verify;
mod web;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use esito_store::anchor;
use serde_json::json;

#[derive(Parser)]
#[command(
    name = "esito-bench",
    about = "Measure appends, verification, the projection, proofs and settlement beside their anchors; JSON under target/bench/"
)]
struct BenchArgs {
    /// Directory for the JSON results.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Seconds each rate is measured for.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Entries in the export that `esito verify` is timed on, and in the log that inclusion
    /// proofs are timed on.
    #[arg(long, default_value_t = 1_000_000)]
    verify_entries: u64,
    /// Events in the log whose indicator projection is rebuilt and queried (PostgreSQL).
    #[arg(long, default_value_t = 1_000_000)]
    indicator_events: u64,
    /// Entries in the log the settlement of a period is timed over.
    #[arg(long, default_value_t = 1_000_000)]
    settlement_entries: u64,
    /// Rows of the CSV file `esito import` is timed on.
    #[arg(long, default_value_t = 1_000_000)]
    import_rows: u64,
    /// `OutcomeRecorded` events of the outcome contract's section (PostgreSQL).
    #[arg(long, default_value_t = 1_000_000)]
    outcome_events: u64,
    /// Measure only the outcome contract: its rebuild and a period's settlement, on PostgreSQL.
    #[arg(long, conflicts_with_all = ["only_stored_entry", "only_hot", "only_indicators", "scale"])]
    only_outcomes: bool,
    /// Measure only `esito import` of a large CSV file (SQLite, and PostgreSQL when given).
    #[arg(long, conflicts_with_all = ["only_stored_entry", "only_hot", "only_indicators"])]
    only_import: bool,
    /// Measure only `esito verify` on an export of `--verify-entries` entries (no database).
    #[arg(long, conflicts_with_all = ["only_stored_entry", "only_hot", "only_indicators", "scale"])]
    only_verify: bool,
    /// Stored entries each reading of `StoredEntry` is timed on.
    #[arg(long, default_value_t = 200_000)]
    stored_entries: u64,
    /// The PostgreSQL to measure (a scratch schema is created in it).
    #[arg(long, env = "DATABASE_URL")]
    postgres: Option<String>,
    /// Measure only the indicators' projection (rebuild and queries), on PostgreSQL.
    #[arg(long, conflicts_with_all = ["only_stored_entry", "only_hot", "scale"])]
    only_indicators: bool,
    /// Measure only one hot contract: 64 HTTP clients writing to one contract, on PostgreSQL.
    #[arg(long, conflicts_with_all = ["only_stored_entry", "scale"])]
    only_hot: bool,
    /// Measure only the figures that must not grow with the log (indicators on PostgreSQL,
    /// `esito verify`, `esito settle --offline`) at each of `--scale-sizes`, side by side;
    /// `target/bench/scale.json`.
    #[arg(long, conflicts_with = "only_stored_entry")]
    scale: bool,
    /// The log sizes `--scale` measures, in entries, comma-separated; the growth factor is the
    /// last's figure over the first's.
    #[arg(long, default_value = "1000000,3000000", value_parser = scale::parse_sizes)]
    scale_sizes: scale::Sizes,
    /// Measure only how fast stored entries are read into facts (no database).
    #[arg(long)]
    only_stored_entry: bool,
    /// People registered in the identity vault that reads, lookups, erasures and a master key
    /// rotation are timed on.
    #[arg(long, default_value_t = 100_000)]
    vault_identities: u64,
    /// Events in the log of the contract whose screens are timed.
    #[arg(long, default_value_t = 1_000_000)]
    web_events: u64,
    /// Measure only the screens: the dashboard, a settlement's page and its PDF (SQLite).
    #[arg(long, conflicts_with_all = ["only_stored_entry", "only_hot", "only_indicators", "scale"])]
    only_web: bool,
    /// Measure only the identity vault, on SQLite and (with DATABASE_URL) PostgreSQL.
    #[arg(long, conflicts_with_all = ["only_stored_entry", "only_hot", "only_indicators"])]
    only_vault: bool,
}

fn main() -> ExitCode {
    esito_cli::init_tracing();
    let args = BenchArgs::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("esito-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// What a run of `esito` took and printed.
struct EsitoRun {
    seconds: f64,
    /// Its peak resident memory, as it reports it (`ESITO_REPORT_PEAK_MEMORY`).
    peak_mib: f64,
    stdout: String,
    stderr: String,
}

/// Runs the built `esito` binary beside this one (`cargo build --release -p esito-bench -p
/// esito-cli` builds both) with `args`, in a process of its own, so that its time and peak
/// memory are its own.
fn run_esito(args: &[&str]) -> anyhow::Result<EsitoRun> {
    let esito =
        std::env::current_exe()?.with_file_name(format!("esito{}", std::env::consts::EXE_SUFFIX));
    anyhow::ensure!(
        esito.is_file(),
        "{} not found: build it beside esito-bench (cargo build --release -p esito-cli)",
        esito.display()
    );
    let started = Instant::now();
    let output = std::process::Command::new(esito)
        .args(args)
        .env("ESITO_REPORT_PEAK_MEMORY", "1")
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    anyhow::ensure!(
        output.status.success(),
        "esito {}: {stdout}{stderr}",
        args.join(" ")
    );
    let peak_kib: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("esito {} reports its peak memory", args[0]))?;
    Ok(EsitoRun {
        seconds,
        peak_mib: peak_kib / 1024.0,
        stdout,
        stderr,
    })
}

async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let duration = Duration::from_secs_f64(args.seconds);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if args.only_stored_entry {
        return write(
            &args.out,
            "stored_entry.json",
            &stored_entry::measure(args.stored_entries)?,
        );
    }
    if args.only_vault {
        return vault(&args).await;
    }
    if args.only_web {
        let scratch = tempfile::tempdir()?;
        let web = web::measure(scratch.path(), args.web_events).await?;
        return write(&args.out, "web.json", &web);
    }
    if args.only_verify {
        let scratch = tempfile::tempdir()?;
        let verify = verify::measure(scratch.path(), args.verify_entries)?;
        return write(&args.out, "verify-only.json", &verify);
    }
    if args.only_import {
        let scratch = tempfile::tempdir()?;
        return write(
            &args.out,
            "import.json",
            &import_section(&args, scratch.path(), duration).await?,
        );
    }
    if args.only_hot {
        let base = args
            .postgres
            .as_deref()
            .context("--only-hot measures PostgreSQL: set DATABASE_URL")?;
        hot(base, duration, &args.out).await?;
        println!("(*) raw INSERTs of rows shaped like the log's (same columns, keys and indexes, as many bytes)");
        return Ok(());
    }
    if args.scale {
        let base = args
            .postgres
            .as_deref()
            .context("--scale measures PostgreSQL: set DATABASE_URL")?;
        return scale::measure(base, &args.scale_sizes, &args.out).await;
    }
    if args.only_outcomes {
        let base = args
            .postgres
            .as_deref()
            .context("--only-outcomes measures PostgreSQL: set DATABASE_URL")?;
        let scratch = tempfile::tempdir()?;
        return outcomes(base, scratch.path(), args.outcome_events, &args.out).await;
    }
    if args.only_indicators {
        let base = args
            .postgres
            .as_deref()
            .context("--only-indicators measures PostgreSQL: set DATABASE_URL")?;
        return indicators(base, args.indicator_events, &args.out).await;
    }
    let scratch = tempfile::tempdir()?;
    let mut stores = serde_json::Map::new();
    let mut proofs = serde_json::Value::Null;

    let sqlite_url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    let anchor_url = format!("sqlite://{}", scratch.path().join("anchor.db").display());
    stores.insert(
        "sqlite".into(),
        appends::measure("sqlite", &sqlite_url, &anchor_url, duration).await?,
    );
    match &args.postgres {
        Some(base) => {
            let url = anchor::scratch_postgres(base, "esito_bench").await?;
            let anchor_url = anchor::scratch_postgres(base, "esito_bench_anchor").await?;
            stores.insert(
                "postgres".into(),
                appends::measure("postgres", &url, &anchor_url, duration).await?,
            );
            let api_url = anchor::scratch_postgres(base, "esito_bench_api").await?;
            let api = crate::api::measure(&api_url, duration).await?;
            write(&args.out, "api.json", &api)?;
            hot(base, duration, &args.out).await?;
            indicators(base, args.indicator_events, &args.out).await?;
            outcomes(base, scratch.path(), args.outcome_events, &args.out).await?;
            let proofs_url = anchor::scratch_postgres(base, "esito_bench_proofs").await?;
            proofs = crate::proofs::measure(&proofs_url, args.verify_entries).await?;
        }
        None => println!(
            "postgres: skipped (no DATABASE_URL; `make bench` starts a throwaway PostgreSQL)"
        ),
    }

    println!("(*) raw INSERTs of rows shaped like the log's (same columns, keys and indexes, as many bytes)");
    println!("    into a table of their own in the same database, with none of the ledger's work.");
    let verify = verify::measure(scratch.path(), args.verify_entries)?;
    let report = json!({
        "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "seconds_per_rate": args.seconds,
        "appends": stores,
        "verify": verify,
    });
    write(&args.out, "core.json", &report)?;
    let file = args.out.join("verify.json");
    let verify = json!({ "inclusion_proofs": proofs, "verify": report["verify"] });
    std::fs::write(&file, serde_json::to_string_pretty(&verify)? + "\n")?;

    let settlement = crate::settlement::measure(scratch.path(), args.settlement_entries).await?;
    write(&args.out, "settlement.json", &settlement)?;
    let web = web::measure(scratch.path(), args.web_events).await?;
    write(&args.out, "web.json", &web)?;
    let stored_entry = stored_entry::measure(args.stored_entries)?;
    write(&args.out, "stored_entry.json", &stored_entry)?;
    write(
        &args.out,
        "import.json",
        &import_section(&args, scratch.path(), duration).await?,
    )?;
    vault(&args).await
}

/// The identity vault's section (`vault.rs`) on a scratch SQLite file and, with a PostgreSQL,
/// a scratch schema; `vault.json`.
async fn vault(args: &BenchArgs) -> anyhow::Result<()> {
    let scratch = tempfile::tempdir()?;
    let sqlite_url = format!("sqlite://{}", scratch.path().join("vault.db").display());
    let mut report = serde_json::Map::new();
    report.insert(
        "sqlite".into(),
        crate::vault::measure("sqlite", &sqlite_url, args.vault_identities).await?,
    );
    if let Some(base) = &args.postgres {
        let url = anchor::scratch_postgres(base, "esito_bench_vault").await?;
        report.insert(
            "postgres".into(),
            crate::vault::measure("postgres", &url, args.vault_identities).await?,
        );
    }
    write(&args.out, "vault.json", &serde_json::Value::Object(report))
}

/// The import's section (`import.rs`): on a SQLite file, and on PostgreSQL when given.
async fn import_section(
    args: &BenchArgs,
    dir: &std::path::Path,
    duration: Duration,
) -> anyhow::Result<serde_json::Value> {
    let sqlite_url = format!("sqlite://{}", dir.join("import.db").display());
    let mut report = serde_json::Map::new();
    report.insert(
        "sqlite".into(),
        crate::import::measure("sqlite", &sqlite_url, dir, args.import_rows, duration).await?,
    );
    if let Some(base) = &args.postgres {
        let url = anchor::scratch_postgres(base, "esito_bench_import").await?;
        report.insert(
            "postgres".into(),
            crate::import::measure("postgres", &url, dir, args.import_rows, duration).await?,
        );
    }
    Ok(serde_json::Value::Object(report))
}

/// The hot contract's section (`hot.rs`), on scratch schemas of its own; `hot.json`.
async fn hot(base: &str, duration: Duration, out: &std::path::Path) -> anyhow::Result<()> {
    let url = anchor::scratch_postgres(base, "esito_bench_hot").await?;
    let anchor_url = anchor::scratch_postgres(base, "esito_bench_hot_anchor").await?;
    let report = crate::hot::measure(&url, &anchor_url, duration).await?;
    write(out, "hot.json", &report)
}

/// The indicators' section (`indicators.rs`), on a scratch schema of its own;
/// `indicators.json`.
async fn indicators(base: &str, events: u64, out: &std::path::Path) -> anyhow::Result<()> {
    let report = crate::indicators::measure(base, "esito_bench_indicators", events).await?;
    write(out, "indicators.json", &report)
}

/// The outcome contract's section (`outcomes.rs`), on a scratch schema of its own;
/// `outcomes.json`.
async fn outcomes(
    base: &str,
    dir: &std::path::Path,
    events: u64,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let report = crate::outcomes::measure(base, "esito_bench_outcomes", dir, events).await?;
    write(out, "outcomes.json", &report)
}

/// Writes a section's results as pretty JSON in `out` and says so.
fn write(out: &std::path::Path, name: &str, report: &serde_json::Value) -> anyhow::Result<()> {
    let file = out.join(name);
    std::fs::write(&file, serde_json::to_string_pretty(report)? + "\n")?;
    println!("written: {}", file.display());
    Ok(())
}

fn ratio(value: f64, anchor: f64) -> f64 {
    if anchor > 0.0 {
        value / anchor
    } else {
        0.0
    }
}

pub fn line(
    name: &str,
    value: f64,
    unit: &str,
    anchor_name: &str,
    anchor: f64,
    target: Option<f64>,
) -> serde_json::Value {
    let r = ratio(value, anchor);
    let verdict = match target {
        Some(t) if r >= t => format!("target >= {t}: met"),
        Some(t) => format!("target >= {t}: NOT met"),
        None => "reported".to_owned(),
    };
    println!("  {name:<44} {value:>11.0} {unit:<9} {anchor_name:<34} {anchor:>11.0}  ratio {r:>5.2}  ({verdict})");
    json!({ "value": value, "unit": unit, "anchor": anchor_name, "anchor_value": anchor, "ratio": r, "target": target })
}
