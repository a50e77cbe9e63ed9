//! The INDIGO document's JSON: a tree whose numbers keep the decimal text they were written
//! from, and the shapes INDIGO wraps each value in (`{"value": ...}`, money with its currency).
//!
//! Invariant: members serialize in sorted order, and a number is never a float: its text is the
//! `Decimal`'s own.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::CURRENCY;

/// One node of the document: JSON whose numbers keep their decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Object(BTreeMap<String, Node>),
    Array(Vec<Node>),
    Text(String),
    /// A JSON number as written: the decimal text of a `Decimal` or of a count.
    Number(String),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Text(text) => serializer.serialize_str(text),
            Node::Number(text) => serde_json::value::RawValue::from_string(text.clone())
                .map_err(serde::ser::Error::custom)?
                .serialize(serializer),
        }
    }
}

pub(super) fn object<const N: usize>(members: [(&str, Node); N]) -> Node {
    Node::Object(
        members
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect(),
    )
}

/// Adds a member to an object node.
pub(super) fn with(mut node: Node, key: &str, value: Node) -> Node {
    if let Node::Object(members) = &mut node {
        members.insert(key.to_owned(), value);
    }
    node
}

pub(super) fn text(value: impl Into<String>) -> Node {
    Node::Text(value.into())
}

/// INDIGO's `{"value": ...}` of a string.
pub(super) fn value(value: impl Into<String>) -> Node {
    object([("value", text(value))])
}

/// INDIGO's `{"value": ...}` of a date (`YYYY-MM-DD`).
pub(super) fn date(on: NaiveDate) -> Node {
    value(on.format("%Y-%m-%d").to_string())
}

/// A decimal as a JSON number, its text as `Decimal` writes it (never an exponent).
pub(super) fn decimal(number: Decimal) -> Node {
    Node::Number(number.normalize().to_string())
}

/// An amount of money as a JSON number with two places.
pub(super) fn euros(amount: Decimal) -> Node {
    Node::Number(cents(amount))
}

/// An amount's text with two places, rounded half away from zero as the settlement rounds.
pub(super) fn cents(amount: Decimal) -> String {
    format!(
        "{:.2}",
        amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
    )
}

/// INDIGO's `{"value": number}`.
pub(super) fn number(node: Node) -> Node {
    object([("value", node)])
}

/// INDIGO's money: `{"currency": {"value": "EUR"}, "amount": {"value": number}}`.
pub(super) fn money(amount: Decimal) -> Node {
    object([
        ("currency", value(CURRENCY)),
        ("amount", number(euros(amount))),
    ])
}

/// INDIGO's period: its first and last day (an Esito period's `end_on` is the day after).
pub(super) fn period_dates(start_on: NaiveDate, end_on: NaiveDate) -> Node {
    object([
        ("start_date", date(start_on)),
        (
            "end_date",
            date(end_on.pred_opt().expect("a period ends after its start")),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_json_numbers_with_their_decimal_text() {
        let node = object([
            ("a", euros(Decimal::new(123_450, 2))),
            ("b", decimal(Decimal::new(12, 0))),
            ("c", euros(Decimal::new(-5, 1))),
        ]);
        let json = serde_json::to_string(&node).expect("serializes");
        assert_eq!(json, r#"{"a":1234.50,"b":12,"c":-0.50}"#);
    }

    #[test]
    fn a_third_place_of_five_rounds_away_from_zero_as_settlements_do() {
        // 10.005 and -10.005 sit on the midpoint; a whole amount gets its two places.
        assert_eq!(cents(Decimal::new(10_005, 3)), "10.01");
        assert_eq!(cents(Decimal::new(-10_005, 3)), "-10.01");
        assert_eq!(cents(Decimal::new(7_407, 0)), "7407.00");
    }
}
