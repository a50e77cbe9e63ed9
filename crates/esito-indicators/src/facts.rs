//! Facts: what one log entry contributes to each indicator, derived from the entry alone.
//!
//! Invariant: `derive` is a pure function of the entry and the definitions, so the running
//! projector, a rebuild and the offline re-computation hold the same facts; a fact counts from
//! its entry's position until the position of the entry that corrects or voids it.

use std::borrow::Cow;

use chrono::NaiveDate;
use esito_domain::values::OccurredAt;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::definitions::{Definitions, FieldRef, Kind, Measure, Selection, UnitCost};

/// The role a fact plays in its indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Part {
    /// A count, distinct or sum's event.
    Main,
    Numerator,
    Denominator,
    /// Occupancy: a unit made available, withdrawn, a tenancy started, ended.
    Available,
    Withdrawn,
    Occupied,
    Vacated,
    /// Cohort share: a beneficiary entered, reached the milestone.
    Entered,
    Reached,
    /// Savings: where `actual` starts, and the outcome.
    Start,
    Outcome,
}

impl Part {
    pub const ALL: [Part; 11] = [
        Part::Main,
        Part::Numerator,
        Part::Denominator,
        Part::Available,
        Part::Withdrawn,
        Part::Occupied,
        Part::Vacated,
        Part::Entered,
        Part::Reached,
        Part::Start,
        Part::Outcome,
    ];

    /// The stored code.
    pub fn code(self) -> i16 {
        match self {
            Part::Main => 0,
            Part::Numerator => 1,
            Part::Denominator => 2,
            Part::Available => 3,
            Part::Withdrawn => 4,
            Part::Occupied => 5,
            Part::Vacated => 6,
            Part::Entered => 7,
            Part::Reached => 8,
            Part::Start => 9,
            Part::Outcome => 10,
        }
    }

    pub fn from_code(code: i16) -> Option<Self> {
        Self::ALL.into_iter().find(|part| part.code() == code)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Main => "main",
            Part::Numerator => "numerator",
            Part::Denominator => "denominator",
            Part::Available => "available",
            Part::Withdrawn => "withdrawn",
            Part::Occupied => "occupied",
            Part::Vacated => "vacated",
            Part::Entered => "entered",
            Part::Reached => "reached",
            Part::Start => "start",
            Part::Outcome => "outcome",
        }
    }

    /// True for the parts that count only within their period (count, distinct, sum and the
    /// parts of a ratio); the others reach back to before the period (a tenancy that started
    /// last year still occupies its unit).
    pub fn is_periodic(self) -> bool {
        matches!(self, Part::Main | Part::Numerator | Part::Denominator)
    }
}

/// One entry's contribution to one indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub indicator: String,
    pub part: Part,
    pub position: u64,
    pub event_id: String,
    /// The local date of the entry's `occurred_at`.
    pub local_date: NaiveDate,
    /// The distinct value, beneficiary, unit, tenancy or cohort member the fact is about.
    pub key: Option<String>,
    /// The summed amount or the unit cost, in euro.
    pub amount: Option<Decimal>,
}

/// The fields of an entry that facts are derived from.
#[derive(Debug, Clone, Copy)]
pub struct EntryView<'a> {
    pub position: u64,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub stream_id: &'a str,
    pub occurred_at: &'a str,
    pub corrects: Option<&'a str>,
    pub payload: &'a Value,
}

impl<'a> From<&'a esito_log::Entry> for EntryView<'a> {
    fn from(entry: &'a esito_log::Entry) -> Self {
        Self {
            position: entry.position,
            event_id: &entry.event_id,
            event_type: &entry.event_type,
            stream_id: &entry.stream_id,
            occurred_at: &entry.occurred_at,
            corrects: entry.corrects.as_deref(),
            payload: &entry.payload,
        }
    }
}

/// What an entry does to the facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// The facts it adds, counting from its position.
    pub facts: Vec<Fact>,
    /// The event whose facts stop counting at its position (it corrects or voids that event).
    pub supersedes: Option<String>,
}

/// An entry the facts cannot be derived from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeriveError {
    #[error("position {position}: occurred_at `{text}` is not an RFC 3339 instant with an offset")]
    OccurredAt { position: u64, text: String },
    #[error("position {position}: indicator `{indicator}` reads `{field}`, which is not a decimal amount")]
    Amount {
        position: u64,
        indicator: String,
        field: String,
    },
}

/// The facts an entry contributes to every indicator of `definitions`.
pub fn derive(definitions: &Definitions, entry: EntryView<'_>) -> Result<Derived, DeriveError> {
    let supersedes = entry.corrects.map(str::to_owned);
    let Some(bit) = definitions.selected_bit(entry.event_type) else {
        return Ok(Derived {
            facts: Vec::new(),
            supersedes,
        });
    };
    let selecting = || {
        definitions
            .indicators
            .iter()
            .filter(move |indicator| indicator.may_select(bit))
    };
    // Most indicators add one fact; room for a few with two saves growing the list.
    let mut facts = Vec::with_capacity(selecting().count() * 3 / 2 + 1);
    let mut local_date = None;
    for indicator in selecting() {
        let mut add =
            |part: Part, key: Option<String>, amount: Option<Decimal>| -> Result<(), DeriveError> {
                let date = match local_date {
                    Some(date) => date,
                    None => {
                        let date = OccurredAt::parse(entry.occurred_at)
                            .map_err(|_| DeriveError::OccurredAt {
                                position: entry.position,
                                text: entry.occurred_at.to_owned(),
                            })?
                            .local_date();
                        local_date = Some(date);
                        date
                    }
                };
                facts.push(Fact {
                    indicator: indicator.id.clone(),
                    part,
                    position: entry.position,
                    event_id: entry.event_id.to_owned(),
                    local_date: date,
                    key,
                    amount,
                });
                Ok(())
            };
        let amount_of = |field: &FieldRef| -> Result<Option<Decimal>, DeriveError> {
            match field_value(entry, field) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => decimal_of(value)
                    .map(Some)
                    .ok_or_else(|| DeriveError::Amount {
                        position: entry.position,
                        indicator: indicator.id.clone(),
                        field: field_name(field),
                    }),
            }
        };
        let beneficiary = indicator
            .beneficiary
            .as_ref()
            .and_then(|field| key_of(entry, field));
        match &indicator.kind {
            Kind::Count { select } => {
                if selects(select, entry) {
                    add(Part::Main, beneficiary, None)?;
                }
            }
            Kind::Distinct { select, field } => {
                if selects(select, entry) {
                    add(Part::Main, key_of(entry, field), None)?;
                }
            }
            Kind::Sum { select, field } => {
                if selects(select, entry) {
                    add(Part::Main, beneficiary, amount_of(field)?)?;
                }
            }
            Kind::Ratio {
                numerator,
                denominator,
            } => {
                for (part, (select, measure)) in [
                    (Part::Numerator, numerator),
                    (Part::Denominator, denominator),
                ] {
                    if selects(select, entry) {
                        match measure {
                            Measure::Count => add(part, None, None)?,
                            Measure::Distinct(field) => add(part, key_of(entry, field), None)?,
                            Measure::Sum(field) => add(part, None, amount_of(field)?)?,
                        }
                    }
                }
            }
            Kind::Occupancy {
                available,
                withdrawn,
                occupied,
                vacated,
            } => {
                for (part, select) in [
                    (Part::Available, Some(available)),
                    (Part::Withdrawn, withdrawn.as_ref()),
                    (Part::Occupied, Some(occupied)),
                    (Part::Vacated, Some(vacated)),
                ] {
                    if select.is_some_and(|select| selects(select, entry)) {
                        add(part, Some(entry.stream_id.to_owned()), None)?;
                    }
                }
            }
            Kind::CohortShare {
                entered,
                reached,
                key,
                ..
            } => {
                for (part, select) in [(Part::Entered, entered), (Part::Reached, reached)] {
                    if selects(select, entry) {
                        add(part, key_of(entry, key), None)?;
                    }
                }
            }
            Kind::Savings {
                start: None,
                outcome,
                unit_cost,
                baseline,
                ..
            } => {
                // With no start event, `actual` is zero and each outcome's term is known from the
                // outcome alone: it counts within its period, like a sum, and like a sum it is
                // keyed by its beneficiary (the key only pairs a start with its outcome).
                if selects(outcome, entry) {
                    let cost = match unit_cost {
                        UnitCost::Fixed(cost) => Some(*cost),
                        UnitCost::OutcomeField(field) => amount_of(field)?,
                        UnitCost::StartField(_) => None,
                    };
                    let term = cost.map(|cost| {
                        crate::evaluate::round((*baseline).max(Decimal::ZERO) * cost, 2)
                    });
                    add(Part::Main, beneficiary, term)?;
                }
            }
            Kind::Savings {
                start,
                outcome,
                key,
                unit_cost,
                ..
            } => {
                if start.as_ref().is_some_and(|select| selects(select, entry)) {
                    let amount = match unit_cost {
                        UnitCost::StartField(field) => amount_of(field)?,
                        _ => None,
                    };
                    add(Part::Start, key_of(entry, key), amount)?;
                }
                if selects(outcome, entry) {
                    let amount = match unit_cost {
                        UnitCost::OutcomeField(field) => amount_of(field)?,
                        _ => None,
                    };
                    add(Part::Outcome, key_of(entry, key), amount)?;
                }
            }
        }
    }
    Ok(Derived { facts, supersedes })
}

fn selects(select: &Selection, entry: EntryView<'_>) -> bool {
    select.events.contains(entry.event_type)
        && select.filters.iter().all(|(path, accepted)| {
            let value = if path.len() == 1 && path[0] == "@stream_id" {
                Some(Cow::Borrowed(entry.stream_id))
            } else {
                payload_at(entry.payload, path).and_then(text_of)
            };
            value.is_some_and(|value| accepted.contains(value.as_ref()))
        })
}

fn payload_at<'a>(payload: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(payload, |value, name| value.get(name))
}

fn field_value<'a>(entry: EntryView<'a>, field: &FieldRef) -> Option<&'a Value> {
    match field {
        FieldRef::StreamId => None,
        FieldRef::Payload(path) => payload_at(entry.payload, path),
    }
}

/// A field's value as the text that keys and filters compare: a string as it is, a number or a
/// boolean as written, a tagged value (`{"kind": "referred", ...}`) as its kind.
fn key_of(entry: EntryView<'_>, field: &FieldRef) -> Option<String> {
    if let FieldRef::StreamId = field {
        return Some(entry.stream_id.to_owned());
    }
    field_value(entry, field)
        .and_then(text_of)
        .map(Cow::into_owned)
}

/// [`key_of`] for a value, borrowed where it is a string.
fn text_of(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(text) => Some(Cow::Borrowed(text)),
        Value::Bool(flag) => Some(Cow::Borrowed(if *flag { "true" } else { "false" })),
        Value::Number(number) => Some(Cow::Owned(number.to_string())),
        Value::Object(map) => map.get("kind").and_then(Value::as_str).map(Cow::Borrowed),
        _ => None,
    }
}

fn decimal_of(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.to_string().parse().ok(),
        _ => None,
    }
}

fn field_name(field: &FieldRef) -> String {
    match field {
        FieldRef::StreamId => "@stream_id".to_owned(),
        FieldRef::Payload(path) => path.join("."),
    }
}
