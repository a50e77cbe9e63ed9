//! After the rule lines: the period cap, the restatements of earlier periods, the contract cap.
//!
//! The order is the one a public auditor reads a payment in. The period cap limits what this
//! period's results earn, so it applies to this period's rule lines only. A restatement is the
//! correction of an earlier period whose own cap was applied when it was recomputed, so this
//! period's cap does not touch it; it comes after the period cap. The contract cap is the
//! appropriation (the payer's commitment of funds): nothing may be paid beyond it whatever
//! period it belongs to, so it comes last and applies to everything, restatements included.
//!
//! Invariant: a binding cap adds exactly one negative line that brings the running total down to
//! the cap; a cap that does not bind adds nothing; every line before it stays as computed.

use std::collections::BTreeSet;

use esito_domain::Money;
use rust_decimal::Decimal;

use crate::amount::Amount;
use crate::arithmetic::{euro, money, sub};
use crate::document::{Figure, Line, LineKind};
use crate::error::SettlementError;
use crate::input::Restatement;

fn figure(name: &str, value: Decimal) -> Figure {
    Figure {
        name: name.to_owned(),
        value: euro(value),
    }
}

/// The period cap's line, when the rule lines add up to more than it.
pub(crate) fn period_cap_line(
    lines_total: Decimal,
    period_cap: Option<Money>,
) -> Result<Option<Line>, SettlementError> {
    let Some(cap) = period_cap else {
        return Ok(None);
    };
    if lines_total <= cap.amount() {
        return Ok(None);
    }
    let adjustment = sub(cap.amount(), lines_total)?;
    Ok(Some(Line {
        kind: LineKind::PeriodCap,
        subject: "period_cap".to_owned(),
        amount: Amount::rounded(adjustment),
        arithmetic: format!(
            "the lines add up to {} > period cap {}: {} − {} = {}",
            euro(lines_total),
            money(cap),
            money(cap),
            euro(lines_total),
            euro(adjustment)
        ),
        figures: vec![
            figure("lines_total", lines_total),
            figure("period_cap", cap.amount()),
        ],
        beneficiaries: Vec::new(),
    }))
}

/// One line per earlier period whose recomputed net differs from what was settled, in the
/// order of the periods' labels (so the order of the input does not matter).
pub(crate) fn restatement_lines(
    period: &str,
    restatements: &[Restatement],
) -> Result<Vec<Line>, SettlementError> {
    let mut seen = BTreeSet::new();
    for restatement in restatements {
        if restatement.period == period {
            return Err(SettlementError::RestatementOfTheSettledPeriod {
                period: period.to_owned(),
            });
        }
        if !seen.insert(restatement.period.as_str()) {
            return Err(SettlementError::RestatementListedTwice {
                period: restatement.period.clone(),
            });
        }
    }
    let mut sorted: Vec<&Restatement> = restatements.iter().collect();
    sorted.sort_by(|a, b| a.period.cmp(&b.period));
    let mut lines = Vec::new();
    for restatement in sorted {
        let difference = sub(
            restatement.recomputed_net.amount(),
            restatement.settled_net.amount(),
        )?;
        if difference.is_zero() {
            continue;
        }
        lines.push(Line {
            kind: LineKind::Restatement,
            subject: restatement.period.clone(),
            amount: Amount::rounded(difference),
            arithmetic: format!(
                "{} recomputed {} − settled {} = {}",
                restatement.period,
                money(restatement.recomputed_net),
                money(restatement.settled_net),
                euro(difference)
            ),
            figures: vec![
                figure("recomputed_net", restatement.recomputed_net.amount()),
                figure("settled_net", restatement.settled_net.amount()),
            ],
            beneficiaries: Vec::new(),
        });
    }
    Ok(lines)
}

/// The contract cap's line, when the running total is more than what is left of the cap.
pub(crate) fn contract_cap_line(
    running_total: Decimal,
    contract_cap: Option<Money>,
    paid_to_date: Money,
) -> Result<Option<Line>, SettlementError> {
    let Some(cap) = contract_cap else {
        return Ok(None);
    };
    let unspent = sub(cap.amount(), paid_to_date.amount())?;
    let left = unspent.max(Decimal::ZERO);
    if running_total <= left {
        return Ok(None);
    }
    let adjustment = sub(left, running_total)?;
    let left_text = if unspent < Decimal::ZERO {
        format!(
            "{} − {} paid by earlier settlements: nothing left",
            money(cap),
            money(paid_to_date)
        )
    } else {
        format!(
            "{} − {} paid by earlier settlements = {}",
            money(cap),
            money(paid_to_date),
            euro(left)
        )
    };
    Ok(Some(Line {
        kind: LineKind::ContractCap,
        subject: "contract_cap".to_owned(),
        amount: Amount::rounded(adjustment),
        arithmetic: format!(
            "left of the contract cap: {left_text}; the total {} > {}: {} − {} = {}",
            euro(running_total),
            euro(left),
            euro(left),
            euro(running_total),
            euro(adjustment)
        ),
        figures: vec![
            figure("contract_cap", cap.amount()),
            figure("paid_to_date", paid_to_date.amount()),
            figure("cap_left", left),
            figure("total_before_cap", running_total),
        ],
        beneficiaries: Vec::new(),
    }))
}
