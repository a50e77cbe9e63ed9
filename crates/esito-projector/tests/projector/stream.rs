//! The projector over a stream, as an export is read: its rows give the values and the counts
//! per key that the whole log held in memory gives, whatever the entries correct or void.

use std::collections::{BTreeMap, HashSet};

use esito_indicators::{report, Fact, MemoryProjection, Part, Period};
use esito_projector::{Invariant, ProjectorError, Streamed};
use proptest::prelude::*;

use crate::log::{history, Log};

fn definitions() -> &'static esito_indicators::Definitions {
    esito_indicators::templates::built_in("cuneo")
        .expect("cuneo has definitions")
        .expect("built-in definitions parse")
}

/// The event ids the log's entries supersede, as a first reading of an export finds them.
fn targets(log: &Log) -> HashSet<String> {
    log.entries
        .iter()
        .filter_map(|entry| entry.corrects.clone())
        .collect()
}

fn periods() -> Vec<Period> {
    let mut periods = Period::all_in_year(2024).to_vec();
    periods.extend(Period::all_in_year(2025));
    periods
}

proptest! {
    /// For any short history: every indicator's value for every period, read from the rows of
    /// the streamed projection, is the value from every fact kept in memory; and so is each
    /// beneficiary's count of the distinct users.
    #[test]
    fn the_streamed_rows_give_the_values_and_counts_of_the_whole_log_in_memory(
        log in history(),
        run in 1usize..6,
    ) {
        let definitions = definitions();
        let mut memory = MemoryProjection::new();
        let mut streamed = Streamed::new(definitions, targets(&log)).in_runs_of(run);
        for entry in &log.entries {
            memory.apply(definitions, entry.into()).expect("derives");
            streamed.push(entry.clone()).expect("projects");
        }
        let projected = streamed.finish().expect("finishes");
        let head = log.entries.len() as u64;
        prop_assert_eq!(projected.position(), head);
        for period in periods() {
            let mut inputs = projected.inputs(period).expect("the rows read back");
            let from_rows = report::build(definitions, "c", head, period, |indicator| {
                inputs.remove(&indicator.id).unwrap_or_default()
            });
            let in_memory = report::build(definitions, "c", head, period, |indicator| {
                memory.inputs(indicator, period, head)
            });
            prop_assert_eq!(from_rows, in_memory, "{}", period);
            for indicator in &definitions.indicators {
                let mut counted: BTreeMap<String, u64> = BTreeMap::new();
                let main: Vec<&Fact> = memory
                    .counting(&indicator.id, head)
                    .filter(|fact| fact.part == Part::Main && period.contains(fact.local_date))
                    .collect();
                for key in main.iter().filter_map(|fact| fact.key.clone()) {
                    *counted.entry(key).or_default() += 1;
                }
                prop_assert_eq!(
                    projected.key_counts(&indicator.id, period).expect("counts"),
                    counted,
                    "{} {}", indicator.id, period
                );
            }
        }
    }
}

#[test]
fn an_entry_out_of_place_in_the_stream_is_a_fault() {
    let mut log = Log::registered("cuneo");
    log.access("b1", "2024-02-01");
    log.access("b2", "2024-02-02");
    let mut streamed = Streamed::new(definitions(), HashSet::new());
    streamed.push(log.entries[0].clone()).expect("the first");
    let skipped = streamed.push(log.entries[2].clone());
    assert_eq!(
        skipped.expect_err("a gap"),
        ProjectorError::Fault(Invariant::PositionsNotContiguous {
            expected: 2,
            found: 3
        })
    );
}

#[test]
fn a_void_of_an_earlier_run_not_named_beforehand_is_refused_not_ignored() {
    let mut log = Log::registered("cuneo");
    let access = log.access("b1", "2024-02-01");
    log.access("b2", "2024-02-02");
    let void = log.void(access);
    let project = |targets: HashSet<String>| {
        let mut streamed = Streamed::new(definitions(), targets).in_runs_of(2);
        for entry in &log.entries {
            streamed.push(entry.clone())?;
        }
        streamed.finish()
    };
    // Told nothing of what the log supersedes, the stream cannot take the access away.
    let refused = project(HashSet::new()).expect_err("the voided access was not kept");
    assert!(
        matches!(&refused, ProjectorError::Corrupt { position, reason }
            if *position == void && reason.contains("not in the log")),
        "{refused:?}"
    );
    let projected = project(targets(&log)).expect("told, it keeps the access");
    let january_to_march: Period = "2024-Q1".parse().expect("a period");
    assert_eq!(
        projected
            .key_counts("centre_users", january_to_march)
            .expect("counts"),
        BTreeMap::from([("b2".to_owned(), 1)])
    );
}
