//! Group commit: appends to one contract that arrive while another is being written wait for it,
//! then are planned together and written in one transaction, each answered with its own outcome.
//!
//! The first request to reach a contract no one is writing leads: it takes the requests waiting
//! for that contract (its own first, then in arrival order, up to `GROUP_REQUESTS_MAX` requests
//! and `GROUP_COMMANDS_MAX` commands), has the backend plan them in order (`plan::plan_group`)
//! and write every accepted entry in one transaction, hands the lead to the next request
//! waiting, and answers each request it took. Requests that arrive meanwhile queue; so a hot
//! contract pays one commit per group, not one per request, and its writers stop racing each
//! other for the head.
//!
//! Invariants:
//! - a request is answered only after the transaction that holds its entries has committed;
//! - a refused request (a rule of the domain, an event id reused) fails alone, and the group's
//!   other requests are decided as though it had never come;
//! - this process writes one group per contract at a time; several processes on one PostgreSQL
//!   still serialise on the contract's head, and a group that loses the race plans again
//!   (`postgres.rs`);
//! - a group the database fails to write is not answered with one error for all: each of its
//!   requests is written again alone, and gets its own answer (event ids make that safe whether
//!   or not the group committed); but a database that cannot serve now (down, full, read-only)
//!   is answered unavailable to every request of the group at once, so that none waits for
//!   more than one time-out;
//! - a leader whose caller goes away (its future dropped) hands the lead on, and the requests it
//!   had taken are written again alone, as above.

pub(crate) mod plan;

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use esito_domain::{ContractId, Submission};
use tokio::sync::oneshot;

use crate::ledger::{request_digest, Batch, BATCH_SIZE_MAX};
use crate::{AppendError, AppendOutcome};

/// Requests written in one transaction at most: a bound on the time a group holds the head.
pub(crate) const GROUP_REQUESTS_MAX: usize = 128;
/// Commands written in one transaction at most; a batch of `BATCH_SIZE_MAX` is always taken,
/// alone if need be.
pub(crate) const GROUP_COMMANDS_MAX: usize = BATCH_SIZE_MAX;
const _: () = assert!(GROUP_COMMANDS_MAX >= BATCH_SIZE_MAX && GROUP_REQUESTS_MAX >= 2);

/// What one request is answered: its outcomes, or why it wrote nothing.
pub(crate) type Answer = Result<Vec<AppendOutcome>, AppendError>;

/// One call of `Store::append`, owned so that the leader of its group can plan it.
pub(crate) struct Request {
    principal: String,
    submissions: Vec<Submission>,
    digests: Vec<[u8; 32]>,
}

impl Request {
    /// The request digests are computed here, by each caller, not by the leader.
    pub(crate) fn new(principal: &str, submissions: &[Submission]) -> Self {
        Self {
            principal: principal.to_owned(),
            submissions: submissions.to_vec(),
            digests: submissions.iter().map(request_digest).collect(),
        }
    }

    pub(crate) fn batch<'a>(&'a self, contract_id: &'a ContractId) -> Batch<'a> {
        Batch {
            contract_id,
            principal: &self.principal,
            submissions: &self.submissions,
            digests: self.digests.clone(),
        }
    }
}

/// How many requests were written in groups, and the largest group, since the store opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GroupStats {
    /// Calls of `Store::append` that reached the queue: each is counted once it leads or waits.
    pub requests: u64,
    /// Groups planned and written, each in one transaction.
    pub groups: u64,
    /// Requests in the largest group.
    pub largest: usize,
}

/// What a waiting request is told.
enum Signal {
    /// Its group committed (or it was refused): the answer.
    Done(Answer),
    /// The previous leader is done: lead the next group.
    Lead,
    /// Its group failed at the database: write it again alone.
    Alone,
}

struct Pending {
    request: Arc<Request>,
    reply: oneshot::Sender<Signal>,
}

/// The queues of the contracts being written. A contract has a queue exactly while one of its
/// requests leads (or has been told to); the queue holds the requests waiting behind it.
#[derive(Default)]
pub(crate) struct Groups {
    queues: Mutex<HashMap<ContractId, VecDeque<Pending>>>,
    requests: AtomicU64,
    groups: AtomicU64,
    largest: AtomicUsize,
}

/// A request's place: the receiver of its signal while it waits, `leading` once it leads. When
/// it is dropped while it leads, or with the lead sent and not yet read, it hands the lead on.
struct Ticket<'g> {
    groups: &'g Groups,
    contract_id: &'g ContractId,
    reply: Option<oneshot::Receiver<Signal>>,
    leading: bool,
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let told_to_lead = self
            .reply
            .as_mut()
            .is_some_and(|reply| matches!(reply.try_recv(), Ok(Signal::Lead)));
        if self.leading || told_to_lead {
            self.groups.hand_off(self.contract_id);
        }
    }
}

impl Groups {
    pub(crate) fn stats(&self) -> GroupStats {
        GroupStats {
            requests: self.requests.load(Ordering::Relaxed),
            groups: self.groups.load(Ordering::Relaxed),
            largest: self.largest.load(Ordering::Relaxed),
        }
    }

    /// Appends `request` to `contract_id` in a group: `write` plans and writes the requests it is
    /// given, in order, in one transaction, and answers each (or fails them all at the database).
    pub(crate) async fn submit<F, Fut>(
        &self,
        contract_id: &ContractId,
        request: Arc<Request>,
        write: F,
    ) -> Answer
    where
        F: Fn(Vec<Arc<Request>>) -> Fut,
        Fut: Future<Output = Result<Vec<Answer>, AppendError>>,
    {
        let mut ticket = self.enqueue(contract_id, &request);
        if let Some(reply) = ticket.reply.as_mut() {
            let signal = reply.await;
            ticket.reply = None;
            match signal {
                Ok(Signal::Done(answer)) => return answer,
                Ok(Signal::Lead) => ticket.leading = true,
                // Alone, or the leader went away with this request taken.
                Ok(Signal::Alone) | Err(_) => {
                    drop(ticket);
                    return alone(&write, request).await;
                }
            }
        }

        let others = self.take(contract_id, request.submissions.len());
        let mut requests = Vec::with_capacity(1 + others.len());
        requests.push(request.clone());
        requests.extend(others.iter().map(|pending| pending.request.clone()));
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.largest.fetch_max(requests.len(), Ordering::Relaxed);
        let written = write(requests).await;
        // The group is committed (or failed): the next one may start while this one answers.
        self.hand_off(contract_id);
        ticket.leading = false;
        match written {
            Ok(answers) => {
                assert_eq!(answers.len(), 1 + others.len(), "one answer per request");
                let mut answers = answers.into_iter();
                let own = answers.next().expect("the leader's request is first");
                for (pending, answer) in others.into_iter().zip(answers) {
                    // A caller that went away is not answered: its request stands or not as
                    // the log says, and a retry with its event id finds out which.
                    let _ = pending.reply.send(Signal::Done(answer));
                }
                own
            }
            Err(error) if others.is_empty() => Err(error),
            // A database that cannot serve now fails each request alike, and writing them
            // again one by one would only make each wait its own time-out: all are answered
            // at once, unavailable, and their clients retry with the same event ids.
            Err(error) if error.is_unavailable() => {
                for pending in others {
                    let _ = pending.reply.send(Signal::Done(Err(AppendError::Store(
                        crate::StoreError::Unavailable(error.to_string()),
                    ))));
                }
                Err(error)
            }
            Err(error) => {
                tracing::warn!(%error, requests = others.len() + 1, "a group failed at the database: each request is written again alone");
                for pending in others {
                    let _ = pending.reply.send(Signal::Alone);
                }
                alone(&write, request).await
            }
        }
    }

    /// Queues the request behind the contract's leader, or makes it the leader.
    fn enqueue<'g>(&'g self, contract_id: &'g ContractId, request: &Arc<Request>) -> Ticket<'g> {
        let mut queues = self
            .queues
            .lock()
            .expect("the group lock is never poisoned");
        let mut ticket = Ticket {
            groups: self,
            contract_id,
            reply: None,
            leading: false,
        };
        match queues.get_mut(contract_id) {
            Some(queue) => {
                let (reply, receiver) = oneshot::channel();
                queue.push_back(Pending {
                    request: request.clone(),
                    reply,
                });
                ticket.reply = Some(receiver);
            }
            None => {
                queues.insert(contract_id.clone(), VecDeque::new());
                ticket.leading = true;
            }
        }
        // Counted under the lock, once queued or leading: whoever reads the count finds it so.
        self.requests.fetch_add(1, Ordering::Relaxed);
        ticket
    }

    /// The requests to write with the leader's, in arrival order; those whose caller went away
    /// are left out (nothing was written for them).
    fn take(&self, contract_id: &ContractId, leader_commands: usize) -> Vec<Pending> {
        let mut queues = self
            .queues
            .lock()
            .expect("the group lock is never poisoned");
        let queue = queues
            .get_mut(contract_id)
            .expect("a leader's contract has a queue");
        let mut taken = Vec::new();
        let mut commands = leader_commands;
        while taken.len() + 1 < GROUP_REQUESTS_MAX {
            let Some(next) = queue.front() else { break };
            if next.reply.is_closed() {
                queue.pop_front();
                continue;
            }
            if commands + next.request.submissions.len() > GROUP_COMMANDS_MAX {
                break;
            }
            commands += next.request.submissions.len();
            taken.extend(queue.pop_front());
        }
        taken
    }

    /// Tells the first request still waiting to lead, or, if none waits, closes the queue.
    fn hand_off(&self, contract_id: &ContractId) {
        let mut queues = self
            .queues
            .lock()
            .expect("the group lock is never poisoned");
        let Some(queue) = queues.get_mut(contract_id) else {
            return;
        };
        while let Some(next) = queue.pop_front() {
            if next.reply.send(Signal::Lead).is_ok() {
                return;
            }
        }
        queues.remove(contract_id);
    }
}

/// Writes one request in a group of its own.
async fn alone<F, Fut>(write: &F, request: Arc<Request>) -> Answer
where
    F: Fn(Vec<Arc<Request>>) -> Fut,
    Fut: Future<Output = Result<Vec<Answer>, AppendError>>,
{
    let mut answers = write(vec![request]).await?;
    assert_eq!(answers.len(), 1, "one answer per request");
    answers.pop().expect("one answer")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use esito_domain::EventId;
    use tokio::sync::Semaphore;

    use super::*;
    use crate::ledger::tests::{accreditation, contract};

    /// What the fake backend saw: the size of each group it was asked to write.
    struct Backend {
        groups: Mutex<Vec<usize>>,
        /// Each call takes a permit first, so a test decides when a write finishes.
        permits: Semaphore,
    }

    impl Default for Backend {
        fn default() -> Self {
            Self {
                groups: Mutex::default(),
                permits: Semaphore::new(0),
            }
        }
    }

    impl Backend {
        /// Answers each request with one outcome per command, at positions counted by group, or
        /// fails a group of more than one request when `fail_groups`.
        async fn write(
            &self,
            requests: Vec<Arc<Request>>,
            fail_groups: bool,
        ) -> Result<Vec<Answer>, AppendError> {
            self.groups
                .lock()
                .expect("not poisoned")
                .push(requests.len());
            self.permits.acquire().await.expect("never closed").forget();
            if fail_groups && requests.len() > 1 {
                return Err(AppendError::Store(crate::StoreError::Database(
                    "the group failed".into(),
                )));
            }
            Ok(requests
                .iter()
                .map(|request| {
                    Ok(request
                        .submissions
                        .iter()
                        .map(|s| AppendOutcome {
                            event_id: s.event_id,
                            position: 1,
                            leaf_hash: esito_log::leaf_hash(s.event_id.as_bytes()),
                            duplicate: false,
                        })
                        .collect())
                })
                .collect())
        }

        fn seen(&self) -> Vec<usize> {
            self.groups.lock().expect("not poisoned").clone()
        }
    }

    fn request() -> (EventId, Arc<Request>) {
        let submission = accreditation("prov-1");
        (
            submission.event_id,
            Arc::new(Request::new("operator", &[submission])),
        )
    }

    fn waiting(groups: &Groups) -> usize {
        groups
            .queues
            .lock()
            .expect("not poisoned")
            .values()
            .map(VecDeque::len)
            .sum()
    }

    /// Waits until `count` requests queue behind the leader (a bound, not a speed).
    async fn until_waiting(groups: &Groups, count: usize) {
        tokio::time::timeout(Duration::from_secs(5), async {
            while waiting(groups) < count {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the requests queue within 5 s");
    }

    /// Spawns `count` appends of one command each to `contract()`; each task checks that its
    /// answer is its own.
    fn spawn_appends(
        groups: &Arc<Groups>,
        backend: &Arc<Backend>,
        count: usize,
        fail_groups: bool,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        (0..count)
            .map(|_| {
                let (groups, backend) = (groups.clone(), backend.clone());
                tokio::spawn(async move {
                    let (event_id, request) = request();
                    let answer = groups
                        .submit(&contract(), request, |requests| {
                            backend.write(requests, fail_groups)
                        })
                        .await
                        .expect("answered");
                    assert_eq!(answer.len(), 1);
                    assert_eq!(
                        answer[0].event_id, event_id,
                        "each request gets its own answer"
                    );
                })
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_that_arrive_during_a_write_are_written_together_next() {
        let (groups, backend) = (Arc::new(Groups::default()), Arc::new(Backend::default()));
        let first = spawn_appends(&groups, &backend, 1, false);
        // The first leads and writes alone; the next ten queue behind it meanwhile.
        tokio::time::timeout(Duration::from_secs(5), async {
            while backend.seen().is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the first write starts");
        let rest = spawn_appends(&groups, &backend, 10, false);
        until_waiting(&groups, 10).await;
        backend.permits.add_permits(2);
        for task in first.into_iter().chain(rest) {
            task.await.expect("answered");
        }
        assert_eq!(backend.seen(), [1, 10]);
        assert_eq!(
            groups.stats(),
            GroupStats {
                requests: 11,
                groups: 2,
                largest: 10
            }
        );
        assert!(
            groups.queues.lock().expect("not poisoned").is_empty(),
            "no leader is left"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_that_fails_at_the_database_is_written_again_each_request_alone() {
        let (groups, backend) = (Arc::new(Groups::default()), Arc::new(Backend::default()));
        let first = spawn_appends(&groups, &backend, 1, true);
        tokio::time::timeout(Duration::from_secs(5), async {
            while backend.seen().is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the first write starts");
        let rest = spawn_appends(&groups, &backend, 4, true);
        until_waiting(&groups, 4).await;
        backend.permits.add_permits(100);
        for task in first.into_iter().chain(rest) {
            task.await
                .expect("each request is answered, none with the group's error");
        }
        let mut seen = backend.seen();
        seen.sort_unstable();
        assert_eq!(
            seen,
            [1, 1, 1, 1, 1, 4],
            "the group of four, then each alone"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_group_the_database_cannot_serve_is_answered_unavailable_at_once_not_one_by_one() {
        let (groups, backend) = (Arc::new(Groups::default()), Arc::new(Backend::default()));
        let spawn = |count: usize| -> Vec<tokio::task::JoinHandle<()>> {
            (0..count)
                .map(|_| {
                    let (groups, backend) = (groups.clone(), backend.clone());
                    tokio::spawn(async move {
                        let (_, request) = request();
                        let answer = groups
                            .submit(&contract(), request, |requests| {
                                let backend = backend.clone();
                                async move {
                                    backend
                                        .groups
                                        .lock()
                                        .expect("not poisoned")
                                        .push(requests.len());
                                    backend.permits.acquire().await.expect("open").forget();
                                    Err(AppendError::Store(crate::StoreError::Unavailable(
                                        "the database is down".into(),
                                    )))
                                }
                            })
                            .await;
                        assert!(
                            answer.expect_err("nothing is written").is_unavailable(),
                            "each request is answered unavailable"
                        );
                    })
                })
                .collect()
        };
        let first = spawn(1);
        tokio::time::timeout(Duration::from_secs(5), async {
            while backend.seen().is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the first write starts");
        let rest = spawn(4);
        until_waiting(&groups, 4).await;
        backend.permits.add_permits(100);
        for task in first.into_iter().chain(rest) {
            task.await.expect("answered");
        }
        assert_eq!(backend.seen(), [1, 4], "the group of four is tried once");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_leader_that_goes_away_hands_on_the_lead_and_its_requests_are_written_alone() {
        let (groups, backend) = (Arc::new(Groups::default()), Arc::new(Backend::default()));
        let first = spawn_appends(&groups, &backend, 1, false);
        tokio::time::timeout(Duration::from_secs(5), async {
            while backend.seen().is_empty() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the first write starts");
        // A leader whose write never finishes: its caller goes away (the future is dropped).
        let (_, stuck) = request();
        let leader = {
            let (groups, backend) = (groups.clone(), backend.clone());
            tokio::spawn(async move {
                let _ = groups
                    .submit(&contract(), stuck, |requests| {
                        backend.write(requests, false)
                    })
                    .await;
            })
        };
        until_waiting(&groups, 1).await;
        let behind = spawn_appends(&groups, &backend, 3, false);
        until_waiting(&groups, 4).await;
        // The first write finishes; the stuck request leads the other three and waits.
        backend.permits.add_permits(1);
        first
            .into_iter()
            .next()
            .expect("one")
            .await
            .expect("answered");
        tokio::time::timeout(Duration::from_secs(5), async {
            while backend.seen().len() < 2 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .expect("the second group starts");
        assert_eq!(backend.seen(), [1, 4]);
        leader.abort();
        assert!(leader.await.expect_err("aborted").is_cancelled());
        backend.permits.add_permits(100);
        for task in behind {
            task.await.expect("answered after the leader went away");
        }
        assert_eq!(backend.seen(), [1, 4, 1, 1, 1]);
        // Nothing leads now: a new request leads at once.
        spawn_appends(&groups, &backend, 1, false)
            .into_iter()
            .next()
            .expect("one")
            .await
            .expect("answered");
        assert!(groups.queues.lock().expect("not poisoned").is_empty());
    }
}
