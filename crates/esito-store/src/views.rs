//! A per-process cache of each contract's head and of the streams it has seen, so that an
//! append can be decided without reading first.
//!
//! Invariant: nothing here is trusted on its own. A decision made from the cache is written
//! only if the contract's head is still at the cached size (so nothing was appended since,
//! by this process or another). A stream missing from the cache is taken as empty only where a
//! wrong guess cannot be written: as the command's own stream (its first sequence number and
//! the event id are unique in the database) or as a stream it reads (an empty one can only make
//! it refuse). A stream read through another, such as an order's provider, must be cached. Any
//! refusal or rejection falls back to reading the log.

use std::collections::HashMap;
use std::sync::Mutex;

use esito_domain::{ContractId, Recorded, StreamRef};

use crate::ledger::{Head, Histories};

/// Streams kept per contract before the cache of that contract's streams is emptied.
const STREAMS_PER_CONTRACT_MAX: usize = 50_000;

struct View {
    head: Head,
    streams: HashMap<StreamRef, Vec<Recorded>>,
}

#[derive(Default)]
pub(crate) struct Views {
    contracts: Mutex<HashMap<ContractId, View>>,
}

impl Views {
    /// The cached head and the cached histories of `streams` (absent streams are left out).
    pub(crate) fn speculate(
        &self,
        contract_id: &ContractId,
        streams: impl IntoIterator<Item = StreamRef>,
    ) -> Option<(Head, Histories)> {
        let contracts = self
            .contracts
            .lock()
            .expect("the views lock is never poisoned");
        let view = contracts.get(contract_id)?;
        let histories = streams
            .into_iter()
            .filter_map(|stream| {
                view.streams
                    .get(&stream)
                    .map(|history| (stream, history.clone()))
            })
            .collect();
        Some((view.head.clone(), histories))
    }

    /// After a committed write that moved the head from `expected_size` to `head`: `read` are
    /// complete histories read from the log in the decision's snapshot, `appended` the new events.
    pub(crate) fn committed(
        &self,
        contract_id: &ContractId,
        expected_size: u64,
        head: &Head,
        read: Option<Histories>,
        appended: &[(StreamRef, Recorded)],
    ) {
        let mut contracts = self
            .contracts
            .lock()
            .expect("the views lock is never poisoned");
        let view = match contracts.get_mut(contract_id) {
            Some(view) if view.head.size == expected_size => view,
            // A later write is already in the view: this one is in the log, and in no danger.
            Some(view) if view.head.size >= head.size => return,
            _ => contracts
                .entry(contract_id.clone())
                .insert_entry(View {
                    head: head.clone(),
                    streams: HashMap::new(),
                })
                .into_mut(),
        };
        view.head = head.clone();
        if view.streams.len() > STREAMS_PER_CONTRACT_MAX {
            view.streams.clear();
        }
        view.streams.extend(read.into_iter().flatten());
        for (stream, recorded) in appended {
            view.streams
                .entry(stream.clone())
                .or_default()
                .push(recorded.clone());
        }
    }

    pub(crate) fn forget(&self, contract_id: &ContractId) {
        self.contracts
            .lock()
            .expect("the views lock is never poisoned")
            .remove(contract_id);
    }
}
