//! `esito bench`: the ledger's speed beside anchors measured in the same run on the same
//! machine (raw INSERTs of the same database, raw SHA-256), printed as ratios and written as
//! JSON under `target/bench/`.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use esito_domain::events::{AccessChannel, AccessOutcome, AccessRecorded, NeedCategory};
use esito_domain::{ContractId, Event, Submission};
use esito_store::anchor::{self, Rate};
use esito_store::Store;
use serde_json::json;

#[derive(clap::Args)]
pub struct BenchArgs {
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
    /// The PostgreSQL to measure (a scratch schema is created in it).
    #[arg(long, env = "DATABASE_URL")]
    postgres: Option<String>,
    /// Measure only the indicators' projection (rebuild and queries), on PostgreSQL.
    #[arg(long)]
    only_indicators: bool,
}

const BATCH: usize = 100;
const WRITERS: usize = 8;

pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    let duration = Duration::from_secs_f64(args.seconds);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    if args.only_indicators {
        let base = args
            .postgres
            .as_deref()
            .context("--only-indicators measures PostgreSQL: set DATABASE_URL")?;
        crate::bench_indicators::measure(base, args.indicator_events, &args.out).await?;
        return Ok(());
    }
    let scratch = tempfile::tempdir()?;
    let mut stores = serde_json::Map::new();
    let mut proofs = serde_json::Value::Null;

    let sqlite_url = format!("sqlite://{}", scratch.path().join("bench.db").display());
    let anchor_url = format!("sqlite://{}", scratch.path().join("anchor.db").display());
    stores.insert(
        "sqlite".into(),
        measure_store("sqlite", &sqlite_url, &anchor_url, duration).await?,
    );
    match &args.postgres {
        Some(base) => {
            let url = anchor::scratch_postgres(base, "esito_bench").await?;
            let anchor_url = anchor::scratch_postgres(base, "esito_bench_anchor").await?;
            stores.insert(
                "postgres".into(),
                measure_store("postgres", &url, &anchor_url, duration).await?,
            );
            let api_url = anchor::scratch_postgres(base, "esito_bench_api").await?;
            let api = crate::bench_api::measure(&api_url, duration).await?;
            let file = args.out.join("api.json");
            std::fs::write(&file, serde_json::to_string_pretty(&api)? + "\n")?;
            println!("written: {}", file.display());
            crate::bench_indicators::measure(base, args.indicator_events, &args.out).await?;
            let proofs_url = anchor::scratch_postgres(base, "esito_bench_proofs").await?;
            proofs = crate::bench_proofs::measure(&proofs_url, args.verify_entries).await?;
        }
        None => println!(
            "postgres: skipped (no DATABASE_URL; `make bench` starts a throwaway PostgreSQL)"
        ),
    }

    println!("(*) raw INSERTs of rows shaped like the log's (same columns, keys and indexes, as many bytes)");
    println!("    into a table of their own in the same database, with none of the ledger's work.");
    let verify = measure_verify(scratch.path(), args.verify_entries)?;
    let report = json!({
        "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "seconds_per_rate": args.seconds,
        "appends": stores,
        "verify": verify,
    });
    let file = args.out.join("core.json");
    std::fs::write(&file, serde_json::to_string_pretty(&report)? + "\n")?;
    println!("written: {}", file.display());
    let file = args.out.join("verify.json");
    let verify = json!({ "inclusion_proofs": proofs, "verify": report["verify"] });
    std::fs::write(&file, serde_json::to_string_pretty(&verify)? + "\n")?;

    let settlement =
        crate::bench_settlement::measure(scratch.path(), args.settlement_entries).await?;
    let file = args.out.join("settlement.json");
    std::fs::write(&file, serde_json::to_string_pretty(&settlement)? + "\n")?;
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

async fn measure_store(
    backend: &str,
    url: &str,
    anchor_url: &str,
    duration: Duration,
) -> anyhow::Result<serde_json::Value> {
    println!("{backend}:");
    let targets = if backend == "postgres" {
        [Some(0.5), Some(0.5), Some(0.5)]
    } else {
        [None, None, None]
    };
    let store = Arc::new(Store::connect(url).await?);
    let contracts = crate::load::register_load_contracts(&store, WRITERS).await?;

    // Each figure is measured after a warm-up of its own (connections, caches, plans) and
    // a checkpoint, so that none pays for what ran before it.
    let warm_up = duration.mul_f64(0.2);
    let settle = || async {
        anchor::settle(url).await?;
        anchor::settle(anchor_url).await
    };
    settle().await?;
    anchor::raw_insert_rate(anchor_url, 1, 1, warm_up).await?;
    let raw_one: Rate = anchor::raw_insert_rate(anchor_url, 1, 1, duration).await?;
    settle().await?;
    appends_per_second(&store, &contracts[..1], 1, 1, warm_up).await?;
    let one = appends_per_second(&store, &contracts[..1], 1, 1, duration).await?;
    let single = line(
        "appends/s, 1 writer, 1 contract",
        one,
        "events/s",
        "raw 1-row INSERT commits/s, 1 client (*)",
        raw_one.commits_per_second,
        targets[0],
    );

    settle().await?;
    anchor::raw_insert_rate(anchor_url, WRITERS, 1, warm_up).await?;
    let raw_eight = anchor::raw_insert_rate(anchor_url, WRITERS, 1, duration).await?;
    settle().await?;
    appends_per_second(&store, &contracts, WRITERS, 1, warm_up).await?;
    let eight = appends_per_second(&store, &contracts, WRITERS, 1, duration).await?;
    let concurrent = line(
        "appends/s, 8 writers over 8 contracts",
        eight,
        "events/s",
        "raw 1-row INSERT commits/s, 8 clients (*)",
        raw_eight.commits_per_second,
        targets[1],
    );

    settle().await?;
    anchor::raw_insert_rate(anchor_url, 1, BATCH, warm_up).await?;
    let raw_batch = anchor::raw_insert_rate(anchor_url, 1, BATCH, duration).await?;
    settle().await?;
    appends_per_second(&store, &contracts[..1], 1, BATCH, warm_up).await?;
    let batched = appends_per_second(&store, &contracts[..1], 1, BATCH, duration).await?;
    let batch = line(
        "events/s in batches of 100, 1 writer",
        batched,
        "events/s",
        "raw 100-row INSERT rows/s, 1 client (*)",
        raw_batch.rows_per_second,
        targets[2],
    );
    Ok(json!({ "single": single, "eight_writers": concurrent, "batch_100": batch }))
}

/// Appends synthetic accesses from `writers` tasks (writer i on contract i mod n) for
/// `duration`; returns events per second.
pub async fn appends_per_second(
    store: &Arc<Store>,
    contracts: &[ContractId],
    writers: usize,
    batch: usize,
    duration: Duration,
) -> anyhow::Result<f64> {
    let deadline = Instant::now() + duration;
    let run = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let (store, contract, run) = (
                store.clone(),
                contracts[writer % contracts.len()].clone(),
                run.clone(),
            );
            tokio::spawn(async move {
                let mut events = 0usize;
                while Instant::now() < deadline {
                    let submissions: Vec<Submission> = (0..batch)
                        .map(|i| {
                            crate::load::access(
                                &format!("{run}-{writer}-{}", events + i),
                                events + i,
                            )
                        })
                        .collect();
                    store.append(&contract, "bench", &submissions).await?;
                    events += batch;
                }
                anyhow::Ok(events)
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await??;
    }
    Ok(total as f64 / duration.as_secs_f64())
}

/// Writes an export of `entries` synthetic centre accesses, as `esito export` writes them.
fn write_export(path: &Path, entries: u64) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    for position in 1..=entries {
        let event = Event::AccessRecorded(AccessRecorded {
            beneficiary_id: esito_domain::StreamId::parse(&format!("cl-{:05}", position % 40_000))
                .ok(),
            channel: AccessChannel::InPerson,
            need: NeedCategory::ElderlyCare,
            outcome: AccessOutcome::Referred {
                service: "Servizi sociali del Comune".to_owned(),
            },
        });
        let entry = esito_log::Entry {
            contract_id: "bench-verify".to_owned(),
            position,
            event_id: uuid::Uuid::new_v4().to_string(),
            stream_type: "access".to_owned(),
            stream_id: format!("acc-{position}"),
            stream_seq: 1,
            event_type: event.event_type().to_owned(),
            schema_version: esito_domain::SCHEMA_VERSION,
            occurred_at: "2024-02-01T10:15:00+01:00".to_owned(),
            recorded_at: "2024-02-01T09:15:02.123456Z".to_owned(),
            recorded_by: "operator-open-house".to_owned(),
            corrects: None,
            payload: event.payload(),
        };
        let canonical = entry.canonical_json();
        let stored = esito_store::StoredEntry {
            position,
            leaf_hash: esito_log::leaf_hash(canonical.as_bytes()),
            entry: canonical,
        };
        writeln!(out, "{}", stored.export_line())?;
    }
    out.flush()?;
    Ok(())
}

/// `esito verify` on a large export, beside the rate of bare leaf hashing of the same bytes.
fn measure_verify(dir: &Path, entries: u64) -> anyhow::Result<serde_json::Value> {
    println!("verify:");
    let file = dir.join("verify.jsonl");
    write_export(&file, entries)?;
    let bytes = std::fs::metadata(&file)?.len();

    // The limit: read each line and hash its entry's bytes, nothing else.
    let started = Instant::now();
    let mut reader = BufReader::new(std::fs::File::open(&file)?);
    let mut text = String::new();
    let mut hashed = 0u64;
    while reader.read_line(&mut text)? > 0 {
        let start = text.find("\"entry\":").context("an entry")? + 8;
        let end = text.trim_end().len() - 1;
        std::hint::black_box(esito_log::leaf_hash(&text.as_bytes()[start..end]));
        hashed += 1;
        text.clear();
    }
    let raw = hashed as f64 / started.elapsed().as_secs_f64();

    let started = Instant::now();
    let output = std::process::Command::new(std::env::current_exe()?)
        .arg("verify")
        .arg(&file)
        .env("ESITO_REPORT_PEAK_MEMORY", "1")
        .output()?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        output.status.success(),
        "verify failed: {}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    let peak_kib: f64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("peak_rss_kib="))
        .and_then(|v| v.trim().parse().ok())
        .context("verify reports its peak memory")?;
    let rate = entries as f64 / seconds;
    let verify = line(
        &format!("esito verify, {entries} entries"),
        rate,
        "entries/s",
        "raw SHA-256 leaf hashes/s",
        raw,
        Some(0.3),
    );
    let peak_mib = peak_kib / 1024.0;
    println!(
        "  peak memory of esito verify: {peak_mib:.1} MiB (target < 256 MiB); export {:.0} MiB",
        bytes as f64 / 1048576.0
    );
    Ok(
        json!({ "entries": entries, "export_bytes": bytes, "rate": verify, "peak_rss_mib": peak_mib, "peak_rss_target_mib": 256 }),
    )
}
