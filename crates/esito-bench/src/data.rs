//! A large Cuneo-like log for benchmarks: the services centre's accesses, orders with their
//! tokens issued and redeemed, and tenants' milestones, every command checked by the domain as
//! any operator's would be.

use std::collections::BTreeMap;

use esito_domain::events::{
    AccessChannel, AccessOutcome, AgeBand, IseeBand, NeedCategory, OrderChannel, Pact, PeriodKind,
    ServiceFamily, TenantMilestone, TokenRecipient,
};
use esito_domain::{Command, ContractId, EventId, Money, OccurredAt, StreamId, Submission};
use esito_store::Store;

/// Clients and products of the synthetic programme.
const BENEFICIARIES: usize = 2_000;
const PRODUCTS: usize = 160;
const UNITS: usize = 3;
/// The programme's term: events are spread over five years.
const TERM_DAYS: u64 = 5 * 365;

fn id(text: &str) -> anyhow::Result<StreamId> {
    Ok(StreamId::parse(text)?)
}

fn money(text: &str) -> anyhow::Result<Money> {
    Ok(Money::parse(text)?)
}

fn at_day(day: u64, minute: u64) -> anyhow::Result<OccurredAt> {
    let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap_or_default()
        + chrono::Duration::days(i64::try_from(day.min(TERM_DAYS - 1))?);
    let local = date
        .and_hms_opt(9 + (minute / 60 % 9) as u32, (minute % 60) as u32, 0)
        .unwrap_or_default();
    OccurredAt::at_local(local).ok_or_else(|| anyhow::anyhow!("{local} is not a local time"))
}

fn submission(day: u64, minute: u64, command: Command) -> anyhow::Result<Submission> {
    Ok(Submission {
        event_id: EventId::new_v4(),
        occurred_at: at_day(day, minute)?,
        command,
    })
}

const BANDS: [IseeBand; 4] = [IseeBand::A, IseeBand::B, IseeBand::C, IseeBand::D];

fn tariff(band: usize) -> &'static str {
    ["4.00", "6.00", "8.00", "10.00"][band]
}

/// The contract, its catalogue, clients and flats.
fn setup() -> anyhow::Result<Vec<Submission>> {
    let mut out = vec![submission(
        0,
        0,
        Command::RegisterContract {
            title: "Communal Living (benchmark)".into(),
            template: "cuneo".into(),
            definitions: None,
            payer: "Comune di Cuneo".into(),
            funder: Some("CRC Innova".into()),
            operator: "Open House".into(),
            evaluator: "Valutatore".into(),
            term_start_on: "2024-01-01".parse()?,
            term_end_on: "2028-12-31".parse()?,
            period_kind: PeriodKind::Quarter,
            procurement: Default::default(),
        },
    )?];
    for provider in 0..16 {
        out.push(submission(
            0,
            1,
            Command::AccreditProvider {
                provider_id: id(&format!("prov-{provider:02}"))?,
                name: format!("Fornitore {provider}"),
                service_family: ServiceFamily::ALL[provider % ServiceFamily::ALL.len()],
            },
        )?);
    }
    for product in 0..PRODUCTS {
        let tariffs: BTreeMap<IseeBand, Money> = BANDS
            .iter()
            .enumerate()
            .map(|(band, isee)| Ok((*isee, money(tariff(band))?)))
            .collect::<anyhow::Result<_>>()?;
        out.push(submission(
            0,
            2,
            Command::ListProduct {
                product_id: id(&format!("prod-{product:03}"))?,
                provider_id: id(&format!("prov-{:02}", product % 16))?,
                name: format!("Prodotto {product}"),
                service_family: ServiceFamily::ALL[(product % 16) % ServiceFamily::ALL.len()],
                tariffs,
            },
        )?);
    }
    for beneficiary in 0..BENEFICIARIES {
        out.push(submission(
            0,
            3,
            Command::RegisterBeneficiary {
                beneficiary_id: id(&format!("ben-{beneficiary:05}"))?,
                isee_band: Some(BANDS[beneficiary % 4]),
                household_size: Some(1 + (beneficiary % 5) as u8),
                age_band: Some(AgeBand::From65To79),
                flags: Vec::new(),
            },
        )?);
    }
    for unit in 0..UNITS {
        out.push(submission(
            0,
            4,
            Command::MakeUnitAvailable {
                unit_id: id(&format!("flat-{unit}"))?,
                label: format!("Appartamento {unit}"),
                lent_by: "Comune di Cuneo".into(),
            },
        )?);
        out.push(submission(
            1,
            5,
            Command::StartTenancy {
                tenancy_id: id(&format!("ten-{unit}"))?,
                unit_id: id(&format!("flat-{unit}"))?,
                beneficiary_id: id(&format!("ben-{unit:05}"))?,
                pact: Pact {
                    monthly_rent: money("250.00")?,
                    rent_cap: money("300.00")?,
                    housing_accompaniment: true,
                    financial_education: true,
                },
            },
        )?);
    }
    Ok(out)
}

/// The `cycle`-th group of the mix: an access, an order, its token, its delivery; now and
/// then a tenant's milestone.
fn cycle(cycle: u64, cycles: u64) -> anyhow::Result<Vec<Submission>> {
    let day = 2 + cycle * (TERM_DAYS - 3) / cycles.max(1);
    let beneficiary = (cycle as usize * 7919) % BENEFICIARIES;
    let product = (cycle as usize * 31) % PRODUCTS;
    let order = id(&format!("ord-{cycle}"))?;
    let mut out = vec![
        submission(
            day,
            cycle % 480,
            Command::RecordAccess {
                access_id: id(&format!("acc-{cycle}"))?,
                beneficiary_id: (cycle % 3 != 0)
                    .then(|| id(&format!("ben-{beneficiary:05}")))
                    .transpose()?,
                channel: [
                    AccessChannel::InPerson,
                    AccessChannel::Phone,
                    AccessChannel::Email,
                ][cycle as usize % 3],
                need: [
                    NeedCategory::HomeManagement,
                    NeedCategory::ElderlyCare,
                    NeedCategory::Housing,
                ][cycle as usize % 3],
                outcome: AccessOutcome::ServiceActivated,
            },
        )?,
        submission(
            day,
            cycle % 480 + 1,
            Command::PlaceOrder {
                order_id: order.clone(),
                beneficiary_id: id(&format!("ben-{beneficiary:05}"))?,
                product_id: id(&format!("prod-{product:03}"))?,
                channel: if cycle % 2 == 0 {
                    OrderChannel::Online
                } else {
                    OrderChannel::Centre
                },
                price: money(tariff(beneficiary % 4))?,
            },
        )?,
        submission(
            day,
            cycle % 480 + 2,
            Command::IssueToken {
                order_id: order.clone(),
                token_code: format!("TK-{cycle}"),
                notified_to: vec![TokenRecipient::Client, TokenRecipient::Provider],
                expires_on: "2029-12-31".parse()?,
            },
        )?,
        submission(
            day,
            cycle % 480 + 3,
            Command::RecordDelivery {
                order_id: order,
                provider_id: id(&format!("prov-{:02}", product % 16))?,
            },
        )?,
    ];
    if cycle % 5_000 == 0 {
        out.push(submission(
            day,
            cycle % 480 + 4,
            Command::RecordTenantMilestone {
                tenancy_id: id(&format!("ten-{}", cycle as usize % UNITS))?,
                milestone: TenantMilestone::FinancialEducationModuleCompleted,
            },
        )?);
    }
    Ok(out)
}

/// Appends about `events` entries of the mix to `contract`, in batches of up to 1,000.
pub async fn load_cuneo_like(
    store: &Store,
    contract: &ContractId,
    events: u64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<u64> {
    let setup = setup()?;
    let mut written = 0u64;
    for chunk in setup.chunks(esito_store::BATCH_SIZE_MAX) {
        store.append(contract, "bench", chunk).await?;
        written += chunk.len() as u64;
    }
    let cycles = events.saturating_sub(written) / 4;
    let mut batch = Vec::with_capacity(esito_store::BATCH_SIZE_MAX);
    for n in 0..cycles {
        let next = cycle(n, cycles)?;
        if batch.len() + next.len() > esito_store::BATCH_SIZE_MAX {
            store.append(contract, "bench", &batch).await?;
            written += batch.len() as u64;
            progress(written);
            batch.clear();
        }
        batch.extend(next);
    }
    if !batch.is_empty() {
        store.append(contract, "bench", &batch).await?;
        written += batch.len() as u64;
        progress(written);
    }
    Ok(written)
}
