//! The projection held in memory: every fact with the position it stops counting at. It is the
//! offline re-computation from an export, and the reference the stored projection is tested
//! against.

use std::collections::HashMap;

use crate::definitions::{Definitions, Indicator};
use crate::evaluate::{contributes, Inputs};
use crate::facts::{derive, DeriveError, EntryView, Fact};
use crate::period::Period;
use crate::window::Window;

/// Facts by position, each with the position of the entry that superseded it, if any.
#[derive(Debug, Clone, Default)]
pub struct MemoryProjection {
    facts: Vec<Fact>,
    until: Vec<Option<u64>>,
    by_event: HashMap<String, Vec<usize>>,
    position: u64,
}

impl MemoryProjection {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last position applied.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Applies the next entry.
    pub fn apply(
        &mut self,
        definitions: &Definitions,
        entry: EntryView<'_>,
    ) -> Result<(), DeriveError> {
        let derived = derive(definitions, entry)?;
        if let Some(superseded) = &derived.supersedes {
            for &index in self.by_event.get(superseded).into_iter().flatten() {
                if self.until[index].is_none() {
                    self.until[index] = Some(entry.position);
                }
            }
        }
        for fact in derived.facts {
            self.by_event
                .entry(fact.event_id.clone())
                .or_default()
                .push(self.facts.len());
            self.facts.push(fact);
            self.until.push(None);
        }
        self.position = entry.position;
        Ok(())
    }

    /// The facts of an indicator that count as of `as_of`.
    pub fn counting<'a>(
        &'a self,
        indicator: &'a str,
        as_of: u64,
    ) -> impl Iterator<Item = &'a Fact> + 'a {
        self.facts
            .iter()
            .zip(&self.until)
            .filter(move |(fact, until)| {
                fact.indicator == indicator
                    && fact.position <= as_of
                    && until.is_none_or(|until| until > as_of)
            })
            .map(|(fact, _)| fact)
    }

    /// What the indicator's value for the period (or any window of days) is computed from, as of
    /// `as_of`.
    pub fn inputs(&self, indicator: &Indicator, period: impl Into<Window>, as_of: u64) -> Inputs {
        Inputs::from_facts(period, self.counting(&indicator.id, as_of))
    }

    /// The facts behind the value, in position order.
    pub fn explain<'a>(
        &'a self,
        indicator: &'a Indicator,
        period: Period,
        as_of: u64,
    ) -> Vec<&'a Fact> {
        let mut facts: Vec<&Fact> = self
            .counting(&indicator.id, as_of)
            .filter(|fact| contributes(indicator, fact, period))
            .collect();
        facts.sort_by_key(|fact| (fact.position, fact.part));
        facts
    }
}
