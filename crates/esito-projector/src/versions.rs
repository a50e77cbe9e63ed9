//! Versions of the rows by block of positions, so that a value as of any position is read,
//! not re-derived from the whole log after it.
//!
//! The log is cut into blocks of [`BLOCK_ENTRIES`] positions: block `b` holds the positions
//! `((b − 1)·K, b·K]`. Beside the rows as of the checkpoint, the projection keeps, for each
//! block, the rows its entries touched as they stood at the block's end (or at the checkpoint,
//! for the block it is in): monthly rows, distinct counts, and rows per key. A step never
//! crosses a block's end, so the last step in a block leaves each row it touched as the block
//! ends it.
//!
//! A value as of `p` is then read from the rows as of `e`, the end of `p`'s block (or the
//! checkpoint, if sooner): a monthly row or a distinct count is its latest version at or
//! before `e`'s block; and the entries in `(p, e]`, at most one block of them, are derived
//! again and taken away ([`rewind_aggregates`]). Every key they touch was touched in `e`'s
//! block, so its row as of `e` is that block's version of it, if the block kept one.
//!
//! Invariant: a block's versions hold every row per key that an entry of the block touched
//! and whose distinct counts could be other at some position within the block than at its
//! end: a step keeps every row it touched, its change netting to nothing included; the
//! rebuild, which sees the whole block, leaves out a row that only gained events and has
//! events in the same periods at the block's start and end (its presence in each period was
//! then the same at every position of the block). A row never counts fewer than no events.

use std::collections::{BTreeMap, HashMap};

use esito_indicators::{Aggregate, Part, Period};

use crate::delta::{from_cents, month_range, Delta, Keys, MonthCounts, Months};
use crate::distinct::{distinct_changes, presence, DistinctChanges};
use crate::rows::part_of;
use crate::{Invariant, ProjectorError};

/// Positions per block. A value as of a position derives at most this many entries again.
pub const BLOCK_ENTRIES: u64 = 1_024;

/// The block a position is in (position 0, before the first entry, is in block 0).
pub fn block_of(position: u64) -> u64 {
    position.div_ceil(BLOCK_ENTRIES)
}

/// The last position of the block `position` is in.
pub fn block_end(position: u64) -> u64 {
    block_of(position) * BLOCK_ENTRIES
}

/// How many entries a step after `position` may take without crossing its block's end.
pub fn room_in_block(position: u64) -> u64 {
    BLOCK_ENTRIES - position % BLOCK_ENTRIES
}

/// A monthly row's key (indicator, part, `YYYY-MM`) and its (events, cents).
pub type MonthRow = ((String, i16, String), (i64, i64));
/// A distinct count's key (indicator, part, period) and its keys.
pub type DistinctRow = ((String, i16, String), i64);
/// A row per key's key (indicator, part, year, key) and its events per month.
pub type KeyRow = ((String, i16, i32, String), MonthCounts);

/// The rows a run of entries within one block touched, as they stand after it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Versions {
    /// Monthly rows: (indicator, part, month) → (events, cents).
    pub months: Vec<MonthRow>,
    /// Distinct counts: (indicator, part, period) → keys.
    pub distinct: Vec<DistinctRow>,
    /// Rows per key: (indicator, part, year, key) → events per month.
    pub keys: Vec<KeyRow>,
}

impl Versions {
    /// How many rows the versions hold.
    pub fn len(&self) -> usize {
        self.months.len() + self.distinct.len() + self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The running rows of a rebuild, block by block: what each block's versions are.
#[derive(Debug, Default)]
pub struct Running {
    /// The rows so far (monthly and per key), as a delta from nothing.
    pub rows: Delta,
    /// The distinct counts so far.
    pub distinct: DistinctChanges,
}

impl Running {
    /// Adds one block's delta (all its entries, or those up to the log's end) and says the
    /// versions it leaves: every monthly row it touched, every distinct count it changed, and
    /// every row per key whose presence in some period differs between the block's start and
    /// end or that lost an event within it, as they stand after it.
    ///
    /// Panics if a row per key would count fewer than no events (see [`distinct_changes`]).
    pub fn add_block(&mut self, block: Delta) -> Versions {
        let mut versions = Versions::default();
        let mut changes = DistinctChanges::new();
        let lowered = block.lowered;
        for (row, change) in block.keys {
            let after = {
                let counts = self.rows.keys.entry(row.clone()).or_default();
                for (events, change) in counts.iter_mut().zip(change) {
                    *events += change;
                }
                *counts
            };
            let mut before = after;
            for (events, change) in before.iter_mut().zip(change) {
                *events -= change;
            }
            let (indicator, part, year, _) = &row;
            distinct_changes(&mut changes, indicator, *part, *year, &before, &after);
            if presence(&before) != presence(&after) || lowered.contains(&row) {
                versions.keys.push((row, after));
            }
        }
        for (row, (events, cents)) in block.months {
            let kept = self.rows.months.entry(row.clone()).or_default();
            kept.0 += events;
            kept.1 += cents;
            versions.months.push((row, *kept));
        }
        for (row, change) in changes {
            if change == 0 {
                continue;
            }
            let kept = self.distinct.entry(row.clone()).or_default();
            *kept += change;
            versions.distinct.push((row, *kept));
        }
        versions
    }
}

/// The aggregates of the periodic parts over `period` as of an earlier position `p`, from the
/// rows as of `e` (the end of `p`'s block, or the checkpoint) and what the entries in
/// `(p, e]` added (`suffix`):
/// - `months`: the monthly rows of the period's months as of `e`;
/// - `distinct`: the period's distinct counts as of `e`, by (indicator, part);
/// - `keys`: the rows per key of the period's year that `e`'s block kept as of `e`. A key the
///   suffix touches that the block did not keep had events in the same periods throughout the
///   block (see the module's invariant): its distinct counts do not move.
///
/// A row that would count fewer than no events is a fault: the versions and the log disagree.
pub fn rewind_aggregates(
    period: Period,
    mut months: Months,
    mut distinct: BTreeMap<(String, i16), i64>,
    keys: &Keys,
    suffix: Delta,
) -> Result<Vec<(String, Part, Aggregate)>, ProjectorError> {
    let (first, end) = month_range(period);
    for ((indicator, part, month), (events, cents)) in suffix.months {
        if month < first || month >= end {
            continue;
        }
        let kept = months
            .entry((indicator.clone(), part, month.clone()))
            .or_default();
        kept.0 -= events;
        kept.1 -= cents;
        if kept.0 < 0 {
            return Err(Invariant::CountBelowZero {
                indicator,
                part,
                row: month,
                events: kept.0,
            }
            .into());
        }
    }
    let in_period = |counts: &MonthCounts| {
        counts[period.month_indexes()]
            .iter()
            .any(|events| *events > 0)
    };
    for ((indicator, part, year, key), change) in suffix.keys {
        if year != period.year() {
            continue;
        }
        let Some(at_end) = keys.get(&(indicator.clone(), part, key.clone())).copied() else {
            continue;
        };
        let mut earlier = at_end;
        for (events, change) in earlier.iter_mut().zip(change) {
            *events -= change;
        }
        if let Some(events) = earlier.iter().find(|events| **events < 0) {
            return Err(Invariant::CountBelowZero {
                indicator,
                part,
                row: key,
                events: *events,
            }
            .into());
        }
        let change = i64::from(in_period(&earlier)) - i64::from(in_period(&at_end));
        if change != 0 {
            *distinct.entry((indicator, part)).or_default() += change;
        }
    }
    let mut out: BTreeMap<(String, i16), Aggregate> = BTreeMap::new();
    for ((indicator, part, _), (events, cents)) in months {
        let aggregate = out.entry((indicator, part)).or_default();
        aggregate.count += u64::try_from(events).unwrap_or_default();
        aggregate.sum += from_cents(cents);
    }
    for ((indicator, part), keys) in distinct {
        let counted = u64::try_from(keys).map_err(|_| Invariant::CountBelowZero {
            indicator: indicator.clone(),
            part,
            row: period.to_string(),
            events: keys,
        })?;
        if counted > 0 || out.contains_key(&(indicator.clone(), part)) {
            out.entry((indicator, part)).or_default().distinct = counted;
        }
    }
    out.into_iter()
        .map(|((indicator, part), aggregate)| Ok((indicator, part_of(part)?, aggregate)))
        .collect()
}

/// The versions one step leaves, from the rows it wrote as they stand after it: the monthly
/// rows and distinct counts it changed, and every row per key it touched.
pub fn step_versions(
    months: HashMap<(String, i16, String), (i64, i64)>,
    distinct: HashMap<(String, i16, String), i64>,
    keys: HashMap<(String, i16, i32, String), MonthCounts>,
) -> Versions {
    Versions {
        months: months.into_iter().collect(),
        distinct: distinct.into_iter().collect(),
        keys: keys.into_iter().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_cut_the_log_at_multiples_of_the_block_size() {
        assert_eq!(block_of(0), 0);
        assert_eq!(block_of(1), 1);
        assert_eq!(block_of(BLOCK_ENTRIES), 1);
        assert_eq!(block_of(BLOCK_ENTRIES + 1), 2);
        assert_eq!(block_end(1), BLOCK_ENTRIES);
        assert_eq!(block_end(BLOCK_ENTRIES + 1), 2 * BLOCK_ENTRIES);
        assert_eq!(room_in_block(0), BLOCK_ENTRIES);
        assert_eq!(room_in_block(BLOCK_ENTRIES - 1), 1);
        assert_eq!(room_in_block(BLOCK_ENTRIES), BLOCK_ENTRIES);
    }

    fn key_delta(key: &str, month0: usize, events: i64) -> Delta {
        let mut delta = Delta::default();
        let mut counts = [0; 12];
        counts[month0] = events;
        delta
            .keys
            .insert(("reach".to_owned(), 0, 2024, key.to_owned()), counts);
        delta.months.insert(
            ("reach".to_owned(), 0, format!("2024-{:02}", month0 + 1)),
            (events, 0),
        );
        delta
    }

    #[test]
    fn a_block_keeps_a_key_that_lost_an_event_even_if_its_change_nets_to_nothing() {
        let mut running = Running::default();
        running.add_block(key_delta("ben-1", 0, 1));
        let mut voided_and_again = key_delta("ben-1", 0, 0);
        voided_and_again
            .lowered
            .insert(("reach".to_owned(), 0, 2024, "ben-1".to_owned()));
        let versions = running.add_block(voided_and_again);
        assert_eq!(versions.keys.len(), 1, "{versions:?}");
        assert_eq!(versions.keys[0].1[0], 1);
        assert!(
            versions.distinct.is_empty(),
            "nothing changed: {versions:?}"
        );
    }

    #[test]
    fn a_block_leaves_out_a_key_that_only_gained_events_in_periods_it_was_already_in() {
        let mut running = Running::default();
        let first = running.add_block(key_delta("ben-1", 0, 1));
        assert_eq!(first.keys.len(), 1, "its first events: {first:?}");
        let more = running.add_block(key_delta("ben-1", 0, 2));
        assert!(more.keys.is_empty(), "{more:?}");
        let new_month = running.add_block(key_delta("ben-1", 1, 1));
        assert_eq!(new_month.keys.len(), 1, "February is new: {new_month:?}");
        assert_eq!(running.rows.keys.values().next().map(|row| row[0]), Some(3));
    }

    #[test]
    fn the_running_distinct_counts_move_with_the_keys() {
        let mut running = Running::default();
        let first = running.add_block(key_delta("ben-1", 0, 1));
        let january = |versions: &Versions| {
            versions
                .distinct
                .iter()
                .find(|((_, _, period), _)| period == "2024-01")
                .map(|(_, keys)| *keys)
        };
        assert_eq!(january(&first), Some(1));
        let second = running.add_block(key_delta("ben-2", 0, 2));
        assert_eq!(january(&second), Some(2));
        let third = running.add_block(key_delta("ben-1", 0, -1));
        assert_eq!(january(&third), Some(1));
    }

    #[test]
    fn rewinding_takes_away_a_key_that_had_events_only_after_the_position() {
        let period: Period = "2024-Q1".parse().expect("a quarter");
        let mut months = Months::new();
        months.insert(("reach".to_owned(), 0, "2024-01".to_owned()), (3, 0));
        let mut distinct = BTreeMap::new();
        distinct.insert(("reach".to_owned(), 0), 2);
        let mut keys = Keys::new();
        let mut one = [0; 12];
        one[0] = 2;
        keys.insert(("reach".to_owned(), 0, "ben-1".to_owned()), one);
        let mut two = [0; 12];
        two[0] = 1;
        keys.insert(("reach".to_owned(), 0, "ben-2".to_owned()), two);
        // After the position: one event of ben-1 (still counted) and ben-2's only one.
        let mut suffix = key_delta("ben-1", 0, 1);
        suffix.merge(key_delta("ben-2", 0, 1));
        let aggregates =
            rewind_aggregates(period, months, distinct, &keys, suffix).expect("rewinds");
        assert_eq!(aggregates.len(), 1);
        let (_, _, aggregate) = &aggregates[0];
        assert_eq!((aggregate.count, aggregate.distinct), (1, 1));
    }

    #[test]
    fn rewinding_below_zero_is_a_fault_not_a_clamp() {
        let period: Period = "2024-Q1".parse().expect("a quarter");
        let error = rewind_aggregates(
            period,
            Months::new(),
            BTreeMap::new(),
            &Keys::new(),
            key_delta("ben-1", 0, 1),
        )
        .expect_err("a suffix that added to a row the versions do not have");
        assert!(error.to_string().contains("-1 events"), "{error}");
    }
}
