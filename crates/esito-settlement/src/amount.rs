//! `Amount`: a signed sum of euro with exactly two places, as a settlement writes every line,
//! total and split (an adjustment or a restatement may be negative, unlike `Money`).
//!
//! Invariant: the decimal always has scale 2 and is never `-0.00`; `Deserialize` goes through
//! `parse`, so a document read back is checked like one computed.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use esito_domain::Money;
use rust_decimal::Decimal;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::arithmetic::round_to_cent;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Amount(Decimal);

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("an amount is a decimal string such as \"-18.50\" (got {0:?})")]
    NotADecimal(String),
    #[error("an amount has at most 2 decimal places (got {0})")]
    TooManyDecimals(String),
}

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::from_parts(0, 0, 0, false, 2));

    /// Rounds a computed figure to the cent, half away from zero: the one rounding of a line.
    pub fn rounded(value: Decimal) -> Self {
        Self(round_to_cent(value))
    }

    pub fn parse(text: &str) -> Result<Self, AmountError> {
        let value =
            Decimal::from_str_exact(text).map_err(|_| AmountError::NotADecimal(text.to_owned()))?;
        if value.normalize().scale() > 2 {
            return Err(AmountError::TooManyDecimals(text.to_owned()));
        }
        Ok(Self::rounded(value))
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn is_negative(self) -> bool {
        self.0 < Decimal::ZERO
    }
}

impl From<Money> for Amount {
    fn from(money: Money) -> Self {
        Self::rounded(money.amount())
    }
}

impl TryFrom<String> for Amount {
    type Error = AmountError;
    fn try_from(text: String) -> Result<Self, AmountError> {
        Self::parse(&text)
    }
}

impl From<Amount> for String {
    fn from(amount: Amount) -> String {
        amount.0.to_string()
    }
}

impl FromStr for Amount {
    type Err = AmountError;
    fn from_str(text: &str) -> Result<Self, AmountError> {
        Self::parse(text)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl JsonSchema for Amount {
    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Euro amount, possibly negative: a decimal string with exactly two places.",
            "pattern": "^-?[0-9]+\\.[0-9]{2}$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_amount_is_written_with_two_places_and_never_as_minus_zero() {
        assert_eq!(Amount::ZERO.to_string(), "0.00");
        assert_eq!(Amount::parse("-0").expect("zero").to_string(), "0.00");
        assert_eq!(Amount::parse("-12.5").expect("valid").to_string(), "-12.50");
        assert!(Amount::parse("1.005").is_err());
        assert!(Amount::parse("1e3").is_err());
    }
}
