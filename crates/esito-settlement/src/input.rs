//! What a settlement is computed from: the period, the terms in force, the indicator values as
//! of a log position, the milestone facts, what earlier settlements paid and the funder's state.
//!
//! The same input gives the same document to the cent, wherever it was gathered: from the
//! store online or from an export offline. Nothing here is read from a clock or a database.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use esito_domain::{ContractId, FunderTerms, Money, PaymentTerms, Period, Procurement};
use esito_log::Hash;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Everything `settle` needs for one closed period of one contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementInput {
    pub contract_id: ContractId,
    pub period: Period,
    /// The log position the indicator values were computed as of.
    pub as_of: u64,
    /// The tree head (hex) of the log at `as_of`, so the document names what it was computed from.
    pub root_hash: Hash,
    /// The payment terms in force for the period.
    pub payment_terms: PaymentTerms,
    /// The period's indicator values, by indicator id: every indicator a rule or the achievement
    /// index names must be here.
    pub indicators: BTreeMap<String, IndicatorValue>,
    /// The facts of each deliverable a milestone rule names, by deliverable.
    #[serde(default)]
    pub milestones: BTreeMap<String, MilestoneFacts>,
    pub history: SettlementHistory,
    /// The funder's terms and state, for a contract with a funder.
    #[serde(default)]
    pub funder: Option<FunderInput>,
    /// The last settlement of the contract: the guarantee is called on what is outstanding.
    #[serde(default)]
    pub final_settlement: bool,
    /// The contract's CIG, CUP and RUP in force for the period, which the document cites.
    #[serde(default, skip_serializing_if = "Procurement::is_empty")]
    pub procurement: Procurement,
}

/// One indicator's value for the period, as the indicator engine gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorValue {
    /// `None` when the indicator has no value (a ratio whose denominator is 0): rules pay
    /// nothing on it and it counts 0 in the achievement index. A value that is not a count
    /// comes already rounded to six places.
    pub value: Option<Decimal>,
    /// For a rate card that limits what one beneficiary may earn (`max_per_beneficiary`,
    /// `cap_per_beneficiary`): how the value splits among beneficiaries. The counts add up to
    /// the value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beneficiaries: Vec<BeneficiaryCount>,
}

impl IndicatorValue {
    pub fn of(value: Decimal) -> Self {
        Self {
            value: Some(value),
            beneficiaries: Vec::new(),
        }
    }
}

/// One beneficiary's outcomes in the period, and what earlier settlements counted for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BeneficiaryCount {
    /// The pseudonym, never a name.
    pub beneficiary: String,
    /// Outcomes in this period.
    pub count: u32,
    /// Outcomes earlier settlements counted for this beneficiary under this rule.
    #[serde(default)]
    pub counted_before: u32,
    /// What earlier settlements counted for this beneficiary under this rule, at the precision
    /// the document's beneficiary figures give it.
    #[serde(default)]
    pub amount_before: Decimal,
}

/// What happened to one deliverable: when it was accepted, and the advance paid on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneFacts {
    /// The local date the payer accepted the deliverable, if it has.
    pub accepted_on: Option<NaiveDate>,
    /// The net advance already paid on it (Cremona: 30 % on signing).
    pub advance_paid: Money,
}

/// What earlier settlements of the contract paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettlementHistory {
    /// What earlier settlements made the payers owe, before VAT: the sum of their `total` less
    /// `uncovered`. This is what the contract cap has spent.
    pub paid_to_date: Money,
    /// For several payers: what each owed in earlier settlements, by name (absent is nothing).
    #[serde(default)]
    pub payers_paid_to_date: BTreeMap<String, Money>,
    /// Earlier periods recomputed as of the new log position.
    #[serde(default)]
    pub restatements: Vec<Restatement>,
}

impl SettlementHistory {
    /// The history of a contract's first settlement: nothing paid, nothing to restate.
    pub fn first() -> Self {
        Self {
            paid_to_date: Money::ZERO,
            payers_paid_to_date: BTreeMap::new(),
            restatements: Vec::new(),
        }
    }
}

/// An earlier period, recomputed: both figures are that period's `period_net` (its rule lines
/// after its period cap), once as settled and once as the same terms give it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Restatement {
    pub period: String,
    pub recomputed_net: Money,
    pub settled_net: Money,
}

/// The funder's terms in force and where its account stood after the last settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderInput {
    pub terms: FunderTerms,
    pub state: FunderState,
}

/// The funder's account as the last settlement's statement left it; all zero before the first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunderState {
    pub principal_repaid: Money,
    pub return_accrued: Money,
    pub return_paid: Money,
    /// Euro-days of principal on which return has accrued so far (Σ principal × days), from
    /// which the statement gives the average annual rate achieved.
    #[serde(default)]
    pub principal_days: Decimal,
    /// The day up to which (not including) return has accrued: the end of the last settled
    /// period. `None` before the first settlement: each disbursement accrues from its date.
    pub accrued_through: Option<NaiveDate>,
}

impl FunderState {
    /// The funder's account before the first settlement.
    pub fn first() -> Self {
        Self {
            principal_repaid: Money::ZERO,
            return_accrued: Money::ZERO,
            return_paid: Money::ZERO,
            principal_days: Decimal::ZERO,
            accrued_through: None,
        }
    }
}
