//! Small logs for the tests: entries as the log stores them (canonical JSON), and the
//! projector run over them the way the store runs it.

use std::collections::{BTreeMap, HashMap};

use esito_indicators::{Fact, StoredEntry};
use esito_log::Entry;
use esito_projector::{
    derive_chunk, derived, plan_step, read_step, Advance, Delta, ProjectionState, StepPlan,
};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A contract's log, built entry by entry.
#[derive(Debug, Clone, Default)]
pub struct Log {
    pub entries: Vec<Entry>,
}

/// The event id of the entry at `position`: every test log numbers its events this way.
pub fn id(position: u64) -> String {
    format!("00000000-0000-4000-8000-{position:012}")
}

impl Log {
    /// A log whose first entry registers the contract with `template`.
    pub fn registered(template: &str) -> Self {
        let mut log = Log::default();
        log.push(
            "ContractRegistered",
            "contract",
            "2024-01-01",
            json!({ "title": "t", "template": template }),
        );
        log
    }

    /// Appends an event occurring at 10:00 (Rome) on `on`; returns its position.
    pub fn push(&mut self, event_type: &str, stream_id: &str, on: &str, payload: Value) -> u64 {
        self.append(event_type, stream_id, on, None, payload)
    }

    /// An access to the services centre by `beneficiary` on `on` (cuneo counts it twice: an
    /// access, and a user among the distinct users).
    pub fn access(&mut self, beneficiary: &str, on: &str) -> u64 {
        self.push(
            "AccessRecorded",
            "access",
            on,
            json!({ "beneficiary_id": beneficiary, "channel": "in_person" }),
        )
    }

    /// A corrected copy of the entry at `target`, with `payload` and occurring on `on`.
    pub fn correct(&mut self, target: u64, on: &str, payload: Value) -> u64 {
        let corrected = self.entries[target as usize - 1].clone();
        self.append(
            &corrected.event_type,
            &corrected.stream_id,
            on,
            Some(id(target)),
            payload,
        )
    }

    /// Voids the entry at `target`.
    pub fn void(&mut self, target: u64) -> u64 {
        let stream_id = self.entries[target as usize - 1].stream_id.clone();
        self.append(
            "EntryVoided",
            &stream_id,
            "2024-12-31",
            Some(id(target)),
            json!({ "reason": "entered by mistake" }),
        )
    }

    fn append(
        &mut self,
        event_type: &str,
        stream_id: &str,
        on: &str,
        corrects: Option<String>,
        payload: Value,
    ) -> u64 {
        let position = self.entries.len() as u64 + 1;
        self.entries.push(Entry {
            contract_id: "c".to_owned(),
            position,
            event_id: id(position),
            stream_type: "any".to_owned(),
            stream_id: stream_id.to_owned(),
            stream_seq: 1,
            event_type: event_type.to_owned(),
            schema_version: 1,
            occurred_at: format!("{on}T10:00:00+01:00"),
            recorded_at: "2024-01-01T00:00:00Z".to_owned(),
            recorded_by: "test".to_owned(),
            corrects,
            payload,
        });
        position
    }

    /// The stored rows (position, text) in `(after, up_to]`, as the store reads them.
    pub fn rows(&self, after: u64, up_to: u64) -> Vec<(u64, String)> {
        self.entries
            .iter()
            .filter(|entry| entry.position > after && entry.position <= up_to)
            .map(|entry| (entry.position, entry.canonical_json()))
            .collect()
    }

    /// The entries up to `up_to` by event id: what the store finds when a step supersedes an
    /// entry from before it.
    pub fn by_event_id(&self, up_to: u64) -> HashMap<String, Entry> {
        self.entries
            .iter()
            .filter(|entry| entry.position <= up_to)
            .map(|entry| (entry.event_id.clone(), entry.clone()))
            .collect()
    }

    /// One step from `state` over the entries up to `up_to`, as the store's step runs it:
    /// read for `state`'s definitions, the entries they supersede from before looked up.
    pub fn step(&self, state: &ProjectionState, up_to: u64) -> StepPlan<Advance> {
        let rows = self.rows(state.position, up_to);
        let mut entries = read_step(state, &rows).expect("the test entries read");
        let earlier = self.by_event_id(state.position);
        plan_step(state, &mut entries, &earlier).expect("the step plans")
    }

    /// [`Log::step`] that must go on (the test log names no new template).
    pub fn advance(&self, state: &ProjectionState, up_to: u64) -> Advance {
        match self.step(state, up_to) {
            StepPlan::Advance(advance) => advance,
            StepPlan::Restart(restart) => panic!("the step restarts with {restart:?}"),
        }
    }

    /// What the entries in `(after, up_to]` add to the rows, derived in chunks of `chunk`
    /// entries with `state`'s definitions and added up in position order, the facts of the
    /// entries from before a chunk that it supersedes taken away: as a rebuild, or a value as
    /// of an earlier position, reads the log.
    pub fn chunked(
        &self,
        state: &ProjectionState,
        after: u64,
        up_to: u64,
        chunk: usize,
    ) -> Chunked {
        let definitions =
            esito_projector::definitions_of(state).expect("built-in definitions parse");
        let rows = self.rows(after, up_to);
        let mut out = Chunked::default();
        for rows in rows.chunks(chunk) {
            let mut derived_chunk =
                derive_chunk(definitions, rows.to_vec()).expect("a chunk derives");
            let earlier = self.by_event_id(derived_chunk.last_position);
            for target in &derived_chunk.facts.missing {
                let facts = derived(definitions.expect("facts were derived"), &earlier[target])
                    .expect("an earlier entry derives")
                    .facts;
                derived_chunk
                    .delta
                    .apply(&facts, -1)
                    .expect("the facts apply");
            }
            out.delta.merge(derived_chunk.delta);
            out.span_facts.append(&mut derived_chunk.facts.span_facts);
            out.superseded.append(&mut derived_chunk.facts.superseded);
        }
        out
    }
}

/// What the chunks of a run add up to.
#[derive(Debug, Default)]
pub struct Chunked {
    pub delta: Delta,
    pub span_facts: Vec<Fact>,
    pub superseded: Vec<(String, u64)>,
}

/// One thing that happens in a random history.
#[derive(Debug, Clone)]
enum Happening {
    /// An access by one of three beneficiaries, in one of 2024's months or January 2025.
    Access { who: u8, month: u8 },
    /// A rent of so many euro.
    Rent { euro: u16, month: u8 },
    /// A tenancy starting in a flat: facts of parts that reach back.
    Tenancy { flat: u8, month: u8 },
    /// A correction of the `target`-th entry that still counts, to another beneficiary, month
    /// or amount.
    Correct { target: usize, who: u8, month: u8 },
    /// A void of the `target`-th entry that still counts.
    Void { target: usize },
}

fn on(month: u8) -> String {
    match month {
        1..=12 => format!("2024-{month:02}-15"),
        _ => "2025-01-15".to_owned(),
    }
}

impl Log {
    fn happen(&mut self, happening: Happening, counting: &mut Vec<u64>) {
        match happening {
            Happening::Access { who, month } => {
                counting.push(self.access(&format!("b{who}"), &on(month)));
            }
            Happening::Rent { euro, month } => counting.push(self.push(
                "RentPaid",
                "t1",
                &on(month),
                json!({ "month": "2024-01", "amount": format!("{euro}.50") }),
            )),
            Happening::Tenancy { flat, month } => counting.push(self.push(
                "TenancyStarted",
                &format!("flat-{flat}"),
                &on(month),
                json!({ "unit_id": format!("flat-{flat}") }),
            )),
            Happening::Correct { target, who, month } if !counting.is_empty() => {
                let target = counting.remove(target % counting.len());
                let payload = match self.entries[target as usize - 1].event_type.as_str() {
                    "RentPaid" => json!({ "month": "2024-01", "amount": format!("{who}.25") }),
                    "AccessRecorded" => {
                        json!({ "beneficiary_id": format!("b{who}"), "channel": "in_person" })
                    }
                    _ => self.entries[target as usize - 1].payload.clone(),
                };
                counting.push(self.correct(target, &on(month), payload));
            }
            Happening::Void { target } if !counting.is_empty() => {
                let target = counting.remove(target % counting.len());
                self.void(target);
            }
            Happening::Correct { .. } | Happening::Void { .. } => {}
        }
    }
}

fn happening() -> impl Strategy<Value = Happening> {
    prop_oneof![
        4 => (0u8..3, 1u8..=13).prop_map(|(who, month)| Happening::Access { who, month }),
        1 => (1u16..500, 1u8..=13).prop_map(|(euro, month)| Happening::Rent { euro, month }),
        1 => (0u8..2, 1u8..=13).prop_map(|(flat, month)| Happening::Tenancy { flat, month }),
        2 => (any::<usize>(), 0u8..3, 1u8..=13)
            .prop_map(|(target, who, month)| Happening::Correct { target, who, month }),
        2 => any::<usize>().prop_map(|target| Happening::Void { target }),
    ]
}

/// A random short history of a cuneo contract: accesses, rents and tenancies, some of them
/// corrected or voided later.
pub fn history() -> impl Strategy<Value = Log> {
    prop::collection::vec(happening(), 1..16).prop_map(|happenings| {
        let mut log = Log::registered("cuneo");
        let mut counting = Vec::new();
        for happening in happenings {
            log.happen(happening, &mut counting);
        }
        log
    })
}

/// The state of a projection of `template` at `position`, as a step leaves it.
pub fn at(template: &str, position: u64) -> ProjectionState {
    ProjectionState {
        position,
        template: Some(template.to_owned()),
        template_named_at: 1,
        definitions_sha256: esito_indicators::templates::built_in(template)
            .map(|definitions| definitions.expect("built-in definitions parse"))
            .map(|definitions| definitions.sha256.clone()),
    }
}

/// The monthly rows of a delta that change something, in order.
pub fn months(delta: &Delta) -> BTreeMap<(String, i16, String), (i64, i64)> {
    delta
        .months
        .iter()
        .filter(|(_, change)| **change != (0, 0))
        .map(|(row, change)| (row.clone(), *change))
        .collect()
}

/// The rows per key of a delta that change something, in order.
pub fn keys(delta: &Delta) -> BTreeMap<(String, i16, i32, String), [i64; 12]> {
    delta
        .keys
        .iter()
        .filter(|(_, change)| **change != [0; 12])
        .map(|(row, change)| (row.clone(), *change))
        .collect()
}

/// A monthly row's key.
pub fn month(indicator: &str, month: &str) -> (String, i16, String) {
    (indicator.to_owned(), 0, month.to_owned())
}

/// A row per key's key (part Main, year 2024).
pub fn key(indicator: &str, key: &str) -> (String, i16, i32, String) {
    (indicator.to_owned(), 0, 2024, key.to_owned())
}

/// A year's events per month, from (month number, events).
pub fn in_months(events: &[(usize, i64)]) -> [i64; 12] {
    let mut counts = [0; 12];
    for (month, count) in events {
        counts[month - 1] = *count;
    }
    counts
}

/// Stored entries of `rows`, read for `state`'s definitions.
pub fn read<'a>(state: &ProjectionState, rows: &'a [(u64, String)]) -> Vec<StoredEntry<'a>> {
    read_step(state, rows).expect("the test entries read")
}
