//! The funder's account over the term, as the settlements' documents already state it: what
//! was disbursed and is still outstanding, the return accrued and paid, each period's waterfall
//! and achievement index, and the guarantee at the end. What the funder's page shows.
//!
//! Invariant: every figure is copied from a document's funder section, never computed again,
//! so the page can only show what the settlements computed; the rows follow the periods in
//! order of their first day.

use chrono::NaiveDate;
use esito_domain::{Period, Rate};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::amount::Amount;
use crate::document::{Guarantee, SettlementDocument, Waterfall};

/// The funder's account over the settlements given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunderAccount {
    /// One row per settled period whose document has a funder section.
    pub periods: Vec<FunderPeriod>,
    /// The final settlement's guarantee, once there is one.
    pub guarantee: Option<Guarantee>,
}

/// One settled period of the funder's account: the statement after it (running totals) and
/// what the period itself accrued, paid and repaid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunderPeriod {
    pub period: Period,
    /// The first day after the period.
    pub period_end_on: NaiveDate,
    pub final_settlement: bool,
    /// Capital disbursed before the end of the period.
    pub principal_disbursed: Amount,
    pub principal_repaid: Amount,
    pub principal_outstanding: Amount,
    /// Return accrued over the term up to the end of the period.
    pub return_accrued: Amount,
    /// Return paid over the term up to this settlement.
    pub return_paid: Amount,
    pub return_unpaid: Amount,
    /// What this period accrued.
    pub accrued_in_period: Amount,
    /// `round6(Σ weight × min(value ÷ target, 1))` of this period.
    pub achievement_index: Decimal,
    pub annual_rate: Rate,
    pub waterfall: Waterfall,
}

/// The funder's account from the settlements' documents (one a period, in any order; a
/// document without a funder section adds nothing).
pub fn funder_account(documents: &[SettlementDocument]) -> FunderAccount {
    let mut with_funder: Vec<&SettlementDocument> = documents
        .iter()
        .filter(|document| document.funder.is_some())
        .collect();
    with_funder.sort_by_key(|document| (document.period_start_on, document.period_end_on));
    let mut periods = Vec::with_capacity(with_funder.len());
    let mut guarantee = None;
    for document in with_funder {
        let Some(funder) = &document.funder else {
            continue;
        };
        let statement = &funder.statement;
        periods.push(FunderPeriod {
            period: document.period,
            period_end_on: document.period_end_on,
            final_settlement: document.final_settlement,
            principal_disbursed: statement.principal_disbursed,
            principal_repaid: statement.principal_repaid,
            principal_outstanding: statement.principal_outstanding,
            return_accrued: statement.return_accrued,
            return_paid: statement.return_paid,
            return_unpaid: statement.return_unpaid,
            accrued_in_period: funder.accrual.amount,
            achievement_index: funder.achievement.index,
            annual_rate: funder.achievement.annual_rate,
            waterfall: funder.waterfall.clone(),
        });
        if funder.guarantee.is_some() {
            guarantee.clone_from(&funder.guarantee);
        }
    }
    FunderAccount { periods, guarantee }
}
