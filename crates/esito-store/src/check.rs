//! Checking commands against the log without writing them: what an import reports before it
//! writes anything.
//!
//! Invariant: each submission is decided exactly as `Store::append` would decide it sent alone,
//! after the accepted submissions before it (`group::plan`, the append's own planning), and
//! nothing is written: the transaction that read for the plan rolls back.

use esito_domain::{ContractId, Submission};

use crate::backend::each_backend;
use crate::group::Request;
use crate::ledger::{self, Batch};
use crate::{AppendError, Store};

/// The most submissions one check decides: what one call of an import holds.
pub const CHECK_SIZE_MAX: usize = 100_000;

/// Plans of the whole, each finding the next refusal, before each row left goes as a batch of
/// its own (one plan then finds every refusal; a file without one costs a single plan).
const ROUNDS_MAX: usize = 1;

impl Store {
    /// Appends up to [`CHECK_SIZE_MAX`] submissions as one batch, all or nothing, in one
    /// transaction: what an import writes once a call has no bad row (so the rows are decided
    /// once, and written by the plan that decided them). Outside the contract's queue; the
    /// head's lock serialises it with every other writer.
    pub async fn append_whole(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
    ) -> Result<Vec<crate::AppendOutcome>, AppendError> {
        if submissions.is_empty() || submissions.len() > CHECK_SIZE_MAX {
            return Err(AppendError::BatchSize {
                size: submissions.len(),
            });
        }
        let request = Request::new(principal, submissions);
        let group = [request.batch(contract_id)];
        let mut answers = each_backend!(self, Store(store) => store.append_large(&group).await)?;
        answers.pop().expect("one answer for the one batch")
    }

    /// Decides each submission in order, each as if sent alone after the accepted ones before
    /// it (a refused one changes nothing for the next), and writes nothing. One answer per
    /// submission: `None` when it would be written or is already in the log with the same
    /// content, or why it would be refused (its `index` is its own). `Err` when the database
    /// cannot be read, or for more than [`CHECK_SIZE_MAX`] submissions.
    pub async fn check(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
    ) -> Result<Vec<Option<AppendError>>, AppendError> {
        if submissions.is_empty() {
            return Ok(Vec::new());
        }
        if submissions.len() > CHECK_SIZE_MAX {
            return Err(AppendError::BatchSize {
                size: submissions.len(),
            });
        }
        let mut verdicts: Vec<Option<AppendError>> = (0..submissions.len()).map(|_| None).collect();
        let digests: Vec<[u8; 32]> = submissions.iter().map(ledger::request_digest).collect();
        // First the whole as one batch: a file without a bad row is decided by one plan. The
        // rows accepted so far go as one batch in front of the rest.
        let (mut accepted, mut accepted_digests) = (Vec::new(), Vec::new());
        let mut next = 0;
        for _ in 0..ROUNDS_MAX {
            if next == submissions.len() {
                return Ok(verdicts);
            }
            let mut group = Vec::with_capacity(2);
            if !accepted.is_empty() {
                group.push(Batch {
                    contract_id,
                    principal,
                    submissions: &accepted,
                    digests: accepted_digests.clone(),
                });
            }
            group.push(Batch {
                contract_id,
                principal,
                submissions: &submissions[next..],
                digests: digests[next..].to_vec(),
            });
            let mut answers = each_backend!(self, Store(store) => store.check(&group).await)?;
            let refused_at = match answers.pop().expect("one answer per batch") {
                Ok(_) => return Ok(verdicts),
                Err(AppendError::Rejected { index, error }) => {
                    verdicts[next + index] = Some(AppendError::Rejected {
                        index: next + index,
                        error,
                    });
                    index
                }
                Err(AppendError::EventIdReused { index, event_id }) => {
                    verdicts[next + index] = Some(AppendError::EventIdReused {
                        index: next + index,
                        event_id,
                    });
                    index
                }
                Err(other) => return Err(other),
            };
            accepted.extend_from_slice(&submissions[next..next + refused_at]);
            accepted_digests.extend_from_slice(&digests[next..next + refused_at]);
            next += refused_at + 1;
        }
        if next == submissions.len() {
            return Ok(verdicts);
        }
        // Many refusals: the rest one row a batch, each after the accepted ones.
        let rest: Vec<Request> = submissions[next..]
            .iter()
            .map(|submission| Request::new(principal, std::slice::from_ref(submission)))
            .collect();
        let mut group = vec![Batch {
            contract_id,
            principal,
            submissions: &accepted,
            digests: accepted_digests,
        }];
        group.extend(rest.iter().map(|request| request.batch(contract_id)));
        let answers = each_backend!(self, Store(store) => store.check(&group).await)?;
        for (offset, answer) in answers.into_iter().skip(1).enumerate() {
            let index = next + offset;
            verdicts[index] = match answer {
                Ok(_) => None,
                Err(AppendError::Rejected { error, .. }) => {
                    Some(AppendError::Rejected { index, error })
                }
                Err(AppendError::EventIdReused { event_id, .. }) => {
                    Some(AppendError::EventIdReused { index, event_id })
                }
                Err(other) => return Err(other),
            };
        }
        Ok(verdicts)
    }
}
