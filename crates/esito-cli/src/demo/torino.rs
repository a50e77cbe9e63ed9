//! Torino, Homes4All: households waiting for a home in temporary accommodation paid by the City
//! (albergamento temporaneo), rehoused in private homes at an affordable rent that Homes4All
//! mobilises from vacant stock, or in public housing; the premium is a share of the City's
//! savings.
//!
//! 36 households placed from January 2023 to October 2024: most rehoused, three leaving
//! without a rehousing, the latest still placed when the demo ends in December 2024.

use chrono::{Duration, NaiveDate};
use esito_domain::events::{
    AccommodationKind, AgeBand, HousingKind, IseeBand, NeedCategory, PeriodKind,
    PlacementEndReason, VulnerabilityFlag,
};
use esito_domain::terms::{
    ContractChange, Disbursement, FunderTerms, PaymentRule, PaymentTerms, ReturnTier,
    TargetedIndicator,
};
use esito_domain::{Command, Money, Submission};
use rust_decimal::Decimal;

use super::{
    contract_id, date, euros, id, local, money, rate, share, Charter, Dice, Parties, Script,
    EVALUATOR,
};

pub const CONTRACT: &str = "torino-homes4all";

const PARTIES: Parties = Parties {
    payer: "Città di Torino",
    funder: Some("Compagnia di San Paolo"),
    operator: "Homes4All srl Società Benefit",
    evaluator: EVALUATOR,
};

/// Households placed in the demo ("a few dozen").
const HOUSEHOLDS: i64 = 36;
/// The first and the last first night of a placement in the demo.
const FIRST_PLACEMENT_ON: &str = "2023-01-16";
const LAST_PLACEMENT_ON: &str = "2024-10-28";
/// The demo's last day of records: a household not rehoused by then is still placed.
const RECORDS_END_ON: &str = "2024-12-20";

/// The nightly cost the City pays for a household of `size`.
// Assumption: the seed gives no cost; a hotel room costs the City 45 euro a night for one
// person and 5 more for each other member, at most 70; a residence 3 more per member.
fn nightly_cost(accommodation: AccommodationKind, size: u8) -> Money {
    let others = Decimal::from(size.saturating_sub(1));
    let cost = match accommodation {
        AccommodationKind::Residence => Decimal::from(45) + Decimal::from(3) * others,
        _ => Decimal::from(45) + Decimal::from(5) * others,
    };
    money(cost.min(Decimal::from(70)))
}

fn initial_terms() -> Vec<ContractChange> {
    let payment_terms = PaymentTerms {
        // Assumption: the seed says the premium is paid "a fronte dei saving generati per la
        // PA" without a share; half of the hotel nights' savings, at most 250,000 euro in all.
        rules: vec![PaymentRule::SavingsShare {
            indicator: "hotel_nights_savings".to_owned(),
            share: share("0.5"),
            cap: None,
        }],
        period_cap: None,
        contract_cap: Some(euros("250000.00")),
        vat_rate: None,
        payers: Vec::new(),
    };
    // Assumption: Compagnia di San Paolo's capital and remuneration are not in the seed:
    // 300,000 euro in two disbursements, 1 % to 4 % a year by achievement, at most 70 % of a
    // payment, 30 % of the principal guaranteed.
    let funder_terms = FunderTerms {
        disbursements: vec![
            Disbursement {
                on: date("2023-01-16"),
                amount: euros("200000.00"),
            },
            Disbursement {
                on: date("2024-01-15"),
                amount: euros("100000.00"),
            },
        ],
        return_tiers: vec![
            ReturnTier {
                min_index: share("0"),
                annual_rate: rate("0.01"),
            },
            ReturnTier {
                min_index: share("0.6"),
                annual_rate: rate("0.025"),
            },
            ReturnTier {
                min_index: share("0.9"),
                annual_rate: rate("0.04"),
            },
        ],
        // Assumption: four households rehoused a quarter, three of them in private homes.
        targeted_indicators: vec![
            TargetedIndicator {
                indicator: "households_rehoused".to_owned(),
                target: rate("4"),
                weight: share("0.6"),
            },
            TargetedIndicator {
                indicator: "private_affordable_rehousings".to_owned(),
                target: rate("3"),
                weight: share("0.4"),
            },
        ],
        max_funder_share: share("0.7"),
        guarantee_share: share("0.3"),
    };
    vec![
        ContractChange::PaymentTerms { payment_terms },
        ContractChange::FunderTerms { funder_terms },
    ]
}

/// Torino's submissions: households registered, placed, taken in charge, rehoused or not.
pub(super) fn submissions() -> Vec<Submission> {
    let mut dice = Dice(20_230_116);
    let charter = Charter {
        title: "Homes4All: a Torino il diritto all'abitazione si innova",
        template: "torino",
        term_start_on: date("2023-01-01"),
        term_end_on: date("2024-12-31"),
        period_kind: PeriodKind::Quarter,
    };
    let mut script = Script::open(&contract_id(CONTRACT), &charter, &PARTIES, initial_terms());
    let first_on = date(FIRST_PLACEMENT_ON);
    let span = (date(LAST_PLACEMENT_ON) - first_on).num_days();
    let records_end_on = date(RECORDS_END_ON);
    let sizes = [1u8, 1, 2, 2, 3, 3, 4, 4, 5, 6];
    let ages = [
        AgeBand::From18To34,
        AgeBand::From35To64,
        AgeBand::From35To64,
        AgeBand::From65To79,
    ];
    let bands = [IseeBand::A, IseeBand::A, IseeBand::A, IseeBand::B];
    let end_reasons = [
        PlacementEndReason::LeftVoluntarily,
        PlacementEndReason::MovedAway,
        PlacementEndReason::PlacementRevoked,
    ];
    let mut ended = 0;
    for number in 1..=HOUSEHOLDS {
        let household = format!("h4a-{number:02}");
        let placement = format!("pl-{number:02}");
        let placed_on = first_on + Duration::days((number - 1) * span / (HOUSEHOLDS - 1));
        let size = *dice.pick(&sizes);
        let mut flags = vec![VulnerabilityFlag::HousingEmergency];
        if size >= 5 {
            flags.push(VulnerabilityFlag::LargeFamily);
        }
        if (2..=4).contains(&size) && dice.below(3) == 0 {
            flags.push(VulnerabilityFlag::SingleParent);
        }
        script.add(
            &format!("beneficiary/{household}"),
            local(placed_on, 9, 0),
            Command::RegisterBeneficiary {
                beneficiary_id: id(&household),
                isee_band: *dice.pick(&bands),
                household_size: size,
                age_band: *dice.pick(&ages),
                flags,
            },
        );
        let accommodation = if dice.below(6) == 0 {
            AccommodationKind::Residence
        } else {
            AccommodationKind::Hotel
        };
        script.add(
            &format!("placement/{placement}/started"),
            local(placed_on, 15, 0),
            Command::StartPlacement {
                placement_id: id(&placement),
                beneficiary_id: id(&household),
                accommodation,
                nightly_cost: nightly_cost(accommodation, size),
            },
        );

        // Taken in charge as a whole ("presa in carico globale"): the household's needs
        // assessed within days, and some oriented to the job centre.
        let assessed_on = placed_on + Duration::days(dice.between(3, 10));
        let mut needs = vec![NeedCategory::Housing];
        match dice.below(4) {
            0 => needs.push(NeedCategory::WorkLifeBalance),
            1 if size >= 3 => needs.push(NeedCategory::Childcare),
            _ => {}
        }
        script.add(
            &format!("beneficiary/{household}/assessed"),
            local(assessed_on, 10, 30),
            Command::AssessNeed {
                beneficiary_id: id(&household),
                needs,
                score: None,
            },
        );
        if dice.below(3) == 0 {
            script.add(
                &format!("beneficiary/{household}/referred"),
                local(assessed_on + Duration::days(dice.between(7, 20)), 11, 0),
                Command::MakeReferral {
                    beneficiary_id: id(&household),
                    to_service: "Centro per l'impiego di Torino".to_owned(),
                    reason: "Ricerca di lavoro per sostenere un affitto".to_owned(),
                },
            );
        }

        if number % 12 == 5 {
            let ended_on = placed_on + Duration::days(dice.between(20, 80));
            script.add(
                &format!("placement/{placement}/ended"),
                local(ended_on, 10, 0),
                Command::EndPlacement {
                    placement_id: id(&placement),
                    reason: end_reasons[ended % end_reasons.len()],
                },
            );
            ended += 1;
            continue;
        }
        // Assumption: a rehousing takes two to ten months; three in four go to a private home
        // at an affordable rent, the others to public housing.
        let rehoused_on: NaiveDate = placed_on + Duration::days(dice.between(60, 300));
        let housing = if dice.below(4) == 0 {
            HousingKind::PublicHousing
        } else {
            HousingKind::PrivateAffordable
        };
        if rehoused_on <= records_end_on {
            script.add(
                &format!("placement/{placement}/rehoused"),
                local(rehoused_on, 11, 0),
                Command::RehouseHousehold {
                    placement_id: id(&placement),
                    housing,
                },
            );
        }
    }
    script.into_submissions()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::super::tests::count;
    use super::*;

    #[test]
    fn torino_places_a_few_dozen_households_and_rehouses_most() {
        let submissions = submissions();
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
        for submission in submissions() {
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
        for submission in submissions() {
            let on = submission.occurred_at.local_date();
            assert!(
                (date("2023-01-01")..=date("2024-12-31")).contains(&on),
                "{on}"
            );
        }
    }
}
