//! The funder under mitigated risk: the achievement index and its return tier, the return
//! accrued (simple interest, ACT/365), the waterfall of the net outcome payment, the guarantee at
//! the final settlement, and the funder's statement.
//!
//! Conventions where docs/design.md §5 leaves a choice, each as a public lender would read it:
//! - Return accrues from the day of a disbursement (that day included) or from the end of the
//!   last settled period, up to the end of this period (not included), on the principal
//!   outstanding; `days` are calendar days, divided by 365 even in a leap year (ACT/365).
//! - The whole accrual window takes the rate of this period's achievement index.
//! - Principal repaid by a settlement stops accruing from the end of the settled period.
//! - The accrual of a period is `round_to_cent(annual_rate × Σ principal × days ÷ 365)`: one
//!   rounding per period, over all its segments.
//! - Return not paid because the funder's share of the payment ran out is carried forward to the
//!   next settlement, owed first, and earns no interest itself (simple interest).
//! - The guarantee covers principal only; return unpaid at the final settlement stays unpaid.
//!
//! Invariant: `to_return + to_principal ≤ funder_limit`, `to_return ≤ return_due`,
//! `to_principal ≤ principal_outstanding`, and the three parts add up to the payment.

use std::collections::BTreeMap;

use esito_domain::{DomainError, FunderTerms, Rate, Share};
use rust_decimal::Decimal;

use crate::amount::Amount;
use crate::arithmetic::{
    add, div, euro, exact, mul, plain, round_to_cent, round_to_six_places, rounded_to_cent, sub,
    sum, DAYS_IN_YEAR,
};
use crate::document::{
    Accrual, AccrualSegment, Achievement, AchievementTerm, FunderSection, FunderStatement,
    Guarantee, Waterfall,
};
use crate::error::SettlementError;
use esito_domain::Period;

use crate::input::{FunderInput, FunderState, IndicatorValue};
use crate::rules::indicator_value;

pub(crate) fn funder_section(
    funder: &FunderInput,
    period: &Period,
    indicators: &BTreeMap<String, IndicatorValue>,
    total: Amount,
    uncovered: Amount,
    final_settlement: bool,
) -> Result<FunderSection, SettlementError> {
    let terms = funder.terms.sorted();
    check_terms(&terms)?;
    check_state(&funder.state, period)?;
    let achievement = achievement(&terms, indicators)?;
    let (accrual, principal_days) =
        accrual(&terms, &funder.state, period, achievement.annual_rate)?;
    let disbursed = sum(terms
        .disbursements
        .iter()
        .filter(|d| d.on < period.end_on())
        .map(|d| d.amount.amount()))?;
    let outstanding = sub(disbursed, funder.state.principal_repaid.amount())?;
    let waterfall = waterfall(
        &terms,
        &funder.state,
        (total, uncovered),
        accrual.amount,
        Amount::rounded(outstanding),
    )?;
    let repaid = add(
        funder.state.principal_repaid.amount(),
        waterfall.to_principal.value(),
    )?;
    let outstanding_after = sub(disbursed, repaid)?;
    let guarantee = if final_settlement {
        Some(guarantee(terms.guarantee_share, outstanding_after)?)
    } else {
        None
    };
    let statement = statement(
        &funder.state,
        period,
        StatementFigures {
            disbursed,
            repaid,
            accrual: accrual.amount.value(),
            to_return: waterfall.to_return.value(),
            principal_days,
            annual_rate: achievement.annual_rate,
        },
    )?;
    Ok(FunderSection {
        achievement,
        accrual,
        waterfall,
        guarantee,
        statement,
    })
}

/// The rules between the funder terms' values that the arithmetic relies on.
fn check_terms(terms: &FunderTerms) -> Result<(), SettlementError> {
    let invalid = SettlementError::FunderTermsInvalid;
    if terms.disbursements.is_empty() {
        return Err(invalid(DomainError::FieldEmpty {
            field: "funder_terms.disbursements",
        }));
    }
    if terms.disbursements.iter().any(|d| !d.amount.is_positive()) {
        return Err(invalid(DomainError::AmountNotPositive {
            field: "funder_terms.disbursements.amount",
        }));
    }
    if !terms
        .return_tiers
        .iter()
        .any(|tier| tier.min_index == Share::ZERO)
    {
        return Err(invalid(DomainError::ReturnTiersWithoutFloor));
    }
    if terms.targeted_indicators.is_empty() {
        return Err(invalid(DomainError::FieldEmpty {
            field: "funder_terms.targeted_indicators",
        }));
    }
    if let Some(zero) = terms
        .targeted_indicators
        .iter()
        .find(|t| t.target.value().is_zero())
    {
        return Err(invalid(DomainError::TargetNotPositive {
            indicator: zero.indicator.clone(),
        }));
    }
    let weights: Decimal = terms
        .targeted_indicators
        .iter()
        .map(|t| t.weight.value())
        .sum();
    if weights != Decimal::ONE {
        return Err(invalid(DomainError::SharesDoNotSumToOne {
            field: "funder_terms.targeted_indicators",
            total: weights,
        }));
    }
    Ok(())
}

fn check_state(state: &FunderState, period: &Period) -> Result<(), SettlementError> {
    if state.return_paid > state.return_accrued {
        return Err(SettlementError::ReturnPaidExceedsAccrued {
            paid: state.return_paid,
            accrued: state.return_accrued,
        });
    }
    if state.principal_days.is_sign_negative() && !state.principal_days.is_zero() {
        return Err(SettlementError::PrincipalDaysNegative(state.principal_days));
    }
    if let Some(through) = state.accrued_through {
        if through >= period.end_on() {
            return Err(SettlementError::InterestAccruedPastPeriod {
                period: period.to_string(),
                accrued_through: through,
                end_on: period.end_on(),
            });
        }
    }
    Ok(())
}

fn achievement(
    terms: &FunderTerms,
    indicators: &BTreeMap<String, IndicatorValue>,
) -> Result<Achievement, SettlementError> {
    let mut parts = Vec::with_capacity(terms.targeted_indicators.len());
    let mut weighted = Vec::with_capacity(terms.targeted_indicators.len());
    for targeted in &terms.targeted_indicators {
        let value = indicator_value(indicators, &targeted.indicator)?.value;
        let (achieved, arithmetic) = match value {
            Some(value) => {
                let ratio = div(value, targeted.target.value())?;
                let achieved = ratio.min(Decimal::ONE);
                (
                    achieved,
                    format!(
                        "min({} ÷ {}, 1) = {}",
                        plain(value),
                        plain(targeted.target.value()),
                        exact(achieved)
                    ),
                )
            }
            None => (Decimal::ZERO, "no value for the period: 0".to_owned()),
        };
        weighted.push(mul(targeted.weight.value(), achieved)?);
        parts.push(AchievementTerm {
            indicator: targeted.indicator.clone(),
            value: value.map(|v| v.normalize()),
            target: targeted.target,
            weight: targeted.weight,
            achieved: achieved.normalize(),
            arithmetic,
        });
    }
    let index = round_to_six_places(sum(weighted)?);
    // Invariant: `check_terms` found a tier at 0, and the index is never negative.
    let tier = terms
        .return_tiers
        .iter()
        .rev()
        .find(|tier| tier.min_index.value() <= index)
        .ok_or(SettlementError::FunderTermsInvalid(
            DomainError::ReturnTiersWithoutFloor,
        ))?;
    let sum_text = parts
        .iter()
        .map(|p| format!("{} × {}", plain(p.weight.value()), exact(p.achieved)))
        .collect::<Vec<_>>()
        .join(" + ");
    Ok(Achievement {
        index,
        tier_min_index: tier.min_index,
        annual_rate: tier.annual_rate,
        arithmetic: format!(
            "index = round6({sum_text}) = {}; the highest tier not above it starts at {}: \
             annual rate {}",
            plain(index),
            plain(tier.min_index.value()),
            plain(tier.annual_rate.value())
        ),
        terms: parts,
    })
}

/// The return accrued in this settlement, and the euro-days of principal it accrued on.
fn accrual(
    terms: &FunderTerms,
    state: &FunderState,
    period: &Period,
    annual_rate: Rate,
) -> Result<(Accrual, Decimal), SettlementError> {
    // Invariant: `check_terms` found at least one disbursement; they are in date order.
    let first_on = terms
        .disbursements
        .first()
        .map_or(period.end_on(), |d| d.on);
    let from = state.accrued_through.unwrap_or(first_on);
    let disbursed_before = sum(terms
        .disbursements
        .iter()
        .filter(|d| d.on < from)
        .map(|d| d.amount.amount()))?;
    let carried = sub(disbursed_before, state.principal_repaid.amount())?;
    if carried < Decimal::ZERO {
        return Err(SettlementError::PrincipalRepaidExceedsDisbursed {
            repaid: state.principal_repaid,
            disbursed: disbursed_before,
            before: from,
        });
    }
    let mut starts: Vec<(Decimal, chrono::NaiveDate)> = Vec::new();
    if carried > Decimal::ZERO && from < period.end_on() {
        starts.push((carried, from));
    }
    starts.extend(
        terms
            .disbursements
            .iter()
            .filter(|d| from <= d.on && d.on < period.end_on())
            .map(|d| (d.amount.amount(), d.on)),
    );
    let rate = annual_rate.value();
    let year = Decimal::from(DAYS_IN_YEAR);
    let mut segments = Vec::with_capacity(starts.len());
    let mut principal_days = Decimal::ZERO;
    for (principal, from_on) in starts {
        let days = u32::try_from((period.end_on() - from_on).num_days())
            .map_err(|_| SettlementError::FigureOutOfRange)?;
        let euro_days = mul(principal, Decimal::from(days))?;
        principal_days = add(principal_days, euro_days)?;
        let segment_exact = div(mul(euro_days, rate)?, year)?;
        segments.push(AccrualSegment {
            principal: Amount::rounded(principal),
            from_on,
            to_on: period.end_on(),
            days,
            exact: segment_exact.normalize(),
            arithmetic: format!(
                "{} × {} × {days} ÷ {DAYS_IN_YEAR} = {}",
                euro(principal),
                plain(rate),
                exact(segment_exact)
            ),
        });
    }
    let accrued_exact = div(mul(principal_days, rate)?, year)?;
    let amount = Amount::rounded(accrued_exact);
    let arithmetic = if segments.is_empty() {
        "no principal outstanding in the period: 0.00".to_owned()
    } else {
        format!(
            "{} × Σ principal × days {} ÷ {DAYS_IN_YEAR} = {}",
            plain(rate),
            euro(principal_days),
            rounded_to_cent(accrued_exact, amount.value())
        )
    };
    Ok((
        Accrual {
            annual_rate,
            segments,
            amount,
            arithmetic,
        },
        principal_days,
    ))
}

fn waterfall(
    terms: &FunderTerms,
    state: &FunderState,
    (total, uncovered): (Amount, Amount),
    accrued: Amount,
    outstanding: Amount,
) -> Result<Waterfall, SettlementError> {
    let payment = Amount::rounded(sub(total.value(), uncovered.value())?);
    let payment_text = if uncovered.value().is_zero() {
        format!("payment: the net total {total}")
    } else {
        format!("payment: the net total {total} − {uncovered} uncovered = {payment}")
    };
    let unpaid_before = sub(state.return_accrued.amount(), state.return_paid.amount())?;
    let return_due = add(unpaid_before, accrued.value())?;
    let share = terms.max_funder_share.value();
    let payable = payment.value().max(Decimal::ZERO);
    let limit = round_to_cent(mul(share, payable)?);
    let to_return = return_due.min(limit);
    let room = sub(limit, to_return)?;
    let to_principal = outstanding.value().min(room);
    let to_operator = sub(sub(payment.value(), to_return)?, to_principal)?;
    let limit_text = if payment.is_negative() {
        format!(
            "the payment {payment} is negative: the funder's limit is 0.00, the operator bears it"
        )
    } else {
        format!(
            "funder's limit: {} × {payment} = {}",
            plain(share),
            rounded_to_cent(mul(share, payable)?, limit)
        )
    };
    let arithmetic = vec![
        payment_text,
        limit_text,
        format!(
            "return due: {} unpaid before + {accrued} accrued = {}; to return: min({}, {}) = {}",
            euro(unpaid_before),
            euro(return_due),
            euro(return_due),
            euro(limit),
            euro(to_return)
        ),
        format!(
            "to principal: min({outstanding} outstanding, {} − {} = {}) = {}",
            euro(limit),
            euro(to_return),
            euro(room),
            euro(to_principal)
        ),
        format!(
            "to the operator: {payment} − {} − {} = {}",
            euro(to_return),
            euro(to_principal),
            euro(to_operator)
        ),
    ];
    Ok(Waterfall {
        payment,
        max_funder_share: terms.max_funder_share,
        funder_limit: Amount::rounded(limit),
        return_due: Amount::rounded(return_due),
        principal_outstanding: outstanding,
        to_return: Amount::rounded(to_return),
        to_principal: Amount::rounded(to_principal),
        to_operator: Amount::rounded(to_operator),
        arithmetic,
    })
}

fn guarantee(share: Share, outstanding: Decimal) -> Result<Guarantee, SettlementError> {
    let exact_cover = mul(share.value(), outstanding)?;
    let covered = round_to_cent(exact_cover);
    let not_recovered = sub(outstanding, covered)?;
    Ok(Guarantee {
        principal_outstanding: Amount::rounded(outstanding),
        guarantee_share: share,
        covered: Amount::rounded(covered),
        not_recovered: Amount::rounded(not_recovered),
        arithmetic: format!(
            "{} × {} outstanding = {}; not recovered: {} − {} = {}",
            plain(share.value()),
            euro(outstanding),
            rounded_to_cent(exact_cover, covered),
            euro(outstanding),
            euro(covered),
            euro(not_recovered)
        ),
    })
}

struct StatementFigures {
    disbursed: Decimal,
    repaid: Decimal,
    accrual: Decimal,
    to_return: Decimal,
    principal_days: Decimal,
    annual_rate: Rate,
}

fn statement(
    state: &FunderState,
    period: &Period,
    figures: StatementFigures,
) -> Result<FunderStatement, SettlementError> {
    let accrued = add(state.return_accrued.amount(), figures.accrual)?;
    let paid = add(state.return_paid.amount(), figures.to_return)?;
    let unpaid = sub(accrued, paid)?;
    let outstanding = sub(figures.disbursed, figures.repaid)?;
    let principal_days = add(state.principal_days, figures.principal_days)?;
    let average = if principal_days.is_zero() {
        Decimal::ZERO
    } else {
        round_to_six_places(div(
            mul(accrued, Decimal::from(DAYS_IN_YEAR))?,
            principal_days,
        )?)
    };
    Ok(FunderStatement {
        principal_disbursed: Amount::rounded(figures.disbursed),
        principal_repaid: Amount::rounded(figures.repaid),
        principal_outstanding: Amount::rounded(outstanding),
        return_accrued: Amount::rounded(accrued),
        return_paid: Amount::rounded(paid),
        return_unpaid: Amount::rounded(unpaid),
        principal_days: principal_days.normalize(),
        accrued_through: period.end_on(),
        annual_rate: figures.annual_rate,
        average_annual_rate: average,
        arithmetic: format!(
            "principal: {} disbursed − {} repaid = {}; return: {} accrued − {} paid = {} carried \
             forward; average annual rate: round6({} × {DAYS_IN_YEAR} ÷ {}) = {}",
            euro(figures.disbursed),
            euro(figures.repaid),
            euro(outstanding),
            euro(accrued),
            euro(paid),
            euro(unpaid),
            euro(accrued),
            euro(principal_days),
            plain(average)
        ),
    })
}
