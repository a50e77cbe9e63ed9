//! The store-independent half of an append: idempotency, stream replay, `decide`, and the
//! entries with their positions and leaf hashes. The backends only fetch rows and write them.
//!
//! Invariant: runs while the caller holds the contract's head lock, so `head.size` is the
//! last committed position and the positions handed out are `size + 1 ..= size + n`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use esito_domain::{
    commands::Target, decide, events::contract_stream, peers_read, replay,
    values::format_recorded_at, ContractId, DecisionContext, Event, EventId, Recorded, StreamRef,
    StreamState, StreamType, Submission, SCHEMA_VERSION,
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

/// What an append was asked: the contract, who asks (recorded as `recorded_by`), the
/// submissions, and each one's request digest.
pub(crate) struct Batch<'a> {
    pub contract_id: &'a ContractId,
    pub principal: &'a str,
    pub submissions: &'a [Submission],
    pub digests: Vec<[u8; 32]>,
}

impl<'a> Batch<'a> {
    /// A batch with its digests computed (the store's own requests carry theirs: `group.rs`).
    #[cfg(test)]
    pub(crate) fn new(
        contract_id: &'a ContractId,
        principal: &'a str,
        submissions: &'a [Submission],
    ) -> Self {
        Self {
            contract_id,
            principal,
            submissions,
            digests: submissions.iter().map(request_digest).collect(),
        }
    }
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

/// Matches the batch against the stored events `known` finds by id (a group keeps one index
/// for all its batches), and routes corrections and voids to the stream of the event they name.
pub(crate) fn resolve<'k>(
    batch: &Batch<'_>,
    known: impl Fn(&EventId) -> Option<&'k KnownEvent>,
) -> Result<Vec<Resolved>, AppendError> {
    let Batch {
        contract_id,
        submissions,
        digests,
        ..
    } = batch;
    let mut first_in_batch: HashMap<EventId, usize> = HashMap::new();
    let mut resolved = Vec::with_capacity(submissions.len());
    for (index, (submission, digest)) in submissions.iter().zip(digests).enumerate() {
        let event_id = submission.event_id;
        if let Some(stored) = known(&event_id) {
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
            Target::StreamOfEvent(corrected) => match known(&corrected) {
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
pub(crate) fn streams_needed(batch: &Batch<'_>, resolved: &[Resolved]) -> BTreeSet<StreamRef> {
    let mut streams = BTreeSet::from([contract_stream(batch.contract_id)]);
    for (submission, resolved) in batch.submissions.iter().zip(resolved) {
        if let Resolved::New { target } = resolved {
            streams.insert(target.clone());
            streams.extend(submission.command.reads());
        }
    }
    streams
}

/// The streams the batch names itself (targets and reads, the contract's own stream
/// included); corrections add the streams of the events they name, which only the log knows.
pub(crate) fn streams_named(batch: &Batch<'_>) -> BTreeSet<StreamRef> {
    let mut streams = BTreeSet::from([contract_stream(batch.contract_id)]);
    for submission in batch.submissions {
        if let Target::Stream(stream) = submission.command.target(batch.contract_id) {
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
    /// A command's rules read every stream of this type (a tenancy's start, every tenancy and
    /// unit: `esito_domain::peers_read`): fetch them all, in the same snapshot as the head,
    /// and plan again with the type in `PlanInput::every_stream_of`.
    NeedStreamsOfType(StreamType),
}

impl From<AppendError> for PlanError {
    fn from(error: AppendError) -> Self {
        PlanError::Append(error)
    }
}

/// What a plan is made from: the batch, the head, the histories read and what [`resolve`] found.
pub(crate) struct PlanInput<'a> {
    pub batch: &'a Batch<'a>,
    /// The time recorded in every entry of the batch.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// The head the batch is decided against: its entries take positions `size + 1 ..`.
    pub head: Head,
    pub resolved: Vec<Resolved>,
    pub histories: Histories,
    /// The streams whose histories were fetched (absent from `histories` means empty); `None`
    /// takes every stream missing from `histories` as empty.
    pub loaded: Option<&'a BTreeSet<StreamRef>>,
    /// The stream types of which every stream of the contract was fetched.
    pub every_stream_of: BTreeSet<StreamType>,
}

/// Decides every new submission in order, each seeing the events of those before it.
pub(crate) fn plan(input: PlanInput<'_>) -> Result<Plan, PlanError> {
    let PlanInput {
        batch:
            Batch {
                contract_id,
                principal,
                submissions,
                digests,
            },
        recorded_at,
        mut head,
        resolved,
        mut histories,
        loaded,
        every_stream_of,
    } = input;
    let mut appended = Vec::new();
    let mut states: BTreeMap<StreamRef, StreamState> = BTreeMap::new();
    let recorded_at = format_recorded_at(recorded_at);
    let contract_ref = contract_stream(contract_id);
    let principal: &str = principal;
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
            definitions: Some(&esito_indicators::templates::CATALOG),
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
        let kinds = peers_read(&submission.command, target.stream_type);
        if let Some(kind) = kinds.iter().find(|kind| !every_stream_of.contains(kind)) {
            if loaded.is_some() {
                return Err(PlanError::NeedStreamsOfType(*kind));
            }
        }
        // Every stream of those types is in `histories`; not walked when a command reads none.
        if !kinds.is_empty() {
            context.peers = (histories.iter())
                .filter(|(stream, _)| kinds.contains(&stream.stream_type) && **stream != target)
                .map(|(stream, history)| (stream.clone(), history.clone()))
                .collect();
        }
        context.target = Some(target.clone());
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

#[cfg(test)]
pub(crate) mod tests {
    use esito_domain::events::ServiceFamily;
    use esito_domain::{Command, DomainError, OccurredAt, StreamId};

    use super::*;

    pub(crate) fn contract() -> ContractId {
        ContractId::parse("cuneo").expect("a contract id")
    }

    pub(crate) fn submit(command: Command) -> Submission {
        Submission {
            event_id: EventId::new_v4(),
            occurred_at: OccurredAt::parse("2023-07-01T10:00:00+02:00").expect("an instant"),
            command,
        }
    }

    pub(crate) fn registration() -> Submission {
        let registration = serde_json::json!({
            "type": "RegisterContract", "title": "Communal Living", "template": "cuneo",
            "payer": "Comune di Cuneo", "operator": "Open House", "evaluator": "Valutatore",
            "term_start_on": "2023-07-01", "term_end_on": "2024-12-31", "period_kind": "quarter"
        });
        submit(serde_json::from_value(registration).expect("a registration"))
    }

    pub(crate) fn accreditation(provider: &str) -> Submission {
        submit(Command::AccreditProvider {
            provider_id: StreamId::parse(provider).expect("a provider id"),
            name: "Cucina Solidale".into(),
            service_family: ServiceFamily::Meals,
        })
    }

    pub(crate) fn suspension(provider: &str) -> Submission {
        submit(Command::SuspendProvider {
            provider_id: StreamId::parse(provider).expect("a provider id"),
            reason: "accreditation lapsed".into(),
        })
    }

    pub(crate) fn void(event_id: EventId) -> Submission {
        submit(Command::VoidEvent {
            voids: event_id,
            reason: "recorded twice".into(),
        })
    }

    pub(crate) fn empty_head() -> Head {
        Head {
            size: 0,
            frontier: Frontier::default(),
        }
    }

    pub(crate) fn recorded_at() -> chrono::DateTime<chrono::Utc> {
        "2024-03-01T12:00:00.123456Z".parse().expect("an instant")
    }

    /// Resolves and plans `submissions` on `head` and `histories` (every stream loaded).
    pub(crate) fn plan_on(
        submissions: &[Submission],
        known: &[KnownEvent],
        head: Head,
        histories: Histories,
    ) -> Result<Plan, AppendError> {
        let contract_id = contract();
        let batch = Batch::new(&contract_id, "operator", submissions);
        let resolved = resolve(&batch, |id| known.iter().find(|k| k.event_id == *id))?;
        plan(PlanInput {
            batch: &batch,
            recorded_at: recorded_at(),
            head,
            resolved,
            histories,
            loaded: None,
            every_stream_of: BTreeSet::new(),
        })
        .map_err(|error| match error {
            PlanError::Append(error) => error,
            PlanError::NeedStreams(streams) => panic!("every stream was loaded: {streams:?}"),
            PlanError::NeedStreamsOfType(kind) => panic!("every stream was loaded: {kind:?}"),
        })
    }

    /// The histories a plan leaves behind, for the next one.
    pub(crate) fn histories_after(plan: &Plan) -> Histories {
        let mut histories = Histories::new();
        for (stream, recorded) in &plan.appended {
            histories
                .entry(stream.clone())
                .or_default()
                .push(recorded.clone());
        }
        histories
    }

    fn known_from(plan: &Plan, index: usize, submission: &Submission) -> KnownEvent {
        let row = &plan.rows[index];
        KnownEvent {
            event_id: row.event_id,
            position: row.position,
            stream: StreamRef::new(
                StreamType::parse(row.stream_type).expect("a stream type"),
                StreamId::parse(&row.stream_id).expect("a stream id"),
            ),
            request_digest: request_digest(submission).to_vec(),
            leaf_hash: row.leaf_hash,
        }
    }

    #[test]
    fn positions_follow_the_head_without_gaps_and_stream_seq_counts_each_stream() {
        let first = [registration(), accreditation("prov-1")];
        let planned = plan_on(&first, &[], empty_head(), Histories::new()).expect("accepted");
        let positions: Vec<u64> = planned.rows.iter().map(|row| row.position).collect();
        assert_eq!(positions, [1, 2]);
        assert_eq!(planned.head.size, 2);

        // A second batch on the head the first left: positions 3 and 4; the suspension is the
        // provider stream's second event, the second provider's accreditation its stream's first.
        let second = [suspension("prov-1"), accreditation("prov-2")];
        let histories = histories_after(&planned);
        let next = plan_on(&second, &[], planned.head.clone(), histories).expect("accepted");
        let rows: Vec<(u64, &str, u64)> = next
            .rows
            .iter()
            .map(|row| (row.position, row.stream_id.as_str(), row.stream_seq))
            .collect();
        assert_eq!(rows, [(3, "prov-1", 2), (4, "prov-2", 1)]);
        assert_eq!(next.head.size, 4);
        assert_eq!(next.head.frontier.size(), 4);
        assert!(next.outcomes.iter().all(|outcome| !outcome.duplicate));
    }

    #[test]
    fn each_leaf_hash_is_the_hash_of_the_canonical_bytes_written() {
        let batch = [
            registration(),
            accreditation("prov-1"),
            suspension("prov-1"),
        ];
        let planned = plan_on(&batch, &[], empty_head(), Histories::new()).expect("accepted");
        let mut leaves = Vec::new();
        for (row, outcome) in planned.rows.iter().zip(&planned.outcomes) {
            let entry: Entry = serde_json::from_str(&row.entry).expect("the entry is JSON");
            assert_eq!(entry.canonical_json(), row.entry, "the bytes are canonical");
            assert_eq!(entry.position, row.position);
            assert_eq!(entry.recorded_by, "operator");
            assert_eq!(entry.recorded_at, format_recorded_at(recorded_at()));
            assert_eq!(row.leaf_hash, esito_log::leaf_hash(row.entry.as_bytes()));
            assert_eq!(outcome.leaf_hash, row.leaf_hash);
            leaves.push(row.leaf_hash);
        }
        assert_eq!(planned.head.frontier.root(), esito_log::root(&leaves));
    }

    #[test]
    fn a_retry_with_the_same_content_is_answered_with_the_original_and_writes_nothing() {
        let first = [registration()];
        let planned = plan_on(&first, &[], empty_head(), Histories::new()).expect("accepted");
        let known = [known_from(&planned, 0, &first[0])];
        let retry = plan_on(
            &first,
            &known,
            planned.head.clone(),
            histories_after(&planned),
        )
        .expect("a retry is answered");
        assert!(retry.rows.is_empty());
        assert_eq!(retry.head.size, 1);
        assert_eq!(
            retry.outcomes,
            [AppendOutcome {
                duplicate: true,
                ..planned.outcomes[0].clone()
            }]
        );
    }

    #[test]
    fn the_same_id_twice_in_one_batch_is_written_once() {
        let registration = registration();
        let batch = [registration.clone(), registration];
        let planned = plan_on(&batch, &[], empty_head(), Histories::new()).expect("accepted");
        assert_eq!(planned.rows.len(), 1);
        assert_eq!(planned.outcomes[1].position, 1);
        assert!(planned.outcomes[1].duplicate);
    }

    #[test]
    fn the_same_id_with_other_content_is_refused() {
        let first = [registration()];
        let planned = plan_on(&first, &[], empty_head(), Histories::new()).expect("accepted");
        let known = [known_from(&planned, 0, &first[0])];
        let mut other = accreditation("prov-1");
        other.event_id = first[0].event_id;
        let error = plan_on(&[other.clone()], &known, planned.head, Histories::new())
            .err()
            .expect("refused");
        assert!(matches!(
            error,
            AppendError::EventIdReused { index: 0, event_id } if event_id == other.event_id
        ));

        // Within one batch too, at the second use.
        let mut batch = [accreditation("prov-1"), accreditation("prov-2")];
        batch[1].event_id = batch[0].event_id;
        let error = plan_on(&batch, &[], empty_head(), Histories::new())
            .err()
            .expect("refused");
        assert!(matches!(error, AppendError::EventIdReused { index: 1, .. }));
    }

    #[test]
    fn a_correction_is_routed_to_the_stream_of_the_event_it_names() {
        let first = [registration(), accreditation("prov-1")];
        let planned = plan_on(&first, &[], empty_head(), Histories::new()).expect("accepted");
        let known = [known_from(&planned, 1, &first[1])];
        let batch = [void(first[1].event_id)];
        let contract_id = contract();
        let resolved = resolve(&Batch::new(&contract_id, "operator", &batch), |id| {
            known.iter().find(|k| k.event_id == *id)
        })
        .expect("the voided event is known");
        let provider = StreamRef::new(
            StreamType::Provider,
            StreamId::parse("prov-1").expect("an id"),
        );
        assert!(matches!(&resolved[0], Resolved::New { target } if *target == provider));

        // An event of the same batch may be voided too: it goes to that event's stream.
        let accredit = accreditation("prov-2");
        let batch = [accredit.clone(), void(accredit.event_id)];
        let resolved = resolve(&Batch::new(&contract_id, "operator", &batch), |_| None)
            .expect("the voided event is in the batch");
        assert!(matches!(
            &resolved[1],
            Resolved::New { target } if target.stream_id.as_str() == "prov-2"
        ));

        // An event neither stored nor in the batch is refused.
        let batch = [void(EventId::new_v4())];
        let error = resolve(&Batch::new(&contract_id, "operator", &batch), |_| None)
            .err()
            .expect("unknown");
        assert!(matches!(
            error,
            AppendError::Rejected {
                index: 0,
                error: DomainError::CorrectedEventNotFound { .. }
            }
        ));
    }

    #[test]
    fn a_refused_command_refuses_the_whole_batch() {
        // The second registration of one contract is refused: nothing of the batch is planned.
        let batch = [registration(), accreditation("prov-1"), registration()];
        let error = plan_on(&batch, &[], empty_head(), Histories::new())
            .err()
            .expect("refused");
        assert!(
            matches!(error, AppendError::Rejected { index: 2, .. }),
            "{error}"
        );
    }

    #[test]
    fn a_stream_not_loaded_that_a_command_reads_through_another_is_asked_for() {
        // An order reads the provider of its product: with only the named streams loaded,
        // the plan asks for the provider's stream instead of taking it as empty.
        let contract_id = contract();
        let setup = [
            registration(),
            accreditation("prov-1"),
            submit(Command::ListProduct {
                product_id: StreamId::parse("prod-1").expect("an id"),
                provider_id: StreamId::parse("prov-1").expect("an id"),
                name: "Pasto".into(),
                service_family: ServiceFamily::Meals,
                tariffs: [
                    esito_domain::events::IseeBand::A,
                    esito_domain::events::IseeBand::B,
                    esito_domain::events::IseeBand::C,
                    esito_domain::events::IseeBand::D,
                ]
                .into_iter()
                .map(|band| (band, esito_domain::Money::parse("4.00").expect("an amount")))
                .collect(),
            }),
        ];
        let planned = plan_on(&setup, &[], empty_head(), Histories::new()).expect("accepted");
        let mut histories = histories_after(&planned);
        let provider = StreamRef::new(
            StreamType::Provider,
            StreamId::parse("prov-1").expect("an id"),
        );
        histories.remove(&provider);
        let order = [submit(Command::PlaceOrder {
            order_id: StreamId::parse("ord-1").expect("an id"),
            product_id: StreamId::parse("prod-1").expect("an id"),
            beneficiary_id: StreamId::parse("ben-1").expect("an id"),
            channel: esito_domain::events::OrderChannel::Online,
            price: esito_domain::Money::parse("4.00").expect("an amount"),
        })];
        let batch = Batch::new(&contract_id, "operator", &order);
        let resolved = resolve(&batch, |_| None).expect("new");
        let loaded = streams_needed(&batch, &resolved);
        assert!(!loaded.contains(&provider));
        let asked = plan(PlanInput {
            batch: &batch,
            recorded_at: recorded_at(),
            head: planned.head.clone(),
            resolved,
            histories,
            loaded: Some(&loaded),
            every_stream_of: BTreeSet::new(),
        });
        assert!(matches!(asked, Err(PlanError::NeedStreams(streams)) if streams == [provider]));
    }
}
