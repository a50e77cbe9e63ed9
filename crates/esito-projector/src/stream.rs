//! The projector over a stream of entries, as an export is read from first to last: the rows
//! (monthly, and per key and year) and the facts of the parts that reach back, held in memory
//! as the store holds them in its tables, so that values are read from them exactly as the
//! store reads its own.
//!
//! Invariant: memory grows with the rows (indicators × months, distinct keys per year), with
//! the facts that reach back and with the entries that later ones supersede (named before the
//! stream starts, [`Streamed::new`]), not with the log: every other entry is derived and
//! dropped.

use std::collections::{BTreeMap, HashMap, HashSet};

use esito_indicators::{Definitions, EntryView, Fact, Inputs, Period};
use esito_log::Entry;

use crate::delta::{month_range, Delta, Keys, Months};
use crate::rows::{aggregates_of, inputs_by_indicator, key_counts};
use crate::step::{check_contiguous, derive_batch, missing_target, BatchFacts};
use crate::ProjectorError;

/// Entries derived together: enough to amortise a run's bookkeeping, few enough to be small.
const RUN: usize = 1024;

/// The facts of the parts that reach back, each with the position it stops counting at, as
/// the store keeps them (`indicator_facts.until_position`).
#[derive(Debug, Default)]
pub struct SpanFacts {
    facts: Vec<(Fact, Option<u64>)>,
    by_event: HashMap<String, Vec<usize>>,
}

impl SpanFacts {
    /// Takes in a run's facts that reach back, then marks those the run supersedes (its own
    /// included) as stopping at the superseding entry.
    pub fn add(&mut self, batch: &mut BatchFacts) {
        for fact in std::mem::take(&mut batch.span_facts) {
            self.by_event
                .entry(fact.event_id.clone())
                .or_default()
                .push(self.facts.len());
            self.facts.push((fact, None));
        }
        for (event_id, at) in &batch.superseded {
            for &index in self.by_event.get(event_id).into_iter().flatten() {
                self.facts[index].1.get_or_insert(*at);
            }
        }
    }

    /// Every fact with the position it stops counting at.
    pub fn all(&self) -> &[(Fact, Option<u64>)] {
        &self.facts
    }

    /// The facts that count as of `as_of` and began before `before` (the end of a period):
    /// what the store's query for a period's inputs reads.
    pub fn counting(&self, before: chrono::NaiveDate, as_of: u64) -> Vec<Fact> {
        self.facts
            .iter()
            .filter(|(fact, until)| {
                fact.local_date < before
                    && fact.position <= as_of
                    && until.is_none_or(|until| until > as_of)
            })
            .map(|(fact, _)| fact.clone())
            .collect()
    }
}

/// The projection of a log read as a stream, one entry after the other from position 1.
#[derive(Debug)]
pub struct Streamed<'d> {
    definitions: &'d Definitions,
    /// The event ids that later entries correct or void: their entries are kept until the end.
    targets: HashSet<String>,
    earlier: HashMap<String, Entry>,
    run: Vec<Entry>,
    run_size: usize,
    delta: Delta,
    span: SpanFacts,
    position: u64,
}

impl<'d> Streamed<'d> {
    /// A projection with `definitions`, told beforehand which event ids the log's entries
    /// supersede (the `corrects` of every entry): only those entries are kept.
    pub fn new(definitions: &'d Definitions, targets: HashSet<String>) -> Self {
        Self {
            definitions,
            targets,
            earlier: HashMap::new(),
            run: Vec::with_capacity(RUN),
            run_size: RUN,
            delta: Delta::default(),
            span: SpanFacts::default(),
            position: 0,
        }
    }

    /// The same projection derived in runs of `size` entries (at least one): the values do not
    /// depend on it.
    pub fn in_runs_of(mut self, size: usize) -> Self {
        self.run_size = size.max(1);
        self
    }

    /// The last position pushed.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Projects the next entry, which must be at the position after the last.
    pub fn push(&mut self, entry: Entry) -> Result<(), ProjectorError> {
        check_contiguous(self.position + 1, [entry.position])?;
        self.position = entry.position;
        self.run.push(entry);
        if self.run.len() >= self.run_size {
            self.derive_run()?;
        }
        Ok(())
    }

    fn derive_run(&mut self) -> Result<(), ProjectorError> {
        let run = std::mem::take(&mut self.run);
        let views: Vec<EntryView<'_>> = run.iter().map(EntryView::from).collect();
        let mut facts = derive_batch(self.definitions, &views, &self.earlier, &mut self.delta)?;
        if let Some(error) = missing_target(&facts) {
            return Err(error);
        }
        self.span.add(&mut facts);
        drop(views);
        for entry in run {
            if self.targets.contains(&entry.event_id) {
                self.earlier.insert(entry.event_id.clone(), entry);
            }
        }
        self.run = Vec::with_capacity(self.run_size);
        Ok(())
    }

    /// The rows of the whole stream.
    pub fn finish(mut self) -> Result<Projected, ProjectorError> {
        if !self.run.is_empty() {
            self.derive_run()?;
        }
        Ok(Projected {
            delta: self.delta,
            span: self.span,
            position: self.position,
        })
    }
}

/// The rows of a streamed log, as of its last entry.
#[derive(Debug)]
pub struct Projected {
    delta: Delta,
    span: SpanFacts,
    position: u64,
}

impl Projected {
    /// The last position projected: the values' `as_of`.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The rows per key of the period's year, as the store's `indicator_keys` hold them.
    fn keys(&self, period: Period) -> Keys {
        self.delta
            .keys
            .iter()
            .filter(|((_, _, year, _), _)| *year == period.year())
            .map(|((indicator, part, _, key), counts)| {
                ((indicator.clone(), *part, key.clone()), *counts)
            })
            .collect()
    }

    /// Each indicator's inputs for `period`, from the rows of its months and of its year's
    /// keys and from the facts that reach back, as the store reads them.
    pub fn inputs(&self, period: Period) -> Result<BTreeMap<String, Inputs>, ProjectorError> {
        let (first, end) = month_range(period);
        let months: Months = self
            .delta
            .months
            .iter()
            .filter(|((_, _, month), _)| *month >= first && *month < end)
            .map(|(row, counts)| (row.clone(), *counts))
            .collect();
        let aggregates = aggregates_of(&months, &self.keys(period), period)?;
        Ok(inputs_by_indicator(
            aggregates,
            self.span.counting(period.end_on(), self.position),
        ))
    }

    /// Each key's events of the indicator's main part in `period` ([`key_counts`]).
    pub fn key_counts(
        &self,
        indicator: &str,
        period: Period,
    ) -> Result<BTreeMap<String, u64>, ProjectorError> {
        key_counts(&self.keys(period), indicator, period)
    }
}
