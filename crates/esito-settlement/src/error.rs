//! Why a settlement cannot be computed: one variant per broken rule, with a stable snake_case
//! code, so that the API and the offline tool report the same refusal.

use chrono::NaiveDate;
use esito_domain::{DomainError, Money};
use rust_decimal::Decimal;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettlementError {
    #[error("the payment terms break a rule: {0}")]
    PaymentTermsInvalid(DomainError),
    #[error("the funder terms break a rule: {0}")]
    FunderTermsInvalid(DomainError),
    #[error("no value was given for indicator {indicator}, which the terms use")]
    IndicatorValueMissing { indicator: String },
    #[error("indicator {indicator} has the negative value {value}")]
    IndicatorValueNegative { indicator: String, value: Decimal },
    #[error(
        "indicator {indicator} has the value {value}: values come rounded to at most six places"
    )]
    IndicatorValueNotRounded { indicator: String, value: Decimal },
    #[error(
        "indicator {indicator} pays per beneficiary, but its value {value} comes without the \
         counts of each beneficiary"
    )]
    BeneficiaryCountsMissing { indicator: String, value: Decimal },
    #[error(
        "the counts of each beneficiary of {indicator} add up to {sum}, not to its value {value}"
    )]
    BeneficiaryCountsDisagreeWithValue {
        indicator: String,
        value: Decimal,
        sum: u64,
    },
    #[error("beneficiary {beneficiary} is listed twice for indicator {indicator}")]
    BeneficiaryListedTwice {
        indicator: String,
        beneficiary: String,
    },
    #[error(
        "beneficiary {beneficiary} of indicator {indicator} has the negative amount_before {amount_before}"
    )]
    BeneficiaryAmountBeforeNegative {
        indicator: String,
        beneficiary: String,
        amount_before: Decimal,
    },
    #[error(
        "no facts were given for deliverable {deliverable}, which the terms pay on acceptance"
    )]
    MilestoneFactsMissing { deliverable: String },
    #[error("the advance paid on {deliverable} ({advance_paid}) exceeds its amount {amount}")]
    AdvanceExceedsMilestoneAmount {
        deliverable: String,
        amount: Money,
        advance_paid: Money,
    },
    #[error("earlier period {period} is restated twice")]
    RestatementListedTwice { period: String },
    #[error("period {period} is being settled and cannot restate itself")]
    RestatementOfTheSettledPeriod { period: String },
    #[error("what earlier settlements paid names {payer}, which is not a payer of the terms")]
    UnknownPayer { payer: String },
    #[error(
        "the funder was repaid {repaid} of principal, more than the {disbursed} disbursed \
         before {before}"
    )]
    PrincipalRepaidExceedsDisbursed {
        repaid: Money,
        disbursed: Decimal,
        before: NaiveDate,
    },
    #[error("the funder was paid {paid} of return, more than the {accrued} accrued")]
    ReturnPaidExceedsAccrued { paid: Money, accrued: Money },
    #[error("principal_days must not be negative (got {0})")]
    PrincipalDaysNegative(Decimal),
    #[error(
        "interest was accrued through {accrued_through}, not before the end of period {period} \
         ({end_on}): the period was settled already"
    )]
    InterestAccruedPastPeriod {
        period: String,
        accrued_through: NaiveDate,
        end_on: NaiveDate,
    },
    #[error("a figure goes beyond the 28 significant digits of exact decimal arithmetic")]
    FigureOutOfRange,
}

impl SettlementError {
    /// A stable snake_case code for each rule, for problem details and scripts.
    pub fn code(&self) -> &'static str {
        match self {
            SettlementError::PaymentTermsInvalid(_) => "payment_terms_invalid",
            SettlementError::FunderTermsInvalid(_) => "funder_terms_invalid",
            SettlementError::IndicatorValueMissing { .. } => "indicator_value_missing",
            SettlementError::IndicatorValueNegative { .. } => "indicator_value_negative",
            SettlementError::IndicatorValueNotRounded { .. } => "indicator_value_not_rounded",
            SettlementError::BeneficiaryCountsMissing { .. } => "beneficiary_counts_missing",
            SettlementError::BeneficiaryCountsDisagreeWithValue { .. } => {
                "beneficiary_counts_disagree_with_value"
            }
            SettlementError::BeneficiaryListedTwice { .. } => "beneficiary_listed_twice",
            SettlementError::BeneficiaryAmountBeforeNegative { .. } => {
                "beneficiary_amount_before_negative"
            }
            SettlementError::MilestoneFactsMissing { .. } => "milestone_facts_missing",
            SettlementError::AdvanceExceedsMilestoneAmount { .. } => {
                "advance_exceeds_milestone_amount"
            }
            SettlementError::RestatementListedTwice { .. } => "restatement_listed_twice",
            SettlementError::RestatementOfTheSettledPeriod { .. } => {
                "restatement_of_the_settled_period"
            }
            SettlementError::UnknownPayer { .. } => "unknown_payer",
            SettlementError::PrincipalRepaidExceedsDisbursed { .. } => {
                "principal_repaid_exceeds_disbursed"
            }
            SettlementError::ReturnPaidExceedsAccrued { .. } => "return_paid_exceeds_accrued",
            SettlementError::PrincipalDaysNegative(_) => "principal_days_negative",
            SettlementError::InterestAccruedPastPeriod { .. } => "interest_accrued_past_period",
            SettlementError::FigureOutOfRange => "figure_out_of_range",
        }
    }
}
