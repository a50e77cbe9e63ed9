//! Prato: autonomy paths of vulnerable households housed by the City, run by Consorzio
//! Fabrica; the future social impact bond repays an investor on outcomes.
//!
//! 30 households enrolled from October 2022 to March 2024 after a multidimensional assessment,
//! re-assessed about every four months (most improve, some stall), reaching milestones, and
//! some leaving municipal housing for the private rental market, which frees what the home
//! cost the City each month.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate};
use esito_domain::events::{
    AgeBand, AssessmentDimension, AssessmentScores, IseeBand, PathExitReason, PathMilestone,
    PeriodKind, VulnerabilityFlag, ASSESSMENT_SCORE_MAX,
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

pub const CONTRACT: &str = "prato-autonomia";

const PARTIES: Parties = Parties {
    payer: "Comune di Prato",
    // Assumption: the seed says only that an external investor will fund the operator; the
    // demo names it as still to be chosen.
    funder: Some("Investitore SIB (da individuare)"),
    operator: "Consorzio Fabrica (Gruppo CO&SO)",
    evaluator: EVALUATOR,
};

/// The dimensions of the multidimensional assessment, every one scored at each assessment.
const DIMENSIONS: [AssessmentDimension; 7] = [
    AssessmentDimension::Housing,
    AssessmentDimension::Employment,
    AssessmentDimension::Income,
    AssessmentDimension::FinancialManagement,
    AssessmentDimension::Health,
    AssessmentDimension::SocialNetwork,
    AssessmentDimension::FamilyCare,
];

/// Households enrolled in the demo ("a few dozen").
const HOUSEHOLDS: i64 = 30;
const FIRST_ENROLMENT_ON: &str = "2022-10-17";
const LAST_ENROLMENT_ON: &str = "2024-03-25";
/// The demo's last day of records: a path not closed by then is still open.
const RECORDS_END_ON: &str = "2024-12-20";
/// Exits to private housing are counted once the average score reaches this (out of 10).
const AUTONOMY_AVERAGE_MIN: i64 = 6;
/// Households that drop out of their path in the demo.
const DROPOUTS_MAX: u32 = 2;

fn initial_terms() -> Vec<ContractChange> {
    let payment_terms = PaymentTerms {
        rules: vec![
            // Assumption: 4,000 euro for each household that leaves municipal housing for the
            // private market, once per household.
            PaymentRule::RateCard {
                indicator: "exits_to_private_market".to_owned(),
                rate: rate("4000"),
                threshold: None,
                cap: None,
                max_per_beneficiary: std::num::NonZeroU32::new(1),
                cap_per_beneficiary: Some(euros("4000.00")),
            },
            // Assumption: 8,000 euro a half-year when 60 % of the households enrolled have
            // reached a milestone within a year of enrolment, nothing below 40 %, at most 125 %.
            PaymentRule::Target {
                indicator: "households_reaching_milestone_share".to_owned(),
                target: rate("0.6"),
                threshold: rate("0.4"),
                amount: euros("8000.00"),
                cap_ratio: rate("1.25"),
            },
        ],
        // Assumption: at most 40,000 euro a half-year and 150,000 euro in all.
        period_cap: Some(euros("40000.00")),
        contract_cap: Some(euros("150000.00")),
        vat_rate: None,
        payers: Vec::new(),
    };
    // Assumption: the bond starts in January 2024 with 90,000 euro; the investor bears the
    // risk (no guarantee), earning nothing below half of the targets and up to 5 % a year.
    let funder_terms = FunderTerms {
        disbursements: vec![Disbursement {
            on: date("2024-01-15"),
            amount: euros("90000.00"),
        }],
        return_tiers: vec![
            ReturnTier {
                min_index: share("0"),
                annual_rate: rate("0"),
            },
            ReturnTier {
                min_index: share("0.5"),
                annual_rate: rate("0.03"),
            },
            ReturnTier {
                min_index: share("0.8"),
                annual_rate: rate("0.05"),
            },
        ],
        targeted_indicators: vec![
            TargetedIndicator {
                indicator: "exits_to_private_market".to_owned(),
                target: rate("3"),
                weight: share("0.6"),
            },
            TargetedIndicator {
                indicator: "households_reaching_milestone_share".to_owned(),
                target: rate("0.6"),
                weight: share("0.4"),
            },
        ],
        max_funder_share: share("0.8"),
        guarantee_share: share("0"),
    };
    vec![
        ContractChange::PaymentTerms { payment_terms },
        ContractChange::FunderTerms { funder_terms },
    ]
}

/// How fast a household's scores move between two assessments.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pace {
    Steady,
    Slow,
    Stalled,
}

impl Pace {
    fn step(self, dice: &mut Dice) -> i64 {
        match self {
            Pace::Steady => dice.between(0, 2),
            Pace::Slow => dice.between(0, 1),
            Pace::Stalled => dice.between(-1, 1),
        }
    }
}

fn average(scores: &AssessmentScores) -> i64 {
    let total: i64 = scores.values().map(|score| i64::from(*score)).sum();
    total / scores.len() as i64
}

/// One household's path as the operator records it.
struct AutonomyPath<'a> {
    script: &'a mut Script,
    id: String,
    reached: BTreeSet<PathMilestone>,
}

impl AutonomyPath<'_> {
    fn milestone(&mut self, on: NaiveDate, milestone: PathMilestone) {
        if !self.reached.insert(milestone) {
            return;
        }
        let label = format!("path/{}/milestone/{milestone:?}", self.id);
        self.script.add(
            &label,
            local(on, 16, 0),
            Command::RecordPathMilestone {
                path_id: id(&self.id),
                milestone,
            },
        );
    }

    fn exit(
        &mut self,
        on: NaiveDate,
        reason: PathExitReason,
        from_municipal_housing: bool,
        monthly_cost_avoided: Option<Money>,
    ) {
        self.script.add(
            &format!("path/{}/exited", self.id),
            local(on, 12, 0),
            Command::ExitPath {
                path_id: id(&self.id),
                reason,
                from_municipal_housing,
                monthly_cost_avoided,
            },
        );
    }
}

/// Prato's submissions: households registered, enrolled, re-assessed, and some leaving.
pub(super) fn submissions() -> Vec<Submission> {
    let mut dice = Dice(20_220_915);
    let charter = Charter {
        title: "Prato: percorsi di autonomia socio-economica dei nuclei vulnerabili",
        template: "prato",
        term_start_on: date("2022-09-15"),
        // Assumption: the seed gives the start of phase II, not its end.
        term_end_on: date("2024-12-31"),
        period_kind: PeriodKind::HalfYear,
    };
    let mut script = Script::open(&contract_id(CONTRACT), &charter, &PARTIES, initial_terms());
    let first_on = date(FIRST_ENROLMENT_ON);
    let span = (date(LAST_ENROLMENT_ON) - first_on).num_days();
    let records_end_on = date(RECORDS_END_ON);
    let sizes = [1u8, 2, 2, 3, 3, 4, 4, 5, 6];
    let mut dropouts = 0;
    let mut moved_to_public_housing = false;
    for number in 1..=HOUSEHOLDS {
        let household = format!("pr-{number:02}");
        let enrolled_on = first_on + Duration::days((number - 1) * span / (HOUSEHOLDS - 1));
        let size = *dice.pick(&sizes);
        let mut flags = vec![VulnerabilityFlag::HousingEmergency];
        if size >= 5 {
            flags.push(VulnerabilityFlag::LargeFamily);
        } else if size >= 2 && dice.below(3) == 0 {
            flags.push(VulnerabilityFlag::SingleParent);
        }
        script.add(
            &format!("beneficiary/{household}"),
            local(enrolled_on - Duration::days(dice.between(7, 21)), 9, 30),
            Command::RegisterBeneficiary {
                beneficiary_id: id(&household),
                isee_band: if dice.below(4) == 0 {
                    IseeBand::B
                } else {
                    IseeBand::A
                },
                household_size: size,
                age_band: if dice.below(3) == 0 {
                    AgeBand::From18To34
                } else {
                    AgeBand::From35To64
                },
                flags,
            },
        );

        // The multidimensional assessment: 0 (most fragile) to 10 (autonomous) per dimension;
        // housing is where every household starts lowest.
        let mut scores: AssessmentScores = DIMENSIONS
            .into_iter()
            .map(|dimension| {
                let score = match dimension {
                    AssessmentDimension::Housing => dice.between(1, 3),
                    _ => dice.between(1, 5),
                };
                (dimension, score as u8)
            })
            .collect();
        let mut path = AutonomyPath {
            script: &mut script,
            id: format!("path-{number:02}"),
            reached: BTreeSet::new(),
        };
        path.script.add(
            &format!("path/{}/enrolled", path.id),
            local(enrolled_on, 11, 0),
            Command::EnrolInPath {
                path_id: id(&path.id),
                beneficiary_id: id(&household),
                scores: scores.clone(),
            },
        );
        let pace = match dice.below(10) {
            0..=5 => Pace::Steady,
            6..=7 => Pace::Slow,
            _ => Pace::Stalled,
        };
        if pace != Pace::Stalled {
            let course_on = enrolled_on + Duration::days(dice.between(50, 80));
            if course_on <= records_end_on {
                path.milestone(course_on, PathMilestone::FinancialEducationCompleted);
            }
        }

        let mut assessed_on = enrolled_on;
        let mut reassessments = 0;
        loop {
            let next_on = assessed_on + Duration::days(dice.between(110, 130));
            if next_on > records_end_on {
                break;
            }
            assessed_on = next_on;
            reassessments += 1;
            for score in scores.values_mut() {
                let moved = i64::from(*score) + pace.step(&mut dice);
                *score = moved.clamp(0, i64::from(ASSESSMENT_SCORE_MAX)) as u8;
            }
            path.script.add(
                &format!("path/{}/reassessed/{reassessments}", path.id),
                local(assessed_on, 10, 0),
                Command::ReassessPath {
                    path_id: id(&path.id),
                    scores: scores.clone(),
                },
            );
            // Milestones follow what the assessment found, within weeks and before the next.
            let soon = assessed_on + Duration::days(dice.between(5, 25));
            let score = |dimension| scores[&dimension];
            if soon <= records_end_on {
                if score(AssessmentDimension::Employment) >= 6 {
                    path.milestone(soon, PathMilestone::JobFound);
                }
                if score(AssessmentDimension::Income) >= 6
                    && path.reached.contains(&PathMilestone::JobFound)
                {
                    path.milestone(soon, PathMilestone::IncomeStabilised);
                }
                if score(AssessmentDimension::FinancialManagement) >= 6 {
                    path.milestone(soon, PathMilestone::DebtsSettled);
                }
                if score(AssessmentDimension::FinancialManagement) >= 7 {
                    path.milestone(soon, PathMilestone::SavingsTargetReached);
                }
            }

            if pace == Pace::Steady
                && reassessments >= 2
                && average(&scores) >= AUTONOMY_AVERAGE_MIN
            {
                let found_on = assessed_on + Duration::days(dice.between(30, 50));
                let exit_on = found_on + Duration::days(dice.between(14, 40));
                if exit_on <= records_end_on {
                    path.milestone(found_on, PathMilestone::PrivateRentalFound);
                    // Assumption: a municipal home (own or in convenzione) costs the City 450
                    // to 750 euro a month.
                    let cost = money(Decimal::from(dice.between(45, 75) * 10));
                    path.exit(
                        exit_on,
                        PathExitReason::MovedToPrivateMarket,
                        true,
                        Some(cost),
                    );
                    break;
                }
            }
            if pace == Pace::Stalled && reassessments >= 2 && dropouts < DROPOUTS_MAX {
                dropouts += 1;
                // After any milestone of this assessment, which falls within 25 days.
                let exit_on = assessed_on + Duration::days(dice.between(30, 60));
                if exit_on <= records_end_on {
                    path.exit(exit_on, PathExitReason::DroppedOut, false, None);
                    break;
                }
            }
            if pace == Pace::Slow && reassessments >= 2 && !moved_to_public_housing {
                // Public housing (ERP) assigned by Edilizia Pubblica Pratese: the household
                // leaves the path, but the City still houses it, so nothing is avoided.
                moved_to_public_housing = true;
                let exit_on = assessed_on + Duration::days(dice.between(30, 60));
                if exit_on <= records_end_on {
                    path.exit(exit_on, PathExitReason::MovedToOtherHousing, true, None);
                    break;
                }
            }
        }
    }
    script.into_submissions()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::tests::count;
    use super::*;

    #[test]
    fn prato_enrols_a_few_dozen_households_and_most_improve() {
        let submissions = submissions();
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
        let exits: Vec<(PathExitReason, bool, Option<Money>)> = submissions()
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
}
