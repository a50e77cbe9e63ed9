//! What a template's indicators read: the event types each selects, as bits of a `u128`, and
//! for each event type the top-level payload fields read from it, so that `derive` and the
//! stored entries' parse look no further than they must.

use std::collections::{BTreeMap, BTreeSet};

use esito_domain::events::Event;

use crate::definitions::{FieldRef, Indicator, Kind, Measure, Selection, UnitCost};

/// What the indicators read from an event type they select.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EventReads {
    pub(crate) event_type: String,
    /// Its [`event_bit`].
    pub(crate) bit: u128,
    /// The top-level payload fields read, in order.
    pub(crate) fields: Vec<String>,
}

const _: () = assert!(
    Event::TYPES.len() <= 128,
    "every event type needs a bit of the u128 sets of selected event types"
);

/// The bit of an event type in a set of event types: its place among the domain's event
/// types; every bit for any other, which no selection names.
pub(crate) fn event_bit(event_type: &str) -> u128 {
    Event::TYPES
        .iter()
        .position(|known| *known == event_type)
        .map_or(u128::MAX, |place| 1 << place)
}

impl Indicator {
    /// Whether any selection of the indicator may name the event type of this
    /// [`Definitions::selected_bit`]; if not, it derives no fact from the entry.
    pub(crate) fn may_select(&self, bit: u128) -> bool {
        self.selected & bit != 0
    }

    /// Each selection of the indicator, with the fields read from an event it selects. A
    /// savings indicator's fields are all counted with both its selections.
    pub(crate) fn selections<'i>(&'i self) -> Vec<(&'i Selection, Vec<&'i FieldRef>)> {
        fn measured(measure: &Measure) -> Option<&FieldRef> {
            match measure {
                Measure::Count => None,
                Measure::Distinct(field) | Measure::Sum(field) => Some(field),
            }
        }
        let beneficiary = self.beneficiary.as_ref();
        let with = |fields: &[Option<&'i FieldRef>]| -> Vec<&'i FieldRef> {
            fields
                .iter()
                .flatten()
                .copied()
                .chain(beneficiary)
                .collect()
        };
        match &self.kind {
            Kind::Count { select } => vec![(select, with(&[]))],
            Kind::Distinct { select, field } | Kind::Sum { select, field } => {
                vec![(select, with(&[Some(field)]))]
            }
            Kind::Ratio {
                numerator,
                denominator,
            } => vec![
                (&numerator.0, with(&[measured(&numerator.1)])),
                (&denominator.0, with(&[measured(&denominator.1)])),
            ],
            Kind::Occupancy {
                available,
                withdrawn,
                occupied,
                vacated,
            } => [
                Some(available),
                withdrawn.as_ref(),
                Some(occupied),
                Some(vacated),
            ]
            .into_iter()
            .flatten()
            .map(|select| (select, with(&[])))
            .collect(),
            Kind::CohortShare {
                entered,
                reached,
                key,
                ..
            } => vec![(entered, with(&[Some(key)])), (reached, with(&[Some(key)]))],
            Kind::Savings {
                start,
                outcome,
                key,
                unit_cost,
                ..
            } => {
                let cost = match unit_cost {
                    UnitCost::Fixed(_) => None,
                    UnitCost::StartField(field) | UnitCost::OutcomeField(field) => Some(field),
                };
                let fields = with(&[Some(key), cost]);
                start
                    .iter()
                    .chain([outcome])
                    .map(|select| (select, fields.clone()))
                    .collect()
            }
        }
    }
}

/// For each event type the indicators select, the top-level payload fields they read from it.
pub(crate) fn payload_reads(indicators: &[Indicator]) -> Vec<EventReads> {
    let mut reads: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for indicator in indicators {
        for (select, fields) in indicator.selections() {
            let filtered = select
                .filters
                .iter()
                .map(|(path, _)| path.as_slice())
                .filter(|path| *path != ["@stream_id"]);
            let named = fields.into_iter().filter_map(|field| match field {
                FieldRef::StreamId => None,
                FieldRef::Payload(path) => Some(path.as_slice()),
            });
            let tops: Vec<&String> = filtered
                .chain(named)
                .filter_map(|path| path.first())
                .collect();
            for event in &select.events {
                reads
                    .entry(event.clone())
                    .or_default()
                    .extend(tops.iter().map(|top| (*top).clone()));
            }
        }
    }
    reads
        .into_iter()
        .map(|(event_type, fields)| EventReads {
            bit: event_bit(&event_type),
            event_type,
            fields: fields.into_iter().collect(),
        })
        .collect()
}
