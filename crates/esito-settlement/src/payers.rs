//! Several payers: each owes its share of the net total, rounded by the largest-remainder method
//! so that the parts add up exactly to the total, then limited by what is left of its own cap.
//!
//! The method: every part is first rounded toward zero to the cent; the cents this leaves over
//! (fewer than the number of payers) go one each to the parts with the largest remainders. Equal
//! remainders are broken by the order of the payers in the terms: the payer listed first gets
//! its cent first. A negative total (a restatement that recovers money) is split the same way
//! on its magnitude. An amount over a payer's cap is reported as uncovered; it is never moved to
//! another payer.
//!
//! Invariant: the allocated parts add up to the total exactly; no part differs from its exact
//! share by a cent or more; each payer owes at most what is left of its cap; owed plus uncovered
//! is the allocated part.

use std::collections::BTreeMap;

use esito_domain::terms::PayerShare;
use esito_domain::Money;
use rust_decimal::Decimal;

use crate::amount::Amount;
use crate::arithmetic::{euro, money, mul, plain, sub};
use crate::document::PayerPart;
use crate::error::SettlementError;

const CENTS_IN_A_EURO: Decimal = Decimal::ONE_HUNDRED;

/// The payers' parts of `total`; empty when the contract's payer pays everything.
pub(crate) fn payer_parts(
    total: Amount,
    payers: &[PayerShare],
    paid_to_date: &BTreeMap<String, Money>,
) -> Result<Vec<PayerPart>, SettlementError> {
    if let Some(unknown) = paid_to_date
        .keys()
        .find(|name| !payers.iter().any(|payer| &payer.name == *name))
    {
        return Err(SettlementError::UnknownPayer {
            payer: unknown.clone(),
        });
    }
    if payers.is_empty() {
        return Ok(Vec::new());
    }
    let allocated = largest_remainder(total.value(), payers)?;
    let mut parts = Vec::with_capacity(payers.len());
    for ((payer, exact), allocated) in payers.iter().zip(allocated.exact).zip(allocated.cents) {
        let allocated = Amount::rounded(allocated);
        let split = if exact == allocated.value() {
            euro(exact)
        } else {
            format!("{} → {allocated} (largest remainder)", plain(exact))
        };
        let mut steps = vec![format!(
            "{} × {} = {split}",
            plain(payer.share.value()),
            total
        )];
        let (cap_left, owed) = match payer.cap {
            Some(cap) => {
                let before = paid_to_date
                    .get(&payer.name)
                    .copied()
                    .unwrap_or(Money::ZERO);
                let left = sub(cap.amount(), before.amount())?.max(Decimal::ZERO);
                let owed = if allocated.value() > left {
                    left
                } else {
                    allocated.value()
                };
                steps.push(format!(
                    "cap {} − {} owed before = {} left: owes {}",
                    money(cap),
                    money(before),
                    euro(left),
                    euro(owed)
                ));
                (Some(Amount::rounded(left)), Amount::rounded(owed))
            }
            None => (None, allocated),
        };
        let uncovered = Amount::rounded(sub(allocated.value(), owed.value())?);
        if !uncovered.value().is_zero() {
            steps.push(format!("{allocated} − {owed} = {uncovered} uncovered"));
        }
        parts.push(PayerPart {
            name: payer.name.clone(),
            share: payer.share,
            exact: exact.normalize(),
            allocated,
            cap: payer.cap,
            cap_left,
            owed,
            uncovered,
            arithmetic: steps.join("; "),
        });
    }
    Ok(parts)
}

struct Allocation {
    /// `share × total` at full precision, one per payer.
    exact: Vec<Decimal>,
    /// The rounded parts, in euro, one per payer.
    cents: Vec<Decimal>,
}

fn largest_remainder(total: Decimal, payers: &[PayerShare]) -> Result<Allocation, SettlementError> {
    let negative = total < Decimal::ZERO;
    let magnitude_cents = mul(total.abs(), CENTS_IN_A_EURO)?;
    let mut exact = Vec::with_capacity(payers.len());
    let mut floors = Vec::with_capacity(payers.len());
    let mut remainders = Vec::with_capacity(payers.len());
    for payer in payers {
        exact.push(mul(payer.share.value(), total)?);
        let share_cents = mul(payer.share.value(), magnitude_cents)?;
        let floor = share_cents.floor();
        floors.push(floor);
        remainders.push(sub(share_cents, floor)?);
    }
    let floors_total: Decimal = floors.iter().copied().sum();
    // Invariant: the shares add up to one (`PaymentTerms::check`), so the cents left over are a
    // whole number below the number of payers.
    let left_over = sub(magnitude_cents, floors_total)?;
    let mut order: Vec<usize> = (0..payers.len()).collect();
    // Largest remainder first; equal remainders in the order of the terms.
    order.sort_by(|a, b| remainders[*b].cmp(&remainders[*a]).then(a.cmp(b)));
    let mut extra = vec![Decimal::ZERO; payers.len()];
    let mut given = Decimal::ZERO;
    for index in order {
        if given >= left_over {
            break;
        }
        extra[index] = Decimal::ONE;
        given += Decimal::ONE;
    }
    let sign = if negative {
        Decimal::NEGATIVE_ONE
    } else {
        Decimal::ONE
    };
    let cents = floors
        .iter()
        .zip(&extra)
        .map(|(floor, extra)| (floor + extra) * sign / CENTS_IN_A_EURO)
        .collect();
    Ok(Allocation { exact, cents })
}
