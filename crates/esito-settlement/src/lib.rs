//! The settlement engine: indicator values, terms and history in, a settlement document out, to the cent (docs/design.md §5). No I/O.
//!
//! `settle` is a function of its input alone: no clock, no database, no environment. The
//! service calls it with figures read from the store and `esito settle --offline` with figures
//! read from an export; given the same input both get the same document, byte for byte once
//! serialized. `render_html` prints a document for people.
//!
//! The order of a settlement, as `docs/settlement.md` explains with worked examples:
//! 1. one line per payment rule, in the order of the terms, each rounded to the cent once;
//! 2. the period cap on those lines (one negative line when it binds): `period_net`;
//! 3. one line per restated earlier period whose figure changed;
//! 4. the contract cap on everything (one negative line when it binds): `total`;
//! 5. VAT on the total; who is paid what (under split payment the VAT goes to the Treasury);
//!    the payers' parts; the funder's waterfall on what the payers cover.

mod amount;
mod arithmetic;
mod document;
mod error;
mod funder;
mod funder_account;
mod html;
mod input;
mod payers;
mod rules;
mod totals;

pub use amount::{Amount, AmountError};
pub use arithmetic::DAYS_IN_YEAR;
pub use document::{
    Accrual, AccrualSegment, Achievement, AchievementTerm, BeneficiaryPart, Figure, FunderSection,
    FunderStatement, Guarantee, Line, LineKind, Payable, PayerPart, SettlementDocument, Vat,
    Waterfall,
};
pub use error::SettlementError;
/// The period settled is the domain's, parsed where the input is read.
pub use esito_domain::Period;
pub use funder_account::{funder_account, FunderAccount, FunderPeriod};
pub use html::{
    render_html, render_html_with_acts, render_html_withdrawn, Label as PageLabel, PageActs,
    LABELS as PAGE_LABELS,
};
pub use input::{
    BeneficiaryCount, FunderInput, FunderState, IndicatorValue, MilestoneFacts, Restatement,
    SettlementHistory, SettlementInput,
};

use rust_decimal::Decimal;

use crate::arithmetic::{mul, plain, rounded_to_cent, sum};

/// Computes the settlement of one closed period.
///
/// Refuses, naming the rule, an input that is not whole or not consistent: terms that break
/// their own rules, a value missing for an indicator the terms use, per-beneficiary counts that
/// do not add up, a funder state that contradicts the terms.
pub fn settle(input: &SettlementInput) -> Result<SettlementDocument, SettlementError> {
    let terms = &input.payment_terms;
    terms
        .check()
        .map_err(SettlementError::PaymentTermsInvalid)?;

    let mut lines = Vec::new();
    for rule in &terms.rules {
        lines.push(rules::rule_line(
            rule,
            &input.period,
            &input.indicators,
            &input.milestones,
        )?);
    }
    let lines_total = sum(lines.iter().map(|line| line.amount.value()))?;
    lines.extend(totals::period_cap_line(lines_total, terms.period_cap)?);
    let period_net = Amount::rounded(sum(lines.iter().map(|line| line.amount.value()))?);

    lines.extend(totals::restatement_lines(
        &input.period.to_string(),
        &input.history.restatements,
    )?);
    let before_contract_cap = sum(lines.iter().map(|line| line.amount.value()))?;
    lines.extend(totals::contract_cap_line(
        before_contract_cap,
        terms.contract_cap,
        input.history.paid_to_date,
    )?);
    let total = Amount::rounded(sum(lines.iter().map(|line| line.amount.value()))?);

    let vat = match terms.vat_rate {
        Some(rate) => {
            let exact = mul(rate.value(), total.value())?;
            let amount = Amount::rounded(exact);
            Some(Vat {
                rate,
                amount,
                arithmetic: format!(
                    "{} × {} = {}",
                    plain(rate.value()),
                    total,
                    rounded_to_cent(exact, amount.value())
                ),
            })
        }
        None => None,
    };
    let total_with_vat = Amount::rounded(sum([
        total.value(),
        vat.as_ref().map_or(Decimal::ZERO, |vat| vat.amount.value()),
    ])?);

    let payable = payable_lines(terms.vat, total, vat.as_ref(), total_with_vat);

    let payers = payers::payer_parts(total, &terms.payers, &input.history.payers_paid_to_date)?;
    let uncovered = Amount::rounded(sum(payers.iter().map(|payer| payer.uncovered.value()))?);

    let funder = match &input.funder {
        Some(funder) => Some(funder::funder_section(
            funder,
            &input.period,
            &input.indicators,
            total,
            uncovered,
            input.final_settlement,
        )?),
        None => None,
    };

    Ok(SettlementDocument {
        contract_id: input.contract_id.clone(),
        period: input.period,
        period_start_on: input.period.start_on(),
        period_end_on: input.period.end_on(),
        as_of: input.as_of,
        root_hash: input.root_hash,
        final_settlement: input.final_settlement,
        currency: input.payment_terms.currency.clone(),
        procurement: input.procurement.clone(),
        lines,
        period_net,
        total,
        vat,
        total_with_vat,
        vat_regime: terms.vat,
        payable,
        payers,
        uncovered,
        funder,
    })
}

/// Who is paid what: under split payment the net total to the operator and the VAT to the
/// Treasury (art. 17-ter DPR 633/72); otherwise the total with VAT to the operator.
fn payable_lines(
    regime: esito_domain::VatRegime,
    total: Amount,
    vat: Option<&Vat>,
    total_with_vat: Amount,
) -> Vec<Payable> {
    use esito_domain::{Payee, VatRegime};
    match (regime, vat) {
        (VatRegime::SplitPayment, Some(vat)) => vec![
            Payable {
                payee: Payee::Operator,
                amount: total,
                arithmetic: format!("net total {total}, without VAT (split payment)"),
            },
            Payable {
                payee: Payee::Treasury,
                amount: vat.amount,
                arithmetic: format!(
                    "VAT {}, paid by the payer to the Treasury (art. 17-ter DPR 633/72)",
                    vat.amount
                ),
            },
        ],
        (_, Some(vat)) => vec![Payable {
            payee: Payee::Operator,
            amount: total_with_vat,
            arithmetic: format!("{total} + VAT {} = {total_with_vat}", vat.amount),
        }],
        (_, None) => vec![Payable {
            payee: Payee::Operator,
            amount: total_with_vat,
            arithmetic: format!("net total {total}, no VAT"),
        }],
    }
}
