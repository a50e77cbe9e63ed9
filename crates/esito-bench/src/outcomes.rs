//! The outcome contract's benchmark: a rate card registered with definitions of its own (no
//! template), 1,000,000 `OutcomeRecorded` events (by default) of 100,000 participants (one for
//! ten events) over 20 priced outcomes, on PostgreSQL. It times the projection's rebuild beside a streamed read of the
//! same rows, and the settlement of the last quarter from the store and offline from the
//! export, each in a process of its own with its peak memory; written to `outcomes.json`.
//!
//! Commands are written as the API takes them (JSON), so that the log is what a client of the
//! public interface would record.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use esito_domain::{Command, ContractId, EventId, Submission};
use esito_store::{anchor, Store};
use serde_json::{json, Value};

use crate::line;

const CONTRACT: &str = "bench-outcomes";
/// Outcomes recorded per participant, on average.
const EVENTS_PER_PARTICIPANT: u64 = 10;
const OUTCOMES: u64 = 20;
/// The term: eight quarters; the last one is settled.
const TERM_START: &str = "2024-01-01";
const TERM_END: &str = "2025-12-31";
const MEASURED: &str = "2025-Q4";
const DAYS: u64 = 731;
const ONLINE_TARGET_SECONDS: f64 = 2.0;
const OFFLINE_TARGET_SECONDS: f64 = 30.0;
const PEAK_TARGET_MIB: f64 = 256.0;

/// The definitions: one outcome and one indicator per priced outcome, counted per participant.
pub fn definitions() -> String {
    let mut text = String::from(
        "template = \"bench-outcomes\"\n\
         title = { it = \"Contratto a esiti (prova di carico)\", en = \"Outcome contract (benchmark)\" }\n",
    );
    for k in 1..=OUTCOMES {
        write!(
            text,
            "\n[[outcome]]\nid = \"o{k:02}\"\nlabel = {{ it = \"Esito {k}\", en = \"Outcome {k}\" }}\n\n\
             [[indicator]]\nid = \"o{k:02}_reached\"\narea = \"change\"\nkind = \"count\"\nunit = \"outcomes\"\n\
             label = {{ it = \"Esiti {k} raggiunti\", en = \"Outcomes {k} reached\" }}\n\
             events = [\"OutcomeRecorded\"]\nwhere = {{ outcome = \"o{k:02}\" }}\nbeneficiary = \"beneficiary_id\"\n"
        )
        .expect("writing to a String");
    }
    text
}

/// Each outcome priced per participant: 100 euro plus 25 per rank, paid at most once (odd
/// ranks) or twice (even ones) per participant, at most 2,000 euro per participant each.
fn payment_terms() -> Value {
    let rules: Vec<Value> = (1..=OUTCOMES)
        .map(|k| {
            json!({
                "kind": "rate_card",
                "indicator": format!("o{k:02}_reached"),
                "rate": (100 + 25 * k).to_string(),
                "max_per_beneficiary": if k % 2 == 0 { 2 } else { 1 },
                "cap_per_beneficiary": "2000.00",
            })
        })
        .collect();
    json!({ "rules": rules })
}

fn command(value: Value) -> anyhow::Result<Command> {
    serde_json::from_value(value).context("a benchmark command the domain reads")
}

fn submission(occurred_at: &str, command: Command) -> anyhow::Result<Submission> {
    Ok(Submission {
        event_id: EventId::new_v4(),
        occurred_at: serde_json::from_value(json!(occurred_at)).context("a benchmark instant")?,
        command,
    })
}

/// The instant of the `n`-th event of `of` spread evenly over the term, in office hours.
fn instant(n: u64, of: u64) -> String {
    let day = n * DAYS / of.max(1);
    let date = chrono::NaiveDate::parse_from_str(TERM_START, "%Y-%m-%d").expect("a date")
        + chrono::Duration::days(i64::try_from(day).expect("days fit"));
    let minute = n % 480;
    format!(
        "{date}T{:02}:{:02}:00{}",
        9 + minute / 60,
        minute % 60,
        if (4..=9).contains(&chrono::Datelike::month(&date)) {
            "+02:00"
        } else {
            "+01:00"
        }
    )
}

/// The registration with the definitions' text, the payment terms from the first day, every
/// participant, then `events` outcomes: participant `n % participants`, outcome by a stride
/// that gives each participant some outcomes more than once (and so capped).
async fn build(store: &Store, contract: &ContractId, events: u64) -> anyhow::Result<u64> {
    let participants = participants(events);
    let setup = vec![
        submission(
            "2024-01-01T08:00:00+01:00",
            command(json!({
                "type": "RegisterContract", "title": "Benchmark outcome contract",
                "definitions": definitions(), "payer": "Comune", "operator": "Gestore",
                "evaluator": "Valutatore", "term_start_on": TERM_START, "term_end_on": TERM_END,
                "period_kind": "quarter",
            }))?,
        )?,
        submission(
            "2024-01-01T08:05:00+01:00",
            command(json!({
                "type": "AmendContract", "effective_on": TERM_START,
                "changes": [{ "kind": "payment_terms", "payment_terms": payment_terms() }],
            }))?,
        )?,
    ];
    store.append(contract, "bench", &setup).await?;
    let total = participants + events;
    let bar = esito_cli::progress_bar(total, "building the outcome contract's log");
    let mut batch = Vec::with_capacity(esito_store::BATCH_SIZE_MAX);
    let mut written = setup.len() as u64;
    for n in 0..total {
        let next = if n < participants {
            submission(
                "2024-01-01T09:00:00+01:00",
                command(json!({
                    "type": "RegisterBeneficiary", "beneficiary_id": format!("p-{n}"),
                    "isee_band": "b", "household_size": 1, "age_band": "from18_to34",
                }))?,
            )?
        } else {
            let m = n - participants;
            let outcome = 1 + (m * 7 + m / participants) % OUTCOMES;
            submission(
                &instant(m, events),
                command(json!({
                    "type": "RecordOutcome", "beneficiary_id": format!("p-{}", m % participants),
                    "outcome": format!("o{outcome:02}"),
                }))?,
            )?
        };
        batch.push(next);
        if batch.len() == esito_store::BATCH_SIZE_MAX {
            store.append(contract, "bench", &batch).await?;
            written += batch.len() as u64;
            bar.set_position(written);
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.append(contract, "bench", &batch).await?;
        written += batch.len() as u64;
    }
    bar.finish_and_clear();
    Ok(written)
}

fn participants(events: u64) -> u64 {
    (events / EVENTS_PER_PARTICIPANT).max(1)
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "NOT met"
    }
}

pub async fn measure(
    base_url: &str,
    schema: &str,
    dir: &Path,
    events: u64,
) -> anyhow::Result<Value> {
    println!(
        "outcomes (postgres, {} participants, {events} OutcomeRecorded over {OUTCOMES} priced outcomes):",
        participants(events)
    );
    let url = anchor::scratch_postgres(base_url, schema).await?;
    let store = Store::connect(&url).await?;
    let contract = ContractId::parse(CONTRACT)?;
    let started = Instant::now();
    let written = build(&store, &contract, events).await?;
    println!(
        "  loaded {written} entries through the ledger in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    anchor::settle(&url).await?;

    // The anchor, warm as in the indicators' section: a plain streamed SELECT of the rows.
    anchor::stream_log(&url, CONTRACT, None).await?;
    let (rows, seconds) = anchor::stream_log(&url, CONTRACT, None).await?;
    anyhow::ensure!(rows == written, "the anchor read {rows} of {written} rows");
    let run = crate::run_esito(&["rebuild", "--contract", CONTRACT, "--database", &url])?;
    let rebuild = line(
        &format!("projection rebuild, {written} entries"),
        written as f64 / run.seconds,
        "entries/s",
        "streamed SELECT of the rows/s",
        rows as f64 / seconds,
        Some(0.5),
    );
    let rebuild_mib = run.peak_mib;
    println!("  peak memory of esito rebuild: {rebuild_mib:.1} MiB");

    let online = crate::run_esito(&[
        "settle",
        "--contract",
        CONTRACT,
        "--database",
        &url,
        "--period",
        MEASURED,
    ])?;
    let file = dir.join("outcomes.jsonl");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file)?);
        store.export(&contract, &mut out).await?;
        std::io::Write::flush(&mut out)?;
    }
    let export_bytes = std::fs::metadata(&file)?.len();
    let offline = crate::run_esito(&[
        "settle",
        "--offline",
        file.to_str().context("a UTF-8 path")?,
        "--period",
        MEASURED,
    ])?;
    anyhow::ensure!(
        online.stdout == offline.stdout,
        "the settlement from the store and the one from the export differ"
    );
    let document: Value = serde_json::from_str(&online.stdout)?;
    println!(
        "  {MEASURED}: {} lines, total {}",
        document["lines"].as_array().map_or(0, Vec::len),
        document["total"]
    );
    println!(
        "  esito settle from the store       {:>7.2} s   peak {:>6.1} MiB  (target < {ONLINE_TARGET_SECONDS} s: {})",
        online.seconds,
        online.peak_mib,
        verdict(online.seconds < ONLINE_TARGET_SECONDS)
    );
    println!(
        "  esito settle --offline ({:.0} MiB)  {:>7.2} s   peak {:>6.1} MiB  (target < {OFFLINE_TARGET_SECONDS} s and < {PEAK_TARGET_MIB} MiB: {})",
        export_bytes as f64 / 1_048_576.0,
        offline.seconds,
        offline.peak_mib,
        verdict(offline.seconds < OFFLINE_TARGET_SECONDS && offline.peak_mib < PEAK_TARGET_MIB)
    );
    println!("  the two documents are the same, byte for byte");
    std::fs::remove_file(&file).ok();
    Ok(json!({
        "store": "postgres",
        "entries": written,
        "participants": participants(events),
        "outcomes": OUTCOMES,
        "rebuild": rebuild,
        "rebuild_peak_rss_mib": rebuild_mib,
        "period": MEASURED,
        "online": { "seconds": online.seconds, "peak_rss_mib": online.peak_mib, "target_seconds": ONLINE_TARGET_SECONDS },
        "offline": { "seconds": offline.seconds, "peak_rss_mib": offline.peak_mib, "target_seconds": OFFLINE_TARGET_SECONDS,
                     "peak_rss_target_mib": PEAK_TARGET_MIB, "export_bytes": export_bytes },
        "same_document": true,
        "total": document["total"],
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_definitions_and_terms_are_what_a_registration_accepts() {
        let definitions =
            esito_indicators::Definitions::parse(&definitions()).expect("definitions that parse");
        assert_eq!(definitions.outcomes.len(), OUTCOMES as usize);
        assert_eq!(definitions.indicators.len(), OUTCOMES as usize);
        let terms: esito_domain::terms::PaymentTerms =
            serde_json::from_value(payment_terms()).expect("payment terms the domain reads");
        assert_eq!(terms.rules.len(), OUTCOMES as usize);
    }

    #[test]
    fn instants_stay_within_the_term() {
        for n in [0, 1, 499_999, 999_999] {
            let at: esito_domain::OccurredAt = serde_json::from_value(json!(instant(n, 1_000_000)))
                .expect("an instant the domain reads");
            let date = at.local_date();
            assert!(
                date >= "2024-01-01".parse().expect("a date")
                    && date <= "2025-12-31".parse().expect("a date"),
                "{date}"
            );
        }
    }
}
