//! The payment lines of the rule table of docs/design.md §5: rate card, target, savings share,
//! milestone, one line per rule, each with its arithmetic and figures.
//!
//! Invariant: a line is computed at full precision and rounded to the cent once, at the end of
//! its own computation; a rule line is never negative and never above its cap.

use std::collections::{BTreeMap, BTreeSet};
use std::num::NonZeroU32;

use esito_domain::{Money, PaymentRule, Rate, Share};
use rust_decimal::Decimal;

use crate::amount::Amount;
use crate::arithmetic::{
    div, euro, exact, money, mul, plain, round_to_cent, round_to_six_places, rounded_to_cent, sub,
    sum, RATIO_PLACES,
};
use crate::document::{BeneficiaryPart, Figure, Line, LineKind};
use crate::error::SettlementError;
use crate::input::{BeneficiaryCount, IndicatorValue, MilestoneFacts};
use crate::Period;

/// The line of one rule for the period.
pub(crate) fn rule_line(
    rule: &PaymentRule,
    period: &Period,
    indicators: &BTreeMap<String, IndicatorValue>,
    milestones: &BTreeMap<String, MilestoneFacts>,
) -> Result<Line, SettlementError> {
    match rule {
        PaymentRule::RateCard {
            indicator,
            rate,
            threshold,
            cap,
            max_per_beneficiary,
            cap_per_beneficiary,
        } => rate_card(
            &RateCard {
                indicator,
                rate: *rate,
                threshold: *threshold,
                cap: *cap,
                max_per_beneficiary: *max_per_beneficiary,
                cap_per_beneficiary: *cap_per_beneficiary,
            },
            indicator_value(indicators, indicator)?,
        ),
        PaymentRule::Target {
            indicator,
            target,
            threshold,
            amount,
            cap_ratio,
        } => target_line(
            indicator,
            *target,
            *threshold,
            *amount,
            *cap_ratio,
            indicator_value(indicators, indicator)?,
        ),
        PaymentRule::SavingsShare {
            indicator,
            share,
            cap,
        } => savings_share(
            indicator,
            *share,
            *cap,
            indicator_value(indicators, indicator)?,
        ),
        PaymentRule::Milestone {
            deliverable,
            amount,
            ..
        } => milestone(
            deliverable,
            *amount,
            period,
            milestones
                .get(deliverable)
                .ok_or_else(|| SettlementError::MilestoneFactsMissing {
                    deliverable: deliverable.clone(),
                })?,
        ),
    }
}

/// The value of an indicator the terms name, checked: present, not negative, at most six places.
pub(crate) fn indicator_value<'a>(
    indicators: &'a BTreeMap<String, IndicatorValue>,
    indicator: &str,
) -> Result<&'a IndicatorValue, SettlementError> {
    let given =
        indicators
            .get(indicator)
            .ok_or_else(|| SettlementError::IndicatorValueMissing {
                indicator: indicator.to_owned(),
            })?;
    if let Some(value) = given.value {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(SettlementError::IndicatorValueNegative {
                indicator: indicator.to_owned(),
                value,
            });
        }
        if value.normalize().scale() > RATIO_PLACES {
            return Err(SettlementError::IndicatorValueNotRounded {
                indicator: indicator.to_owned(),
                value,
            });
        }
    }
    Ok(given)
}

fn figure(name: &str, value: impl Into<String>) -> Figure {
    Figure {
        name: name.to_owned(),
        value: value.into(),
    }
}

fn line(
    kind: LineKind,
    subject: &str,
    amount: Decimal,
    arithmetic: String,
    figures: Vec<Figure>,
) -> Line {
    Line {
        kind,
        subject: subject.to_owned(),
        amount: Amount::rounded(amount),
        arithmetic,
        figures,
        beneficiaries: Vec::new(),
    }
}

fn no_value_line(kind: LineKind, indicator: &str, figures: Vec<Figure>) -> Line {
    line(
        kind,
        indicator,
        Decimal::ZERO,
        "no value for the period: 0.00".to_owned(),
        figures,
    )
}

/// The end of a line's arithmetic: `lhs = exact → rounded`, or, when the cap binds,
/// `lhs = exact; at most the cap C: C`. Returns the line's exact figure with the text.
fn finish(lhs: String, earned: Decimal, cap: Option<Money>) -> (Decimal, String) {
    match cap {
        Some(cap) if earned > cap.amount() => (
            cap.amount(),
            format!(
                "{lhs} = {}; at most the cap {}: {}",
                exact(earned),
                money(cap),
                money(cap)
            ),
        ),
        _ => (
            earned,
            format!("{lhs} = {}", rounded_to_cent(earned, round_to_cent(earned))),
        ),
    }
}

struct RateCard<'a> {
    indicator: &'a str,
    rate: Rate,
    threshold: Option<Rate>,
    cap: Option<Money>,
    max_per_beneficiary: Option<NonZeroU32>,
    cap_per_beneficiary: Option<Money>,
}

fn rate_card(rule: &RateCard<'_>, given: &IndicatorValue) -> Result<Line, SettlementError> {
    let mut figures = vec![
        figure(
            "value",
            given.value.map_or_else(|| "none".to_owned(), plain),
        ),
        figure("rate", euro(rule.rate.value())),
    ];
    if let Some(threshold) = rule.threshold {
        figures.push(figure("threshold", plain(threshold.value())));
    }
    if let Some(cap) = rule.cap {
        figures.push(figure("cap", money(cap)));
    }
    if let Some(max) = rule.max_per_beneficiary {
        figures.push(figure("max_per_beneficiary", max.to_string()));
    }
    if let Some(cap) = rule.cap_per_beneficiary {
        figures.push(figure("cap_per_beneficiary", money(cap)));
    }
    let Some(value) = given.value else {
        return Ok(no_value_line(LineKind::RateCard, rule.indicator, figures));
    };
    let per_beneficiary = rule.max_per_beneficiary.is_some() || rule.cap_per_beneficiary.is_some();
    let beneficiaries = checked_beneficiaries(rule.indicator, value, &given.beneficiaries)?;
    if per_beneficiary && beneficiaries.is_empty() && !value.is_zero() {
        return Err(SettlementError::BeneficiaryCountsMissing {
            indicator: rule.indicator.to_owned(),
            value,
        });
    }
    let threshold = rule.threshold.map_or(Decimal::ZERO, Rate::value);
    let mut steps = Vec::new();
    if value < threshold {
        let parts = beneficiaries
            .iter()
            .map(|b| BeneficiaryPart {
                beneficiary: b.beneficiary.clone(),
                count: b.count,
                counted_before: b.counted_before,
                counted: 0,
                amount_before: b.amount_before.normalize(),
                amount: Decimal::ZERO,
                arithmetic: "below the threshold: counts 0".to_owned(),
            })
            .collect();
        let mut built = line(
            LineKind::RateCard,
            rule.indicator,
            Decimal::ZERO,
            format!("{} < threshold {}: 0.00", plain(value), plain(threshold)),
            figures,
        );
        built.beneficiaries = if per_beneficiary { parts } else { Vec::new() };
        return Ok(built);
    }
    if rule.threshold.is_some() {
        steps.push(format!("{} ≥ threshold {}", plain(value), plain(threshold)));
    }
    let mut parts = Vec::new();
    let (earned, lhs) = if per_beneficiary {
        for b in &beneficiaries {
            parts.push(beneficiary_part(rule, b)?);
        }
        let counted: u64 = parts.iter().map(|p| u64::from(p.counted)).sum();
        let earned = sum(parts.iter().map(|p| p.amount))?;
        let lhs = format!(
            "{} of {} outcomes count, over {} beneficiaries (see each): Σ",
            counted,
            plain(value),
            parts.len()
        );
        (earned, lhs)
    } else {
        let earned = mul(value, rule.rate.value())?;
        (
            earned,
            format!("{} × {}", plain(value), euro(rule.rate.value())),
        )
    };
    let (raw, text) = finish(lhs, earned, rule.cap);
    steps.push(text);
    let mut built = line(
        LineKind::RateCard,
        rule.indicator,
        raw,
        steps.join("; "),
        figures,
    );
    built.beneficiaries = parts;
    Ok(built)
}

/// The beneficiaries' counts, checked and in pseudonym order (so input order does not matter).
fn checked_beneficiaries(
    indicator: &str,
    value: Decimal,
    given: &[BeneficiaryCount],
) -> Result<Vec<BeneficiaryCount>, SettlementError> {
    if given.is_empty() {
        return Ok(Vec::new());
    }
    let mut seen = BTreeSet::new();
    for b in given {
        if !seen.insert(b.beneficiary.as_str()) {
            return Err(SettlementError::BeneficiaryListedTwice {
                indicator: indicator.to_owned(),
                beneficiary: b.beneficiary.clone(),
            });
        }
        if b.amount_before.is_sign_negative() && !b.amount_before.is_zero() {
            return Err(SettlementError::BeneficiaryAmountBeforeNegative {
                indicator: indicator.to_owned(),
                beneficiary: b.beneficiary.clone(),
                amount_before: b.amount_before,
            });
        }
    }
    let total: u64 = given.iter().map(|b| u64::from(b.count)).sum();
    if Decimal::from(total) != value {
        return Err(SettlementError::BeneficiaryCountsDisagreeWithValue {
            indicator: indicator.to_owned(),
            value,
            sum: total,
        });
    }
    let mut sorted = given.to_vec();
    sorted.sort_by(|a, b| a.beneficiary.cmp(&b.beneficiary));
    Ok(sorted)
}

fn beneficiary_part(
    rule: &RateCard<'_>,
    b: &BeneficiaryCount,
) -> Result<BeneficiaryPart, SettlementError> {
    let mut steps = Vec::new();
    let counted = match rule.max_per_beneficiary {
        Some(max) => {
            let left = max.get().saturating_sub(b.counted_before);
            let counted = b.count.min(left);
            steps.push(format!(
                "{} in the period, at most {} − {} counted before = {} left: counts {}",
                b.count,
                max,
                b.counted_before.min(max.get()),
                left,
                counted
            ));
            counted
        }
        None => {
            steps.push(format!("counts {}", b.count));
            b.count
        }
    };
    let gross = mul(Decimal::from(counted), rule.rate.value())?;
    steps.push(format!(
        "{} × {} = {}",
        counted,
        euro(rule.rate.value()),
        exact(gross)
    ));
    let amount = match rule.cap_per_beneficiary {
        Some(cap) => {
            let left = sub(cap.amount(), b.amount_before)?.max(Decimal::ZERO);
            let amount = gross.min(left);
            steps.push(format!(
                "cap {} − {} before = {} left: {}",
                money(cap),
                euro(b.amount_before),
                euro(left),
                exact(amount)
            ));
            amount
        }
        None => gross,
    };
    Ok(BeneficiaryPart {
        beneficiary: b.beneficiary.clone(),
        count: b.count,
        counted_before: b.counted_before,
        counted,
        amount_before: b.amount_before.normalize(),
        amount: amount.normalize(),
        arithmetic: steps.join("; "),
    })
}

fn target_line(
    indicator: &str,
    target: Rate,
    threshold: Rate,
    amount: Money,
    cap_ratio: Rate,
    given: &IndicatorValue,
) -> Result<Line, SettlementError> {
    let mut figures = vec![
        figure(
            "value",
            given.value.map_or_else(|| "none".to_owned(), plain),
        ),
        figure("target", plain(target.value())),
    ];
    let Some(value) = given.value else {
        figures.extend([
            figure("threshold", plain(threshold.value())),
            figure("amount", money(amount)),
            figure("cap_ratio", plain(cap_ratio.value())),
        ]);
        return Ok(no_value_line(LineKind::Target, indicator, figures));
    };
    // Invariant: `PaymentTerms::check` refused a target of zero.
    let ratio = round_to_six_places(div(value, target.value())?);
    figures.extend([
        figure("ratio", plain(ratio)),
        figure("threshold", plain(threshold.value())),
        figure("amount", money(amount)),
        figure("cap_ratio", plain(cap_ratio.value())),
    ]);
    let ratio_text = format!(
        "r = round6({} ÷ {}) = {}",
        plain(value),
        plain(target.value()),
        plain(ratio)
    );
    if ratio < threshold.value() {
        return Ok(line(
            LineKind::Target,
            indicator,
            Decimal::ZERO,
            format!(
                "{ratio_text} < threshold {}: 0.00",
                plain(threshold.value())
            ),
            figures,
        ));
    }
    let applied = ratio.min(cap_ratio.value());
    let raw = mul(amount.amount(), applied)?;
    let rounded = Amount::rounded(raw);
    Ok(line(
        LineKind::Target,
        indicator,
        raw,
        format!(
            "{ratio_text} ≥ threshold {}; {} × min({}, {}) = {}",
            plain(threshold.value()),
            money(amount),
            plain(ratio),
            plain(cap_ratio.value()),
            rounded_to_cent(raw, rounded.value())
        ),
        figures,
    ))
}

fn savings_share(
    indicator: &str,
    share: Share,
    cap: Option<Money>,
    given: &IndicatorValue,
) -> Result<Line, SettlementError> {
    let mut figures = vec![
        figure("share", plain(share.value())),
        figure("value", given.value.map_or_else(|| "none".to_owned(), euro)),
    ];
    if let Some(cap) = cap {
        figures.push(figure("cap", money(cap)));
    }
    let Some(value) = given.value else {
        return Ok(no_value_line(LineKind::SavingsShare, indicator, figures));
    };
    let earned = mul(share.value(), value)?;
    let lhs = format!("{} × {}", plain(share.value()), euro(value));
    let (raw, text) = finish(lhs, earned, cap);
    Ok(line(LineKind::SavingsShare, indicator, raw, text, figures))
}

fn milestone(
    deliverable: &str,
    amount: Money,
    period: &Period,
    facts: &MilestoneFacts,
) -> Result<Line, SettlementError> {
    if facts.advance_paid > amount {
        return Err(SettlementError::AdvanceExceedsMilestoneAmount {
            deliverable: deliverable.to_owned(),
            amount,
            advance_paid: facts.advance_paid,
        });
    }
    let mut figures = vec![
        figure("amount", money(amount)),
        figure("advance_paid", money(facts.advance_paid)),
        figure(
            "accepted_on",
            facts
                .accepted_on
                .map_or_else(|| "none".to_owned(), |on| on.to_string()),
        ),
    ];
    figures.push(figure("period_start_on", period.start_on().to_string()));
    figures.push(figure("period_end_on", period.end_on().to_string()));
    let (raw, arithmetic) = match facts.accepted_on {
        Some(on) if period.start_on() <= on && on < period.end_on() => {
            let raw = sub(amount.amount(), facts.advance_paid.amount())?;
            let text = format!(
                "accepted on {on}: {} − advance {} = {}",
                money(amount),
                money(facts.advance_paid),
                euro(raw)
            );
            (raw, text)
        }
        Some(on) => (
            Decimal::ZERO,
            format!("accepted on {on}, outside the period: 0.00"),
        ),
        None => (Decimal::ZERO, "not accepted: 0.00".to_owned()),
    };
    Ok(line(
        LineKind::Milestone,
        deliverable,
        raw,
        arithmetic,
        figures,
    ))
}
