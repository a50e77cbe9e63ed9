//! The settlement document: every line with its arithmetic, the caps, VAT, the payers' parts,
//! and the funder's split and statement.
//!
//! Invariant: serialization is deterministic (fields in declaration order, lists in the order
//! the engine builds them, money as strings with two places), so the same input gives the same
//! bytes; and `total` is the sum of the lines' amounts.

use chrono::NaiveDate;
use esito_domain::{
    ContractId, Currency, Money, Payee, Period, Procurement, Rate, Share, VatRegime,
};
use esito_log::Hash;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::amount::Amount;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SettlementDocument {
    pub contract_id: ContractId,
    /// The period, written as its label (`2024-Q1`).
    pub period: Period,
    pub period_start_on: NaiveDate,
    /// The first day after the period.
    pub period_end_on: NaiveDate,
    /// The log position the indicator values were computed as of.
    pub as_of: u64,
    /// The tree head at `as_of`.
    #[schemars(with = "String")]
    pub root_hash: Hash,
    pub final_settlement: bool,
    /// The currency of every amount below (ISO 4217), the terms'; a document recorded before
    /// it was written is in euro.
    #[serde(default)]
    pub currency: Currency,
    /// The CIG, CUP and RUP every act on this settlement cites; absent where the contract has
    /// none (and in documents recorded before they were written).
    #[serde(default, skip_serializing_if = "Procurement::is_empty")]
    pub procurement: Procurement,
    /// Rule lines in the order of the terms, then the period cap, the restatements and the
    /// contract cap (each only when it applies).
    pub lines: Vec<Line>,
    /// The period's own payment: its rule lines after the period cap. A later restatement of
    /// this period compares against this figure.
    pub period_net: Amount,
    /// The net total: the sum of every line.
    pub total: Amount,
    /// VAT on the net total, where the contract has it.
    pub vat: Option<Vat>,
    /// `total` plus VAT.
    pub total_with_vat: Amount,
    /// How the VAT is paid, as the terms say; ordinary in a document recorded before it was
    /// written.
    #[serde(default)]
    pub vat_regime: VatRegime,
    /// Who the payer pays what: under split payment (art. 17-ter DPR 633/72) two lines, the
    /// net total to the operator and the VAT to the Treasury; otherwise one line, the total
    /// with VAT to the operator. Empty in a document recorded before it was written.
    #[serde(default)]
    pub payable: Vec<Payable>,
    /// Each payer's part of the net total, when several payers share the contract.
    pub payers: Vec<PayerPart>,
    /// What the payers' caps leave unpaid; never moved to another payer.
    pub uncovered: Amount,
    pub funder: Option<FunderSection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    RateCard,
    Target,
    SavingsShare,
    Milestone,
    PeriodCap,
    Restatement,
    ContractCap,
}

impl LineKind {
    /// The kind as its serialized tag reads.
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::RateCard => "rate_card",
            LineKind::Target => "target",
            LineKind::SavingsShare => "savings_share",
            LineKind::Milestone => "milestone",
            LineKind::PeriodCap => "period_cap",
            LineKind::Restatement => "restatement",
            LineKind::ContractCap => "contract_cap",
        }
    }
}

/// One line of the settlement: its amount, how it was computed, and the figures it used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Line {
    pub kind: LineKind,
    /// The indicator, the deliverable, the restated period, or the cap.
    pub subject: String,
    pub amount: Amount,
    /// The computation as a reader checks it by hand (`12 × 150.00 = 1800.00`).
    pub arithmetic: String,
    /// The figures the line used, in the order the arithmetic uses them.
    pub figures: Vec<Figure>,
    /// For a rate card with per-beneficiary limits: what each beneficiary counted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beneficiaries: Vec<BeneficiaryPart>,
}

/// A named figure of a line (`rate`, `value`, `cap`...), written as the arithmetic writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Figure {
    pub name: String,
    pub value: String,
}

/// What one beneficiary counted under a rate card with per-beneficiary limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BeneficiaryPart {
    pub beneficiary: String,
    /// Outcomes in the period.
    pub count: u32,
    pub counted_before: u32,
    /// Outcomes this settlement counts for the beneficiary.
    pub counted: u32,
    #[schemars(with = "String")]
    pub amount_before: Decimal,
    /// What this settlement counts for the beneficiary, at full precision (the line is rounded,
    /// not its parts). `counted_before + counted` and `amount_before + amount` are the figures
    /// the next settlement is given.
    #[schemars(with = "String")]
    pub amount: Decimal,
    pub arithmetic: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Vat {
    pub rate: Rate,
    pub amount: Amount,
    pub arithmetic: String,
}

/// One line of what the payer pays, and to whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Payable {
    /// `operator` or `treasury` (the VAT, under split payment).
    pub payee: Payee,
    pub amount: Amount,
    pub arithmetic: String,
}

/// One payer's part of the net total (largest-remainder method), limited by its cap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PayerPart {
    pub name: String,
    pub share: Share,
    /// `share × total` before rounding.
    #[schemars(with = "String")]
    pub exact: Decimal,
    /// The part after the largest-remainder rounding: the parts add up to the total.
    pub allocated: Amount,
    pub cap: Option<Money>,
    /// What is left of the cap after earlier settlements.
    pub cap_left: Option<Amount>,
    /// What the payer owes: the allocated part, at most what is left of its cap.
    pub owed: Amount,
    /// The allocated part the cap leaves unpaid.
    pub uncovered: Amount,
    pub arithmetic: String,
}

/// The funder's part of the settlement (mitigated risk).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FunderSection {
    pub achievement: Achievement,
    pub accrual: Accrual,
    pub waterfall: Waterfall,
    /// Only at the final settlement.
    pub guarantee: Option<Guarantee>,
    pub statement: FunderStatement,
}

/// The achievement index and the return tier it chooses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Achievement {
    pub terms: Vec<AchievementTerm>,
    /// `round6(Σ weight × min(value ÷ target, 1))`.
    #[schemars(with = "String")]
    pub index: Decimal,
    /// The chosen tier: the highest `min_index` not above the index.
    pub tier_min_index: Share,
    pub annual_rate: Rate,
    pub arithmetic: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AchievementTerm {
    pub indicator: String,
    /// `None` when the indicator had no value: it counts 0.
    #[schemars(with = "Option<String>")]
    pub value: Option<Decimal>,
    pub target: Rate,
    pub weight: Share,
    /// `min(value ÷ target, 1)` at full precision.
    #[schemars(with = "String")]
    pub achieved: Decimal,
    pub arithmetic: String,
}

/// Return accrued in this settlement: simple interest, ACT/365, rounded to the cent once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Accrual {
    pub annual_rate: Rate,
    pub segments: Vec<AccrualSegment>,
    pub amount: Amount,
    pub arithmetic: String,
}

/// Principal accruing from one date to the end of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AccrualSegment {
    pub principal: Amount,
    pub from_on: NaiveDate,
    /// The first day not accrued: the end of the period.
    pub to_on: NaiveDate,
    pub days: u32,
    /// `principal × annual_rate × days ÷ 365` at full precision.
    #[schemars(with = "String")]
    pub exact: Decimal,
    pub arithmetic: String,
}

/// The split of the net outcome payment: return first, then principal, together at most the
/// funder's maximum share; the rest to the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Waterfall {
    /// The net total less what the payers' caps leave uncovered.
    pub payment: Amount,
    pub max_funder_share: Share,
    /// `max_funder_share × payment`, rounded.
    pub funder_limit: Amount,
    /// Return unpaid from earlier settlements plus this settlement's accrual.
    pub return_due: Amount,
    pub principal_outstanding: Amount,
    pub to_return: Amount,
    pub to_principal: Amount,
    pub to_operator: Amount,
    /// One sentence per step, in order.
    pub arithmetic: Vec<String>,
}

/// At the final settlement: the guarantee on the principal still outstanding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Guarantee {
    pub principal_outstanding: Amount,
    pub guarantee_share: Share,
    pub covered: Amount,
    /// Principal neither repaid nor covered: the funder's loss.
    pub not_recovered: Amount,
    pub arithmetic: String,
}

/// The funder's account after this settlement: the next settlement's `FunderState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FunderStatement {
    /// Disbursed before the end of the period.
    pub principal_disbursed: Amount,
    pub principal_repaid: Amount,
    /// Disbursed less repaid (before the guarantee, at the final settlement).
    pub principal_outstanding: Amount,
    pub return_accrued: Amount,
    pub return_paid: Amount,
    /// Accrued less paid: carried forward to the next settlement, without interest on it.
    pub return_unpaid: Amount,
    #[schemars(with = "String")]
    pub principal_days: Decimal,
    pub accrued_through: NaiveDate,
    /// The rate this period's achievement chose.
    pub annual_rate: Rate,
    /// The average annual rate achieved so far: `round6(return_accrued × 365 ÷ principal_days)`.
    #[schemars(with = "String")]
    pub average_annual_rate: Decimal,
    pub arithmetic: String,
}
