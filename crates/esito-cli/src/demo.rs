//! `esito demo`: Cuneo's Communal Living at the seed's own scale, July 2023 to March 2024.
//!
//! The seed (Comune di Cuneo and Open House) reports 16 accredited providers, 160 products,
//! 300 accesses to the services centre, 37 clients, 89 orders, 3 flats and 3 households. The
//! data set is generated from a fixed seed, so it is the same on every machine, and every
//! event id is a UUIDv5 of its label: loading it again writes nothing.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use esito_api::auth::Role;
use esito_domain::events::*;
use esito_domain::{Command, ContractId, EventId, Money, Month, OccurredAt, StreamId, Submission};
use esito_store::Store;
use rust_decimal::Decimal;

pub const CUNEO: &str = "cuneo-communal-living";
const DEMO_PRINCIPAL: &str = "demo-loader";
const BATCH: usize = 200;

/// The namespace of the demo's event ids (UUIDv5).
const NAMESPACE: uuid::Uuid = uuid::uuid!("5b0c8f4e-8d3a-4f7e-9a51-6f1e0c2d7a90");

/// A small deterministic generator (SplitMix64): the demo must not depend on the machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("demo ids are well formed")
}

fn money(value: Decimal) -> Money {
    Money::new(value.round_dp(2)).expect("demo amounts are non-negative")
}

fn local(date: NaiveDate, hour: u32, minute: u32) -> OccurredAt {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).expect("demo times are valid");
    OccurredAt::at_local(NaiveDateTime::new(date, time)).expect("demo times avoid the clock change")
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("demo dates are valid")
}

/// The registration of a contract, with an event id that depends only on the contract.
pub fn contract_registration(
    contract: &ContractId,
    title: &str,
    template: &str,
    term_start_on: NaiveDate,
    term_end_on: NaiveDate,
) -> Submission {
    Submission {
        event_id: uuid::Uuid::new_v5(&NAMESPACE, format!("{contract}/registered").as_bytes()),
        occurred_at: local(term_start_on, 8, 0),
        command: Command::RegisterContract {
            title: title.to_owned(),
            template: template.to_owned(),
            payer: "Comune di Cuneo".to_owned(),
            funder: Some("CRC Innova".to_owned()),
            operator: "Open House Impresa Sociale".to_owned(),
            evaluator: "Valutatore indipendente".to_owned(),
            term_start_on,
            term_end_on,
            period_kind: PeriodKind::Quarter,
        },
    }
}

/// Submissions labelled and sorted by business time, so every event follows what it needs.
struct Script {
    contract: ContractId,
    items: Vec<(OccurredAt, usize, Submission)>,
}

impl Script {
    fn add(&mut self, label: &str, occurred_at: OccurredAt, command: Command) {
        let event_id: EventId =
            uuid::Uuid::new_v5(&NAMESPACE, format!("{}/{label}", self.contract).as_bytes());
        let order = self.items.len();
        self.items.push((
            occurred_at,
            order,
            Submission {
                event_id,
                occurred_at,
                command,
            },
        ));
    }
    fn into_submissions(mut self) -> Vec<Submission> {
        self.items.sort_by_key(|(at, order, _)| (*at, *order));
        self.items
            .into_iter()
            .map(|(_, _, submission)| submission)
            .collect()
    }
}

const PROVIDERS: [(&str, ServiceFamily, &str); 16] = [
    ("prov-01", ServiceFamily::Meals, "Cucina Solidale Cuneo"),
    ("prov-02", ServiceFamily::Meals, "Pasti Amici Coop"),
    (
        "prov-03",
        ServiceFamily::Meals,
        "Trattoria Sociale del Borgo",
    ),
    (
        "prov-04",
        ServiceFamily::Cleaning,
        "Casa Pulita Impresa Sociale",
    ),
    (
        "prov-05",
        ServiceFamily::Cleaning,
        "Servizi Domestici Stura",
    ),
    ("prov-06", ServiceFamily::Cleaning, "Ordine e Cura Srl"),
    (
        "prov-07",
        ServiceFamily::PersonalCare,
        "Parrucchiera a Domicilio Gesso",
    ),
    ("prov-08", ServiceFamily::PersonalCare, "Benessere in Casa"),
    (
        "prov-09",
        ServiceFamily::PersonalCare,
        "Pedicure e Manicure Cuneo",
    ),
    (
        "prov-10",
        ServiceFamily::SocioHealthCare,
        "OSS Cuneo Coop Sociale",
    ),
    (
        "prov-11",
        ServiceFamily::SocioHealthCare,
        "Infermieri di Quartiere",
    ),
    (
        "prov-12",
        ServiceFamily::Accompaniment,
        "Accompagna Cuneo ODV",
    ),
    (
        "prov-13",
        ServiceFamily::Accompaniment,
        "Trasporti Solidali Granda",
    ),
    (
        "prov-14",
        ServiceFamily::BabyParking,
        "Piccoli Passi Baby Parking",
    ),
    ("prov-15", ServiceFamily::BabyParking, "Il Nido Orario"),
    (
        "prov-16",
        ServiceFamily::SocioEducationalSupport,
        "Doposcuola Insieme",
    ),
];

/// The full tariff (band `d`) of a family, in euro; reduced bands pay a share of it.
fn base_tariff(family: ServiceFamily) -> Decimal {
    match family {
        ServiceFamily::Meals => Decimal::new(850, 2),
        ServiceFamily::Cleaning => Decimal::new(2000, 2),
        ServiceFamily::PersonalCare => Decimal::new(1800, 2),
        ServiceFamily::SocioHealthCare => Decimal::new(2400, 2),
        ServiceFamily::Accompaniment => Decimal::new(1500, 2),
        ServiceFamily::BabyParking => Decimal::new(900, 2),
        ServiceFamily::SocioEducationalSupport => Decimal::new(2200, 2),
    }
}

fn band_share(band: IseeBand) -> Decimal {
    match band {
        IseeBand::A => Decimal::new(50, 2),
        IseeBand::B => Decimal::new(70, 2),
        IseeBand::C => Decimal::new(85, 2),
        IseeBand::D => Decimal::ONE,
    }
}

struct Product {
    id: String,
    tariffs: BTreeMap<IseeBand, Money>,
}

/// The Cuneo slice: catalogue, clients, centre accesses, orders and tokens, flats and rent.
fn cuneo() -> Vec<Submission> {
    let contract = ContractId::parse(CUNEO).expect("a valid contract id");
    let mut dice = Dice(20_230_701);
    let start = date("2023-07-01");
    let end = date("2024-03-31");
    let days = (end - start).num_days() as u64;
    let mut script = Script {
        contract: contract.clone(),
        items: Vec::new(),
    };
    let registration = contract_registration(
        &contract,
        "Communal Living: centro servizi, e-commerce di token e abitare",
        "cuneo",
        start,
        date("2024-12-31"),
    );
    script
        .items
        .push((registration.occurred_at, 0, registration));

    // The catalogue: 16 providers, ten products each.
    let mut products = Vec::new();
    for (p, (provider_id, family, name)) in PROVIDERS.iter().enumerate() {
        let at = local(start, 9, 10 + p as u32);
        script.add(
            &format!("provider/{provider_id}"),
            at,
            Command::AccreditProvider {
                provider_id: id(provider_id),
                name: (*name).to_owned(),
                service_family: *family,
            },
        );
        for n in 1..=10u32 {
            let product_id = format!("{provider_id}-p{n:02}");
            let full =
                base_tariff(*family) * (Decimal::new(80, 2) + Decimal::new(i64::from(n) * 5, 2));
            let tariffs: BTreeMap<IseeBand, Money> = IseeBand::ALL
                .into_iter()
                .map(|band| (band, money(full * band_share(band))))
                .collect();
            script.add(
                &format!("product/{product_id}"),
                local(start, 10, p as u32 * 3 + n / 4),
                Command::ListProduct {
                    product_id: id(&product_id),
                    provider_id: id(provider_id),
                    name: format!("{} - pacchetto {n}", family_label(*family)),
                    service_family: *family,
                    tariffs: tariffs.clone(),
                },
            );
            products.push(Product {
                id: product_id,
                tariffs,
            });
        }
    }

    // 37 clients, registered under pseudonyms on their first contact.
    let bands = [
        IseeBand::A,
        IseeBand::A,
        IseeBand::B,
        IseeBand::B,
        IseeBand::C,
        IseeBand::D,
    ];
    let ages = [
        AgeBand::From18To34,
        AgeBand::From35To64,
        AgeBand::From65To79,
        AgeBand::From80,
    ];
    let mut clients = Vec::new();
    for c in 1..=37u32 {
        let client = format!("cl-{c:03}");
        let first_contact = start + Duration::days((u64::from(c - 1) * days / 45) as i64);
        let age_band = *dice.pick(&ages);
        let mut flags = Vec::new();
        if matches!(age_band, AgeBand::From80) || dice.below(5) == 0 {
            flags.push(VulnerabilityFlag::FrailElderly);
        }
        if dice.below(8) == 0 {
            flags.push(VulnerabilityFlag::SingleParent);
        }
        let isee_band = *dice.pick(&bands);
        script.add(
            &format!("beneficiary/{client}"),
            local(first_contact, 9, 30),
            Command::RegisterBeneficiary {
                beneficiary_id: id(&client),
                isee_band,
                household_size: 1 + dice.below(4) as u8,
                age_band,
                flags,
            },
        );
        clients.push((client, first_contact, isee_band));
    }

    // 300 accesses to the services centre, on opening days.
    let needs = [
        NeedCategory::HomeManagement,
        NeedCategory::ElderlyCare,
        NeedCategory::FrailPersonSupport,
        NeedCategory::Childcare,
        NeedCategory::Housing,
        NeedCategory::WorkLifeBalance,
    ];
    let services = [
        "Servizi sociali del Comune",
        "Sportello casa",
        "Consultorio familiare",
        "CAF e patronato",
    ];
    for a in 1..=300u64 {
        let mut day = start + Duration::days((a * days / 301) as i64);
        if chrono::Datelike::weekday(&day) == chrono::Weekday::Sun {
            day += Duration::days(1);
        }
        let known: Vec<&(String, NaiveDate, IseeBand)> = clients
            .iter()
            .filter(|(_, first, _)| *first <= day)
            .collect();
        let beneficiary_id =
            (!known.is_empty() && dice.below(10) < 6).then(|| id(&dice.pick(&known).0));
        let outcome = match dice.below(20) {
            0..=6 => AccessOutcome::ServiceActivated,
            7..=12 => AccessOutcome::Referred {
                service: (*dice.pick(&services)).to_owned(),
            },
            _ => AccessOutcome::InformationOnly,
        };
        let channel = match dice.below(10) {
            0..=6 => AccessChannel::InPerson,
            7..=8 => AccessChannel::Phone,
            _ => AccessChannel::Email,
        };
        script.add(
            &format!("access/{a}"),
            local(day, 10 + (a % 7) as u32, (a * 7 % 60) as u32),
            Command::RecordAccess {
                access_id: id(&format!("acc-{a:03}")),
                beneficiary_id,
                channel,
                need: *dice.pick(&needs),
                outcome,
            },
        );
    }

    // 89 orders: most delivered, a few expired, refunded or cancelled.
    let last_order = date("2024-03-15");
    for o in 1..=89u64 {
        let order_id = format!("ord-{o:03}");
        let (client, first_contact, band) = dice.pick(&clients).clone();
        let span = (last_order - first_contact).num_days().max(1) as u64;
        let placed_on = first_contact + Duration::days(dice.below(span) as i64);
        let product = dice.pick(&products);
        let channel = if dice.below(100) < 55 {
            OrderChannel::Online
        } else {
            OrderChannel::Centre
        };
        let label = |step: &str| format!("order/{order_id}/{step}");
        let order_stream = id(&order_id);
        script.add(
            &label("placed"),
            local(placed_on, 11, (o % 50) as u32),
            Command::PlaceOrder {
                order_id: order_stream.clone(),
                beneficiary_id: id(&client),
                product_id: id(&product.id),
                channel,
                price: product.tariffs[&band],
            },
        );
        let fate = match o % 30 {
            7 => "cancelled",
            13 | 26 => "expired",
            19 | 29 => "refunded",
            _ => "delivered",
        };
        if fate == "cancelled" {
            script.add(
                &label("cancelled"),
                local(placed_on, 16, 0),
                Command::CancelOrder {
                    order_id: order_stream,
                    reason: "Il cliente ha rinunciato".to_owned(),
                },
            );
            continue;
        }
        let expires_on = placed_on + Duration::days(if fate == "expired" { 10 } else { 60 });
        script.add(
            &label("token"),
            local(placed_on, 12, (o % 50) as u32),
            Command::IssueToken {
                order_id: order_stream.clone(),
                token_code: format!("TK-{o:05}"),
                notified_to: vec![
                    TokenRecipient::Client,
                    TokenRecipient::Centre,
                    TokenRecipient::Provider,
                ],
                expires_on,
            },
        );
        let provider_id = id(&product.id[..7]);
        match fate {
            "expired" => script.add(
                &label("expired"),
                local(expires_on + Duration::days(1), 8, 0),
                Command::ExpireToken {
                    order_id: order_stream,
                },
            ),
            "refunded" => script.add(
                &label("refunded"),
                local(placed_on + Duration::days(3), 15, 0),
                Command::RefundToken {
                    order_id: order_stream,
                    amount: product.tariffs[&band],
                },
            ),
            _ => {
                let delivered_on = placed_on + Duration::days(1 + dice.below(14) as i64);
                script.add(
                    &label("agreed"),
                    local(placed_on + Duration::days(1), 9, 0),
                    Command::AgreeDeliveryTime {
                        order_id: order_stream.clone(),
                        agreed_for: local(delivered_on, 10, 0),
                    },
                );
                script.add(
                    &label("delivered"),
                    local(delivered_on, 12, 0),
                    Command::RecordDelivery {
                        order_id: order_stream,
                        provider_id,
                    },
                );
            }
        }
    }

    // The three flats lent by the City, and the three households under a pact.
    let households = [
        (
            "hh-1",
            "flat-1",
            "Cuneo Storica, via Roma",
            6u8,
            vec![VulnerabilityFlag::LargeFamily],
            "260.00",
            IseeBand::A,
        ),
        (
            "hh-2",
            "flat-2",
            "Cuneo Storica, contrada Mondovì",
            2,
            vec![],
            "300.00",
            IseeBand::B,
        ),
        (
            "hh-3",
            "flat-3",
            "Quartiere Donatello",
            1,
            vec![VulnerabilityFlag::LeavingSaiSystem],
            "180.00",
            IseeBand::A,
        ),
    ];
    for (h, (household, flat, address, size, flags, rent, band)) in
        households.into_iter().enumerate()
    {
        let h = h as u32;
        let rent = Money::parse(rent).expect("a valid rent");
        script.add(
            &format!("unit/{flat}"),
            local(start, 8, 30 + h),
            Command::MakeUnitAvailable {
                unit_id: id(flat),
                label: address.to_owned(),
                lent_by: "Comune di Cuneo (comodato a Open House)".to_owned(),
            },
        );
        script.add(
            &format!("beneficiary/{household}"),
            local(start, 8, 40 + h),
            Command::RegisterBeneficiary {
                beneficiary_id: id(household),
                isee_band: band,
                household_size: size,
                age_band: AgeBand::From35To64,
                flags,
            },
        );
        let tenancy = format!("ten-{}", h + 1);
        let moved_in = start + Duration::days(2 + i64::from(h) * 7);
        script.add(
            &format!("tenancy/{tenancy}/started"),
            local(moved_in, 10, 0),
            Command::StartTenancy {
                tenancy_id: id(&tenancy),
                unit_id: id(flat),
                beneficiary_id: id(household),
                pact: Pact {
                    monthly_rent: rent,
                    rent_cap: Money::parse("300.00").expect("a valid cap"),
                    housing_accompaniment: true,
                    financial_education: true,
                },
            },
        );
        let mut month_start = date("2023-07-01");
        while month_start <= end {
            let month = Month::of(month_start);
            let charged_on = month_start.max(moved_in);
            script.add(
                &format!("tenancy/{tenancy}/{month}/charged"),
                local(charged_on, 12, 0),
                Command::ChargeRent {
                    tenancy_id: id(&tenancy),
                    month,
                    amount: rent,
                },
            );
            script.add(
                &format!("tenancy/{tenancy}/{month}/paid"),
                local(charged_on + Duration::days(3 + dice.below(5) as i64), 15, 0),
                Command::RecordRentPayment {
                    tenancy_id: id(&tenancy),
                    month,
                    amount: rent,
                },
            );
            month_start = (month_start + Duration::days(32)).with_day_one();
        }
        let mut milestone = |label: &str, on: &str, milestone: TenantMilestone| {
            script.add(
                &format!("tenancy/{tenancy}/{label}"),
                local(date(on), 17, h),
                Command::RecordTenantMilestone {
                    tenancy_id: id(&tenancy),
                    milestone,
                },
            );
        };
        milestone(
            "module-1",
            "2023-09-20",
            TenantMilestone::FinancialEducationModuleCompleted,
        );
        milestone(
            "module-2",
            "2023-12-13",
            TenantMilestone::FinancialEducationModuleCompleted,
        );
        match h {
            0 => milestone("job", "2024-01-22", TenantMilestone::JobFound),
            1 => milestone(
                "savings",
                "2024-02-28",
                TenantMilestone::SavingsTargetReached,
            ),
            _ => {
                milestone("job", "2023-11-06", TenantMilestone::JobFound);
                milestone(
                    "home",
                    "2024-02-16",
                    TenantMilestone::PrivateMarketHomeFound,
                );
                script.add(
                    &format!("tenancy/{tenancy}/ended"),
                    local(date("2024-03-29"), 18, 0),
                    Command::EndTenancy {
                        tenancy_id: id(&tenancy),
                        reason: TenancyEndReason::MovedToPrivateMarket,
                    },
                );
            }
        }
    }
    script.into_submissions()
}

trait FirstOfMonth {
    fn with_day_one(self) -> Self;
}

impl FirstOfMonth for NaiveDate {
    fn with_day_one(self) -> Self {
        Month::of(self).first_day()
    }
}

fn family_label(family: ServiceFamily) -> &'static str {
    match family {
        ServiceFamily::Meals => "Pasti a domicilio",
        ServiceFamily::Cleaning => "Pulizie domestiche",
        ServiceFamily::PersonalCare => "Cura della persona a domicilio",
        ServiceFamily::SocioHealthCare => "Prestazioni sociosanitarie",
        ServiceFamily::Accompaniment => "Accompagnamento",
        ServiceFamily::BabyParking => "Baby parking",
        ServiceFamily::SocioEducationalSupport => "Supporto socio-educativo",
    }
}

/// The demo's keys, one per role. They are fixed, and so public: they exist so that a newcomer
/// can call the demo at once, and must never be created on a real deployment.
pub fn demo_keys() -> Vec<(Role, String, Option<&'static str>)> {
    Role::ALL
        .into_iter()
        .map(|role| {
            let provider = (role == Role::Provider).then_some("prov-01");
            (role, format!("esito_demo_{}", role.as_str()), provider)
        })
        .collect()
}

async fn store_demo_keys(store: &Store) -> anyhow::Result<()> {
    let contract = ContractId::parse(CUNEO).expect("a valid contract id");
    for (role, key, provider) in demo_keys() {
        if store
            .key_by_hash(&esito_api::auth::key_hash(&key))
            .await?
            .is_some()
        {
            continue;
        }
        let contracts = if role == Role::Admin {
            Vec::new()
        } else {
            vec![contract.clone()]
        };
        let principal = format!("demo-{}", role.as_str());
        esito_api::auth::store_key(store, &key, &principal, role, &contracts, provider).await?;
    }
    Ok(())
}

/// Loads the demo; returns a one-line summary of what was written.
pub async fn load(store: &Store) -> anyhow::Result<String> {
    store_demo_keys(store).await?;
    let contract = ContractId::parse(CUNEO).expect("a valid contract id");
    let submissions = cuneo();
    let (mut written, mut present) = (0, 0);
    for batch in submissions.chunks(BATCH) {
        for outcome in store.append(&contract, DEMO_PRINCIPAL, batch).await? {
            if outcome.duplicate {
                present += 1;
            } else {
                written += 1;
            }
        }
    }
    Ok(format!(
        "demo {CUNEO}: {written} events written, {present} already present"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cuneo_demo_has_the_seeds_scale() {
        let submissions = cuneo();
        let count = |name: &str| {
            submissions
                .iter()
                .filter(|s| s.command.name() == name)
                .count()
        };
        assert_eq!(count("AccreditProvider"), 16);
        assert_eq!(count("ListProduct"), 160);
        assert_eq!(count("RecordAccess"), 300);
        assert_eq!(count("PlaceOrder"), 89);
        assert_eq!(count("MakeUnitAvailable"), 3);
        assert_eq!(count("StartTenancy"), 3);
        // 37 clients and 3 tenant households.
        assert_eq!(count("RegisterBeneficiary"), 40);
        let first = submissions.first().map(|s| s.occurred_at.local_date());
        let last = submissions.iter().map(|s| s.occurred_at.local_date()).max();
        assert_eq!(first, Some(date("2023-07-01")));
        assert!(
            last.is_some_and(|last| last <= date("2024-03-31")),
            "{last:?}"
        );
    }

    #[test]
    fn the_demo_is_the_same_on_every_run() {
        assert_eq!(cuneo(), cuneo());
    }
}
