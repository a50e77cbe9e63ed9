//! The rebuild's chunks, derived apart and added up in position order, equal one step over
//! all the entries.

use esito_projector::ProjectionState;
use proptest::prelude::*;

use crate::log::{at, history, keys, months};

proptest! {
    /// For any short history and chunk size: the chunks' deltas merged in position order,
    /// with the facts of entries superseded from before a chunk taken away, are the delta of
    /// one step over the whole log; so are the facts that reach back and the superseded events.
    #[test]
    fn the_chunks_merged_in_position_order_equal_one_step_over_all_entries(
        log in history(),
        chunk in 1usize..6,
    ) {
        let head = log.entries.len() as u64;
        let step = log.advance(&ProjectionState::default(), head);
        let chunked = log.chunked(&at("cuneo", 0), 0, head, chunk);
        prop_assert_eq!(months(&chunked.delta), months(&step.delta));
        prop_assert_eq!(keys(&chunked.delta), keys(&step.delta));
        prop_assert_eq!(chunked.span_facts, step.span_facts);
        prop_assert_eq!(chunked.superseded, step.superseded);
    }
}
