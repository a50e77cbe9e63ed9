//! The demo files: what the domain accepts, what each programme holds, and that loading them
//! writes the entries the demo has always written.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use esito_domain::aggregates::due_date;
use esito_domain::events::{contract_stream, AssessmentScores, IseeBand, PathExitReason};
use esito_domain::{
    decide, peers_read, DecisionContext, Money, Month, Rate, Recorded, Share, StreamId, StreamRef,
    StreamState,
};

use super::*;

fn all() -> Vec<Programme> {
    programmes().expect("the demo files parse")
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("a valid date")
}

fn euros(text: &str) -> Money {
    Money::parse(text).expect("a valid amount")
}

fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("a valid id")
}

fn without_principals(lines: Vec<(String, Submission)>) -> Vec<Submission> {
    lines
        .into_iter()
        .map(|(_, submission)| submission)
        .collect()
}

/// The submissions of the programme of `contract`, without their principals.
fn submissions(contract: &str) -> Vec<Submission> {
    let (_, text) = FILES
        .iter()
        .find(|(name, _)| *name == contract)
        .expect("a demo contract");
    without_principals(
        Programme::parse(contract, text)
            .expect("the demo file parses")
            .submissions,
    )
}

/// Decides every submission in order against the states the earlier ones left, as the
/// store does, and returns the first refusal with its index and command.
fn replay_through_the_domain(
    contract: &ContractId,
    submissions: &[Submission],
) -> Result<(), String> {
    let mut states: BTreeMap<StreamRef, StreamState> = BTreeMap::new();
    // Each stream's events, for the rules that read their dates (`peers_read`).
    let mut histories: BTreeMap<StreamRef, Vec<Recorded>> = BTreeMap::new();
    let state_of = |states: &BTreeMap<StreamRef, StreamState>, stream: &StreamRef| {
        states
            .get(stream)
            .cloned()
            .unwrap_or_else(|| StreamState::empty(stream.stream_type))
    };
    for (index, submission) in submissions.iter().enumerate() {
        let refused = |reason: String| {
            format!(
                "{contract} #{index} {} at {}: {reason}",
                submission.command.name(),
                submission.occurred_at
            )
        };
        let target = submission
            .command
            .target(contract)
            .stream()
            .ok_or_else(|| refused("the demo corrects nothing".to_owned()))?;
        let StreamState::Contract(contract_state) = state_of(&states, &contract_stream(contract))
        else {
            unreachable!("the contract stream holds a contract");
        };
        let mut context = DecisionContext {
            contract: contract_state,
            definitions: Some(&esito_indicators::templates::CATALOG),
            ..Default::default()
        };
        for read in submission.command.reads() {
            let state = state_of(&states, &read);
            context.reads.insert(read, state);
        }
        for read in submission.command.dependent_reads(&context.reads) {
            let state = state_of(&states, &read);
            context.reads.insert(read, state);
        }
        let kinds = peers_read(&submission.command, target.stream_type);
        context.peers = histories
            .iter()
            .filter(|(stream, _)| kinds.contains(&stream.stream_type) && **stream != target)
            .map(|(stream, history)| (stream.clone(), history.clone()))
            .collect();
        context.target = Some(target.clone());
        let event = decide(submission, &state_of(&states, &target), &context)
            .map_err(|error| refused(error.to_string()))?;
        histories.entry(target.clone()).or_default().push(Recorded {
            event_id: submission.event_id,
            corrects: None,
            occurred_at: submission.occurred_at,
            event: event.clone(),
        });
        states
            .entry(target.clone())
            .or_insert_with(|| StreamState::empty(target.stream_type))
            .evolve(&event)
            .map_err(|error| refused(error.to_string()))?;
    }
    Ok(())
}

fn count(submissions: &[Submission], name: &str) -> usize {
    submissions
        .iter()
        .filter(|submission| submission.command.name() == name)
        .count()
}

#[test]
fn every_command_of_the_demo_is_accepted_by_the_domain() {
    for programme in all() {
        let submissions = without_principals(programme.submissions);
        replay_through_the_domain(&programme.contract, &submissions)
            .unwrap_or_else(|refusal| panic!("{refusal}"));
    }
}

#[test]
fn every_demo_line_is_recorded_by_the_demo_loader() {
    for programme in all() {
        assert!(!programme.submissions.is_empty(), "{}", programme.contract);
        for (principal, submission) in &programme.submissions {
            assert_eq!(principal, "demo-loader", "{}", submission.event_id);
        }
    }
}

#[test]
fn event_ids_are_unique_across_the_demo() {
    let mut ids = BTreeSet::new();
    for programme in all() {
        for (_, submission) in &programme.submissions {
            assert!(
                ids.insert(submission.event_id),
                "{} {}",
                programme.contract,
                submission.command.name()
            );
        }
    }
}

#[test]
fn each_contract_opens_with_its_registration_and_its_terms() {
    for programme in all() {
        let submissions = without_principals(programme.submissions);
        let names: Vec<&str> = submissions
            .iter()
            .take(2)
            .map(|submission| submission.command.name())
            .collect();
        assert_eq!(
            names,
            ["RegisterContract", "AmendContract"],
            "{}",
            programme.contract
        );
        assert_eq!(count(&submissions, "RegisterContract"), 1);
    }
}

#[test]
fn a_load_contract_is_registered_with_cuneos_parties_and_its_terms_are_cuneos() {
    let contract = ContractId::parse("load-1").expect("a valid id");
    let registration = contract_registration(
        &contract,
        "T",
        "load",
        date("2024-01-01"),
        date("2024-12-31"),
    );
    let again = contract_registration(
        &contract,
        "T",
        "load",
        date("2024-01-01"),
        date("2024-12-31"),
    );
    assert_eq!(registration.event_id, again.event_id);
    assert_eq!(
        registration.occurred_at.to_string(),
        "2024-01-01T08:00:00+01:00"
    );
    let Command::RegisterContract {
        payer,
        funder,
        period_kind,
        ..
    } = registration.command
    else {
        panic!("a registration");
    };
    assert_eq!(payer, "Comune di Cuneo");
    // CRC Innova joins with the outcome-based terms («valido dal 01/01/2024»), not before.
    assert_eq!(funder, None);
    assert_eq!(period_kind, PeriodKind::Quarter);
    let kinds: Vec<String> = cuneo_terms()
        .iter()
        .map(|change| format!("{change:?}"))
        .map(|debug| debug.split_whitespace().next().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["TariffTerms", "Funder", "PaymentTerms", "FunderTerms"]
    );
}

#[test]
fn the_non_admin_demo_keys_cover_the_four_contracts() {
    let ids: Vec<String> = contract_ids().iter().map(ToString::to_string).collect();
    assert_eq!(
        ids,
        [
            "cuneo-communal-living",
            "torino-homes4all",
            "prato-autonomia",
            "cremona-kcity"
        ]
    );
    let provider_keys: Vec<_> = demo_keys()
        .into_iter()
        .filter(|(_, _, provider)| provider.is_some())
        .collect();
    assert_eq!(provider_keys.len(), 1);
    assert_eq!(provider_keys[0].0, Role::Provider);
    assert_eq!(provider_keys[0].2, Some("prov-01"));
}

/// The tree head of each demo contract's log with every `recorded_at` set to one instant:
/// what the demo writes, less the time it was written.
async fn fingerprints(store: &Store) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    for contract in contract_ids() {
        let mut leaves = Vec::new();
        let mut after = 0;
        loop {
            let page = store
                .entries(&contract, after, esito_store::PAGE_SIZE_MAX)
                .await
                .expect("entries read");
            let Some(last) = page.last() else { break };
            after = last.position.get();
            for stored in &page {
                let mut entry: esito_log::Entry =
                    serde_json::from_str(&stored.entry).expect("a stored entry");
                entry.recorded_at = "2000-01-01T00:00:00.000000Z".to_owned();
                leaves.push(esito_log::leaf_hash(entry.canonical_json().as_bytes()));
            }
        }
        out.push((
            contract.to_string(),
            leaves.len(),
            esito_log::merkle::root(&leaves).to_string(),
        ));
    }
    out
}

#[tokio::test]
async fn the_demo_writes_the_entries_the_generators_wrote() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let store = Store::connect(&url).await.expect("a SQLite store");
    load(&store).await.expect("the demo loads");
    // Computed once from the generators the files were written from: every entry's event id,
    // type, stream, `occurred_at`, principal and canonical payload, position by position;
    // Cuneo's again after its two products in prototyping were added (2024-02-14); all four
    // again when the timelines and funding were made the seeds' (Cuneo's terms from 2024, its
    // token money and its 37 clients ordering; Torino's grant and phase III funder; Prato's
    // bond by amendment; Cremona's one signing), with every registration's CIG, CUP and RUP
    // and Cremona's payments split between KCity (the net) and the Treasury (the VAT).
    let expected = [
        (
            "cuneo-communal-living",
            1188,
            "e65c4451084f5c6fedceade32e0559af77b04d2f0e85b14de2a9c90c2cfadd6b",
        ),
        (
            "torino-homes4all",
            151,
            "059490256c77e8adc1ddc65639348dd28d76563a6fe235c81deaa91286c3b890",
        ),
        (
            "prato-autonomia",
            261,
            "c5cb6cb7539454d402d1bc7bc61c3d8e6f7410b8146ee07dfb35ea028dc5e198",
        ),
        (
            "cremona-kcity",
            30,
            "2df9a5a4ae4210bd4c6c60381f55af80671e879e0ef891ca570112e96a4082b2",
        ),
    ]
    .map(|(contract, size, root)| (contract.to_owned(), size, root.to_owned()));
    assert_eq!(fingerprints(&store).await, expected);
}

#[tokio::test]
async fn loading_the_demo_twice_writes_nothing_the_second_time() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let store = Store::connect(&url).await.expect("a SQLite store");
    let first = load(&store).await.expect("the demo loads");
    assert!(!first.contains(" 0 events written"), "{first}");
    assert!(first.contains(", 0 already present"), "{first}");
    let again = load(&store).await.expect("the demo loads again");
    assert_eq!(again.matches(" 0 events written").count(), 4, "{again}");
    for programme in all() {
        assert!(
            again.contains(&format!(
                "{} 0 events written, {} already present",
                programme.contract,
                programme.submissions.len()
            )),
            "{again}"
        );
    }
    let key = store
        .key_by_hash(&esito_api::auth::key_hash("esito_demo_operator"))
        .await
        .expect("keys read")
        .expect("the operator's demo key is stored");
    assert_eq!(key.record.contracts.len(), 4);
    assert!(key.record.demo, "the demo's keys are marked as such");
}

#[test]
fn the_cuneo_demo_has_the_seeds_scale() {
    let submissions = submissions("cuneo-communal-living");
    let seed_window: Vec<Submission> = submissions
        .iter()
        .filter(|s| s.occurred_at.local_date() <= date("2024-03-31"))
        .cloned()
        .collect();
    assert_eq!(count(&seed_window, "AccreditProvider"), 16);
    assert_eq!(count(&seed_window, "RequestProviderAccreditation"), 2);
    assert_eq!(count(&seed_window, "ListProduct"), 160);
    // "2 nuovi prodotti in fase di prototipizzazione".
    assert_eq!(count(&seed_window, "StartProductPrototype"), 2);
    assert_eq!(count(&seed_window, "RecordAccess"), 300);
    assert_eq!(count(&seed_window, "PlaceOrder"), 89);
    assert_eq!(count(&seed_window, "MakeUnitAvailable"), 3);
    assert_eq!(count(&seed_window, "StartTenancy"), 3);
    // 37 clients and 3 tenant households.
    assert_eq!(count(&seed_window, "RegisterBeneficiary"), 40);
    assert!(count(&seed_window, "AssessNeed") >= 2);
    assert!(count(&seed_window, "MakeReferral") >= 2);
    // Nothing but housing after March 2024: the fourth household, rent and milestones.
    assert_eq!(count(&submissions, "AccreditProvider"), 16);
    assert_eq!(count(&submissions, "PlaceOrder"), 89);
    assert_eq!(count(&submissions, "StartTenancy"), 4);
    let first = submissions.first().map(|s| s.occurred_at.local_date());
    let last = submissions.iter().map(|s| s.occurred_at.local_date()).max();
    assert_eq!(first, Some(date("2023-07-01")));
    assert_eq!(last.map(Month::of), Some(Month::of(date("2024-06-30"))));
}

#[test]
fn the_demo_is_the_same_on_every_run() {
    let first = all();
    let second = all();
    assert_eq!(first.len(), 4);
    for (a, b) in first.iter().zip(&second) {
        assert_eq!(a.contract, b.contract);
        assert_eq!(a.submissions, b.submissions);
    }
}

#[test]
fn the_first_tenancy_pays_a_year_of_rent_and_stays_open() {
    let submissions = submissions("cuneo-communal-living");
    let ten_1 = id("ten-1");
    let months: Vec<String> = submissions
        .iter()
        .filter_map(|s| match &s.command {
            Command::RecordRentPayment {
                tenancy_id, month, ..
            } if *tenancy_id == ten_1 => Some(month.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(months.len(), 12);
    assert_eq!(months.first().map(String::as_str), Some("2023-07"));
    assert_eq!(months.last().map(String::as_str), Some("2024-06"));
    assert!(!submissions.iter().any(|s| matches!(
        &s.command,
        Command::EndTenancy { tenancy_id, .. } if *tenancy_id == ten_1
    )));
}

#[test]
fn the_guides_product_keeps_its_tariffs() {
    let tariffs = submissions("cuneo-communal-living")
        .into_iter()
        .find_map(|s| match s.command {
            Command::ListProduct {
                product_id,
                tariffs,
                ..
            } if product_id == id("prov-01-p01") => Some(tariffs),
            _ => None,
        })
        .expect("prov-01-p01 is listed");
    let expected: BTreeMap<IseeBand, Money> = [
        (IseeBand::A, euros("3.61")),
        (IseeBand::B, euros("5.06")),
        (IseeBand::C, euros("6.14")),
        (IseeBand::D, euros("7.22")),
    ]
    .into_iter()
    .collect();
    assert_eq!(tariffs, expected);
}

#[test]
fn torino_places_a_few_dozen_households_and_rehouses_most() {
    let submissions = submissions("torino-homes4all");
    assert_eq!(count(&submissions, "RegisterBeneficiary"), 36);
    assert_eq!(count(&submissions, "StartPlacement"), 36);
    assert_eq!(count(&submissions, "EndPlacement"), 3);
    let rehoused = count(&submissions, "RehouseHousehold");
    assert!(rehoused >= 24, "{rehoused} rehoused");
    let still_placed = 36 - 3 - rehoused;
    assert!(still_placed >= 3, "{still_placed} still placed");
    let kinds: BTreeSet<String> = submissions
        .iter()
        .filter_map(|submission| match &submission.command {
            Command::RehouseHousehold { housing, .. } => Some(format!("{housing:?}")),
            _ => None,
        })
        .collect();
    assert_eq!(kinds.len(), 2, "private and public housing: {kinds:?}");
}

#[test]
fn torino_nightly_costs_lie_between_45_and_70_euro() {
    for submission in submissions("torino-homes4all") {
        if let Command::StartPlacement { nightly_cost, .. } = submission.command {
            assert!(
                (euros("45.00")..=euros("70.00")).contains(&nightly_cost),
                "{nightly_cost}"
            );
        }
    }
}

#[test]
fn torino_happens_in_2023_and_2024() {
    for submission in submissions("torino-homes4all") {
        let on = submission.occurred_at.local_date();
        assert!(
            (date("2023-01-01")..=date("2024-12-31")).contains(&on),
            "{on}"
        );
    }
}

fn average(scores: &AssessmentScores) -> i64 {
    let total: i64 = scores.values().map(|score| i64::from(*score)).sum();
    total / i64::try_from(scores.len()).expect("a handful of scores")
}

#[test]
fn prato_enrols_a_few_dozen_households_and_most_improve() {
    let submissions = submissions("prato-autonomia");
    assert_eq!(count(&submissions, "RegisterBeneficiary"), 30);
    assert_eq!(count(&submissions, "EnrolInPath"), 30);
    assert!(count(&submissions, "ReassessPath") >= 60);
    assert!(count(&submissions, "RecordPathMilestone") >= 30);
    let mut first: BTreeMap<String, i64> = BTreeMap::new();
    let mut last: BTreeMap<String, i64> = BTreeMap::new();
    for submission in &submissions {
        match &submission.command {
            Command::EnrolInPath {
                path_id, scores, ..
            } => {
                first.insert(path_id.to_string(), average(scores));
            }
            Command::ReassessPath { path_id, scores } => {
                last.insert(path_id.to_string(), average(scores));
            }
            _ => {}
        }
    }
    let improved = last
        .iter()
        .filter(|(path, score)| **score > first[*path])
        .count();
    assert!(improved >= 20, "{improved} of 30 improved");
}

#[test]
fn prato_exits_to_the_private_market_free_a_municipal_home() {
    let exits: Vec<(PathExitReason, bool, Option<Money>)> = submissions("prato-autonomia")
        .into_iter()
        .filter_map(|submission| match submission.command {
            Command::ExitPath {
                reason,
                from_municipal_housing,
                monthly_cost_avoided,
                ..
            } => Some((reason, from_municipal_housing, monthly_cost_avoided)),
            _ => None,
        })
        .collect();
    let private: Vec<_> = exits
        .iter()
        .filter(|(reason, ..)| *reason == PathExitReason::MovedToPrivateMarket)
        .collect();
    assert!(private.len() >= 5, "{} exits to the market", private.len());
    for (_, from_municipal_housing, cost) in private {
        assert!(from_municipal_housing);
        let cost = cost.expect("a cost avoided");
        assert!(
            (euros("450.00")..=euros("750.00")).contains(&cost),
            "{cost}"
        );
    }
    assert!(exits.len() < 30, "some paths are still open");
}

#[test]
fn cremona_has_three_phases_with_the_offers_amounts() {
    let submissions = submissions("cremona-kcity");
    let rate = |text| Rate::parse(text).expect("a valid rate");
    let share = |text| Share::parse(text).expect("a valid share");
    let phases: Vec<(u8, Money, Rate, Share)> = submissions
        .iter()
        .filter_map(|submission| match &submission.command {
            Command::DefinePhase {
                number,
                amount,
                vat_rate,
                advance_share,
                ..
            } => Some((number.get(), *amount, *vat_rate, *advance_share)),
            _ => None,
        })
        .collect();
    assert_eq!(
        phases,
        [
            (1, euros("10000.00"), rate("0.22"), share("0.3")),
            (2, euros("10000.00"), rate("0.22"), share("0.3")),
            (3, euros("8000.00"), rate("0.22"), share("0.3")),
        ]
    );
    // 30 % of each phase on the one signing and 70 % on its delivery, VAT at 22 % on each.
    let invoices: Vec<(Money, Money)> = submissions
        .iter()
        .filter_map(|submission| match &submission.command {
            Command::InvoiceAdvance { amount, vat, .. }
            | Command::IssueInvoice { amount, vat, .. } => Some((*amount, *vat)),
            _ => None,
        })
        .collect();
    assert_eq!(
        invoices,
        [
            (euros("3000.00"), euros("660.00")),
            (euros("3000.00"), euros("660.00")),
            (euros("2400.00"), euros("528.00")),
            (euros("7000.00"), euros("1540.00")),
            (euros("7000.00"), euros("1540.00")),
            (euros("5600.00"), euros("1232.00")),
        ]
    );
    // 28,000 euro plus 22 % VAT, all paid: under split payment the net to KCity and the VAT
    // (0.22 × 28,000 = 6,160) to the Treasury.
    let paid_to = |payee: esito_domain::Payee| -> rust_decimal::Decimal {
        submissions
            .iter()
            .filter_map(|submission| match &submission.command {
                Command::RecordInvoicePayment {
                    amount, payee: to, ..
                } if *to == payee => Some(amount.amount()),
                _ => None,
            })
            .sum()
    };
    assert_eq!(
        Money::new(paid_to(esito_domain::Payee::Operator)),
        Ok(euros("28000.00"))
    );
    assert_eq!(
        Money::new(paid_to(esito_domain::Payee::Treasury)),
        Ok(euros("6160.00"))
    );
    assert_eq!(count(&submissions, "AcceptDeliverable"), 3);
}

#[test]
fn cremona_pays_within_30_days_but_once_late() {
    let mut issued: BTreeMap<String, NaiveDate> = BTreeMap::new();
    let mut late = Vec::new();
    for submission in submissions("cremona-kcity") {
        match submission.command {
            Command::InvoiceAdvance {
                invoice_number,
                issued_on,
                ..
            }
            | Command::IssueInvoice {
                invoice_number,
                issued_on,
                ..
            } => {
                issued.insert(invoice_number, issued_on);
            }
            // The VAT goes to the Treasury the day the net goes to KCity: count KCity's.
            Command::RecordInvoicePayment {
                invoice_number,
                paid_on,
                payee: esito_domain::Payee::Operator,
                ..
            } if paid_on > due_date(issued[&invoice_number]) => late.push(invoice_number),
            _ => {}
        }
    }
    assert_eq!(issued.len(), 6);
    assert_eq!(late, ["KC-2024-011"]);
}

/// The engagement is signed once, on its first day, and every phase's advance is invoiced on
/// the signing («un anticipo all'atto di sottoscrizione dell'incarico»); the phases then follow
/// one another, each accepted 12 to 15 weeks after the one before it (the first after the
/// signing): «entro un arco temporale di 12-15 settimane».
#[test]
fn cremona_is_signed_once_and_each_phase_takes_12_to_15_weeks() {
    let mut signed_on: BTreeMap<String, NaiveDate> = BTreeMap::new();
    let mut accepted_on: BTreeMap<String, NaiveDate> = BTreeMap::new();
    for submission in submissions("cremona-kcity") {
        match submission.command {
            Command::InvoiceAdvance {
                phase_id,
                issued_on,
                ..
            } => {
                signed_on.insert(phase_id.to_string(), issued_on);
            }
            Command::AcceptDeliverable { phase_id, .. } => {
                accepted_on.insert(phase_id.to_string(), submission.occurred_at.local_date());
            }
            _ => {}
        }
    }
    let signing: Vec<NaiveDate> = signed_on.values().copied().collect();
    assert_eq!(
        signing,
        [date("2023-07-03"); 3],
        "one signing, three advances"
    );
    let accepted: Vec<NaiveDate> = accepted_on.values().copied().collect();
    assert_eq!(accepted.len(), 3);
    let mut phase_start = date("2023-07-03");
    for (number, accepted) in accepted.into_iter().enumerate() {
        let days = (accepted - phase_start).num_days();
        assert!(
            (12 * 7..=15 * 7).contains(&days),
            "phase {} took {days} days",
            number + 1
        );
        phase_start = accepted;
    }
}
