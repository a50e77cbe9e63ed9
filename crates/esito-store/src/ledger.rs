//! The store-independent half of an append: idempotency, stream replay, `decide`, and the
//! entries with their positions and leaf hashes. The backends only fetch rows and write them.
//!
//! Invariant: runs while the caller holds the contract's head lock, so `head.size` is the
//! last committed position and the positions handed out are `size + 1 ..= size + n`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use esito_domain::commands::Target;
use esito_domain::events::contract_stream;
use esito_domain::values::format_recorded_at;
use esito_domain::{
    decide, replay, ContractId, DecisionContext, Event, EventId, Recorded, StreamRef, StreamState,
    StreamType, Submission, SCHEMA_VERSION,
};
use esito_log::merkle::tiles::{self, StoredNode};
use esito_log::merkle::Frontier;
use esito_log::{Entry, Hash};
use sha2::{Digest, Sha256};

use crate::{AppendError, AppendOutcome};

/// Largest number of commands in one append transaction.
pub const BATCH_SIZE_MAX: usize = 1_000;

/// The contract's head as locked at the start of the transaction.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub size: u64,
    pub frontier: Frontier,
}

/// A stored event found by its id: for idempotency, and to route corrections to their stream.
#[derive(Debug, Clone)]
pub(crate) struct KnownEvent {
    pub event_id: EventId,
    pub position: u64,
    pub stream: StreamRef,
    pub request_digest: Vec<u8>,
    pub leaf_hash: Hash,
}

/// The events of each stream `decide` needs, in position order.
pub(crate) type Histories = BTreeMap<StreamRef, Vec<Recorded>>;

/// Parses stored rows (in position order) into stream histories.
pub(crate) fn histories(rows: &[StreamRow]) -> Result<Histories, AppendError> {
    let mut histories = Histories::new();
    for row in rows {
        let (stream, recorded) = recorded_from_row(row)?;
        histories.entry(stream).or_default().push(recorded);
    }
    Ok(histories)
}

/// One stored event of a stream that `decide` needs.
#[derive(Debug, Clone)]
pub(crate) struct StreamRow {
    pub position: u64,
    pub entry: String,
}

/// A row to insert: the entry's canonical bytes and the columns derived from them.
#[derive(Debug, Clone)]
pub(crate) struct NewRow {
    pub position: u64,
    pub event_id: EventId,
    pub stream_type: &'static str,
    pub stream_id: String,
    pub stream_seq: u64,
    pub event_type: &'static str,
    pub occurred_at: String,
    pub recorded_at: String,
    pub recorded_by: String,
    pub corrects: Option<EventId>,
    pub entry: String,
    pub leaf_hash: Hash,
    pub request_digest: [u8; 32],
}

/// SHA-256 of the canonical JSON of the submission: a retry is the same request exactly when
/// its digest is the same.
pub(crate) fn request_digest(submission: &Submission) -> [u8; 32] {
    let value = serde_json::to_value(submission).expect("a submission serializes to JSON");
    Sha256::digest(esito_log::canonicalize(&value).as_bytes()).into()
}

/// What the first pass over the batch found for each submission.
#[derive(Clone)]
pub(crate) enum Resolved {
    /// Already in the log with the same content: answered with the original, nothing written.
    Duplicate(AppendOutcome),
    /// Same id as an earlier submission of this batch, same content.
    DuplicateInBatch(usize),
    New {
        target: StreamRef,
    },
}

/// Matches the batch against the events already stored under the same ids, and routes
/// corrections and voids to the stream of the event they name.
pub(crate) fn resolve(
    submissions: &[Submission],
    digests: &[[u8; 32]],
    known: &[KnownEvent],
    contract_id: &ContractId,
) -> Result<Vec<Resolved>, AppendError> {
    let known: HashMap<EventId, &KnownEvent> = known.iter().map(|k| (k.event_id, k)).collect();
    let mut first_in_batch: HashMap<EventId, usize> = HashMap::new();
    let mut resolved = Vec::with_capacity(submissions.len());
    for (index, (submission, digest)) in submissions.iter().zip(digests).enumerate() {
        let event_id = submission.event_id;
        if let Some(stored) = known.get(&event_id) {
            if stored.request_digest.as_slice() != digest.as_slice() {
                return Err(AppendError::EventIdReused { index, event_id });
            }
            resolved.push(Resolved::Duplicate(AppendOutcome {
                event_id,
                position: stored.position,
                leaf_hash: stored.leaf_hash,
                duplicate: true,
            }));
            continue;
        }
        if let Some(&first) = first_in_batch.get(&event_id) {
            if digests[first] != *digest {
                return Err(AppendError::EventIdReused { index, event_id });
            }
            resolved.push(Resolved::DuplicateInBatch(first));
            continue;
        }
        first_in_batch.insert(event_id, index);
        let target = match submission.command.target(contract_id) {
            Target::Stream(stream) => stream,
            Target::StreamOfEvent(corrected) => match known.get(&corrected) {
                Some(stored) => stored.stream.clone(),
                None => {
                    // An event of this same batch may be corrected too.
                    let earlier = submissions[..index]
                        .iter()
                        .position(|s| s.event_id == corrected);
                    match earlier.and_then(|i| submissions[i].command.target(contract_id).stream())
                    {
                        Some(stream) => stream,
                        None => {
                            return Err(AppendError::Rejected {
                                index,
                                error: esito_domain::DomainError::CorrectedEventNotFound {
                                    event_id: corrected,
                                },
                            })
                        }
                    }
                }
            },
        };
        resolved.push(Resolved::New { target });
    }
    Ok(resolved)
}

/// Every stream the new submissions write or read, the contract's own stream included.
pub(crate) fn streams_needed(
    submissions: &[Submission],
    resolved: &[Resolved],
    contract_id: &ContractId,
) -> BTreeSet<StreamRef> {
    let mut streams = BTreeSet::from([contract_stream(contract_id)]);
    for (submission, resolved) in submissions.iter().zip(resolved) {
        if let Resolved::New { target } = resolved {
            streams.insert(target.clone());
            streams.extend(submission.command.reads());
        }
    }
    streams
}

/// The streams the batch names itself (targets and reads, the contract's own stream
/// included); corrections add the streams of the events they name, which only the log knows.
pub(crate) fn streams_named(
    submissions: &[Submission],
    contract_id: &ContractId,
) -> BTreeSet<StreamRef> {
    let mut streams = BTreeSet::from([contract_stream(contract_id)]);
    for submission in submissions {
        if let Target::Stream(stream) = submission.command.target(contract_id) {
            streams.insert(stream);
        }
        streams.extend(submission.command.reads());
    }
    streams
}

/// The committed result of a batch: rows to insert, the new head, one outcome per submission.
pub(crate) struct Plan {
    pub rows: Vec<NewRow>,
    /// The roots of the stored levels' subtrees that the new rows complete, written with them.
    pub subtrees: Vec<StoredNode>,
    pub head: Head,
    pub outcomes: Vec<AppendOutcome>,
    /// The new events by stream, in order: what a cache of the streams must add.
    pub appended: Vec<(StreamRef, Recorded)>,
}

fn recorded_from_row(row: &StreamRow) -> Result<(StreamRef, Recorded), AppendError> {
    let corrupt = |reason: String| AppendError::Corrupt {
        position: row.position,
        reason,
    };
    let entry: Entry = serde_json::from_str(&row.entry).map_err(|e| corrupt(e.to_string()))?;
    let stream_type = StreamType::parse(&entry.stream_type)
        .ok_or_else(|| corrupt(format!("unknown stream type {}", entry.stream_type)))?;
    let stream_id =
        esito_domain::StreamId::parse(&entry.stream_id).map_err(|e| corrupt(e.to_string()))?;
    let event =
        Event::from_parts(&entry.event_type, entry.payload).map_err(|e| corrupt(e.to_string()))?;
    let parse_id = |text: &str| EventId::parse_str(text).map_err(|e| corrupt(e.to_string()));
    let recorded = Recorded {
        event_id: parse_id(&entry.event_id)?,
        corrects: entry.corrects.as_deref().map(parse_id).transpose()?,
        occurred_at: esito_domain::OccurredAt::parse(&entry.occurred_at)
            .map_err(|e| corrupt(e.to_string()))?,
        event,
    };
    Ok((StreamRef::new(stream_type, stream_id), recorded))
}

/// Why a plan could not be made.
pub(crate) enum PlanError {
    Append(AppendError),
    /// A command reads streams that only its other reads could name (an order reads the
    /// provider of its product): fetch these too, and plan again.
    NeedStreams(Vec<StreamRef>),
}

impl From<AppendError> for PlanError {
    fn from(error: AppendError) -> Self {
        PlanError::Append(error)
    }
}

/// Decides every new submission in order, each seeing the events of those before it.
/// `loaded` names the streams whose histories were fetched (absent from `histories` means
/// empty); `None` takes every stream missing from `histories` as empty.
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan(
    contract_id: &ContractId,
    principal: &str,
    recorded_at: chrono::DateTime<chrono::Utc>,
    mut head: Head,
    submissions: &[Submission],
    digests: &[[u8; 32]],
    resolved: Vec<Resolved>,
    mut histories: Histories,
    loaded: Option<&BTreeSet<StreamRef>>,
) -> Result<Plan, PlanError> {
    let mut appended = Vec::new();
    let mut states: BTreeMap<StreamRef, StreamState> = BTreeMap::new();
    let recorded_at = format_recorded_at(recorded_at);
    let contract_ref = contract_stream(contract_id);
    let mut rows = Vec::new();
    let mut subtrees = Vec::new();
    let mut outcomes: Vec<AppendOutcome> = Vec::with_capacity(submissions.len());

    for (index, (submission, resolution)) in submissions.iter().zip(resolved).enumerate() {
        let target = match resolution {
            Resolved::Duplicate(outcome) => {
                outcomes.push(outcome);
                continue;
            }
            Resolved::DuplicateInBatch(first) => {
                let mut outcome = outcomes[first].clone();
                outcome.duplicate = true;
                outcomes.push(outcome);
                continue;
            }
            Resolved::New { target } => target,
        };
        let rejected = |error| AppendError::Rejected { index, error };
        let mut state_of = |stream: &StreamRef| -> Result<StreamState, AppendError> {
            if let Some(state) = states.get(stream) {
                return Ok(state.clone());
            }
            let history = histories.get(stream).map(Vec::as_slice).unwrap_or_default();
            let state = replay(stream.stream_type, history).map_err(rejected)?;
            states.insert(stream.clone(), state.clone());
            Ok(state)
        };
        let contract = match state_of(&contract_ref)? {
            StreamState::Contract(contract) => contract,
            _ => unreachable!("the contract stream replays into a contract"),
        };
        let mut context = DecisionContext {
            contract,
            ..Default::default()
        };
        for read in submission.command.reads() {
            let state = state_of(&read)?;
            context.reads.insert(read, state);
        }
        let dependent = submission.command.dependent_reads(&context.reads);
        if let Some(loaded) = loaded {
            let missing: Vec<StreamRef> = dependent
                .iter()
                .filter(|s| !loaded.contains(*s) && !histories.contains_key(*s))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(PlanError::NeedStreams(missing));
            }
        }
        for read in dependent {
            let state = state_of(&read)?;
            context.reads.insert(read, state);
        }
        let target_state = state_of(&target)?;
        let corrects = submission.command.corrects();
        if corrects.is_some() {
            context.target_history = histories.get(&target).cloned().unwrap_or_default();
        }
        let event = decide(submission, &target_state, &context).map_err(rejected)?;
        if let Some(stream_type) = event.stream_type() {
            assert_eq!(
                stream_type, target.stream_type,
                "decide writes to the command's own stream"
            );
        }

        let history = histories.entry(target.clone()).or_default();
        let stream_seq = history.len() as u64 + 1;
        let position = head.size + 1;
        let entry = Entry {
            contract_id: contract_id.to_string(),
            position,
            event_id: submission.event_id.to_string(),
            stream_type: target.stream_type.as_str().to_owned(),
            stream_id: target.stream_id.to_string(),
            stream_seq,
            event_type: event.event_type().to_owned(),
            schema_version: SCHEMA_VERSION,
            occurred_at: submission.occurred_at.to_string(),
            recorded_at: recorded_at.clone(),
            recorded_by: principal.to_owned(),
            corrects: corrects.map(|id| id.to_string()),
            payload: event.payload(),
        };
        let canonical = entry.canonical_json();
        let leaf_hash = esito_log::leaf_hash(canonical.as_bytes());
        head.frontier.push_and_report(leaf_hash, |level, hash| {
            if tiles::is_stored_level(level) {
                subtrees.push(StoredNode {
                    level,
                    index: (position >> level) - 1,
                    hash: *hash,
                });
            }
        });
        head.size = position;
        debug_assert_eq!(
            head.frontier.size(),
            head.size,
            "the frontier covers every position"
        );

        // Keep the in-batch state current: corrections change history, so replay again later.
        let recorded = Recorded {
            event_id: submission.event_id,
            corrects,
            occurred_at: submission.occurred_at,
            event: event.clone(),
        };
        history.push(recorded.clone());
        appended.push((target.clone(), recorded));
        if corrects.is_some() {
            states.remove(&target);
        } else if let Some(state) = states.get_mut(&target) {
            state
                .evolve(&event)
                .expect("a decided event follows its stream's state");
        }

        outcomes.push(AppendOutcome {
            event_id: submission.event_id,
            position,
            leaf_hash,
            duplicate: false,
        });
        rows.push(NewRow {
            position,
            event_id: submission.event_id,
            stream_type: target.stream_type.as_str(),
            stream_id: target.stream_id.to_string(),
            stream_seq,
            event_type: event.event_type(),
            occurred_at: entry.occurred_at,
            recorded_at: entry.recorded_at,
            recorded_by: entry.recorded_by,
            corrects,
            entry: canonical,
            leaf_hash,
            request_digest: digests[index],
        });
    }
    Ok(Plan {
        rows,
        subtrees,
        head,
        outcomes,
        appended,
    })
}
