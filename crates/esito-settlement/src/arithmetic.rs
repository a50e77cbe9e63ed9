//! Checked decimal arithmetic, the two roundings of docs/design.md §5 (to the cent, to six places, both
//! half away from zero) and the way figures are written in a line's arithmetic.
//!
//! Invariant: nothing here panics; an operation whose result does not fit in a `Decimal` is
//! `SettlementError::FigureOutOfRange`, never a wrapped or saturated number.

use esito_domain::Money;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::error::SettlementError;

/// Places of a ratio, a share or an index computed by the engine (docs/design.md §4).
pub const RATIO_PLACES: u32 = 6;

/// Days in the year of the ACT/365 convention, whatever the length of the calendar year.
pub const DAYS_IN_YEAR: u32 = 365;

pub(crate) fn mul(a: Decimal, b: Decimal) -> Result<Decimal, SettlementError> {
    a.checked_mul(b).ok_or(SettlementError::FigureOutOfRange)
}

/// Division at full precision (28 significant digits, as `rust_decimal` gives them).
/// Invariant: callers divide only by a figure the terms checked to be above zero.
pub(crate) fn div(a: Decimal, b: Decimal) -> Result<Decimal, SettlementError> {
    a.checked_div(b).ok_or(SettlementError::FigureOutOfRange)
}

pub(crate) fn add(a: Decimal, b: Decimal) -> Result<Decimal, SettlementError> {
    a.checked_add(b).ok_or(SettlementError::FigureOutOfRange)
}

pub(crate) fn sub(a: Decimal, b: Decimal) -> Result<Decimal, SettlementError> {
    a.checked_sub(b).ok_or(SettlementError::FigureOutOfRange)
}

pub(crate) fn sum(values: impl IntoIterator<Item = Decimal>) -> Result<Decimal, SettlementError> {
    values.into_iter().try_fold(Decimal::ZERO, add)
}

/// To the cent, half away from zero: `0.005` is `0.01`, `-0.005` is `-0.01`. Always two places.
pub fn round_to_cent(value: Decimal) -> Decimal {
    let mut rounded = value.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    rounded.rescale(2);
    without_negative_zero(rounded)
}

/// To six places, half away from zero: the rounding of every ratio and index (section 4).
pub fn round_to_six_places(value: Decimal) -> Decimal {
    let rounded =
        value.round_dp_with_strategy(RATIO_PLACES, RoundingStrategy::MidpointAwayFromZero);
    without_negative_zero(rounded.normalize())
}

fn without_negative_zero(mut value: Decimal) -> Decimal {
    if value.is_zero() {
        value.set_sign_positive(true);
    }
    value
}

/// A count, a ratio, a share or a rate as the arithmetic writes it: no trailing zeros.
pub(crate) fn plain(value: Decimal) -> String {
    without_negative_zero(value.normalize()).to_string()
}

/// An amount of euro, or a rate in euro per unit, as the arithmetic writes it: at least two
/// places (`150.00`), more only when the figure has them (`0.125`).
pub(crate) fn euro(value: Decimal) -> String {
    let mut value = without_negative_zero(value.normalize());
    if value.scale() < 2 {
        value.rescale(2);
    }
    value.to_string()
}

/// An amount of `Money` as the arithmetic writes it: always two places, even for `Money::ZERO`.
pub(crate) fn money(value: Money) -> String {
    euro(value.amount())
}

/// An intermediate result at full precision: exact when it has at most six places, otherwise
/// shown to six places after `≈` (the figure used is still the exact one).
pub(crate) fn exact(value: Decimal) -> String {
    let normalized = without_negative_zero(value.normalize());
    if normalized.scale() <= RATIO_PLACES {
        euro(normalized)
    } else {
        format!("≈ {}", euro(round_to_six_places(normalized)))
    }
}

/// `exact = rounded` when rounding changed nothing, else `exact → rounded`.
pub(crate) fn rounded_to_cent(exact_value: Decimal, rounded: Decimal) -> String {
    if exact_value.normalize() == rounded.normalize() {
        euro(rounded)
    } else {
        format!("{} → {}", exact(exact_value), euro(rounded))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).expect("a decimal")
    }

    #[test]
    fn half_a_cent_rounds_away_from_zero_on_both_sides() {
        assert_eq!(round_to_cent(d("0.005")).to_string(), "0.01");
        assert_eq!(round_to_cent(d("-0.005")).to_string(), "-0.01");
        assert_eq!(round_to_cent(d("0.0049999")).to_string(), "0.00");
        assert_eq!(round_to_cent(d("-0.004")).to_string(), "0.00");
    }

    #[test]
    fn six_places_round_half_away_from_zero() {
        assert_eq!(round_to_six_places(d("0.0000005")).to_string(), "0.000001");
        assert_eq!(round_to_six_places(d("0.9333333")).to_string(), "0.933333");
    }

    #[test]
    fn figures_are_written_plainly() {
        assert_eq!(euro(d("150")), "150.00");
        assert_eq!(euro(d("0.125")), "0.125");
        assert_eq!(plain(d("1.200")), "1.2");
        assert_eq!(exact(d("2") / d("3")), "≈ 0.666667");
        assert_eq!(
            rounded_to_cent(d("5599.998"), d("5600.00")),
            "5599.998 → 5600.00"
        );
        assert_eq!(rounded_to_cent(d("1800"), d("1800.00")), "1800.00");
    }
}
