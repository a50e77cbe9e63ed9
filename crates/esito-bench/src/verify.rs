//! `esito verify` on a large export, in a process of its own, beside the rate of bare leaf
//! hashing of the same bytes.

use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use esito_domain::events::{AccessChannel, AccessOutcome, AccessRecorded, NeedCategory};
use esito_domain::Event;
use serde_json::json;

use crate::line;

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
            position: esito_log::Position::new(position)?,
            leaf_hash: esito_log::leaf_hash(canonical.as_bytes()),
            entry: canonical,
        };
        writeln!(out, "{}", stored.export_line())?;
    }
    out.flush()?;
    Ok(())
}

/// `esito verify` on a large export, beside the rate of bare leaf hashing of the same bytes.
pub fn measure(dir: &Path, entries: u64) -> anyhow::Result<serde_json::Value> {
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

    let run = crate::run_esito(&["verify", file.to_str().context("a UTF-8 path")?])?;
    let rate = entries as f64 / run.seconds;
    let verify = line(
        &format!("esito verify, {entries} entries"),
        rate,
        "entries/s",
        "raw SHA-256 leaf hashes/s",
        raw,
        Some(0.8),
    );
    let peak_mib = run.peak_mib;
    println!(
        "  peak memory of esito verify: {peak_mib:.1} MiB (target < 256 MiB); export {:.0} MiB",
        bytes as f64 / 1048576.0
    );
    Ok(
        json!({ "entries": entries, "export_bytes": bytes, "rate": verify, "peak_rss_mib": peak_mib, "peak_rss_target_mib": 256 }),
    )
}
