//! The plan of a group: each request's batch resolved and decided in order, against the state
//! the accepted ones before it leave, into one set of rows, one head and one answer per request.
//!
//! Invariant: the rows, positions, stream sequence numbers, leaf hashes and frontier are those
//! that the same batches appended one after the other would give (with one `recorded_at`): each
//! batch is planned by [`ledger::plan`] on the head and histories the earlier ones left, and its
//! event ids are resolved against the log's and the earlier ones'. A refused batch leaves the
//! state as it found it, so it fails alone.

use std::collections::BTreeSet;

use esito_domain::{StreamRef, StreamType};
use esito_log::merkle::tiles::StoredNode;

use crate::group::Answer;
use crate::ledger::{
    self, Batch, Head, Histories, KnownEvent, NewRow, PlanError, PlanInput, Resolved,
};
use crate::AppendError;

/// What the histories handed to [`plan_group`] stand for.
#[derive(Clone, Copy)]
pub(crate) enum Loaded<'a> {
    /// Read from the log in the head's snapshot: each of these streams' histories is complete
    /// (absent: empty); a stream outside them must be read first.
    Read(&'a BTreeSet<StreamRef>),
    /// The process's view (`views.rs`): a stream a command names, its target or a read, is
    /// taken as empty when absent (the conditional write refuses a wrong guess, and a refusal
    /// is never answered from the view); a stream read through another must be present.
    View,
}

/// What a group is planned from: its batches in order (one per request, all of one contract),
/// the head and histories read for it, and the events already stored under its ids.
pub(crate) struct GroupInput<'a> {
    pub batches: &'a [Batch<'a>],
    /// The time recorded in every entry of the group.
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    pub head: Head,
    /// Events stored under the group's event ids and the ids its corrections name.
    pub known: Vec<KnownEvent>,
    pub histories: Histories,
    pub loaded: Loaded<'a>,
    /// The stream types of which every stream of the contract is in `histories` (read in the
    /// head's snapshot): what a command whose rules read all its peers needs
    /// (`esito_domain::peers_read`).
    pub every_stream_of: BTreeSet<StreamType>,
}

/// What must be read before a group can be planned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// These streams (read through another stream, or missing from the view).
    Streams(Vec<StreamRef>),
    /// Every stream of this type (a tenancy's start reads every tenancy and unit).
    StreamsOfType(StreamType),
}

/// The group's rows and new head, written in one transaction, and each request's answer.
pub(crate) struct GroupPlan {
    pub rows: Vec<NewRow>,
    /// The roots of the stored levels' subtrees that the rows complete.
    pub subtrees: Vec<StoredNode>,
    pub head: Head,
    /// The new events by stream, in order: what a cache of the streams must add.
    pub appended: Vec<(StreamRef, esito_domain::Recorded)>,
    /// One per batch, in order: its outcomes, or why it was refused (it wrote nothing).
    pub answers: Vec<Answer>,
}

impl GroupPlan {
    /// True when some batch of the group was refused.
    pub(crate) fn refused(&self) -> bool {
        self.answers.iter().any(Result::is_err)
    }
}

/// The streams the group's batches name themselves (targets and reads, the contract's own
/// stream included); corrections add the streams of the events they name.
pub(crate) fn streams_named(batches: &[Batch<'_>]) -> BTreeSet<StreamRef> {
    batches.iter().flat_map(ledger::streams_named).collect()
}

/// Plans every batch of the group in order, each seeing the accepted ones before it; a refused
/// batch is answered with its error and changes nothing. `Err` names what must be read (or,
/// from the view, what it lacks) before the group can be planned.
pub(crate) fn plan_group(input: GroupInput<'_>) -> Result<GroupPlan, Need> {
    let GroupInput {
        batches,
        recorded_at,
        mut head,
        known,
        mut histories,
        loaded,
        every_stream_of,
    } = input;
    // One index for the whole group: a group of many small batches (an import's check) would
    // otherwise index every known event again for each batch.
    let mut known: std::collections::HashMap<esito_domain::EventId, KnownEvent> =
        known.into_iter().map(|k| (k.event_id, k)).collect();
    let mut group = GroupPlan {
        rows: Vec::new(),
        subtrees: Vec::new(),
        head: head.clone(),
        appended: Vec::new(),
        answers: Vec::with_capacity(batches.len()),
    };
    for batch in batches {
        let resolved = match ledger::resolve(batch, |id| known.get(id)) {
            Ok(resolved) => resolved,
            Err(error) => {
                group.answers.push(Err(error));
                continue;
            }
        };
        let read = Read {
            histories: &histories,
            loaded,
            every_stream_of: &every_stream_of,
        };
        let plan = match plan_one(batch, recorded_at, &head, resolved, read)? {
            Ok(plan) => plan,
            Err(error) => {
                group.answers.push(Err(error));
                continue;
            }
        };
        debug_assert_eq!(plan.rows.len(), plan.appended.len(), "one event per row");
        for (row, (stream, recorded)) in plan.rows.iter().zip(&plan.appended) {
            // A later batch with the same event id is a retry of this one (or a reuse).
            known.insert(
                row.event_id,
                KnownEvent {
                    event_id: row.event_id,
                    position: row.position,
                    stream: stream.clone(),
                    request_digest: row.request_digest.to_vec(),
                    leaf_hash: row.leaf_hash,
                },
            );
            histories
                .entry(stream.clone())
                .or_default()
                .push(recorded.clone());
        }
        head = plan.head;
        group.rows.extend(plan.rows);
        group.subtrees.extend(plan.subtrees);
        group.appended.extend(plan.appended);
        group.answers.push(Ok(plan.outcomes));
    }
    group.head = head;
    Ok(group)
}

/// What the group has read: its histories, how they were loaded, and the types read whole.
#[derive(Clone, Copy)]
struct Read<'r> {
    histories: &'r Histories,
    loaded: Loaded<'r>,
    every_stream_of: &'r BTreeSet<StreamType>,
}

/// Plans one batch on `head` and on the group's histories, handing [`ledger::plan`] only the
/// streams the batch needs and those of the types read whole (so a group's cost grows with its
/// batches, not with their product). The outer `Err` names what to read; the inner one is the
/// batch's refusal.
fn plan_one(
    batch: &Batch<'_>,
    recorded_at: chrono::DateTime<chrono::Utc>,
    head: &Head,
    resolved: Vec<Resolved>,
    read: Read<'_>,
) -> Result<Result<ledger::Plan, AppendError>, Need> {
    let Read {
        histories,
        loaded,
        every_stream_of,
    } = read;
    let mut wanted = ledger::streams_needed(batch, &resolved);
    loop {
        if let Loaded::Read(read) = loaded {
            let missing: Vec<StreamRef> = wanted
                .iter()
                .filter(|s| !read.contains(*s) && !histories.contains_key(*s))
                .cloned()
                .collect();
            if !missing.is_empty() {
                return Err(Need::Streams(missing));
            }
        }
        // Looked up by name when no type is read whole: a group of many batches over many
        // streams (an import's check) would otherwise walk every history for each batch.
        let mine: Histories = if every_stream_of.is_empty() {
            wanted
                .iter()
                .filter_map(|s| histories.get(s).map(|h| (s.clone(), h.clone())))
                .collect()
        } else {
            histories
                .iter()
                .filter(|(s, _)| wanted.contains(*s) || every_stream_of.contains(&s.stream_type))
                .map(|(s, h)| (s.clone(), h.clone()))
                .collect()
        };
        let planned = ledger::plan(PlanInput {
            batch,
            recorded_at,
            head: head.clone(),
            resolved: resolved.clone(),
            histories: mine,
            // Every wanted stream is complete in `mine` (absent: empty); one read through
            // another comes back as `NeedStreams` and is added to `wanted`.
            loaded: Some(&wanted),
            every_stream_of: every_stream_of.clone(),
        });
        match planned {
            Ok(plan) => return Ok(Ok(plan)),
            Err(PlanError::Append(error)) => return Ok(Err(error)),
            Err(PlanError::NeedStreamsOfType(kind)) => return Err(Need::StreamsOfType(kind)),
            Err(PlanError::NeedStreams(more)) => {
                if matches!(loaded, Loaded::View) {
                    let absent: Vec<StreamRef> = more
                        .iter()
                        .filter(|s| !histories.contains_key(*s))
                        .cloned()
                        .collect();
                    if !absent.is_empty() {
                        return Err(Need::Streams(absent));
                    }
                }
                wanted.extend(more);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use esito_domain::{DomainError, StreamId, StreamType, Submission};

    use super::*;
    use crate::ledger::tests::{
        accreditation, contract, empty_head, histories_after, plan_on, recorded_at, registration,
        suspension, void,
    };
    use crate::ledger::Plan;
    use crate::AppendOutcome;

    /// Plans `requests` as one group on an empty log, every stream read (and empty).
    fn group_on_empty_log(requests: &[Vec<Submission>]) -> GroupPlan {
        let contract_id = contract();
        let batches: Vec<Batch<'_>> = requests
            .iter()
            .map(|submissions| Batch::new(&contract_id, "operator", submissions))
            .collect();
        let read = streams_named(&batches);
        let Ok(plan) = plan_group(GroupInput {
            batches: &batches,
            recorded_at: recorded_at(),
            head: empty_head(),
            known: Vec::new(),
            histories: Histories::new(),
            loaded: Loaded::Read(&read),
            every_stream_of: BTreeSet::new(),
        }) else {
            panic!("every stream the group names was read");
        };
        plan
    }

    /// The same requests appended one after the other, each on what the ones before left.
    fn one_after_the_other(requests: &[Vec<Submission>]) -> Vec<Plan> {
        let mut plans: Vec<Plan> = Vec::new();
        let (mut head, mut histories) = (empty_head(), Histories::new());
        for submissions in requests {
            let plan = plan_on(submissions, &[], head.clone(), histories.clone())
                .expect("each single append is accepted");
            for (stream, events) in histories_after(&plan) {
                histories.entry(stream).or_default().extend(events);
            }
            head = plan.head.clone();
            plans.push(plan);
        }
        plans
    }

    #[test]
    fn a_group_writes_the_entries_its_batches_appended_one_after_the_other_would() {
        // 20 requests cross the first stored subtree (16 leaves): its root must come out too.
        let mut requests = vec![vec![registration()]];
        requests.extend((1..=19).map(|n| vec![accreditation(&format!("prov-{n}"))]));
        requests[7].push(suspension("prov-7"));
        let group = group_on_empty_log(&requests);
        let single = one_after_the_other(&requests);

        let rows: Vec<(u64, &str, u64, &str)> = group
            .rows
            .iter()
            .map(|r| {
                (
                    r.position,
                    r.stream_id.as_str(),
                    r.stream_seq,
                    r.entry.as_str(),
                )
            })
            .collect();
        let expected: Vec<(u64, &str, u64, &str)> = single
            .iter()
            .flat_map(|plan| &plan.rows)
            .map(|r| {
                (
                    r.position,
                    r.stream_id.as_str(),
                    r.stream_seq,
                    r.entry.as_str(),
                )
            })
            .collect();
        assert_eq!(rows.len(), 21);
        assert_eq!(rows, expected, "the same bytes at the same positions");
        let positions: Vec<u64> = group.rows.iter().map(|r| r.position).collect();
        assert_eq!(positions, (1..=21).collect::<Vec<u64>>());

        let last = single.last().expect("twenty plans");
        assert_eq!(group.head.size, 21);
        assert_eq!(group.head.frontier.root(), last.head.frontier.root());
        let expected_subtrees: Vec<StoredNode> = single
            .iter()
            .flat_map(|plan| plan.subtrees.iter().copied())
            .collect();
        assert_eq!(group.subtrees.len(), 1, "leaves 1 to 16 make one subtree");
        assert_eq!(group.subtrees, expected_subtrees);

        for (answer, plan) in group.answers.iter().zip(&single) {
            let outcomes = answer.as_ref().expect("accepted");
            assert_eq!(*outcomes, plan.outcomes);
        }
    }

    #[test]
    fn a_refused_batch_fails_alone_and_the_next_is_decided_without_it() {
        let requests = vec![
            vec![registration()],
            vec![accreditation("prov-1")],
            // A second registration of the contract is refused; so is the whole of its batch,
            // whose first command alone would have been accepted.
            vec![accreditation("prov-2"), registration()],
            vec![suspension("prov-1")],
            // Refused because prov-2 was never accredited: its batch above was refused.
            vec![suspension("prov-2")],
        ];
        let group = group_on_empty_log(&requests);
        assert!(group.refused());
        assert!(matches!(
            &group.answers[2],
            Err(AppendError::Rejected {
                index: 1,
                error: DomainError::ContractAlreadyRegistered
            })
        ));
        assert!(
            matches!(
                &group.answers[4],
                Err(AppendError::Rejected { index: 0, .. })
            ),
            "prov-2 does not exist: {:?}",
            group.answers[4]
        );
        let accepted: Vec<u64> = [0, 1, 3]
            .iter()
            .map(|&i| group.answers[i].as_ref().expect("accepted")[0].position)
            .collect();
        assert_eq!(
            accepted,
            [1, 2, 3],
            "no position is left for a refused batch"
        );
        assert_eq!(group.rows.len(), 3);
        assert_eq!(group.head.size, 3);
        let kept = [
            requests[0].clone(),
            requests[1].clone(),
            requests[3].clone(),
        ];
        let single = one_after_the_other(&kept);
        let expected: Vec<&str> = single
            .iter()
            .flat_map(|plan| &plan.rows)
            .map(|r| r.entry.as_str())
            .collect();
        let written: Vec<&str> = group.rows.iter().map(|r| r.entry.as_str()).collect();
        assert_eq!(written, expected);
    }

    #[test]
    fn the_same_event_id_in_two_requests_of_a_group_is_one_event() {
        let accredit = accreditation("prov-1");
        let mut reused = accreditation("prov-2");
        reused.event_id = accredit.event_id;
        let requests = vec![
            vec![registration()],
            vec![accredit.clone()],
            vec![accredit.clone()],
            vec![reused],
        ];
        let group = group_on_empty_log(&requests);
        assert_eq!(group.rows.len(), 2, "the retry writes nothing");
        let first = &group.answers[1].as_ref().expect("written")[0];
        let retry = &group.answers[2].as_ref().expect("answered")[0];
        assert!(!first.duplicate);
        assert_eq!(
            *retry,
            AppendOutcome {
                duplicate: true,
                ..first.clone()
            }
        );
        assert!(matches!(
            &group.answers[3],
            Err(AppendError::EventIdReused { index: 0, event_id }) if *event_id == accredit.event_id
        ));
    }

    #[test]
    fn a_correction_of_an_event_written_earlier_in_the_group_goes_to_its_stream() {
        let accredit = accreditation("prov-1");
        let requests = vec![
            vec![registration()],
            vec![accredit.clone()],
            vec![void(accredit.event_id)],
        ];
        let group = group_on_empty_log(&requests);
        assert!(!group.refused(), "{:?}", group.answers);
        let row = &group.rows[2];
        assert_eq!(
            (row.stream_type, row.stream_id.as_str(), row.stream_seq),
            ("provider", "prov-1", 2)
        );
        assert_eq!(row.corrects, Some(accredit.event_id));
    }

    #[test]
    fn a_stream_neither_read_nor_written_by_the_group_is_asked_for() {
        let contract_id = contract();
        let requests = [vec![registration()], vec![suspension("prov-9")]];
        let batches: Vec<Batch<'_>> = requests
            .iter()
            .map(|submissions| Batch::new(&contract_id, "operator", submissions))
            .collect();
        let only_the_first = streams_named(&batches[..1]);
        let asked = plan_group(GroupInput {
            batches: &batches,
            recorded_at: recorded_at(),
            head: empty_head(),
            known: Vec::new(),
            histories: Histories::new(),
            loaded: Loaded::Read(&only_the_first),
            every_stream_of: BTreeSet::new(),
        });
        let provider = StreamRef::new(StreamType::Provider, StreamId::parse("prov-9").expect("id"));
        assert!(matches!(asked, Err(Need::Streams(streams)) if streams == [provider]));
    }
}
