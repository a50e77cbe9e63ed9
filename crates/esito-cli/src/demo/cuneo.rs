//! Cuneo, Communal Living: the services centre, the e-commerce of tokens with ISEE tariffs,
//! the flats lent by the City, and the outcome-based contract between Comune di Cuneo (payer),
//! CRC Innova (funder, mitigated risk) and Open House (operator).
//!
//! From July 2023 to March 2024 the data set has the seed's own scale: 16 accredited
//! providers (and 2 in accreditation), 160 products, 300 accesses to the services centre,
//! 37 clients, 89 orders, 3 flats and 3 households. Rent and tenants' milestones go on to June
//! 2024, when a fourth household has moved into the flat the third one left.
//!
//! Invariant: what the seed's window holds is drawn from the first generator in the order it
//! always was, so its events keep their ids and contents; all that was added since draws from
//! a second generator.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use esito_domain::events::*;
use esito_domain::terms::{
    ContractChange, Disbursement, FunderTerms, PaymentRule, PaymentTerms, ReturnTier,
    TargetedIndicator,
};
use esito_domain::{Command, Money, Month, OccurredAt, Submission};
use rust_decimal::Decimal;

use super::{
    contract_id, date, euros, id, local, money, rate, share, Charter, Dice, Parties, Script,
    EVALUATOR,
};

pub const CONTRACT: &str = "cuneo-communal-living";

pub(super) const PARTIES: Parties = Parties {
    payer: "Comune di Cuneo",
    funder: Some("CRC Innova"),
    operator: "Open House Impresa Sociale",
    evaluator: EVALUATOR,
};

/// The last day of the seed's figures ("luglio 2023 – marzo 2024").
const SEED_WINDOW_END: &str = "2024-03-31";
/// The last month of rent in the demo: a year of tenancy from July 2023.
const RENT_END: &str = "2024-06-30";

/// The outcome-based contract's terms, in force from the term's first day.
pub(super) fn initial_terms() -> Vec<ContractChange> {
    let payment_terms = PaymentTerms {
        rules: vec![
            // Assumption: the seed names the four areas but no figures; 15 clients reached a
            // quarter earn 6,000 euro, nothing below half of it, at most 120 %.
            PaymentRule::Target {
                indicator: "clients_reached".to_owned(),
                target: rate("15"),
                threshold: rate("0.5"),
                amount: euros("6000.00"),
                cap_ratio: rate("1.2"),
            },
            // Assumption: 12 euro for each token redeemed, at most 2,400 euro a quarter.
            PaymentRule::RateCard {
                indicator: "tokens_redeemed".to_owned(),
                rate: rate("12"),
                threshold: None,
                cap: Some(euros("2400.00")),
                max_per_beneficiary: None,
                cap_per_beneficiary: None,
            },
            // Assumption: the flats 90 % occupied earn 3,000 euro a quarter, nothing below 60 %.
            PaymentRule::Target {
                indicator: "flat_occupancy".to_owned(),
                target: rate("0.9"),
                threshold: rate("0.6"),
                amount: euros("3000.00"),
                cap_ratio: rate("1"),
            },
            // Assumption: 250 euro for each tenant's milestone, at most 4 and 1,000 euro for
            // one household over the contract.
            PaymentRule::RateCard {
                indicator: "tenant_milestones".to_owned(),
                rate: rate("250"),
                threshold: None,
                cap: None,
                max_per_beneficiary: std::num::NonZeroU32::new(4),
                cap_per_beneficiary: Some(euros("1000.00")),
            },
        ],
        // Assumption: what the City appropriated: 15,000 euro a quarter, 90,000 in all.
        period_cap: Some(euros("15000.00")),
        contract_cap: Some(euros("90000.00")),
        vat_rate: None,
        payers: Vec::new(),
    };
    // Assumption: CRC Innova's capital and its remuneration ("rischio mitigato") are not in
    // the seed: 60,000 euro in two disbursements, 1 % to 4 % a year by achievement, at most
    // 60 % of a payment, half of the principal guaranteed.
    let funder_terms = FunderTerms {
        disbursements: vec![
            Disbursement {
                on: date("2023-07-03"),
                amount: euros("40000.00"),
            },
            Disbursement {
                on: date("2024-01-08"),
                amount: euros("20000.00"),
            },
        ],
        return_tiers: vec![
            ReturnTier {
                min_index: share("0"),
                annual_rate: rate("0.01"),
            },
            ReturnTier {
                min_index: share("0.5"),
                annual_rate: rate("0.025"),
            },
            ReturnTier {
                min_index: share("0.8"),
                annual_rate: rate("0.04"),
            },
        ],
        targeted_indicators: vec![
            TargetedIndicator {
                indicator: "clients_reached".to_owned(),
                target: rate("15"),
                weight: share("0.5"),
            },
            TargetedIndicator {
                indicator: "flat_occupancy".to_owned(),
                target: rate("0.9"),
                weight: share("0.5"),
            },
        ],
        max_funder_share: share("0.6"),
        guarantee_share: share("0.5"),
    };
    vec![
        ContractChange::PaymentTerms { payment_terms },
        ContractChange::FunderTerms { funder_terms },
    ]
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

/// Cuneo's submissions: catalogue, clients, centre accesses, orders and tokens, flats and rent.
pub(super) fn submissions() -> Vec<Submission> {
    let mut dice = Dice(20_230_701);
    // Draws for what was added after the seed's window, so that `dice` draws as it always did.
    let mut later = Dice(20_240_401);
    let start = date("2023-07-01");
    let end = date(SEED_WINDOW_END);
    let days = (end - start).num_days() as u64;
    let charter = Charter {
        title: "Communal Living: centro servizi, e-commerce di token e abitare",
        template: "cuneo",
        term_start_on: start,
        term_end_on: date("2024-12-31"),
        period_kind: PeriodKind::Quarter,
    };
    let mut script = Script::open(&contract_id(CONTRACT), &charter, &PARTIES, initial_terms());

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
    let after_seed_window = end.succ_opt().expect("31 March 2024 has a next day");
    let rent_end = date(RENT_END);
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
        let tenancy = Tenancy {
            id: format!("ten-{}", h + 1),
            rent,
            moved_in: start + Duration::days(2 + i64::from(h) * 7),
        };
        tenancy.start(&mut script, flat, household);
        tenancy.rent(&mut script, &mut dice, start, end);
        let milestone = |script: &mut Script, label: &str, on: &str, milestone| {
            tenancy.milestone(script, label, local(date(on), 17, h), milestone);
        };
        milestone(
            &mut script,
            "module-1",
            "2023-09-20",
            TenantMilestone::FinancialEducationModuleCompleted,
        );
        milestone(
            &mut script,
            "module-2",
            "2023-12-13",
            TenantMilestone::FinancialEducationModuleCompleted,
        );
        match h {
            0 => {
                milestone(&mut script, "job", "2024-01-22", TenantMilestone::JobFound);
                tenancy.rent(&mut script, &mut later, after_seed_window, rent_end);
                milestone(
                    &mut script,
                    "module-3",
                    "2024-04-17",
                    TenantMilestone::FinancialEducationModuleCompleted,
                );
            }
            1 => {
                milestone(
                    &mut script,
                    "savings",
                    "2024-02-28",
                    TenantMilestone::SavingsTargetReached,
                );
                tenancy.rent(&mut script, &mut later, after_seed_window, rent_end);
                milestone(
                    &mut script,
                    "module-3",
                    "2024-04-17",
                    TenantMilestone::FinancialEducationModuleCompleted,
                );
                milestone(&mut script, "job", "2024-06-10", TenantMilestone::JobFound);
            }
            _ => {
                milestone(&mut script, "job", "2023-11-06", TenantMilestone::JobFound);
                milestone(
                    &mut script,
                    "home",
                    "2024-02-16",
                    TenantMilestone::PrivateMarketHomeFound,
                );
                script.add(
                    &format!("tenancy/{}/ended", tenancy.id),
                    local(date("2024-03-29"), 18, 0),
                    Command::EndTenancy {
                        tenancy_id: id(&tenancy.id),
                        reason: TenancyEndReason::MovedToPrivateMarket,
                    },
                );
            }
        }
    }

    // The flat the third household left gets a fourth one in May 2024: a single mother and
    // her child, met at the centre in April.
    script.add(
        "beneficiary/hh-4",
        local(date("2024-04-22"), 9, 30),
        Command::RegisterBeneficiary {
            beneficiary_id: id("hh-4"),
            isee_band: IseeBand::A,
            household_size: 2,
            age_band: AgeBand::From18To34,
            flags: vec![VulnerabilityFlag::SingleParent],
        },
    );
    script.add(
        "beneficiary/hh-4/assessed",
        local(date("2024-04-22"), 11, 0),
        Command::AssessNeed {
            beneficiary_id: id("hh-4"),
            needs: vec![NeedCategory::Housing, NeedCategory::WorkLifeBalance],
            score: Some(8),
        },
    );
    let fourth = Tenancy {
        id: "ten-4".to_owned(),
        // Assumption: the seed gives no rent; 190 euro, under the pact's cap of 300.
        rent: euros("190.00"),
        moved_in: date("2024-05-02"),
    };
    fourth.start(&mut script, "flat-3", "hh-4");
    fourth.rent(&mut script, &mut later, date("2024-05-01"), rent_end);
    fourth.milestone(
        &mut script,
        "module-1",
        local(date("2024-06-19"), 17, 3),
        TenantMilestone::FinancialEducationModuleCompleted,
    );

    // "2 fornitori in fase di accreditamento": two suppliers asked, neither is accredited yet.
    script.add(
        "provider/prov-17",
        local(date("2024-02-12"), 10, 0),
        Command::RequestProviderAccreditation {
            provider_id: id("prov-17"),
            name: "Fisioterapia a Domicilio Cuneo".to_owned(),
            service_family: ServiceFamily::PersonalCare,
        },
    );
    script.add(
        "provider/prov-18",
        local(date("2024-03-18"), 10, 0),
        Command::RequestProviderAccreditation {
            provider_id: id("prov-18"),
            name: "Assistenza Anziani Valle Stura".to_owned(),
            service_family: ServiceFamily::SocioHealthCare,
        },
    );

    // The centre's analysis of the need of some clients on their first visit; four of them
    // are then oriented to a service of the territory.
    let referrals = [
        (
            "Servizi sociali del Comune",
            "Bisogno di assistenza oltre il catalogo",
        ),
        ("Sportello casa", "Ricerca di un alloggio in affitto"),
        ("CAF e patronato", "Domanda di assegno e ISEE aggiornato"),
        ("Consultorio familiare", "Sostegno alla genitorialità"),
    ];
    for (position, client) in [3usize, 8, 14, 21, 27, 33].into_iter().enumerate() {
        let (beneficiary, first_contact, _) = &clients[client - 1];
        let mut needs_brought = vec![*later.pick(&needs)];
        let second_need = *later.pick(&needs);
        if !needs_brought.contains(&second_need) {
            needs_brought.push(second_need);
        }
        script.add(
            &format!("beneficiary/{beneficiary}/assessed"),
            local(*first_contact, 11, 0),
            Command::AssessNeed {
                beneficiary_id: id(beneficiary),
                needs: needs_brought,
                // Assumption: the centre scores a need from 0 (none) to 10 (urgent).
                score: Some(later.between(3, 8) as u8),
            },
        );
        if let Some((service, reason)) = referrals.get(position) {
            let referred_on = *first_contact + Duration::days(later.between(2, 9));
            script.add(
                &format!("beneficiary/{beneficiary}/referred"),
                local(referred_on, 16, 0),
                Command::MakeReferral {
                    beneficiary_id: id(beneficiary),
                    to_service: (*service).to_owned(),
                    reason: (*reason).to_owned(),
                },
            );
        }
    }
    script.into_submissions()
}

/// A tenancy under a pact, and what the operator records on it.
struct Tenancy {
    id: String,
    rent: Money,
    moved_in: NaiveDate,
}

impl Tenancy {
    fn start(&self, script: &mut Script, flat: &str, household: &str) {
        script.add(
            &format!("tenancy/{}/started", self.id),
            local(self.moved_in, 10, 0),
            Command::StartTenancy {
                tenancy_id: id(&self.id),
                unit_id: id(flat),
                beneficiary_id: id(household),
                pact: Pact {
                    monthly_rent: self.rent,
                    rent_cap: euros("300.00"),
                    housing_accompaniment: true,
                    financial_education: true,
                },
            },
        );
    }

    /// Rent charged on the first of each month from `from` to `until` (or on moving in), and
    /// paid three to seven days later.
    fn rent(&self, script: &mut Script, dice: &mut Dice, from: NaiveDate, until: NaiveDate) {
        let mut month_start = Month::of(from).first_day();
        while month_start <= until {
            let month = Month::of(month_start);
            let charged_on = month_start.max(self.moved_in);
            script.add(
                &format!("tenancy/{}/{month}/charged", self.id),
                local(charged_on, 12, 0),
                Command::ChargeRent {
                    tenancy_id: id(&self.id),
                    month,
                    amount: self.rent,
                },
            );
            script.add(
                &format!("tenancy/{}/{month}/paid", self.id),
                local(charged_on + Duration::days(3 + dice.below(5) as i64), 15, 0),
                Command::RecordRentPayment {
                    tenancy_id: id(&self.id),
                    month,
                    amount: self.rent,
                },
            );
            month_start = Month::of(month_start + Duration::days(32)).first_day();
        }
    }

    fn milestone(
        &self,
        script: &mut Script,
        label: &str,
        occurred_at: OccurredAt,
        milestone: TenantMilestone,
    ) {
        script.add(
            &format!("tenancy/{}/{label}", self.id),
            occurred_at,
            Command::RecordTenantMilestone {
                tenancy_id: id(&self.id),
                milestone,
            },
        );
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

#[cfg(test)]
mod tests {
    use super::super::tests::count;
    use super::*;

    #[test]
    fn the_cuneo_demo_has_the_seeds_scale() {
        let submissions = submissions();
        let seed_window: Vec<Submission> = submissions
            .iter()
            .filter(|s| s.occurred_at.local_date() <= date(SEED_WINDOW_END))
            .cloned()
            .collect();
        assert_eq!(count(&seed_window, "AccreditProvider"), 16);
        assert_eq!(count(&seed_window, "RequestProviderAccreditation"), 2);
        assert_eq!(count(&seed_window, "ListProduct"), 160);
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
        assert_eq!(last.map(Month::of), Some(Month::of(date(RENT_END))));
    }

    #[test]
    fn the_first_tenancy_pays_a_year_of_rent_and_stays_open() {
        let submissions = submissions();
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
        let tariffs = submissions()
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
}
