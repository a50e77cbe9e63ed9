//! How many Cuneo-like stored entries a second each reading turns into facts: the full
//! `Entry` parse against `StoredEntry`'s, each with `derive`, and each parse alone (ADR 0007).
//! No database: the texts are built in memory. Written to `stored_entry.json`.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Context;

use esito_domain::events::{
    AccessChannel, AccessOutcome, AccessRecorded, Event, IseeBand, NeedCategory, OrderChannel,
    OrderPlaced, ServiceFamily, TokenIssued, TokenRecipient, TokenRedeemed,
};
use esito_domain::{Money, StreamId};
use esito_indicators::facts::derive;
use esito_indicators::templates::template_named;
use esito_indicators::{Definitions, StoredEntry};
use esito_log::Entry;
use serde_json::json;

fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("a valid id")
}

/// The `n`-th entry of the mix: accesses, orders, tokens issued and redeemed in turn, with
/// the payloads the benchmark's commands record.
fn cuneo_like(n: u64) -> Entry {
    let cycle = n / 4;
    let beneficiary = id(&format!("ben-{:05}", (cycle * 7919) % 2_000));
    let product = (cycle * 31) % 160;
    let provider = id(&format!("prov-{:02}", product % 16));
    let band = IseeBand::ALL[(cycle % 4) as usize];
    let (stream_type, stream_id, event) = match n % 4 {
        0 => (
            "access",
            format!("acc-{cycle}"),
            Event::AccessRecorded(AccessRecorded {
                beneficiary_id: (cycle % 3 != 0).then_some(beneficiary),
                channel: [
                    AccessChannel::InPerson,
                    AccessChannel::Phone,
                    AccessChannel::Email,
                ][(cycle % 3) as usize],
                need: [
                    NeedCategory::HomeManagement,
                    NeedCategory::ElderlyCare,
                    NeedCategory::Housing,
                ][(cycle % 3) as usize],
                outcome: AccessOutcome::ServiceActivated,
            }),
        ),
        1 => (
            "order",
            format!("ord-{cycle}"),
            Event::OrderPlaced(OrderPlaced {
                beneficiary_id: beneficiary,
                product_id: id(&format!("prod-{product:03}")),
                provider_id: provider,
                service_family: ServiceFamily::Meals,
                channel: if cycle % 2 == 0 {
                    OrderChannel::Online
                } else {
                    OrderChannel::Centre
                },
                isee_band: band,
                price: Money::parse(["4.00", "6.00", "8.00", "10.00"][(cycle % 4) as usize])
                    .expect("a valid amount"),
            }),
        ),
        2 => (
            "order",
            format!("ord-{cycle}"),
            Event::TokenIssued(TokenIssued {
                token_code: format!("TK-{cycle}"),
                provider_id: provider,
                notified_to: vec![TokenRecipient::Client, TokenRecipient::Provider],
                expires_on: "2029-12-31".parse().expect("a valid date"),
            }),
        ),
        _ => (
            "order",
            format!("ord-{cycle}"),
            Event::TokenRedeemed(TokenRedeemed {
                provider_id: provider,
            }),
        ),
    };
    let day = 1 + cycle % 28;
    let month = 1 + cycle / 28 % 12;
    Entry {
        contract_id: "0b7e0d9e-5a43-4f0a-9e0e-4d1d6e7f8a90".to_owned(),
        position: n + 1,
        event_id: format!("6f1c2a4e-0d4b-4a53-9b8e-{n:012x}"),
        stream_type: stream_type.to_owned(),
        stream_id,
        stream_seq: 1 + n % 4,
        event_type: event.event_type().to_owned(),
        schema_version: 1,
        occurred_at: format!("2025-{month:02}-{day:02}T10:{:02}:00+01:00", n % 60),
        recorded_at: format!("2025-{month:02}-{day:02}T09:{:02}:00.123456Z", n % 60),
        recorded_by: "user:bench".to_owned(),
        corrects: None,
        payload: event.payload(),
    }
}

/// A way of reading a stored text into facts: its name, and the reading, which returns a
/// count so that the work is not optimised away.
type Reading<'r> = (&'static str, Box<dyn FnMut(u64, &str) -> usize + 'r>);

/// Entries a second of each reading: the best of five passes over every text, the
/// readings taking turns so that each meets the allocator as the others leave it.
fn rates(texts: &[String], readings: &mut [Reading<'_>]) -> Vec<f64> {
    let mut best = vec![f64::MAX; readings.len()];
    for _ in 0..5 {
        for ((_, read), best) in readings.iter_mut().zip(&mut best) {
            let started = Instant::now();
            let mut count = 0;
            for (index, text) in texts.iter().enumerate() {
                count += read(index as u64 + 1, text);
            }
            black_box(count);
            *best = best.min(started.elapsed().as_secs_f64());
        }
    }
    best.iter()
        .map(|seconds| texts.len() as f64 / seconds)
        .collect()
}

/// Times each reading over `entries` stored texts of the Cuneo-like mix.
pub fn measure(entries: u64) -> anyhow::Result<serde_json::Value> {
    let definitions: Definitions =
        esito_indicators::templates::embedded("cuneo").context("the cuneo template")??;
    let texts: Vec<String> = (0..entries)
        .map(|n| cuneo_like(n).canonical_json())
        .collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    println!(
        "stored entries ({} Cuneo-like entries, {} bytes each on average; best of five passes):",
        texts.len(),
        bytes / texts.len()
    );
    let definitions = &definitions;
    let mut readings: [Reading<'_>; 5] = [
        (
            "(a) Entry parse + derive",
            Box::new(|_, text| {
                let entry: Entry = serde_json::from_str(text).expect("a stored entry");
                let named = template_named((&entry).into());
                let derived = derive(definitions, (&entry).into()).expect("it derives");
                derived.facts.len() + usize::from(named.is_some())
            }),
        ),
        (
            "(b) StoredEntry::parse_for + derive",
            Box::new(|position, text| {
                let entry = StoredEntry::parse_for(position, text, Some(definitions))
                    .expect("a stored entry");
                let named = template_named(entry.view());
                let derived = derive(definitions, entry.view()).expect("it derives");
                derived.facts.len() + usize::from(named.is_some())
            }),
        ),
        (
            "    StoredEntry::parse + derive",
            Box::new(|position, text| {
                let entry = StoredEntry::parse(position, text).expect("a stored entry");
                let named = template_named(entry.view());
                let derived = derive(definitions, entry.view()).expect("it derives");
                derived.facts.len() + usize::from(named.is_some())
            }),
        ),
        (
            "    Entry parse alone",
            Box::new(|_, text| {
                let entry: Entry = serde_json::from_str(text).expect("a stored entry");
                entry.payload.as_object().map_or(0, |payload| payload.len())
            }),
        ),
        (
            "    StoredEntry::parse_for alone",
            Box::new(|position, text| {
                let entry = StoredEntry::parse_for(position, text, Some(definitions))
                    .expect("a stored entry");
                entry.event_id.len()
            }),
        ),
    ];
    let rates = rates(&texts, &mut readings);
    for ((name, _), rate) in readings.iter().zip(&rates) {
        println!("  {name:<40}{rate:>12.0} entries/s");
    }
    let ratio = rates[1] / rates[0];
    println!("  (b) / (a): {ratio:.2}");
    let readings: Vec<serde_json::Value> = readings
        .iter()
        .zip(&rates)
        .map(|((name, _), rate)| json!({ "reading": name.trim(), "entries_per_second": rate }))
        .collect();
    Ok(json!({
        "entries": texts.len(),
        "bytes_per_entry": bytes / texts.len(),
        "readings": readings,
        "ratio_b_over_a": ratio,
    }))
}
