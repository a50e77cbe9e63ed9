//! The settlement's benchmark: the last period of a contract whose log holds 1,000,000 events
//! settled as of a pinned position (the head): from the store with the projection up to date,
//! first before any settlement (the period's own values alone), then after five settled
//! periods, each recomputed to be restated; and offline from the export. Each is timed in a
//! process of its own, with its peak memory. Written to `settlement.json`.
//!
//! The log: a contract on Cuneo's template and funder terms, 2,000 households in flats, each
//! reaching five milestones (a rate card that pays at most four per household, so every
//! settlement fetches the facts behind it), and centre accesses for the rest, spread over the
//! six quarters of the term.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, NaiveDate, NaiveTime};
use esito_domain::events::{
    AccessChannel, AccessOutcome, AgeBand, IseeBand, NeedCategory, Pact, TenantMilestone,
};
use esito_domain::terms::{ContractChange, PaymentRule, PaymentTerms};
use esito_domain::{Command, ContractId, EventId, Money, OccurredAt, Rate, StreamId, Submission};
use esito_indicators::Period;
use esito_store::Store;
use serde_json::json;

pub(crate) const CONTRACT: &str = "bench-settlement";
const HOUSEHOLDS: usize = 2_000;
const MILESTONES_PER_HOUSEHOLD: usize = 5;
/// The smallest log this section builds as asked: the contract's three setup entries, three
/// per household (flat, household, tenancy) and every milestone, before any access.
pub const ENTRIES_MIN: u64 = (3 + HOUSEHOLDS * (3 + MILESTONES_PER_HOUSEHOLD)) as u64;
/// The periods settled (calculated, validated, approved) before the one measured.
const EARLIER: [&str; 5] = ["2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2", "2024-Q3"];
const MEASURED: &str = "2024-Q4";
/// The settlement's targets: from the store with the projection up to date, and offline.
const ONLINE_TARGET_SECONDS: f64 = 2.0;
const OFFLINE_TARGET_SECONDS: f64 = 30.0;

fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("benchmark ids are well formed")
}

fn on(day: i64, minute: u32) -> OccurredAt {
    let date = NaiveDate::from_ymd_opt(2023, 7, 1).expect("a date") + Duration::days(day);
    let time = NaiveTime::from_hms_opt(9 + minute / 60 % 10, minute % 60, 0).expect("a time");
    OccurredAt::at_local(date.and_time(time)).expect("office hours avoid the clock change")
}

fn submission(occurred_at: OccurredAt, command: Command) -> Submission {
    Submission {
        event_id: EventId::new_v4(),
        occurred_at,
        command,
    }
}

/// 5 cents an access; 250 euro a milestone, at most four and 1,000 euro per household.
fn payment_terms() -> PaymentTerms {
    let rate = |text: &str| Rate::parse(text).expect("a rate");
    let money = |text: &str| Money::parse(text).expect("an amount");
    PaymentTerms {
        currency: Default::default(),
        rules: vec![
            PaymentRule::RateCard {
                indicator: "centre_accesses".to_owned(),
                rate: rate("0.05"),
                threshold: None,
                cap: None,
                max_per_beneficiary: None,
                cap_per_beneficiary: None,
            },
            PaymentRule::RateCard {
                indicator: "tenant_milestones".to_owned(),
                rate: rate("250"),
                threshold: None,
                cap: None,
                max_per_beneficiary: std::num::NonZeroU32::new(4),
                cap_per_beneficiary: Some(money("1000.00")),
            },
        ],
        period_cap: Some(money("600000.00")),
        contract_cap: Some(money("2500000.00")),
        vat_rate: None,
        vat: Default::default(),
        payers: Vec::new(),
    }
}

/// Appends the benchmark's log, `events` entries in all, in batches of the store's largest.
pub(crate) async fn build(store: &Store, contract: &ContractId, events: u64) -> anyhow::Result<()> {
    let start = NaiveDate::from_ymd_opt(2023, 7, 1).expect("a date");
    let end = NaiveDate::from_ymd_opt(2024, 12, 31).expect("a date");
    let days = u64::try_from((end - start).num_days() + 1)?;
    let mut setup = vec![
        esito_cli::demo::contract_registration(
            contract,
            "Benchmark settlement",
            "cuneo",
            start,
            end,
        ),
        submission(
            on(0, 5),
            Command::AmendContract {
                effective_on: start,
                changes: esito_cli::demo::cuneo_terms(),
            },
        ),
        submission(
            on(0, 6),
            Command::AmendContract {
                effective_on: start,
                changes: vec![ContractChange::PaymentTerms {
                    payment_terms: payment_terms(),
                }],
            },
        ),
    ];
    for household in 0..HOUSEHOLDS {
        let day = i64::try_from(household % 20)?;
        setup.push(submission(
            on(day, 10),
            Command::MakeUnitAvailable {
                unit_id: id(&format!("unit-{household}")),
                label: format!("Alloggio {household}"),
                lent_by: "Comune".to_owned(),
            },
        ));
        setup.push(submission(
            on(day, 11),
            Command::RegisterBeneficiary {
                beneficiary_id: id(&format!("hh-{household}")),
                isee_band: Some(IseeBand::A),
                household_size: Some(2),
                age_band: Some(AgeBand::From35To64),
                flags: Vec::new(),
            },
        ));
        setup.push(submission(
            on(day, 12),
            Command::StartTenancy {
                tenancy_id: id(&format!("ten-{household}")),
                unit_id: id(&format!("unit-{household}")),
                beneficiary_id: id(&format!("hh-{household}")),
                pact: Pact {
                    monthly_rent: Money::parse("180.00").expect("an amount"),
                    rent_cap: Money::parse("300.00").expect("an amount"),
                    housing_accompaniment: true,
                    financial_education: true,
                },
            },
        ));
    }
    let milestones = (HOUSEHOLDS * MILESTONES_PER_HOUSEHOLD) as u64;
    let accesses = events.saturating_sub(setup.len() as u64 + milestones);
    let total = setup.len() as u64 + milestones + accesses;
    let bar = esito_cli::progress_bar(total, "building the settlement benchmark's log");
    let mut written = 0u64;
    for batch in setup.chunks(esito_store::BATCH_SIZE_MAX) {
        store.append(contract, "bench", batch).await?;
        written += batch.len() as u64;
        bar.set_position(written);
    }
    // Milestones interleaved with the accesses: one every `stride` accesses.
    let stride = (accesses / milestones.max(1)).max(1);
    let mut batch = Vec::with_capacity(esito_store::BATCH_SIZE_MAX);
    let mut milestone = 0u64;
    for access in 0..accesses {
        let day = i64::try_from(access % days)?;
        batch.push(submission(
            on(day, u32::try_from(access / days % 600)?),
            Command::RecordAccess {
                access_id: id(&format!("a-{access}")),
                beneficiary_id: None,
                channel: AccessChannel::InPerson,
                need: NeedCategory::HomeManagement,
                outcome: AccessOutcome::InformationOnly,
            },
        ));
        if access % stride == 0 && milestone < milestones {
            let household = milestone % HOUSEHOLDS as u64;
            let nth = milestone / HOUSEHOLDS as u64;
            batch.push(submission(
                on(
                    30 + i64::try_from(nth)? * 100 + i64::try_from(household % 60)?,
                    30,
                ),
                Command::RecordTenantMilestone {
                    tenancy_id: id(&format!("ten-{household}")),
                    milestone: TenantMilestone::FinancialEducationModuleCompleted,
                },
            ));
            milestone += 1;
        }
        if batch.len() >= esito_store::BATCH_SIZE_MAX - 1 {
            store.append(contract, "bench", &batch).await?;
            written += batch.len() as u64;
            bar.set_position(written);
            batch.clear();
        }
    }
    if !batch.is_empty() {
        store.append(contract, "bench", &batch).await?;
    }
    bar.finish_and_clear();
    Ok(())
}

/// Calculates, validates and approves a period's settlement through the store, as the
/// service and its users do.
pub(crate) async fn settle_and_approve(
    store: &Store,
    contract: &ContractId,
    period: Period,
) -> anyhow::Result<()> {
    let settled = store.settlement(contract, period).await?;
    let as_of = settled.document.as_of;
    let now = OccurredAt::new(chrono::Utc::now().fixed_offset());
    let steps = [
        settled.command(None),
        Command::ValidateSettlement {
            period,
            as_of,
            note: None,
        },
        Command::ApproveSettlement {
            period,
            as_of,
            determina_number: None,
            determina_date: None,
        },
    ];
    for command in steps {
        store
            .append(contract, "bench", &[submission(now, command)])
            .await?;
    }
    Ok(())
}

fn verdict(seconds: f64, target: f64) -> &'static str {
    if seconds < target {
        "met"
    } else {
        "NOT met"
    }
}

pub async fn measure(dir: &Path, events: u64) -> anyhow::Result<serde_json::Value> {
    println!("settlement:");
    let url = format!("sqlite://{}", dir.join("settlement.db").display());
    let store = Store::connect(&url).await?;
    let contract = ContractId::parse(CONTRACT)?;

    let started = Instant::now();
    build(&store, &contract, events).await?;
    let built_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let head = store.head(&contract).await?.context("a log")?.size;
    store.catch_up(&contract, head).await?;
    let projected_seconds = started.elapsed().as_secs_f64();
    println!(
        "  log of {head} entries appended in {built_seconds:.0} s, projected in {projected_seconds:.0} s (SQLite)"
    );
    let settle_now = [
        "settle",
        "--contract",
        CONTRACT,
        "--database",
        &url,
        "--period",
        MEASURED,
    ];
    // The period alone, before any settlement: one period's values read.
    let alone = crate::run_esito(&settle_now)?;
    let (alone_seconds, alone_mib) = (alone.seconds, alone.peak_mib);
    for period in EARLIER {
        settle_and_approve(&store, &contract, period.parse()?).await?;
    }
    let head = store.head(&contract).await?.context("a log")?.size;
    store.catch_up(&contract, head).await?;

    // After five settled periods: each is recomputed as of the head, to be restated.
    let online = crate::run_esito(&settle_now)?;
    let (online_seconds, online_mib, online) = (online.seconds, online.peak_mib, online.stdout);
    let file = dir.join("settlement.jsonl");
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
    let (offline_seconds, offline_mib, offline) =
        (offline.seconds, offline.peak_mib, offline.stdout);
    anyhow::ensure!(
        online == offline,
        "the settlement from the store and the one from the export differ"
    );
    let document: serde_json::Value = serde_json::from_str(&online)?;
    println!(
        "  {MEASURED} as of position {head}, {} lines, 5 earlier periods restated: total {}",
        document["lines"].as_array().map_or(0, Vec::len),
        document["total"]
    );
    println!(
        "  esito settle from the store, the period alone        {alone_seconds:>7.2} s   peak {alone_mib:>6.1} MiB  (target < {ONLINE_TARGET_SECONDS} s: {})",
        verdict(alone_seconds, ONLINE_TARGET_SECONDS)
    );
    println!(
        "  esito settle from the store, 5 periods restated      {online_seconds:>7.2} s   peak {online_mib:>6.1} MiB  (target < {ONLINE_TARGET_SECONDS} s: {})",
        verdict(online_seconds, ONLINE_TARGET_SECONDS)
    );
    println!(
        "  esito settle --offline EXPORT ({:.0} MiB)           {offline_seconds:>7.2} s   peak {offline_mib:>6.1} MiB  (target < {OFFLINE_TARGET_SECONDS} s: {})",
        export_bytes as f64 / 1_048_576.0,
        verdict(offline_seconds, OFFLINE_TARGET_SECONDS)
    );
    println!("  the two documents are the same, byte for byte");
    Ok(json!({
        "store": "sqlite",
        "entries": head,
        "period": MEASURED,
        "earlier_periods_restated": EARLIER.len(),
        "build_seconds": built_seconds,
        "projection_seconds": projected_seconds,
        "online_period_alone": { "seconds": alone_seconds, "peak_rss_mib": alone_mib, "target_seconds": ONLINE_TARGET_SECONDS },
        "online": { "seconds": online_seconds, "peak_rss_mib": online_mib, "target_seconds": ONLINE_TARGET_SECONDS },
        "offline": { "seconds": offline_seconds, "peak_rss_mib": offline_mib, "target_seconds": OFFLINE_TARGET_SECONDS,
                     "export_bytes": export_bytes },
        "same_document": true,
        "total": document["total"],
    }))
}
